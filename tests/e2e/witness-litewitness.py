#!/usr/bin/env python3
"""faro-writer's add-checkpoint requests checked by an independent witness: Debian's litewitness.

That build verifies a request completely (body, the log's Ed25519 signature,
the old size, the consistency proof) and then panics where it stores the
checkpoint, so a request that reaches the store ("persistTreeHead" in its
panic) is one litewitness accepted. One log, fail-open, its policy naming
only litewitness:
  - first contact (old 0) reaches the store;
  - with litewitness's database set to a size the log published, the writer's
    old 0 gets a 409 with that size, and the retry with a consistency proof
    from it reaches the store (the proof verified); with a wrong root there,
    the same request gets 422 (so the proof is really checked);
  - with the log's key removed from litewitness, 403.
Skipped (77) without the Debian peers (../shared/tools/debian-peers.sh), ssh-agent or ctcheck.
Usage: witness-litewitness.py --writer BIN --keygen BIN --mkchains BIN --ctcheck BIN --peers SCRIPT
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import Log, Skip, Writer, check, free_port, log, main, submit_many, wait_until, write_config  # noqa: E402

GODEBUG = "httpmuxgo121=0,asynctimerchan=0,panicnil=0"


class Litewitness:
    """litewitness with its key in a private ssh-agent, on a loopback port."""

    def __init__(self, peers, workdir):
        self.bin = peers
        self.dir = os.path.join(workdir, "litewitness")
        os.makedirs(self.dir)
        self.db = os.path.join(self.dir, "lw.db")
        self.stderr_path = os.path.join(self.dir, "stderr")
        sock = os.path.join(self.dir, "agent.sock")
        self.agent = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        key = os.path.join(self.dir, "key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        env = dict(os.environ, SSH_AUTH_SOCK=sock)
        wait_until(lambda: os.path.exists(sock), 10, "ssh-agent's socket")
        subprocess.run(["ssh-add", key], env=env, check=True, capture_output=True)
        fingerprint = subprocess.run(["ssh-keygen", "-lf", key + ".pub"], capture_output=True, text=True,
                                     check=True).stdout.split()[1]
        self.port = free_port()
        with open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen([os.path.join(self.bin, "litewitness"), "-name", "lw.witness.test", "-key", fingerprint,
                                          "-ssh-agent", sock, "-db", self.db, "-listen", "127.0.0.1:%d" % self.port],
                                         stderr=err, env=dict(os.environ, GODEBUG=GODEBUG))
        wait_until(lambda: "vkey=" in self.stderr(), 10, "litewitness to print its verifier key")
        self.vkey = self.stderr().split("vkey=")[1].split()[0]

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def ctl(self, *args):
        subprocess.run([os.path.join(self.bin, "witnessctl")] + list(args) + ["-db", self.db], check=True, capture_output=True)

    def accepted(self):
        """Requests that reached the store: each panics there."""
        return self.stderr().count("persistTreeHead")

    def set_tree(self, origin, size, root):
        with sqlite3.connect(self.db) as db:
            db.execute("UPDATE log SET tree_size = ?, tree_hash = ? WHERE origin = ?", (size, root, origin))

    def stop(self):
        for p in (self.proc, self.agent):
            p.send_signal(signal.SIGTERM)
            p.wait(30)


def test(args, workdir):
    for tool in ("ssh-agent", "ssh-keygen", "ssh-add"):
        if shutil.which(tool) is None:
            raise Skip("no %s" % tool)
    peers = subprocess.run(["bash", args["peers"]], capture_output=True, text=True)
    if peers.returncode != 0 or not os.path.exists(os.path.join(peers.stdout.strip(), "litewitness")):
        raise Skip("the Debian peers are not available: %s" % peers.stderr.strip()[-300:])
    lw = Litewitness(peers.stdout.strip(), workdir)
    try:
        run(args, workdir, lw)
    finally:
        lw.stop()


def run(args, workdir, lw):
    pki = os.path.join(workdir, "pki")
    os.makedirs(pki)
    subprocess.run([args["mkchains"], pki, "60", "0"], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(pki, "chains.jsonl")) as f:
        chains = [json.loads(line) for line in f]
    policy = os.path.join(workdir, "lite.policy")
    lite = Log(workdir, "lite", args["keygen"], sequence_interval="100ms", witness_timeout="1s", witness_mode="fail-open",
               witness_policy=policy)
    with open(policy, "w") as f:
        f.write("witness LW %s http://127.0.0.1:%d\nquorum LW\n" % (lw.vkey, lw.port))
    lw.ctl("add-log", "-origin", lite.origin)
    lw.ctl("add-key", "-origin", lite.origin, "-key", lite.vkey)
    template = os.path.join(workdir, "faro.yaml.in")
    write_config(template, os.path.join(workdir, "state", "lock.db"), [lite], os.path.join(pki, "root.pem"))
    writer = Writer(args["writer"], workdir, template)
    writer.start(create_missing=True)

    def outcomes(outcome):
        return int(writer.metric("faro_writer_witness_requests_total", "lite", witness="LW", outcome=outcome))

    def submit(batch):
        for _, status, _, body in submit_many(writer, lite, batch, threads=4):
            check(status == 200, "add-chain: %d %s" % (status, body[:200]))
        size = int(writer.metric("faro_writer_tree_size", "lite"))
        wait_until(lambda: lite.checkpoint()[0] == size, 30, "the checkpoint of size %d" % size)
        return lite.checkpoint()

    size, root, _ = submit(chains[:20])
    wait_until(lambda: lw.accepted() >= 1, 30, "litewitness to accept a first-contact request")
    check(outcomes("rejected") == 0 and outcomes("invalid") == 0, "litewitness refused a first-contact request:\n%s" %
          writer.stderr()[-2000:])
    log("first contact (old 0): litewitness verified the log's signature and reached its store %d times" % lw.accepted())

    # litewitness at a size the log published: a 409 with it, then the request from it with a proof.
    lw.set_tree(lite.origin, size, root)
    accepted, conflicts = lw.accepted(), outcomes("conflict")
    new_size = submit(chains[20:40])[0]
    wait_until(lambda: outcomes("conflict") > conflicts and lw.accepted() > accepted, 30,
               "a 409 from litewitness and a retry it accepts")
    check(outcomes("rejected") == 0, "litewitness refused the request with a proof:\n%s" % writer.stderr()[-2000:])
    log("litewitness at size %d: 409 with that size, then old %d with a consistency proof to %d: accepted" %
        (size, size, new_size))

    # The same with a root that is not the log's: the proof no longer verifies.
    lw.set_tree(lite.origin, size, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    submit(chains[40:50])
    wait_until(lambda: outcomes("rejected") > 0, 30, "a 422 from litewitness")
    check("status 422" in writer.stderr(), "no 422 from litewitness in the writer's events:\n%s" % writer.stderr()[-2000:])
    log("litewitness at size %d with another root: 422 (%s)" % (size, "the proof is checked"))

    # Without the log's key: 403.
    lw.ctl("del-key", "-origin", lite.origin, "-key", lite.vkey)
    rejected = outcomes("rejected")
    submit(chains[50:60])
    wait_until(lambda: outcomes("rejected") > rejected and "status 403" in writer.stderr(), 30, "a 403 from litewitness")
    log("litewitness without the log's key: 403")
    writer.stop()


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:], required=("writer", "keygen", "mkchains", "ctcheck", "peers")))

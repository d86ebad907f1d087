#!/usr/bin/env python3
"""A real RFC 6962 monitor follows a faro log through faro-gateway: Debian's certspotter.

certspotter (0.18 from ../shared/tools/debian-peers.sh, or one on PATH) is
given a log list whose only log is the faro log at the gateway, and a
watch list that matches every certificate. It fetches get-sth (verifying its
signature with the log's key), downloads every entry with get-entries,
rebuilds the tree from them and checks each tree head's root against it,
which also proves each new tree head consistent with the one before.
certspotter checks a log when it starts and then every five minutes, so the
test runs it in rounds while the writer keeps adding entries: each round
must verify a larger tree head than the last, the last one the final tree.

At the end: certspotter reported no error and no malformed entry, its
verified tree head is the log's final checkpoint, and it saved exactly the
submitted certificates and precertificates. A negative control: given
another key for the same URL, certspotter refuses the tree head's signature.

Usage: gateway-certspotter.py --writer BIN --gateway BIN --keygen BIN --mkchains BIN --ctcheck BIN
                              --peers debian-peers.sh
"""

import base64
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from e2elib import DAEMON_TEST_ARGS, Client, Gateway, Log, Skip, check, log, main, metric_sum, start_log, submit_all, wait_until

FIRST, TOTAL = 500, 3000  # entries before certspotter starts; entries in all
ROUNDS = 3                # certspotter rounds while the writer grows the tree, before the last one
GROWTH = 300              # entries the writer adds between rounds, at least
CONTACT = {"User-Agent": "faro-e2e-certspotter/1.0 (+mailto:ops@monitor.test)"}


def find_certspotter(peers):
    if os.environ.get("CERTSPOTTER"):
        return os.environ["CERTSPOTTER"]
    try:
        out = subprocess.run(["bash", peers], capture_output=True, text=True, timeout=900)
        path = os.path.join(out.stdout.strip().splitlines()[-1], "certspotter") if out.returncode == 0 and out.stdout else ""
        if os.access(path, os.X_OK):
            return path
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    return shutil.which("certspotter")


def log_list(path, log_, url):
    """A log list (v3 schema) naming one log: log_'s public key and its ID, at url."""
    with open(log_.pubkey) as f:
        key = base64.b64decode("".join(l for l in f.read().splitlines() if not l.startswith("-----")))
    entry = {"description": log_.origin, "log_id": base64.b64encode(hashlib.sha256(key).digest()).decode(),
             "key": base64.b64encode(key).decode(), "url": url, "mmd": 86400,
             "state": {"usable": {"timestamp": "2026-01-01T00:00:00Z"}}}
    doc = {"version": "3.0", "log_list_timestamp": "2026-01-01T00:00:00Z",
           "operators": [{"name": "faro e2e", "email": ["ops@faro.test"], "logs": [entry]}]}
    with open(path, "w") as f:
        json.dump(doc, f)


class Certspotter:
    """certspotter runs over one state directory, one process at a time."""

    def __init__(self, binary, workdir, name, logs):
        self.binary = binary
        self.dir = os.path.join(workdir, name)
        self.state = os.path.join(self.dir, "state")
        self.logs = logs
        self.runs = 0
        os.makedirs(os.path.join(self.dir, "config"))
        with open(os.path.join(self.dir, "watchlist"), "w") as f:
            f.write(".\n")  # every certificate

    def start(self):
        self.runs += 1
        self.stdout = os.path.join(self.dir, "stdout-%d" % self.runs)
        self.stderr = os.path.join(self.dir, "stderr-%d" % self.runs)
        env = dict(os.environ, CERTSPOTTER_CONFIG_DIR=os.path.join(self.dir, "config"), HOME=self.dir)
        with open(self.stdout, "w") as out, open(self.stderr, "w") as err:
            self.proc = subprocess.Popen([self.binary, "-logs", self.logs, "-state_dir", self.state, "-watchlist",
                                          os.path.join(self.dir, "watchlist"), "-stdout", "-verbose"],
                                         stdout=out, stderr=err, env=env)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        check(code == 0, "certspotter exited with %d:\n%s" % (code, self.errors()))

    def errors(self):
        text = ""
        for path in sorted(glob.glob(os.path.join(self.dir, "stderr-*"))):
            with open(path) as f:
                text += f.read()
        return text

    def log_dir(self):
        dirs = glob.glob(os.path.join(self.state, "logs", "*"))
        return dirs[0] if len(dirs) == 1 else None

    def log_state(self):
        """The log's state.json (None before the first), and the names in its malformed_entries folder."""
        d = self.log_dir()
        if d is None or not os.path.exists(os.path.join(d, "state.json")):
            return None, []
        with open(os.path.join(d, "state.json")) as f:
            try:
                state = json.load(f)
            except ValueError:
                return None, []  # being rewritten
        return state, os.listdir(os.path.join(d, "malformed_entries"))

    def verified_size(self):
        state, _ = self.log_state()
        return state["verified_sth"]["tree_size"] if state and state.get("verified_sth") else -1

    def round(self, after):
        """One run: until it has verified a tree head larger than after, and every tree head it fetched."""
        self.start()

        def done():
            check(self.proc.poll() is None, "certspotter exited with %s:\n%s" % (self.proc.returncode, self.errors()[-3000:]))
            pending = os.listdir(os.path.join(self.log_dir(), "unverified_sths")) if self.log_dir() else ["?"]
            return self.verified_size() > after and not pending

        wait_until(done, 300, "certspotter to verify a tree head larger than %d:\n%s" % (after, self.errors()[-3000:]),
                   interval=0.2)
        self.stop()
        return self.verified_size()

    def saved_certificates(self):
        """SHA-256 (hex) of every certificate it saved, from the file names."""
        return {os.path.basename(p)[:-len(".pem")] for p in glob.glob(os.path.join(self.state, "certs", "*", "*.pem"))}


class Feeder(threading.Thread):
    """Submits chains in small concurrent batches, a few times a second, until stopped or out of chains."""

    def __init__(self, writer, log_, chains):
        super().__init__()
        self.writer, self.log_, self.chains = writer, log_, chains
        self.done = threading.Event()
        self.sent = 0
        self.error = None

    def run(self):
        try:
            while not self.done.is_set() and self.sent < len(self.chains):
                batch = self.chains[self.sent:self.sent + 40]
                submit_all(self.writer, self.log_, batch, threads=len(batch))
                self.sent += len(batch)
                self.done.wait(0.2)
        except Exception as e:  # reported by the test thread
            self.error = e


def test(args, workdir):
    binary = find_certspotter(args["peers"])
    if binary is None:
        raise Skip("no certspotter: debian-peers.sh could not fetch it and none is on PATH")
    version = subprocess.run([binary, "-version"], capture_output=True, text=True).stdout.strip()
    log("%s (%s)" % (version, binary))

    writer, log_, template, _, chains = start_log(args, workdir, "cs", TOTAL * 9 // 10, TOTAL // 10, sequence_interval="100ms")
    submit_all(writer, log_, chains[:FIRST])
    wait_until(lambda: log_.checkpoint()[0] == FIRST, 30, "the tree to reach %d" % FIRST)
    gateway = Gateway(args["gateway"], workdir, template, writer=writer)
    gateway.start()
    url = "http://127.0.0.1:%d/cs/" % gateway.port
    lists = os.path.join(workdir, "loglist.json")
    log_list(lists, log_, url)
    monitor = Certspotter(binary, workdir, "certspotter", lists)

    feeder = Feeder(writer, log_, chains[FIRST:])
    feeder.start()
    verified = []
    try:
        for _ in range(ROUNDS):
            verified.append(monitor.round(verified[-1] if verified else 0))
            wait_until(lambda: log_.checkpoint()[0] >= verified[-1] + GROWTH, 60, "the writer to grow the tree")
    finally:
        feeder.done.set()
        feeder.join()
    check(feeder.error is None, "feeding the writer: %s" % feeder.error)
    final = FIRST + feeder.sent
    wait_until(lambda: log_.checkpoint()[0] == final, 30, "the tree to reach %d" % final)
    api = Client(gateway.port)
    wait_until(lambda: json.loads(api.request("GET", "/cs/ct/v1/get-sth", headers=CONTACT)[2])["tree_size"] == final, 30,
               "the gateway's get-sth to reach %d" % final)
    api.close()
    verified.append(monitor.round(verified[-1]))
    log("certspotter verified tree heads of %s entries, in %d runs while the writer grew the tree" %
        (", ".join(map(str, verified)), monitor.runs))

    state, malformed = monitor.log_state()
    # Its verbose log says "stopped with error context canceled" at each SIGTERM; anything else naming an error is one.
    errors = [l for l in monitor.errors().splitlines() if "error" in l.lower() and "error context canceled" not in l]
    check(not errors, "certspotter reported errors:\n%s" % "\n".join(errors[:20]))
    check(not malformed, "certspotter found %d malformed entries: %s" % (len(malformed), malformed[:5]))
    size, root, _ = log_.checkpoint()
    sth = state["verified_sth"]
    check(sth["tree_size"] == size and sth["sha256_root_hash"] == root,
          "certspotter's verified tree head %r is not the log's %d %s" % (sth, size, root))
    submitted = {hashlib.sha256(base64.b64decode(c["chain"][0])).hexdigest() for c in chains[:final]}
    saved = monitor.saved_certificates()
    check(saved == submitted, "certspotter saved %d certificates, %d of them submitted, of %d submitted" %
          (len(saved), len(saved & submitted), len(submitted)))
    metrics = gateway.metrics_text()
    requests = {kind: int(metric_sum(metrics, "faro_gateway_requests_total", log="cs", kind=kind, code="200"))
                for kind in ("get_sth", "get_entries")}
    log("certspotter: no error, no malformed entry, final tree head %d verified, all %d certificates found; "
        "it made %d get-sth and %d get-entries requests" % (size, len(saved), requests["get_sth"], requests["get_entries"]))

    # Negative control: the same log under another key's ID is refused at the tree head's signature.
    other = Log(workdir, "other", args["keygen"])
    wrong_list = os.path.join(workdir, "wrong-key.json")
    log_list(wrong_list, other, url)
    forged = Certspotter(binary, workdir, "certspotter-wrong-key", wrong_list)
    forged.start()
    wait_until(lambda: "invalid signature" in forged.errors(), 120, "certspotter to refuse the tree head")
    forged.stop()
    check(forged.verified_size() == -1 and not forged.saved_certificates(), "certspotter trusted a tree head it refused")
    log("negative control: with another key certspotter refuses the tree head (invalid signature) and saves nothing")
    gateway.stop()
    writer.stop()


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:], DAEMON_TEST_ARGS + ("gateway", "peers")))

#!/usr/bin/env python3
"""faro-writer's witness coordinator end to end, with faro-test-witness processes on loopback.

One writer serves these logs, each with its own 2-of-3 trust policy:
  - "main" (greedy): witnesses W1, W2, W3 cosign every published checkpoint
    (2 of 3 at least, sampled with quorumcheck while submissions flow); ctcheck
    (Go x/mod note) verifies the published checkpoint's Ed25519 line and the
    whole tree, quorumcheck every cosignature; W3 restarted without its state
    answers 409 with its size (0), the writer retries from it and W3 cosigns
    again; after a writer restart no witness needs a 409 (sizes are in the
    lock DB);
  - one log per fault, with W1 and W2 healthy and a third witness W3 that is slow
    past the timeout (non-greedy: publication not held back; greedy: held until
    the timeout or a newer checkpoint, no longer), down (exits at the first request), answering
    garbage, a bad signature, 409 with another size, or claiming to be ahead
    (an ALARM line, never believed): each checkpoint is published cosigned by
    W1 and W2 only, and the faulty witness's failures are counted by outcome;
  - "quorum" (fail-closed): losing two witnesses keeps the last cosigned
    checkpoint published while SCTs still flow, a writer restart in that state
    is accepted (an older lock DB, behind storage, is still refused), and once
    a witness is back cosigned checkpoints resume up to the tree size;
  - "failopen": no witness reachable, checkpoints published without
    cosignatures.
Usage: witness-e2e.py --writer BIN --keygen BIN --mkchains BIN --ctcheck BIN --witness BIN --quorumcheck BIN
"""

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import (Client, Gateway, Log, TestWitness, Writer, check, check_sct, log, main, quorumcheck,  # noqa: E402
                    run_ctcheck, sct_record, submit_many, wait_until, write_config, write_policy)

TIMEOUT_MS = 2000  # generous: a healthy witness on a loaded machine must not miss it
SLOW_MS = 3000
INTERVAL = "200ms"
FAULTS = {
    "slow": (["--delay", str(SLOW_MS)], "timeout"),
    "slowgreedy": (["--delay", str(SLOW_MS)], "timeout"),
    "down": (["--fault", "down"], "unreachable"),
    "garbage": (["--fault", "garbage"], "invalid"),
    "badsig": (["--fault", "bad-signature"], "bad_signature"),
    "conflict": (["--fault", "conflict"], "conflict"),
    "ahead": (["--fault", "ahead"], "ahead"),
}
TWO_OF_THREE = ["group two-of-three 2 W1 W2 W3", "quorum two-of-three"]


class Case:
    """A log of the test, its witnesses (policy name -> TestWitness) and the SCT records it received."""

    def __init__(self, log_, witnesses, policy):
        self.log = log_
        self.witnesses = witnesses
        self.policy = policy
        self.records = []

    def submit(self, writer, chains):
        results = submit_many(writer, self.log, chains, threads=8)
        for sub, status, headers, body in results:
            check_sct(self.log, sub, status, headers, body)
            self.records.append(sct_record(sub, body))
        return len(results)

    def tree_size(self, writer):
        return int(writer.metric("faro_writer_tree_size", self.log.name))

    def published_size(self, writer):
        return int(writer.metric("faro_writer_witness_published_size", self.log.name))

    def outcomes(self, writer, witness, outcome):
        return int(writer.metric("faro_writer_witness_requests_total", self.log.name, witness=witness, outcome=outcome))

    def checkpoints(self, writer, outcome):
        return int(writer.metric("faro_writer_witness_checkpoints_total", self.log.name, outcome=outcome))

    def wait_published(self, writer, timeout=30):
        """Waits until the checkpoint file is at the tree size; returns that size."""
        size = self.tree_size(writer)
        wait_until(lambda: os.path.exists(os.path.join(self.log.storage, "checkpoint")) and self.log.checkpoint()[0] == size,
                   timeout, "%s to publish a checkpoint of size %d" % (self.log.name, size))
        return size

    def cosigners(self, quorumcheck_bin):
        """(met, {witness: timestamp or None}) of the published checkpoint."""
        met, cosigners, _ = quorumcheck(quorumcheck_bin, self.policy, os.path.join(self.log.storage, "checkpoint"))
        return met, cosigners


def delay_average_ms(writer, case):
    total = writer.metric("faro_writer_witness_publication_delay_seconds_sum", case.log.name)
    count = writer.metric("faro_writer_witness_publication_delay_seconds_count", case.log.name)
    check(count > 0, "%s: no publication observed" % case.log.name)
    return 1000 * total / count


def sample_during(writer, case, quorumcheck_bin, workdir, stop):
    """Copies the published checkpoint every 100 ms while the load runs; each copy must meet the quorum."""
    samples = []
    copy = os.path.join(workdir, "sample-checkpoint")
    while not stop.is_set():
        try:
            shutil.copyfile(os.path.join(case.log.storage, "checkpoint"), copy)
        except FileNotFoundError:
            time.sleep(0.05)
            continue
        met, cosigners, out = quorumcheck(quorumcheck_bin, case.policy, copy)
        with open(copy) as f:
            size = int(f.read().split("\n")[1])
        samples.append((size, met, sum(t is not None for t in cosigners.values()), out))
        time.sleep(0.1)
    return samples


def test(args, workdir):
    pki = os.path.join(workdir, "pki")
    os.makedirs(pki)
    subprocess.run([args["mkchains"], pki, "400", "0"], check=True, stdout=subprocess.DEVNULL)
    roots = os.path.join(pki, "root.pem")
    with open(os.path.join(pki, "chains.jsonl")) as f:
        chains = [json.loads(line) for line in f]

    settings = dict(sequence_interval=INTERVAL, witness_timeout="%dms" % TIMEOUT_MS)
    main_log = Log(workdir, "main", args["keygen"], witness_greedy=True, **settings)
    fault_logs = {name: Log(workdir, name, args["keygen"], witness_greedy=(name == "slowgreedy"), **settings) for name in FAULTS}
    quorum_log = Log(workdir, "quorum", args["keygen"], **settings)
    failopen_log = Log(workdir, "failopen", args["keygen"], witness_mode="fail-open", **settings)

    binary = args["witness"]
    witnesses = []

    def witness(name, seed, log_, *flags):
        witnesses.append(TestWitness(binary, workdir, "%s.witness.test" % name, seed, [log_.vkey]).start(*flags))
        return witnesses[-1]

    cases = {}

    def case(log_, witnesses, quorum=TWO_OF_THREE):
        policy = os.path.join(workdir, "%s.policy" % log_.name)
        write_policy(policy, sorted(witnesses.items()), quorum, log_)
        log_.settings["witness_policy"] = policy
        cases[log_.name] = Case(log_, witnesses, policy)
        return cases[log_.name]

    w3 = witness("w3", 0x43, main_log)
    main_case = case(main_log, {"W1": witness("w1", 0x41, main_log), "W2": witness("w2", 0x42, main_log), "W3": w3})
    for i, (name, (flags, _)) in enumerate(FAULTS.items()):
        log_ = fault_logs[name]
        case(log_, {"W1": witness(name + "-w1", 0x50 + 3 * i, log_), "W2": witness(name + "-w2", 0x51 + 3 * i, log_),
                    "W3": witness(name + "-w3", 0x52 + 3 * i, log_, *flags)})
    quorum_witnesses = [witness("q%d" % i, 0x80 + i, quorum_log) for i in (1, 2, 3)]
    quorum_case = case(quorum_log, {"W%d" % (i + 1): w for i, w in enumerate(quorum_witnesses)})
    # Started only to learn their keys: nothing listens on their ports.
    dead = [witness("p%d" % i, 0x90 + i, failopen_log) for i in (1, 2, 3)]
    for w in dead:
        w.stop()
    failopen_case = case(failopen_log, {"W%d" % (i + 1): w for i, w in enumerate(dead)})
    logs = [c.log for c in cases.values()]
    template = os.path.join(workdir, "faro.yaml.in")
    write_config(template, os.path.join(workdir, "state", "lock.db"), logs, roots)
    writer = Writer(args["writer"], workdir, template)
    writer.start(create_missing=True)

    # Submissions to every log at once; main's published checkpoint is sampled during the load.
    stop = threading.Event()
    samples = []
    sampler = threading.Thread(target=lambda: samples.extend(sample_during(writer, main_case, args["quorumcheck"], workdir, stop)))
    sampler.start()
    batch = chains[:150]
    loaders = [threading.Thread(target=c.submit, args=(writer, batch)) for c in cases.values()]
    started = time.monotonic()
    for t in loaders:
        t.start()
    for t in loaders:
        t.join()
    elapsed = time.monotonic() - started
    main_size = main_case.wait_published(writer)
    stop.set()
    sampler.join()
    check(len(samples) >= 3, "only %d samples of main's checkpoint during the load" % len(samples))
    for size, met, count, out in samples:
        check(met and count >= 2, "main published a checkpoint of size %d without the quorum:\n%s" % (size, out))
    check(max(s[2] for s in samples) == 3, "no sample of main carries all three cosignatures")
    check([s[0] for s in samples] == sorted(s[0] for s in samples), "main's published size went backwards")
    check(main_case.checkpoints(writer, "published_without_quorum") == 0 and main_case.checkpoints(writer, "withheld") == 0,
          "main: a checkpoint went out, or was held back, without the quorum")
    log("%d logs x %d submissions in %.1f s; main: %d samples of the published checkpoint while loading, sizes %d..%d, "
        "each meeting the quorum (quorumcheck), %d with all three cosignatures" %
        (len(cases), len(batch), elapsed, len(samples), samples[0][0], samples[-1][0], sum(s[2] == 3 for s in samples)))
    log(run_ctcheck(args["ctcheck"], main_log, roots, main_case.records, workdir, min_size=main_size, cosigned=True))
    lock_db = os.path.join(workdir, "state", "lock.db")
    old_lock_db = os.path.join(workdir, "lock.db.old")
    with contextlib.closing(sqlite3.connect(lock_db)) as live, contextlib.closing(sqlite3.connect(old_lock_db)) as copy:
        live.backup(copy)

    # Each fault: W1 and W2 carry the quorum; the faulty witness is counted, never published.
    for name, (flags, outcome) in FAULTS.items():
        c = cases[name]
        size = c.wait_published(writer)
        met, cosigners = c.cosigners(args["quorumcheck"])
        check(met and cosigners["W1"] and cosigners["W2"] and cosigners["W3"] is None,
              "%s: published checkpoint cosigned by %s" % (name, cosigners))
        failures = c.outcomes(writer, "W3", outcome)
        check(failures > 0 and c.outcomes(writer, "W3", "cosigned") == 0,
              "%s: W3 has %d %s outcomes and %d cosigned" % (name, failures, outcome, c.outcomes(writer, "W3", "cosigned")))
        check(writer.metric("faro_writer_witness_cosigned_size", name, witness="W3") == 0, "%s: W3's size is believed" % name)
        delay = delay_average_ms(writer, c)
        log("%-10s size %d cosigned by W1+W2; W3 (%s): %d x %s; publication delay %.0f ms on average; %d withheld" %
            (name, size, " ".join(flags), failures, outcome, delay, c.checkpoints(writer, "withheld")))
        if name == "slow":
            check(delay < 0.6 * TIMEOUT_MS, "slow: the slow witness held publication back (%.0f ms)" % delay)
        if name == "slowgreedy":
            # Greedy waits for the slow witness: until its timeout, or until a newer checkpoint is waiting.
            check(150 <= delay < TIMEOUT_MS + 500, "slowgreedy: publication delay %.0f ms, want 150 to %d" %
                  (delay, TIMEOUT_MS + 500))
    check("ALARM: witness W3" in writer.stderr() and "larger than the log's" in writer.stderr(),
          "no ALARM line for the witness claiming to be ahead")
    # The witness answers 409 with yet another size to the retry too: one retry per checkpoint, then it is left out.
    c = cases["conflict"]
    collected = sum(c.checkpoints(writer, o) for o in ("published_with_quorum", "published_without_quorum", "withheld"))
    conflicts = c.outcomes(writer, "W3", "conflict")
    check(2 <= conflicts <= 2 * collected + 2, "conflict: %d 409s for %d checkpoints" % (conflicts, collected))

    # A witness that lost its state answers 409 with 0; the writer retries from there and W3 cosigns again.
    conflicts = main_case.outcomes(writer, "W3", "conflict")
    w3.stop()
    os.remove(w3.state)
    w3.start()
    main_case.submit(writer, chains[150:160])
    size = main_case.wait_published(writer)
    met, cosigners = main_case.cosigners(args["quorumcheck"])
    check(met and cosigners["W3"], "main after W3 lost its state: cosigners %s" % cosigners)
    check(main_case.outcomes(writer, "W3", "conflict") > conflicts, "W3 without state: no 409 was answered")
    check(w3.cosigned_size(main_log.origin) >= size, "W3 holds size %d, not %d" % (w3.cosigned_size(main_log.origin), size))
    log("W3 restarted without its state: 409 with size 0, retried, cosigned size %d" % size)

    # Quorum lost on a fail-closed log: the older cosigned checkpoint stays, SCTs still flow.
    quorum_size = quorum_case.wait_published(writer)
    check(quorum_case.cosigners(args["quorumcheck"])[0], "quorum: the first checkpoints are not cosigned")
    with open(os.path.join(quorum_log.storage, "checkpoint"), "rb") as f:
        cosigned_body = f.read()
    quorum_witnesses[1].stop()
    quorum_witnesses[2].stop()
    withheld = quorum_case.checkpoints(writer, "withheld")
    added = quorum_case.submit(writer, chains[160:200])
    wait_until(lambda: quorum_case.checkpoints(writer, "withheld") >= withheld + 3, 30, "quorum: checkpoints withheld")
    check(quorum_case.tree_size(writer) == quorum_size + added, "quorum: SCTs were answered but the tree did not grow")
    with open(os.path.join(quorum_log.storage, "checkpoint"), "rb") as f:
        check(f.read() == cosigned_body, "quorum: the published checkpoint changed without a quorum")
    log("quorum lost: %d more SCTs, tree at %d, the cosigned checkpoint of size %d stays published (%d withheld)" %
        (added, quorum_case.tree_size(writer), quorum_size, quorum_case.checkpoints(writer, "withheld")))

    # Witnessing keeps the rollback checks: an older lock DB, behind what storage has published, is refused.
    writer.stop()
    check(not os.path.exists(lock_db + "-wal"), "the lock DB's WAL outlived the writer")
    shutil.copyfile(lock_db, lock_db + ".current")
    shutil.copyfile(old_lock_db, lock_db)
    writer.start(wait=False)
    code = writer.proc.wait(60)
    writer.check_sanitizers()
    check(code != 0 and "ahead of the lock DB" in writer.stderr(), "a rolled-back lock DB: exit %d:\n%s" % (code, writer.stderr()))
    log("a rolled-back lock DB: refused: %s" % writer.stderr().strip().splitlines()[-1])
    shutil.copyfile(lock_db + ".current", lock_db)

    # A restart while the published checkpoint lags the lock DB.
    writer.start()
    check("lags the lock DB" in writer.stderr(), "the restart did not note the lagging checkpoint:\n%s" % writer.stderr()[-3000:])
    with open(os.path.join(quorum_log.storage, "checkpoint"), "rb") as f:
        check(f.read() == cosigned_body, "quorum: the restart published a checkpoint without a quorum")
    log("restart with the published checkpoint behind the lock DB (fail-closed): accepted")

    quorum_witnesses[1].start()
    size = quorum_case.wait_published(writer)
    met, cosigners = quorum_case.cosigners(args["quorumcheck"])
    check(met and size == quorum_size + added, "quorum back: published size %d (want %d), %s" % (size, quorum_size + added, cosigners))
    log("quorum back: cosigned checkpoint of size %d published (%s)" %
        (size, ", ".join(n for n, t in sorted(cosigners.items()) if t)))
    log(run_ctcheck(args["ctcheck"], quorum_log, roots, quorum_case.records, workdir, min_size=size, cosigned=True))

    # After the restart, the sizes came from the lock DB: no healthy witness needed a 409.
    main_case.submit(writer, chains[200:210])
    main_case.wait_published(writer)
    for name in ("W1", "W2", "W3"):
        check(main_case.outcomes(writer, name, "conflict") == 0 and main_case.outcomes(writer, name, "cosigned") > 0,
              "main after the restart: %s answered %d 409s" % (name, main_case.outcomes(writer, name, "conflict")))
    log("writer restart: every witness of main continued from the size in the lock DB (no 409)")

    # Fail-open: nothing reachable, published anyway, without cosignatures.
    size = failopen_case.wait_published(writer)
    check(failopen_case.checkpoints(writer, "published_without_quorum") > 0, "failopen: nothing published without the quorum")
    log(run_ctcheck(args["ctcheck"], failopen_log, roots, failopen_case.records, workdir, min_size=size))

    # faro-gateway's /health holds each published checkpoint to its log's policy.
    gateway = Gateway(args["gateway"], workdir, writer.template, writer=writer, settings={"health_max_age": "60s"})
    gateway.start()
    client = Client(gateway.port)
    status, _, body = client.request("GET", "/health")
    client.close()
    gateway.stop()
    lines = {line.split(":")[0]: line for line in body.decode().splitlines()}
    check(status == 500 and lines["main"].startswith("main: OK"), "/health: %d %r" % (status, body))
    check("does not meet its witness policy" in lines["failopen"], "/health passed failopen's uncosigned checkpoint: %r" % body)
    log("gateway /health: main cosigned and OK; %s" % lines["failopen"])
    writer.stop()
    for w in witnesses:
        w.stop()


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:]))

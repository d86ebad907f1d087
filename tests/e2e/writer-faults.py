#!/usr/bin/env python3
"""faro-writer under failing system calls and a full disk loses nothing it acknowledged.

One log, sequenced every 700 ms, its checkpoint re-signed only hourly, so
once the writer has started a round's system calls are the only ones it
makes. A template of the log (TEMPLATE entries, every SCT kept) is made once
and copied back before each run.

Failed calls (FARO_DURABLE_FAULT="<op>:<n>", the seam in tlog/durable.c): a
calibration run reads faro_writer_durable_calls_total after start-up and
after one round of BURST distinct chains (the first round comes one
sequence_interval after the writer listens, so the burst lands in it whole).
Then, for each op (write, fsync, rename, dirsync) and each call i of it that
round made, a fresh copy runs with the fault armed at that call:
  - the staging bundle's write or rename (i = 1, before the lock DB commit):
    every waiter gets 503 "nothing was logged", the writer runs on with the
    tree unchanged, and the burst sent again is logged;
  - the staging bundle's fsync or directory fsync, and every call after the
    commit (tiles, new folders, the checkpoint, dropping the bundle): the
    writer exits 1 with a fatal line naming the failed call and the round's
    size, having answered no one; a start without the fault recovers, at the
    template's size (before the commit) or with the round in the tree
    (after it; the staged bundle is replayed if publication was cut short).
Every run ends with the burst logged, SIGTERM (exit 0), and ctcheck verifying
the template's SCTs and the run's at their leaf indices.

Leftovers: after a fault that cuts publication short, temporary files
planted where the writer writes (and decoys that only look like them) are
swept at the next start, which says how many; the same after a clean stop.

Full disk: the writer runs under RLIMIT_FSIZE (the test does not ignore
SIGXFSZ: the writer must) and takes a burst whose rounds fit, then one whose
rounds cannot: they answer 503 and change nothing, the writer stays up; a
restart without the limit logs the refused chains.

Short form: a round inside one tile. FARO_LONG=1 adds a second template
whose round crosses a tile boundary (full tiles, new folders and their
fsyncs).
Usage: writer-faults.py --writer BIN --keygen BIN --mkchains BIN --ctcheck BIN
"""

import json
import os
import resource
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import (Log, Writer, check, leaf_index, log, main, run_ctcheck, sct_record, submit_many,  # noqa: E402
                    write_config)

OPS = ("write", "fsync", "rename", "dirsync")
BURST = 10
TEMPLATES = (20, 250)  # the short form's, then FARO_LONG's (its round crosses the tile boundary at 256)
PRECERTS = 20
# RLIMIT_FSIZE and the bursts. Data tiles are gzipped (about 90 bytes an entry for these certificates, which share
# one key) and SQLite's shared-memory file is 32 KiB, so the limit is above that and a round must take more entries
# than one tile holds to outgrow it: the first burst (rounds of at most 120 entries) fits, and every round of the
# second, sent at once over FULL_DISK_CONNECTIONS, holds hundreds of entries and at least one full tile, and does
# not. Rounds of a few entries would instead fill the lock DB's WAL (about 4 KiB a commit) first, and a failed
# lock DB write stops the writer where a failed staging bundle only fails the round.
FULL_DISK_LIMIT = 36 * 1024
FULL_DISK_FITS = 100
FULL_DISK_OVERFLOWS = 1200
FULL_DISK_CONNECTIONS = 200
SPARE = FULL_DISK_FITS + FULL_DISK_OVERFLOWS


class Template:
    """A copy of the log's data and state at some size, and the SCTs it acknowledged."""

    def __init__(self, path, size, records):
        self.path, self.size, self.records = path, size, records


class Rig:
    """The writer, its one log, the live folders, and the chains."""

    def __init__(self, args, workdir, chains, roots):
        """chains: certificates then PRECERTS precertificates, from mkchains."""
        self.args, self.workdir, self.roots = args, workdir, roots
        self.log = Log(workdir, "faults", args["keygen"], sequence_interval="700ms", checkpoint_republish_interval="1h")
        self.live = [os.path.join(workdir, "data"), os.path.join(workdir, "state")]
        self.state_dir = os.path.join(workdir, "state", self.log.name)
        config = os.path.join(workdir, "faro.yaml.in")
        write_config(config, os.path.join(workdir, "state", "lock.db"), [self.log], roots)
        self.writer = Writer(args["writer"], workdir, config)
        certs, precerts = chains[:-PRECERTS], chains[-PRECERTS:]
        self.template_chains = certs[:TEMPLATES[-1] - 5] + precerts[:5]
        rest = certs[TEMPLATES[-1] - 5:]
        self.burst = rest[:BURST - 3] + precerts[5:8]
        self.spare = rest[BURST - 3:]
        for i, precert in enumerate(precerts[8:]):
            self.spare.insert(7 * i, precert)

    def clear(self):
        for path in self.live:
            shutil.rmtree(path, ignore_errors=True)

    def make_template(self, size):
        self.clear()
        self.writer.start(create_missing=True)
        records = self.log_all(self.template_chains[-size:])
        self.writer.stop()
        check(self.log.checkpoint()[0] == size, "template: size %d, not %d" % (self.log.checkpoint()[0], size))
        path = os.path.join(self.workdir, "template-%d" % size)
        for live in self.live:
            shutil.copytree(live, os.path.join(path, os.path.basename(live)))
        return Template(path, size, records)

    def restore(self, template):
        self.clear()
        for live in self.live:
            shutil.copytree(os.path.join(template.path, os.path.basename(live)), live)

    def log_all(self, submissions, connections=16):
        """Submits and requires a 200 with a leaf index for each; returns their ctcheck records."""
        records = []
        for sub, status, _, body in submit_many(self.writer, self.log, submissions, threads=connections):
            check(status == 200, "%s: status %d: %r" % (sub["endpoint"], status, body[:200]))
            leaf_index(json.loads(body))
            records.append(sct_record(sub, body))
        return records

    def calls(self):
        return {op: int(self.writer.metric_labeled("faro_writer_durable_calls_total", 'call="%s"' % op)) for op in OPS}

    def finish(self, template, records, min_size):
        """The run's end: SIGTERM, then every SCT of the template and of the run verified."""
        self.writer.stop()
        return run_ctcheck(self.args["ctcheck"], self.log, self.roots, template.records + records, self.workdir, min_size)


def calibrate(rig, template):
    """(calls made by start-up, calls made by one round of the burst), per op."""
    rig.restore(template)
    rig.writer.start()
    start = rig.calls()
    records = rig.log_all(rig.burst)
    after = rig.calls()
    rounds = rig.writer.metric("faro_writer_round_duration_seconds_count", rig.log.name)
    check(rounds == 1, "calibration: the burst took %d rounds, not one" % rounds)
    rig.finish(template, records, template.size + BURST)
    return start, {op: after[op] - start[op] for op in OPS}


def fault_run(rig, template, op, n, i):
    """The writer with the n-th call of op failing, the i-th of the round; returns what happened, in a few words."""
    size = template.size
    rig.restore(template)
    rig.writer.start(env={"FARO_DURABLE_FAULT": "%s:%d" % (op, n)})
    results = submit_many(rig.writer, rig.log, rig.burst, network_errors=True)
    where = "%s %d of the round (%s:%d)" % (op, i, op, n)
    if i == 1 and op in ("write", "rename"):
        for _, status, headers, body in results:
            check(status == 503 and "retry-after" in headers and b"nothing was logged" in body,
                  "%s: a waiter got %s %r, not 503" % (where, status, body[:200]))
        check(rig.writer.proc.poll() is None, "%s: the writer exited after a failed round" % where)
        check("round of %d entries failed before commit" % BURST in rig.writer.stderr(), "%s: no failed-round line" % where)
        check(rig.writer.metric("faro_writer_rounds_failed_total", rig.log.name) == 1, "%s: rounds_failed is not 1" % where)
        check(rig.log.checkpoint()[0] == size, "%s: a failed round changed the tree" % where)
        outcome = "503, writer up"
    else:
        for _, status, _, body in results:
            check(status is None, "%s: a waiter got an answer (%s %r) from a writer that must stop" % (where, status, body[:200]))
        code = rig.writer.wait_exit(60)
        fatal = [line for line in rig.writer.stderr().splitlines() if " fatal " in line]
        check(code == 1 and fatal, "%s: exit status %s, fatal lines %s" % (where, code, fatal))
        check("Input/output error" in fatal[-1] and "size %d" % (size + BURST) in fatal[-1],
              "%s: the fatal line does not name the failure and the round: %s" % (where, fatal[-1]))
        rig.writer.start()
        want = size if i == 1 else size + BURST
        got = rig.log.checkpoint()[0]
        check(got == want, "%s: restarted at size %d, not %d" % (where, got, want))
        replayed = "replaying the staged bundle" in rig.writer.stderr()
        outcome = "exit 1; restart at %d%s" % (got, ", bundle replayed" if replayed else "")
    records = rig.log_all(rig.burst)
    rig.finish(template, records, size + BURST)
    return outcome


def fault_calls(rig, template):
    start, per_round = calibrate(rig, template)
    log("template of %d: start-up makes %s calls, a round of %d entries %s" %
        (template.size, "/".join(str(start[op]) for op in OPS), BURST, "/".join(str(per_round[op]) for op in OPS)) +
        " (write/fsync/rename/dirsync)")
    runs = 0
    for op in OPS:
        check(per_round[op] > 0, "a round made no %s call" % op)
        for i in range(1, per_round[op] + 1):
            outcome = fault_run(rig, template, op, start[op] + i, i)
            log("  %s %d/%d: %s; nothing acknowledged lost" % (op, i, per_round[op], outcome))
            runs += 1
    return start, runs


def plant(paths):
    for path in paths:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("left by a crash\n")


def leftovers(rig, template, start):
    """Planted temporary files are swept at start, after a cut-short publication and after a clean stop; decoys stay."""
    storage, state = rig.log.storage, rig.state_dir
    rig.restore(template)
    rig.writer.start(env={"FARO_DURABLE_FAULT": "fsync:%d" % (start["fsync"] + 2)})  # the first file published
    submit_many(rig.writer, rig.log, rig.burst, network_errors=True)
    check(rig.writer.wait_exit(60) == 1, "leftovers: the fsync fault did not stop the writer")
    issuer = sorted(os.listdir(os.path.join(storage, "issuer")))[0]
    edge = "%03d.p" % (template.size // 256)
    planted = [os.path.join(storage, ".checkpoint.a1B2c3"), os.path.join(storage, "roots", ".%s.pem.Zz9Yy8" % ("0" * 64)),
               os.path.join(state, ".dedup.db.Q1w2E3"), os.path.join(state, "staging", ".1-ab.R4t5Y6"),
               os.path.join(storage, "tile", "0", edge, ".%d.U7i8O9" % (template.size % 256 + BURST)),
               os.path.join(storage, "tile", "data", edge, ".%d.P0a1S2" % (template.size % 256 + BURST)),
               os.path.join(storage, "issuer", ".%s.D3f4G5" % issuer)]
    decoys = [os.path.join(storage, "checkpoint.a1B2c3"), os.path.join(storage, ".checkpoint.a1B2c"),
              os.path.join(state, ".dedup.db.a1B2c3d"), os.path.join(storage, "tile", "data", edge, ".30")]
    plant(planted + decoys)
    rig.writer.start()
    text = rig.writer.stderr()
    check("replaying the staged bundle" in text, "leftovers: the restart replayed no bundle")
    check("%d leftover temporary files removed" % len(planted) in text, "leftovers: the start did not report %d removed:\n%s" %
          (len(planted), text[-2000:]))
    check(not any(os.path.exists(p) for p in planted), "leftovers: still there: %s" % [p for p in planted if os.path.exists(p)])
    check(all(os.path.exists(p) for p in decoys), "leftovers: a decoy was removed: %s" % [p for p in decoys if not os.path.exists(p)])
    for path in decoys:
        os.remove(path)
    rig.writer.stop()
    again = planted[:4]
    plant(again)
    rig.writer.start()
    check("%d leftover temporary files removed" % len(again) in rig.writer.stderr(), "leftovers: after a clean stop, not swept")
    check(not any(os.path.exists(p) for p in again), "leftovers: still there after a clean stop")
    records = rig.log_all(rig.burst)
    rig.finish(template, records, template.size + 2 * BURST)
    log("leftovers: %d planted temporary files swept after a cut-short publication (bundle replayed), %d after a clean "
        "stop; %d decoys kept" % (len(planted), len(again), len(decoys)))


def full_disk(rig, template):
    """Rounds whose staging bundle outgrows RLIMIT_FSIZE fail with 503; the writer stays up; nothing acknowledged is lost."""
    rig.restore(template)

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (FULL_DISK_LIMIT, FULL_DISK_LIMIT))

    rig.writer.start(preexec_fn=limit_file_size)
    records, refused = [], []
    for burst in (rig.spare[:FULL_DISK_FITS], rig.spare[FULL_DISK_FITS:SPARE]):
        for sub, status, headers, body in submit_many(rig.writer, rig.log, burst, threads=FULL_DISK_CONNECTIONS):
            if status == 200:
                records.append(sct_record(sub, body))
            else:
                check(status == 503 and "retry-after" in headers and b"nothing was logged" in body,
                      "full disk: status %d %r" % (status, body[:200]))
                refused.append(sub)
        check(rig.writer.proc.poll() is None, "full disk: the writer died:\n%s" % rig.writer.stderr()[-3000:])
    check(refused, "full disk: %d entries fit under a %d-byte file size limit" % (len(records), FULL_DISK_LIMIT))
    check(records, "full disk: not even the first round fit under %d bytes" % FULL_DISK_LIMIT)
    size = rig.log.checkpoint()[0]
    check(size == template.size + len(records), "full disk: size %d, but %d + %d were acknowledged" %
          (size, template.size, len(records)))
    check("File too large" in rig.writer.stderr(), "full disk: no round failed with EFBIG")
    failed = rig.writer.metric("faro_writer_rounds_failed_total", rig.log.name)
    rig.writer.stop()
    rig.writer.start()
    records += rig.log_all(refused, FULL_DISK_CONNECTIONS)
    log("full disk (RLIMIT_FSIZE %d): %d entries acknowledged, then %d failed rounds refused %d with 503, writer up; "
        "after a restart without the limit they are logged" % (FULL_DISK_LIMIT, len(records) - len(refused), failed,
                                                               len(refused)))
    log(rig.finish(template, records, size + len(refused)))


def test(args, workdir):
    long_mode = os.environ.get("FARO_LONG") == "1"
    pki = os.path.join(workdir, "pki")
    os.makedirs(pki)
    subprocess.run([args["mkchains"], pki, str(TEMPLATES[-1] + BURST + SPARE), str(PRECERTS)], check=True)
    roots = os.path.join(pki, "root.pem")
    with open(os.path.join(pki, "chains.jsonl")) as f:
        chains = [json.loads(line) for line in f]
    rig = Rig(args, workdir, chains, roots)
    started = time.monotonic()
    runs = 0
    for size in TEMPLATES if long_mode else TEMPLATES[:1]:
        template = rig.make_template(size)
        start, n = fault_calls(rig, template)
        runs += n
        if size == TEMPLATES[0]:
            leftovers(rig, template, start)
            full_disk(rig, template)
    log("%d runs with a failed system call in %.1f s" % (runs, time.monotonic() - started))


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:]))

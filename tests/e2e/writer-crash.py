#!/usr/bin/env python3
"""faro-writer killed with SIGKILL under load loses nothing it acknowledged.

Two logs in one writer (sharing the lock DB), sequenced every 25 ms. Each
iteration starts the writer (the first with --create-missing, then never),
runs load threads that submit distinct chains (nine certificates to one
precertificate) and record every 200 answer, and after a random 0.3-1.5 s
sends SIGKILL. The next start must succeed without help, with each log's
tree no smaller than before and covering every leaf index answered so far,
and with no temporary file of an interrupted write left in storage or state
(the writer sweeps them at start; the count it reports is summed).
At the end a clean SIGTERM, then ctcheck verifies every SCT ever received:
its entry is in the tree at its leaf_index with its timestamp and its
certificate.

Iterations: 20, FARO_LONG=1 200, or FARO_CRASH_ITERATIONS; load threads per
log: 8 x FARO_E2E_SCALE (default 1).
Usage: writer-crash.py --writer BIN --keygen BIN --mkchains BIN --ctcheck BIN
"""

import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import (Client, Log, Writer, chain_body, check, leaf_index, log, main, run_ctcheck, scale,  # noqa: E402
                    sct_record, temporaries, write_config)


class Load:
    """Threads submitting distinct chains to one log until stopped; 200 answers are kept, anything else is an error."""

    def __init__(self, writer, log_, chains, threads):
        self.writer, self.log, self.chains = writer, log_, chains
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers = []  # (submission, SCT body)
        self.errors = []
        self.threads = [threading.Thread(target=self.run) for _ in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        for t in self.threads:
            t.join()

    def run(self):
        client = Client(self.writer.port, timeout=60)
        try:
            while not self.stop.is_set():
                sub = self.chains.next()
                try:
                    status, _, body = client.request("POST", self.log.path(sub["endpoint"]), chain_body(sub["chain"]))
                except (OSError, http.client.HTTPException) as e:
                    if not self.stop.is_set():
                        with self.lock:
                            self.errors.append("%s: %r before the kill" % (self.log.name, e))
                    return
                if status != 200:
                    with self.lock:
                        self.errors.append("%s: status %d: %r" % (self.log.name, status, body[:200]))
                    return
                leaf_index(json.loads(body))
                with self.lock:
                    self.answers.append((sub, body))
        finally:
            client.close()


def check_no_leftovers(dirs, iteration):
    """No temporary file outlives the start: one seen now must be a write in flight, gone a moment later."""
    seen = temporaries(*dirs)
    if seen:
        time.sleep(0.5)
    stuck = [path for path in seen if os.path.exists(path)]
    check(not stuck, "iteration %d: temporary files left after the restart: %s" % (iteration, ", ".join(stuck)))


class Chains:
    """Distinct submissions read on demand from mkchains --stream (same root for the whole test)."""

    def __init__(self, mkchains, pki):
        self.proc = subprocess.Popen([mkchains, "--stream", pki], stdout=subprocess.PIPE, text=True, bufsize=1 << 16)
        self.lock = threading.Lock()
        self.used = 0

    def next(self):
        with self.lock:
            line = self.proc.stdout.readline()
            self.used += 1
        check(line, "mkchains --stream ended")
        return json.loads(line)

    def close(self):
        self.proc.stdout.close()
        self.proc.kill()
        self.proc.wait()


def test(args, workdir):
    long_mode = os.environ.get("FARO_LONG") == "1"
    iterations = int(os.environ.get("FARO_CRASH_ITERATIONS", 200 if long_mode else 20))
    threads = max(2, round(8 * scale()))
    pki = os.path.join(workdir, "pki")
    os.makedirs(pki)
    chains = Chains(args["mkchains"], pki)
    roots = os.path.join(pki, "root.pem")
    try:
        chains.next()  # root.pem is written before the first line
        logs = [Log(workdir, name, args["keygen"], sequence_interval="25ms") for name in ("crash-a", "crash-b")]
        template = os.path.join(workdir, "faro.yaml.in")
        write_config(template, os.path.join(workdir, "state", "lock.db"), logs, roots)
        writer = Writer(args["writer"], workdir, template)
        records = {l.name: [] for l in logs}
        max_index = {l.name: -1 for l in logs}
        sizes = {l.name: 0 for l in logs}
        replays = swept = 0
        started = time.monotonic()

        writer.start(create_missing=True)
        for i in range(iterations):
            loads = [Load(writer, l, chains, threads) for l in logs]
            for load in loads:
                load.start()
            time.sleep(random.uniform(0.3, 1.5))  # the load runs; the kill lands at a random point of a round
            for load in loads:
                load.stop.set()
            writer.kill()
            for load in loads:
                load.join()
                check(not load.errors, "iteration %d: %s" % (i, "; ".join(load.errors[:5])))
                for sub, body in load.answers:
                    records[load.log.name].append(sct_record(sub, body))
                    max_index[load.log.name] = max(max_index[load.log.name], leaf_index(json.loads(body)))

            writer.start()  # no --create-missing: recovery must need no help
            replays += writer.stderr().count("replaying the staged bundle")
            swept += sum(int(n) for n in re.findall(r"(\d+) leftover temporary files removed", writer.stderr()))
            check_no_leftovers([os.path.join(workdir, "data"), os.path.join(workdir, "state")], i)
            for l in logs:
                size = l.checkpoint()[0]
                check(size >= sizes[l.name], "iteration %d: %s shrank from %d to %d" % (i, l.name, sizes[l.name], size))
                check(size > max_index[l.name], "iteration %d: %s restarted at size %d, but leaf_index %d was acknowledged" %
                      (i, l.name, size, max_index[l.name]))
                sizes[l.name] = size
            answered = sum(len(load.answers) for load in loads)
            log("iteration %d: %d SCTs before the kill; restarted at sizes %s" %
                (i + 1, answered, ", ".join(str(sizes[l.name]) for l in logs)))
        writer.stop()
        elapsed = time.monotonic() - started
    finally:
        chains.close()

    total = sum(len(r) for r in records.values())
    check(total > 0, "no SCT was acknowledged in %d iterations" % iterations)
    log("%d kills in %.1f s: %d SCTs acknowledged, %d restarts replayed a staged bundle, %d leftover temporary files swept" %
        (iterations, elapsed, total, replays, swept))
    for l in logs:
        log(run_ctcheck(args["ctcheck"], l, roots, records[l.name], workdir, min_size=sizes[l.name]))


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:]))

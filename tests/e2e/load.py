#!/usr/bin/env python3
"""Load beyond the limits, with both daemons running on loopback.

1. An anonymous flood at 10x gateway.rate_limits.anonymous_rps while an
   identified monitor fetches tiles: the monitor never sees a 429 and its p99
   latency stays within 2x of the same fetches on an idle gateway, measured before
   and after the flood (with a 5 ms floor: below that the measurement is the
   test's own noise on a shared machine); the flood is
   refused beyond what the limit admits; the heavy-hitter table counts it.
2. Submissions at 2x the pool's capacity, in waves: the excess gets 503 with
   Retry-After, every accepted one a valid SCT (ctcheck verifies each against
   the tree), and the writer's memory does not grow from wave to wave.

FARO_LONG=1 runs longer floods and more waves.

Usage: load.py --writer BIN --gateway BIN --keygen BIN --mkchains BIN --ctcheck BIN
"""

import concurrent.futures
import json
import os
import subprocess
import sys
import threading
import time

from e2elib import (Client, Gateway, Log, Writer, chain_body, check, log, main, run_ctcheck, sct_record, wait_until,
                    write_config)

LONG = os.environ.get("FARO_LONG") == "1"
ANONYMOUS_RPS = 20
FLOOD_SECONDS = 20 if LONG else 5
POOL = 40
WAVES = 20 if LONG else 5
IDENTIFIED = "faro-load-monitor/1.0 (+https://monitor.test/contact)"
FLOOD_UA = "python-flood/1.0"


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def monitor_run(port, paths, seconds):
    """Fetches paths round robin for seconds on one connection: (latencies, statuses)."""
    client = Client(port)
    latencies, statuses = [], []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        status, _, _ = client.request("GET", paths[i % len(paths)], headers={"User-Agent": IDENTIFIED})
        latencies.append(time.perf_counter() - started)
        statuses.append(status)
        i += 1
        time.sleep(0.002)
    client.close()
    return latencies, statuses


def flood(port, rps, seconds, results):
    """Anonymous requests paced at rps from four connections: the statuses."""
    statuses = []
    lock = threading.Lock()

    def one_connection(rate):
        client = Client(port)
        interval = 1.0 / rate
        deadline = time.monotonic() + seconds
        next_at = time.monotonic()
        while time.monotonic() < deadline:
            status, _, _ = client.request("GET", "/l/tile/0/000", headers={"User-Agent": FLOOD_UA})
            with lock:
                statuses.append(status)
            next_at += interval
            time.sleep(max(0, next_at - time.monotonic()))
        client.close()

    threads = [threading.Thread(target=one_connection, args=(rps / 4,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results["flood"] = statuses


def check_flood(gateway):
    paths = ["/l/tile/0/000", "/l/tile/data/000", "/l/checkpoint"]
    idle, statuses = monitor_run(gateway.port, paths, FLOOD_SECONDS)
    check(all(s == 200 for s in statuses), "idle monitor: %r" % set(statuses))
    results = {}
    flooder = threading.Thread(target=flood, args=(gateway.port, 10 * ANONYMOUS_RPS, FLOOD_SECONDS, results))
    flooder.start()
    busy, statuses = monitor_run(gateway.port, paths, FLOOD_SECONDS)
    flooder.join()
    check(all(s == 200 for s in statuses), "the identified monitor got %r during the flood" % sorted(set(statuses)))
    # Idle again after the flood: other tests share the machine, so the idle baseline is the slower of the two.
    after, _ = monitor_run(gateway.port, paths, FLOOD_SECONDS)
    idle_p99, busy_p99 = max(percentile(idle, 0.99), percentile(after, 0.99)), percentile(busy, 0.99)
    check(busy_p99 <= max(2 * idle_p99, 0.005),
          "monitor p99 %.2f ms under the flood, %.2f ms idle" % (busy_p99 * 1000, idle_p99 * 1000))
    refused = sum(1 for s in results["flood"] if s == 429)
    sent = len(results["flood"])
    # GCRA admits rps * seconds + burst; everything else must be refused.
    check(refused >= sent - (ANONYMOUS_RPS * FLOOD_SECONDS + 10) - 5,
          "flood: %d of %d refused, more admitted than the limit allows" % (refused, sent))
    admin = gateway.admin_connection()
    status, _, body = admin.request("GET", "/heavy-hitters.json")
    admin.close()
    entries = {e["value"]: e for e in json.loads(body)["user_agents"]["entries"]}
    check(FLOOD_UA in entries and entries[FLOOD_UA]["count"] >= sent,
          "heavy hitters do not count the flood's %d requests: %r" % (sent, entries.get(FLOOD_UA)))
    log("flood: %d anonymous requests at %d/s, %d refused; monitor %d requests, all 200, p99 %.2f ms (idle %.2f ms); "
        "heavy hitters count %r %d times" % (sent, 10 * ANONYMOUS_RPS, refused, len(busy), busy_p99 * 1000,
                                           idle_p99 * 1000, FLOOD_UA, entries[FLOOD_UA]["count"]))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def check_pool(writer, log_, chains, roots, workdir, ctcheck):
    records, rss = [], []
    total_unavailable = 0
    per_wave = 2 * POOL
    for wave in range(WAVES):
        batch = chains[wave * per_wave:(wave + 1) * per_wave]

        def submit(sub):
            client = writer.connection()
            status, headers, body = client.request("POST", log_.path(sub["endpoint"]), chain_body(sub["chain"]))
            client.close()
            return sub, status, headers, body

        with concurrent.futures.ThreadPoolExecutor(per_wave) as pool:
            results = list(pool.map(submit, batch))
        accepted = [(sub, body) for sub, status, _, body in results if status == 200]
        unavailable = [(status, headers) for _, status, headers, _ in results if status == 503]
        check(len(accepted) + len(unavailable) == len(batch),
              "wave %d: statuses %r" % (wave, sorted(set(r[1] for r in results))))
        check(len(unavailable) > 0, "wave %d: 2x the pool and nothing refused" % wave)
        check(all(int(h.get("retry-after", "0")) >= 1 for _, h in unavailable), "503 without Retry-After")
        records += [sct_record(sub, body) for sub, body in accepted]
        total_unavailable += len(unavailable)
        rss.append(rss_kb(writer.proc.pid))
    wait_until(lambda: log_.checkpoint()[0] == len(records), 30, "the tree to hold every accepted entry")
    summary = run_ctcheck(ctcheck, log_, roots, records, workdir, min_size=len(records))
    growth = rss[-1] - rss[0]
    check(growth < 8 * 1024, "writer RSS grew %d KiB over %d waves: %r" % (growth, WAVES, rss))
    log("pool: %d waves of %d submissions to a pool of %d: %d accepted with valid SCTs, %d 503 + Retry-After; "
        "writer RSS %d -> %d KiB; %s" % (WAVES, per_wave, POOL, len(records), total_unavailable, rss[0], rss[-1], summary))


def test(args, workdir):
    # In the sanitized build, ASan's quarantine holds freed memory back on purpose (256 MiB by default), which would
    # read as growth; a small one keeps RSS a measure of what the writer holds.
    if "ASAN_OPTIONS" in os.environ:
        os.environ["ASAN_OPTIONS"] += ":quarantine_size_mb=1:thread_local_quarantine_size_kb=64"
    pki = os.path.join(workdir, "pki")
    os.makedirs(pki)
    subprocess.run([args["mkchains"], pki, str(2 * POOL * WAVES + 300), "0"], check=True)
    roots = os.path.join(pki, "root.pem")
    with open(os.path.join(pki, "chains.jsonl")) as f:
        chains = [json.loads(line) for line in f]
    log_ = Log(workdir, "l", args["keygen"], sequence_interval="100ms")
    # A long interval for the pool's log: each wave lands inside one round, so the pool's limit is what answers.
    pool_log = Log(workdir, "p", args["keygen"], sequence_interval="5s", pool_size=POOL)
    template = os.path.join(workdir, "faro.yaml.in")
    write_config(template, os.path.join(workdir, "state", "lock.db"), [log_, pool_log], roots)
    writer = Writer(args["writer"], workdir, template)
    writer.start(create_missing=True)

    # A tree with full tiles for the monitor to read.
    fill = chains[-300:]

    def submit(sub):
        client = writer.connection()
        status, _, _ = client.request("POST", log_.path(sub["endpoint"]), chain_body(sub["chain"]))
        client.close()
        return status

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(submit, fill))
    check(all(s == 200 for s in statuses), "filling the tree: %r" % sorted(set(statuses)))
    gateway = Gateway(args["gateway"], workdir, template, writer=writer,
                      settings={"rate_limits": {"anonymous_rps": ANONYMOUS_RPS, "anonymous_burst": 10}})
    gateway.start()
    wait_until(lambda: log_.checkpoint()[0] >= 300, 30, "the first 300 entries")
    check_flood(gateway)
    check_pool(writer, pool_log, chains, roots, workdir, args["ctcheck"])
    gateway.stop()
    writer.stop()


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:]))

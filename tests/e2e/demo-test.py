#!/usr/bin/env python3
"""The README's first command, tested: scripts/demo in a temporary folder.

Runs scripts/demo with FARO_DEMO_DIR in a fresh temporary folder and free
ports, then checks what it printed: the page loads and names the log, the
checkpoint verifies (ctcheck: both signatures and every tile, against the
public key the demo printed), /health is 200, the metrics answer, the three
sample certificates are in the tree. Runs it a second time (it must reuse
what exists, keep the daemons running and grow the tree), then stops the log
with --stop and checks both daemons are gone.

Usage: demo-test.py --writer BIN --gateway BIN --keygen BIN --mkchains BIN --ctcheck BIN
(only --ctcheck is used: the demo builds and runs its own binaries from build/).
"""

import os
import re
import subprocess
import sys
import urllib.request

from e2elib import Failure, check, free_port_block, log, main, run_ctcheck

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class DemoLog:
    """What run_ctcheck needs to know of the demo's log."""

    def __init__(self, demo, origin, pubkey):
        self.name = "testlog"
        self.storage = os.path.join(demo, "data", "testlog")
        self.origin = origin
        self.pubkey = pubkey


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read().decode()


def run_demo(demo, port, *args):
    env = dict(os.environ, FARO_DEMO_DIR=demo, FARO_DEMO_PORT=str(port))
    # The demo's daemons are its own, not the sanitized build's: no sanitizer environment.
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        env.pop(name, None)
    result = subprocess.run([os.path.join(ROOT, "scripts", "demo")] + list(args), env=env, capture_output=True, text=True,
                            timeout=900)
    check(result.returncode == 0, "scripts/demo %s exited %d:\n%s%s" % (" ".join(args), result.returncode, result.stdout,
                                                                      result.stderr[-3000:]))
    return result.stdout


def check_printed(out, demo, workdir, ctcheck, want_size):
    urls = dict(re.findall(r"^  (page|checkpoint|health): +(\S+)", out, re.M))
    check(set(urls) == {"page", "checkpoint", "health"}, "the demo printed no URLs for %r:\n%s" % (urls, out))
    status, page = get(urls["page"])
    check(status == 200 and "<h1>testlog</h1>" in page, "page: %d" % status)
    origin = re.search(r"^  origin: (\S+)", out, re.M).group(1)
    log_id = re.search(r"^  log ID: (\S+)", out, re.M).group(1)
    check(origin in page and log_id in page, "the page lacks the origin or log ID the demo printed")
    status, text = get(urls["health"])
    check(status == 200 and "testlog: OK" in text, "health: %d %r" % (status, text))
    status, checkpoint = get(urls["checkpoint"])
    size = int(checkpoint.split("\n")[1])
    check(status == 200 and size >= want_size, "checkpoint: status %d, size %d, want >= %d" % (status, size, want_size))
    with open(os.path.join(demo, "identity.txt")) as f:
        pem = re.search(r"-----BEGIN PUBLIC KEY-----\n.*?-----END PUBLIC KEY-----\n", f.read(), re.S).group(0)
    pubkey = os.path.join(workdir, "demo.pub.pem")
    with open(pubkey, "w") as f:
        f.write(pem)
    summary = run_ctcheck(ctcheck, DemoLog(demo, origin, pubkey), os.path.join(demo, "pki", "root.pem"), [], workdir)
    return size, summary


def test(args, workdir):
    demo = os.path.join(workdir, "demo")
    port = free_port_block(3)
    out = run_demo(demo, port)
    size, summary = check_printed(out, demo, workdir, args["ctcheck"], 3)
    log("first run: page, health and checkpoint answer; tree size %d; ctcheck: %s" % (size, summary))
    out = run_demo(demo, port)
    check("already running" in out, "the second run did not reuse the running daemons:\n%s" % out)
    size2, summary = check_printed(out, demo, workdir, args["ctcheck"], size + 3)
    log("second run: reused the running log; tree size %d; ctcheck: %s" % (size2, summary))
    pids = [os.path.join(demo, name + ".pid") for name in ("writer", "gateway")]
    run_demo(demo, port, "--stop")
    for path in pids:
        check(not os.path.exists(path), "--stop left %s" % path)
    try:
        get("http://127.0.0.1:%d/health" % (port + 1))
        raise Failure("the gateway still answers after --stop")
    except OSError:
        pass
    log("--stop: both daemons gone")


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:]))

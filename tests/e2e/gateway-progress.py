#!/usr/bin/env python3
"""faro-gateway reports building its leaf index in its event log.

gentree (tests/bench) writes a tree of ENTRIES entries, more than one
indexing batch, signed with faro-keygen's keys; faro-gateway starts on it
with no index. Its stderr must announce the backlog and its end with the
right counts (the lines in between depend on the machine's speed, so only
their form is checked), and /metrics must show the whole tree indexed. A
restart finds the index complete and says nothing about it.

Usage: gateway-progress.py --gateway BIN --keygen BIN --gentree BIN
"""

import os
import re
import subprocess
import sys

from e2elib import Gateway, Log, check, log, main, metric_sum, wait_until

ENTRIES = 50000  # three batches of 16,384 leaves and part of a fourth
LINE = re.compile(r"^\S+ info progress: leaf index: (.*)$", re.M)


def index_lines(gateway):
    return LINE.findall(gateway.stderr())


def indexed(gateway):
    return metric_sum(gateway.metrics_text(), "faro_gateway_leaf_index_leaves", log="progress")


def test(args, workdir):
    log_ = Log(workdir, "progress", args["keygen"])
    subprocess.run([args["gentree"], log_.storage, str(ENTRIES), log_.origin, log_.key, log_.ed25519_key], check=True,
                   stdout=subprocess.DEVNULL)
    template = os.path.join(workdir, "faro.yaml.in")
    with open(template, "w") as f:
        f.write("logs:\n" + log_.yaml(os.path.join(log_.storage, "roots.pem")))
    gateway = Gateway(args["gateway"], workdir, template)
    gateway.start()
    wait_until(lambda: indexed(gateway) == ENTRIES, 300, "the leaf index to reach %d leaves" % ENTRIES, interval=0.2)
    wait_until(lambda: any(l.startswith("finished") for l in index_lines(gateway)), 10, "the leaf index's finish line")
    lines = index_lines(gateway)
    check(lines[0] == "%d leaves to do, from 0" % ENTRIES, "the first leaf index line is %r" % lines[0])
    finish = re.fullmatch(r"finished at (\d+) leaves: (\d+) in ([0-9.]+) s(, \d+ leaves/s)?", lines[-1])
    check(finish is not None and finish.group(1) == finish.group(2) == str(ENTRIES),
          "the last leaf index line is %r" % lines[-1])
    between = re.compile(r"\d+ of %d leaves \(\d+%%\), \d+ leaves/s, (about [0-9.]+ (s|min|h) left|time left unknown)" % ENTRIES)
    for line in lines[1:-1]:
        check(between.fullmatch(line) is not None, "a leaf index progress line reads %r" % line)
    gateway.stop()

    gateway.start()
    wait_until(lambda: indexed(gateway) == ENTRIES, 60, "the reopened index to be checked")
    gateway.stop()
    check(index_lines(gateway) == [], "a complete index still logged %r" % index_lines(gateway))
    log("leaf index of %d leaves: announced, %d progress lines, finished in %s s; silent on restart" %
        (ENTRIES, len(lines) - 2, finish.group(3)))


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:], required=("gateway", "keygen", "gentree")))

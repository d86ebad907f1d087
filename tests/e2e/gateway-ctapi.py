#!/usr/bin/env python3
"""End-to-end test of faro-gateway's RFC 6962 read API over a tree the real faro-writer produced.

On loopback, with both daemons running:
  - get-sth is the latest checkpoint (size, root, timestamp, the RFC 6962 note
    signature's digitally-signed struct) and verifies with the log's key (Go);
  - get-roots is byte for byte the writer's get-roots;
  - get-entries returns every entry, at most one data tile per request: each
    leaf_input hashes to its level-0 tile entry and holds the submitted
    certificate, each extra_data the submitted chain (completed with the root);
  - get-sth-consistency, get-proof-by-hash and get-entry-and-proof proofs
    verify with faro's tlog (faro-tlog-tool check-proofs) and with Go's x/mod
    tlog (proofcheck), and corrupted copies fail in both;
  - every bad parameter is a one-line 400 (with CORS, never cacheable); an
    unknown hash 404; rate limits and metrics count the API like tiles;
  - the leaf index: while it is held back, a proof for a tree size past it is
    a 400 that says so, and it catches up; it survives a restart, and is
    rebuilt when its recorded root does not match storage;
  - data tiles stored uncompressed (as faro wrote them before it gzipped them)
    give the same get-entries bytes.

Usage: gateway-ctapi.py --writer BIN --gateway BIN --keygen BIN --mkchains BIN --ctcheck BIN
                        --tlog-tool BIN --proofcheck BIN
"""

import base64
import gzip
import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

from e2elib import (DAEMON_TEST_ARGS, Client, Gateway, check, log, main, metric_sum, metrics_after, start_log, submit_all,
                    wait_until)

CERTS, PRECERTS, LATER = 600, 100, 20  # 700 entries: two full data tiles and a partial one; 20 more later
IDENTIFIED = "faro-e2e-ctapi/1.0 (+mailto:ops@monitor.test)"
IMMUTABLE = "public, max-age=604800, immutable"


def sha256(data):
    return hashlib.sha256(data).digest()


def b64(data):
    return base64.b64encode(data).decode()


def node(left, right):
    return sha256(b"\x01" + left + right)


def mth(leaves):
    """RFC 6962 Merkle tree hash of a list of leaf hashes, straight from the definition."""
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


class Api:
    """GETs under the log's /ct/v1/ on one keep-alive connection."""

    def __init__(self, gateway, user_agent=IDENTIFIED):
        self.client = Client(gateway.port)
        self.user_agent = user_agent

    def get(self, endpoint, method="GET"):
        return self.client.request(method, "/ct/ct/v1/" + endpoint, headers={"User-Agent": self.user_agent})

    def json(self, endpoint, cache_control=IMMUTABLE):
        status, headers, body = self.get(endpoint)
        check(status == 200, "%s: status %d: %r" % (endpoint, status, body[:300]))
        check(headers.get("content-type") == "application/json", "%s: content-type %r" % (endpoint, headers))
        check(headers.get("access-control-allow-origin") == "*", "%s: no CORS" % endpoint)
        check(headers.get("cache-control") == cache_control, "%s: cache-control %r" % (endpoint, headers.get("cache-control")))
        return json.loads(body)

    def close(self):
        self.client.close()


class Verifiers:
    """faro-tlog-tool check-proofs and Go's proofcheck, fed the same lines; both must agree with the expectation."""

    def __init__(self, args, pubkey):
        self.tools = [("faro tlog", [args["tlog-tool"], "check-proofs"]),
                      ("Go x/mod", [args["proofcheck"], "-pubkey", pubkey])]
        self.lines, self.want = [], []

    def add(self, line, ok=True):
        self.lines.append(line)
        self.want.append(ok)

    def proof(self, kind, a, size, first, second, proof):
        """A proof that must verify, and a corrupted copy that must not."""
        hashes = [base64.b64decode(h) for h in proof]
        words = [kind, str(a), str(size), b64(first), b64(second)]
        self.add(" ".join(words + [b64(h) for h in hashes]))
        if hashes:
            bad = list(hashes)
            i = random.randrange(len(bad))
            bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        else:
            bad = [sha256(b"extra")]
        self.add(" ".join(words + [b64(h) for h in bad]), ok=False)

    def run(self):
        for name, argv in self.tools:
            # faro-tlog-tool checks proofs only; proofcheck also checks the tree head.
            cases = [(l, w) for l, w in zip(self.lines, self.want) if name != "faro tlog" or not l.startswith("sth ")]
            result = subprocess.run(argv, input="".join(l + "\n" for l, _ in cases), capture_output=True, text=True)
            check(result.returncode == 0, "%s: exit %d: %s" % (name, result.returncode, result.stderr))
            verdicts = result.stdout.splitlines()
            check(len(verdicts) == len(cases), "%s: %d verdicts for %d lines" % (name, len(verdicts), len(cases)))
            for (line, want), verdict in zip(cases, verdicts):
                check((verdict == "ok") == want, "%s: %r on %s %r" % (name, verdict, "good" if want else "corrupted", line[:160]))
        return sum(1 for l, w in zip(self.lines, self.want) if w and not l.startswith("sth "))


def read_u(data, pos, n):
    return int.from_bytes(data[pos:pos + n], "big"), pos + n


def read_vec(data, pos, n):
    length, pos = read_u(data, pos, n)
    check(pos + length <= len(data), "vector of %d bytes overruns %d" % (length, len(data)))
    return data[pos:pos + length], pos + length


def parse_entry(leaf_input, extra_data, index):
    """(end-entity DER or precertificate DER, chain DERs) of one get-entries entry, checking its layout."""
    check(leaf_input[:2] == b"\x00\x00", "entry %d: leaf_input is not a v1 timestamped_entry" % index)
    entry_type, pos = read_u(leaf_input, 10, 2)
    if entry_type == 0:
        leaf, pos = read_vec(leaf_input, pos, 3)
    else:
        check(entry_type == 1, "entry %d: entry_type %d" % (index, entry_type))
        _, pos = read_vec(leaf_input, pos + 32, 3)
    ext, pos = read_vec(leaf_input, pos, 2)
    check(pos == len(leaf_input), "entry %d: %d trailing bytes in leaf_input" % (index, len(leaf_input) - pos))
    check(ext == b"\x00\x00\x05" + index.to_bytes(5, "big"), "entry %d: extensions %s" % (index, ext.hex()))
    pos = 0
    if entry_type == 1:
        leaf, pos = read_vec(extra_data, 0, 3)
    chain_bytes, pos = read_vec(extra_data, pos, 3)
    check(pos == len(extra_data), "entry %d: trailing bytes in extra_data" % index)
    chain, p = [], 0
    while p < len(chain_bytes):
        cert, p = read_vec(chain_bytes, p, 3)
        chain.append(cert)
    return leaf, chain


def storage_leaf_hashes(log_, size):
    """The level-0 hashes of the first size leaves, read from the hash tiles in storage."""
    hashes = []
    for n in range((size + 255) // 256):
        width = min(256, size - n * 256)
        name = "%03d" % n if width == 256 else "%03d.p/%d" % (n, width)
        with open(os.path.join(log_.storage, "tile", "0", name), "rb") as f:
            data = f.read()
        hashes += [data[i:i + 32] for i in range(0, width * 32, 32)]
    return hashes


def check_sth(api, log_, verifiers):
    status, headers, body = api.get("get-sth", "HEAD")
    check(status == 200 and body == b"" and headers.get("cache-control") == "no-store", "HEAD get-sth: %d %r" % (status, headers))
    sth = api.json("get-sth", "no-store")
    size, root, note = log_.checkpoint()
    check(sth["tree_size"] == size and sth["sha256_root_hash"] == root, "get-sth %r is not the checkpoint %d %s" % (sth, size, root))
    # The note's RFC 6962 line: key ID (4), timestamp (8), then the digitally-signed struct get-sth carries.
    signatures = [base64.b64decode(l.rsplit(" ", 1)[1]) for l in note.decode().split("\n") if l.startswith("\u2014 " + log_.origin + " ")]
    rfc6962 = [s for s in signatures if len(s) > 12 and s[12:14] == b"\x04\x03"]
    check(len(rfc6962) == 1, "checkpoint has %d RFC 6962 signatures" % len(rfc6962))
    check(int.from_bytes(rfc6962[0][4:12], "big") == sth["timestamp"], "get-sth timestamp is not the note signature's")
    check(base64.b64decode(sth["tree_head_signature"]) == rfc6962[0][12:], "tree_head_signature is not the note's")
    verifiers.add("sth %d %d %s %s" % (sth["tree_size"], sth["timestamp"], sth["sha256_root_hash"], sth["tree_head_signature"]))
    forged = "sth %d %d %s %s" % (sth["tree_size"] + 1, sth["timestamp"], sth["sha256_root_hash"], sth["tree_head_signature"])
    verifiers.add(forged, ok=False)
    log("get-sth: tree size %d, the checkpoint's root, timestamp and signature" % size)
    return sth


def check_roots(api, writer, log_):
    roots = api.json("get-roots", "public, max-age=60")
    client = writer.connection()
    status, _, body = client.request("GET", log_.path("get-roots"))
    client.close()
    check(status == 200 and json.loads(body) == roots, "gateway get-roots %r differs from the writer's" % roots)
    check(len(roots["certificates"]) == 1, "get-roots: %d certificates" % len(roots["certificates"]))
    log("get-roots: the writer's roots, %d certificate" % len(roots["certificates"]))
    return base64.b64decode(roots["certificates"][0])


def check_entries(api, log_, size, submissions, root_der):
    """Every entry through get-entries, as a monitor asks for them (1000 at a time); returns the leaf hashes."""
    hashes = storage_leaf_hashes(log_, size)
    leaves, start, requests = [], 0, 0
    while start < size:
        end = min(start + 999, size - 1)
        entries = api.json("get-entries?start=%d&end=%d" % (start, end))["entries"]
        requests += 1
        want = min(end, start | 255) - start + 1
        check(len(entries) == want, "get-entries %d..%d: %d entries, want %d" % (start, end, len(entries), want))
        for i, e in enumerate(entries, start):
            leaf_input, extra = base64.b64decode(e["leaf_input"]), base64.b64decode(e["extra_data"])
            check(sha256(b"\x00" + leaf_input) == hashes[i], "entry %d does not hash to its level-0 tile entry" % i)
            leaf, chain = parse_entry(leaf_input, extra, i)
            sub = submissions.get(leaf)
            check(sub is not None, "entry %d holds no submitted certificate" % i)
            expect = [base64.b64decode(c) for c in sub["chain"][1:]]
            if expect[-1] != root_der:
                expect.append(root_der)
            check(chain == expect, "entry %d: extra_data chain of %d certificates is not the submitted chain" % (i, len(chain)))
            leaves.append(leaf_input)
        start += len(entries)
    check(len(set(leaves)) == size, "get-entries returned duplicate entries")
    # Unaligned and edge ranges.
    for s, e, n in ((250, 300, 6), (0, 0, 1), (size - 3, size - 1, 3), (256, 256 + 255, 256), (511, 700, 1)):
        entries = api.json("get-entries?start=%d&end=%d" % (s, min(e, size - 1)))["entries"]
        check(len(entries) == n and base64.b64decode(entries[0]["leaf_input"]) == leaves[s], "get-entries %d..%d" % (s, e))
    log("get-entries: %d entries in %d requests, each hashing to storage's tile and carrying its submitted chain" % (size, requests))
    return hashes


def check_proofs(api, size, hashes, verifiers):
    sizes = sorted({1, 2, 255, 256, 257, 511, 512, size - 1, size} | {random.randrange(1, size) for _ in range(20)})
    consistency = [(m, n) for n in (size, 513, 300) for m in sizes if 1 <= m <= n] + [(0, size), (size, size)]
    for m, n in consistency:
        proof = api.json("get-sth-consistency?first=%d&second=%d" % (m, n))["consistency"]
        if m in (0, n):
            check(proof == [], "consistency %d..%d: %d hashes, want none" % (m, n, len(proof)))
            continue
        verifiers.proof("consistency", m, n, mth(hashes[:m]), mth(hashes[:n]), proof)
    samples = sorted({0, 1, 255, 256, size - 1} | set(range(3, size, 37)))
    by_hash = 0
    for i in samples:
        for n in sorted({size, i + 1, min(size, i + 300)}):
            root = mth(hashes[:n])
            got = api.json("get-proof-by-hash?hash=%s&tree_size=%d" % (urllib.parse.quote(b64(hashes[i]), safe=""), n))
            check(got["leaf_index"] == i, "get-proof-by-hash for leaf %d says %d" % (i, got["leaf_index"]))
            verifiers.proof("inclusion", i, n, hashes[i], root, got["audit_path"])
            by_hash += 1
        got = api.json("get-entry-and-proof?leaf_index=%d&tree_size=%d" % (i, size))
        check(sha256(b"\x00" + base64.b64decode(got["leaf_input"])) == hashes[i], "get-entry-and-proof %d: leaf_input" % i)
        check(len(base64.b64decode(got["extra_data"])) > 3, "get-entry-and-proof %d: no extra_data" % i)
        verifiers.proof("inclusion", i, size, hashes[i], mth(hashes), got["audit_path"])
    # A raw '+' and '/' in the query are taken as base64, not as a space.
    raw = next(i for i in range(size) if "+" in b64(hashes[i]))
    got = api.json("get-proof-by-hash?hash=%s&tree_size=%d" % (b64(hashes[raw]), size))
    check(got["leaf_index"] == raw, "get-proof-by-hash with a raw '+' in the hash")
    log("proofs: %d consistency, %d by hash, %d entry-and-proof answered" % (len(consistency), by_hash, len(samples)))


def check_errors(api, size, hashes):
    """Every bad parameter is a one-line 400 naming it; an unknown hash 404; unknown endpoints 404."""
    good = urllib.parse.quote(b64(hashes[0]), safe="")
    cases = [
        ("get-entries", "missing parameter \"start\""),
        ("get-entries?start=1", "missing parameter \"end\""),
        ("get-entries?start=a&end=1", "\"start\" must be a whole number"),
        ("get-entries?start=-1&end=1", "\"start\" must be a whole number"),
        ("get-entries?start=1&end=+2", "\"end\" must be a whole number"),
        ("get-entries?start=5&end=4", "start (5) is after end (4)"),
        ("get-entries?start=0&end=%d" % size, "end (%d) is beyond the tree" % size),
        ("get-entries?start=%d&end=%d" % (size, size + 5), "is beyond the tree"),
        ("get-entries?start=1&start=2&end=3", "\"start\" is given more than once"),
        ("get-entries?start=99999999999999999999&end=1", "\"start\" must be a whole number"),
        ("get-entries?start=%zz&end=1", "\"start\" has a malformed percent-encoding"),
        ("get-entries?start=1&end=1" + "1" * 70, "\"end\" is too long"),
        ("get-sth-consistency?first=2&second=1", "first (2) is larger than second (1)"),
        ("get-sth-consistency?first=1&second=%d" % (size + 1), "second (%d) is larger than the tree size" % (size + 1)),
        ("get-sth-consistency?first=1", "missing parameter \"second\""),
        ("get-proof-by-hash?tree_size=1", "missing parameter \"hash\""),
        ("get-proof-by-hash?hash=notbase64&tree_size=1", "\"hash\" must be the base64 of a 32-byte leaf hash"),
        ("get-proof-by-hash?hash=%s&tree_size=1" % urllib.parse.quote(b64(b"x" * 31), safe=""), "32-byte leaf hash"),
        ("get-proof-by-hash?hash=%s&tree_size=0" % good, "tree_size (0) must be from 1"),
        ("get-proof-by-hash?hash=%s&tree_size=%d" % (good, size + 1), "tree_size (%d) must be from 1" % (size + 1)),
        ("get-entry-and-proof?leaf_index=%d&tree_size=%d" % (size, size), "leaf_index (%d) is not below tree_size" % size),
        ("get-entry-and-proof?leaf_index=0&tree_size=%d" % (size + 1), "must be from 1 to the tree size"),
        ("get-entry-and-proof?leaf_index=0", "missing parameter \"tree_size\""),
    ]
    for query, message in cases:
        status, headers, body = api.get(query)
        check(status == 400, "%s: status %d, want 400: %r" % (query, status, body[:200]))
        text = body.decode()
        check(message in text and text.endswith("\n") and text.count("\n") == 1, "%s: body %r lacks %r" % (query, text, message))
        check(headers.get("content-type") == "text/plain; charset=utf-8" and headers.get("cache-control") == "no-store" and
              headers.get("access-control-allow-origin") == "*", "%s: 400 headers %r" % (query, headers))
    unknown = urllib.parse.quote(b64(sha256(b"not a leaf")), safe="")
    status, _, body = api.get("get-proof-by-hash?hash=%s&tree_size=%d" % (unknown, size))
    check(status == 404 and b"no leaf has this hash" in body, "unknown hash: %d %r" % (status, body))
    for endpoint in ("get-sth/", "get-foo", "add-chain", "get-entries/x", "Get-sth"):
        status, _, _ = api.get(endpoint)
        check(status == 404, "%s: status %d, want 404" % (endpoint, status))
    status, headers, _ = api.client.request("POST", "/ct/ct/v1/get-sth", body=b"{}")
    check(status == 405 and "GET" in headers.get("allow", ""), "POST get-sth: %d" % status)
    log("errors: %d bad parameters answered 400 with their message; unknown hash 404; unknown endpoints 404" % len(cases))


def fetch_many(port, path, user_agent, count, results, key):
    client = Client(port)
    results[key] = [client.request("GET", path, headers={"User-Agent": user_agent})[0] for _ in range(count)]
    client.close()


def check_rate_limits_and_metrics(gateway, size):
    before = gateway.metrics_text()
    results = {}
    threads = [threading.Thread(target=fetch_many, args=(gateway.port, "/ct/ct/v1/get-entries?start=0&end=9", ua, 150, results, ua))
               for ua in ("curl/8.0", IDENTIFIED)]
    threads.append(threading.Thread(target=fetch_many, args=(gateway.port, "/ct/ct/v1/get-sth", "curl/8.0", 50, results, "sth")))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    limited = results["curl/8.0"].count(429)
    check(limited > 50, "anonymous get-entries flood: only %d of 150 refused" % limited)
    check(all(s == 200 for s in results[IDENTIFIED]), "identified get-entries throttled: %s" % sorted(set(results[IDENTIFIED])))
    check(all(s == 200 for s in results["sth"]), "get-sth is rate-limited: %s" % sorted(set(results["sth"])))
    entries = {"log": "ct", "kind": "get_entries"}
    after = metrics_after(gateway.metrics_text, before, [
        ("faro_gateway_requests_total", dict(entries, code="200"), 150 + 150 - limited),
        ("faro_gateway_requests_total", dict(entries, code="429"), limited),
        ("faro_gateway_requests_total", {"log": "ct", "kind": "get_sth", "code": "200"}, 50)])

    def moved(name, **labels):
        return metric_sum(after, name, **labels) - metric_sum(before, name, **labels)

    check(moved("faro_gateway_requests_total", log="ct", kind="get_entries", code="200") == 150 + 150 - limited,
          "get_entries 200s moved by %g, want %d" % (moved("faro_gateway_requests_total", log="ct", kind="get_entries", code="200"),
                                                      150 + 150 - limited))
    check(moved("faro_gateway_requests_total", log="ct", kind="get_entries", code="429") == limited, "get_entries 429s")
    check(moved("faro_gateway_requests_total", log="ct", kind="get_sth", code="200") == 50, "get_sth 200s")
    check(metric_sum(after, "faro_gateway_requests_total", log="ct", kind="get_entries", code="400") > 5, "get_entries 400s")
    check(metric_sum(after, "faro_gateway_requests_total", log="ct", kind="get_proof_by_hash", code="404") >= 1, "404s")
    check(metric_sum(after, "faro_gateway_leaf_index_leaves", log="ct") == size, "leaf index gauge")
    log("rate limits: anonymous get-entries %d/150 refused, identified 150/150 and get-sth 50/50 served; metrics by endpoint" %
        limited)


def indexed(gateway):
    return int(metric_sum(gateway.metrics_text(), "faro_gateway_leaf_index_leaves", log="ct"))


def check_index_lag(api, gateway, writer, log_, later, workdir):
    """Hold the index back with a lock on its file: proofs past it are a 400; it catches up once released."""
    db = sqlite3.connect(os.path.join(workdir, "state", "gateway", "ct.db"), timeout=30)
    db.execute("BEGIN EXCLUSIVE")
    old_size = log_.checkpoint()[0]
    submit_all(writer, log_, later)
    new_size = old_size + len(later)
    wait_until(lambda: api.json("get-sth", "no-store")["tree_size"] == new_size, 30, "get-sth to reach %d" % new_size)
    hashes = storage_leaf_hashes(log_, new_size)
    # Its data tile is a new partial tile: polling it through get-entries is held to the partial-tile limit.
    polls = [api.get("get-entries?start=%d&end=%d" % (new_size - 1, new_size - 1)) for _ in range(30)]
    refused = [p for p in polls if p[0] == 429]
    check(polls[0][0] == 200 and refused and b"partial tile" in refused[0][2], "new partial tile: %d/30 refused" % len(refused))
    time.sleep(2.5)
    new_leaf = urllib.parse.quote(b64(hashes[new_size - 1]), safe="")
    status, _, body = api.get("get-proof-by-hash?hash=%s&tree_size=%d" % (new_leaf, new_size))
    check(status == 400 and b"beyond the %d leaves this gateway has indexed" % old_size in body,
          "a leaf past the index: %d %r" % (status, body))
    old_leaf = urllib.parse.quote(b64(hashes[5]), safe="")
    got = api.json("get-proof-by-hash?hash=%s&tree_size=%d" % (old_leaf, new_size))
    check(got["leaf_index"] == 5, "an indexed leaf in a tree past the index")
    db.rollback()
    db.close()
    wait_until(lambda: indexed(gateway) == new_size, 30, "the index to catch up to %d" % new_size)
    got = api.json("get-proof-by-hash?hash=%s&tree_size=%d" % (new_leaf, new_size))
    check(got["leaf_index"] == new_size - 1, "the newest leaf after the index caught up")
    log("leaf index: held back at %d, a proof at %d is a 400 saying so; caught up once released; "
        "get-entries of the new partial tile %d/30 refused by the partial-tile limit" % (old_size, new_size, len(refused)))
    return new_size


def check_index_restarts(args, workdir, template, writer, log_, size):
    """A restart goes on from the index; an index whose root is not storage's is rebuilt."""
    path = os.path.join(workdir, "state", "gateway", "ct.db")
    for round_, tamper in ((1, False), (2, True)):
        if tamper:
            db = sqlite3.connect(path)
            db.execute("UPDATE progress SET root = zeroblob(32)")
            db.commit()
            db.close()
        db = sqlite3.connect(path)
        stored = db.execute("SELECT size FROM progress").fetchone()[0]
        db.close()
        check(stored == size, "the index file holds %d leaves after a stop, want %d" % (stored, size))
        gateway = Gateway(args["gateway"], workdir, template, writer=writer, settings={"rate_limits": {"anonymous_rps": 0}})
        gateway.start()
        wait_until(lambda: indexed(gateway) == size, 30, "the restarted index to hold %d leaves" % size)
        api = Api(gateway)
        got = api.json("get-proof-by-hash?hash=%s&tree_size=%d" % (
            urllib.parse.quote(b64(storage_leaf_hashes(log_, size)[size - 2]), safe=""), size))
        check(got["leaf_index"] == size - 2, "proof by hash after restart %d" % round_)
        api.close()
        gateway.stop()
        rebuilt = "rebuilding it" in gateway.stderr()
        check(rebuilt == tamper, "restart %d: rebuilt=%s:\n%s" % (round_, rebuilt, gateway.stderr()[-2000:]))
    log("leaf index: a restart goes on from %d leaves; a mismatching root makes it rebuild" % size)


def check_plain_tiles(args, workdir, template, writer, log_, api, size):
    """The same storage with its data tiles inflated (as an older faro stored them) gives the same get-entries bytes."""
    copy = os.path.join(workdir, "data", "ctplain")
    shutil.copytree(log_.storage, copy, symlinks=True)
    inflated = 0
    for dirpath, _, files in os.walk(os.path.join(copy, "tile", "data")):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                raw = f.read()
            check(raw[:2] == b"\x1f\x8b", "%s: the writer did not store it gzipped" % path)
            os.chmod(path, 0o644)
            with open(path, "wb") as f:
                f.write(gzip.decompress(raw))
            inflated += 1
    with open(template) as f:
        text = f.read()
    other = os.path.join(workdir, "plain.yaml.in")
    with open(other, "w") as f:
        f.write(text.replace('storage: "%s"' % log_.storage, 'storage: "%s"' % copy))
    gateway = Gateway(args["gateway"], workdir, other, writer=writer,
                      settings={"index_dir": os.path.join(workdir, "state", "plain"), "rate_limits": {"anonymous_rps": 0}})
    gateway.start()
    plain = Api(gateway)
    for start in (0, 256, 512):
        query = "get-entries?start=%d&end=%d" % (start, size - 1)
        want, got = api.get(query), plain.get(query)
        check(got[0] == 200 and got[2] == want[2], "get-entries %d.. from uncompressed tiles differs" % start)
    plain.close()
    gateway.stop()
    log("data tiles: the writer's %d are gzipped; inflated in storage, they give byte-identical get-entries" % inflated)


def test(args, workdir):
    random.seed(int(os.environ.get("FARO_SEED", "1")))
    writer, log_, template, roots, chains = start_log(args, workdir, "ct", CERTS + LATER, PRECERTS, sequence_interval="100ms",
                                                    checkpoint_republish_interval="1h")
    first, later = chains[:CERTS] + chains[CERTS + LATER:], chains[CERTS:CERTS + LATER]
    submissions = {base64.b64decode(c["chain"][0]): c for c in chains}
    submit_all(writer, log_, first)
    size = CERTS + PRECERTS
    wait_until(lambda: log_.checkpoint()[0] == size, 30, "the tree to reach %d" % size)

    settings = {"threads": 2, "rate_limits": {"anonymous_rps": 20, "anonymous_burst": 5, "partial_tile_rps": 2,
                                              "partial_tile_grace": "2s"}}
    gateway = Gateway(args["gateway"], workdir, template, writer=writer, settings=settings)
    gateway.start()
    wait_until(lambda: indexed(gateway) == size, 30, "the leaf index to reach %d" % size)
    time.sleep(2.5)  # the partial tiles are now older than partial_tile_grace
    api = Api(gateway)
    verifiers = Verifiers(args, log_.pubkey)

    check_sth(api, log_, verifiers)
    root_der = check_roots(api, writer, log_)
    hashes = check_entries(api, log_, size, submissions, root_der)
    check_proofs(api, size, hashes, verifiers)
    proofs = verifiers.run()
    log("verifiers: faro's tlog and Go's x/mod accept all %d proofs and reject a corrupted copy of each; Go verifies get-sth's "
        "signature and rejects it for another size" % proofs)
    check_errors(api, size, hashes)
    check_rate_limits_and_metrics(gateway, size)
    size = check_index_lag(api, gateway, writer, log_, later, workdir)
    check_plain_tiles(args, workdir, template, writer, log_, api, size)
    api.close()
    gateway.stop()
    check_index_restarts(args, workdir, template, writer, log_, size)
    writer.stop()


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:], DAEMON_TEST_ARGS + ("gateway", "tlog-tool", "proofcheck")))

#!/usr/bin/env python3
"""Hostile input against both daemons: a table of malformed and abusive requests.

faro-writer and faro-gateway run on loopback over one log with a few entries.
Each case is one request (or one connection's worth of bytes): it must get the
expected 4xx with a message, or, for protocol abuse, an error status or the
connection closed, never a 5xx, a hang or a crash. Between cases both daemons
must still answer, and at the end the tree is exactly what the valid
submissions made it (no hostile request added, removed or half-wrote
anything; but see the mutants below), every file in storage is complete, and
no sanitizer spoke.

Also: slow-loris connections (headers trickled a byte at a time) are closed
by the server's timeouts while a normal client is served at the same time.

Then mutants (tests/e2e/mutants.py): requests derived from the valid ones
(submissions the log holds, the gateway's reads) by random bit flips, cuts,
repeated or dropped headers, other methods and versions, random paths and
tile indices, mangled queries and mangled chain JSON and base64, each sent
on its own connection (then half-closed). None may get a 5xx or go
unanswered for 30 s, and both daemons are checked alive every 250 mutants.
A mutant may be a valid chain of its own (an intermediate without its leaf)
and be logged: at the end every entry beyond the valid submissions must be
one a mutant was answered 200 for, and ctcheck verifies those SCTs with the
others. The random seed is printed (FARO_HOSTILE_SEED=<seed> repeats a run).
Short form: 250 mutants and 20 slow-loris connections per daemon;
FARO_LONG=1: 25,000 mutants and 100 slow-loris connections per daemon.

Usage: hostile.py --writer BIN --gateway BIN --keygen BIN --mkchains BIN --ctcheck BIN
"""

import base64
import collections
import concurrent.futures
import hashlib
import http.client
import io
import json
import os
import random
import re
import select
import socket
import subprocess
import sys
import time

from e2elib import (Client, Gateway, Failure, Log, Writer, chain_body, check, leaf_index, log, main, run_ctcheck,
                    sct_record, wait_until, write_config)
from mutants import Mutator

VALID = 20  # certificates submitted, and one precertificate
LONG = os.environ.get("FARO_LONG") == "1"
MUTANTS = 25000 if LONG else 250  # per daemon
SLOW_LORIS = 100 if LONG else 20  # per daemon


def raw(port, data, timeout=15):
    """Sends bytes on a fresh connection; returns everything the server sent until it closed or went quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and len(b"".join(chunks)) > 0:
                    sock.settimeout(0.5)
        except (socket.timeout, ConnectionResetError):
            pass
        return b"".join(chunks)


def raw_request(port, method, path, headers, body):
    """One request on its own connection, read even if the server answers before the body is all sent (413):
    (status or None, response body)."""
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (method, path)
    for k, v in headers.items():
        head += "%s: %s\r\n" % (k, v)
    if body is not None:
        head += "Content-Length: %d\r\n" % len(body)
    reply = raw(port, head.encode() + b"\r\n" + (body or b""))
    return status_of(reply), reply.partition(b"\r\n\r\n")[2]


def status_of(reply):
    if not reply.startswith(b"HTTP/1.1 "):
        return None
    return int(reply[9:12])


def writer_cases(log_, good, precert, cases):
    """(name, method, path, headers, body, expected status, words in the body)."""
    add = log_.path("add-chain")
    pre = log_.path("add-pre-chain")
    leaf, *issuers = good["chain"]
    der = base64.b64decode(leaf)
    json_type = {"Content-Type": "application/json"}

    def body(obj):
        return json.dumps(obj).encode()

    table = [
        ("empty body", "POST", add, json_type, b"", 400, "JSON"),
        ("not JSON", "POST", add, json_type, b"chain=abc", 400, "JSON"),
        ("JSON array", "POST", add, json_type, b"[1,2,3]", 400, "object"),
        ("JSON string", "POST", add, json_type, b'"chain"', 400, "object"),
        ("chain is a string", "POST", add, json_type, body({"chain": "x"}), 400, "chain"),
        ("chain is empty", "POST", add, json_type, body({"chain": []}), 400, "chain"),
        ("chain of numbers", "POST", add, json_type, body({"chain": [1, 2]}), 400, "chain"),
        ("chain of nulls", "POST", add, json_type, body({"chain": [None]}), 400, "chain"),
        ("no chain key", "POST", add, json_type, body({"chains": [leaf]}), 400, "chain"),
        ("bad base64", "POST", add, json_type, body({"chain": ["!!!!"]}), 400, "base64"),
        ("base64 with high bytes", "POST", add, json_type, b'{"chain":["\xc3\xa9\xc3\xa9AA"]}', 400, ""),
        ("truncated base64", "POST", add, json_type, body({"chain": [leaf[:-3]]}), 400, ""),
        ("base64 without padding", "POST", add, json_type, body({"chain": [leaf.rstrip("=") + "A"]}), 400, ""),
        ("base64 of garbage", "POST", add, json_type, body({"chain": [base64.b64encode(b"\x30\x03abc").decode()]}), 400, ""),
        ("truncated DER", "POST", add, json_type, body({"chain": [base64.b64encode(der[:-10]).decode()] + issuers}), 400, ""),
        ("DER with trailing bytes", "POST", add, json_type,
         body({"chain": [base64.b64encode(der + b"\x00").decode()] + issuers}), 400, ""),
        ("leaf without issuers", "POST", add, json_type, body({"chain": [leaf]}), 400, ""),
        ("chain of 100 certificates", "POST", add, json_type, body({"chain": [leaf] + issuers * 50}), 400, "at most"),
        ("same leaf 11 times", "POST", add, json_type, body({"chain": [leaf] * 11}), 400, "at most"),
        ("deeply nested JSON", "POST", add, json_type, b"[" * 100000 + b"]" * 100000, 400, ""),
        ("JSON with a NUL", "POST", add, json_type, b'{"chain":["\x00"]}', 400, ""),
        ("JSON with an escaped NUL", "POST", add, json_type, b'{"chain":["\\u0000"]}', 400, ""),
        ("trailing garbage after JSON", "POST", add, json_type, body(good) + b"xyz", 400, ""),
        ("huge base64 string", "POST", add, json_type, body({"chain": ["A" * 600000]}), 413, ""),
        ("body over 512 KiB", "POST", add, json_type, b" " * (512 * 1024 + 1), 413, ""),
        ("text/plain body", "POST", add, {"Content-Type": "text/plain"}, body(good), 415, "application/json"),
        ("form body", "POST", add, {"Content-Type": "application/x-www-form-urlencoded"}, body(good), 415, "JSON"),
        ("XML content type", "POST", add, {"Content-Type": "application/xml"}, body(good), 415, "JSON"),
        ("GET add-chain", "GET", add, {}, None, 405, "POST"),
        ("PUT add-chain", "PUT", add, json_type, body(good), 405, "POST"),
        ("DELETE add-pre-chain", "DELETE", pre, {}, None, 405, "POST"),
        ("POST get-roots", "POST", log_.path("get-roots"), json_type, b"{}", 405, "GET"),
        ("unknown endpoint", "POST", log_.path("add-everything"), json_type, body(good), 404, ""),
        ("unknown log", "POST", "/nolog/ct/v1/add-chain", json_type, body(good), 404, ""),
        ("certificate to add-pre-chain", "POST", pre, json_type, body(good), 400, ""),
        ("precertificate to add-chain", "POST", add, json_type, body(precert), 400, ""),
        ("unknown root", "POST", add, json_type, body({"chain": cases["unknown_root"]["chain"]}), 400, ""),
        ("absurd extension (refused OID)", "POST", add, json_type, body({"chain": cases["refused_extension"]["chain"]}),
         400, ""),
        ("SHA-1 signature", "POST", add, json_type, body({"chain": cases["sha1"]["chain"]}), 400, ""),
    ]
    return table


GATEWAY_PATHS = [
    "/h/tile/0/0", "/h/tile/0/x000/001", "/h/tile/0/001.p/256", "/h/tile/6/000", "/h/tile/data/1",
    "/h/tile/0/x999/x999/x999/x999/x999/x999/x999/999", "/h/tile/0/x018/x446/x744/x073/x709/x551/615",
    "/h/../h/checkpoint", "/h/%2e%2e/h/checkpoint", "/h/%2E%2E%2Fcheckpoint", "/h/tile/%2e%2e/checkpoint",
    "/h/tile/0/..%2f..%2f..%2fetc%2fpasswd", "/h/issuer/" + "0" * 63, "/h/issuer/../../../../etc/passwd",
    "/h/.checkpoint.Ab12Cd", "/h/staging", "/h/tile/0/000%00", "/h//checkpoint", "/h/checkpoint/..",
    "/h/log.v3.json%20", "/" + "a" * 4000, "/h/tile/" + "x000/" * 200 + "000",
]


def run_case(port, method, path, headers, body):
    client = Client(port, timeout=30)
    try:
        return client.request(method, path, body=body, headers=headers)
    finally:
        client.close()


def alive(writer, gateway, log_):
    status, _, _ = run_case(writer.port, "GET", log_.path("get-roots"), {}, None)
    check(status == 200, "faro-writer stopped answering (get-roots %d)" % status)
    status, _, _ = run_case(gateway.port, "GET", "/h/checkpoint", {}, None)
    check(status == 200, "faro-gateway stopped answering (checkpoint %d)" % status)


def protocol_cases(port):
    """(name, bytes): each must get a 4xx or a closed connection, never a 5xx or a hang."""
    return [
        ("garbage request line", b"\x00\x01\x02\x03 garbage\r\n\r\n"),
        ("HTTP/0.9 request", b"GET /\r\n\r\n"),
        ("unknown HTTP version", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n"),
        ("no Host, junk headers", b"GET / HTTP/1.1\r\n: novalue\r\n\r\n"),
        ("header without colon", b"GET / HTTP/1.1\r\nHost x\r\n\r\n"),
        ("oversized header", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"),
        ("10,000 headers", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 10000 + b"\r\n"),
        ("huge URL", b"GET /" + b"a" * 300000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("negative Content-Length", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\nabc"),
        ("Content-Length not a number", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
        ("bad chunk size", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
        ("two Content-Lengths", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde"),
        ("bare LF line endings", b"GET / HTTP/1.1\nHost: x\n\n"),
        ("HTTP/2 preface on plain HTTP/1", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00" * 64),
        ("TLS hello on plain HTTP", bytes.fromhex("160301002f0100002b0303") + b"\x00" * 40),
    ]


def check_protocol_abuse(name_of, port):
    for name, data in protocol_cases(port):
        reply = raw(port, data)
        status = status_of(reply)
        check(status is None or 400 <= status < 500 or status == 200,
              "%s %s: answered %r" % (name_of, name, reply[:80]))
        check(status is None or status < 500, "%s %s: a 5xx" % (name_of, name))
    return len(protocol_cases(port))


def check_slow_loris(gateway, writer, log_):
    """Connections that trickle headers are closed by timeouts, and never hold back another client."""
    socks = []
    for port in (gateway.port, writer.port):
        for _ in range(SLOW_LORIS):
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            s.sendall(b"GET /h/checkpoint HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
    started = time.monotonic()
    alive(writer, gateway, log_)
    check(time.monotonic() - started < 5, "slow clients held back a normal one")
    # Keep trickling a byte a second; h2o's request timeout (10 s) must close them anyway.
    open_ = set(socks)
    deadline = time.monotonic() + 40
    while open_ and time.monotonic() < deadline:
        for s in list(open_):
            try:
                s.sendall(b"X")
            except OSError:
                open_.discard(s)
        readable, _, _ = select.select(list(open_), [], [], 1)
        for s in readable:
            try:
                if s.recv(65536) == b"":
                    open_.discard(s)
            except OSError:
                open_.discard(s)
    for s in socks:
        s.close()
    check(not open_, "only %d of %d slow-loris connections were closed within 40 s" % (len(socks) - len(open_), len(socks)))
    return len(socks)


def send_mutant(port, data):
    """Sends data on a new connection and half-closes it; everything the server sent before it closed (None: no close
    within 30 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed first: what it sent is still readable
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        except ConnectionResetError:
            return b"".join(chunks)
        except socket.timeout:
            return None


STATUS_LINE = re.compile(rb"(?:^|\n)HTTP/1\.[01] (\d{3}) ")


class ReplyBytes:
    """A received reply as the socket http.client.HTTPResponse reads from (it undoes chunked encoding)."""

    def __init__(self, data):
        self.data = data

    def makefile(self, mode):
        return io.BytesIO(self.data)


def new_entry(what, data, reply, tree_size):
    """For a submission the writer answered 200: an SCT record (e2elib.sct_record) if it is for an entry past
    tree_size (a mutant that is a valid chain of its own), else None."""
    response = http.client.HTTPResponse(ReplyBytes(reply))
    response.begin()
    try:
        sct = json.loads(response.read())
    except ValueError:
        return None  # get-roots, or more than one answer
    if not isinstance(sct, dict) or "sct_version" not in sct or leaf_index(sct) < tree_size:
        return None
    path = data.split(b" ", 2)[1].decode("latin-1")
    try:
        chain = json.loads(data.partition(b"\r\n\r\n")[2])["chain"]
        for cert in chain:
            base64.b64decode(cert, validate=True)
    except (ValueError, KeyError, TypeError) as e:
        raise Failure("writer mutant %s: logged as entry %d, but its chain does not read back (%s)" % (what,
                                                                                                 leaf_index(sct), e))
    submission = {"endpoint": path.rsplit("/", 1)[1], "chain": chain}
    return leaf_index(sct), sct_record(submission, json.dumps(sct).encode())


def check_mutant(what, target, data, reply, tree_size):
    """The statuses of the answers to one mutant, which must be no 5xx, and the new entry it made (or None)."""
    check(reply is not None, "%s mutant %s: no answer and no close within 30 s" % (target, what))
    statuses = [int(m) for m in STATUS_LINE.findall(reply)]
    check(reply == b"" or reply.startswith(b"HTTP/1."), "%s mutant %s: answered %r" % (target, what, reply[:80]))
    check(all(s < 500 for s in statuses), "%s mutant %s: answered %r" % (target, what, reply[:300]))
    made = new_entry(what, data, reply, tree_size) if target == "writer" and statuses[:1] == [200] else None
    return statuses or ["closed"], made


def check_mutants(writer, gateway, log_, mutator, tree_size):
    """
    MUTANTS mutants for each daemon, 8 at a time; both daemons checked alive every 250. Returns the tally of answers
    per daemon, and {leaf index: SCT records} of the entries mutants added (valid chains of their own).
    """
    ports = {"writer": writer.port, "gateway": gateway.port}
    tally = {"writer": collections.Counter(), "gateway": collections.Counter()}
    added = collections.defaultdict(list)
    batch = 250
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for start in range(0, 2 * MUTANTS, batch):
            mutants = [(t,) + mutator.mutant(t) for t in ["writer", "gateway"] * (batch // 2)][:2 * MUTANTS - start]
            replies = pool.map(lambda m: send_mutant(ports[m[0]], m[2]), mutants)
            for (target, what, data), reply in zip(mutants, replies):
                statuses, made = check_mutant(what, target, data, reply, tree_size)
                tally[target].update(statuses)
                if made is not None:
                    added[made[0]].append(made[1])
            for daemon in (writer, gateway):
                if daemon.proc.poll() is not None:
                    raise Failure("%s exited with %s under mutants:\n%s" % (daemon.name, daemon.proc.returncode,
                                                                          daemon.stderr()[-4000:]))
            alive(writer, gateway, log_)
    return tally, added


def tally_text(counter):
    return ", ".join("%s: %d" % (k, v) for k, v in sorted(counter.items(), key=lambda kv: str(kv[0])))


def test(args, workdir):
    pki = os.path.join(workdir, "pki")
    os.makedirs(pki)
    subprocess.run([args["mkchains"], pki, str(VALID + 1), "1"], check=True)
    roots = os.path.join(pki, "root.pem")
    with open(os.path.join(pki, "chains.jsonl")) as f:
        chains = [json.loads(line) for line in f]
    with open(os.path.join(pki, "cases.json")) as f:
        cases = json.load(f)
    log_ = Log(workdir, "h", args["keygen"], sequence_interval="100ms", reject_extensions=["1.3.6.1.4.1.55555.1.2"],
               accept_sha1_signing_algorithms=False)
    template = os.path.join(workdir, "faro.yaml.in")
    write_config(template, os.path.join(workdir, "state", "lock.db"), [log_], roots)
    writer = Writer(args["writer"], workdir, template)
    writer.start(create_missing=True)
    gateway = Gateway(args["gateway"], workdir, template, writer=writer)
    gateway.start()

    seed = int(os.environ.get("FARO_HOSTILE_SEED", random.randrange(2 ** 32)))
    log("seed %d (FARO_HOSTILE_SEED=%d repeats this run)" % (seed, seed))
    records = []
    submitted = chains[:VALID] + chains[-1:]
    logged = len(submitted)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for sub, (status, _, body) in zip(submitted, pool.map(
                lambda s: run_case(writer.port, "POST", log_.path(s["endpoint"]), {"Content-Type": "application/json"},
                                   chain_body(s["chain"])), submitted)):
            check(status == 200, "valid submission: %d %r" % (status, body))
            records.append(sct_record(sub, body))
    wait_until(lambda: log_.checkpoint()[0] == logged, 30, "the tree to reach %d" % logged)

    table = writer_cases(log_, chains[VALID], chains[-1], cases)
    for name, method, path, headers, body, want, words in table:
        status, reply = raw_request(writer.port, method, path, headers, body)
        check(status == want, "writer %s: status %d, want %d: %r" % (name, status, want, reply[:200]))
        check(reply.strip() != b"" and words.lower().encode() in reply.lower(),
              "writer %s: message %r lacks %r" % (name, reply[:200], words))
        alive(writer, gateway, log_)
    for path in GATEWAY_PATHS:
        status, _, reply = run_case(gateway.port, "GET", path, {}, None)
        check(status == 404 and reply.strip() != b"", "gateway %s: status %d" % (path[:60], status))
    protocol = check_protocol_abuse("writer", writer.port) + check_protocol_abuse("gateway", gateway.port)
    alive(writer, gateway, log_)
    slow = check_slow_loris(gateway, writer, log_)

    issuer = hashlib.sha256(base64.b64decode(chains[0]["chain"][1])).hexdigest()
    with open(os.path.join(log_.storage, "tile", "0", "000.p", str(logged)), "rb") as f:
        first_leaf = base64.b64encode(f.read(32)).decode()
    mutator = Mutator(random.Random(seed), "h", [(c["endpoint"], c["chain"]) for c in submitted], logged, issuer,
                      first_leaf)
    started = time.monotonic()
    tally, added = check_mutants(writer, gateway, log_, mutator, logged)
    mutant_seconds = time.monotonic() - started

    # Mutants may be valid chains of their own (a submitted chain without its leaf: the intermediate, which the
    # log accepts like any certificate that chains to a root); each such entry must have been acknowledged.
    time.sleep(0.5)  # one more round: nothing hostile may have been pooled
    size = log_.checkpoint()[0]
    check(sorted(added) == list(range(logged, size)),
          "the tree grew from %d to %d under hostile input, with SCTs for %s" % (logged, size, sorted(added)))
    records += [r for rs in added.values() for r in rs]
    summary = run_ctcheck(args["ctcheck"], log_, roots, records, workdir, min_size=size)
    gateway.stop()
    writer.stop()
    log("mutants (seed %d, %.0f s): writer %d (%s; %d valid chains logged), gateway %d (%s)" % (
        seed, mutant_seconds, MUTANTS, tally_text(tally["writer"]), len(added), MUTANTS, tally_text(tally["gateway"])))
    log("hostile input: %d writer requests, %d gateway paths, %d protocol abuses, %d slow-loris connections, "
        "%d mutants; both daemons up throughout; %s" % (len(table), len(GATEWAY_PATHS), protocol, slow, 2 * MUTANTS,
                                                        summary))


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:]))

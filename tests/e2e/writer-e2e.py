#!/usr/bin/env python3
"""faro-writer end to end, as a CA and a monitor see it.

Three logs in one writer: "testlog" (no filters), "filtered" (not_after
window, reject_expired, ext_key_usages, reject_extensions) and "tiny"
(pool_size 5, sequenced only at shutdown). Checks:
  - concurrent add-chain and add-pre-chain over keep-alive connections: every
    answer is 200 with one leaf_index extension, and the indices are exactly
    0..n-1; get-roots lists the root;
  - resubmissions (after sequencing, and concurrent copies of a new chain)
    get the first SCT byte for byte and do not grow the tree;
  - error paths answer the right status with a message that says why, and
    leave the tree as it was; each filter refuses what it should (and the
    unfiltered log takes the same chains);
  - a full pool answers 503 with Retry-After; SIGTERM answers every pooled
    submission with its SCT and exits 0;
  - a restart without --create-missing has the same tree and keeps going;
    a start without state, or with a missing key, is refused with a message
    naming --create-missing or the key;
  - ctcheck (Go, x/mod) over each log's storage and every SCT received.
Usage: writer-e2e.py --writer BIN --keygen BIN --mkchains BIN --ctcheck BIN
"""

import base64
import concurrent.futures
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import (Failure, Log, Writer, chain_body, check, check_sct, log, main, read_pem_der,  # noqa: E402
                    run_ctcheck, sct_record, submit_many, wait_until, write_config)

CERTS, PRECERTS = 600, 100  # the first round of submissions
SHUTDOWN_CERTS = 100  # submitted while the writer stops
RESTART_CERTS = 100  # submitted after the restart
THREADS = 16  # connections submit_many uses
DUPLICATES = 50
FAILED_ROUND_CERTS = 320  # brought up to a data-tile boundary, then refused by failing rounds, then accepted
TILE_WIDTH = 256


def rfc6962_timestamp(body):
    """The timestamp (ms) of a checkpoint's RFC 6962 signature line (the one that is not 68 bytes of Ed25519)."""
    for line in body.decode().split("\n\n", 1)[1].splitlines():
        raw = base64.b64decode(line.split(" ")[-1])
        if len(raw) != 4 + 64:
            return int.from_bytes(raw[4:12], "big")
    raise Failure("checkpoint without an RFC 6962 signature")


def settled_size(log_):
    """The tree size once a checkpoint signed after now is published: anything pooled before now is in it."""
    now_ms = int(time.time() * 1000)
    wait_until(lambda: rfc6962_timestamp(log_.checkpoint()[2]) > now_ms, 30, "a new checkpoint of %s" % log_.name)
    return log_.checkpoint()[0]


def expect_refusal(client, log_, method, path, body, status, words, size, writer, headers=None):
    """A request the writer must refuse with status and a message containing each of words, changing nothing."""
    got, hdrs, text = client.request(method, path, body, headers)
    text = text.decode(errors="replace")
    check(got == status, "%s %s: status %d, want %d: %s" % (method, path, got, status, text))
    for word in words:
        check(word.lower() in text.lower(), "%s %s (%d): message %r does not mention %r" % (method, path, got, text, word))
    check(hdrs.get("access-control-allow-origin") == "*", "%s %s: no CORS header on the %d" % (method, path, got))
    check(writer.metric("faro_writer_pool_length", log_.name) == 0, "%s %s: the pool is not empty" % (method, path))
    check(writer.metric("faro_writer_tree_size", log_.name) == size, "%s %s: the tree size changed" % (method, path))
    return hdrs, text


def test(args, workdir):
    pki = os.path.join(workdir, "pki")
    os.makedirs(pki)
    subprocess.run([args["mkchains"], pki, str(CERTS + SHUTDOWN_CERTS + RESTART_CERTS + FAILED_ROUND_CERTS),
                    str(PRECERTS)], check=True)
    roots = os.path.join(pki, "root.pem")
    with open(os.path.join(pki, "chains.jsonl")) as f:
        chains = [json.loads(line) for line in f]
    with open(os.path.join(pki, "cases.json")) as f:
        cases = json.load(f)
    certs, precerts = chains[:-PRECERTS], chains[-PRECERTS:]
    first = certs[:CERTS] + precerts
    random.shuffle(first)
    shutdown_batch = certs[CERTS:CERTS + SHUTDOWN_CERTS]
    restart_batch = certs[CERTS + SHUTDOWN_CERTS:CERTS + SHUTDOWN_CERTS + RESTART_CERTS]
    failed_round_batch = certs[CERTS + SHUTDOWN_CERTS + RESTART_CERTS:]

    main_log = Log(workdir, "testlog", args["keygen"], sequence_interval="50ms")
    filtered = Log(workdir, "filtered", args["keygen"], sequence_interval="200ms",
                   not_after_start=cases["not_after_start"], not_after_limit=cases["not_after_limit"],
                   reject_expired=True, ext_key_usages=["ServerAuth"], reject_extensions=["1.3.6.1.4.1.55555.1.2"])
    tiny = Log(workdir, "tiny", args["keygen"], sequence_interval="1h", pool_size=5)
    logs = [main_log, filtered, tiny]
    template = os.path.join(workdir, "faro.yaml.in")
    write_config(template, os.path.join(workdir, "state", "lock.db"), logs, roots)
    records = {l.name: [] for l in logs}
    writer = Writer(args["writer"], workdir, template)
    writer.start(create_missing=True)
    for l in logs:
        check(l.checkpoint()[0] == 0, "%s: a new log is not empty" % l.name)

    # get-roots
    client = writer.connection()
    status, headers, body = client.request("GET", main_log.path("get-roots"))
    check(status == 200 and headers.get("content-type") == "application/json", "get-roots: %d %s" % (status, body[:200]))
    listed = [base64.b64decode(c) for c in json.loads(body)["certificates"]]
    check(listed == [read_pem_der(roots)], "get-roots does not list exactly the configured root")
    log("get-roots: lists the root")

    # Concurrent submissions into the empty log.
    started = time.monotonic()
    results = submit_many(writer, main_log, first)
    elapsed = time.monotonic() - started
    first_scts = {}
    indices = []
    for sub, status, headers, body in results:
        indices.append(check_sct(main_log, sub, status, headers, body))
        first_scts[sub["chain"][0]] = body
        records["testlog"].append(sct_record(sub, body))
    check(sorted(indices) == list(range(len(first))),
          "the %d submissions did not get leaf indices 0..%d" % (len(first), len(first) - 1))
    size = settled_size(main_log)
    check(size == len(first), "tree size %d after %d submissions" % (size, len(first)))
    log("%d add-chain + %d add-pre-chain over %d connections: all 200, indices 0..%d (%.1f s)" %
        (CERTS, PRECERTS, THREADS, len(first) - 1, elapsed))

    # Duplicates, after sequencing: the same bytes, no growth.
    again = random.sample(first, DUPLICATES)
    for sub, status, headers, body in submit_many(writer, main_log, again):
        check_sct(main_log, sub, status, headers, body)
        check(body == first_scts[sub["chain"][0]], "a resubmission got another SCT:\n%s\n%s" % (body, first_scts[sub["chain"][0]]))
    check(settled_size(main_log) == size, "resubmissions grew the tree")
    # Concurrent copies of new chains, pooled together: one entry each, one SCT each.
    copies = [sub for sub in restart_batch[:4] for _ in range(4)]
    random.shuffle(copies)
    answers = {}
    for sub, status, headers, body in submit_many(writer, main_log, copies):
        check_sct(main_log, sub, status, headers, body)
        check(answers.setdefault(sub["chain"][0], body) == body, "concurrent copies of a chain got different SCTs")
        records["testlog"].append(sct_record(sub, body))
    restart_batch = restart_batch[4:]
    size = settled_size(main_log)
    check(size == len(first) + 4, "4 chains sent 4 times each grew the tree to %d, want %d" % (size, len(first) + 4))
    # Each resent the moment its SCT arrives, while its round may still be recording it in the dedup index.
    echoes = restart_batch[:8]
    restart_batch = restart_batch[8:]

    def submit_twice(sub):
        client = writer.connection()
        try:
            return [client.request("POST", main_log.path(sub["endpoint"]), chain_body(sub["chain"])) for _ in range(2)]
        finally:
            client.close()

    with concurrent.futures.ThreadPoolExecutor(len(echoes)) as pool:
        for sub, answers_ in zip(echoes, pool.map(submit_twice, echoes)):
            for status, headers, body in answers_:
                check_sct(main_log, sub, status, headers, body)
            check(answers_[0][2] == answers_[1][2], "a chain resent at once got another SCT:\n%s\n%s" % (answers_[0][2], answers_[1][2]))
            records["testlog"].append(sct_record(sub, answers_[0][2]))
    size = settled_size(main_log)
    check(size == len(first) + 4 + len(echoes), "chains resent at once grew the tree to %d" % size)
    # The same while the dedup index is locked, so the round has answered but cannot record its entry yet.
    late = restart_batch[0]
    restart_batch = restart_batch[1:]
    dedup = sqlite3.connect(os.path.join(workdir, "state", main_log.name, "dedup.db"), isolation_level=None)
    dedup.execute("BEGIN IMMEDIATE")
    try:
        answers_ = submit_twice(late)
    finally:
        dedup.execute("ROLLBACK")
        dedup.close()
    answers_ += submit_twice(late)
    for status, headers, body in answers_:
        check_sct(main_log, late, status, headers, body)
        check(body == answers_[0][2], "a chain resent before its round was in the dedup index got another SCT")
    records["testlog"].append(sct_record(late, answers_[0][2]))
    size = settled_size(main_log)
    check(size == len(first) + 5 + len(echoes), "a chain resent before its round was in the dedup index grew the tree")
    log("%d resubmissions, 4x4 concurrent copies and %d chains resent at once: byte-identical SCTs, no extra entries" %
        (DUPLICATES, len(echoes)))

    # Error paths: each answers its status with a reason, and nothing is pooled or sequenced.
    add_chain, add_pre_chain = main_log.path("add-chain"), main_log.path("add-pre-chain")
    valid = chain_body(restart_batch[0]["chain"])
    errors = [
        ("POST", add_chain, b'{"chain": [', 400, ["JSON"]),
        ("POST", add_chain, b'{"chain": []}', 400, ["empty"]),
        ("POST", add_chain, b'{"chains": ["AAAA"]}', 400, ["chain"]),
        ("POST", add_chain, b'{"chain": ["MIIB!!=="]}', 400, ["base64"]),
        ("POST", add_chain, b'{"chain": ["' + base64.b64encode(b"not a certificate") + b'"]}', 400, ["certificate"]),
        ("POST", add_chain, b"", 400, ["JSON"]),
        ("POST", add_chain, chain_body(cases["unknown_root"]["chain"]), 400, ["root"]),
        ("POST", add_chain, chain_body(cases["precert_to_add_chain"]["chain"]), 400, ["precertificate", "poison"]),
        ("POST", add_pre_chain, chain_body(cases["cert_to_add_pre_chain"]["chain"]), 400, ["not a precertificate"]),
        ("POST", add_chain, chain_body(restart_batch[0]["chain"][::-1]), 400, ["chain"]),
        ("GET", add_chain, None, 405, ["POST"]),
        ("PUT", add_pre_chain, valid, 405, ["POST"]),
        ("POST", main_log.path("get-roots"), valid, 405, ["GET"]),
        ("POST", main_log.path("get-sth"), valid, 404, ["add-chain"]),
        ("GET", "/no/such/log/ct/v1/add-chain", None, 404, ["not found"]),
    ]
    client = writer.connection()
    for method, path, body, status, words in errors:
        hdrs, _ = expect_refusal(client, main_log, method, path, body, status, words, size, writer)
        if status == 405:
            check("allow" in hdrs, "%s %s: 405 without an Allow header" % (method, path))
    # Above the 512 KiB body limit: the writer answers from the headers and closes, so send only those.
    with socket.create_connection(("127.0.0.1", writer.port), timeout=30) as sock:
        sock.sendall(b"POST %s HTTP/1.1\r\nHost: e2e\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" %
                     (add_chain.encode(), 512 * 1024 + 1))
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            check(chunk, "no answer to a body over 512 KiB")
            answer += chunk
    check(answer.startswith(b"HTTP/1.1 413 "), "a body over 512 KiB: %r" % answer[:100])
    check(writer.metric("faro_writer_tree_size", main_log.name) == size, "a body over 512 KiB changed the tree")
    check(settled_size(main_log) == size, "the refused requests changed the tree")
    log("%d refused requests (400, 404, 405, 413): statuses, reasons, tree unchanged" % (len(errors) + 1))

    # Filters: the filtered log refuses each case, the unfiltered log takes it.
    fsize = 0
    for name in ("filter_good", "filter_good_precert"):
        sub = cases[name]
        _, status, headers, body = submit_many(writer, filtered, [sub])[0]
        check_sct(filtered, sub, status, headers, body)
        records["filtered"].append(sct_record(sub, body))
        fsize += 1
    check(settled_size(filtered) == fsize, "filtered: the accepted chains are not in the tree")
    refusals = {
        "not_after_early": ["not_after_start"],
        "not_after_late": ["not_after_limit"],
        "expired": ["expired"],
        "client_auth_only": ["extended key usage"],
        "refused_extension": ["1.3.6.1.4.1.55555.1.2"],
        "sha1": ["SHA-1"],
    }
    client = writer.connection()
    for name, words in refusals.items():
        sub = cases[name]
        _, text = expect_refusal(client, filtered, "POST", filtered.path(sub["endpoint"]), chain_body(sub["chain"]), 400, words,
                                 fsize, writer)
        if name != "sha1":  # SHA-1 is refused by every log unless accept_sha1_signing_algorithms
            _, status, headers, body = submit_many(writer, main_log, [sub])[0]
            check_sct(main_log, sub, status, headers, body)
            records["testlog"].append(sct_record(sub, body))
        log("filtered: %-17s -> 400 %s" % (name, text.strip()))
    check(settled_size(filtered) == fsize, "filtered: refused chains changed the tree")

    # A full pool: "tiny" holds 5 and sequences only when the writer stops.
    tiny_batch = restart_batch[1:21]
    restart_batch = restart_batch[21:]
    tiny_pool = concurrent.futures.ThreadPoolExecutor(len(tiny_batch))
    barrier = threading.Barrier(len(tiny_batch))

    def tiny_submit(sub):
        c = writer.connection()
        barrier.wait()
        try:
            return (sub,) + c.request("POST", tiny.path(sub["endpoint"]), chain_body(sub["chain"]))
        finally:
            c.close()

    tiny_futures = [tiny_pool.submit(tiny_submit, sub) for sub in tiny_batch]
    wait_until(lambda: sum(f.done() for f in tiny_futures) >= len(tiny_batch) - 5, 30, "the over-full pool's 503s")
    for f in tiny_futures:
        if f.done():
            sub, status, headers, body = f.result()
            check(status == 503, "tiny: status %d for a submission beyond the pool: %s" % (status, body[:200]))
            check(headers.get("retry-after", "").isdigit() and int(headers["retry-after"]) > 0,
                  "tiny: 503 without a positive Retry-After (%r)" % headers.get("retry-after"))
            check(b"pool" in body, "tiny: the 503 does not say the pool is full: %r" % body)
    wait_until(lambda: writer.metric("faro_writer_pool_length", "tiny") == 5, 30, "tiny's pool to hold 5")
    check(sum(f.done() for f in tiny_futures) == len(tiny_batch) - 5, "tiny: pooled submissions were answered early")
    log("tiny: %d submissions at once into a pool of 5: %d x 503 with Retry-After, 5 waiting" %
        (len(tiny_batch), len(tiny_batch) - 5))

    # SIGTERM while the tiny pool waits and a load runs on testlog.
    shutdown_results = []
    shutdown_lock = threading.Lock()
    first_answer = threading.Event()
    todo = iter(shutdown_batch)

    def hammer():
        c = writer.connection()
        while True:
            with shutdown_lock:
                sub = next(todo, None)
            if sub is None:
                break
            try:
                status, headers, body = c.request("POST", main_log.path(sub["endpoint"]), chain_body(sub["chain"]))
            except OSError as e:
                with shutdown_lock:
                    shutdown_results.append((sub, None, None, repr(e)))
                break
            with shutdown_lock:
                shutdown_results.append((sub, status, headers, body))
            first_answer.set()
            if status != 200:
                break
        c.close()

    hammers = [threading.Thread(target=hammer) for _ in range(8)]
    for t in hammers:
        t.start()
    check(first_answer.wait(30), "no answer from testlog under load")
    before_stop = time.monotonic()
    writer.stop()
    stop_seconds = time.monotonic() - before_stop
    for t in hammers:
        t.join()
    answered = {"200": 0, "503": 0, "closed": 0}
    for sub, status, headers, body in shutdown_results:
        if status is None:
            answered["closed"] += 1
        elif status == 503:
            check(b"shutting down" in body, "a 503 during shutdown that does not say so: %r" % body)
            answered["503"] += 1
        else:
            check_sct(main_log, sub, status, headers, body)
            records["testlog"].append(sct_record(sub, body))
            answered["200"] += 1
    for f in tiny_futures:
        sub, status, headers, body = f.result(timeout=30)
        if status == 200:
            check_sct(tiny, sub, status, headers, body)
            records["tiny"].append(sct_record(sub, body))
    tiny_pool.shutdown()
    check(len(records["tiny"]) == 5, "tiny: %d of the 5 pooled submissions got an SCT at shutdown" % len(records["tiny"]))
    check(tiny.checkpoint()[0] == 5, "tiny: tree size %d after shutdown, want 5" % tiny.checkpoint()[0])
    log("SIGTERM: exit 0 in %.1f s; tiny's 5 pooled submissions answered 200; testlog under load: %d x 200, "
        "%d x 503 (shutting down), %d connections closed unanswered" %
        (stop_seconds, answered["200"], answered["503"], answered["closed"]))

    # Restart without --create-missing: the same trees, and the log goes on.
    before = {l.name: l.checkpoint()[:2] for l in logs}
    writer.start()
    for l in logs:
        check(l.checkpoint()[:2] == before[l.name], "%s: restart changed the tree: %s -> %s" %
              (l.name, before[l.name], l.checkpoint()[:2]))
        check(writer.metric("faro_writer_tree_size", l.name) == before[l.name][0], "%s: tree_size metric" % l.name)
    size = before["testlog"][0]
    for sub, status, headers, body in submit_many(writer, main_log, again[:10]):
        check(status == 200 and body == first_scts[sub["chain"][0]], "after a restart a resubmission got another SCT")
    indices = []
    for sub, status, headers, body in submit_many(writer, main_log, restart_batch):
        indices.append(check_sct(main_log, sub, status, headers, body))
        records["testlog"].append(sct_record(sub, body))
    check(sorted(indices) == list(range(size, size + len(restart_batch))),
          "after the restart, %d new chains did not get indices %d.." % (len(restart_batch), size))
    log("restart: same trees, resubmissions get their SCTs, %d new entries at %d..%d" %
        (len(restart_batch), size, main_log.checkpoint()[0] - 1))

    failed_rounds(writer, workdir, main_log, failed_round_batch, records["testlog"])
    writer.stop()
    final_size = main_log.checkpoint()[0]

    # Refused starts.
    fresh_dir = os.path.join(workdir, "fresh")
    os.makedirs(fresh_dir)
    fresh_log = Log(fresh_dir, "freshlog", args["keygen"])
    fresh_template = os.path.join(fresh_dir, "faro.yaml.in")
    write_config(fresh_template, os.path.join(fresh_dir, "state", "lock.db"), [fresh_log], roots)
    refused = Writer(args["writer"], fresh_dir, fresh_template)
    refused.start(wait=False)
    code = refused.proc.wait(30)
    refused.check_sanitizers()
    check(code != 0 and "--create-missing" in refused.stderr(),
          "a start without state: exit %d, stderr does not name --create-missing:\n%s" % (code, refused.stderr()))
    log("no state, no --create-missing: refused: %s" % refused.stderr().strip().splitlines()[-1])

    missing_key = os.path.join(workdir, "keys", "missing.ecdsa.pem")
    bad_template = os.path.join(workdir, "faro-badkey.yaml.in")
    with open(template) as f:
        text = f.read()
    with open(bad_template, "w") as f:
        f.write(text.replace('key: "%s"' % main_log.key, 'key: "%s"' % missing_key))
    refused = Writer(args["writer"], workdir, bad_template)
    refused.start(wait=False)
    code = refused.proc.wait(30)
    refused.check_sanitizers()
    check(code != 0 and missing_key in refused.stderr(),
          "a missing key: exit %d, stderr does not name %s:\n%s" % (code, missing_key, refused.stderr()))
    check(main_log.checkpoint()[0] == final_size, "a refused start changed the tree")
    log("missing key: refused: %s" % refused.stderr().strip().splitlines()[-1])

    for l in logs:
        log(run_ctcheck(args["ctcheck"], l, roots, records[l.name], workdir))
    ctcheck_rejects_corruption(args["ctcheck"], main_log, filtered, roots, records["testlog"], workdir)


def failed_rounds(writer, workdir, log_, batch, records):
    """
    Rounds that fail before their commit (the staging folder is replaced by a
    file) answer 503 with Retry-After and change nothing, even when they had
    completed a data tile in memory; once staging works again the same chains
    are logged, and ctcheck later verifies every tile.
    """
    size = settled_size(log_)
    below = (TILE_WIDTH - size % TILE_WIDTH - 5) % TILE_WIDTH
    for sub, status, headers, body in submit_many(writer, log_, batch[:below]):
        check_sct(log_, sub, status, headers, body)
        records.append(sct_record(sub, body))
    size = settled_size(log_)
    check(size % TILE_WIDTH == TILE_WIDTH - 5, "the tree is at %d, not 5 below a tile boundary" % size)
    crossing = batch[below:below + 64]
    staging = os.path.join(workdir, "state", log_.name, "staging")
    shutil.rmtree(staging)
    open(staging, "w").close()
    for sub, status, headers, body in submit_many(writer, log_, crossing):
        check(status == 503 and "retry-after" in headers and b"nothing was logged" in body,
              "a submission in a failing round: %d %r" % (status, body[:200]))
    check(settled_size(log_) == size, "failed rounds changed the tree")
    os.remove(staging)
    os.mkdir(staging)
    indices = []
    for sub, status, headers, body in submit_many(writer, log_, crossing):
        indices.append(check_sct(log_, sub, status, headers, body))
        records.append(sct_record(sub, body))
    check(sorted(indices) == list(range(size, size + len(crossing))), "after failed rounds, indices are not %d.." % size)
    log("failed rounds across a data-tile boundary at %d: %d x 503, tree unchanged; then logged at %d..%d" %
        (size + 5, len(crossing), size, size + len(crossing) - 1))


def flip(path, offset):
    """Changes one byte of a file (tiles and issuers are read-only)."""
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))


def ctcheck_rejects_corruption(ctcheck, log_, other, roots, records, workdir):
    """ctcheck is not vacuous: each corruption of a copy of the storage or of the SCTs makes it fail."""
    x509 = [i for i, r in enumerate(records) if not json.loads(r)["precert"]]
    precert = [i for i, r in enumerate(records) if json.loads(r)["precert"]][0]
    size = log_.checkpoint()[0]
    last = "%03d.p/%d" % (size // 256, size % 256)
    check(size % 256 != 0 and size >= 512, "the corruption cases need a tree with a full tile 001 and a partial one")

    def edit_record(i, change):
        def apply(storage, recs):
            rec = json.loads(recs[i])
            change(rec)
            recs[i] = json.dumps(rec)
        return apply

    def sct_field(field, value):
        def change(rec):
            rec["sct"][field] = value(rec["sct"][field])
        return change

    def next_index(extensions):
        ext = base64.b64decode(extensions)
        return base64.b64encode(ext[:3] + (int.from_bytes(ext[3:], "big") + 1).to_bytes(5, "big")).decode()

    def issuer_path(storage):
        return os.path.join(storage, "issuer", sorted(os.listdir(os.path.join(storage, "issuer")))[0])

    def extra_tile(storage):
        src = os.path.join(storage, "tile", "0", last)
        with open(src, "rb") as f:
            data = f.read()
        with open(os.path.join(os.path.dirname(src), str(size % 256 + 1)), "wb") as f:
            f.write(data + data[:32])

    def checkpoint_root(storage):
        path = os.path.join(storage, "checkpoint")
        with open(path) as f:
            lines = f.read().split("\n")
        lines[2] = base64.b64encode(bytes(32)).decode()
        with open(path, "w") as f:
            f.write("\n".join(lines))

    cases = [
        ("a byte of a full level-0 hash tile", lambda s, r: flip(os.path.join(s, "tile/0/001"), 100), "tile"),
        ("a byte of the partial level-1 tile", lambda s, r: flip(os.path.join(s, "tile/1/000.p/%d" % (size // 256)), 5), "tile"),
        ("a byte inside a data tile entry", lambda s, r: flip(os.path.join(s, "tile/data/001"), 300), "tile/data/001"),
        ("a data tile removed", lambda s, r: os.remove(os.path.join(s, "tile/data/000")), "tile/data/000"),
        ("a partial tile beyond the tree", lambda s, r: extra_tile(s), "beyond the tree"),
        ("a byte of an issuer", lambda s, r: flip(issuer_path(s), 50), "issuer/"),
        ("an issuer removed", lambda s, r: os.remove(issuer_path(s)), "issuer/"),
        ("the checkpoint's root", lambda s, r: checkpoint_root(s), "checkpoint"),
        ("an SCT's timestamp", edit_record(x509[0], sct_field("timestamp", lambda t: t + 1)), "does not verify"),
        ("an SCT's log ID", edit_record(x509[0], sct_field("id", lambda _: base64.b64encode(bytes(32)).decode())),
         "not the log ID"),
        ("an SCT's leaf index", edit_record(x509[0], sct_field("extensions", next_index)), "does not verify"),
        ("an SCT for another certificate",
         edit_record(x509[0], lambda rec: rec.update(leaf_der_b64=json.loads(records[x509[1]])["leaf_der_b64"])),
         "does not verify"),
        ("a precertificate SCT taken as a certificate's", edit_record(precert, lambda rec: rec.update(precert=False)),
         "does not verify"),
    ]
    for name, corrupt, words in cases:
        storage = os.path.join(workdir, "corrupt")
        shutil.rmtree(storage, ignore_errors=True)
        shutil.copytree(log_.storage, storage)
        recs = list(records)
        corrupt(storage, recs)
        scts = os.path.join(workdir, "corrupt.scts.jsonl")
        with open(scts, "w") as f:
            f.write("".join(r + "\n" for r in recs))
        result = subprocess.run([ctcheck, "-storage", storage, "-origin", log_.origin, "-pubkey", log_.pubkey, "-roots", roots,
                                 "-scts", scts], capture_output=True, text=True)
        check(result.returncode == 1 and "ctcheck: FAIL" in result.stderr and words in result.stderr,
              "ctcheck did not reject %s (exit %d, want a message with %r):\n%s%s" %
              (name, result.returncode, words, result.stdout, result.stderr))
        log("ctcheck rejects %-45s %s" % (name + ":", result.stderr.strip().splitlines()[0][len("ctcheck: FAIL: "):][:110]))
    result = subprocess.run([ctcheck, "-storage", log_.storage, "-origin", log_.origin, "-pubkey", other.pubkey],
                            capture_output=True, text=True)
    check(result.returncode == 1 and "not the public key" in result.stderr, "ctcheck took another log's key")
    log("ctcheck rejects each of %d corruptions of the storage and the SCTs" % (len(cases) + 1))


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:]))

#!/usr/bin/env python3
"""End-to-end test of faro-gateway over a tree the real faro-writer produced.

On loopback, with both daemons running:
  - every resource kind (checkpoint, log.v3.json, full and partial hash tiles,
    full and partial data tiles, issuers) answers byte for byte what storage
    holds, with the exact Content-Type, Cache-Control and CORS headers; HEAD
    answers the same headers and no body on a reused connection;
  - 30+ malformed and hostile paths are 404, other methods 405, OPTIONS is a
    CORS preflight, and errors carry CORS too and are never cacheable;
  - an anonymous flood is throttled (429, Retry-After, a message saying how to
    get unthrottled) while an identified client at the same time never is; a
    new partial tile is throttled per client while old partial tiles are not;
  - the admin listener's heavy hitters name the flooding User-Agent, and the
    public listener does not serve them;
  - /metrics counters move as requested; /health is 200 with a live writer,
    and 500 naming the log when the checkpoint is stale, its signature is bad,
    or the log's origin is not the checkpoint's; a signing key the gateway
    could write is refused at start, and so is an open_tiles above half the
    open-file limit;
  - a large data tile kept open and sent with sendfile comes back byte for
    byte, and truncated behind the gateway's back it closes its connection
    without harm to the gateway;
  - with proxy_submissions, an add-chain sent to the gateway is sequenced by
    the writer and answered with its SCT;
  - the log's page and the index name the log's origin, ID and keys, and
    headless Chromium renders the page (its DOM and a screenshot).

Usage: gateway-e2e.py --writer BIN --gateway BIN --keygen BIN --mkchains BIN --ctcheck BIN
"""

import base64
import gzip
import hashlib
import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

from e2elib import (Client, Failure, Gateway, chain_body, check, log, main, metric_sum, metrics_after, start_log, submit_all,
                    wait_until)

CERTS = 600  # two full tiles and a partial one at level 0, a partial one at level 1
IDENTIFIED = "faro-e2e-monitor/1.0 (+mailto:ops@monitor.test)"
ANONYMOUS = "curl/8.0"
IMMUTABLE = "public, max-age=604800, immutable"

HOSTILE_PATHS = [
    "/gw/tile/0/0", "/gw/tile/0/00", "/gw/tile/0/0000", "/gw/tile/0/x000/001", "/gw/tile/0/001/", "/gw/tile/0/001.p/0",
    "/gw/tile/0/001.p/256", "/gw/tile/0/001.p/05", "/gw/tile/6/000", "/gw/tile/00/000", "/gw/tile/-1/000",
    "/gw/tile/data/1", "/gw/tile/data/x1/000", "/gw/tile/0/x999/x999/x999/x999/x999/x999/x999/999",
    "/gw/tile/0/x018/x446/x744/x073/x709/x551/615", "/gw/tile/0/x001/x000/000", "/gw/tile//0/000", "/gw//checkpoint",
    "/gw/checkpoint/", "/gw/Checkpoint", "/gw/checkpoint.bak", "/gw/../gw/checkpoint", "/gw/%2e%2e/gw/checkpoint",
    "/gw/tile/%30/000", "/gw/tile/0/../0/000", "/gw/issuer/", "/gw/issuer/ABCDEF", "/gw/issuer/../log.v3.json",
    "/gw/issuer/" + "0" * 63, "/gw/issuer/" + "g" * 64, "/gw/issuer/" + "0" * 65, "/gw/tile", "/gw/tile/",
    "/gw/tile/data", "/gw/.checkpoint.abcdef", "/gw/staging", "/etc/passwd", "/gw/tile/0/000%00", "/gw/tile/0/000.p/",
    "/gw/log.v3.json/x", "/gw/tile/0/000;x", "/nolog/checkpoint", "/gw/tile/names/000", "/gw/tile/0/000.p/1/x",
]


def request(client, method, path, headers=None):
    return client.request(method, path, headers=dict(headers or {}))


def expect_headers(what, headers, content_type, cache_control):
    check(headers.get("content-type") == content_type, "%s: content-type %r" % (what, headers.get("content-type")))
    check(headers.get("cache-control") == cache_control, "%s: cache-control %r" % (what, headers.get("cache-control")))
    check(headers.get("access-control-allow-origin") == "*", "%s: no CORS header" % what)


def storage_bytes(log_, rel):
    with open(os.path.join(log_.storage, rel), "rb") as f:
        return f.read()


def check_resources(gateway, log_):
    """Each kind of file: exact bytes and headers, GET and HEAD on one connection."""
    size = log_.checkpoint()[0]
    check(size == CERTS, "tree size %d after %d submissions" % (size, CERTS))
    issuers = sorted(os.listdir(os.path.join(log_.storage, "issuer")))
    check(len(issuers) >= 2, "storage has %d issuers" % len(issuers))
    cases = [
        ("checkpoint", "text/plain; charset=utf-8", "no-store"),
        ("log.v3.json", "application/json", "public, max-age=60"),
        ("tile/0/000", "application/octet-stream", IMMUTABLE),
        ("tile/0/001", "application/octet-stream", IMMUTABLE),
        ("tile/0/002.p/%d" % (CERTS - 512), "application/octet-stream", "public, max-age=60"),
        ("tile/1/000.p/2", "application/octet-stream", "public, max-age=60"),
        ("tile/data/000", "application/octet-stream", IMMUTABLE),
        ("tile/data/002.p/%d" % (CERTS - 512), "application/octet-stream", "public, max-age=60"),
    ] + [("issuer/" + name, "application/pkix-cert", IMMUTABLE) for name in issuers]
    client = Client(gateway.port)
    for rel, content_type, cache_control in cases:
        want = storage_bytes(log_, rel)
        status, headers, body = request(client, "GET", "/gw/" + rel, {"User-Agent": IDENTIFIED})
        check(status == 200, "GET %s: status %d: %r" % (rel, status, body[:200]))
        expect_headers("GET " + rel, headers, content_type, cache_control)
        if rel != "checkpoint":  # the writer re-signs it every second
            check(body == want, "GET %s: %d bytes differ from storage's %d" % (rel, len(body), len(want)))
        check(int(headers.get("content-length", -1)) == len(body), "GET %s: content-length" % rel)
        gzipped = rel.startswith("tile/data/")  # the writer stores data tiles gzipped; they are served as stored
        check(headers.get("content-encoding") == ("gzip" if gzipped else None) and (want[:2] == b"\x1f\x8b") == gzipped,
              "GET %s: content-encoding %r on a file that starts %r" % (rel, headers.get("content-encoding"), want[:2]))
        if rel.startswith("issuer/"):
            check(hashlib.sha256(body).hexdigest() == rel[len("issuer/"):], "issuer %s: body is not its DER" % rel)
        status, headers, body = request(client, "HEAD", "/gw/" + rel, {"User-Agent": IDENTIFIED})
        check(status == 200 and body == b"", "HEAD %s: status %d, %d body bytes" % (rel, status, len(body)))
        expect_headers("HEAD " + rel, headers, content_type, cache_control)
        if cache_control == IMMUTABLE:  # a third use is served from the cache
            status, headers, body = request(client, "GET", "/gw/" + rel, {"User-Agent": IDENTIFIED})
            check(status == 200 and body == want, "GET %s again: status %d, %d bytes" % (rel, status, len(body)))
    client.close()
    log("resources: %d files served byte for byte with their headers, GET and HEAD, and again from the cache" % len(cases))


def check_proxy(gateway, log_, sub):
    """proxy_submissions: a submission to the gateway's address reaches the writer and comes back with its SCT."""
    client = Client(gateway.port)
    status, _, body = client.request("POST", log_.path(sub["endpoint"]), chain_body(sub["chain"]))
    client.close()
    check(status == 200 and "signature" in json.loads(body), "add-chain through the gateway: %d %r" % (status, body))
    wait_until(lambda: log_.checkpoint()[0] == CERTS + 2, 30, "the proxied entry to be sequenced")
    log("proxy: an add-chain sent to the gateway was sequenced by the writer and answered with its SCT")


def check_refusals(gateway):
    client = Client(gateway.port)
    for path in HOSTILE_PATHS:
        status, headers, body = request(client, "GET", path, {"User-Agent": IDENTIFIED})
        check(status == 404, "GET %s: status %d, want 404: %r" % (path, status, body[:200]))
        expect_headers("GET " + path, headers, "text/plain; charset=utf-8", "no-store")
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, body = request(client, method, "/gw/checkpoint", {"User-Agent": IDENTIFIED})
        check(status == 405 and "GET" in headers.get("allow", ""), "%s: status %d allow %r" % (method, status, headers.get("allow")))
        check(headers.get("access-control-allow-origin") == "*", "405 without CORS")
    status, headers, _ = request(client, "OPTIONS", "/gw/tile/0/000", {"Origin": "https://app.test",
                                                                       "Access-Control-Request-Method": "GET"})
    check(status == 204, "OPTIONS: status %d" % status)
    check("GET" in headers.get("access-control-allow-methods", ""), "OPTIONS: allow-methods %r" % headers)
    check(headers.get("access-control-allow-origin") == "*", "OPTIONS: no allow-origin")
    client.close()
    # A path with raw bytes h2o passes through, and a symlink pointing out of storage.
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(b"GET /gw/tile/0/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = sock.recv(4096)
        check(reply.startswith(b"HTTP/1.1 404") or reply.startswith(b"HTTP/1.1 400"), "raw bytes: %r" % reply[:40])
    log("refusals: %d hostile paths 404, 4 methods 405, OPTIONS preflight" % len(HOSTILE_PATHS))


def check_symlink(gateway, log_, workdir):
    secret = os.path.join(workdir, "secret.txt")
    with open(secret, "w") as f:
        f.write("outside storage\n")
    issuer = os.path.join(log_.storage, "issuer", "f" * 64)
    os.symlink(secret, issuer)
    client = Client(gateway.port)
    status, _, body = request(client, "GET", "/gw/issuer/" + "f" * 64, {"User-Agent": IDENTIFIED})
    client.close()
    os.unlink(issuer)
    check(status == 404 and b"outside" not in body, "a symlink out of storage was followed: %d %r" % (status, body))
    log("symlinks: one pointing out of storage is 404")


def fetch_many(port, path, ua, count, results, key):
    client = Client(port)
    codes = []
    for _ in range(count):
        status, headers, body = request(client, "GET", path, {"User-Agent": ua})
        codes.append((status, headers, body))
    client.close()
    results[key] = codes


def check_rate_limits(gateway, writer, log_, chains):
    results = {}
    flood = threading.Thread(target=fetch_many, args=(gateway.port, "/gw/tile/0/000", ANONYMOUS, 400, results, "flood"))
    monitor = threading.Thread(target=fetch_many, args=(gateway.port, "/gw/tile/0/001", IDENTIFIED, 400, results, "monitor"))
    flood.start()
    monitor.start()
    flood.join()
    monitor.join()
    flood_limited = [r for r in results["flood"] if r[0] == 429]
    check(len(flood_limited) > 200, "anonymous flood: only %d of 400 refused" % len(flood_limited))
    status, headers, body = flood_limited[0]
    check(int(headers.get("retry-after", "0")) >= 1, "429 without Retry-After: %r" % headers)
    check(b"User-Agent" in body and b"e-mail" in body, "429 body does not say how to get unthrottled: %r" % body)
    check(headers.get("cache-control") == "no-store" and headers.get("access-control-allow-origin") == "*",
          "429 headers: %r" % headers)
    check(all(r[0] == 200 for r in results["monitor"]),
          "identified client throttled: %s" % sorted(set(r[0] for r in results["monitor"])))
    log("rate limits: anonymous flood %d/400 refused, identified client 400/400 served" % len(flood_limited))

    # The partial tiles so far are older than partial_tile_grace: never throttled.
    old_partial = "/gw/tile/data/002.p/%d" % (CERTS - 512)
    fetch_many(gateway.port, old_partial, IDENTIFIED, 60, results, "old")
    check(all(r[0] == 200 for r in results["old"]), "old partial tile throttled")
    # One more entry makes new partial tiles; polling one at once is throttled per client.
    client = writer.connection()
    status, _, body = client.request("POST", log_.path(chains[0]["endpoint"]), chain_body(chains[0]["chain"]))
    client.close()
    check(status == 200, "add-chain: %d %r" % (status, body))
    new_partial = "/gw/tile/data/002.p/%d" % (CERTS - 512 + 1)
    fetch_many(gateway.port, new_partial, IDENTIFIED, 60, results, "new")
    refused = [r for r in results["new"] if r[0] == 429]
    check(len(refused) > 0 and results["new"][0][0] == 200, "new partial tile: %d of 60 refused" % len(refused))
    check(b"partial tile" in refused[0][2], "partial-tile 429 body: %r" % refused[0][2])
    fetch_many(gateway.port, new_partial, "other-monitor (+https://other.test)", 3, results, "other")
    check(all(r[0] == 200 for r in results["other"]), "another client was throttled by the first one's partial polling")
    log("partial tiles: old ones never throttled; a new one %d/60 refused for one client, not for another" % len(refused))


def check_heavy_hitters(gateway):
    admin = gateway.admin_connection()
    status, _, body = request(admin, "GET", "/heavy-hitters.json")
    check(status == 200, "heavy hitters: status %d" % status)
    report = json.loads(body)
    top = report["user_agents"]["entries"][0]
    check(top["value"] in (ANONYMOUS, IDENTIFIED), "top User-Agent is %r" % top["value"])
    values = [e["value"] for e in report["user_agents"]["entries"]]
    check(ANONYMOUS in values and IDENTIFIED in values, "heavy hitters miss a client: %r" % values)
    check(report["prefixes"]["entries"][0]["value"] == "127.0.0.0/24", "prefixes: %r" % report["prefixes"]["entries"][:2])
    status, _, body = request(admin, "GET", "/heavy-hitters")
    check(status == 200 and ANONYMOUS.encode() in body and b"<table" in body, "heavy hitters HTML: %d" % status)
    admin.close()
    client = Client(gateway.port)
    for path in ("/heavy-hitters", "/heavy-hitters.json"):
        status, _, _ = request(client, "GET", path)
        check(status == 404, "public listener serves %s: %d" % (path, status))
    client.close()
    log("heavy hitters: %r counted %d times; not served publicly" % (top["value"], top["count"]))


def check_metrics(gateway):
    before = gateway.metrics_text()
    client = Client(gateway.port)
    for _ in range(7):
        request(client, "GET", "/gw/tile/1/000.p/2", {"User-Agent": IDENTIFIED})
    request(client, "GET", "/gw/nothing", {"User-Agent": IDENTIFIED})
    client.close()
    after = metrics_after(gateway.metrics_text, before, [
        ("faro_gateway_requests_total", {"log": "gw", "kind": "partial_tile", "client": "with-email", "code": "200"}, 7),
        ("faro_gateway_requests_total", {"log": "gw", "kind": "other", "code": "404"}, 1)])
    moved = (metric_sum(after, "faro_gateway_requests_total", log="gw", kind="partial_tile", client="with-email", code="200") -
             metric_sum(before, "faro_gateway_requests_total", log="gw", kind="partial_tile", client="with-email", code="200"))
    check(moved == 7, "partial tile 200s moved by %g, want 7" % moved)
    moved = (metric_sum(after, "faro_gateway_requests_total", log="gw", kind="other", code="404") -
             metric_sum(before, "faro_gateway_requests_total", log="gw", kind="other", code="404"))
    check(moved == 1, "404s moved by %g, want 1" % moved)
    check(metric_sum(after, "faro_gateway_rate_limited_total", bucket="anonymous") > 200, "no anonymous 429s counted")
    check(metric_sum(after, "faro_gateway_rate_limited_total", bucket="partial_tile") > 0, "no partial-tile 429s counted")
    check(metric_sum(after, "faro_gateway_connection_requests_total", reused="true") > 800, "connection reuse not counted")
    check(metric_sum(after, "faro_gateway_tree_size", log="gw") >= CERTS, "tree size metric")
    check(metric_sum(after, "faro_gateway_checkpoint_valid", log="gw") == 1, "checkpoint_valid metric")
    check(metric_sum(after, "faro_gateway_open_connections") >= 1, "open connections gauge")
    check(metric_sum(after, "faro_gateway_request_duration_seconds_count", kind="hash_tile") > 400, "latency histogram")
    check(metric_sum(after, "faro_gateway_response_bytes_total", log="gw", kind="hash_tile") >= 400 * 8192, "bytes out")
    log("metrics: requests, bytes, latency, 429s by bucket, reuse, connections and per-log gauges move as expected")


def check_pages(gateway, log_):
    client = Client(gateway.port)
    status, headers, body = request(client, "GET", "/gw/")
    check(status == 200 and headers.get("content-type") == "text/html; charset=utf-8", "page: %d %r" % (status, headers))
    log_json = json.loads(storage_bytes(log_, "log.v3.json"))
    for text in (log_.origin, log_json["log_id"], log_json["key"], log_json["verifier_key"], "Accepted roots"):
        check(text.encode() in body, "the log's page lacks %r" % text)
    status, _, body = request(client, "GET", "/")
    check(status == 200 and log_.origin.encode() in body and b'href="/gw/"' in body, "index page: %d" % status)
    client.close()
    # A real browser renders the page: the DOM it built names the log, and the screenshot is an image.
    url = "http://127.0.0.1:%d/gw/" % gateway.port
    browser = ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,900"]
    dom = subprocess.run(browser + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    for text in ("<h1>gw</h1>", log_.origin, log_json["log_id"], "Tree size", "Accepted roots"):
        check(text in dom, "Chromium's DOM of the log's page lacks %r" % text)
    shot = os.path.join(gateway.workdir, "page.png")
    subprocess.run(browser + ["--screenshot=" + shot, url], capture_output=True, timeout=120)
    with open(shot, "rb") as f:
        png = f.read()
    check(png.startswith(b"\x89PNG") and len(png) > 10000, "Chromium's screenshot is not a rendered page (%d bytes)" % len(png))
    log("pages: the log's page and the index name its origin, ID and keys; Chromium renders it (%d-byte screenshot)" % len(png))


def health(gateway):
    client = Client(gateway.port)
    status, headers, body = request(client, "GET", "/health")
    client.close()
    return status, body.decode()


def check_health(args, workdir, template, gateway, writer, log_):
    status, text = health(gateway)
    check(status == 200 and text.startswith("gw: OK"), "/health with a live writer: %d %r" % (status, text))
    writer.stop()
    status, text = wait_until(lambda: (lambda r: r if r[0] == 500 else None)(health(gateway)), 20, "/health to fail")
    check("gw:" in text and "too old" in text, "stale checkpoint: %r" % text)
    log("health: 200 while the writer runs; 500 once the checkpoint is stale: %s" % text.strip())

    path = os.path.join(log_.storage, "checkpoint")
    with open(path, "rb") as f:
        good = f.read()
    lines = good.split(b"\n")
    sig = next(i for i, l in enumerate(lines) if l.startswith("\u2014 ".encode()))
    name, b64 = lines[sig].rsplit(b" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    lines[sig] = name + b" " + base64.b64encode(bytes(raw))
    os.chmod(path, 0o644)
    with open(path, "wb") as f:
        f.write(b"\n".join(lines))
    status, text = health(gateway)
    with open(path, "wb") as f:
        f.write(good)
    check(status == 500 and "gw:" in text and "signature" in text, "bad signature: %d %r" % (status, text))
    log("health: 500 on a bad signature: %s" % text.strip())
    # The verdict is remembered per checkpoint and key, never past a change of either.
    status, text = health(gateway)
    check(status == 500 and "too old" in text, "the good checkpoint back: %d %r" % (status, text))
    json_path = os.path.join(log_.storage, "log.v3.json")
    with open(json_path, "rb") as f:
        good_json = f.read()
    other_key = subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                               check=True, capture_output=True).stdout
    other_spki = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=other_key, check=True,
                                capture_output=True).stdout
    doctored = json.loads(good_json)
    doctored["key"] = base64.b64encode(other_spki).decode()
    os.chmod(json_path, 0o644)
    with open(json_path, "w") as f:
        json.dump(doctored, f)
    status, text = health(gateway)
    with open(json_path, "wb") as f:
        f.write(good_json)
    check(status == 500 and "no valid signature by the key in log.v3.json" in text,
          "log.v3.json naming another key: %d %r" % (status, text))
    status, text = health(gateway)
    check(status == 500 and "too old" in text, "log.v3.json back: %d %r" % (status, text))
    log("health: 500 when log.v3.json names another key, the verdict following each file as it changes")

    # The same storage under a log whose origin is another: the checkpoint is not this log's.
    with open(template) as f:
        text_in = f.read()
    other = os.path.join(workdir, "other-origin.yaml.in")
    with open(other, "w") as f:
        f.write(text_in.replace("submission_prefix: \"http://%s\"" % log_.origin,
                                "submission_prefix: \"http://elsewhere.test/gw\""))
    wrong = Gateway(args["gateway"], workdir, other)
    wrong.start()
    status, text = health(wrong)
    wrong.stop()
    check(status == 500 and "not this log's elsewhere.test/gw" in text, "wrong origin: %d %r" % (status, text))
    log("health: 500 when the origin is wrong: %s" % text.strip())


def replace_file(path, data):
    """Puts data at path by rename (a new inode), as the writer writes files, mode 0444 as its tiles."""
    with open(path + ".new", "wb") as f:
        f.write(data)
    os.chmod(path + ".new", 0o444)
    os.rename(path + ".new", path)


def check_truncated_open_tile(gateway, log_):
    """
    A data tile kept open and truncated in place (never the writer's doing)
    fails its response, not the gateway: the headers are out when sendfile
    finds the file short, so the connection closes. The writer's gzipped
    tiles of these test certificates are too small to be kept open (64 KiB
    and less are copied), so the tile is put back inflated, as an older faro
    stored it (one the gateway has not served yet, so not one it keeps as it
    was).
    """
    rel = "tile/data/001"
    path = os.path.join(log_.storage, rel)
    stored = storage_bytes(log_, rel)
    want = gzip.decompress(stored)
    check(len(want) > 64 * 1024, "%s inflates to %d bytes: too small to be kept open" % (rel, len(want)))
    replace_file(path, want)
    client = Client(gateway.port)
    for _ in range(3):  # kept open from the first read, by this connection's thread
        status, _, body = request(client, "GET", "/gw/" + rel, {"User-Agent": IDENTIFIED})
        check(status == 200 and body == want, "GET %s: status %d, %d bytes" % (rel, status, len(body)))
    os.chmod(path, 0o644)
    os.truncate(path, 0)
    try:
        status, _, body = request(client, "GET", "/gw/" + rel, {"User-Agent": IDENTIFIED})
        failed = "status %d with %d of %d bytes" % (status, len(body), len(want))
    except (OSError, http.client.HTTPException) as e:
        failed = None
        outcome = repr(e)
    client.close()
    with open(path, "r+b") as f:  # the same inode again, as the open file sees it
        f.write(want)
    check(failed is None, "GET %s of a truncated open tile: %s, want the connection closed" % (rel, failed))
    check(gateway.proc.poll() is None, "faro-gateway died serving a truncated open tile")
    client = Client(gateway.port)
    status, _, body = request(client, "GET", "/gw/" + rel, {"User-Agent": IDENTIFIED})
    client.close()
    check(status == 200 and body == want, "GET %s after its bytes came back: status %d, %d bytes" % (rel, status, len(body)))
    replace_file(path, stored)
    log("open tile truncated in place: the response failed (%s) and the gateway served on" % outcome)


def test(args, workdir):
    writer, log_, template, roots, chains = start_log(args, workdir, "gw", CERTS + 10, 0, sequence_interval="100ms")
    submit_all(writer, log_, chains[:CERTS])
    wait_until(lambda: log_.checkpoint()[0] == CERTS, 30, "the tree to reach %d" % CERTS)
    settings = {"threads": 2, "health_max_age": "2s", "proxy_submissions": True,
                "rate_limits": {"anonymous_rps": 20, "anonymous_burst": 5, "partial_tile_rps": 2,
                                "partial_tile_grace": "3s"}}
    gateway = Gateway(args["gateway"], workdir, template, writer=writer, settings=settings)
    gateway.start()
    time.sleep(3.5)  # every partial tile so far is now older than partial_tile_grace

    # SIGHUP (logrotate, a reflexive `systemctl reload`) must not stop the gateway.
    gateway.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "SIGHUP: nothing to reload" in gateway.stderr(), 10, "the gateway to log the SIGHUP")
    check(gateway.proc.poll() is None, "faro-gateway exited on SIGHUP")
    check_resources(gateway, log_)
    check_refusals(gateway)
    check_symlink(gateway, log_, workdir)
    check_rate_limits(gateway, writer, log_, chains[CERTS:])
    check_heavy_hitters(gateway)
    check_metrics(gateway)
    check_pages(gateway, log_)
    check_proxy(gateway, log_, chains[CERTS + 1])
    check_health(args, workdir, template, gateway, writer, log_)
    check_truncated_open_tile(gateway, log_)
    gateway.stop()
    check_refuses_writable_key(args, workdir, template, log_)
    check_refuses_open_tiles_beyond_limit(args, workdir, template)


def check_refuses_writable_key(args, workdir, template, log_):
    """The gateway never needs a signing key: one it could write is refused at start, naming the key."""
    os.chmod(log_.key, 0o600)
    refused = Gateway(args["gateway"], workdir, template)
    refused.start(wait=False)
    code = refused.proc.wait(30)
    os.chmod(log_.key, 0o400)
    check(code == 1 and "logs[0].key" in refused.stderr() and "never" in refused.stderr(),
          "a writable signing key was not refused: exit %s\n%s" % (code, refused.stderr()))
    log("keys: the gateway refuses to start when it could write a signing key: %s" % refused.stderr().strip()[-120:])



def check_refuses_open_tiles_beyond_limit(args, workdir, template):
    """
    Kept-open data tiles and connections share the open-file limit: with a
    hard limit of 1,024, the default open_tiles (8,192) is refused at start,
    naming the key and the limit.
    """
    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    refused = Gateway(args["gateway"], workdir, template)
    refused.start(wait=False, preexec_fn=low_limit)
    code = refused.proc.wait(30)
    text = refused.stderr()
    check(code == 1 and "gateway.open_tiles" in text and "(1024)" in text,
          "open_tiles above half the open-file limit was not refused: exit %s\n%s" % (code, text))
    log("open files: the gateway refuses open_tiles above half its open-file limit: %s" % text.strip()[-120:])

if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:]))

#!/usr/bin/env python3
"""faro-writer's remote roots: fetched, backed up, never removed, kept through failures and restarts.

A small HTTP server on loopback plays roots_remote_fetch_url (fetched every
second). Checks:
  - the roots the server offers become trusted (get-roots, a chain to them is
    logged) beside the roots file's, and are backed up under storage/roots;
  - a later bundle without them removes nothing, and adds what it brings;
  - faro-gateway's get-roots and page list them too, following each backup;
  - failed fetches keep every root and log one line each, counted by
    outcome: HTTP 500, a body that is not PEM, a bundle holding a leaf (with
    a new root in it, which stays untrusted: all or nothing), a server slower
    than the fetch timeout (the interval), a body over 16 MiB, no server;
  - a restart with the server down trusts the backed-up roots at once, and
    so does a SIGHUP reload;
  - ctcheck verifies every SCT received, each chain ending in a known root.
Usage: writer-roots.py --writer BIN --gateway BIN --keygen BIN --mkchains BIN --ctcheck BIN
"""

import base64
import hashlib
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import (Client, Gateway, Log, Writer, check, log, main, read_pem_der, run_ctcheck, sct_record,  # noqa: E402
                    submit_many, wait_until, write_config)


class RootsServer:
    """Answers every GET with the response set last (status, body, delay in seconds); counts requests."""

    def __init__(self):
        self.lock = threading.Lock()
        self.response = (404, b"", 0)
        self.requests = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    status, body, delay = server.response
                    server.requests += 1
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-pem-file")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the writer gave up (its timeout)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/roots.pem" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def serve(self, status, body, delay=0):
        with self.lock:
            self.response = (status, body, delay)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def pem(ders):
    text = ""
    for der in ders:
        b64 = base64.b64encode(der).decode()
        text += "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(
            b64[i:i + 64] for i in range(0, len(b64), 64))
    return text.encode()


def make_pki(mkchains, directory, certs):
    """(root DER, submissions) of a fresh mkchains PKI."""
    os.makedirs(directory)
    subprocess.run([mkchains, directory, str(certs), "0"], check=True)
    with open(os.path.join(directory, "chains.jsonl")) as f:
        chains = [json.loads(line) for line in f]
    return read_pem_der(os.path.join(directory, "root.pem")), chains


def listed_roots(writer, log_):
    client = writer.connection()
    status, _, body = client.request("GET", log_.path("get-roots"))
    client.close()
    check(status == 200, "get-roots: status %d" % status)
    return {base64.b64decode(c) for c in json.loads(body)["certificates"]}


def gateway_roots(gateway, log_):
    """get-roots as faro-gateway serves it, and the page's count of accepted roots."""
    client = Client(gateway.port)
    status, _, body = client.request("GET", log_.path("get-roots"))
    _, _, page = client.request("GET", "/%s/" % log_.name)
    client.close()
    check(status == 200, "gateway get-roots: status %d" % status)
    count = re.search(rb"Accepted roots</th><td>(\d+)<", page)
    return {base64.b64decode(c) for c in json.loads(body)["certificates"]}, int(count.group(1)) if count else None


def fetches(writer, log_, outcome):
    return writer.metric_labeled("faro_writer_roots_fetches_total", 'log="%s",outcome="%s"' % (log_.name, outcome))


def test(args, workdir):
    pki = os.path.join(workdir, "pki")
    file_root, file_chains = make_pki(args["mkchains"], pki, 5)
    root2, chains2 = make_pki(args["mkchains"], os.path.join(workdir, "pki2"), 5)
    root3, chains3 = make_pki(args["mkchains"], os.path.join(workdir, "pki3"), 5)
    root4, _ = make_pki(args["mkchains"], os.path.join(workdir, "pki4"), 1)
    leaf2 = base64.b64decode(chains2[0]["chain"][0])
    server = RootsServer()
    server.serve(200, pem([root2]))
    remote = Log(workdir, "remote", args["keygen"], sequence_interval="200ms", roots_remote_fetch_url=server.url,
                 roots_remote_fetch_interval="1s")
    template = os.path.join(workdir, "faro.yaml.in")
    write_config(template, os.path.join(workdir, "state", "lock.db"), [remote], os.path.join(pki, "root.pem"))
    writer = Writer(args["writer"], workdir, template)
    records = []

    def logged(subs, want=200):
        for sub, status, _, body in submit_many(writer, remote, subs):
            check(status == want, "%s: status %d, want %d: %r" % (sub["endpoint"], status, want, body[:200]))
            if status == 200:
                records.append(sct_record(sub, body))

    writer.start(create_missing=True)
    wait_until(lambda: listed_roots(writer, remote) == {file_root, root2}, 30, "get-roots to list the fetched root")
    backup = os.path.join(remote.storage, "roots", hashlib.sha256(root2).hexdigest() + ".pem")
    check(os.path.exists(backup), "no backup %s" % backup)
    check(writer.metric("faro_writer_roots", remote.name) == 2, "faro_writer_roots is not 2")
    logged(file_chains[:2] + chains2[:2])
    logged(chains3[:1], 400)
    log("fetched: get-roots lists the file's root and the remote one, backed up; chains to both logged, others refused")
    gateway = Gateway(args["gateway"], workdir, template, writer=writer)
    gateway.start()
    check(gateway_roots(gateway, remote) == ({file_root, root2}, 2),
          "faro-gateway's get-roots and page do not list the backed-up remote root")

    server.serve(200, pem([root3]))
    wait_until(lambda: listed_roots(writer, remote) == {file_root, root2, root3}, 30, "get-roots to add the second bundle")
    logged(chains3[:2])
    wait_until(lambda: gateway_roots(gateway, remote) == ({file_root, root2, root3}, 3), 10,
               "faro-gateway's get-roots to follow the new backup")
    gateway.stop()
    log("a bundle with another root: added, the first kept; faro-gateway's get-roots and page follow the backups")

    failures = [
        ("HTTP 500", (500, b"upstream broke\n"), "download_failed", "HTTP status 500"),
        ("not PEM", (200, b"<html>hello</html>\n"), "invalid_bundle", "no certificates"),
        ("a leaf in the bundle", (200, pem([root4, leaf2])), "invalid_bundle", "not a CA certificate"),
        ("slower than the timeout", (200, pem([root4]), 3), "download_failed", "timed out"),
        ("over 16 MiB", (200, pem([root4]) * (17 * 1024 * 1024 // len(pem([root4])) + 1)), "download_failed",
         "larger than"),
    ]
    def failed_lines():
        return [line for line in writer.stderr().splitlines() if "fetching roots_remote_fetch_url failed" in line]

    for what, response, outcome, reason in failures:
        seen = len(failed_lines())
        count = fetches(writer, remote, outcome)
        server.serve(*response)
        line = wait_until(lambda: next((l for l in failed_lines()[seen:] if reason in l), None), 30,
                          "a fetch failing with %r (%s)" % (reason, what))
        check(fetches(writer, remote, outcome) > count, "%s: faro_writer_roots_fetches_total{%s} did not grow" % (what, outcome))
        check(listed_roots(writer, remote) == {file_root, root2, root3}, "%s: the roots changed" % what)
        check(server.url not in line, "the URL is in the log line")
        log("failed fetch, %s: %s; roots kept" % (what, line.split("failed: ", 1)[1].split("; keeping")[0]))
    server.close()
    count = fetches(writer, remote, "download_failed")
    wait_until(lambda: fetches(writer, remote, "download_failed") > count, 30, "a failed fetch (no server)")
    check(listed_roots(writer, remote) == {file_root, root2, root3}, "no server: the roots changed")
    writer.stop()

    writer.start()
    check(listed_roots(writer, remote) == {file_root, root2, root3}, "after a restart with the server down: roots lost")
    check("3 roots" in writer.stderr(), "the start line does not count 3 roots")
    logged(chains2[2:4])
    writer.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reloaded roots: 3" in writer.stderr(), 30, "a SIGHUP reload")
    check(listed_roots(writer, remote) == {file_root, root2, root3}, "after SIGHUP: roots lost")
    logged(chains3[2:3])
    log("restart with the server down and SIGHUP: the backed-up roots are trusted at once; chains to them logged")
    writer.stop()

    all_roots = os.path.join(workdir, "all-roots.pem")
    with open(all_roots, "wb") as f:
        f.write(pem([file_root, root2, root3]))
    log(run_ctcheck(args["ctcheck"], remote, all_roots, records, workdir))


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:]))

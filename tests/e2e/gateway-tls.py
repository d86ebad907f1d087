#!/usr/bin/env python3
"""faro-gateway over TLS: HTTPS and HTTP/2, and a certificate renewed with SIGHUP.

One log, its gateway with gateway.tls_cert and gateway.tls_key. Over TLS the
checkpoint comes back byte for byte, both over HTTP/1.1 and over HTTP/2
(ALPN h2, fetched with curl --http2), and the handshake presents the
configured certificate. A data tile large enough to be kept open (which
plain HTTP/1.1 sends with sendfile) comes back byte for byte over both,
and once truncated behind the gateway's back it gets a 500, not a crash.
The certificate files are then replaced, as an ACME client
renewing them would, and SIGHUP makes new handshakes present the new
certificate while a connection opened before goes on being served. A
replacement whose key does not match the certificate is refused on SIGHUP
with a log line naming the setting, and the last good certificate stays.

Usage: gateway-tls.py --writer BIN --gateway BIN --keygen BIN --mkchains BIN
"""

import hashlib
import http.client
import os
import signal
import ssl
import subprocess
import sys

from e2elib import Gateway, check, log, main, start_log, submit_all, wait_until

CERTS = 5


def make_identity(directory, name):
    """A self-signed P-256 certificate for 127.0.0.1 and its key, mode 0600: (cert, key) paths."""
    cert, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    key, "-out", cert, "-subj", "/CN=%s.faro.test" % name, "-addext", "subjectAltName=IP:127.0.0.1",
                    "-days", "2"], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def install(source, target):
    """Replaces target by source's bytes the way a renewal does: a new file renamed into place."""
    with open(source, "rb") as f:
        data = f.read()
    temp = target + ".new"
    with open(temp, "wb") as f:
        f.write(data)
    os.chmod(temp, 0o600)
    os.rename(temp, target)


def der_fingerprint(pem_path):
    der = subprocess.run(["openssl", "x509", "-in", pem_path, "-outform", "DER"], check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def tls_connection(port, alpn=None):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if alpn:
        context.set_alpn_protocols(alpn)
    return http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)


def presented(conn):
    """SHA-256 of the certificate the server presented on conn (connected)."""
    return hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()


def get(conn, path):
    conn.request("GET", path, headers={"User-Agent": "faro-tls-test (tests@faro.test)"})
    response = conn.getresponse()
    return response.status, response.read()


def check_large_tile(gateway, log_):
    """
    A full data tile above 64 KiB is kept open, not copied, and over TLS it is
    read into the request to be encrypted. The tree of this test has no full
    data tile, so one of random bytes is put at the first one's path.
    """
    rel = "tile/data/000"
    path = os.path.join(log_.storage, rel)
    want = os.urandom(140 * 1024)
    with open(path, "wb") as f:
        f.write(want)
    conn = tls_connection(gateway.port, ["http/1.1"])
    for _ in range(2):
        status, body = get(conn, "/tls/" + rel)
        check(status == 200 and body == want, "HTTPS/1.1 %s: %d, %d bytes" % (rel, status, len(body)))
    h2 = subprocess.run(["curl", "-sS", "--http2", "-k", "-o", "-", "-A", "faro-tls-test (tests@faro.test)",
                         "https://127.0.0.1:%d/tls/%s" % (gateway.port, rel)], check=True, capture_output=True).stdout
    check(h2 == want, "curl --http2 %s: %d bytes, not the tile" % (rel, len(h2)))
    os.truncate(path, 1000)
    status, body = get(conn, "/tls/" + rel)
    check(status == 500, "HTTPS/1.1 %s truncated behind the gateway: %d, %d bytes" % (rel, status, len(body)))
    check(gateway.proc.poll() is None, "faro-gateway died serving a truncated tile over TLS")
    wait_until(lambda: "reading /%s" % rel in gateway.stderr(), 10, "the gateway to log the short read")
    conn.close()
    os.unlink(path)
    log("a 140 KiB data tile kept open: byte for byte over HTTPS/1.1 and HTTP/2; truncated, a 500 and a log line")


def reloads(gateway, words):
    return sum(1 for line in gateway.stderr().splitlines() if "SIGHUP" in line and words in line)


def test(args, workdir):
    writer, log_, template, roots, chains = start_log(args, workdir, "tls", CERTS, 0, sequence_interval="100ms")
    submit_all(writer, log_, chains[:CERTS])
    wait_until(lambda: log_.checkpoint()[0] == CERTS, 30, "the tree to reach %d" % CERTS)
    tls = os.path.join(workdir, "tls")
    os.makedirs(tls)
    first_cert, first_key = make_identity(tls, "first")
    second_cert, second_key = make_identity(tls, "second")
    cert, key = os.path.join(tls, "gateway.crt"), os.path.join(tls, "gateway.key")
    install(first_cert, cert)
    install(first_key, key)
    gateway = Gateway(args["gateway"], workdir, template, writer=writer,
                      settings={"threads": 2, "tls_cert": cert, "tls_key": key})
    gateway.start()
    path = "/tls/checkpoint"

    conn = tls_connection(gateway.port, ["http/1.1"])
    status, body = get(conn, path)
    with open(os.path.join(log_.storage, "checkpoint"), "rb") as f:
        stored = f.read()
    check(status == 200 and body[:40] == stored[:40], "HTTPS checkpoint: %d %r" % (status, body[:80]))
    check(presented(conn) == der_fingerprint(first_cert), "the handshake presented another certificate than tls_cert")
    log("HTTPS/1.1: the checkpoint, under the configured certificate")

    probe = tls_connection(gateway.port, ["h2", "http/1.1"])
    probe.connect()
    check(probe.sock.selected_alpn_protocol() == "h2", "ALPN chose %r, want h2" % probe.sock.selected_alpn_protocol())
    probe.close()
    h2 = subprocess.run(["curl", "-sS", "--http2", "-k", "-o", "-", "-w", "\n%{http_version} %{http_code}",
                         "-A", "faro-tls-test (tests@faro.test)", "https://127.0.0.1:%d%s" % (gateway.port, path)],
                        check=True, capture_output=True).stdout
    h2_body, _, h2_status = h2.rpartition(b"\n")
    check(h2_status == b"2 200" and h2_body[:40] == stored[:40], "curl --http2: %r" % h2[-200:])
    log("HTTP/2: ALPN h2, and curl --http2 gets the checkpoint")
    check_large_tile(gateway, log_)

    # A renewal: new files renamed into place, then SIGHUP.
    install(second_cert, cert)
    install(second_key, key)
    gateway.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: reloads(gateway, "TLS certificate reloaded") == 1, 10, "the gateway to reload its certificate")
    renewed = tls_connection(gateway.port)
    status, _ = get(renewed, path)
    check(status == 200 and presented(renewed) == der_fingerprint(second_cert), "after SIGHUP: not the renewed certificate")
    status, body = get(conn, path)
    check(status == 200 and body[:40] == stored[:40], "the connection opened before the renewal: %d" % status)
    log("SIGHUP: new connections get the renewed certificate; one opened before is still served")

    # A broken renewal (the first key with the second certificate) is refused; the last good one stays.
    install(first_key, key)
    gateway.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: reloads(gateway, "keeping the current TLS certificate") == 1, 10, "the gateway to refuse the files")
    line = next(l for l in gateway.stderr().splitlines() if "keeping the current TLS certificate" in l)
    check("gateway.tls_key" in line and "is not the PEM private key of the certificate" in line, "refusal: %s" % line)
    again = tls_connection(gateway.port)
    status, _ = get(again, path)
    check(status == 200 and presented(again) == der_fingerprint(second_cert), "a refused reload changed the certificate")
    log("SIGHUP with a mismatched key: %s" % line[line.find("SIGHUP"):])
    for c in (conn, renewed, again):
        c.close()
    gateway.stop()
    writer.stop()


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:], required=("writer", "gateway", "keygen", "mkchains")))

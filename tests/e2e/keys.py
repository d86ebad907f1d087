#!/usr/bin/env python3
"""No private key material in anything faro's programs print.

Everything faro-keygen, faro-writer and faro-gateway write to stdout and
stderr is kept, over:
  - a normal life: faro-keygen making the keys and printing them again
    (--print-only); the writer creating the log, taking submissions and
    SIGHUP; the gateway serving it (its pages and /metrics are kept too);
    SIGTERM for both;
  - refused starts around keys, each of which must exit 1 naming the setting
    (or the keygen flag) and saying why: a key group or others can read, a key
    of the wrong type (Ed25519 as `key`, ECDSA as `ed25519_key`), a truncated
    and a garbled PEM, a public key where the private one belongs, a
    directory, a missing file, the PEM text itself pasted in place of the
    path; the gateway given signing keys it could write, a truncated TLS key
    and one that is not the certificate's; faro-keygen refusing to overwrite
    a key.
Then none of it may hold: a line of a private key's PEM body, the base64
(standard or URL-safe) of its DER, or the raw ECDSA scalar, Ed25519 seed or
TLS key scalar (taken from `openssl pkey -text`) as hex (also colon-separated,
as OpenSSL prints it), base64 at each of the three byte alignments, or any 12
bytes of it in hex or raw. The scanner is checked on the key files first.

Usage: keys.py --writer BIN --gateway BIN --keygen BIN --mkchains BIN
"""

import base64
import copy
import os
import re
import shutil
import signal
import subprocess
import sys

from e2elib import Client, Gateway, Writer, check, log, main, start_log, submit_all, wait_until, write_config

WINDOW = 12  # bytes of a secret that count as a leak

CUT_SHORT = "not an unencrypted PEM private key: its PEM block is cut short or malformed"
PUBLIC_AS_PRIVATE = "not an unencrypted PEM private key: the file holds a PUBLIC KEY block, not a private key"


def pem_body(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("-----")]


def private_scalar(path):
    """The private scalar or seed that `openssl pkey -text` prints under "priv:"."""
    text = subprocess.run(["openssl", "pkey", "-in", path, "-text", "-noout"], capture_output=True, text=True,
                          check=True).stdout
    block = re.search(r"^priv:\n((?:\s+[0-9a-f:]+\n)+)", text, re.M)
    check(block is not None, "openssl printed no private part for %s:\n%s" % (path, text))
    return bytes.fromhex(re.sub(r"[\s:]", "", block.group(1)))


def secrets(path):
    """Every string whose presence in the output would leak the private key in path."""
    body = pem_body(path)
    der = base64.b64decode("".join(body))
    found = set(line.encode() for line in body)
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        found.add(encode(der).rstrip(b"="))
    raw = private_scalar(path)
    for shift in range(3):  # base64 of the scalar wherever it starts inside a longer base64 text
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            found.add(encode(raw[shift:])[:-4])
    for i in range(len(raw) - WINDOW + 1):
        piece = raw[i:i + WINDOW]
        found.update({piece, piece.hex().encode(), piece.hex().upper().encode(), piece.hex(":").encode(),
                      piece.hex(":").upper().encode()})
    return found


def leaks(blob, secret_set):
    return sorted(s.decode(errors="replace") for s in secret_set if s in blob)


class Output:
    """Everything the programs printed, by where it came from."""

    def __init__(self):
        self.parts = []

    def add(self, label, data):
        self.parts.append((label, data if isinstance(data, bytes) else data.encode()))

    def add_daemon_files(self, workdir):
        for name in sorted(os.listdir(workdir)):
            if name.endswith((".stdout", ".stderr")):
                with open(os.path.join(workdir, name), "rb") as f:
                    self.add(name, f.read())


def keygen(args, out, label, *flags):
    """Runs faro-keygen with flags; keeps what it printed; returns (exit status, stdout + stderr)."""
    result = subprocess.run([args["keygen"]] + list(flags), capture_output=True)
    text = result.stdout + result.stderr
    out.add("faro-keygen " + label, text)
    return result.returncode, text.decode(errors="replace")


def refused(daemon, what, words):
    """Starts the daemon, which must exit 1 at once with a stderr holding every one of words."""
    daemon.start(wait=False)
    code = daemon.wait_exit(60)
    text = daemon.stderr()
    check(code == 1, "%s: %s exited with %s:\n%s" % (what, daemon.name, code, text[-2000:]))
    for word in words:
        check(word in text, "%s: %s's refusal does not say %r:\n%s" % (what, daemon.name, word, text[-2000:]))
    return text.strip().splitlines()[-1]


def bad_files(workdir, log_, tls_key):
    """Broken copies of the keys: {name: path}."""
    bad = os.path.join(workdir, "bad")
    os.makedirs(os.path.join(bad, "directory.pem"))
    files = {"directory": os.path.join(bad, "directory.pem"), "missing": os.path.join(bad, "missing.pem")}

    def write(name, text, mode=0o600):
        path = os.path.join(bad, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        files[name] = path

    with open(log_.key) as f:
        ecdsa = f.read()
    with open(log_.ed25519_key) as f:
        ed25519 = f.read()
    lines = ecdsa.splitlines(keepends=True)
    write("ecdsa-0644.pem", ecdsa, 0o644)
    write("ed25519-0640.pem", ed25519, 0o640)
    write("ecdsa-truncated.pem", "".join(lines[:2]))  # the BEGIN line and the first line of the body
    write("ecdsa-garbled.pem", lines[0] + lines[1][:20] + "*garbled*" + lines[1][29:] + "".join(lines[2:]))
    write("ed25519-truncated.pem", ed25519[:len(ed25519) // 2])
    write("ecdsa-public.pem", open(log_.pubkey).read())
    ed_public = subprocess.run(["openssl", "pkey", "-in", log_.ed25519_key, "-pubout"], capture_output=True, text=True,
                               check=True).stdout
    write("ed25519-public.pem", ed_public)
    with open(tls_key) as f:
        write("tls-truncated.pem", f.read()[:150])
    return files


def log_variant(log_, **keys):
    variant = copy.copy(log_)
    for name, value in keys.items():
        setattr(variant, name, value)
    return variant


def writer_refusals(args, workdir, log_, roots, files):
    """Each broken key setting: (settings, the words the refusal must hold)."""
    lock_db = os.path.join(workdir, "state", "lock.db")
    inline_key = open(log_.key).read()
    cases = [
        ("key readable by others", {"key": files["ecdsa-0644.pem"]}, ["key: ", "mode 0644", "group or others can read"]),
        ("ed25519_key readable by the group", {"ed25519_key": files["ed25519-0640.pem"]},
         ["ed25519_key: ", "mode 0640", "group or others can read"]),
        ("Ed25519 key as key", {"key": log_.ed25519_key}, ["key: ", "the key is ED25519, want ECDSA P-256"]),
        ("ECDSA key as ed25519_key", {"ed25519_key": log_.key}, ["ed25519_key: ", "the key is EC, want Ed25519"]),
        ("truncated key", {"key": files["ecdsa-truncated.pem"]}, ["key: ", CUT_SHORT]),
        ("garbled key", {"key": files["ecdsa-garbled.pem"]}, ["key: ", CUT_SHORT]),
        ("truncated ed25519_key", {"ed25519_key": files["ed25519-truncated.pem"]},
         ["ed25519_key: ", CUT_SHORT]),
        ("public key as key", {"key": files["ecdsa-public.pem"]}, ["key: ", PUBLIC_AS_PRIVATE]),
        ("public key as ed25519_key", {"ed25519_key": files["ed25519-public.pem"]},
         ["ed25519_key: ", PUBLIC_AS_PRIVATE]),
        ("directory as key", {"key": files["directory"]}, ["key: ", "not a regular file"]),
        ("missing key", {"key": files["missing"]}, ["key: ", "cannot open: No such file or directory"]),
        ("PEM text as key", {"key": inline_key}, ["logs[0].key: must be the path of a file, not its contents"]),
        ("PEM text as ed25519_key", {"ed25519_key": open(log_.ed25519_key).read()},
         ["logs[0].ed25519_key: must be the path of a file, not its contents"]),
    ]
    for n, (what, keys, words) in enumerate(cases):
        template = os.path.join(workdir, "refused-%d.yaml.in" % n)
        write_config(template, lock_db, [log_variant(log_, **keys)], roots)
        writer = Writer(args["writer"], workdir, template)
        writer.name = "faro-writer-refused-%d" % n  # its own output files
        line = refused(writer, what, words)
        log("writer, %s: %s" % (what, line[line.find(" fatal ") + 1:]))
    return len(cases)


def gateway_refusals(args, workdir, log_, roots, files, tls_cert):
    lock_db = os.path.join(workdir, "state", "lock.db")
    writable = os.path.join(workdir, "bad", "writable")
    os.makedirs(writable)
    for name, source in (("ecdsa.pem", log_.key), ("ed25519.pem", log_.ed25519_key)):
        shutil.copy(source, os.path.join(writable, name))
        os.chmod(os.path.join(writable, name), 0o600)
    cases = [
        ("writable key", {"key": os.path.join(writable, "ecdsa.pem")}, {},
         ["logs[0].key: faro-gateway could open this signing key for writing", "mode 0600"]),
        ("writable ed25519_key", {"ed25519_key": os.path.join(writable, "ed25519.pem")}, {},
         ["logs[0].ed25519_key: faro-gateway could open this signing key for writing", "mode 0600"]),
        ("PEM text as key", {"key": open(log_.key).read()}, {},
         ["logs[0].key: must be the path of a file, not its contents"]),
        ("truncated tls_key", {}, {"tls_cert": tls_cert, "tls_key": files["tls-truncated.pem"]},
         ["gateway.tls_key: ", CUT_SHORT]),
        ("another key as tls_key", {}, {"tls_cert": tls_cert, "tls_key": log_.key},
         ["gateway.tls_key: ", "is not the PEM private key of the certificate in gateway.tls_cert", "mismatch"]),
    ]
    for n, (what, keys, settings, words) in enumerate(cases):
        template = os.path.join(workdir, "gateway-refused-%d.yaml.in" % n)
        write_config(template, lock_db, [log_variant(log_, **keys)], roots)
        gateway = Gateway(args["gateway"], workdir, template, settings=settings)
        gateway.name = "faro-gateway-refused-%d" % n
        line = refused(gateway, what, words)
        log("gateway, %s: %s" % (what, line[line.find(" fatal ") + 1:]))
    return len(cases)


def keygen_refusals(args, out, log_, files):
    """faro-keygen --print-only on broken keys, and over existing ones: exit 1 naming the flag and the reason."""
    origin = ["--origin", log_.origin]
    cases = [
        ("key readable by others", ["--ecdsa", files["ecdsa-0644.pem"], "--ed25519", log_.ed25519_key],
         ["--ecdsa: ", "mode 0644"]),
        ("wrong types", ["--ecdsa", log_.ed25519_key, "--ed25519", log_.key], ["--ecdsa: ", "want ECDSA P-256"]),
        ("ECDSA key as --ed25519", ["--ecdsa", log_.key, "--ed25519", log_.key], ["--ed25519: ", "want Ed25519"]),
        ("truncated", ["--ecdsa", files["ecdsa-truncated.pem"], "--ed25519", log_.ed25519_key],
         ["--ecdsa: ", CUT_SHORT]),
        ("garbled", ["--ecdsa", files["ecdsa-garbled.pem"], "--ed25519", log_.ed25519_key],
         ["--ecdsa: ", CUT_SHORT]),
        ("public key", ["--ecdsa", log_.key, "--ed25519", files["ed25519-public.pem"]],
         ["--ed25519: ", PUBLIC_AS_PRIVATE]),
        ("directory", ["--ecdsa", files["directory"], "--ed25519", log_.ed25519_key], ["--ecdsa: ", "not a regular file"]),
        ("missing", ["--ecdsa", log_.key, "--ed25519", files["missing"]], ["--ed25519: ", "cannot open"]),
    ]
    for what, flags, words in cases:
        code, text = keygen(args, out, what, "--print-only", *(origin + flags))
        check(code == 1 and all(w in text for w in words), "faro-keygen --print-only, %s: exit %d, %r" % (what, code, text))
    code, text = keygen(args, out, "existing keys", *(origin + ["--ecdsa", log_.key, "--ed25519", log_.ed25519_key]))
    check(code == 1 and "already exists; refusing to overwrite" in text, "faro-keygen over existing keys: %d %r" % (code, text))
    return len(cases) + 1


def normal_life(args, workdir, out):
    writer, log_, template, roots, chains = start_log(args, workdir, "keys", 30, 3, sequence_interval="100ms")
    out.add("faro-keygen making the keys", log_.keygen_output)
    submit_all(writer, log_, chains)
    wait_until(lambda: log_.checkpoint()[0] == len(chains), 30, "the tree to hold every submission")
    writer.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reloaded roots" in writer.stderr(), 30, "the writer to reload its roots on SIGHUP")
    gateway = Gateway(args["gateway"], workdir, template, writer=writer)
    gateway.start()
    for daemon, paths in ((gateway, ["/", "/keys/", "/keys/checkpoint", "/keys/log.v3.json", "/health", "/metrics"]),
                          (writer, ["/metrics", log_.path("get-roots")])):
        client = Client(daemon.port)
        for path in paths:
            status, _, body = client.request("GET", path)
            check(status == 200, "%s %s: %d" % (daemon.name, path, status))
            out.add("%s GET %s" % (daemon.name, path), body)
        client.close()
    code, _ = keygen(args, out, "--print-only", "--print-only", "--origin", log_.origin, "--ecdsa", log_.key, "--ed25519",
                     log_.ed25519_key)
    check(code == 0, "faro-keygen --print-only on the log's keys: exit %d" % code)
    gateway.stop()
    writer.stop()
    return log_, roots


def test(args, workdir):
    out = Output()
    log_, roots = normal_life(args, workdir, out)

    tls = os.path.join(workdir, "tls")
    os.makedirs(tls)
    tls_key, tls_cert = os.path.join(tls, "key.pem"), os.path.join(tls, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    tls_key, "-out", tls_cert, "-subj", "/CN=127.0.0.1", "-days", "1"], check=True, capture_output=True)
    files = bad_files(workdir, log_, tls_key)
    refusals = writer_refusals(args, workdir, log_, roots, files)
    refusals += gateway_refusals(args, workdir, log_, roots, files, tls_cert)
    refusals += keygen_refusals(args, out, log_, files)
    out.add_daemon_files(workdir)

    secret_set = set()
    for path in (log_.key, log_.ed25519_key, tls_key):
        mine = secrets(path)
        # The scanner must see the key without its PEM lines: in openssl's dump of it, colon-hex split across lines.
        dump = subprocess.run(["openssl", "pkey", "-in", path, "-text", "-noout"], capture_output=True, check=True).stdout
        check(leaks(dump, mine), "the scanner finds nothing in openssl's dump of %s" % path)
        secret_set |= mine
    total = 0
    for label, data in out.parts:
        found = leaks(data, secret_set)
        check(not found, "%s printed private key material: %s" % (label, found[:3]))
        total += len(data)
    log("%d refused starts, each naming its setting and why; %d outputs (%d bytes) hold none of %d private key strings" %
        (refusals, len(out.parts), total, len(secret_set)))


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:], required=("writer", "gateway", "keygen", "mkchains")))

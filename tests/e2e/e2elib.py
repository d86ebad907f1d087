"""Shared pieces of faro's end-to-end tests (writer-e2e.py, writer-crash.py, gateway-e2e.py).

Starts and stops faro-writer and faro-gateway on free loopback ports, writes keys and
configuration, talks HTTP/1.1 with keep-alive, reads a log's checkpoint from
storage, and runs ctcheck. Python standard library only.
"""

import base64
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "ERROR: ThreadSanitizer")
ORIGIN_HOST = "e2e.faro.test"
# h2o's own memory, still held at exit (see the file); faro's leaks are reported as usual.
LSAN_SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan-h2o.supp")


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def log(message):
    print(message, flush=True)


def scale():
    """FARO_E2E_SCALE (default 1) multiplies the load the tests generate (the sanitized build may want less)."""
    return float(os.environ.get("FARO_E2E_SCALE", "1"))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout, what, interval=0.02):
    """Polls condition() until it returns a true value, which is returned; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class Log:
    """One log of the test configuration: its keys, storage and origin (independent of the listen port)."""

    def __init__(self, workdir, name, keygen, **settings):
        self.name = name
        self.origin = "%s/%s" % (ORIGIN_HOST, name)
        self.storage = os.path.join(workdir, "data", name)
        self.settings = settings
        keys = os.path.join(workdir, "keys")
        os.makedirs(keys, mode=0o700, exist_ok=True)
        self.key = os.path.join(keys, name + ".ecdsa.pem")
        self.ed25519_key = os.path.join(keys, name + ".ed25519.pem")
        self.pubkey = os.path.join(keys, name + ".pub.pem")
        if os.path.exists(self.pubkey):
            return  # the keys of an earlier run in the same folder (a benchmark's cached tree)
        out = subprocess.run([keygen, "--origin", self.origin, "--ecdsa", self.key, "--ed25519", self.ed25519_key],
                             capture_output=True, text=True, check=True).stdout
        pem = re.search(r"-----BEGIN PUBLIC KEY-----\n.*?-----END PUBLIC KEY-----\n", out, re.S)
        check(pem is not None, "faro-keygen printed no public key:\n" + out)
        with open(self.pubkey, "w") as f:
            f.write(pem.group(0))

    def yaml(self, roots):
        lines = [
            '  - name: "%s"' % self.name,
            '    submission_prefix: "http://%s"' % self.origin,
            '    monitoring_prefix: "http://%s"' % self.origin,
            '    key: "%s"' % self.key,
            '    ed25519_key: "%s"' % self.ed25519_key,
            '    roots: "%s"' % roots,
            '    storage: "%s"' % self.storage,
        ]
        for key, value in self.settings.items():
            lines.append("    %s: %s" % (key, json.dumps(value)))
        return "\n".join(lines) + "\n"

    def path(self, endpoint):
        return "/%s/ct/v1/%s" % (self.name, endpoint)

    def checkpoint(self):
        """(size, root b64, body) of the checkpoint in storage."""
        with open(os.path.join(self.storage, "checkpoint"), "rb") as f:
            body = f.read()
        lines = body.decode().split("\n")
        check(lines[0] == self.origin, "%s: checkpoint origin %r" % (self.name, lines[0]))
        return int(lines[1]), lines[2], body


def write_config(path, lock_db, logs, roots):
    """A faro.yaml for logs; the listen address is filled in by Writer.start."""
    text = "writer:\n  listen: \"127.0.0.1:@PORT@\"\n  lock_db: \"%s\"\nlogs:\n" % lock_db
    text += "".join(l.yaml(roots) for l in logs)
    with open(path, "w") as f:
        f.write(text)


RUNNING = []  # daemons started and not yet reaped, killed if a test ends early


class Daemon:
    """A faro daemon on fresh loopback ports; its stderr goes to a file checked for sanitizer reports.

    Subclasses say which binary, which command-line flags, how to fill the configuration
    template (config_text) and how to tell it is serving (ready_path on self.port)."""

    name = "daemon"
    ready_path = "/metrics"

    def __init__(self, binary, workdir, config_template):
        RUNNING.append(self)
        self.binary = binary
        self.workdir = workdir
        self.template = config_template
        self.proc = None
        self.port = None
        self.runs = 0
        self.stderr_path = None

    def config_text(self, template_text):
        raise NotImplementedError

    def flags(self, **options):
        return []

    def launch(self, wait=True, **options):
        with open(self.template) as f:
            text = self.config_text(f.read())
        config = os.path.join(self.workdir, "%s.yaml" % self.name)
        with open(config, "w") as f:
            f.write(text)
        self.runs += 1
        self.stderr_path = os.path.join(self.workdir, "%s-%d.stderr" % (self.name, self.runs))
        args = [self.binary, "--config", config] + self.flags(**options)
        env = dict(os.environ)
        env["LSAN_OPTIONS"] = ":".join(filter(None, [env.get("LSAN_OPTIONS"), "suppressions=" + LSAN_SUPPRESSIONS]))
        with open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, env=env)
        if wait:
            wait_until(self.ready, 60, "%s to listen on port %d" % (self.name, self.port))

    def ready(self):
        if self.proc.poll() is not None:
            raise Failure("%s exited with %s while starting:\n%s" % (self.name, self.proc.returncode, self.stderr()))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", self.ready_path)
            conn.getresponse().read()
            conn.close()
            return True
        except OSError:
            return False

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def check_sanitizers(self):
        text = self.stderr()
        for marker in SANITIZER_MARKERS:
            check(marker not in text, "%s run %d: sanitizer report (%s):\n%s" % (self.name, self.runs, marker, text[-6000:]))

    def stop(self, timeout=60):
        """SIGTERM; the daemon must exit 0 with a clean stderr."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Failure("%s did not exit within %d s of SIGTERM" % (self.name, timeout))
        self.check_sanitizers()
        check(code == 0, "%s exited with %d after SIGTERM:\n%s" % (self.name, code, self.stderr()[-4000:]))

    def kill(self):
        """SIGKILL; the daemon must have been running until then."""
        check(self.proc.poll() is None,
              "%s exited with %s before the kill:\n%s" % (self.name, self.proc.returncode, self.stderr()[-4000:]))
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.check_sanitizers()

    def connection(self):
        return Client(self.port)

    def metrics_text(self):
        client = self.connection()
        status, _, body = client.request("GET", "/metrics")
        client.close()
        check(status == 200, "%s /metrics: status %d" % (self.name, status))
        return body.decode()


class Writer(Daemon):
    """faro-writer; the template's @PORT@ becomes its listen port."""

    name = "faro-writer"

    def config_text(self, template_text):
        return template_text.replace("@PORT@", str(self.port))

    def flags(self, create_missing=False):
        return ["--threads", "4"] + (["--create-missing"] if create_missing else [])

    def start(self, create_missing=False, wait=True):
        self.port = free_port()
        self.launch(wait=wait, create_missing=create_missing)

    def metric(self, name, log_name):
        match = re.search(r'^%s\{log="%s"\} (\S+)$' % (re.escape(name), re.escape(log_name)), self.metrics_text(), re.M)
        check(match is not None, "/metrics has no %s for %s" % (name, log_name))
        return float(match.group(1))


class Gateway(Daemon):
    """faro-gateway on the same template, with a gateway section of its own (settings as YAML under gateway:)."""

    name = "faro-gateway"

    def __init__(self, binary, workdir, config_template, writer=None, settings=None):
        super().__init__(binary, workdir, config_template)
        self.writer = writer
        self.settings = settings or {}
        self.admin_port = None

    def config_text(self, template_text):
        text = template_text.replace("@PORT@", str(self.writer.port if self.writer and self.writer.port else 1))
        lines = ["gateway:", '  listen: "127.0.0.1:%d"' % self.port, '  admin_listen: "127.0.0.1:%d"' % self.admin_port]
        for key, value in self.settings.items():
            if isinstance(value, dict):
                lines.append("  %s:" % key)
                lines += ["    %s: %s" % (k, json.dumps(v)) for k, v in value.items()]
            else:
                lines.append("  %s: %s" % (key, json.dumps(value)))
        return "\n".join(lines) + "\n" + text

    def start(self, wait=True):
        self.port, self.admin_port = free_port(), free_port()
        self.launch(wait=wait)

    def admin_connection(self):
        return Client(self.admin_port)


class Client:
    """One keep-alive HTTP/1.1 connection to the writer."""

    def __init__(self, port, timeout=120):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        """(status, headers as a lowercase dict, body bytes); network errors propagate."""
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        hdrs.update(headers or {})
        self.conn.request(method, path, body=body, headers=hdrs)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def close(self):
        self.conn.close()


def chain_body(chain):
    return json.dumps({"chain": chain}).encode()


def submit_all(writer, log_, submissions, threads=16):
    """POSTs each submission ({"endpoint", "chain"}) to the writer, threads at a time; every one must get 200."""
    def submit(sub):
        client = writer.connection()
        status, _, _ = client.request("POST", log_.path(sub["endpoint"]), chain_body(sub["chain"]))
        client.close()
        return status

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(submit, submissions))
    check(all(s == 200 for s in statuses), "submissions: %r" % sorted(set(statuses)))


def metric_sum(text, name, **labels):
    """The sum of the Prometheus samples of name whose labels include labels."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^%s(?:\{(.*)\})? (\S+)$" % re.escape(name), line)
        if m and all(dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or "")).get(k) == v for k, v in labels.items()):
            total += float(m.group(2))
    return total


def leaf_index(sct):
    """The leaf index in an add-chain response's extensions (exactly one leaf_index extension), or a Failure."""
    ext = base64.b64decode(sct["extensions"], validate=True)
    check(len(ext) == 8 and ext[0] == 0 and ext[1:3] == b"\x00\x05",
          "SCT extensions %s are not one leaf_index extension" % sct["extensions"])
    return int.from_bytes(ext[3:], "big")


def sct_record(submission, sct_bytes):
    """A ctcheck input line for a submission and the SCT it was answered with."""
    chain = submission["chain"]
    return json.dumps({"leaf_der_b64": chain[0], "issuer_chain_der_b64": chain[1:],
                       "precert": submission["endpoint"] == "add-pre-chain", "sct": json.loads(sct_bytes)})


def run_ctcheck(ctcheck, log_, roots, records, workdir, min_size=0):
    """ctcheck over the log's storage and the SCT records; returns its summary line."""
    scts = os.path.join(workdir, "%s.scts.jsonl" % log_.name)
    with open(scts, "w") as f:
        for line in records:
            f.write(line + "\n")
    result = subprocess.run([ctcheck, "-storage", log_.storage, "-origin", log_.origin, "-pubkey", log_.pubkey,
                             "-roots", roots, "-scts", scts, "-min-size", str(min_size)],
                            capture_output=True, text=True)
    check(result.returncode == 0, "ctcheck %s:\n%s%s" % (log_.name, result.stdout, result.stderr))
    return result.stdout.strip()


def parse_args(argv):
    """--writer, --keygen, --mkchains, --ctcheck paths (and any other --name path, such as --gateway)."""
    args = {}
    it = iter(argv)
    for flag in it:
        check(flag.startswith("--"), "unexpected argument %s" % flag)
        args[flag[2:]] = next(it)
    for name in ("writer", "keygen", "mkchains", "ctcheck"):
        check(name in args, "missing --%s" % name)
    return args


def main(test, argv):
    """Runs test(args, workdir) in a temporary directory, removed on success; exit 1 on Failure, 77 without ctcheck."""
    try:
        args = parse_args(argv)
    except Failure as e:
        print("usage error: %s" % e, file=sys.stderr)
        return 2
    if not os.path.exists(args["ctcheck"]):
        print("skipped: %s was not built (needs go and golang-golang-x-mod-dev)" % args["ctcheck"])
        return 77
    workdir = tempfile.mkdtemp(prefix="faro-e2e-")
    started = time.monotonic()
    try:
        test(args, workdir)
    except Failure as e:
        print("FAIL: %s\n(work directory kept: %s)" % (e, workdir), file=sys.stderr)
        return 1
    finally:
        for daemon in RUNNING:
            if daemon.proc is not None and daemon.proc.poll() is None:
                daemon.proc.kill()
                daemon.proc.wait()
    log("PASS in %.1f s" % (time.monotonic() - started))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0

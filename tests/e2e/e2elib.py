"""Shared pieces of faro's end-to-end tests (writer-e2e.py, writer-crash.py, writer-faults.py, writer-roots.py,
gateway-e2e.py, gateway-progress.py, hostile.py, keys.py, load.py, witness-e2e.py).

Starts and stops faro-writer and faro-gateway on free loopback ports, writes keys and
configuration, talks HTTP/1.1 with keep-alive, reads a log's checkpoint from
storage, finds leftover temporary files, and runs ctcheck; starts test
witnesses (faro-test-witness) and checks cosigned checkpoints with
quorumcheck. Python standard library only.
"""

import base64
import concurrent.futures
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "ERROR: ThreadSanitizer")
ORIGIN_HOST = "e2e.faro.test"
# h2o's own memory, still held at exit (see the file); faro's leaks are reported as usual.
LSAN_SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan-h2o.supp")


class Failure(Exception):
    pass


class Skip(Exception):
    """The test cannot run here (a missing tool): main reports it skipped (77)."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def log(message):
    print(message, flush=True)


def scale():
    """FARO_E2E_SCALE (default 1) multiplies the load the tests generate (the sanitized build may want less)."""
    return float(os.environ.get("FARO_E2E_SCALE", "1"))


def free_port_block(count):
    """count consecutive free ports below the kernel's ephemeral range.

    A port from the ephemeral range (what binding port 0 gives) can be taken
    as the local port of any outgoing connection, the tests' own included,
    before the server binds it; ports below the range are never handed out
    that way."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    for _ in range(1000):
        base = random.randrange(max(1024, low - 12000), low - count)
        try:
            for port in range(base, base + count):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise Failure("no %d consecutive free ports" % count)


def free_port():
    return free_port_block(1)


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
        self.keygen_output = ""  # what faro-keygen printed making the keys (tests/e2e/keys.py reads it)
        if os.path.exists(self.pubkey):
            return  # the keys of an earlier run in the same folder (a benchmark's cached tree)
        made = subprocess.run([keygen, "--origin", self.origin, "--ecdsa", self.key, "--ed25519", self.ed25519_key],
                              capture_output=True, text=True, check=True)
        self.keygen_output = made.stdout + made.stderr
        out = made.stdout
        pem = re.search(r"-----BEGIN PUBLIC KEY-----\n.*?-----END PUBLIC KEY-----\n", out, re.S)
        check(pem is not None, "faro-keygen printed no public key:\n" + out)
        vkey = re.search(r"^Ed25519 verifier key: (\S+)$", out, re.M)
        check(vkey is not None, "faro-keygen printed no verifier key:\n" + out)
        self.vkey = vkey.group(1)
        with open(self.pubkey, "w") as f:
            f.write(pem.group(0))

    def yaml(self, roots):
        lines = [
            '  - name: "%s"' % self.name,
            '    submission_prefix: "http://%s"' % self.origin,
            '    monitoring_prefix: "http://%s"' % self.origin,
            '    key: %s' % json.dumps(self.key),
            '    ed25519_key: %s' % json.dumps(self.ed25519_key),
            '    roots: %s' % json.dumps(roots),
            '    storage: %s' % json.dumps(self.storage),
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


RUNNING = []  # daemons and witnesses started and not yet reaped, killed if a test ends early


class Daemon:
    """A faro daemon on fresh loopback ports; its stderr goes to a file checked for sanitizer reports, and each run's
    stdout and stderr stay in <workdir>/<name>-<run>.stdout and .stderr.

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

    def launch(self, wait=True, env=None, preexec_fn=None, **options):
        """Starts the daemon; env adds variables (FARO_DURABLE_FAULT), preexec_fn runs in the child (setrlimit)."""
        with open(self.template) as f:
            text = self.config_text(f.read())
        config = os.path.join(self.workdir, "%s.yaml" % self.name)
        with open(config, "w") as f:
            f.write(text)
        self.runs += 1
        self.stderr_path = os.path.join(self.workdir, "%s-%d.stderr" % (self.name, self.runs))
        stdout_path = os.path.join(self.workdir, "%s-%d.stdout" % (self.name, self.runs))
        args = [self.binary, "--config", config] + self.flags(**options)
        environment = dict(os.environ)
        environment["LSAN_OPTIONS"] = ":".join(
            filter(None, [environment.get("LSAN_OPTIONS"), "suppressions=" + LSAN_SUPPRESSIONS]))
        environment.update(env or {})
        with open(self.stderr_path, "w") as err, open(stdout_path, "w") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=err, env=environment, preexec_fn=preexec_fn)
        if wait:
            wait_until(self.ready, 60, "%s to listen on port %d" % (self.name, self.port))

    def probe_port(self):
        """The port whose plain-HTTP answer to ready_path means the daemon is serving."""
        return self.port

    def ready(self):
        if self.proc.poll() is not None:
            raise Failure("%s exited with %s while starting:\n%s" % (self.name, self.proc.returncode, self.stderr()))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.probe_port(), timeout=5)
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

    def wait_exit(self, timeout=60):
        """Waits for the daemon to exit on its own; returns its exit status."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure("%s still runs %d s after it should have stopped:\n%s" % (self.name, timeout, self.stderr()[-4000:]))
        self.check_sanitizers()
        return code

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
    threads = 4  # --threads (HTTP threads)

    def config_text(self, template_text):
        return template_text.replace("@PORT@", str(self.port))

    def flags(self, create_missing=False):
        return ["--threads", str(self.threads)] + (["--create-missing"] if create_missing else [])

    def start(self, create_missing=False, wait=True, env=None, preexec_fn=None):
        self.port = free_port()
        self.launch(wait=wait, env=env, preexec_fn=preexec_fn, create_missing=create_missing)

    def metric(self, name, log_name, **labels):
        """The value of the series name{log=log_name, labels...} (exactly those labels) on /metrics."""
        want = dict(labels, log=log_name)
        for match in re.finditer(r'^%s\{([^}]*)\} (\S+)$' % re.escape(name), self.metrics_text(), re.M):
            if dict(re.findall(r'(\w+)="([^"]*)"', match.group(1))) == want:
                return float(match.group(2))
        raise Failure("/metrics has no %s%s" % (name, want))

    def metric_labeled(self, name, labels):
        """The value of name{labels} in /metrics; labels as written there, e.g. 'log="x",outcome="ok"'."""
        match = re.search(r'^%s\{%s\} (\S+)$' % (re.escape(name), re.escape(labels)), self.metrics_text(), re.M)
        check(match is not None, "/metrics has no %s{%s}" % (name, labels))
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

    def start(self, wait=True, preexec_fn=None):
        self.port, self.admin_port = free_port(), free_port()
        self.launch(wait=wait, preexec_fn=preexec_fn)

    def probe_port(self):
        return self.admin_port if "tls_cert" in self.settings else self.port

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


def submit_many(writer, log_, submissions, threads=16, network_errors=False):
    """
    Posts each submission from a pool of keep-alive connections; returns
    [(submission, status, headers, body)]. With network_errors, a connection
    that fails (the writer died) gives status None and the error as body.
    """
    local = threading.local()
    clients = []
    lock = threading.Lock()

    def one(sub):
        if not hasattr(local, "client"):
            local.client = writer.connection()
            with lock:
                clients.append(local.client)
        try:
            status, headers, body = local.client.request("POST", log_.path(sub["endpoint"]), chain_body(sub["chain"]))
        except (OSError, http.client.HTTPException) as e:
            if not network_errors:
                raise
            return sub, None, {}, repr(e).encode()
        return sub, status, headers, body

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, submissions))
    for client in clients:
        client.close()
    return results


def read_pem_der(path):
    """The DER of the first certificate in a PEM file."""
    with open(path) as f:
        text = f.read()
    body = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(body.split()))


TEMPORARY_NAME = re.compile(r"^\..+\.[A-Za-z0-9]{6}$")  # tlog_durable_write's ".<name>.XXXXXX"


def temporaries(*dirs):
    """Every regular file under dirs whose name is a durable write's temporary name."""
    found = []
    for top in dirs:
        for folder, _, files in os.walk(top):
            found.extend(os.path.join(folder, f) for f in files
                         if TEMPORARY_NAME.match(f) and os.path.isfile(os.path.join(folder, f)))
    return found


class TestWitness:
    """
    A faro-test-witness on loopback for the logs whose Ed25519 vkeys it is
    given. Its port and state file stay the same across restarts, so a
    restarted witness is the same witness; start() takes fault flags
    ("--delay", "1500", "--fault", "garbage", ...).
    """

    def __init__(self, binary, workdir, name, seed, log_vkeys, state_dir=None):
        """seed: the Ed25519 seed in hex, or one byte (an int) repeated 32 times; the state file goes in state_dir or workdir."""
        RUNNING.append(self)
        self.binary = binary
        self.name = name  # its cosigner key name
        self.seed = seed if isinstance(seed, str) else ("%02x" % seed) * 32
        self.log_vkeys = list(log_vkeys)
        safe = re.sub(r"[^A-Za-z0-9]", "_", name)
        self.state = os.path.join(state_dir or workdir, "witness-%s.state" % safe)
        self.stderr_path = os.path.join(workdir, "witness-%s.stderr" % safe)
        self.port = 0
        self.vkey = None
        self.proc = None

    def start(self, *flags):
        args = [self.binary, "--listen", "127.0.0.1:%d" % self.port, "--name", self.name, "--seed", self.seed,
                "--state", self.state]
        for vkey in self.log_vkeys:
            args += ["--log", vkey]
        with open(self.stderr_path, "a") as err:
            self.proc = subprocess.Popen(args + list(flags), stdout=subprocess.PIPE, stderr=err, text=True)
        vkey, listening = self.proc.stdout.readline().split(), self.proc.stdout.readline().split()
        check(len(vkey) == 2 and vkey[0] == "vkey" and listening[:2] == ["listening", "on"],
              "faro-test-witness %s did not start: %s %s" % (self.name, vkey, listening))
        self.vkey = vkey[1]
        self.port = int(listening[2].rsplit(":", 1)[1])
        return self

    def url(self):
        return "http://127.0.0.1:%d/%s" % (self.port, self.name)

    def stop(self):
        """SIGTERM (or nothing, if it has exited by itself, as --fault down does); its stderr must have no sanitizer report."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
        if self.proc is not None:
            self.proc.wait(30)
            self.proc.stdout.close()
        self.proc = None
        with open(self.stderr_path, errors="replace") as f:
            text = f.read()
        for marker in SANITIZER_MARKERS:
            check(marker not in text, "faro-test-witness %s: sanitizer report (%s):\n%s" % (self.name, marker, text[-6000:]))

    def cosigned_size(self, origin):
        """The size of origin's checkpoint in the witness's state file (0 if none)."""
        try:
            with open(self.state) as f:
                for line in f:
                    fields = line.split()
                    if fields[0] == origin:
                        return int(fields[1])
        except FileNotFoundError:
            pass
        return 0


def write_policy(path, witnesses, quorum, log_=None):
    """A trust policy: the log's key (if given), each (policy name, TestWitness) with its URL, and the quorum lines."""
    lines = ["# written by the end-to-end test"]
    if log_ is not None:
        lines.append("log %s" % log_.vkey)
    for name, w in witnesses:
        lines.append("witness %s %s %s" % (name, w.vkey, w.url()))
    lines += quorum
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def quorumcheck(binary, policy, checkpoint_path):
    """(met, {policy witness name: cosignature timestamp or None}, output) of quorumcheck on a checkpoint file."""
    result = subprocess.run([binary, policy, checkpoint_path], capture_output=True, text=True)
    check(result.returncode in (0, 1), "quorumcheck %s: exit %d: %s%s" % (checkpoint_path, result.returncode, result.stdout,
                                                                         result.stderr))
    cosigners = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) == 4 and words[1:3] == ["cosigned", "at"]:
            cosigners[words[0]] = int(words[3])
        elif len(words) == 2 and words[1] == "absent":
            cosigners[words[0]] = None
    check(result.stdout.rstrip().splitlines()[-1].startswith("quorum"), "quorumcheck said: %s" % result.stdout)
    return result.returncode == 0, cosigners, result.stdout


def chain_body(chain):
    return json.dumps({"chain": chain}).encode()


def start_log(args, workdir, name, certs, precerts, **settings):
    """
    mkchains' test PKI (certs add-chain, then precerts add-pre-chain
    submissions) and one log with settings whose faro-writer is started:
    (writer, log, config template, roots file, chains).
    """
    pki = os.path.join(workdir, "pki")
    os.makedirs(pki)
    subprocess.run([args["mkchains"], pki, str(certs), str(precerts)], check=True)
    roots = os.path.join(pki, "root.pem")
    with open(os.path.join(pki, "chains.jsonl")) as f:
        chains = [json.loads(line) for line in f]
    log_ = Log(workdir, name, args["keygen"], **settings)
    template = os.path.join(workdir, "faro.yaml.in")
    write_config(template, os.path.join(workdir, "state", "lock.db"), [log_], roots)
    writer = Writer(args["writer"], workdir, template)
    writer.start(create_missing=True)
    return writer, log_, template, roots, chains


def submit_all(writer, log_, submissions, threads=16):
    """submit_many, where every submission must be answered 200."""
    statuses = [status for _, status, _, _ in submit_many(writer, log_, submissions, threads)]
    check(all(s == 200 for s in statuses), "submissions: %r" % sorted(set(statuses)))


def metric_sum(text, name, **labels):
    """The sum of the Prometheus samples of name whose labels include labels."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^%s(?:\{(.*)\})? (\S+)$" % re.escape(name), line)
        if m and all(dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or "")).get(k) == v for k, v in labels.items()):
            total += float(m.group(2))
    return total


def metrics_after(fetch_text, before, wants, timeout=10):
    """
    The metrics text (from fetch_text()) once each (name, labels, n) of wants
    has moved by n since the text before, or the last one fetched after
    timeout seconds (the caller's checks then say what is off). A server
    counts a request when it is done with it, just after the last byte is
    sent, so a client can read a response before its count moves.
    """
    deadline = time.monotonic() + timeout
    while True:
        after = fetch_text()
        if time.monotonic() > deadline or all(
                metric_sum(after, name, **labels) - metric_sum(before, name, **labels) == n for name, labels, n in wants):
            return after
        time.sleep(0.02)


def leaf_index(sct):
    """The leaf index in an add-chain response's extensions (exactly one leaf_index extension), or a Failure."""
    ext = base64.b64decode(sct["extensions"], validate=True)
    check(len(ext) == 8 and ext[0] == 0 and ext[1:3] == b"\x00\x05",
          "SCT extensions %s are not one leaf_index extension" % sct["extensions"])
    return int.from_bytes(ext[3:], "big")


def check_sct(log_, sub, status, headers, body):
    """A 200 add-chain answer: JSON content, CORS, version 0, a leaf index; returns the index."""
    check(status == 200, "%s %s: status %d: %s" % (log_.name, sub["endpoint"], status, body[:300]))
    check(headers.get("content-type") == "application/json", "SCT content-type %r" % headers.get("content-type"))
    check(headers.get("access-control-allow-origin") == "*", "SCT without Access-Control-Allow-Origin: *")
    sct = json.loads(body)
    check(sct.get("sct_version") == 0 and isinstance(sct.get("timestamp"), int), "malformed SCT %s" % body[:300])
    return leaf_index(sct)


def sct_record(submission, sct_bytes):
    """A ctcheck input line for a submission and the SCT it was answered with."""
    chain = submission["chain"]
    return json.dumps({"leaf_der_b64": chain[0], "issuer_chain_der_b64": chain[1:],
                       "precert": submission["endpoint"] == "add-pre-chain", "sct": json.loads(sct_bytes)})


def run_ctcheck(ctcheck, log_, roots, records, workdir, min_size=0, cosigned=False):
    """ctcheck over the log's storage and the SCT records; returns its summary line."""
    scts = os.path.join(workdir, "%s.scts.jsonl" % log_.name)
    with open(scts, "w") as f:
        for line in records:
            f.write(line + "\n")
    result = subprocess.run([ctcheck, "-storage", log_.storage, "-origin", log_.origin, "-pubkey", log_.pubkey,
                             "-roots", roots, "-scts", scts, "-min-size", str(min_size)] + (["-cosigned"] if cosigned else []),
                            capture_output=True, text=True)
    check(result.returncode == 0, "ctcheck %s:\n%s%s" % (log_.name, result.stdout, result.stderr))
    return result.stdout.strip()


DAEMON_TEST_ARGS = ("writer", "keygen", "mkchains", "ctcheck")


def parse_args(argv, required=DAEMON_TEST_ARGS):
    """--name value pairs; each of required must be there."""
    args = {}
    it = iter(argv)
    for flag in it:
        check(flag.startswith("--"), "unexpected argument %s" % flag)
        args[flag[2:]] = next(it)
    for name in required:
        check(name in args, "missing --%s" % name)
    return args


def main(test, argv, required=DAEMON_TEST_ARGS):
    """Runs test(args, workdir) in a temporary directory, removed on success; exit 1 on Failure, 77 without ctcheck (if required)."""
    try:
        args = parse_args(argv, required)
    except Failure as e:
        print("usage error: %s" % e, file=sys.stderr)
        return 2
    if "ctcheck" in required and not os.path.exists(args["ctcheck"]):
        print("skipped: %s was not built (needs go and golang-golang-x-mod-dev)" % args["ctcheck"])
        return 77
    workdir = tempfile.mkdtemp(prefix="faro-e2e-")
    started = time.monotonic()
    try:
        test(args, workdir)
    except Failure as e:
        print("FAIL: %s\n(work directory kept: %s)" % (e, workdir), file=sys.stderr)
        return 1
    except Skip as e:
        print("skipped: %s" % e)
        shutil.rmtree(workdir, ignore_errors=True)
        return 77
    finally:
        for process in RUNNING:
            if process.proc is not None and process.proc.poll() is None:
                process.proc.kill()
                process.proc.wait()
    log("PASS in %.1f s" % (time.monotonic() - started))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0

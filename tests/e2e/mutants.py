"""Randomly mutated HTTP/1.1 requests for hostile.py, derived from valid ones.

A Mutator holds the valid requests of a test (add-chain and add-pre-chain
bodies the log already holds, and the gateway's reads: tiles, issuers,
checkpoint, the RFC 6962 API, pages) and makes each mutant from one of them
with one to three mutations: bit flips anywhere in the bytes, a cut, a header
repeated (with its value or another) or dropped, another method or HTTP
version, a body on a GET, a random path or tile path, mangled query
parameters, and for submissions JSON and base64 mangling of the chain (bad
characters, cuts, padding in the middle, URL-safe alphabet, line breaks,
certificates dropped, repeated, reordered or replaced by other JSON values,
other keys, deep nesting). Everything comes from one random.Random, so a
seed reproduces the same mutants.
"""

import base64
import json

IDENTIFIED = "faro-hostile/1.0 (+mailto:ops@hostile.test)"


def request_bytes(method, path, headers, body=None, version="HTTP/1.1"):
    """A request as bytes; headers is a list of (name, value); Content-Length is added for a body."""
    lines = ["%s %s %s" % (method, path, version)] + ["%s: %s" % h for h in headers]
    if body is not None:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class Base:
    """A valid request: the daemon it goes to ("writer" or "gateway"), method, path, headers, JSON body or None."""

    def __init__(self, target, method, path, body=None):
        self.target, self.method, self.path, self.body = target, method, path, body
        self.headers = [("Host", "127.0.0.1"), ("User-Agent", IDENTIFIED), ("Connection", "close")]
        if body is not None:
            self.headers.append(("Content-Type", "application/json"))


class Mutator:
    def __init__(self, rng, log_name, submissions, tree_size, issuer_hex, leaf_hash_b64):
        """submissions: (endpoint, chain) pairs already in the log; the gateway's requests are made for a tree of tree_size."""
        self.rng = rng
        self.prefix = "/" + log_name
        self.bases = [Base("writer", "POST", "%s/ct/v1/%s" % (self.prefix, endpoint), {"chain": chain})
                      for endpoint, chain in submissions]
        self.bases.append(Base("writer", "GET", self.prefix + "/ct/v1/get-roots"))
        last = tree_size - 1
        reads = ["checkpoint", "log.v3.json", "tile/0/000.p/%d" % tree_size, "tile/data/000.p/%d" % tree_size,
                 "issuer/" + issuer_hex, "ct/v1/get-sth", "ct/v1/get-roots", "ct/v1/get-entries?start=0&end=%d" % last,
                 "ct/v1/get-proof-by-hash?hash=%s&tree_size=%d" % (leaf_hash_b64.replace("+", "%2B").replace("/", "%2F")
                                                                    .replace("=", "%3D"), tree_size),
                 "ct/v1/get-entry-and-proof?leaf_index=%d&tree_size=%d" % (last // 2, tree_size),
                 "ct/v1/get-sth-consistency?first=%d&second=%d" % (tree_size // 2, tree_size), ""]
        self.bases += [Base("gateway", "GET", "%s/%s" % (self.prefix, r)) for r in reads]
        self.bases += [Base("gateway", m, p) for m, p in (("GET", "/"), ("GET", "/health"), ("GET", "/metrics"),
                                                          ("HEAD", self.prefix + "/checkpoint"),
                                                          ("OPTIONS", self.prefix + "/tile/0/000.p/1"))]

    def mutant(self, target):
        """(description, bytes) of a mutant of a random valid request to target."""
        rng = self.rng
        base = rng.choice([b for b in self.bases if b.target == target])
        request = {"method": base.method, "path": base.path, "headers": list(base.headers),
                   "body": None if base.body is None else json.dumps(base.body).encode(), "version": "HTTP/1.1",
                   "json": base.body}
        structural = [self.method, self.version, self.header_repeat, self.header_drop, self.path_random,
                      self.path_tile, self.query, self.get_body]
        if base.body is not None:
            structural += [self.chain_json] * 4
        done = [m(request) for m in rng.sample(structural, rng.randint(1, 2))]
        data = request_bytes(request["method"], request["path"], request["headers"], request["body"], request["version"])
        if rng.random() < 0.3:
            data, what = self.bytes_level(data)
            done.append(what)
        return "%s %s: %s" % (base.method, base.path[:60], "; ".join(done)), data

    # Mutations of the request's parts; each returns what it did.

    def method(self, r):
        r["method"] = self.rng.choice(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT",
                                       "get", "PO ST", "X" * 300, "G\x01T", ""])
        return "method %r" % r["method"][:20]

    def version(self, r):
        r["version"] = self.rng.choice(["HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "http/1.1", "HTTP/1.1 x", ""])
        return "version %r" % r["version"]

    def header_repeat(self, r):
        rng = self.rng
        name, value = rng.choice(r["headers"] + [("Content-Length", "0"), ("Transfer-Encoding", "chunked"),
                                                 ("Content-Type", "text/plain"), ("Expect", "100-continue"),
                                                 ("Content-Encoding", "gzip"), ("Range", "bytes=5-1")])
        value = rng.choice([value, value, "", str(rng.randint(-5, 10 ** 12)), value * rng.randint(2, 50)])
        r["headers"].insert(rng.randint(0, len(r["headers"])), (name, value))
        return "header %s: %r added" % (name, value[:20])

    def header_drop(self, r):
        if not r["headers"]:
            return "no header to drop"
        name = r["headers"].pop(self.rng.randrange(len(r["headers"])))[0]
        return "header %s dropped" % name

    def path_random(self, r):
        rng = self.rng
        pieces = ["..", ".", "", "%2e%2e", "%2F", "%00", "x000", "x" + "9" * 30, "tile", "data", "issuer", "ct", "v1",
                  "checkpoint", "-1", "0" * 40, "%ff", "\u00e9", "a" * 300, "~", "*", ";", "?", "#", "%", "&=&"]
        segments = [rng.choice(pieces) for _ in range(rng.randint(1, 8))]
        r["path"] = rng.choice([self.prefix, self.prefix + "/ct/v1", ""]) + "/" + "/".join(segments)
        return "path %r" % r["path"][:60]

    def path_tile(self, r):
        rng = self.rng

        def number():
            n = rng.choice([0, 1, 999, 1000, 10 ** 6, 2 ** 63, 2 ** 64, 10 ** 30, -1])
            groups = "%d" % abs(n)
            if rng.random() < 0.5:
                digits = "%0*d" % (3 * ((len(groups) + 2) // 3), abs(n))
                parts = [digits[i:i + 3] for i in range(0, len(digits), 3)]
                groups = "/".join(["x" + p for p in parts[:-1]] + parts[-1:])
            return ("-" if n < 0 else "") + groups

        level = rng.choice(["0", "1", "5", "6", "63", "64", "data", "x", "-1", "00", ""])
        path = "%s/tile/%s/%s" % (self.prefix, level, number())
        if rng.random() < 0.5:
            path += ".p/%s" % rng.choice(["0", "1", "255", "256", "257", "x001", "-1", ""])
        r["path"] = path
        return "tile path %r" % path[:60]

    def query(self, r):
        rng = self.rng
        path, _, query = r["path"].partition("?")
        params = [p.split("=", 1) for p in query.split("&") if p] or [["start", "0"]]
        for p in params:
            if len(p) == 2 and rng.random() < 0.6:
                p[1] = rng.choice(["", "-1", "0", "18446744073709551616", "1e3", "0x10", "%00", "%2B%2F", " 1", "1 ",
                                   "9" * 200, "AAAA", p[1] + p[1], p[1][:-1]])
        if rng.random() < 0.3:
            params.append(rng.choice(params))
        if rng.random() < 0.2 and params:
            params.pop(rng.randrange(len(params)))
        r["path"] = path + "?" + "&".join("=".join(p) for p in params)
        return "query %r" % r["path"][-60:]

    def get_body(self, r):
        r["body"] = self.rng.choice([b"", b"{}", b"x" * 1000, json.dumps({"chain": []}).encode()])
        return "a %d-byte body" % len(r["body"])

    def chain_json(self, r):
        """Mangles the submission's JSON or base64; the body is what it becomes."""
        rng = self.rng
        doc = json.loads(json.dumps(r["json"] or {"chain": []}))
        chain = doc.get("chain") if isinstance(doc, dict) else None
        op = rng.choice(["char", "cut", "pad", "urlsafe", "newline", "drop", "repeat", "shuffle", "value", "key",
                         "extra", "nest", "text"])
        if op == "text" or not isinstance(chain, list) or not chain:
            text = json.dumps(doc)
            at = rng.randrange(len(text) + 1)
            r["body"] = (text[:at] + rng.choice(["", "\"", "}", "]", ",", "\\", "\\u0000", "\x00", "\u00e9", "{" * 50])
                         + text[at + rng.randint(0, 3):]).encode("utf-8", "surrogatepass")
            return "JSON text mangled at %d" % at
        i = rng.randrange(len(chain))
        cert = chain[i] if isinstance(chain[i], str) else ""
        if op == "char" and cert:
            at = rng.randrange(len(cert))
            chain[i] = cert[:at] + rng.choice("!*-_ =\t.\u00e9A/+") + cert[at + 1:]
        elif op == "cut" and cert:
            chain[i] = cert[:rng.randrange(len(cert))]
        elif op == "pad" and cert:
            at = rng.randrange(len(cert))
            chain[i] = cert[:at] + "==" + cert[at:]
        elif op == "urlsafe" and cert:
            chain[i] = base64.urlsafe_b64encode(base64.b64decode(cert)).decode().rstrip("=")
        elif op == "newline" and cert:
            chain[i] = "\n".join(cert[j:j + 64] for j in range(0, len(cert), 64))
        elif op == "drop":
            chain.pop(i)
        elif op == "repeat":
            chain[i:i] = [chain[i]] * rng.randint(1, 12)
        elif op == "shuffle":
            rng.shuffle(chain)
        elif op == "value":
            chain[i] = rng.choice([None, 0, -1, True, {}, [], [cert], "", "A" * rng.randint(1, 5000), 1e308])
        elif op == "key":
            doc = {rng.choice(["Chain", "chain ", "", "chains", "\u0000chain"]): chain}
        elif op == "extra":
            doc[rng.choice(["extra", "chain2", "x" * 1000])] = rng.choice([chain, 1, None, "x"])
        elif op == "nest":
            doc = {"chain": [chain] if rng.random() < 0.5 else {"chain": chain}}
        r["body"] = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        return "chain JSON: %s of certificate %d" % (op, i)

    def bytes_level(self, data):
        """Bit flips anywhere, or a cut: (bytes, what was done)."""
        rng = self.rng
        if rng.random() < 0.5:
            flipped = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                at = rng.randrange(len(flipped))
                flipped[at] ^= 1 << rng.randrange(8)
            return bytes(flipped), "bit flips"
        at = rng.randrange(1, len(data))
        return data[:at], "cut at byte %d of %d" % (at, len(data))

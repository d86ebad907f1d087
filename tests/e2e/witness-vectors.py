#!/usr/bin/env python3
"""faro-test-witness against the protocol's own vectors and status codes (spec/witness.md §1).

With the vectors' witness key (seed 20..3f) and clock: the first-contact
request (old 0) gets exactly witness-first-response-old0.txt, the same request
again a 409 with size 8, and after a restart (state kept) the request from 8
to 1000 with its consistency proof exactly witness-add-checkpoint-response.txt.
Then each refusal in the spec's order: 400 malformed, 404 unknown origin, 403
a signature that does not verify, 400 old above the size, 409 a stale old
size, 422 a proof that does not verify; 405 and 404 for other methods and paths.
Usage: witness-vectors.py --witness BIN --vectors DIR
"""

import http.client
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import TestWitness, check, log, main  # noqa: E402

LOG_VKEY = "example.com/vector-log+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
NAME = "witness.example.com/w1"
SEED = bytes(range(0x20, 0x40)).hex()  # cosignature.json's witness key


def post(witness, body, method="POST", path="/add-checkpoint"):
    conn = http.client.HTTPConnection("127.0.0.1", witness.port, timeout=30)
    conn.request(method, path, body=body, headers={"Content-Type": "text/plain"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.getheader("Content-Type"), data


def expect(witness, body, status, words=b"", **kwargs):
    got, ctype, data = post(witness, body, **kwargs)
    check(got == status and words in data, "want %d mentioning %r, got %d %s: %r" % (status, words, got, ctype, data[:300]))
    return ctype, data


def test(args, workdir):
    binary, vectors = args["witness"], args["vectors"]

    def vector(name):
        with open(os.path.join(vectors, name), "rb") as f:
            return f.read()

    first, first_response = vector("witness-first-request-old0.txt"), vector("witness-first-response-old0.txt")
    request, response = vector("witness-add-checkpoint-request.txt"), vector("witness-add-checkpoint-response.txt")
    witness = TestWitness(binary, workdir, NAME, SEED, [LOG_VKEY])
    check(witness.start("--time", "1700000000").vkey.startswith(NAME + "+969980cf+"), "the witness's vkey is not W1's")
    _, body = expect(witness, first, 200)
    check(body == first_response, "first contact: %r, want the vector %r" % (body, first_response))
    ctype, body = expect(witness, first, 409)
    check(ctype == "text/x.tlog.size" and body == b"8\n", "the same request again: %s %r" % (ctype, body))
    witness.stop()
    witness.start("--time", "1700000001")
    _, body = expect(witness, request, 200)
    check(body == response, "old 8 to 1000: %r, want the vector %r" % (body, response))
    log("vectors: first contact, 409 with size 8, and the request from 8 to 1000 answered byte for byte")

    # Refusals, in the spec's order of checks; the witness is at 1000 now, and a fresh one at 8 checks proofs.
    head, note = request.split(b"\n\n", 1)
    expect(witness, b"hello", 400, b"empty line")
    expect(witness, b"old 01\n\n" + note, 400, b"old <size>")
    expect(witness, b"old 8\nnot base64\n\n" + note, 400, b"proof line 1")
    expect(witness, first.replace(b"example.com/vector-log\n8", b"example.com/other-log\n8"), 404, b"unknown")
    forged = first.replace(b"9V2sqt/aznH68", b"9V2sqt/aznH69")
    check(forged != first, "the forged request is not forged")
    expect(witness, forged, 403)
    expect(witness, b"old 2000\n\n" + note, 400, b"larger")
    _, body = expect(witness, b"old 8\n\n" + note, 409)
    check(body == b"1000\n", "a stale old size: %r, want 1000" % body)
    expect(witness, b"", 405, b"POST", method="GET")
    expect(witness, request, 404, path="/checkpoint")
    witness.stop()
    os.remove(witness.state)
    witness.start("--time", "1700000000")
    expect(witness, first, 200)
    lines = head.split(b"\n")
    lines[2] = lines[3]  # one proof hash replaced by another
    expect(witness, b"\n".join(lines) + b"\n\n" + note, 422)
    expect(witness, request, 200)
    witness.stop()
    log("refusals: 400 malformed, 404 unknown origin, 403 forged signature, 400 old > size, 409 stale, 422 bad proof")


if __name__ == "__main__":
    sys.exit(main(test, sys.argv[1:], required=("witness", "vectors")))

// Command proofcheck checks what an RFC 6962 read API answered, independently
// of faro (Go standard library and golang.org/x/mod/sumdb/tlog only). It reads
// one check per stdin line and prints "ok" or "fail <why>" per line:
//
//	inclusion I S LEAF ROOT P...         tlog.CheckRecord: leaf hash LEAF at index I
//	                                     is in the tree of size S with root ROOT
//	consistency M S OLDROOT NEWROOT P... tlog.CheckTree: the tree of size M is a
//	                                     prefix of the tree of size S (M >= 1)
//	sth S TIMESTAMP ROOT SIGNATURE       get-sth: SIGNATURE (a TLS digitally-signed
//	                                     struct, ECDSA P-256 with SHA-256) verifies
//	                                     over the RFC 6962 TreeHeadSignature input
//	                                     with the key of -pubkey
//
// Hashes and signatures are standard base64. Usage: proofcheck [-pubkey PEM].
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("%q is not a base64 hash", s)
	}
	copy(h[:], b)
	return h, nil
}

func parseHashes(words []string) ([]tlog.Hash, error) {
	var out []tlog.Hash
	for _, w := range words {
		h, err := parseHash(w)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func loadKey(path string) (*ecdsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("not an ECDSA key")
	}
	return ec, nil
}

func checkSTH(key *ecdsa.PublicKey, words []string) error {
	if key == nil {
		return errors.New("no -pubkey")
	}
	if len(words) != 4 {
		return errors.New("want sth S TIMESTAMP ROOT SIGNATURE")
	}
	size, err1 := strconv.ParseUint(words[0], 10, 64)
	timestamp, err2 := strconv.ParseUint(words[1], 10, 64)
	root, err3 := parseHash(words[2])
	sig, err4 := base64.StdEncoding.DecodeString(words[3])
	if err := firstError(err1, err2, err3, err4); err != nil {
		return err
	}
	if len(sig) < 4 || sig[0] != 4 || sig[1] != 3 || int(binary.BigEndian.Uint16(sig[2:4])) != len(sig)-4 {
		return fmt.Errorf("signature is not a digitally-signed SHA-256/ECDSA struct: %x", sig)
	}
	input := make([]byte, 0, 50)
	input = append(input, 0, 1) // v1, tree_hash
	input = binary.BigEndian.AppendUint64(input, timestamp)
	input = binary.BigEndian.AppendUint64(input, size)
	input = append(input, root[:]...)
	digest := sha256.Sum256(input)
	if !ecdsa.VerifyASN1(key, digest[:], sig[4:]) {
		return errors.New("ECDSA signature does not verify")
	}
	return nil
}

func check(key *ecdsa.PublicKey, line string) error {
	words := strings.Fields(line)
	if len(words) == 0 {
		return errors.New("empty line")
	}
	if words[0] == "sth" {
		return checkSTH(key, words[1:])
	}
	if len(words) < 5 {
		return errors.New("too few words")
	}
	a, err1 := strconv.ParseInt(words[1], 10, 64)
	size, err2 := strconv.ParseInt(words[2], 10, 64)
	first, err3 := parseHash(words[3])
	second, err4 := parseHash(words[4])
	proof, err5 := parseHashes(words[5:])
	if err := firstError(err1, err2, err3, err4, err5); err != nil {
		return err
	}
	switch words[0] {
	case "inclusion":
		return tlog.CheckRecord(proof, size, second, a, first)
	case "consistency":
		return tlog.CheckTree(proof, size, second, a, first)
	}
	return fmt.Errorf("unknown check %q", words[0])
}

func main() {
	pubkey := flag.String("pubkey", "", "PEM public key of the log, for sth lines")
	flag.Parse()
	var key *ecdsa.PublicKey
	if *pubkey != "" {
		var err error
		if key, err = loadKey(*pubkey); err != nil {
			fmt.Fprintf(os.Stderr, "proofcheck: %s: %v\n", *pubkey, err)
			os.Exit(2)
		}
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		if err := check(key, in.Text()); err != nil {
			fmt.Fprintf(out, "fail %v\n", err)
		} else {
			fmt.Fprintln(out, "ok")
		}
	}
	out.Flush()
}

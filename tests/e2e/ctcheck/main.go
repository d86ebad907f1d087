// Command ctcheck checks a static-ct-api log's storage directory and the SCTs
// a client received from it, independently of faro (Go standard library and
// golang.org/x/mod/sumdb/tlog and note only):
//
//   - log.v3.json: log_id is SHA-256 of key, key equals -pubkey if given;
//   - checkpoint: three lines (origin, size, root), exactly two signatures by
//     the log: the RFC 6962 note signature (0x05; key ID, the 50-byte
//     TreeHeadSignature input and the ECDSA signature rebuilt here) and the
//     Ed25519 one (x/mod note, vkey from log.v3.json verifier_key); lines by
//     other keys (witness cosignatures) only, and then at least one, with -cosigned;
//   - hash tiles: every tile the tree needs exists and is authenticated
//     against the checkpoint by tlog.TileHashReader, tlog.TreeHash gives the
//     checkpoint's root, and every other tile file (an older partial tile) is
//     a prefix of the authenticated one;
//   - data tiles: every entry parses (static-ct-api TileLeaf), carries its own
//     position as leaf_index, hashes to the level-0 tile, is timestamped no
//     later than the checkpoint and no earlier than the entry before it, and
//     its chain links verify by signature up to a root (-roots); older
//     partial data tiles are prefixes of the current ones;
//   - issuers: every fingerprint a chain references is a file that hashes to
//     its name, and every file in issuer/ is named by its hash;
//   - SCTs (-scts, JSON lines {"leaf_der_b64", "issuer_chain_der_b64",
//     "precert", "sct"}): version 0, id = LogID, exactly one leaf_index
//     extension, and the signature verifies over the MerkleTreeLeaf rebuilt
//     here from the submission (for precertificates: the poison removed from
//     the TBSCertificate here, and the issuer taken from a Precertificate
//     Signing Certificate); the entry at leaf_index has the SCT's timestamp
//     and holds the submitted certificate (or precertificate) and chain.
//
// Usage: ctcheck -storage DIR -origin ORIGIN [-pubkey PEM] [-roots PEM]
// [-scts FILE] [-min-size N] [-cosigned]. Prints one summary line; exits 1 with the first
// mismatch.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const (
	tileHeight = 8
	tileWidth  = 1 << tileHeight
)

var (
	oidPoison      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}
	oidPrecertSign = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 4}
	oidAKI         = asn1.ObjectIdentifier{2, 5, 29, 35}
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "ctcheck: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// entry is one TileLeaf of a data tile.
type entry struct {
	timestamp     uint64
	precert       bool
	certificate   []byte // x509: the certificate; precert: the defanged TBSCertificate
	issuerKeyHash []byte
	preCert       []byte
	extensions    []byte // the 8 bytes inside the vec16
	chain         [][]byte
}

// merkleTreeLeaf is 0x00 0x00 || TimestampedEntry, the leaf hash input and the SCT signature input.
func (e *entry) merkleTreeLeaf() []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0})
	binary.Write(&b, binary.BigEndian, e.timestamp)
	if e.precert {
		b.Write([]byte{0, 1})
		b.Write(e.issuerKeyHash)
		writeVec(&b, 3, e.certificate)
	} else {
		b.Write([]byte{0, 0})
		writeVec(&b, 3, e.certificate)
	}
	writeVec(&b, 2, e.extensions)
	return b.Bytes()
}

func writeVec(b *bytes.Buffer, size int, data []byte) {
	n := len(data)
	for i := size - 1; i >= 0; i-- {
		b.WriteByte(byte(n >> (8 * i)))
	}
	b.Write(data)
}

// reader takes TLS-style fields off the front of a byte slice.
type reader struct {
	data []byte
	err  error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.data) {
		r.err = fmt.Errorf("truncated: want %d bytes, have %d", n, len(r.data))
		return nil
	}
	out := r.data[:n]
	r.data = r.data[n:]
	return out
}

func (r *reader) uint(size int) uint64 {
	var v uint64
	for _, c := range r.take(size) {
		v = v<<8 | uint64(c)
	}
	return v
}

func (r *reader) vec(size int) []byte {
	return r.take(int(r.uint(size)))
}

// parseTileLeaf reads one TileLeaf (spec/static-ct.md §7.3).
func parseTileLeaf(r *reader) (*entry, error) {
	e := &entry{timestamp: r.uint(8)}
	switch t := r.uint(2); {
	case r.err != nil:
	case t == 0:
		e.certificate = r.vec(3)
	case t == 1:
		e.precert = true
		e.issuerKeyHash = r.take(32)
		e.certificate = r.vec(3)
	default:
		return nil, fmt.Errorf("entry_type %d", t)
	}
	e.extensions = r.vec(2)
	if e.precert {
		e.preCert = r.vec(3)
	}
	chain := r.vec(2)
	if r.err != nil {
		return nil, r.err
	}
	if len(chain)%32 != 0 {
		return nil, fmt.Errorf("certificate_chain of %d bytes is not whole fingerprints", len(chain))
	}
	for i := 0; i < len(chain); i += 32 {
		e.chain = append(e.chain, chain[i:i+32])
	}
	if len(e.certificate) == 0 || (e.precert && len(e.preCert) == 0) {
		return nil, fmt.Errorf("empty certificate")
	}
	return e, nil
}

// leafIndex parses CtExtensions content: exactly one leaf_index extension (type 0, a u40) and nothing else.
func leafIndex(ext []byte) (uint64, error) {
	r := &reader{data: ext}
	found := false
	var index uint64
	for len(r.data) > 0 && r.err == nil {
		typ := r.uint(1)
		data := r.vec(2)
		if r.err != nil {
			break
		}
		if typ != 0 {
			return 0, fmt.Errorf("unexpected extension type %d", typ)
		}
		if found {
			return 0, fmt.Errorf("two leaf_index extensions")
		}
		if len(data) != 5 {
			return 0, fmt.Errorf("leaf_index of %d bytes, want 5", len(data))
		}
		found = true
		for _, c := range data {
			index = index<<8 | uint64(c)
		}
	}
	if r.err != nil {
		return 0, fmt.Errorf("extensions: %v", r.err)
	}
	if !found {
		return 0, fmt.Errorf("no leaf_index extension")
	}
	return index, nil
}

// verifyDigitallySigned checks an RFC 5246 digitally-signed struct (SHA-256, ECDSA) over msg; it must be all of sig.
func verifyDigitallySigned(key *ecdsa.PublicKey, msg, sig []byte) error {
	r := &reader{data: sig}
	hashAlg, sigAlg := r.uint(1), r.uint(1)
	der := r.vec(2)
	if r.err != nil || len(r.data) != 0 {
		return fmt.Errorf("malformed digitally-signed struct (%d bytes)", len(sig))
	}
	if hashAlg != 4 || sigAlg != 3 {
		return fmt.Errorf("algorithms %d/%d, want 4/3 (SHA-256/ECDSA)", hashAlg, sigAlg)
	}
	digest := sha256.Sum256(msg)
	if !ecdsa.VerifyASN1(key, digest[:], der) {
		return fmt.Errorf("ECDSA signature does not verify")
	}
	return nil
}

type logInfo struct {
	Key         string `json:"key"`
	LogID       string `json:"log_id"`
	VerifierKey string `json:"verifier_key"`
}

type checker struct {
	dir, origin string
	key         *ecdsa.PublicKey
	logID       [32]byte
	vkey        string
	roots       map[[32]byte]bool

	size      int64
	root      tlog.Hash
	timestamp uint64
	tiles     map[string][]byte // faro path -> contents: what TreeHash read, then every authenticated tile
	entries   []*entry
	issuers   map[[32]byte]*x509.Certificate
	verified  map[[64]byte]bool // (child, parent) fingerprints whose signature checked out
	cosigned  bool              // -cosigned: the checkpoint must carry witness cosignature lines

	cosignatures, hashTiles, olderTiles, dataTiles, olderDataTiles, scts, precerts int
}

func readFile(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return data
}

func (c *checker) loadLogInfo(pubkeyPath string) {
	var info logInfo
	if err := json.Unmarshal(readFile(filepath.Join(c.dir, "log.v3.json")), &info); err != nil {
		fail("log.v3.json: %v", err)
	}
	spki, err := base64.StdEncoding.DecodeString(info.Key)
	if err != nil {
		fail("log.v3.json: key: %v", err)
	}
	if pubkeyPath != "" {
		block, _ := pem.Decode(readFile(pubkeyPath))
		if block == nil || block.Type != "PUBLIC KEY" {
			fail("%s: not a PEM public key", pubkeyPath)
		}
		if !bytes.Equal(block.Bytes, spki) {
			fail("log.v3.json: key is not the public key in %s", pubkeyPath)
		}
	}
	pub, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		fail("log.v3.json: key: %v", err)
	}
	key, ok := pub.(*ecdsa.PublicKey)
	if !ok || key.Curve.Params().Name != "P-256" {
		fail("log.v3.json: key is not an ECDSA P-256 key")
	}
	c.key = key
	c.logID = sha256.Sum256(spki)
	if info.LogID != base64.StdEncoding.EncodeToString(c.logID[:]) {
		fail("log.v3.json: log_id %s is not SHA-256 of key (%s)", info.LogID, base64.StdEncoding.EncodeToString(c.logID[:]))
	}
	c.vkey = info.VerifierKey
}

// checkpoint verifies both of the log's signatures and reads size, root and timestamp.
func (c *checker) checkpoint() {
	msg := readFile(filepath.Join(c.dir, "checkpoint"))
	verifier, err := note.NewVerifier(c.vkey)
	if err != nil {
		fail("log.v3.json: verifier_key %q: %v", c.vkey, err)
	}
	if verifier.Name() != c.origin {
		fail("log.v3.json: verifier_key is named %q, want the origin %q", verifier.Name(), c.origin)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint: Ed25519 signature (x/mod note): %v\n%s", err, msg)
	}
	// Witness cosignatures are lines by other keys (checked by quorumcheck, not here): set aside, and required with -cosigned.
	var logSigs []note.Signature
	for _, sig := range n.UnverifiedSigs {
		if sig.Name == c.origin {
			logSigs = append(logSigs, sig)
		} else {
			c.cosignatures++
		}
	}
	if len(n.Sigs) != 1 || len(logSigs) != 1 {
		fail("checkpoint: %d verified and %d other signature lines by the log, want exactly 1 and 1 (Ed25519, RFC 6962)", len(n.Sigs), len(logSigs))
	}
	if c.cosigned != (c.cosignatures > 0) {
		fail("checkpoint: %d cosignature lines; -cosigned=%v", c.cosignatures, c.cosigned)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) != 3 {
		fail("checkpoint: %d text lines, want 3 (origin, size, root)", len(lines))
	}
	if lines[0] != c.origin {
		fail("checkpoint: origin %q, want %q", lines[0], c.origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		fail("checkpoint: bad size line %q", lines[1])
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != 32 {
		fail("checkpoint: bad root line %q", lines[2])
	}
	c.size = size
	copy(c.root[:], rootBytes)

	// RFC6962NoteSignature: key ID = SHA-256(origin || 0x0A || 0x05 || LogID)[:4], then u64 timestamp, digitally-signed.
	sig := logSigs[0]
	idInput := append(append([]byte(c.origin), 0x0a, 0x05), c.logID[:]...)
	id := sha256.Sum256(idInput)
	if sig.Name != c.origin || sig.Hash != binary.BigEndian.Uint32(id[:4]) {
		fail("checkpoint: the other signature is by %s+%08x, want the RFC 6962 key %s+%08x", sig.Name, sig.Hash, c.origin,
			binary.BigEndian.Uint32(id[:4]))
	}
	raw, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(raw) < 4+8 {
		fail("checkpoint: RFC 6962 signature: bad base64 or too short")
	}
	c.timestamp = binary.BigEndian.Uint64(raw[4:12])
	var input bytes.Buffer
	input.Write([]byte{0, 1}) // v1, tree_hash
	binary.Write(&input, binary.BigEndian, c.timestamp)
	binary.Write(&input, binary.BigEndian, uint64(size))
	input.Write(rootBytes)
	if input.Len() != 50 {
		panic("TreeHeadSignature input length")
	}
	if err := verifyDigitallySigned(c.key, input.Bytes(), raw[12:]); err != nil {
		fail("checkpoint: RFC 6962 signature: %v", err)
	}
}

// faroPath maps an x/mod tile to faro's storage path: "tile/8/L/N" -> "tile/L/N".
func faroPath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
}

// Height and ReadTiles make the checker an x/mod TileReader over the storage directory.
func (c *checker) Height() int {
	return tileHeight
}

func (c *checker) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := faroPath(t)
		data, ok := c.tiles[p]
		if !ok {
			var err error
			if data, err = os.ReadFile(filepath.Join(c.dir, p)); err != nil {
				return nil, err
			}
			c.tiles[p] = data
		}
		out[i] = data
	}
	return out, nil
}

func (c *checker) SaveTiles([]tlog.Tile, [][]byte) {}

// treeTiles lists the tiles a tree of this size has, each at its width for the size (level -1: data tiles).
func treeTiles(size int64) []tlog.Tile {
	var tiles []tlog.Tile
	for level := 0; size>>(tileHeight*level) > 0; level++ {
		n := size >> (tileHeight * level)
		for i := int64(0); i < n>>tileHeight; i++ {
			tiles = append(tiles, tlog.Tile{H: tileHeight, L: level, N: i, W: tileWidth})
		}
		if w := n % tileWidth; w != 0 {
			tiles = append(tiles, tlog.Tile{H: tileHeight, L: level, N: n >> tileHeight, W: int(w)})
		}
	}
	return tiles
}

// tileFiles lists the files under tile/ (hash tiles when data is false) as x/mod tiles.
func (c *checker) tileFiles(data bool) []tlog.Tile {
	var tiles []tlog.Tile
	root := filepath.Join(c.dir, "tile")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if isTemporary(d.Name()) {
			return nil
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		if strings.HasPrefix(rel, "data/") != data {
			return nil
		}
		t, perr := tlog.ParseTilePath("tile/8/" + rel)
		if perr != nil || (!data && t.L > 5) {
			return fmt.Errorf("unexpected file tile/%s", rel)
		}
		tiles = append(tiles, t)
		return nil
	})
	if err != nil && !(os.IsNotExist(err) && c.size == 0) {
		fail("%v", err)
	}
	return tiles
}

// hashTilesCheck authenticates the tree's hash tiles and checks the other tile files against them. The right-edge
// (partial) tiles are authenticated by tlog.TreeHash over tlog.TileHashReader: they hold the subtrees the root is made
// of. Each full tile is then checked against its parent's entry, top level first, here rather than by TileHashReader:
// x/mod 0.7.0's reader returns some full tiles unauthenticated (it skips the tiles it queued after the tree-hash
// tiles whenever two tree-hash subtrees share a tile, e.g. a corrupted tile/0/001 passes at size 792).
func (c *checker) hashTilesCheck() {
	if c.size == 0 {
		if c.root != tlog.Hash(sha256.Sum256(nil)) {
			fail("checkpoint: empty tree with root %x, want SHA-256(\"\")", c.root)
		}
		if files := c.tileFiles(false); len(files) > 0 {
			fail("empty tree, but %s exists", faroPath(files[0]))
		}
		return
	}
	hashes := tlog.TileHashReader(tlog.Tree{N: c.size, Hash: c.root}, c)
	root, err := tlog.TreeHash(c.size, hashes)
	if err != nil {
		fail("tree hash of size %d from the tiles: %v", c.size, err)
	}
	if root != c.root {
		fail("tree hash of size %d from the tiles is %x, checkpoint says %x", c.size, root, c.root)
	}
	current := make(map[[2]int64]tlog.Tile)
	tiles := treeTiles(c.size)
	for i := len(tiles) - 1; i >= 0; i-- {
		t := tiles[i]
		data, err := os.ReadFile(filepath.Join(c.dir, faroPath(t)))
		if err != nil {
			fail("the tree of size %d needs %s: %v", c.size, faroPath(t), err)
		}
		if len(data) != t.W*tlog.HashSize {
			fail("%s has %d bytes, want %d", faroPath(t), len(data), t.W*tlog.HashSize)
		}
		if t.W == tileWidth {
			parent, ok := c.tiles[faroPath(current[[2]int64{int64(t.L + 1), t.N / tileWidth}])]
			at := int(t.N%tileWidth) * tlog.HashSize
			if h := subtreeHash(data); !ok || !bytes.Equal(h[:], parent[at:at+tlog.HashSize]) {
				fail("%s does not hash to entry %d of its parent tile at level %d", faroPath(t), t.N%tileWidth, t.L+1)
			}
		} else if cached, ok := c.tiles[faroPath(t)]; !ok || !bytes.Equal(cached, data) {
			fail("%s was not read for the tree hash", faroPath(t))
		}
		c.tiles[faroPath(t)] = data
		current[[2]int64{int64(t.L), t.N}] = t
		c.hashTiles++
	}
	for _, t := range c.tileFiles(false) {
		cur, ok := current[[2]int64{int64(t.L), t.N}]
		if cur == t {
			continue
		}
		if !ok || t.W > cur.W {
			fail("%s lies beyond the tree of size %d", faroPath(t), c.size)
		}
		got := readFile(filepath.Join(c.dir, faroPath(t)))
		if len(got) != t.W*tlog.HashSize || !bytes.Equal(got, c.tiles[faroPath(cur)][:len(got)]) {
			fail("%s is not a prefix of %s", faroPath(t), faroPath(cur))
		}
		c.olderTiles++
	}
}

// subtreeHash is the Merkle root of a full tile's 256 hashes.
func subtreeHash(data []byte) tlog.Hash {
	level := make([]tlog.Hash, len(data)/tlog.HashSize)
	for i := range level {
		copy(level[i][:], data[i*tlog.HashSize:])
	}
	for len(level) > 1 {
		for i := 0; i < len(level)/2; i++ {
			level[i] = tlog.NodeHash(level[2*i], level[2*i+1])
		}
		level = level[:len(level)/2]
	}
	return level[0]
}

func readDataTile(path string) []byte {
	data := readFile(path)
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		z, err := gzip.NewReader(bytes.NewReader(data))
		if err == nil {
			data, err = io.ReadAll(z)
		}
		if err != nil {
			fail("%s: gzip: %v", path, err)
		}
	}
	return data
}

// dataTilesCheck parses every entry and checks it against the level-0 hashes and the issuers.
func (c *checker) dataTilesCheck() {
	current := make(map[int64]tlog.Tile)
	raw := make(map[int64][]byte)
	for _, t := range treeTiles(c.size) {
		if t.L != 0 {
			continue
		}
		leafHashes := c.tiles[faroPath(t)] // authenticated by hashTilesCheck
		t.L = -1
		path := filepath.Join(c.dir, faroPath(t))
		data := readDataTile(path)
		r := &reader{data: data}
		for i := 0; i < t.W; i++ {
			index := t.N*tileWidth + int64(i)
			e, err := parseTileLeaf(r)
			if err != nil {
				fail("%s: entry %d (leaf %d): %v", faroPath(t), i, index, err)
			}
			if got, err := leafIndex(e.extensions); err != nil || got != uint64(index) {
				fail("%s: entry %d: leaf_index %d (%v), want %d", faroPath(t), i, got, err, index)
			}
			if h := tlog.RecordHash(e.merkleTreeLeaf()); !bytes.Equal(h[:], leafHashes[i*tlog.HashSize:(i+1)*tlog.HashSize]) {
				fail("%s: entry %d does not hash to leaf %d of tile/0", faroPath(t), i, index)
			}
			if e.timestamp > c.timestamp {
				fail("leaf %d: timestamp %d is after the checkpoint's %d", index, e.timestamp, c.timestamp)
			}
			if index > 0 && e.timestamp < c.entries[index-1].timestamp {
				fail("leaf %d: timestamp %d is before leaf %d's %d", index, e.timestamp, index-1, c.entries[index-1].timestamp)
			}
			c.entryCheck(index, e)
			c.entries = append(c.entries, e)
		}
		if len(r.data) != 0 {
			fail("%s: %d bytes after its %d entries", faroPath(t), len(r.data), t.W)
		}
		current[t.N] = t
		raw[t.N] = data
		c.dataTiles++
	}
	if int64(len(c.entries)) != c.size {
		fail("data tiles hold %d entries, the tree %d", len(c.entries), c.size)
	}
	for _, t := range c.tileFiles(true) {
		cur, ok := current[t.N]
		if ok && cur == t {
			continue
		}
		if !ok || t.W > cur.W {
			fail("%s lies beyond the tree of size %d", faroPath(t), c.size)
		}
		data := readDataTile(filepath.Join(c.dir, faroPath(t)))
		r := &reader{data: data}
		for i := 0; i < t.W; i++ {
			if _, err := parseTileLeaf(r); err != nil {
				fail("%s: entry %d: %v", faroPath(t), i, err)
			}
		}
		if len(r.data) != 0 || !bytes.HasPrefix(raw[t.N], data) {
			fail("%s is not the first %d entries of %s", faroPath(t), t.W, faroPath(cur))
		}
		c.olderDataTiles++
	}
}

func (c *checker) issuer(fp []byte) *x509.Certificate {
	var key [32]byte
	copy(key[:], fp)
	if cert, ok := c.issuers[key]; ok {
		return cert
	}
	name := "issuer/" + hex.EncodeToString(fp)
	der, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		fail("a chain references %s: %v", name, err)
	}
	if sha256.Sum256(der) != key {
		fail("%s does not hash to its name", name)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		fail("%s: %v", name, err)
	}
	c.issuers[key] = cert
	return cert
}

// signedBy checks child's signature with parent's key (once per pair).
func (c *checker) signedBy(index int64, child, parent *x509.Certificate) {
	var pair [64]byte
	a, b := sha256.Sum256(child.Raw), sha256.Sum256(parent.Raw)
	copy(pair[:32], a[:])
	copy(pair[32:], b[:])
	if c.verified[pair] {
		return
	}
	if err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature); err != nil {
		fail("leaf %d: %q is not signed by %q: %v", index, child.Subject, parent.Subject, err)
	}
	c.verified[pair] = true
}

// entryCheck: the certificate parses, the chain is the issuers' path to a root, a precertificate's fields follow from it.
func (c *checker) entryCheck(index int64, e *entry) {
	if len(e.chain) == 0 {
		fail("leaf %d: empty certificate_chain", index)
	}
	der := e.certificate
	if e.precert {
		der = e.preCert
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		fail("leaf %d: certificate: %v", index, err)
	}
	if hasExtension(cert, oidPoison) != e.precert {
		fail("leaf %d: entry type precert=%v, but the poison extension present=%v", index, e.precert, !e.precert)
	}
	chain := []*x509.Certificate{cert}
	for _, fp := range e.chain {
		chain = append(chain, c.issuer(fp))
	}
	for i := 0; i+1 < len(chain); i++ {
		c.signedBy(index, chain[i], chain[i+1])
	}
	if c.roots != nil {
		var last [32]byte
		copy(last[:], e.chain[len(e.chain)-1])
		if !c.roots[last] {
			fail("leaf %d: the chain ends in %q, not in one of the roots", index, chain[len(chain)-1].Subject)
		}
	}
	if e.precert {
		tbs, ikh, err := defang(chain)
		if err != nil {
			fail("leaf %d: %v", index, err)
		}
		if !bytes.Equal(ikh, e.issuerKeyHash) {
			fail("leaf %d: issuer_key_hash %x, want %x", index, e.issuerKeyHash, ikh)
		}
		if !bytes.Equal(tbs, e.certificate) {
			fail("leaf %d: tbs_certificate is not the precertificate's TBSCertificate without the poison", index)
		}
	}
}

func hasExtension(cert *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oid) {
			return true
		}
	}
	return false
}

func isPSC(cert *x509.Certificate) bool {
	for _, oid := range cert.UnknownExtKeyUsage {
		if oid.Equal(oidPrecertSign) {
			return true
		}
	}
	return false
}

type extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool `asn1:"optional"`
	Value    []byte
}

func elements(der []byte) ([]asn1.RawValue, error) {
	var out []asn1.RawValue
	for len(der) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(der, &v)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		der = rest
	}
	return out, nil
}

func wrap(class, tag int, content []byte) []byte {
	out, err := asn1.Marshal(asn1.RawValue{Class: class, Tag: tag, IsCompound: true, Bytes: content})
	if err != nil {
		panic(err)
	}
	return out
}

// defang rebuilds a precertificate's log entry fields from chain = [precert, issuer, ...] (RFC 6962 §3.1-3.2): the
// TBSCertificate without the poison extension (through a PSC: with the PSC's issuer name and authority key identifier)
// and SHA-256 of the real issuer's SubjectPublicKeyInfo.
func defang(chain []*x509.Certificate) (tbs, issuerKeyHash []byte, err error) {
	if len(chain) < 2 {
		return nil, nil, fmt.Errorf("precertificate without an issuer")
	}
	pre, issuer := chain[0], chain[1]
	var psc *x509.Certificate
	if isPSC(issuer) {
		if len(chain) < 3 {
			return nil, nil, fmt.Errorf("PSC without an issuer")
		}
		psc, issuer = issuer, chain[2]
	}
	ikh := sha256.Sum256(issuer.RawSubjectPublicKeyInfo)

	var outer asn1.RawValue
	if rest, err := asn1.Unmarshal(pre.RawTBSCertificate, &outer); err != nil || len(rest) != 0 {
		return nil, nil, fmt.Errorf("TBSCertificate: %v", err)
	}
	fields, err := elements(outer.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("TBSCertificate: %v", err)
	}
	issuerAt := 2 // serialNumber, signature, issuer
	if len(fields) > 0 && fields[0].Class == asn1.ClassContextSpecific && fields[0].Tag == 0 {
		issuerAt = 3
	}
	var content []byte
	for i, f := range fields {
		switch {
		case i == issuerAt && psc != nil:
			content = append(content, psc.RawIssuer...)
		case f.Class == asn1.ClassContextSpecific && f.Tag == 3:
			ext, err := defangExtensions(f.Bytes, psc)
			if err != nil {
				return nil, nil, err
			}
			content = append(content, ext...)
		default:
			content = append(content, f.FullBytes...)
		}
	}
	return wrap(asn1.ClassUniversal, asn1.TagSequence, content), ikh[:], nil
}

// defangExtensions takes the [3] EXPLICIT Extensions contents and returns the new [3] field (nil when no extension is left).
func defangExtensions(explicit []byte, psc *x509.Certificate) ([]byte, error) {
	var seq asn1.RawValue
	if rest, err := asn1.Unmarshal(explicit, &seq); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("extensions: %v", err)
	}
	exts, err := elements(seq.Bytes)
	if err != nil {
		return nil, fmt.Errorf("extensions: %v", err)
	}
	var pscAKI []byte
	if psc != nil {
		for _, e := range psc.Extensions {
			if e.Id.Equal(oidAKI) {
				pscAKI = e.Value
			}
		}
	}
	var out []byte
	poisons, hadAKI := 0, false
	for _, raw := range exts {
		var e extension
		if _, err := asn1.Unmarshal(raw.FullBytes, &e); err != nil {
			return nil, fmt.Errorf("extension: %v", err)
		}
		switch {
		case e.ID.Equal(oidPoison):
			poisons++
		case psc != nil && e.ID.Equal(oidAKI):
			hadAKI = true
			if pscAKI != nil {
				e.Value = pscAKI
				b, err := asn1.Marshal(e)
				if err != nil {
					return nil, err
				}
				out = append(out, b...)
			}
		default:
			out = append(out, raw.FullBytes...)
		}
	}
	if poisons != 1 {
		return nil, fmt.Errorf("%d poison extensions", poisons)
	}
	if psc != nil && !hadAKI && pscAKI != nil {
		b, err := asn1.Marshal(extension{ID: oidAKI, Value: pscAKI})
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return wrap(asn1.ClassContextSpecific, 3, wrap(asn1.ClassUniversal, asn1.TagSequence, out)), nil
}

// issuersCheck: every file in issuer/ is named by its SHA-256.
func (c *checker) issuersCheck() int {
	dir := filepath.Join(c.dir, "issuer")
	files, err := os.ReadDir(dir)
	if err != nil && !(os.IsNotExist(err) && c.size == 0) {
		fail("%v", err)
	}
	n := 0
	for _, f := range files {
		if isTemporary(f.Name()) {
			continue
		}
		n++
		fp, err := hex.DecodeString(f.Name())
		if err != nil || len(fp) != 32 || hex.EncodeToString(fp) != f.Name() {
			fail("issuer/%s: not a lowercase hex SHA-256", f.Name())
		}
		c.issuer(fp)
	}
	return n
}

// isTemporary: a durable write's temporary file (".<name>.XXXXXX"), left behind when the writer was killed mid-write.
func isTemporary(name string) bool {
	return strings.HasPrefix(name, ".")
}

// temporaries counts the temporary files anywhere in the storage directory.
func (c *checker) temporaries() int {
	n := 0
	filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isTemporary(d.Name()) {
			n++
		}
		return nil
	})
	return n
}

type sctRecord struct {
	Leaf    string   `json:"leaf_der_b64"`
	Issuers []string `json:"issuer_chain_der_b64"`
	Precert bool     `json:"precert"`
	SCT     struct {
		Version    *int    `json:"sct_version"`
		ID         string  `json:"id"`
		Timestamp  *uint64 `json:"timestamp"`
		Extensions string  `json:"extensions"`
		Signature  string  `json:"signature"`
	} `json:"sct"`
}

func decode(line int, what, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		fail("SCT line %d: %s: %v", line, what, err)
	}
	return b
}

// sctsCheck verifies every recorded SCT and finds its entry in the tree.
func (c *checker) sctsCheck(path string) {
	f, err := os.Open(path)
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	scanner.Buffer(nil, 16<<20)
	for line := 1; scanner.Scan(); line++ {
		var rec sctRecord
		if err := json.Unmarshal(scanner.Bytes(), &rec); err != nil {
			fail("SCT line %d: %v", line, err)
		}
		s := rec.SCT
		if s.Version == nil || *s.Version != 0 || s.Timestamp == nil {
			fail("SCT line %d: sct_version must be 0 and timestamp present", line)
		}
		if !bytes.Equal(decode(line, "id", s.ID), c.logID[:]) {
			fail("SCT line %d: id %s is not the log ID", line, s.ID)
		}
		ext := decode(line, "extensions", s.Extensions)
		index, err := leafIndex(ext)
		if err != nil {
			fail("SCT line %d: %v", line, err)
		}

		chain := []*x509.Certificate{}
		ders := [][]byte{decode(line, "leaf", rec.Leaf)}
		for _, b := range rec.Issuers {
			ders = append(ders, decode(line, "issuer", b))
		}
		for _, der := range ders {
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				fail("SCT line %d: submitted certificate: %v", line, err)
			}
			chain = append(chain, cert)
		}
		want := &entry{timestamp: *s.Timestamp, precert: rec.Precert, certificate: ders[0], extensions: ext}
		if rec.Precert {
			want.certificate, want.issuerKeyHash, err = defang(chain)
			if err != nil {
				fail("SCT line %d: %v", line, err)
			}
		}
		if err := verifyDigitallySigned(c.key, want.merkleTreeLeaf(), decode(line, "signature", s.Signature)); err != nil {
			fail("SCT line %d (leaf_index %d): %v", line, index, err)
		}

		if index >= uint64(c.size) {
			fail("SCT line %d: leaf_index %d is not in the tree of size %d", line, index, c.size)
		}
		got := c.entries[index]
		switch {
		case got.timestamp != want.timestamp:
			fail("SCT line %d: leaf %d has timestamp %d, the SCT %d", line, index, got.timestamp, want.timestamp)
		case got.precert != want.precert:
			fail("SCT line %d: leaf %d precert=%v, the submission precert=%v", line, index, got.precert, want.precert)
		case !rec.Precert && !bytes.Equal(got.certificate, ders[0]):
			fail("SCT line %d: leaf %d holds another certificate than the submitted one", line, index)
		case rec.Precert && !bytes.Equal(got.preCert, ders[0]):
			fail("SCT line %d: leaf %d holds another pre_certificate than the submitted one", line, index)
		case rec.Precert && (!bytes.Equal(got.certificate, want.certificate) || !bytes.Equal(got.issuerKeyHash, want.issuerKeyHash)):
			fail("SCT line %d: leaf %d: tbs_certificate or issuer_key_hash differs from the submission's", line, index)
		case len(got.chain) != len(ders)-1 && len(got.chain) != len(ders):
			fail("SCT line %d: leaf %d has %d chain fingerprints for %d submitted issuers", line, index, len(got.chain), len(ders)-1)
		}
		for i, der := range ders[1:] {
			if fp := sha256.Sum256(der); !bytes.Equal(got.chain[i], fp[:]) {
				fail("SCT line %d: leaf %d: chain[%d] is not the submitted issuer", line, index, i)
			}
		}
		c.scts++
		if rec.Precert {
			c.precerts++
		}
	}
	if err := scanner.Err(); err != nil {
		fail("%s: %v", path, err)
	}
}

func main() {
	storage := flag.String("storage", "", "the log's storage directory")
	origin := flag.String("origin", "", "the log's origin")
	pubkey := flag.String("pubkey", "", "PEM public key the log must have (default: trust log.v3.json)")
	rootsPath := flag.String("roots", "", "PEM bundle: every chain must end in one of these")
	scts := flag.String("scts", "", "JSON lines of received SCTs")
	minSize := flag.Int64("min-size", 0, "the tree must have at least this many entries")
	cosigned := flag.Bool("cosigned", false, "the checkpoint carries witness cosignature lines (other keys' lines)")
	flag.Parse()
	if *storage == "" || *origin == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	c := &checker{dir: *storage, origin: *origin, tiles: map[string][]byte{}, issuers: map[[32]byte]*x509.Certificate{},
		verified: map[[64]byte]bool{}, cosigned: *cosigned}
	if *rootsPath != "" {
		c.roots = map[[32]byte]bool{}
		for rest := readFile(*rootsPath); ; {
			var block *pem.Block
			if block, rest = pem.Decode(rest); block == nil {
				break
			}
			c.roots[sha256.Sum256(block.Bytes)] = true
		}
		if len(c.roots) == 0 {
			fail("%s: no certificates", *rootsPath)
		}
	}
	c.loadLogInfo(*pubkey)
	c.checkpoint()
	if c.size < *minSize {
		fail("tree size %d is below %d", c.size, *minSize)
	}
	c.hashTilesCheck()
	c.dataTilesCheck()
	issuers := c.issuersCheck()
	if *scts != "" {
		c.sctsCheck(*scts)
	}
	fmt.Printf("ctcheck: OK: %s at size %d (%d cosignature lines): %d hash tiles (+%d older partial), %d data tiles (+%d older partial), "+
		"%d issuers, %d SCTs (%d precert) found in the tree; %d temporary files left by interrupted writes\n", c.origin,
		c.size, c.cosignatures, c.hashTiles, c.olderTiles, c.dataTiles, c.olderDataTiles, issuers, c.scts, c.precerts, c.temporaries())
}

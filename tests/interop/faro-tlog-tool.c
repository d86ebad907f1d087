/*
 * faro-tlog-tool: a thin command-line face on the tlog library for the
 * interoperability test (gocheck/main.go), which drives it and compares every
 * answer with golang.org/x/mod/sumdb/tlog and note. Leaf i is the record
 * "leaf-<i>"; hashes travel as standard base64.
 *
 *   tree DIR SIZE...      grows one tree through the given ascending sizes;
 *                         at each it writes the partial tiles (full tiles as
 *                         they complete) under DIR, prints the root, and
 *                         reloads the edge from DIR (tlog_edge_load) as a
 *                         restarted log would
 *   query DIR             per stdin line "root S", "inclusion I S" or
 *                         "consistency M S": one line with the root or the
 *                         proof hashes (space-separated), read from DIR's tiles
 *   check-proofs          per stdin line "inclusion I S LEAF ROOT P..." or
 *                         "consistency M S OLDROOT NEWROOT P...": "ok" or
 *                         "fail <why>"
 *   sign NAME SEEDHEX     signs the note text on stdin (Ed25519, type 0x01)
 *   vkey NAME SEEDHEX     prints that key's verifier key
 *   verify-note VKEY      exit 0 if the note on stdin verifies, 1 if not
 *
 * A tile read for size S falls back to the narrowest wider stored file of the
 * same tile (its prefix holds the same hashes). Usage and I/O errors exit 2.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tlog/error.h"
#include "tlog/hash.h"
#include "tlog/merkle.h"
#include "tlog/note.h"
#include "tlog/tile.h"

#define B64_HASH_LEN TLOG_BASE64_LEN(TLOG_HASH_SIZE)

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("faro-tlog-tool: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* The next space-separated word of a request line, NULL after the last; an empty line is a usage error. */
static char *next_word(char *line, char **save)
{
    char *word = strtok_r(line, " \n", save);
    if (word == NULL && line != NULL)
        die("empty request line");
    return word;
}

static uint64_t parse_u64(const char *s)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        die("expected a decimal number, got %s", s == NULL ? "nothing" : s);
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        die("bad decimal number %s", s);
    return v;
}

static void parse_hash(const char *s, tlog_hash_t *out)
{
    size_t len;
    if (s == NULL || tlog_base64_decode(s, strlen(s), out->bytes, sizeof(out->bytes), &len) != 0 || len != TLOG_HASH_SIZE)
        die("expected a base64 hash, got %s", s == NULL ? "nothing" : s);
}

static void print_hash(const tlog_hash_t *hash, const char *end)
{
    char b64[B64_HASH_LEN + 1];
    tlog_base64_encode(hash->bytes, sizeof(hash->bytes), b64);
    printf("%s%s", b64, end);
}

static void leaf_hash(uint64_t i, tlog_hash_t *out)
{
    char leaf[32];
    int len = snprintf(leaf, sizeof(leaf), "leaf-%" PRIu64, i);
    tlog_leaf_hash(leaf, (size_t)len, out);
}

static void tile_file(const char *dir, const tlog_tile_t *tile, char *path, size_t cap)
{
    char rel[TLOG_TILE_PATH_MAX];
    tlog_tile_path_format(tile, rel);
    if ((size_t)snprintf(path, cap, "%s/%s", dir, rel) >= cap)
        die("path too long under %s", dir);
}

static void write_tile(void *ctx, const tlog_tile_t *tile, const uint8_t *hashes)
{
    char path[4096];
    tile_file(ctx, tile, path, sizeof(path));
    for (char *slash = strchr(path + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            die("mkdir %s: %s", path, strerror(errno));
        *slash = '/';
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(hashes, TLOG_HASH_SIZE, tile->width, f) != tile->width || fclose(f) != 0)
        die("writing %s failed", path);
}

static int read_tile(void *ctx, const tlog_tile_t *tile, uint8_t *out, char *err)
{
    tlog_tile_t stored = *tile;
    for (; stored.width <= TLOG_TILE_WIDTH; stored.width++) {
        char path[4096];
        uint8_t buf[TLOG_TILE_BYTES + 1];
        tile_file(ctx, &stored, path, sizeof(path));
        FILE *f = fopen(path, "rb");
        if (f == NULL && errno == ENOENT)
            continue;
        if (f == NULL)
            return tlog_errorf(err, "%s: %s", path, strerror(errno));
        size_t got = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        if (got != stored.width * TLOG_HASH_SIZE)
            return tlog_errorf(err, "%s holds %zu bytes, not %u", path, got, stored.width * TLOG_HASH_SIZE);
        memcpy(out, buf, tile->width * TLOG_HASH_SIZE);
        return 0;
    }
    char rel[TLOG_TILE_PATH_MAX];
    tlog_tile_path_format(tile, rel);
    return tlog_errorf(err, "no stored file holds %s", rel);
}

static void cmd_tree(const char *dir, char **sizes, int count)
{
    static tlog_edge_t edge;
    char err[TLOG_ERR_MAX];
    tlog_hash_t root, leaf;
    uint64_t done = 0;

    tlog_edge_init(&edge);
    for (int i = 0; i < count; i++) {
        uint64_t size = parse_u64(sizes[i]);
        if (size < done)
            die("sizes must not decrease");
        if (done > 0 && tlog_edge_load(&edge, done, &root, read_tile, (void *)dir, err) != 0)
            die("reloading the edge at size %" PRIu64 ": %s", done, err);
        for (; done < size; done++) {
            leaf_hash(done, &leaf);
            tlog_edge_append(&edge, &leaf, write_tile, (void *)dir);
        }
        tlog_edge_partial_tiles(&edge, write_tile, (void *)dir);
        tlog_range_root(&edge.range, &root);
        print_hash(&root, "\n");
    }
}

static void print_proof(const tlog_hash_t *proof, size_t len)
{
    for (size_t i = 0; i < len; i++)
        print_hash(&proof[i], i + 1 < len ? " " : "");
    putchar('\n');
}

static void cmd_query(const char *dir)
{
    static tlog_tile_reader_t reader;
    char *line = NULL, *save, err[TLOG_ERR_MAX];
    size_t cap = 0, len;
    tlog_hash_t proof[TLOG_MAX_PROOF];

    while (getline(&line, &cap, stdin) > 0) {
        const char *kind = next_word(line, &save);
        uint64_t a = parse_u64(next_word(NULL, &save));
        if (strcmp(kind, "root") == 0) {
            tlog_hash_t root;
            tlog_tile_reader_init(&reader, a, read_tile, (void *)dir);
            tlog_node_reader_t nodes = tlog_tile_reader_nodes(&reader);
            if (tlog_tree_hash(&nodes, a, &root, err) != 0)
                die("root %" PRIu64 ": %s", a, err);
            print_hash(&root, "\n");
            continue;
        }
        uint64_t size = parse_u64(next_word(NULL, &save));
        tlog_tile_reader_init(&reader, size, read_tile, (void *)dir);
        tlog_node_reader_t nodes = tlog_tile_reader_nodes(&reader);
        int rc;
        if (strcmp(kind, "inclusion") == 0)
            rc = tlog_inclusion_proof(&nodes, a, size, proof, &len, err);
        else if (strcmp(kind, "consistency") == 0)
            rc = tlog_consistency_proof(&nodes, a, size, proof, &len, err);
        else
            die("unknown query %s", kind);
        if (rc != 0)
            die("%s %" PRIu64 " %" PRIu64 ": %s", kind, a, size, err);
        print_proof(proof, len);
    }
    free(line);
}

static void cmd_check_proofs(void)
{
    char *line = NULL, *save, *word, err[TLOG_ERR_MAX];
    size_t cap = 0, len;
    tlog_hash_t first, second, proof[TLOG_MAX_PROOF + 1];

    while (getline(&line, &cap, stdin) > 0) {
        const char *kind = next_word(line, &save);
        uint64_t a = parse_u64(next_word(NULL, &save));
        uint64_t size = parse_u64(next_word(NULL, &save));
        parse_hash(next_word(NULL, &save), &first);
        parse_hash(next_word(NULL, &save), &second);
        for (len = 0; (word = next_word(NULL, &save)) != NULL; len++) {
            if (len == TLOG_MAX_PROOF + 1)
                die("proof too long");
            parse_hash(word, &proof[len]);
        }
        int rc;
        if (strcmp(kind, "inclusion") == 0)
            rc = tlog_inclusion_verify(a, size, &first, proof, len, &second, err);
        else if (strcmp(kind, "consistency") == 0)
            rc = tlog_consistency_verify(a, size, &first, &second, proof, len, err);
        else
            die("unknown check %s", kind);
        if (rc == 0)
            printf("ok\n");
        else
            printf("fail %s\n", err);
    }
    free(line);
}

static char *read_stdin(size_t *len)
{
    char *buf = malloc(TLOG_NOTE_MAX_SIZE + 1);
    if (buf == NULL)
        die("out of memory");
    *len = fread(buf, 1, TLOG_NOTE_MAX_SIZE + 1, stdin);
    if (*len > TLOG_NOTE_MAX_SIZE)
        die("stdin is larger than a note may be");
    return buf;
}

static tlog_signer_t *make_signer(const char *name, const char *seed_hex)
{
    uint8_t seed[32];
    char err[TLOG_ERR_MAX];
    tlog_signer_t *signer;
    if (tlog_hex_decode(seed_hex, strlen(seed_hex), seed, sizeof(seed)) != 0)
        die("the seed must be 64 hex digits");
    int rc = tlog_signer_ed25519(name, seed, TLOG_SIG_ED25519, &signer, err);
    explicit_bzero(seed, sizeof(seed));
    if (rc != 0)
        die("signer: %s", err);
    return signer;
}

static void cmd_sign(const char *name, const char *seed_hex)
{
    tlog_signer_t *signer = make_signer(name, seed_hex);
    char err[TLOG_ERR_MAX], *note;
    size_t text_len, note_len;
    char *text = read_stdin(&text_len);
    if (tlog_note_sign(text, text_len, &signer, 1, 0, &note, &note_len, err) != 0)
        die("sign: %s", err);
    fwrite(note, 1, note_len, stdout);
    free(note);
    free(text);
    tlog_signer_free(signer);
}

static void cmd_vkey(const char *name, const char *seed_hex)
{
    tlog_signer_t *signer = make_signer(name, seed_hex);
    tlog_verifier_t *verifier;
    char err[TLOG_ERR_MAX], vkey[512];
    if (tlog_signer_verifier(signer, &verifier, err) != 0)
        die("verifier: %s", err);
    if (tlog_verifier_vkey(verifier, vkey, sizeof(vkey)) != 0)
        die("no vkey for this key type");
    printf("%s\n", vkey);
    tlog_verifier_free(verifier);
    tlog_signer_free(signer);
}

static int cmd_verify_note(const char *vkey)
{
    tlog_verifier_t *verifier;
    tlog_note_t *note = NULL;
    char err[TLOG_ERR_MAX];
    size_t len;
    int rc = 1;

    if (tlog_verifier_from_vkey(vkey, strlen(vkey), &verifier, err) != 0)
        die("vkey: %s", err);
    char *buf = read_stdin(&len);
    if (tlog_note_parse(buf, len, &note, err) == 0 && tlog_note_verify(note, &verifier, 1, NULL, err) == 0)
        rc = 0;
    else
        fprintf(stderr, "faro-tlog-tool: note rejected: %s\n", err);
    tlog_note_free(note);
    free(buf);
    tlog_verifier_free(verifier);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "tree") == 0 && argc > 3)
        cmd_tree(argv[2], argv + 3, argc - 3);
    else if (strcmp(cmd, "query") == 0 && argc == 3)
        cmd_query(argv[2]);
    else if (strcmp(cmd, "check-proofs") == 0 && argc == 2)
        cmd_check_proofs();
    else if (strcmp(cmd, "sign") == 0 && argc == 4)
        cmd_sign(argv[2], argv[3]);
    else if (strcmp(cmd, "vkey") == 0 && argc == 4)
        cmd_vkey(argv[2], argv[3]);
    else if (strcmp(cmd, "verify-note") == 0 && argc == 3)
        return cmd_verify_note(argv[2]);
    else
        die("usage: tree DIR SIZE... | query DIR | check-proofs | sign NAME SEEDHEX | vkey NAME SEEDHEX | verify-note VKEY");
    if (fflush(stdout) != 0)
        die("writing stdout failed");
    return 0;
}

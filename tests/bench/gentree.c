/*
 * gentree: a static-ct-api tree for the gateway benchmark (run-gateway),
 * made directly with tlog/ instead of a million submissions to the writer.
 *
 *   gentree DIR ENTRIES ORIGIN ECDSA_KEY ED25519_KEY
 *
 * writes into DIR (created if missing): every full and partial hash tile and
 * data tile of a tree of ENTRIES certificate entries, the issuers they name
 * (two intermediates and a root), roots.pem, log.v3.json, and a checkpoint
 * signed by both keys for ORIGIN, so the gateway's /health verifies it.
 * Entries alternate between two leaf certificates, one under each
 * intermediate (each entry's own index makes its leaf hash distinct).
 *
 * Generating a million entries takes a few seconds and ~600 MB; DIR/gentree.done
 * records the size and root of a finished tree, and a second run over the
 * same DIR with the same ENTRIES only signs a fresh checkpoint (a
 * checkpoint is "too old" for /health after a few seconds).
 *
 * Files are written plainly, without fsync: this is a benchmark fixture,
 * not a log.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "tests/unit/testpki.h"
#include "tlog/checkpoint.h"
#include "tlog/ctentry.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/keys.h"
#include "tlog/note.h"
#include "tlog/tile.h"

/* Entries sequenced per timestamp, like a writer's round. */
#define ROUND_ENTRIES 1000

typedef struct tree_dir {
    const char *dir;
} tree_dir_t;

_Noreturn static void die(const char *what, const char *why)
{
    fprintf(stderr, "gentree: %s: %s\n", what, why);
    exit(1);
}

static void write_file(const char *dir, const char *rel, const void *data, size_t len)
{
    char path[4096], parent[4096], err[TLOG_ERR_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    snprintf(parent, sizeof(parent), "%s", path);
    *strrchr(parent, '/') = '\0';
    if (tlog_durable_mkdirs(parent, err) != 0)
        die(parent, err);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die(path, strerror(errno));
}

static void write_tile(void *ctx, const tlog_tile_t *tile, const uint8_t *hashes)
{
    char rel[TLOG_TILE_PATH_MAX];
    tlog_tile_path_format(tile, rel);
    write_file(((tree_dir_t *)ctx)->dir, rel, hashes, (size_t)tile->width * TLOG_HASH_SIZE);
}

static void write_data_tile(const char *dir, uint64_t index, unsigned width, tlog_buf_t *entries)
{
    tlog_tile_t tile = {TLOG_TILE_DATA, index, width};
    char rel[TLOG_TILE_PATH_MAX];
    tlog_tile_path_format(&tile, rel);
    write_file(dir, rel, entries->data, entries->len);
    entries->len = 0;
}

static void write_issuer(const char *dir, const testpki_cert_t *cert, uint8_t fingerprint[TLOG_HASH_SIZE])
{
    char rel[16 + 2 * TLOG_HASH_SIZE];
    tlog_sha256(cert->der, cert->der_len, (tlog_hash_t *)fingerprint);
    memcpy(rel, "issuer/", 7);
    tlog_hex_encode(fingerprint, TLOG_HASH_SIZE, rel + 7);
    write_file(dir, rel, cert->der, cert->der_len);
}

/* Every tile, issuer and roots.pem of a tree of n entries; its root into *root. */
static void write_tree(const char *dir, uint64_t n, uint64_t timestamp_ms, tlog_hash_t *root)
{
    testpki_cert_t *ca = testpki_root("faro bench root");
    testpki_cert_t *intermediates[2] = {testpki_intermediate("faro bench CA 1", ca), testpki_intermediate("faro bench CA 2", ca)};
    testpki_cert_t *leaves[2] = {testpki_leaf("bench.faro.test", intermediates[0]),
                                 testpki_leaf("bench.faro.test", intermediates[1])};
    uint8_t chains[2][2 * TLOG_HASH_SIZE];
    for (int i = 0; i < 2; i++) {
        write_issuer(dir, intermediates[i], chains[i]);
        write_issuer(dir, ca, chains[i] + TLOG_HASH_SIZE);
    }
    char *pem = testpki_pem(&ca, 1);
    write_file(dir, "roots.pem", pem, strlen(pem));
    free(pem);

    tlog_edge_t *edge = malloc(sizeof(*edge));
    tlog_buf_t data = TLOG_BUF_INIT;
    tree_dir_t ctx = {dir};
    if (edge == NULL)
        abort();
    tlog_edge_init(edge);
    for (uint64_t i = 0; i < n; i++) {
        tlog_ct_entry_t entry = {
            .timestamp = timestamp_ms - (n - i) / ROUND_ENTRIES * 1000,
            .leaf_index = i,
            .certificate = leaves[i % 2]->der,
            .certificate_len = leaves[i % 2]->der_len,
            .chain_fingerprints = chains[i % 2],
            .chain_count = 2,
        };
        tlog_hash_t hash;
        tlog_ct_leaf_hash(&entry, &hash);
        tlog_ct_tile_leaf(&entry, &data);
        tlog_edge_append(edge, &hash, write_tile, &ctx);
        if ((i + 1) % TLOG_TILE_WIDTH == 0)
            write_data_tile(dir, i / TLOG_TILE_WIDTH, TLOG_TILE_WIDTH, &data);
    }
    if (n % TLOG_TILE_WIDTH != 0)
        write_data_tile(dir, n / TLOG_TILE_WIDTH, (unsigned)(n % TLOG_TILE_WIDTH), &data);
    tlog_edge_partial_tiles(edge, write_tile, &ctx);
    tlog_range_root(&edge->range, root);
    tlog_buf_free(&data);
    free(edge);
    for (int i = 0; i < 2; i++) {
        testpki_free(leaves[i]);
        testpki_free(intermediates[i]);
    }
    testpki_free(ca);
}

/* log.v3.json with what the gateway and a monitor read from it: origin, key, log ID, verifier key. */
static void write_log_json(const char *dir, const char *origin, EVP_PKEY *key, const tlog_signer_t *ed25519)
{
    char err[TLOG_ERR_MAX], key_b64[TLOG_BASE64_LEN(512) + 1], id_b64[TLOG_BASE64_LEN(32) + 1], vkey[512];
    uint8_t *spki, log_id[32];
    size_t spki_len;
    tlog_verifier_t *verifier;
    if (tlog_key_spki(key, &spki, &spki_len, err) != 0 || spki_len > 512 || tlog_key_log_id(key, log_id, err) != 0 ||
        tlog_signer_verifier(ed25519, &verifier, err) != 0)
        die("log.v3.json", err);
    tlog_base64_encode(spki, spki_len, key_b64);
    tlog_base64_encode(log_id, sizeof(log_id), id_b64);
    tlog_verifier_vkey(verifier, vkey, sizeof(vkey));
    json_t *json = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "description", origin, "log_id", id_b64, "key", key_b64,
                             "verifier_key", vkey, "mmd", 60, "log_spec", "static-ct-api");
    char *text = json_dumps(json, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text == NULL)
        abort();
    write_file(dir, "log.v3.json", text, strlen(text));
    free(text);
    json_decref(json);
    tlog_verifier_free(verifier);
    free(spki);
}

static void write_checkpoint(const char *dir, const char *origin, uint64_t size, const tlog_hash_t *root, uint64_t timestamp_ms,
                             tlog_signer_t *const signers[2])
{
    char err[TLOG_ERR_MAX], text[TLOG_ORIGIN_MAX + 128], *note;
    size_t note_len;
    tlog_checkpoint_t checkpoint = {.size = size, .root = *root};
    snprintf(checkpoint.origin, sizeof(checkpoint.origin), "%s", origin);
    size_t len = tlog_checkpoint_format(&checkpoint, text, sizeof(text));
    if (len == 0 || tlog_note_sign(text, len, signers, 2, timestamp_ms, &note, &note_len, err) != 0)
        die("checkpoint", len == 0 ? "origin too long" : err);
    write_file(dir, "checkpoint", note, note_len);
    free(note);
}

static uint64_t now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* The root recorded in DIR/gentree.done for a finished tree of n entries: 1 if there is one. */
static int finished_tree(const char *dir, uint64_t n, tlog_hash_t *root)
{
    char path[4096], hex[2 * TLOG_HASH_SIZE + 1];
    uint64_t size;
    snprintf(path, sizeof(path), "%s/gentree.done", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int ok = fscanf(f, "%" SCNu64 " %64s", &size, hex) == 2 && size == n && tlog_hex_decode(hex, strlen(hex), root->bytes, 32) == 0;
    fclose(f);
    return ok;
}

int main(int argc, char **argv)
{
    char err[TLOG_ERR_MAX], *end;
    if (argc != 6) {
        fprintf(stderr, "usage: gentree DIR ENTRIES ORIGIN ECDSA_KEY ED25519_KEY\n");
        return 2;
    }
    const char *dir = argv[1], *origin = argv[3];
    uint64_t n = strtoull(argv[2], &end, 10);
    if (*end != '\0' || n == 0 || n > TLOG_CT_MAX_LEAF_INDEX)
        die(argv[2], "not a number of entries");

    EVP_PKEY *ecdsa, *ed25519;
    uint8_t seed[32];
    tlog_signer_t *signers[2];
    if (tlog_key_load_private(argv[4], EVP_PKEY_EC, &ecdsa, err) != 0 ||
        tlog_key_load_private(argv[5], EVP_PKEY_ED25519, &ed25519, err) != 0 || tlog_key_ed25519_seed(ed25519, seed, err) != 0 ||
        tlog_signer_rfc6962(origin, ecdsa, &signers[0], err) != 0 ||
        tlog_signer_ed25519(origin, seed, TLOG_SIG_ED25519, &signers[1], err) != 0)
        die("keys", err);
    OPENSSL_cleanse(seed, sizeof(seed));

    tlog_hash_t root;
    if (!finished_tree(dir, n, &root)) {
        write_tree(dir, n, now_ms(), &root);
        write_log_json(dir, origin, ecdsa, signers[1]);
        char stamp[32 + 2 * TLOG_HASH_SIZE];
        int len = snprintf(stamp, sizeof(stamp), "%" PRIu64 " ", n);
        tlog_hex_encode(root.bytes, TLOG_HASH_SIZE, stamp + len);
        strcat(stamp, "\n");
        write_file(dir, "gentree.done", stamp, strlen(stamp));
    }
    write_checkpoint(dir, origin, n, &root, now_ms(), signers);

    tlog_signer_free(signers[0]);
    tlog_signer_free(signers[1]);
    EVP_PKEY_free(ecdsa);
    EVP_PKEY_free(ed25519);
    return 0;
}

/*
 * Signed-note parser and verifier: any bytes either fail to parse or parse
 * into a note whose formatting parses again to the same lines; verification
 * against the vector keys (Ed25519, cosignature, RFC 6962) never crashes and
 * reports only lines that exist.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "tlog/error.h"
#include "tlog/hash.h"
#include "tlog/note.h"

/* static-ct.json log_key and sunlight_testdata_crosscheck SubjectPublicKeyInfo. */
static const char fuzz_vector_spki[] =
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004a8af2ed3c0897f7e3de1bdd72c1bcdb2d7d69d98ced19d8d77995"
    "660a0c82c84bf590c1e3899ded79b6ed6933c4c4a976920a019009390606d99ee375835ce33";
static const char fuzz_sunlight_spki[] =
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEPIcer7RB32jt4bTEbhgUKLKvOctFD+I2hoDItFxUBlJiGFvftBuRk3fO7e1T7gC2ekyfL7"
    "XoO2oN/ObcZyc4EA==";
static const char *const fuzz_vkeys[] = {
    "example.com/vector-log+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
    "witness.example.com/w1+969980cf+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X",
    "witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN",
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
};

#define FUZZ_NVERIFIERS 6
static tlog_verifier_t *fuzz_verifiers[FUZZ_NVERIFIERS];

static tlog_verifier_t *fuzz_rfc6962(const char *origin, const uint8_t *der, size_t len)
{
    const uint8_t *p = der;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);
    tlog_verifier_t *v = NULL;

    if (key == NULL || tlog_verifier_rfc6962(origin, key, &v, NULL) != 0)
        abort();
    EVP_PKEY_free(key);
    return v;
}

static void fuzz_init(void)
{
    uint8_t der[128];
    size_t len;

    for (size_t i = 0; i < 4; i++)
        if (tlog_verifier_from_vkey(fuzz_vkeys[i], strlen(fuzz_vkeys[i]), &fuzz_verifiers[i], NULL) != 0)
            abort();
    len = (sizeof(fuzz_vector_spki) - 1) / 2;
    if (tlog_hex_decode(fuzz_vector_spki, sizeof(fuzz_vector_spki) - 1, der, len) != 0)
        abort();
    fuzz_verifiers[4] = fuzz_rfc6962("ct.example.com/vector2026h1", der, len);
    if (tlog_base64_decode(fuzz_sunlight_spki, sizeof(fuzz_sunlight_spki) - 1, der, sizeof(der), &len) != 0)
        abort();
    fuzz_verifiers[5] = fuzz_rfc6962("rome2026h1.example.org", der, len);
}

/* Formatting a parsed note gives a note that parses to the same text and distinct lines, and formats to itself. */
static void fuzz_check_format(const tlog_note_t *note, const char *input, size_t size)
{
    char *out, *again;
    size_t out_len, again_len;
    tlog_note_t *reparsed;

    if (tlog_note_format(note, &out, &out_len) != 0)
        abort();
    if (out_len > size || (out_len == size && memcmp(out, input, size) != 0))
        abort();
    if (tlog_note_parse(out, out_len, &reparsed, NULL) != 0 || reparsed->text_len != note->text_len ||
        memcmp(reparsed->text, note->text, note->text_len) != 0 || reparsed->nsigs > note->nsigs)
        abort();
    if (tlog_note_format(reparsed, &again, &again_len) != 0 || again_len != out_len || memcmp(again, out, out_len) != 0)
        abort();
    free(again);
    tlog_note_free(reparsed);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan catches any read past the input. */
    char *input = malloc(size ? size : 1), err[TLOG_ERR_MAX];
    tlog_note_result_t results[FUZZ_NVERIFIERS];
    tlog_note_t *note;

    if (fuzz_verifiers[0] == NULL)
        fuzz_init();
    memcpy(input, data, size);
    if (tlog_note_parse(input, size, &note, err) == 0) {
        if (note->text_len == 0 || note->text[note->text_len - 1] != '\n' || note->nsigs == 0 || note->nsigs > TLOG_NOTE_MAX_SIGS)
            abort();
        fuzz_check_format(note, input, size);
        if (tlog_note_verify(note, fuzz_verifiers, FUZZ_NVERIFIERS, results, err) == 0)
            for (size_t i = 0; i < FUZZ_NVERIFIERS; i++)
                if (results[i].signed_ok && results[i].sig_index >= note->nsigs)
                    abort();
        tlog_note_free(note);
    }
    free(input);
    return 0;
}

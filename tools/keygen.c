/*
 * faro-keygen: makes a log's two signing keys, or reads existing ones, and
 * prints what others need to know about them.
 *
 *   ECDSA P-256  RFC 6962 signatures (SCTs, the checkpoint's 0x05 line); its
 *                SubjectPublicKeyInfo hashes to the log ID
 *   Ed25519      the checkpoint's 0x01 note signature, which witnesses check
 *
 * New keys are PKCS #8 PEM files created with O_EXCL and mode 0400, so an
 * existing key is never overwritten. Either way the keys are then read back
 * from disk (with the permission check every faro daemon makes) and printed:
 * log ID, Ed25519 vkey, ECDSA public key PEM, and a log-list v3 "tiled_logs" entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "tlog/checkpoint.h"
#include "tlog/error.h"
#include "tlog/hash.h"
#include "tlog/keys.h"
#include "tlog/note.h"

#define KEYGEN_MMD 60 /* seconds; static-ct-api logs sequence within seconds */
#define KEYGEN_URL_MAX 1024

typedef struct keygen_options {
    const char *origin;
    const char *ecdsa_path;
    const char *ed25519_path;
    const char *monitoring_prefix;
    const char *submission_prefix;
    int print_only;
} keygen_options_t;

static void keygen_usage(FILE *out)
{
    fprintf(out, "usage: faro-keygen [--origin ORIGIN] --ecdsa FILE --ed25519 FILE\n"
                 "                   [--submission-prefix URL] [--monitoring-prefix URL] [--print-only]\n"
                 "\n"
                 "Creates an ECDSA P-256 and an Ed25519 private key (PKCS #8 PEM, mode 0400; existing\n"
                 "files are never overwritten), or with --print-only reads existing ones, and prints\n"
                 "the log ID, the Ed25519 verifier key, the ECDSA public key and a log-list v3 entry.\n"
                 "ORIGIN defaults to the submission prefix without its scheme and trailing slash.\n");
}

static int keygen_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int keygen_fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "faro-keygen: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static int keygen_parse_options(int argc, char **argv, keygen_options_t *opts)
{
    static const struct option longopts[] = {
        {"origin", required_argument, NULL, 'o'},
        {"ecdsa", required_argument, NULL, 'e'},
        {"ed25519", required_argument, NULL, 'd'},
        {"monitoring-prefix", required_argument, NULL, 'm'},
        {"submission-prefix", required_argument, NULL, 's'},
        {"print-only", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            opts->origin = optarg;
            break;
        case 'e':
            opts->ecdsa_path = optarg;
            break;
        case 'd':
            opts->ed25519_path = optarg;
            break;
        case 'm':
            opts->monitoring_prefix = optarg;
            break;
        case 's':
            opts->submission_prefix = optarg;
            break;
        case 'p':
            opts->print_only = 1;
            break;
        case 'h':
            keygen_usage(stdout);
            exit(0);
        default:
            keygen_usage(stderr);
            return -1;
        }
    }
    if (optind != argc)
        return keygen_fail("unexpected argument %s (see --help)", argv[optind]);
    if (opts->ecdsa_path == NULL)
        return keygen_fail("--ecdsa FILE is required (the ECDSA P-256 key)");
    if (opts->ed25519_path == NULL)
        return keygen_fail("--ed25519 FILE is required (the Ed25519 key)");
    return 0;
}

/* url after its "http://" or "https://" scheme, or NULL if it has neither. */
static const char *keygen_strip_scheme(const char *url)
{
    if (strncasecmp(url, "https://", 8) == 0)
        return url + 8;
    if (strncasecmp(url, "http://", 7) == 0)
        return url + 7;
    return NULL;
}

/* The origin: --origin, or the submission prefix without scheme and trailing slashes. */
static int keygen_origin(const keygen_options_t *opts, char origin[TLOG_ORIGIN_MAX])
{
    const char *src = opts->origin;
    size_t len;

    if (src == NULL) {
        if (opts->submission_prefix == NULL)
            return keygen_fail("--origin is required (or --submission-prefix to derive it from)");
        if ((src = keygen_strip_scheme(opts->submission_prefix)) == NULL)
            return keygen_fail("--submission-prefix %s is not an http:// or https:// URL", opts->submission_prefix);
    }
    len = strlen(src);
    while (opts->origin == NULL && len > 0 && src[len - 1] == '/')
        len--;
    if (!tlog_origin_valid(src, len) || len >= TLOG_ORIGIN_MAX)
        return keygen_fail("origin \"%s\" is not a valid key name (non-empty, at most 255 bytes, no white space or '+')", src);
    memcpy(origin, src, len);
    origin[len] = '\0';
    return 0;
}

/* url, or "https://<origin>/" if NULL, always ending in '/'. */
static int keygen_url(const char *url, const char *origin, const char *option, char out[KEYGEN_URL_MAX])
{
    size_t len;

    if (url == NULL)
        snprintf(out, KEYGEN_URL_MAX, "https://%s/", origin);
    else if (keygen_strip_scheme(url) == NULL)
        return keygen_fail("%s %s is not an http:// or https:// URL", option, url);
    else if ((len = strlen(url)) + 2 > KEYGEN_URL_MAX)
        return keygen_fail("%s is too long", option);
    else
        snprintf(out, KEYGEN_URL_MAX, "%s%s", url, url[len - 1] == '/' ? "" : "/");
    return 0;
}

/* Creates path with mode 0400, failing if it exists. */
static int keygen_create(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);

    if (fd < 0 && errno == EEXIST)
        return keygen_fail("%s already exists; refusing to overwrite a key (use --print-only to print the existing keys)", path);
    if (fd < 0)
        return keygen_fail("cannot create %s: %s", path, strerror(errno));
    return fd;
}

/* Writes key to fd as unencrypted PKCS #8 PEM and flushes it to disk. */
static int keygen_write(int fd, const char *path, EVP_PKEY *key)
{
    BIO *bio = BIO_new_fd(fd, BIO_NOCLOSE);
    int ok = bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 && BIO_flush(bio) == 1;

    BIO_free(bio);
    if (!ok || fsync(fd) != 0)
        return keygen_fail("cannot write the key to %s", path);
    return 0;
}

/* Creates both key files, or neither. */
static int keygen_generate(const char *ecdsa_path, const char *ed25519_path)
{
    EVP_PKEY *ec = NULL, *ed = NULL;
    int ec_fd = -1, ed_fd = -1, rc = -1;

    if ((ec_fd = keygen_create(ecdsa_path)) < 0 || (ed_fd = keygen_create(ed25519_path)) < 0)
        goto fail;
    if ((ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL || (ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
        keygen_fail("OpenSSL cannot generate the keys");
        goto fail;
    }
    if (keygen_write(ec_fd, ecdsa_path, ec) != 0 || keygen_write(ed_fd, ed25519_path, ed) != 0)
        goto fail;
    rc = 0;

fail:
    if (ec_fd >= 0)
        close(ec_fd);
    if (ed_fd >= 0)
        close(ed_fd);
    if (rc != 0 && ec_fd >= 0)
        unlink(ecdsa_path);
    if (rc != 0 && ed_fd >= 0)
        unlink(ed25519_path);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
    return rc;
}

static char *keygen_base64(const uint8_t *data, size_t len)
{
    char *out = malloc(TLOG_BASE64_LEN(len) + 1);
    if (out != NULL)
        tlog_base64_encode(data, len, out);
    return out;
}

static int keygen_print_entry(const char *origin, const char *log_id, const char *spki, const char *submission_url,
                              const char *monitoring_url)
{
    json_t *entry = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "description", origin, "log_id", log_id, "key", spki,
                              "submission_url", submission_url, "monitoring_url", monitoring_url, "mmd", KEYGEN_MMD);
    char *text = entry != NULL ? json_dumps(entry, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

    json_decref(entry);
    if (text == NULL)
        return keygen_fail("cannot build the log-list entry (out of memory)");
    printf("log list v3 entry (tiled_logs):\n%s\n", text);
    free(text);
    return 0;
}

static int keygen_print(const char *origin, EVP_PKEY *ec, EVP_PKEY *ed, const char *submission_url, const char *monitoring_url)
{
    char err[TLOG_ERR_MAX], vkey[512], *log_id_b64 = NULL, *spki_b64 = NULL;
    uint8_t *spki = NULL, public_key[32];
    size_t spki_len;
    tlog_hash_t log_id;
    tlog_verifier_t *verifier = NULL;
    int rc = -1;

    if (tlog_key_spki(ec, &spki, &spki_len, err) != 0 || tlog_key_ed25519_public(ed, public_key, err) != 0 ||
        tlog_verifier_ed25519(origin, public_key, TLOG_SIG_ED25519, &verifier, err) != 0 ||
        tlog_verifier_vkey(verifier, vkey, sizeof(vkey)) != 0) {
        keygen_fail("%s", err);
        goto fail;
    }
    tlog_sha256(spki, spki_len, &log_id);
    if ((log_id_b64 = keygen_base64(log_id.bytes, TLOG_HASH_SIZE)) == NULL || (spki_b64 = keygen_base64(spki, spki_len)) == NULL) {
        keygen_fail("out of memory");
        goto fail;
    }
    printf("origin: %s\nlog ID: %s\nEd25519 verifier key: %s\nECDSA public key:\n", origin, log_id_b64, vkey);
    if (PEM_write_PUBKEY(stdout, ec) != 1) {
        keygen_fail("cannot write the ECDSA public key");
        goto fail;
    }
    rc = keygen_print_entry(origin, log_id_b64, spki_b64, submission_url, monitoring_url);

fail:
    tlog_verifier_free(verifier);
    free(spki);
    free(log_id_b64);
    free(spki_b64);
    return rc;
}

static int keygen_run(const keygen_options_t *opts)
{
    char origin[TLOG_ORIGIN_MAX], submission_url[KEYGEN_URL_MAX], monitoring_url[KEYGEN_URL_MAX], err[TLOG_ERR_MAX];
    EVP_PKEY *ec = NULL, *ed = NULL;
    int rc = -1;

    if (keygen_origin(opts, origin) != 0 ||
        keygen_url(opts->submission_prefix, origin, "--submission-prefix", submission_url) != 0 ||
        keygen_url(opts->monitoring_prefix != NULL ? opts->monitoring_prefix : submission_url, origin, "--monitoring-prefix",
                   monitoring_url) != 0)
        return -1;
    if (!opts->print_only && keygen_generate(opts->ecdsa_path, opts->ed25519_path) != 0)
        return -1;
    if (tlog_key_load_private(opts->ecdsa_path, EVP_PKEY_EC, &ec, err) != 0) {
        keygen_fail("--ecdsa: %s", err);
        goto fail;
    }
    if (tlog_key_load_private(opts->ed25519_path, EVP_PKEY_ED25519, &ed, err) != 0) {
        keygen_fail("--ed25519: %s", err);
        goto fail;
    }
    rc = keygen_print(origin, ec, ed, submission_url, monitoring_url);

fail:
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
    return rc;
}

int main(int argc, char **argv)
{
    keygen_options_t opts = {0};

    if (keygen_parse_options(argc, argv, &opts) != 0 || keygen_run(&opts) != 0)
        return 1;
    return fflush(stdout) == 0 ? 0 : 1;
}

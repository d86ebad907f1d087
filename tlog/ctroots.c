/*
 * A log's set of roots (see ctroots.h): an array of {X509, DER} in the order
 * added, grown by doubling.
 *
 * Costs: adding a root parses it and compares it with each root already
 * present (a few hundred at most), so a duplicate is skipped; a PEM bundle is
 * parsed whole before any of it is added, so a bad bundle adds nothing.
 * Loading reads the roots file and every backup once. The get-roots body is
 * built on each call (one pass, base64 of every DER).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "tlog/buf.h"
#include "tlog/ctentry.h"
#include "tlog/ctroots.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/hash.h"

#define CTROOTS_BACKUP_MAX (1 << 20) /* bytes of one backup file */

typedef struct ctroot {
    X509 *x509;
    uint8_t *der;
    size_t len;
} ctroot_t;

struct tlog_ctroots {
    ctroot_t *roots;
    size_t count, cap;
};

int tlog_ctroots_new(tlog_ctroots_t **out, char *err)
{
    if ((*out = calloc(1, sizeof(**out))) == NULL)
        return tlog_errorf(err, "roots: out of memory");
    return 0;
}

void tlog_ctroots_free(tlog_ctroots_t *roots)
{
    if (roots == NULL)
        return;
    for (size_t i = 0; i < roots->count; i++) {
        X509_free(roots->roots[i].x509);
        free(roots->roots[i].der);
    }
    free(roots->roots);
    free(roots);
}

int tlog_ctroots_find(const tlog_ctroots_t *roots, const X509 *x, size_t *i)
{
    for (*i = 0; *i < roots->count; (*i)++)
        if (X509_cmp(roots->roots[*i].x509, x) == 0)
            return 1;
    return 0;
}

int tlog_ctroots_add_der(tlog_ctroots_t *roots, const uint8_t *der, size_t len, char *err)
{
    X509 *x = tlog_ct_certificate_parse(der, len);
    uint8_t *copy = NULL;
    size_t at;

    if (x == NULL)
        return tlog_errorf(err, "roots: not a DER certificate");
    if (tlog_ctroots_find(roots, x, &at)) {
        X509_free(x);
        return 0;
    }
    if (roots->count == roots->cap) {
        size_t cap = roots->cap ? roots->cap * 2 : 16;
        ctroot_t *grown = realloc(roots->roots, cap * sizeof(*grown));
        if (grown == NULL)
            goto fail;
        roots->roots = grown;
        roots->cap = cap;
    }
    if ((copy = malloc(len)) == NULL)
        goto fail;
    memcpy(copy, der, len);
    roots->roots[roots->count++] = (ctroot_t){x, copy, len};
    return 0;

fail:
    X509_free(x);
    return tlog_errorf(err, "roots: cannot add a root: out of memory");
}

int tlog_ctroots_add_pem(tlog_ctroots_t *roots, const char *pem, size_t len, char *err)
{
    BIO *bio = len <= INT32_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
    tlog_buf_t ders = TLOG_BUF_INIT; /* u32 length || DER, for each certificate */
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long data_len;
    size_t n = 0;
    int ret = -1;

    if (bio == NULL) {
        tlog_errorf(err, "roots: cannot read a PEM bundle of %zu bytes", len);
        goto done;
    }
    /* Parse everything first, so a bad bundle adds nothing. */
    while (PEM_read_bio(bio, &name, &header, &data, &data_len) == 1) {
        X509 *x = NULL;
        n++;
        if (strcmp(name, "CERTIFICATE") != 0 || (x = tlog_ct_certificate_parse(data, (size_t)data_len)) == NULL) {
            tlog_errorf(err, "roots: PEM block %zu (%s) is not a DER certificate", n, name);
            goto done;
        }
        X509_free(x);
        tlog_buf_append_uint(&ders, (uint64_t)data_len, 4);
        tlog_buf_append(&ders, data, (size_t)data_len);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        name = header = NULL;
        data = NULL;
    }
    if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
        tlog_errorf(err, "roots: PEM block %zu is malformed", n + 1);
        goto done;
    }
    if (n == 0) {
        tlog_errorf(err, "roots: no certificates in the PEM bundle");
        goto done;
    }
    for (size_t off = 0; off < ders.len;) {
        const uint8_t *p = ders.data + off;
        size_t der_len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if (tlog_ctroots_add_der(roots, p + 4, der_len, err) != 0)
            goto done;
        off += 4 + der_len;
    }
    ret = 0;

done:
    ERR_clear_error();
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    tlog_buf_free(&ders);
    BIO_free(bio);
    return ret;
}

/* Adds the PEM bundle of pem_path (at least one certificate). */
static int add_file(tlog_ctroots_t *roots, const char *pem_path, char *err)
{
    FILE *f = fopen(pem_path, "rb");
    tlog_buf_t pem = TLOG_BUF_INIT;
    char sub[TLOG_ERR_MAX];
    size_t got;
    int ret = -1;

    if (f == NULL)
        return tlog_errorf(err, "%s: cannot open: %m", pem_path);
    do {
        tlog_buf_reserve(&pem, 1 << 16);
        got = fread(pem.data + pem.len, 1, pem.cap - pem.len, f);
        pem.len += got;
    } while (got > 0);
    if (ferror(f))
        tlog_errorf(err, "%s: cannot read", pem_path);
    else if (tlog_ctroots_add_pem(roots, (const char *)pem.data, pem.len, sub) != 0)
        tlog_errorf(err, "%s: %s", pem_path, sub);
    else
        ret = 0;
    fclose(f);
    tlog_buf_free(&pem);
    return ret;
}

/* <64 lowercase hex digits>.pem: a backup's name. */
static int is_backup_name(const char *name)
{
    if (strlen(name) != 2 * TLOG_HASH_SIZE + 4 || strcmp(name + 2 * TLOG_HASH_SIZE, ".pem") != 0)
        return 0;
    for (size_t i = 0; i < 2 * TLOG_HASH_SIZE; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return 0;
    return 1;
}

/* Adds every backup under <storage>/roots. */
static int add_backups(tlog_ctroots_t *roots, const char *storage, char *err)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/%s", storage, TLOG_CTROOTS_DIR);
    DIR *d = opendir(dir);
    struct dirent *e;
    int ret = 0;

    if (d == NULL)
        return errno == ENOENT ? 0 : tlog_errorf(err, "open %s: %s", dir, strerror(errno));
    while (ret == 0 && (e = readdir(d)) != NULL) {
        char path[4096 + 2 * TLOG_HASH_SIZE + 8], why[TLOG_ERR_MAX], *pem = NULL;
        size_t len;
        if (!is_backup_name(e->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (tlog_read_file(path, CTROOTS_BACKUP_MAX, &pem, &len, why) != 0 || tlog_ctroots_add_pem(roots, pem, len, why) != 0)
            ret = tlog_errorf(err, "backed-up root %s: %s (remove it to stop trusting it)", path, why);
        free(pem);
    }
    closedir(d);
    return ret;
}

int tlog_ctroots_load(const char *roots_file, const char *storage, tlog_ctroots_t **out, char *err)
{
    tlog_ctroots_t *roots;
    if (tlog_ctroots_new(&roots, err) != 0)
        return -1;
    if (add_file(roots, roots_file, err) != 0 || add_backups(roots, storage, err) != 0) {
        tlog_ctroots_free(roots);
        return -1;
    }
    *out = roots;
    return 0;
}

size_t tlog_ctroots_count(const tlog_ctroots_t *roots)
{
    return roots->count;
}

const uint8_t *tlog_ctroots_der(const tlog_ctroots_t *roots, size_t i, size_t *len)
{
    if (i >= roots->count)
        return NULL;
    *len = roots->roots[i].len;
    return roots->roots[i].der;
}

X509 *tlog_ctroots_x509(const tlog_ctroots_t *roots, size_t i)
{
    return i < roots->count ? roots->roots[i].x509 : NULL;
}

char *tlog_ctroots_json(const tlog_ctroots_t *roots, size_t *len)
{
    tlog_buf_t json = TLOG_BUF_INIT;
    tlog_buf_append(&json, "{\"certificates\":[", 17);
    for (size_t i = 0; i < roots->count; i++) {
        tlog_buf_append(&json, i > 0 ? ",\"" : "\"", i > 0 ? 2 : 1);
        tlog_buf_reserve(&json, TLOG_BASE64_LEN(roots->roots[i].len) + 1);
        json.len += tlog_base64_encode(roots->roots[i].der, roots->roots[i].len, (char *)json.data + json.len);
        tlog_buf_append(&json, "\"", 1);
    }
    tlog_buf_append(&json, "]}", 3); /* with the NUL */
    *len = json.len - 1;
    return (char *)json.data;
}

/*
 * A log's trusted roots (see roots.h): the roots file, plus the backups of
 * fetched roots in <storage>/roots, read as faro-gateway reads them
 * (tlog_ctroots_load) and made trust anchors (chain_roots_open).
 *
 * Costs: a merge compares each fetched root with every trusted one (a few
 * hundred at most) and writes one small file per new root; open and reload
 * read every backup. The set is only ever replaced (reload) or grown (merge),
 * both under `update`; readers see it whole under `lock`.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/hash.h"
#include "writer/roots.h"

struct roots {
    char *file;       /* the roots file */
    char *storage;    /* the log's storage directory */
    char *backup_dir; /* <storage>/roots */
    pthread_rwlock_t lock;
    pthread_mutex_t update; /* one merge or reload at a time */
    chain_roots_t *set;
};

int roots_open(const char *roots_file, const char *storage, roots_t **out, char *err)
{
    roots_t *roots = calloc(1, sizeof(*roots));
    if (roots == NULL || (roots->file = strdup(roots_file)) == NULL || (roots->storage = strdup(storage)) == NULL ||
        asprintf(&roots->backup_dir, "%s/%s", storage, TLOG_CTROOTS_DIR) < 0)
        abort();
    pthread_rwlock_init(&roots->lock, NULL);
    pthread_mutex_init(&roots->update, NULL);
    if (chain_roots_open(roots->file, roots->storage, &roots->set, err) != 0) {
        roots_free(roots);
        return -1;
    }
    *out = roots;
    return 0;
}

void roots_free(roots_t *roots)
{
    if (roots == NULL)
        return;
    chain_roots_free(roots->set);
    pthread_mutex_destroy(&roots->update);
    pthread_rwlock_destroy(&roots->lock);
    free(roots->backup_dir);
    free(roots->storage);
    free(roots->file);
    free(roots);
}

int roots_reload(roots_t *roots, char *err)
{
    chain_roots_t *fresh;
    pthread_mutex_lock(&roots->update);
    int ret = chain_roots_open(roots->file, roots->storage, &fresh, err);
    if (ret == 0) {
        pthread_rwlock_wrlock(&roots->lock);
        chain_roots_t *old = roots->set;
        roots->set = fresh;
        pthread_rwlock_unlock(&roots->lock);
        chain_roots_free(old);
    }
    pthread_mutex_unlock(&roots->update);
    return ret;
}

/* Every certificate of a fetched bundle must be a CA (a leaf is no root, whatever the bundle says). */
static int check_all_ca(const tlog_ctroots_t *fetched, char *err)
{
    for (size_t i = 0; i < tlog_ctroots_count(fetched); i++) {
        X509 *x = tlog_ctroots_x509(fetched, i);
        int ca = X509_check_ca(x) != 0;
        char subject[200] = "?";
        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
        ERR_clear_error();
        if (!ca)
            return tlog_errorf(err, "certificate %zu of the bundle (%s) is not a CA certificate", i + 1, subject);
    }
    return 0;
}

/* Writes <backup_dir>/<hex SHA-256>.pem durably (write-once); -1 or TLOG_DURABLE_FATAL. */
static int back_up(const roots_t *roots, const uint8_t *der, size_t len, char *err)
{
    tlog_hash_t hash;
    char hex[2 * TLOG_HASH_SIZE + 1], path[4096];
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem;
    int ret = tlog_durable_mkdirs(roots->backup_dir, err);

    tlog_sha256(der, len, &hash);
    tlog_hex_encode(hash.bytes, TLOG_HASH_SIZE, hex);
    snprintf(path, sizeof(path), "%s/%s.pem", roots->backup_dir, hex);
    if (ret == 0 && (bio == NULL || PEM_write_bio(bio, PEM_STRING_X509, "", der, (long)len) <= 0))
        ret = tlog_errorf(err, "cannot encode a root as PEM");
    if (ret == 0) {
        long pem_len = BIO_get_mem_data(bio, &pem);
        ret = tlog_durable_write(path, pem, (size_t)pem_len, TLOG_DURABLE_IMMUTABLE, err);
    }
    BIO_free(bio);
    ERR_clear_error();
    return ret;
}

int roots_merge_pem(roots_t *roots, const char *pem, size_t len, size_t *added, char *err)
{
    tlog_ctroots_t *fetched = NULL;
    int ret = 0;

    *added = 0;
    pthread_mutex_lock(&roots->update);
    if (tlog_ctroots_new(&fetched, err) != 0 || tlog_ctroots_add_pem(fetched, pem, len, err) != 0 ||
        check_all_ca(fetched, err) != 0) {
        ret = ROOTS_BUNDLE_INVALID;
        goto done;
    }
    /* Only holders of `update` change the set, so it can be read here without the lock. */
    for (size_t i = 0; i < tlog_ctroots_count(fetched); i++) {
        size_t der_len, at;
        const uint8_t *der = tlog_ctroots_der(fetched, i, &der_len);
        if (tlog_ctroots_find(chain_roots_certs(roots->set), tlog_ctroots_x509(fetched, i), &at))
            continue;
        int backed_up = back_up(roots, der, der_len, err);
        if (backed_up != 0) {
            ret = backed_up == TLOG_DURABLE_FATAL ? TLOG_DURABLE_FATAL : ROOTS_BACKUP_FAILED;
            goto done;
        }
        pthread_rwlock_wrlock(&roots->lock);
        int trusted = chain_roots_add_der(roots->set, der, der_len, err);
        pthread_rwlock_unlock(&roots->lock);
        if (trusted != 0) {
            ret = ROOTS_BUNDLE_INVALID;
            goto done;
        }
        (*added)++;
    }
done:
    pthread_mutex_unlock(&roots->update);
    tlog_ctroots_free(fetched);
    return ret;
}

size_t roots_count(roots_t *roots)
{
    pthread_rwlock_rdlock(&roots->lock);
    size_t count = tlog_ctroots_count(chain_roots_certs(roots->set));
    pthread_rwlock_unlock(&roots->lock);
    return count;
}

char *roots_json(roots_t *roots, size_t *len)
{
    pthread_rwlock_rdlock(&roots->lock);
    char *json = tlog_ctroots_json(chain_roots_certs(roots->set), len);
    pthread_rwlock_unlock(&roots->lock);
    return json;
}

int roots_validate(roots_t *roots, const chain_policy_t *policy, int precert, const chain_request_t *request, time_t now,
                   chain_result_t *out, char *err)
{
    pthread_rwlock_rdlock(&roots->lock);
    int ret = chain_validate(roots->set, policy, precert, request->ders, request->lens, request->count, now, out, err);
    pthread_rwlock_unlock(&roots->lock);
    return ret;
}

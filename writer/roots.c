/*
 * A log's trusted roots (see roots.h): the roots file, plus the backups of
 * fetched roots in <storage>/roots.
 *
 * Costs: a merge compares each fetched root with every trusted one (a few
 * hundred at most) and writes one small file per new root; open and reload
 * read every backup. The set is only ever replaced (reload) or grown (merge),
 * both under `update`; readers see it whole under `lock`.
 */
#include <dirent.h>
#include <errno.h>
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
#include "writer/storage.h"

#define ROOTS_BACKUP_MAX (1 << 20) /* bytes of one backup file */

struct roots {
    char *file;       /* the roots file */
    char *backup_dir; /* <storage>/roots */
    pthread_rwlock_t lock;
    pthread_mutex_t update; /* one merge or reload at a time */
    chain_roots_t *set;
};

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

static int load_backups(const char *dir, chain_roots_t *set, char *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int ret = 0;

    if (d == NULL)
        return errno == ENOENT ? 0 : tlog_errorf(err, "open %s: %s", dir, strerror(errno));
    while (ret == 0 && (e = readdir(d)) != NULL) {
        char path[4096], why[TLOG_ERR_MAX], *pem = NULL;
        size_t len;
        if (!is_backup_name(e->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (tlog_read_file(path, ROOTS_BACKUP_MAX, &pem, &len, why) != 0 || chain_roots_add_pem(set, pem, len, why) != 0)
            ret = tlog_errorf(err, "backed-up root %s: %s (remove it to stop trusting it)", path, why);
        free(pem);
    }
    closedir(d);
    return ret;
}

static int load(const roots_t *roots, chain_roots_t **out, char *err)
{
    if (chain_roots_load(roots->file, out, err) != 0)
        return -1;
    if (load_backups(roots->backup_dir, *out, err) != 0) {
        chain_roots_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int roots_open(const char *roots_file, const char *storage, roots_t **out, char *err)
{
    roots_t *roots = calloc(1, sizeof(*roots));
    if (roots == NULL || (roots->file = strdup(roots_file)) == NULL ||
        asprintf(&roots->backup_dir, "%s/%s", storage, STORAGE_ROOTS_DIR) < 0)
        abort();
    pthread_rwlock_init(&roots->lock, NULL);
    pthread_mutex_init(&roots->update, NULL);
    if (load(roots, &roots->set, err) != 0) {
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
    free(roots->file);
    free(roots);
}

int roots_reload(roots_t *roots, char *err)
{
    chain_roots_t *fresh;
    pthread_mutex_lock(&roots->update);
    int ret = load(roots, &fresh, err);
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
static int check_all_ca(const chain_roots_t *fetched, char *err)
{
    for (size_t i = 0; i < chain_roots_count(fetched); i++) {
        size_t len;
        const uint8_t *der = chain_roots_der(fetched, i, &len);
        X509 *x = d2i_X509(NULL, &der, (long)len);
        int ca = x != NULL && X509_check_ca(x) != 0;
        char subject[200] = "?";
        if (x != NULL)
            X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
        X509_free(x);
        ERR_clear_error();
        if (!ca)
            return tlog_errorf(err, "certificate %zu of the bundle (%s) is not a CA certificate", i + 1, subject);
    }
    return 0;
}

static int is_trusted(const chain_roots_t *set, const uint8_t *der, size_t len)
{
    for (size_t i = 0; i < chain_roots_count(set); i++) {
        size_t have_len;
        const uint8_t *have = chain_roots_der(set, i, &have_len);
        if (have_len == len && memcmp(have, der, len) == 0)
            return 1;
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
    chain_roots_t *fetched = NULL;
    int ret = 0;

    *added = 0;
    pthread_mutex_lock(&roots->update);
    if (chain_roots_new(&fetched, err) != 0 || chain_roots_add_pem(fetched, pem, len, err) != 0 ||
        check_all_ca(fetched, err) != 0) {
        ret = ROOTS_BUNDLE_INVALID;
        goto done;
    }
    /* Only holders of `update` change the set, so it can be read here without the lock. */
    for (size_t i = 0; i < chain_roots_count(fetched); i++) {
        size_t der_len;
        const uint8_t *der = chain_roots_der(fetched, i, &der_len);
        if (is_trusted(roots->set, der, der_len))
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
    chain_roots_free(fetched);
    return ret;
}

size_t roots_count(roots_t *roots)
{
    pthread_rwlock_rdlock(&roots->lock);
    size_t count = chain_roots_count(roots->set);
    pthread_rwlock_unlock(&roots->lock);
    return count;
}

char *roots_json(roots_t *roots, size_t *len)
{
    pthread_rwlock_rdlock(&roots->lock);
    char *json = chain_roots_json(roots->set, len);
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

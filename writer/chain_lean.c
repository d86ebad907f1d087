/*
 * The lean library context (chain_lean.h).
 *
 * OpenSSL 3.0 decodes a certificate's public key while parsing it, through
 * its provider decoder framework, which builds a decoder context for each
 * key out of every key manager and decoder loaded: about 150 µs of CPU per
 * certificate on the benchmark machine, more than checking a P-256
 * signature and, with chain[1..] cached (chain_paths.c), most of what a
 * submission costs. The lean context serves the same implementations, the
 * default provider's, but offers only its EC and RSA key managers and their
 * SubjectPublicKeyInfo decoders: a built-in provider ("faro-lean") whose
 * algorithm tables are that subset of the default provider's, loaded in a
 * private context. That cuts the framework's work to a few candidates and
 * the parse to under half. A key of another type does not decode there, and
 * callers then parse again in the normal context.
 *
 * A certificate parsed while the lean context is the thread's default keeps
 * no reference to it (its library context is "the default"), so everything
 * done with it afterwards, signature checks included, runs in the normal
 * context. Both contexts are made once, on first use, and kept for the life
 * of the process.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/err.h>
#include <openssl/provider.h>

#include "writer/chain_lean.h"

#define LEAN_MAX 16 /* algorithms kept per operation, a terminator included */

static OSSL_LIB_CTX *lean, *own; /* the lean context; the one inner lives in */
static OSSL_PROVIDER *inner;     /* the default provider */
static OSSL_ALGORITHM keymgmts[LEAN_MAX], decoders[LEAN_MAX];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int is_key_type(const char *names)
{
    /* Names lists start with the primary name: "EC:id-ecPublicKey:...", "RSA:rsaEncryption:...". */
    return strncmp(names, "EC:", 3) == 0 || strncmp(names, "RSA:", 4) == 0 || strcmp(names, "EC") == 0 || strcmp(names, "RSA") == 0;
}

/* Copies the entries of all that keep() accepts into out (terminated); the count kept. */
static size_t subset(const OSSL_ALGORITHM *all, OSSL_ALGORITHM out[LEAN_MAX], int decoder)
{
    size_t n = 0;
    for (; all != NULL && all->algorithm_names != NULL && n + 1 < LEAN_MAX; all++) {
        const char *props = all->property_definition != NULL ? all->property_definition : "";
        int spki = strstr(props, "input=der") != NULL && strstr(props, "structure=SubjectPublicKeyInfo") != NULL;
        if (decoder ? spki && (is_key_type(all->algorithm_names) || strcmp(all->algorithm_names, "DER") == 0)
                    : is_key_type(all->algorithm_names))
            out[n++] = *all;
    }
    memset(&out[n], 0, sizeof(out[n]));
    return n;
}

static const OSSL_ALGORITHM *lean_query(void *provctx, int operation, int *no_cache)
{
    (void)provctx;
    *no_cache = 0;
    if (operation == OSSL_OP_KEYMGMT)
        return keymgmts;
    if (operation == OSSL_OP_DECODER)
        return decoders;
    return NULL;
}

static int lean_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in, const OSSL_DISPATCH **out, void **provctx)
{
    static const OSSL_DISPATCH dispatch[] = {
        {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))lean_query},
        {0, NULL},
    };
    (void)handle;
    (void)in;
    *out = dispatch;
    *provctx = OSSL_PROVIDER_get0_provider_ctx(inner); /* the algorithms are inner's and expect its context */
    return 1;
}

static void make_lean(void)
{
    OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
    int no_cache;
    own = OSSL_LIB_CTX_new();
    if (own == NULL || ctx == NULL || (inner = OSSL_PROVIDER_load(own, "default")) == NULL)
        goto fail;
    if (subset(OSSL_PROVIDER_query_operation(inner, OSSL_OP_KEYMGMT, &no_cache), keymgmts, 0) == 0 ||
        subset(OSSL_PROVIDER_query_operation(inner, OSSL_OP_DECODER, &no_cache), decoders, 1) == 0)
        goto fail;
    if (OSSL_PROVIDER_add_builtin(ctx, "faro-lean", lean_init) != 1 || OSSL_PROVIDER_load(ctx, "faro-lean") == NULL)
        goto fail;
    lean = ctx;
    ERR_clear_error();
    return;
fail:
    /* Without it every certificate is parsed the normal way: slower, the same result. */
    ERR_clear_error();
    OSSL_LIB_CTX_free(ctx);
    inner = NULL;
    OSSL_LIB_CTX_free(own);
    own = NULL;
}

OSSL_LIB_CTX *chain_lean_enter(void)
{
    pthread_once(&once, make_lean);
    return lean != NULL ? OSSL_LIB_CTX_set0_default(lean) : NULL;
}

/*
 * The lean library context (chain_lean.h).
 *
 * OpenSSL 3.0 decodes a certificate's public key while parsing it, through
 * its provider decoder framework: it builds a decoder context out of every
 * key manager and decoder loaded, and the EC decoder builds the curve's
 * group from scratch for every key. That costs about 150 µs of CPU per
 * certificate on the benchmark machine, more than checking a P-256
 * signature, and, with chain[1..] cached (chain_paths.c), most of what a
 * submission costs.
 *
 * A log never uses chain[0]'s key: it checks chain[0]'s signature with its
 * issuer's key. So chain[0] is parsed in a private library context whose
 * only provider ("faro-lean", built in) has one SubjectPublicKeyInfo
 * decoder and one key manager for EC and for RSA. The decoder checks the
 * key as OpenSSL's would (an EC point on its named curve, P-256, P-384 or
 * P-521, through groups made once; an RSA key's two integers) and keeps
 * nothing of it: the key it yields only says that it exists and, for EC,
 * that its curve is named, which is all certificate verification asks of
 * chain[0]'s key. Parsing a certificate with a P-256 key then costs about
 * 21 µs, against 150 µs normally and 51 µs with OpenSSL's own EC and RSA
 * decoders alone. Any other key (another type, explicit curve parameters)
 * does not decode there, and callers then parse the certificate again in
 * the normal context, so the X509 they get is the same either way and a key
 * OpenSSL refuses is refused.
 *
 * A certificate parsed while the lean context is the thread's default keeps
 * no reference to it (its library context is "the default"), so everything
 * done with it afterwards, signature checks included, runs in the normal
 * context. The context is made once, on first use, and kept for the life of
 * the process.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/err.h>
#include <openssl/provider.h>

#include "writer/chain_der.h"
#include "writer/chain_lean.h"

#define EC_NAMES "EC:id-ecPublicKey:1.2.840.10045.2.1"
#define RSA_NAMES "RSA:rsaEncryption:1.2.840.113549.1.1.1"
#define SPKI_DECODER "provider=faro-lean,input=der,structure=SubjectPublicKeyInfo"
#define SPKI_MAX 4096 /* bytes: an RSA key of 16,384 bits fits */

/* The DER of the algorithm and curve identifiers the decoder knows. */
static const uint8_t ec_oid[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t rsa_oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const struct {
    uint8_t der[10];
    size_t len;
    int nid;
} curves[] = {
    {{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, 10, NID_X9_62_prime256v1},
    {{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}, 7, NID_secp384r1},
    {{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}, 7, NID_secp521r1},
};

static OSSL_LIB_CTX *lean;
static EC_GROUP *groups[sizeof(curves) / sizeof(curves[0])];
static OSSL_FUNC_BIO_read_ex_fn *core_read;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* What a decoded key is: nothing but its type, so keys are these two constants. */
static const char ec_key[] = "EC", rsa_key[] = "RSA";

static int der_is(const uint8_t *p, const uint8_t *end, const uint8_t *der, size_t len)
{
    return (size_t)(end - p) >= len && memcmp(p, der, len) == 0;
}

/* The key a SubjectPublicKeyInfo holds, checked; NULL if this decoder does not take it. */
static const char *spki_check(const uint8_t *der, size_t len)
{
    const uint8_t *p = der, *end = der + len, *spki, *alg, *bits;
    long spki_len, alg_len, bits_len;
    if (chain_der_take(&p, end, V_ASN1_SEQUENCE, &spki, &spki_len) != 0 || p != end)
        return NULL;
    p = spki;
    end = spki + spki_len;
    if (chain_der_take(&p, end, V_ASN1_SEQUENCE, &alg, &alg_len) != 0 ||
        chain_der_take(&p, end, V_ASN1_BIT_STRING, &bits, &bits_len) != 0 || p != end || bits_len < 2 || bits[0] != 0)
        return NULL;
    const uint8_t *alg_end = alg + alg_len, *key = bits + 1;
    size_t key_len = (size_t)bits_len - 1;

    if (der_is(alg, alg_end, rsa_oid, sizeof(rsa_oid))) {
        /* RSAPublicKey: SEQUENCE { modulus INTEGER, publicExponent INTEGER }, all OpenSSL 3.0 asks of it. */
        const uint8_t *q = key, *key_end = key + key_len, *fields, *value;
        long fields_len, value_len;
        if (chain_der_take(&q, key_end, V_ASN1_SEQUENCE, &fields, &fields_len) != 0 || q != key_end)
            return NULL;
        const uint8_t *fields_end = fields + fields_len;
        q = fields;
        if (chain_der_take(&q, fields_end, V_ASN1_INTEGER, &value, &value_len) != 0 ||
            chain_der_take(&q, fields_end, V_ASN1_INTEGER, &value, &value_len) != 0 || q != fields_end)
            return NULL;
        return rsa_key;
    }
    if (!der_is(alg, alg_end, ec_oid, sizeof(ec_oid)))
        return NULL;
    alg += sizeof(ec_oid);
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (alg_end - alg != (long)curves[i].len || !der_is(alg, alg_end, curves[i].der, curves[i].len))
            continue;
        EC_POINT *point = EC_POINT_new(groups[i]);
        int ok = point != NULL && EC_POINT_oct2point(groups[i], point, key, key_len, NULL) == 1;
        EC_POINT_free(point);
        return ok ? ec_key : NULL;
    }
    return NULL;
}

static void *decoder_newctx(void *provctx)
{
    return provctx != NULL ? provctx : (void *)&once; /* stateless: any non-NULL context */
}

static void decoder_freectx(void *ctx)
{
    (void)ctx;
}

static int decoder_decode(void *ctx, OSSL_CORE_BIO *in, int selection, OSSL_CALLBACK *data_cb, void *data_cbarg,
                          OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    uint8_t der[SPKI_MAX + 1];
    size_t len = 0, got;
    (void)ctx;
    (void)pw_cb;
    (void)pw_cbarg;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0)
        return 1; /* nothing for us: let the framework try on */
    while (len < sizeof(der) && core_read(in, der + len, sizeof(der) - len, &got) == 1 && got > 0)
        len += got;
    const char *key = len <= SPKI_MAX ? spki_check(der, len) : NULL; /* errors it queued: the parse's mark drops them */
    if (key == NULL)
        return 1; /* not decoded, not an error: the caller tries the normal context */
    int object_type = OSSL_OBJECT_PKEY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &object_type),
        OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE, (char *)key, 0),
        OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &key, sizeof(key)),
        OSSL_PARAM_construct_end(),
    };
    return data_cb(params, data_cbarg);
}

static void *keymgmt_load(const void *reference, size_t reference_size)
{
    return reference_size == sizeof(const char *) ? *(char *const *)reference : NULL;
}

static void keymgmt_free(void *key)
{
    (void)key; /* one of the two constants */
}

static int keymgmt_has(const void *key, int selection)
{
    return key != NULL && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) == 0;
}

/* Certificate verification asks an EC key whether it came with explicit curve parameters: never here. */
static int keymgmt_get_params(void *key, OSSL_PARAM params[])
{
    OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS);
    return p == NULL || key != ec_key || OSSL_PARAM_set_int(p, 0);
}

static const OSSL_PARAM *keymgmt_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS, NULL),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return gettable;
}

static const OSSL_DISPATCH decoder_functions[] = {
    {OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))decoder_newctx},
    {OSSL_FUNC_DECODER_FREECTX, (void (*)(void))decoder_freectx},
    {OSSL_FUNC_DECODER_DECODE, (void (*)(void))decoder_decode},
    {0, NULL},
};

static const OSSL_DISPATCH keymgmt_functions[] = {
    {OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))keymgmt_load},
    {OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))keymgmt_free},
    {OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))keymgmt_has},
    {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))keymgmt_get_params},
    {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))keymgmt_gettable_params},
    {0, NULL},
};

static const OSSL_ALGORITHM decoders[] = {
    {EC_NAMES, SPKI_DECODER, decoder_functions, NULL},
    {RSA_NAMES, SPKI_DECODER, decoder_functions, NULL},
    {NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM keymgmts[] = {
    {EC_NAMES, "provider=faro-lean", keymgmt_functions, NULL},
    {RSA_NAMES, "provider=faro-lean", keymgmt_functions, NULL},
    {NULL, NULL, NULL, NULL},
};

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
    for (; in->function_id != 0; in++)
        if (in->function_id == OSSL_FUNC_BIO_READ_EX)
            core_read = OSSL_FUNC_BIO_read_ex(in);
    *out = dispatch;
    *provctx = NULL;
    return core_read != NULL;
}

static void make_lean(void)
{
    OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
        if ((groups[i] = EC_GROUP_new_by_curve_name(curves[i].nid)) == NULL)
            goto fail;
    if (ctx == NULL || OSSL_PROVIDER_add_builtin(ctx, "faro-lean", lean_init) != 1 || OSSL_PROVIDER_load(ctx, "faro-lean") == NULL)
        goto fail;
    lean = ctx;
    ERR_clear_error();
    return;
fail:
    /* Without it every certificate is parsed the normal way: slower, the same result. */
    ERR_clear_error();
    OSSL_LIB_CTX_free(ctx);
}

OSSL_LIB_CTX *chain_lean_enter(void)
{
    pthread_once(&once, make_lean);
    return lean != NULL ? OSSL_LIB_CTX_set0_default(lean) : NULL;
}

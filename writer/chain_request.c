/*
 * The add-chain / add-pre-chain request body, {"chain":["<base64 DER>", ...]}.
 *
 * jansson parses the whole body (UTF-8, no trailing bytes, no duplicate
 * member names); the member is found the way Go's encoding/json finds a
 * struct field, ignoring case, and other members are ignored. A body in the
 * form clients send, that member alone with strings of base64 characters and
 * JSON whitespace between the tokens, is read directly instead: jansson
 * would read it to the same strings, and its parse takes 22-30 µs on a
 * 1.4 KiB body (a tenth of what a submission costs), where the direct
 * reading and the base64 decoding together take 3.5. Anything else goes to
 * jansson. All certificates are decoded into
 * one buffer sized from the base64 lengths. Each refusal is a one-line
 * message for the 400 body.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "tlog/error.h"
#include "tlog/hash.h"
#include "writer/chain.h"

/* The "chain" member, matched without regard to case; NULL and a message if there is not exactly one. */
static json_t *chain_member(json_t *root, char *err)
{
    const char *key;
    json_t *value, *found = NULL;

    json_object_foreach(root, key, value)
    {
        if (strcasecmp(key, "chain") != 0)
            continue;
        if (found != NULL) {
            tlog_errorf(err, "request: more than one \"chain\" member");
            return NULL;
        }
        found = value;
    }
    if (found == NULL)
        tlog_errorf(err, "request: no \"chain\" member");
    return found;
}

/* The chain's strings, still base64, in a body of either reading. */
typedef struct chain_strings {
    const char *text[CHAIN_MAX_CERTS];
    size_t len[CHAIN_MAX_CERTS];
    size_t count;
} chain_strings_t;

static const char *json_space_skip(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Moves *p past the token after any whitespace; 0, or -1 if it is not next. */
static int json_token_take(const char **p, const char *end, const char *token)
{
    size_t len = strlen(token);
    const char *q = json_space_skip(*p, end);
    if ((size_t)(end - q) < len || memcmp(q, token, len) != 0)
        return -1;
    *p = q + len;
    return 0;
}

/* A string of base64 characters at *p (after whitespace), which needs no unescaping. */
static int json_base64_string_take(const char **p, const char *end, const char **text, size_t *len)
{
    const char *q;
    if (json_token_take(p, end, "\"") != 0)
        return -1;
    for (q = *p; q < end && *q != '"'; q++)
        if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '+' || *q == '/' ||
              *q == '='))
            return -1;
    if (q == end)
        return -1;
    *text = *p;
    *len = (size_t)(q - *p);
    *p = q + 1;
    return 0;
}

/* The direct reading of {"chain":["...", ...]}; 0, or -1 when the body is not in that form and jansson must read it. */
static int chain_strings_scan(const char *body, size_t len, chain_strings_t *out)
{
    const char *p = body, *end = body + len;
    out->count = 0;
    if (json_token_take(&p, end, "{") != 0 || json_token_take(&p, end, "\"chain\"") != 0 || json_token_take(&p, end, ":") != 0 ||
        json_token_take(&p, end, "[") != 0)
        return -1;
    do {
        if (out->count == CHAIN_MAX_CERTS || json_base64_string_take(&p, end, &out->text[out->count], &out->len[out->count]) != 0)
            return -1;
        out->count++;
    } while (json_token_take(&p, end, ",") == 0);
    if (json_token_take(&p, end, "]") != 0 || json_token_take(&p, end, "}") != 0 || json_space_skip(p, end) != end)
        return -1;
    return 0;
}

/* Decodes the strings into out; CHAIN_OK, or CHAIN_REJECTED / CHAIN_INTERNAL with out freed. */
static int chain_strings_decode(const chain_strings_t *strings, chain_request_t *out, char *err)
{
    size_t cap = 0, used = 0;
    for (size_t i = 0; i < strings->count; i++)
        cap += strings->len[i] / 4 * 3;
    if ((out->blob = malloc(cap ? cap : 1)) == NULL) {
        tlog_errorf(err, "request: out of memory");
        return CHAIN_INTERNAL;
    }
    for (size_t i = 0; i < strings->count; i++) {
        size_t got;
        if (tlog_base64_decode(strings->text[i], strings->len[i], out->blob + used, cap - used, &got) != 0) {
            tlog_errorf(err, "request: chain[%zu] is not base64 (standard alphabet, padded, no line breaks)", i);
            chain_request_free(out);
            return CHAIN_REJECTED;
        }
        if (got == 0) {
            tlog_errorf(err, "request: chain[%zu] is empty", i);
            chain_request_free(out);
            return CHAIN_REJECTED;
        }
        out->ders[i] = out->blob + used;
        out->lens[i] = got;
        used += got;
    }
    out->count = strings->count;
    return CHAIN_OK;
}

int chain_request_parse(const char *body, size_t len, chain_request_t *out, char *err)
{
    json_error_t jerr;
    json_t *root, *chain, *item;
    chain_strings_t strings;
    size_t n, i;
    int ret;

    memset(out, 0, sizeof(*out));
    if (chain_strings_scan(body, len, &strings) == 0)
        return chain_strings_decode(&strings, out, err);
    if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr)) == NULL) {
        tlog_errorf(err, "request: not JSON: %s (at byte %d)", jerr.text, jerr.position);
        return CHAIN_REJECTED;
    }
    if (!json_is_object(root)) {
        tlog_errorf(err, "request: not a JSON object");
        goto reject;
    }
    if ((chain = chain_member(root, err)) == NULL)
        goto reject;
    if (!json_is_array(chain)) {
        tlog_errorf(err, "request: \"chain\" is not an array");
        goto reject;
    }
    if ((n = json_array_size(chain)) == 0) {
        tlog_errorf(err, "request: \"chain\" is empty");
        goto reject;
    }
    if (n > CHAIN_MAX_CERTS) {
        tlog_errorf(err, "request: \"chain\" has %zu certificates, at most %d are accepted", n, CHAIN_MAX_CERTS);
        goto reject;
    }
    json_array_foreach(chain, i, item)
    {
        if (!json_is_string(item)) {
            tlog_errorf(err, "request: chain[%zu] is not a string", i);
            goto reject;
        }
        strings.text[i] = json_string_value(item);
        strings.len[i] = json_string_length(item);
    }
    strings.count = n;
    ret = chain_strings_decode(&strings, out, err);
    json_decref(root);
    return ret;

reject:
    json_decref(root);
    return CHAIN_REJECTED;
}

void chain_request_free(chain_request_t *req)
{
    if (req == NULL)
        return;
    free(req->blob);
    memset(req, 0, sizeof(*req));
}

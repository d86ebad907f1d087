/*
 * The add-chain / add-pre-chain request body, {"chain":["<base64 DER>", ...]}.
 *
 * jansson parses the whole body (UTF-8, no trailing bytes, no duplicate
 * member names); the member is found the way Go's encoding/json finds a
 * struct field, ignoring case, and other members are ignored. All
 * certificates are decoded into one buffer sized from the base64 lengths, so
 * a request costs two allocations whatever its length. Each refusal is a
 * one-line message for the 400 body.
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

int chain_request_parse(const char *body, size_t len, chain_request_t *out, char *err)
{
    json_error_t jerr;
    json_t *root, *chain, *item;
    size_t n, i, cap = 0, used = 0;

    memset(out, 0, sizeof(*out));
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
        cap += json_string_length(item) / 4 * 3;
    }
    if ((out->blob = malloc(cap ? cap : 1)) == NULL) {
        tlog_errorf(err, "request: out of memory");
        json_decref(root);
        return CHAIN_INTERNAL;
    }
    json_array_foreach(chain, i, item)
    {
        size_t got;
        if (tlog_base64_decode(json_string_value(item), json_string_length(item), out->blob + used, cap - used, &got) != 0) {
            tlog_errorf(err, "request: chain[%zu] is not base64 (standard alphabet, padded, no line breaks)", i);
            goto reject;
        }
        if (got == 0) {
            tlog_errorf(err, "request: chain[%zu] is empty", i);
            goto reject;
        }
        out->ders[i] = out->blob + used;
        out->lens[i] = got;
        used += got;
    }
    out->count = n;
    json_decref(root);
    return CHAIN_OK;

reject:
    json_decref(root);
    chain_request_free(out);
    return CHAIN_REJECTED;
}

void chain_request_free(chain_request_t *req)
{
    if (req == NULL)
        return;
    free(req->blob);
    memset(req, 0, sizeof(*req));
}

/*
 * RFC 6962 read API handlers (see ct_api.h). Each request: parse and check
 * the query (gateway/ct_params.h) against the latest verified tree head,
 * take the rate limit of what it reads, read it (gateway/tree_read.h),
 * answer JSON (gateway/ct_json.h).
 *
 * Costs: a proof reads at most one hash tile per level (a tile reader over
 * storage, O(log n) node hashes); get-proof-by-hash adds one leaf-index
 * lookup and confirms the candidate against the level-0 tile the proof
 * reads anyway; get-entries reads one data tile and each distinct issuer
 * its entries name once. Answers to valid parameters never change (they
 * name entries and sizes inside the published tree), so they are
 * immutable; get-sth is not cacheable, get-roots briefly.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/log.h"
#include "gateway/ct_api.h"
#include "gateway/ct_json.h"
#include "gateway/ct_log.h"
#include "gateway/ct_params.h"
#include "gateway/tree_read.h"
#include "tlog/error.h"
#include "tlog/merkle.h"

/* Leaf indexes with the same 8-byte hash prefix looked at per get-proof-by-hash. */
#define CANDIDATES_MAX 8

typedef struct ct_request {
    gateway_t *gw;
    h2o_req_t *req;
    gateway_log_t *log;
    size_t log_number;
    unsigned thread;
    const char *endpoint;
    ct_params_t params;
    ct_sth_t sth;
} ct_request_t;

static void free_owned(void *owner)
{
    free(*(void **)owner);
}

/* Sends json, which the request's pool then owns and frees: a get-entries body (hundreds of KiB) is not copied. */
static void reply_json(ct_request_t *r, const char *cache_control, tlog_buf_t *json)
{
    void **owner = h2o_mem_alloc_shared(&r->req->pool, sizeof(*owner), free_owned);
    *owner = json->data;
    gateway_respond(r->req, 200, "OK", "application/json", cache_control, (const char *)json->data, json->len);
}

static void reply_internal_error(ct_request_t *r, const char *err)
{
    faro_log(FARO_LOG_ERROR, r->log->config->name, "%s: %s", r->endpoint, err);
    gateway_respond_text(r->req, 500, "Internal Server Error", "internal error");
}

/* A tile reader over storage for the latest tree head, in the request's pool. */
static tlog_node_reader_t node_reader(ct_request_t *r)
{
    tlog_tile_reader_t *reader = h2o_mem_alloc_pool(&r->req->pool, sizeof(*reader));
    tlog_tile_reader_init(reader, r->sth.size, tree_read_hash_tile, &r->log->storage_fd);
    return tlog_tile_reader_nodes(reader);
}

/*
 * Appends the entries [start, last] of the data tile holding them (bytes
 * [0, len), first leaf `first`) as get-entries objects, comma-separated;
 * with audit_path, the one entry as get-entry-and-proof. 0 or -1 with err.
 */
static int append_entries(ct_request_t *r, const uint8_t *tile, size_t len, uint64_t first, uint64_t start, uint64_t last,
                          const tlog_hash_t *audit_path, size_t audit_len, tlog_buf_t *out, char *err)
{
    tlog_buf_t leaf = TLOG_BUF_INIT, extra = TLOG_BUF_INIT;
    tree_issuers_t issuers = TREE_ISSUERS_INIT;
    ct_cert_t *chain = NULL;
    size_t offset = 0, chain_cap = 0;
    char why[TLOG_ERR_MAX];
    int ret = -1;

    for (uint64_t i = first; i <= last; i++) {
        tlog_ct_entry_t entry;
        size_t used;
        if (tlog_ct_tile_leaf_parse(tile + offset, len - offset, &entry, &used, why) != 0) {
            tlog_errorf(err, "data tile of leaf %llu: entry %llu: %s", (unsigned long long)start, (unsigned long long)i, why);
            goto done;
        }
        offset += used;
        if (entry.leaf_index != i) {
            tlog_errorf(err, "data tile of leaf %llu: entry %llu has leaf_index %llu", (unsigned long long)start,
                        (unsigned long long)i, (unsigned long long)entry.leaf_index);
            goto done;
        }
        if (i < start)
            continue;
        if (entry.chain_count > chain_cap) {
            chain_cap = entry.chain_count;
            if ((chain = realloc(chain, chain_cap * sizeof(*chain))) == NULL)
                abort();
        }
        for (size_t c = 0; c < entry.chain_count; c++)
            if (tree_issuer(r->log->storage_fd, &issuers, entry.chain_fingerprints + c * TLOG_HASH_SIZE, &chain[c], err) != 0)
                goto done;
        leaf.len = extra.len = 0;
        tlog_ct_merkle_tree_leaf(&entry, &leaf);
        if (ct_extra_data(&entry, chain, entry.chain_count, &extra, err) != 0)
            goto done;
        if (i > start)
            tlog_buf_append(out, ",", 1);
        ct_json_entry(&leaf, &extra, audit_path, audit_len, out);
    }
    ret = 0;
done:
    free(chain);
    tree_issuers_free(&issuers);
    tlog_buf_free(&leaf);
    tlog_buf_free(&extra);
    return ret;
}

/*
 * Reads the data tile holding leaf `index` of the latest tree, after its
 * rate limit: 1 with *data (malloc'd), 0 if it answered (429 or 500).
 */
static int read_data_tile_or_reply(ct_request_t *r, uint64_t index, uint8_t **data, size_t *len)
{
    char err[TLOG_ERR_MAX];
    struct stat st;
    tlog_tile_t tile = tlog_tile_for_entry(TLOG_TILE_DATA, index, r->sth.size);
    int fd = tree_open_data_tile(r->log->storage_fd, &tile, &st, err);
    if (fd < 0) {
        reply_internal_error(r, err);
        return 0;
    }
    gateway_kind_t as = tile.width < TLOG_TILE_WIDTH ? GATEWAY_KIND_PARTIAL_TILE : GATEWAY_KIND_DATA_TILE;
    int admitted = gateway_admit_or_reply(r->gw, r->req, as, &st.st_mtim, r->thread);
    int read = admitted && tree_read_data_tile(fd, &st, data, len, err) == 0;
    close(fd);
    if (admitted && !read)
        reply_internal_error(r, err);
    return read;
}

static void get_sth(ct_request_t *r)
{
    tlog_buf_t json = TLOG_BUF_INIT;
    ct_json_sth(r->sth.size, r->sth.timestamp_ms, &r->sth.root, r->sth.signature, r->sth.signature_len, &json);
    reply_json(r, "no-store", &json);
}

static void get_roots(ct_request_t *r)
{
    h2o_iovec_t body = ct_logs_roots(r->gw->ct, r->log_number, &r->req->pool);
    gateway_respond(r->req, 200, "OK", "application/json", GATEWAY_CACHE_SHORT, body.base, body.len);
}

static void get_sth_consistency(ct_request_t *r)
{
    tlog_hash_t proof[TLOG_MAX_PROOF];
    size_t len;
    char err[TLOG_ERR_MAX];
    if (!gateway_admit_or_reply(r->gw, r->req, GATEWAY_KIND_HASH_TILE, NULL, r->thread))
        return;
    tlog_node_reader_t nodes = node_reader(r);
    if (tlog_consistency_proof(&nodes, r->params.first, r->params.second, proof, &len, err) != 0) {
        reply_internal_error(r, err);
        return;
    }
    tlog_buf_t json = TLOG_BUF_INIT;
    ct_json_consistency(proof, len, &json);
    reply_json(r, GATEWAY_CACHE_IMMUTABLE, &json);
}

/* The first of the candidates that is in the tree of size tree_size with exactly this hash; 1 if found, 0 if not, -1. */
static int confirm_leaf(const tlog_node_reader_t *nodes, const uint64_t *candidates, size_t n, const ct_params_t *p,
                        uint64_t *index, char *err)
{
    for (size_t i = 0; i < n && candidates[i] < p->tree_size; i++) {
        tlog_hash_t stored;
        if (nodes->read(nodes->ctx, 0, candidates[i], &stored, err) != 0)
            return -1;
        if (tlog_hash_equal(&stored, &p->hash)) {
            *index = candidates[i];
            return 1;
        }
    }
    return 0;
}

static void get_proof_by_hash(ct_request_t *r)
{
    uint64_t candidates[CANDIDATES_MAX], indexed, index;
    size_t n, len;
    tlog_hash_t proof[TLOG_MAX_PROOF];
    char err[TLOG_ERR_MAX], message[TLOG_ERR_MAX];
    if (!gateway_admit_or_reply(r->gw, r->req, GATEWAY_KIND_HASH_TILE, NULL, r->thread))
        return;
    leaf_index_t *leaves = ct_logs_index(r->gw->ct, r->log_number, &indexed);
    tlog_node_reader_t nodes = node_reader(r);
    int found;
    if (leaf_index_lookup(leaves, r->thread, &r->params.hash, candidates, CANDIDATES_MAX, &n, err) != 0 ||
        (found = confirm_leaf(&nodes, candidates, n, &r->params, &index, err)) < 0) {
        reply_internal_error(r, err);
        return;
    }
    if (!found && r->params.tree_size > indexed) {
        snprintf(message, sizeof(message), "tree_size (%llu) is beyond the %llu leaves this gateway has indexed so far",
                 (unsigned long long)r->params.tree_size, (unsigned long long)indexed);
        gateway_respond_text(r->req, 400, "Bad Request", message);
        return;
    }
    if (!found) {
        snprintf(message, sizeof(message), "no leaf has this hash in the tree of size %llu",
                 (unsigned long long)r->params.tree_size);
        gateway_respond_text(r->req, 404, "Not Found", message);
        return;
    }
    if (tlog_inclusion_proof(&nodes, index, r->params.tree_size, proof, &len, err) != 0) {
        reply_internal_error(r, err);
        return;
    }
    tlog_buf_t json = TLOG_BUF_INIT;
    ct_json_proof_by_hash(index, proof, len, &json);
    reply_json(r, GATEWAY_CACHE_IMMUTABLE, &json);
}

static void get_entries(ct_request_t *r)
{
    uint64_t start = r->params.start, last = ct_entries_last(start, r->params.end);
    uint8_t *tile;
    size_t len;
    char err[TLOG_ERR_MAX];
    if (!read_data_tile_or_reply(r, start, &tile, &len))
        return;
    tlog_buf_t json = TLOG_BUF_INIT;
    tlog_buf_append(&json, "{\"entries\":[", 12);
    int ok = append_entries(r, tile, len, start & ~(uint64_t)(TLOG_TILE_WIDTH - 1), start, last, NULL, 0, &json, err) == 0;
    free(tile);
    if (!ok) {
        tlog_buf_free(&json);
        reply_internal_error(r, err);
        return;
    }
    tlog_buf_append(&json, "]}", 2);
    reply_json(r, GATEWAY_CACHE_IMMUTABLE, &json);
}

static void get_entry_and_proof(ct_request_t *r)
{
    uint64_t index = r->params.leaf_index;
    tlog_hash_t proof[TLOG_MAX_PROOF];
    size_t proof_len, len;
    uint8_t *tile;
    char err[TLOG_ERR_MAX];
    if (!read_data_tile_or_reply(r, index, &tile, &len))
        return;
    tlog_node_reader_t nodes = node_reader(r);
    tlog_buf_t json = TLOG_BUF_INIT;
    int ok =
        tlog_inclusion_proof(&nodes, index, r->params.tree_size, proof, &proof_len, err) == 0 &&
        append_entries(r, tile, len, index & ~(uint64_t)(TLOG_TILE_WIDTH - 1), index, index, proof, proof_len, &json, err) == 0;
    free(tile);
    if (!ok) {
        tlog_buf_free(&json);
        reply_internal_error(r, err);
        return;
    }
    reply_json(r, GATEWAY_CACHE_IMMUTABLE, &json);
}

static const struct endpoint {
    gateway_kind_t kind;
    const char *name;
    unsigned params;
    int needs_sth;
    void (*reply)(ct_request_t *r);
} endpoints[] = {
    {GATEWAY_KIND_CT_GET_STH, "get-sth", 0, 1, get_sth},
    {GATEWAY_KIND_CT_GET_STH_CONSISTENCY, "get-sth-consistency", CT_PARAM_FIRST | CT_PARAM_SECOND, 1, get_sth_consistency},
    {GATEWAY_KIND_CT_GET_PROOF_BY_HASH, "get-proof-by-hash", CT_PARAM_HASH | CT_PARAM_TREE_SIZE, 1, get_proof_by_hash},
    {GATEWAY_KIND_CT_GET_ENTRIES, "get-entries", CT_PARAM_START | CT_PARAM_END, 1, get_entries},
    {GATEWAY_KIND_CT_GET_ENTRY_AND_PROOF, "get-entry-and-proof", CT_PARAM_LEAF_INDEX | CT_PARAM_TREE_SIZE, 1, get_entry_and_proof},
    {GATEWAY_KIND_CT_GET_ROOTS, "get-roots", 0, 0, get_roots},
};

/* kind is one of the table's, as gateway_kind_is_ct promises. */
void ct_api_reply(gateway_t *gw, h2o_req_t *req, gateway_log_t *log, gateway_kind_t kind, unsigned thread)
{
    const struct endpoint *e = endpoints;
    while (e->kind != kind)
        e++;
    ct_request_t r = {
        .gw = gw, .req = req, .log = log, .log_number = (size_t)(log - gw->logs), .thread = thread, .endpoint = e->name};
    char err[TLOG_ERR_MAX];
    const char *query = req->query_at != SIZE_MAX ? req->path.base + req->query_at + 1 : "";
    size_t query_len = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0;

    if (ct_params_parse(query, query_len, e->params, &r.params, err) != 0) {
        gateway_respond_text(req, 400, "Bad Request", err);
        return;
    }
    if (e->needs_sth && ct_logs_sth(gw->ct, r.log_number, &r.sth) != 0) {
        gateway_respond_text(req, 503, "Service Unavailable", "no checkpoint of this log has verified yet; retry shortly");
        return;
    }
    if (ct_params_check(&r.params, e->params, r.sth.size, err) != 0) {
        gateway_respond_text(req, 400, "Bad Request", err);
        return;
    }
    e->reply(&r);
}

/*
 * The trust-policy parser: policy text in, a policy_t (policy/internal.h) out.
 *
 * The text is copied once into an arena and cut into NUL-terminated tokens in
 * place, so every name and URL the policy keeps points into that one buffer.
 * Lines are read once, in order; a line is checked for forbidden bytes, its
 * comment ('#' to the end) dropped, and its tokens handled by the parser for
 * its keyword. Costs, with N nodes (witnesses and groups, at most 512):
 * finding a name is a linear scan, O(N); a group line costs O(N) per member;
 * spotting a repeated member is O(1) through a per-node mark. The error path
 * for an undefined name may scan the rest of the text once, to tell "defined
 * later" from "not defined at all".
 *
 * Invariants of a parsed policy: names are unique and no keyword; a group's
 * members are distinct earlier nodes and 1 <= threshold <= members; witness
 * public keys are distinct, as are log public keys; there is exactly one
 * quorum, "none" or an existing node; every witness verifier is of type 0x04
 * and every log verifier of type 0x01.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"
#include "tlog/checkpoint.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/hash.h"

#define MAX_NODES (POLICY_MAX_WITNESSES + POLICY_MAX_GROUPS)

typedef struct edge {
    uint32_t child;
    uint32_t parent;
} edge_t;

typedef struct parser {
    policy_t *policy;
    int flags;
    char *err;
    size_t len;      /* of the arena's text */
    size_t line;     /* 1-based number of the line being parsed */
    size_t next_off; /* arena offset of the line after it */
    size_t ngroups;
    size_t nodes_cap, witnesses_cap, logs_cap;
    edge_t *edges; /* group memberships, in file order */
    size_t nedges, edges_cap;
    uint32_t marks[MAX_NODES]; /* marks[n] == g + 1: node n is already a member of the group becoming node g */
} parser_t;

/* Tokens of one line: runs of bytes other than space and tab. */
typedef struct tokens {
    char *pos;
    char *end;
} tokens_t;

static const char *const keywords[] = {"log", "witness", "group", "quorum", "any", "all", "none"};

static int line_error(parser_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int line_error(parser_t *ps, const char *fmt, ...)
{
    char msg[TLOG_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return tlog_errorf(ps->err, "line %zu: %s", ps->line, msg);
}

/* Length of the line starting at *off, moving *off past its '\n'. */
static size_t take_line(const char *text, size_t len, size_t *off)
{
    const char *line = text + *off;
    const char *nl = memchr(line, '\n', len - *off);
    size_t n = nl != NULL ? (size_t)(nl - line) : len - *off;
    *off += n + (nl != NULL);
    return n;
}

/* Starts tokenizing a line of n bytes, dropping its comment. */
static void tokens_init(tokens_t *t, char *line, size_t n)
{
    char *hash = memchr(line, '#', n);
    t->pos = line;
    t->end = hash != NULL ? hash : line + n;
}

/*
 * The next token, NUL-terminated in place, or NULL at the end of the line.
 * The byte after a token is a separator, the line's '\n' or '#', or the
 * arena's final NUL, so overwriting it loses nothing.
 */
static char *next_token(tokens_t *t)
{
    while (t->pos < t->end && (*t->pos == ' ' || *t->pos == '\t'))
        t->pos++;
    if (t->pos == t->end)
        return NULL;
    char *token = t->pos;
    while (t->pos < t->end && *t->pos != ' ' && *t->pos != '\t')
        t->pos++;
    char *stop = t->pos;
    if (t->pos < t->end)
        t->pos++;
    *stop = '\0';
    return token;
}

/* Grows an array of size-byte items so that it holds n + 1; the (possibly moved) array, or NULL. */
static void *reserve(void *items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return items;
    size_t ncap = *cap == 0 ? 8 : *cap * 2;
    void *grown = realloc(items, ncap * size);
    if (grown != NULL)
        *cap = ncap;
    return grown;
}

static uint32_t find_node(const policy_t *policy, const char *name)
{
    for (size_t i = 0; i < policy->nnodes; i++)
        if (strcmp(policy->nodes[i].name, name) == 0)
            return (uint32_t)i;
    return POLICY_NO_NODE;
}

/*
 * The line after the current one where name is defined, or 0. Only called
 * once the parse has failed: it cuts the lines it reads into tokens.
 */
static size_t defined_later(parser_t *ps, const char *name)
{
    size_t off = ps->next_off, line = ps->line;
    while (off < ps->len) {
        char *start = ps->policy->arena + off;
        size_t n = take_line(ps->policy->arena, ps->len, &off);
        tokens_t t;
        line++;
        tokens_init(&t, start, n);
        const char *keyword = next_token(&t), *defined = next_token(&t);
        if (defined != NULL && (strcmp(keyword, "witness") == 0 || strcmp(keyword, "group") == 0) && strcmp(defined, name) == 0)
            return line;
    }
    return 0;
}

/* The node a member or the quorum names, or -1 after saying why there is none. */
static int resolve(parser_t *ps, const char *what, const char *name, uint32_t *out)
{
    *out = find_node(ps->policy, name);
    if (*out != POLICY_NO_NODE)
        return 0;
    size_t later = defined_later(ps, name);
    if (later != 0)
        return line_error(ps, "%s %s is defined later, on line %zu; names must be defined before use", what, name, later);
    return line_error(ps, "%s %s is not defined", what, name);
}

/* A new witness or group name: not a keyword, not taken, no longer than a key name may be. */
static int check_new_name(parser_t *ps, const char *what, const char *name)
{
    if (strlen(name) >= TLOG_NOTE_NAME_MAX)
        return line_error(ps, "%s: a name of %zu bytes is longer than %d", what, strlen(name), TLOG_NOTE_NAME_MAX - 1);
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (strcmp(name, keywords[i]) == 0)
            return line_error(ps, "%s: \"%s\" is a keyword, not a name", what, name);
    uint32_t n = find_node(ps->policy, name);
    if (n != POLICY_NO_NODE)
        return line_error(ps, "%s: name %s is already defined on line %zu", what, name, ps->policy->nodes[n].line);
    return 0;
}

static int url_valid(const char *url)
{
    return (strncmp(url, "https://", 8) == 0 && url[8] != '\0') || (strncmp(url, "http://", 7) == 0 && url[7] != '\0');
}

/* A verifier from an Ed25519 vkey (type 0x01 or 0x04), and its public key; -1 with e. */
static int vkey_parse(const char *vkey, tlog_verifier_t **out, uint8_t public_key[32], char *e)
{
    uint8_t raw[33];
    size_t n;
    if (tlog_verifier_from_vkey(vkey, strlen(vkey), out, e) != 0)
        return -1;
    /* The verifier accepted the vkey, so the base64 after the second '+' is there; the check is on the type. */
    const char *key = strchr(strchr(vkey, '+') + 1, '+') + 1;
    if (tlog_base64_decode(key, strlen(key), raw, sizeof(raw), &n) != 0 || n != sizeof(raw) ||
        (raw[0] != TLOG_SIG_ED25519 && raw[0] != TLOG_SIG_COSIGNATURE)) {
        tlog_verifier_free(*out);
        *out = NULL;
        return tlog_errorf(e, "not an Ed25519 key (type 0x01 or 0x04)");
    }
    memcpy(public_key, raw + 1, 32);
    return 0;
}

/* A witness key: a 0x04 or 0x01 vkey, or 64 hex digits named after the witness; always a 0x04 verifier. */
static int witness_key(parser_t *ps, const char *name, const char *key, policy_key_t *w)
{
    char e[TLOG_ERR_MAX];
    tlog_verifier_t *plain = NULL;

    if (strchr(key, '+') == NULL) {
        if (strlen(key) != 64 || tlog_hex_decode(key, 64, w->public_key, 32) != 0)
            return line_error(ps, "witness %s: key is neither a vkey nor 64 hex digits", name);
        if (!tlog_origin_valid(name, strlen(name)))
            return line_error(ps, "witness %s: with a hex key the name is the key name, and this one is not valid", name);
        if (tlog_verifier_ed25519(name, w->public_key, TLOG_SIG_COSIGNATURE, &w->verifier, e) != 0)
            return line_error(ps, "witness %s: %s", name, e);
        return 0;
    }
    if (vkey_parse(key, &plain, w->public_key, e) != 0)
        return line_error(ps, "witness %s: %s", name, e);
    if (tlog_verifier_type(plain) == TLOG_SIG_COSIGNATURE) {
        w->verifier = plain;
        return 0;
    }
    /* A 0x01 vkey: the same key, for cosignature/v1 (the key ID changes with the type). */
    int rc = tlog_verifier_ed25519(tlog_verifier_name(plain), w->public_key, TLOG_SIG_COSIGNATURE, &w->verifier, e);
    tlog_verifier_free(plain);
    return rc == 0 ? 0 : line_error(ps, "witness %s: %s", name, e);
}

static int add_node(parser_t *ps, const char *name, uint32_t threshold, uint32_t nmembers)
{
    policy_t *policy = ps->policy;
    policy_node_t *nodes = reserve(policy->nodes, &ps->nodes_cap, policy->nnodes, sizeof(*nodes));
    if (nodes == NULL)
        return tlog_errorf(ps->err, "out of memory");
    policy->nodes = nodes;
    nodes[policy->nnodes++] = (policy_node_t){.name = name, .line = ps->line, .threshold = threshold, .nmembers = nmembers};
    return 0;
}

/* log <vkey> [<url>] */
static int parse_log(parser_t *ps, tokens_t *t)
{
    policy_t *policy = ps->policy;
    const char *key = next_token(t), *url = next_token(t);
    char e[TLOG_ERR_MAX];
    policy_key_t log = {.url = url, .line = ps->line, .node = POLICY_NO_NODE};

    if (key == NULL || next_token(t) != NULL)
        return line_error(ps, "log: expected a vkey and an optional URL");
    if (policy->nlogs == POLICY_MAX_LOGS)
        return line_error(ps, "log: more than %d logs", POLICY_MAX_LOGS);
    if (url != NULL && !url_valid(url))
        return line_error(ps, "log: URL \"%s\" is not an http:// or https:// URL", url);
    if (strchr(key, '+') == NULL)
        return line_error(ps, "log: key must be a vkey (name+id+key)");
    if (vkey_parse(key, &log.verifier, log.public_key, e) != 0)
        return line_error(ps, "log: %s", e);
    if (tlog_verifier_type(log.verifier) != TLOG_SIG_ED25519) {
        int type = tlog_verifier_type(log.verifier);
        tlog_verifier_free(log.verifier);
        return line_error(ps, "log: key type 0x%02x is not Ed25519 (0x01)", type);
    }
    for (size_t i = 0; i < policy->nlogs; i++)
        if (memcmp(policy->logs[i].public_key, log.public_key, 32) == 0) {
            tlog_verifier_free(log.verifier);
            return line_error(ps, "log: the same public key is already listed on line %zu", policy->logs[i].line);
        }
    policy_key_t *logs = reserve(policy->logs, &ps->logs_cap, policy->nlogs, sizeof(*logs));
    if (logs == NULL) {
        tlog_verifier_free(log.verifier);
        return tlog_errorf(ps->err, "out of memory");
    }
    policy->logs = logs;
    logs[policy->nlogs++] = log;
    return 0;
}

/* witness <name> <key> [<url>] */
static int parse_witness(parser_t *ps, tokens_t *t)
{
    policy_t *policy = ps->policy;
    const char *name = next_token(t), *key = next_token(t), *url = next_token(t);
    policy_key_t w = {.url = url, .line = ps->line, .node = (uint32_t)policy->nnodes};

    if (name == NULL || key == NULL || next_token(t) != NULL)
        return line_error(ps, "witness: expected a name, a key and an optional URL");
    if (check_new_name(ps, "witness", name) != 0)
        return -1;
    if (policy->nwitnesses == POLICY_MAX_WITNESSES)
        return line_error(ps, "witness %s: more than %d witnesses", name, POLICY_MAX_WITNESSES);
    if (url != NULL && !url_valid(url))
        return line_error(ps, "witness %s: URL \"%s\" is not an http:// or https:// URL", name, url);
    if (url == NULL && (ps->flags & POLICY_REQUIRE_URLS))
        return line_error(ps, "witness %s has no URL, and the log must call every witness", name);
    if (witness_key(ps, name, key, &w) != 0)
        return -1;
    for (size_t i = 0; i < policy->nwitnesses; i++)
        if (memcmp(policy->witnesses[i].public_key, w.public_key, 32) == 0) {
            tlog_verifier_free(w.verifier);
            return line_error(ps, "witness %s: the same public key is already witness %s's (line %zu)", name,
                              policy->nodes[policy->witnesses[i].node].name, policy->witnesses[i].line);
        }
    policy_key_t *witnesses = reserve(policy->witnesses, &ps->witnesses_cap, policy->nwitnesses, sizeof(*witnesses));
    if (witnesses == NULL) {
        tlog_verifier_free(w.verifier);
        return tlog_errorf(ps->err, "out of memory");
    }
    policy->witnesses = witnesses;
    witnesses[policy->nwitnesses++] = w;
    return add_node(ps, name, 0, 0);
}

/* k of "group <name> <k> ...": 1 for any, 0 for all (every member), else the decimal value, capped at MAX_NODES + 1. */
static int parse_threshold(parser_t *ps, const char *name, const char *k, uint32_t *out)
{
    if (strcmp(k, "any") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(k, "all") == 0) {
        *out = 0;
        return 0;
    }
    if (k[strspn(k, "0123456789")] != '\0' || (k[0] == '0' && k[1] != '\0'))
        return line_error(ps, "group %s: threshold \"%s\" is not any, all or a decimal number without leading zeros", name, k);
    unsigned long long v = 0;
    for (const char *c = k; *c != '\0' && v <= MAX_NODES; c++)
        v = v * 10 + (unsigned)(*c - '0');
    if (v == 0)
        return line_error(ps, "group %s: threshold 0 is less than 1", name);
    *out = v > MAX_NODES ? MAX_NODES + 1 : (uint32_t)v;
    return 0;
}

/* group <name> <k>|any|all <member>... */
static int parse_group(parser_t *ps, tokens_t *t)
{
    policy_t *policy = ps->policy;
    const char *name = next_token(t), *k = next_token(t), *member;
    uint32_t threshold = 0, nmembers = 0, self = (uint32_t)policy->nnodes;
    char what[TLOG_ERR_MAX];

    if (name == NULL || k == NULL)
        return line_error(ps, "group: expected a name, a threshold and members");
    if (check_new_name(ps, "group", name) != 0)
        return -1;
    if (ps->ngroups == POLICY_MAX_GROUPS)
        return line_error(ps, "group %s: more than %d groups", name, POLICY_MAX_GROUPS);
    if (parse_threshold(ps, name, k, &threshold) != 0)
        return -1;
    snprintf(what, sizeof(what), "group %s: member", name);
    while ((member = next_token(t)) != NULL) {
        uint32_t child;
        if (strcmp(member, "none") == 0)
            return line_error(ps, "group %s: none is only valid in a quorum line, not as a member", name);
        if (resolve(ps, what, member, &child) != 0)
            return -1;
        if (ps->marks[child] == self + 1)
            return line_error(ps, "group %s: member %s is listed twice", name, member);
        ps->marks[child] = self + 1;
        edge_t *edges = reserve(ps->edges, &ps->edges_cap, ps->nedges, sizeof(*edges));
        if (edges == NULL)
            return tlog_errorf(ps->err, "out of memory");
        ps->edges = edges;
        edges[ps->nedges++] = (edge_t){.child = child, .parent = self};
        nmembers++;
    }
    if (nmembers == 0)
        return line_error(ps, "group %s has no members", name);
    if (threshold == 0)
        threshold = nmembers;
    if (threshold > nmembers)
        return line_error(ps, "group %s: threshold %s is more than its %u member%s", name, k, nmembers, nmembers == 1 ? "" : "s");
    ps->ngroups++;
    return add_node(ps, name, threshold, nmembers);
}

/* quorum <name>|none */
static int parse_quorum(parser_t *ps, tokens_t *t)
{
    policy_t *policy = ps->policy;
    const char *name = next_token(t);

    if (name == NULL || next_token(t) != NULL)
        return line_error(ps, "quorum: expected one name, or none");
    if (policy->quorum_line != 0)
        return line_error(ps, "a second quorum line (the first is line %zu)", policy->quorum_line);
    if (strcmp(name, "none") != 0 && resolve(ps, "quorum:", name, &policy->quorum) != 0)
        return -1;
    policy->quorum_line = ps->line;
    return 0;
}

static int parse_line(parser_t *ps, char *line, size_t n)
{
    tokens_t t;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == '\r')
            return line_error(ps, "carriage return (0x0d) is not allowed; lines end in \\n alone");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return line_error(ps, "byte 0x%02x is not allowed", c);
    }
    tokens_init(&t, line, n);
    const char *keyword = next_token(&t);
    if (keyword == NULL)
        return 0;
    if (strcmp(keyword, "log") == 0)
        return parse_log(ps, &t);
    if (strcmp(keyword, "witness") == 0)
        return parse_witness(ps, &t);
    if (strcmp(keyword, "group") == 0)
        return parse_group(ps, &t);
    if (strcmp(keyword, "quorum") == 0)
        return parse_quorum(ps, &t);
    return line_error(ps, "unknown keyword \"%s\"", keyword);
}

/* Turns the memberships into each node's parents, and lists the verifiers witnesses first. */
static int finish(parser_t *ps)
{
    policy_t *policy = ps->policy;
    size_t nkeys = policy->nwitnesses + policy->nlogs;

    policy->parents = malloc((ps->nedges > 0 ? ps->nedges : 1) * sizeof(*policy->parents));
    policy->keys = malloc((nkeys > 0 ? nkeys : 1) * sizeof(*policy->keys));
    if (policy->parents == NULL || policy->keys == NULL)
        return tlog_errorf(ps->err, "out of memory");
    /* Counting sort of the edges by child; marks[] becomes each child's count of parents placed so far. */
    for (size_t i = 0; i < ps->nedges; i++)
        policy->nodes[ps->edges[i].child].parent_start++;
    uint32_t start = 0;
    for (size_t i = 0; i < policy->nnodes; i++) {
        uint32_t count = policy->nodes[i].parent_start;
        policy->nodes[i].parent_start = start;
        start += count;
    }
    memset(ps->marks, 0, sizeof(ps->marks));
    for (size_t i = 0; i < ps->nedges; i++) {
        uint32_t child = ps->edges[i].child;
        policy->parents[policy->nodes[child].parent_start + ps->marks[child]++] = ps->edges[i].parent;
    }
    policy->nparents = ps->nedges;
    for (size_t i = 0; i < policy->nwitnesses; i++)
        policy->keys[i] = policy->witnesses[i].verifier;
    for (size_t i = 0; i < policy->nlogs; i++)
        policy->keys[policy->nwitnesses + i] = policy->logs[i].verifier;
    return 0;
}

int policy_parse(const char *text, size_t len, int flags, policy_t **out, char *err)
{
    parser_t *ps = NULL;
    policy_t *policy = NULL;
    int rc = -1;

    *out = NULL;
    if ((ps = calloc(1, sizeof(*ps))) == NULL || (policy = calloc(1, sizeof(*policy))) == NULL ||
        (policy->arena = malloc(len + 1)) == NULL) {
        tlog_errorf(err, "out of memory");
        goto fail;
    }
    if (len > 0)
        memcpy(policy->arena, text, len);
    policy->arena[len] = '\0';
    policy->quorum = POLICY_NO_NODE;
    *ps = (parser_t){.policy = policy, .flags = flags, .err = err, .len = len};
    while (ps->next_off < len) {
        char *line = policy->arena + ps->next_off;
        size_t n = take_line(policy->arena, len, &ps->next_off);
        ps->line++;
        if (parse_line(ps, line, n) != 0)
            goto fail;
    }
    if (policy->quorum_line == 0) {
        tlog_errorf(err, "the policy has no quorum line (add \"quorum <name>\" or \"quorum none\")");
        goto fail;
    }
    if (finish(ps) != 0)
        goto fail;
    *out = policy;
    policy = NULL;
    rc = 0;

fail:
    if (ps != NULL)
        free(ps->edges);
    free(ps);
    policy_free(policy);
    return rc;
}

void policy_free(policy_t *policy)
{
    if (policy == NULL)
        return;
    for (size_t i = 0; i < policy->nlogs; i++)
        tlog_verifier_free(policy->logs[i].verifier);
    for (size_t i = 0; i < policy->nwitnesses; i++)
        tlog_verifier_free(policy->witnesses[i].verifier);
    free(policy->keys);
    free(policy->parents);
    free(policy->logs);
    free(policy->witnesses);
    free(policy->nodes);
    free(policy->arena);
    free(policy);
}

size_t policy_log_count(const policy_t *policy)
{
    return policy->nlogs;
}

tlog_verifier_t *policy_log_verifier(const policy_t *policy, size_t i)
{
    assert(i < policy->nlogs);
    return policy->logs[i].verifier;
}

const char *policy_log_url(const policy_t *policy, size_t i)
{
    assert(i < policy->nlogs);
    return policy->logs[i].url;
}

int policy_log_index(const policy_t *policy, const tlog_verifier_t *key)
{
    char want[512], have[512];
    if (tlog_verifier_vkey(key, want, sizeof(want)) != 0)
        return -1;
    for (size_t i = 0; i < policy->nlogs; i++)
        if (tlog_verifier_vkey(policy->logs[i].verifier, have, sizeof(have)) == 0 && strcmp(want, have) == 0)
            return (int)i;
    return -1;
}

size_t policy_witness_count(const policy_t *policy)
{
    return policy->nwitnesses;
}

const char *policy_witness_name(const policy_t *policy, size_t i)
{
    assert(i < policy->nwitnesses);
    return policy->nodes[policy->witnesses[i].node].name;
}

const char *policy_witness_url(const policy_t *policy, size_t i)
{
    assert(i < policy->nwitnesses);
    return policy->witnesses[i].url;
}

tlog_verifier_t *policy_witness_verifier(const policy_t *policy, size_t i)
{
    assert(i < policy->nwitnesses);
    return policy->witnesses[i].verifier;
}

tlog_verifier_t *const *policy_witness_verifiers(const policy_t *policy)
{
    return policy->keys;
}

int policy_quorum_is_none(const policy_t *policy)
{
    return policy->quorum == POLICY_NO_NODE;
}

int policy_load(const char *path, int flags, policy_t **out, char *err)
{
    char *text, why[TLOG_ERR_MAX];
    size_t len;
    if (tlog_read_file(path, POLICY_FILE_MAX, &text, &len, why) != 0)
        return tlog_errorf(err, "%s", why);
    int ret = policy_parse(text, len, flags, out, why);
    free(text);
    if (ret != 0)
        return tlog_errorf(err, "%s: %s", path, why);
    return 0;
}

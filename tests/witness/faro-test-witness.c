/*
 * faro-test-witness: a small c2sp.org/tlog-witness witness for the tests, on
 * libh2o's evloop (one thread, so each check-then-update is atomic).
 *
 *   faro-test-witness --listen 127.0.0.1:PORT --name NAME --seed HEX64 --state FILE --log VKEY [--log VKEY]...
 *                     [--time SECONDS] [--delay MS] [--fault KIND]
 *
 * POST <any prefix>/add-checkpoint runs the checks of spec/witness.md §1.2 in
 * their order: 400 malformed body, 404 unknown origin (the key name of a
 * --log vkey), 403 no valid signature by that log's key (or a failing one),
 * 400 not a checkpoint or extension lines, 400 old > size, 422 empty tree
 * with a wrong root, 409 old is not the size last cosigned (body "<size>\n",
 * text/x.tlog.size), 422 a consistency proof that does not verify. Then it
 * stores the checkpoint durably in the state file (one line per origin:
 * "<origin> <size> <base64 root>") and answers 200 with one cosignature/v1
 * line (Ed25519, key from --seed, timestamp now or --time). Once it accepts
 * it prints "vkey <its cosignature vkey>" and "listening on 127.0.0.1:<port>"
 * (PORT may be 0).
 *
 * Faults, for the coordinator's tests (checks 1-4 still run first):
 *   --delay MS        every answer leaves MS milliseconds late (after the state is stored)
 *   --fault garbage   200 with bytes that are no cosignature
 *   --fault bad-signature  200 with a cosignature whose signature is altered
 *   --fault conflict       409 with a size other than the one asked: one less, or from 0 the checkpoint's
 *   --fault ahead          409 with a size 1000 beyond the checkpoint's
 *   --fault down           exits at the first request, without answering
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>

#include "tlog/buf.h"
#include "tlog/checkpoint.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/hash.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

#define MAX_LOGS 16
#define MAX_ORIGINS 64
#define MAX_PROOF 63
#define BODY_MAX (128 * 1024)
#define GARBAGE "\x01\xff this is not a cosignature\n"

enum { FAULT_NONE, FAULT_GARBAGE, FAULT_BAD_SIGNATURE, FAULT_CONFLICT, FAULT_AHEAD, FAULT_DOWN };

typedef struct origin_state {
    char origin[TLOG_ORIGIN_MAX];
    uint64_t size;
    tlog_hash_t root;
} origin_state_t;

static struct {
    const char *state_path;
    tlog_signer_t *signer;
    tlog_verifier_t *logs[MAX_LOGS];
    size_t nlogs;
    origin_state_t origins[MAX_ORIGINS];
    size_t norigins;
    uint64_t fixed_time;
    int fault;
    h2o_timeout_t delay;
    uint64_t delay_ms;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
} witness;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("faro-test-witness: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static uint64_t now_s(void)
{
    return witness.fixed_time != 0 ? witness.fixed_time : (uint64_t)time(NULL);
}

static origin_state_t *find_origin(const char *origin)
{
    for (size_t i = 0; i < witness.norigins; i++)
        if (strcmp(witness.origins[i].origin, origin) == 0)
            return &witness.origins[i];
    return NULL;
}

static void load_state(void)
{
    char *text, err[TLOG_ERR_MAX], root[64];
    size_t len;
    if (tlog_read_file(witness.state_path, 1 << 20, &text, &len, err) != 0) {
        if (errno == ENOENT)
            return;
        die("%s", err);
    }
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        origin_state_t *s = &witness.origins[witness.norigins];
        size_t n;
        if (witness.norigins == MAX_ORIGINS || sscanf(line, "%255s %" SCNu64 " %63s", s->origin, &s->size, root) != 3 ||
            tlog_base64_decode(root, strlen(root), s->root.bytes, TLOG_HASH_SIZE, &n) != 0 || n != TLOG_HASH_SIZE)
            die("%s: bad line \"%s\"", witness.state_path, line);
        witness.norigins++;
    }
    free(text);
}

static int store_state(char *err)
{
    tlog_buf_t text = TLOG_BUF_INIT;
    char root[TLOG_BASE64_LEN(TLOG_HASH_SIZE) + 1];
    for (size_t i = 0; i < witness.norigins; i++) {
        tlog_base64_encode(witness.origins[i].root.bytes, TLOG_HASH_SIZE, root);
        tlog_buf_appendf(&text, "%s %" PRIu64 " %s\n", witness.origins[i].origin, witness.origins[i].size, root);
    }
    int rc = tlog_durable_write(witness.state_path, text.data, text.len, TLOG_DURABLE_MUTABLE, err);
    tlog_buf_free(&text);
    return rc;
}

/* A reply that may wait for the --delay timer; its memory lives in the request's pool. */
typedef struct answer {
    h2o_timeout_entry_t timer;
    h2o_req_t *req;
    int status;
    const char *content_type;
    char *body;
    size_t len;
} answer_t;

static void send_answer(answer_t *a)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {200, "OK"},       {400, "Bad Request"},         {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
        {409, "Conflict"}, {422, "Unprocessable Entity"}};
    a->req->res.status = a->status;
    a->req->res.reason = "Internal Server Error";
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == a->status)
            a->req->res.reason = reasons[i].reason;
    h2o_add_header(&a->req->pool, &a->req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, a->content_type, strlen(a->content_type));
    h2o_send_inline(a->req, a->body, a->len);
}

static void on_delay_done(h2o_timeout_entry_t *entry)
{
    send_answer(H2O_STRUCT_FROM_MEMBER(answer_t, timer, entry));
}

static void on_answer_dispose(void *p)
{
    answer_t *a = p;
    if (h2o_timeout_is_linked(&a->timer))
        h2o_timeout_unlink(&a->timer);
}

static void answer(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
    answer_t *a = h2o_mem_alloc_shared(&req->pool, sizeof(*a), on_answer_dispose);
    memset(&a->timer, 0, sizeof(a->timer));
    a->timer.cb = on_delay_done;
    a->req = req;
    a->status = status;
    a->content_type = content_type;
    a->body = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(a->body, body, len);
    a->len = len;
    h2o_mem_link_shared(&req->pool, a);
    if (witness.delay_ms > 0)
        h2o_timeout_link(witness.loop, &witness.delay, &a->timer);
    else
        send_answer(a);
}

static void answer_text(h2o_req_t *req, int status, const char *message)
{
    char line[TLOG_ERR_MAX + 2];
    int n = snprintf(line, sizeof(line), "%s\n", message);
    answer(req, status, "text/plain; charset=utf-8", line, (size_t)n);
}

static void answer_size(h2o_req_t *req, uint64_t size)
{
    char line[32];
    int n = snprintf(line, sizeof(line), "%" PRIu64 "\n", size);
    answer(req, 409, "text/x.tlog.size", line, (size_t)n);
}

/* "old N" and up to 63 base64 hashes, one per line: check 1. */
static int parse_head(const char *head, size_t len, uint64_t *old, tlog_hash_t *proof, size_t *proof_len, char *err)
{
    const char *end = head + len, *nl = memchr(head, '\n', len), *digits = head + 4;
    size_t ndigits = len < 5 ? 0 : (size_t)((nl != NULL ? nl : end) - digits);
    size_t i = 0;
    for (*old = 0; i < ndigits && digits[i] >= '0' && digits[i] <= '9' && *old <= (INT64_MAX - 9) / 10; i++)
        *old = *old * 10 + (uint64_t)(digits[i] - '0');
    if (ndigits == 0 || i != ndigits || memcmp(head, "old ", 4) != 0 || (digits[0] == '0' && ndigits > 1))
        return tlog_errorf(err, "the body does not start with \"old <size>\"");
    *proof_len = 0;
    for (const char *line = nl != NULL ? nl + 1 : end; line < end;) {
        const char *stop = memchr(line, '\n', (size_t)(end - line));
        size_t n;
        if (stop == NULL)
            stop = end;
        if (*proof_len == MAX_PROOF)
            return tlog_errorf(err, "more than %d proof lines", MAX_PROOF);
        if (tlog_base64_decode(line, (size_t)(stop - line), proof[*proof_len].bytes, TLOG_HASH_SIZE, &n) != 0 ||
            n != TLOG_HASH_SIZE)
            return tlog_errorf(err, "proof line %zu is not base64 of 32 bytes", *proof_len + 1);
        (*proof_len)++;
        line = stop + 1;
    }
    return 0;
}

/* The faults that answer instead of cosigning (checks 1-4 passed). */
static int fault_answer(h2o_req_t *req, const tlog_checkpoint_t *checkpoint, const char *text, size_t text_len, uint64_t old)
{
    char err[TLOG_ERR_MAX], *line;
    size_t len;
    switch (witness.fault) {
    case FAULT_GARBAGE:
        answer(req, 200, "text/plain", GARBAGE, sizeof(GARBAGE) - 1);
        return 1;
    case FAULT_CONFLICT:
        answer_size(req, old > 0 ? old - 1 : checkpoint->size);
        return 1;
    case FAULT_AHEAD:
        answer_size(req, checkpoint->size + 1000);
        return 1;
    case FAULT_BAD_SIGNATURE:
        if (tlog_note_sign_line(text, text_len, witness.signer, now_s() * 1000, &line, &len, err) != 0)
            die("signing: %s", err);
        /* A base64 character of the signature, well before the padding, to its neighbour: still base64, no longer valid. */
        line[len - 10] = line[len - 10] == 'A' ? 'B' : 'A';
        answer(req, 200, "text/plain", line, len);
        free(line);
        return 1;
    default:
        return 0;
    }
}

/* Checks 5-9 and the cosignature. */
static void cosign(h2o_req_t *req, const tlog_checkpoint_t *checkpoint, const char *text, size_t text_len, uint64_t old,
                   const tlog_hash_t *proof, size_t proof_len)
{
    char err[TLOG_ERR_MAX], *line;
    size_t len;
    tlog_hash_t empty;
    origin_state_t *state = find_origin(checkpoint->origin);
    uint64_t have = state != NULL ? state->size : 0;

    tlog_empty_root(&empty);
    if (old > checkpoint->size) {
        answer_text(req, 400, "old size is larger than the checkpoint's");
    } else if (checkpoint->size == 0 && !tlog_hash_equal(&checkpoint->root, &empty)) {
        answer_text(req, 422, "an empty tree must have the empty root");
    } else if (old != have) {
        answer_size(req, have);
    } else if (old == 0 && proof_len != 0) {
        answer_text(req, 422, "a proof from size 0 must be empty");
    } else if (old != 0 &&
               tlog_consistency_verify(old, checkpoint->size, &state->root, &checkpoint->root, proof, proof_len, err) != 0) {
        answer_text(req, 422, err);
    } else if (state == NULL && witness.norigins == MAX_ORIGINS) {
        answer_text(req, 500, "too many origins");
    } else {
        if (state == NULL) {
            state = &witness.origins[witness.norigins++];
            snprintf(state->origin, sizeof(state->origin), "%s", checkpoint->origin);
        }
        state->size = checkpoint->size;
        state->root = checkpoint->root;
        if (store_state(err) != 0)
            die("storing the state: %s", err);
        if (tlog_note_sign_line(text, text_len, witness.signer, now_s() * 1000, &line, &len, err) != 0)
            die("signing: %s", err);
        answer(req, 200, "text/plain; charset=utf-8", line, len);
        free(line);
    }
}

/* Checks 1-4, in order, then the faults or the cosignature. */
static void add_checkpoint(h2o_req_t *req)
{
    const char *body = req->entity.base, *split;
    size_t len = req->entity.len, proof_len = 0;
    tlog_hash_t proof[MAX_PROOF];
    tlog_note_t *note = NULL;
    tlog_checkpoint_t checkpoint;
    tlog_verifier_t *keys[MAX_LOGS];
    size_t nkeys = 0;
    uint64_t old = 0;
    char err[TLOG_ERR_MAX];

    if (witness.fault == FAULT_DOWN) {
        fprintf(stderr, "faro-test-witness: down at the first request\n");
        _exit(1);
    }
    if (body == NULL || (split = memmem(body, len, "\n\n", 2)) == NULL)
        return answer_text(req, 400, "the body has no empty line between the proof and the checkpoint");
    if (parse_head(body, (size_t)(split - body), &old, proof, &proof_len, err) != 0 ||
        tlog_note_parse(split + 2, (size_t)(body + len - split - 2), &note, err) != 0)
        return answer_text(req, 400, err);
    const char *nl = memchr(note->text, '\n', note->text_len);
    for (size_t i = 0; i < witness.nlogs; i++) {
        const char *name = tlog_verifier_name(witness.logs[i]);
        if (strlen(name) == (size_t)(nl - note->text) && memcmp(name, note->text, strlen(name)) == 0)
            keys[nkeys++] = witness.logs[i];
    }
    if (nkeys == 0)
        answer_text(req, 404, "unknown log origin");
    else if (tlog_note_verify(note, keys, nkeys, NULL, err) != 0)
        answer_text(req, 403, err);
    else if (tlog_checkpoint_parse(note->text, note->text_len, &checkpoint, err) != 0)
        answer_text(req, 400, err);
    else if (checkpoint.extensions_len != 0)
        answer_text(req, 400, "checkpoints with extension lines are not cosigned");
    else if (!fault_answer(req, &checkpoint, note->text, note->text_len, old))
        cosign(req, &checkpoint, note->text, note->text_len, old, proof, proof_len);
    tlog_note_free(note);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    static const char suffix[] = "/add-checkpoint";
    h2o_iovec_t path = req->path_normalized;
    if (path.len < sizeof(suffix) - 1 || memcmp(path.base + path.len - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1) != 0)
        answer_text(req, 404, "not found");
    else if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")))
        answer_text(req, 405, "use POST");
    else
        add_checkpoint(req);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    h2o_socket_t *sock;
    if (err == NULL && (sock = h2o_evloop_socket_accept(listener)) != NULL)
        h2o_accept(&witness.accept_ctx, sock);
}

/* Binds host:port (an IPv4 address); the port actually bound. */
static int listen_on(const char *address, int *port)
{
    const char *colon = strrchr(address, ':');
    char host[64];
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t sin_len = sizeof(sin);
    int fd, on = 1;

    if (colon == NULL || (size_t)(colon - address) >= sizeof(host))
        die("--listen %s: want ipv4:port", address);
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    sin.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
        die("--listen %s: want ipv4:port", address);
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        listen(fd, SOMAXCONN) != 0 || getsockname(fd, (struct sockaddr *)&sin, &sin_len) != 0)
        die("--listen %s: %s", address, strerror(errno));
    *port = ntohs(sin.sin_port);
    return fd;
}

static void parse_fault(const char *kind)
{
    static const char *const names[] = {"none", "garbage", "bad-signature", "conflict", "ahead", "down"};
    for (int f = 0; f < (int)(sizeof(names) / sizeof(names[0])); f++)
        if (strcmp(kind, names[f]) == 0) {
            witness.fault = f;
            return;
        }
    die("unknown --fault %s", kind);
}

int main(int argc, char **argv)
{
    const char *address = NULL, *name = NULL, *seed_hex = NULL;
    uint8_t seed[32];
    char err[TLOG_ERR_MAX];

    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i], *value = i + 1 < argc ? argv[++i] : NULL;
        if (value == NULL)
            die("%s needs a value", flag);
        if (strcmp(flag, "--listen") == 0)
            address = value;
        else if (strcmp(flag, "--name") == 0)
            name = value;
        else if (strcmp(flag, "--seed") == 0)
            seed_hex = value;
        else if (strcmp(flag, "--state") == 0)
            witness.state_path = value;
        else if (strcmp(flag, "--time") == 0)
            witness.fixed_time = strtoull(value, NULL, 10);
        else if (strcmp(flag, "--delay") == 0)
            witness.delay_ms = strtoull(value, NULL, 10);
        else if (strcmp(flag, "--fault") == 0)
            parse_fault(value);
        else if (strcmp(flag, "--log") == 0 && witness.nlogs < MAX_LOGS) {
            if (tlog_verifier_from_vkey(value, strlen(value), &witness.logs[witness.nlogs++], err) != 0)
                die("--log %s: %s", value, err);
        } else
            die("unknown flag %s", flag);
    }
    if (address == NULL || name == NULL || seed_hex == NULL || witness.state_path == NULL || witness.nlogs == 0)
        die("usage: --listen ADDR:PORT --name NAME --seed HEX64 --state FILE --log VKEY... [--time S] [--delay MS] [--fault KIND]");
    if (strlen(seed_hex) != 64 || tlog_hex_decode(seed_hex, 64, seed, sizeof(seed)) != 0)
        die("--seed: want 64 hex digits");
    if (tlog_signer_ed25519(name, seed, TLOG_SIG_COSIGNATURE, &witness.signer, err) != 0)
        die("--name %s: %s", name, err);
    load_state();

    h2o_globalconf_t config;
    h2o_config_init(&config);
    config.max_request_entity_size = BODY_MAX;
    h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *root = h2o_config_register_path(host, "/", 0);
    h2o_create_handler(root, sizeof(h2o_handler_t))->on_req = on_req;
    witness.loop = h2o_evloop_create();
    h2o_context_init(&witness.ctx, witness.loop, &config);
    h2o_timeout_init(witness.loop, &witness.delay, witness.delay_ms);
    witness.accept_ctx.ctx = &witness.ctx;
    witness.accept_ctx.hosts = config.hosts;
    int port, fd = listen_on(address, &port);
    h2o_socket_t *listener = h2o_evloop_socket_create(witness.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(listener, on_accept);
    tlog_verifier_t *verifier;
    char vkey[512];
    if (tlog_signer_verifier(witness.signer, &verifier, err) != 0 || tlog_verifier_vkey(verifier, vkey, sizeof(vkey)) != 0)
        die("the witness's vkey: %s", err);
    tlog_verifier_free(verifier);
    printf("vkey %s\nlistening on %.*s:%d\n", vkey, (int)(strrchr(address, ':') - address), address, port);
    fflush(stdout);
    for (;;)
        h2o_evloop_run(witness.loop, INT32_MAX);
}

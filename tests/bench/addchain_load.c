/*
 * addchain_load: submits the distinct chains of a bench_chains file to one
 * log's add-chain endpoint and reports what a CA would see.
 *
 *   addchain_load --chains FILE --connect HOST:PORT --path /prefix/ct/v1/add-chain
 *                 [--host NAME] [--concurrency 64] [--duration 60] [--drain 30]
 *
 * One thread, epoll, CONCURRENCY keep-alive HTTP/1.1 connections, each with
 * one request in flight at a time (neither faro-writer nor Sunlight serves
 * a connection's pipelined requests concurrently, so connections are the
 * concurrency). Every request carries the next unused chain, {"chain":[leaf,
 * intermediate]}; the leaf is base64-encoded from the mapped file into the
 * connection's buffer as the request is built (about a microsecond), which
 * is all the work done per request besides the socket calls. All
 * connections are open before the clock starts; from then on each sends,
 * waits for its answer, and sends the next chain until DURATION seconds
 * have passed or the chains run out, then waits up to DRAIN seconds for the
 * answers still due. Latencies are kept for every 200 (SCT) answer and
 * sorted at the end.
 *
 * Output, one "name value..." line each: connections, duration_s, sent, ok,
 * status <code> <count> for every other status, errors (connections lost
 * without an answer), unanswered, reconnects (connections that failed to
 * open and were tried again), throughput_per_s (200s answered within
 * the measured window / the window), latency_ms p50 p90 p99 max, and
 * per_10s (200s per second in each 10-second slice). Progress goes to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tlog/hash.h"

#define MAGIC "faro-bench-chains-v1\n"
#define MAGIC_LEN (sizeof(MAGIC) - 1)
#define INPUT_MAX 16384

typedef struct chains {
    const uint8_t *records;
    size_t record, count;
    char *inter_b64;
    size_t inter_b64_len;
} chains_t;

enum { CONNECTING, IDLE, SENDING, WAITING, CLOSED };

typedef struct conn {
    int fd, state;
    char *out;
    size_t out_len, out_sent;
    char in[INPUT_MAX];
    size_t in_len;
    uint64_t sent_ns;
} conn_t;

typedef struct load {
    const chains_t *chains;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    const char *path, *host;
    int epoll;
    size_t next_chain, sent, ok, errors, bad_bodies, in_flight, reconnects;
    size_t status[600];
    uint32_t *latencies_us; /* of the 200s */
    size_t *per_second;
    size_t seconds;
    uint64_t start_ns, window_end_ns;
    int issuing;
} load_t;

static void die(const char *what)
{
    fprintf(stderr, "addchain_load: %s\n", what);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void chains_map(const char *path, chains_t *out)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        die("cannot open the chains file");
    const uint8_t *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED || (size_t)st.st_size < MAGIC_LEN + 12 || memcmp(p, MAGIC, MAGIC_LEN) != 0)
        die("not a bench_chains file");
    out->record = get_u32(p + MAGIC_LEN);
    out->count = get_u32(p + MAGIC_LEN + 4);
    size_t inter_len = get_u32(p + MAGIC_LEN + 8), head = MAGIC_LEN + 12 + inter_len;
    if ((size_t)st.st_size != head + out->record * out->count)
        die("the chains file is truncated");
    out->inter_b64 = malloc(TLOG_BASE64_LEN(inter_len) + 1);
    out->inter_b64_len = tlog_base64_encode(p + MAGIC_LEN + 12, inter_len, out->inter_b64);
    out->records = p + head;
    madvise((void *)p, (size_t)st.st_size, MADV_SEQUENTIAL);
}

static void watch(load_t *l, conn_t *c, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(l->epoll, op, c->fd, &ev) != 0)
        die("epoll_ctl failed");
}

static void conn_open(load_t *l, conn_t *c)
{
    int one = 1;
    c->fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket() failed (raise ulimit -n?)");
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&l->addr, l->addr_len) != 0 && errno != EINPROGRESS)
        die("connect() failed");
    c->state = CONNECTING;
    c->in_len = 0;
    watch(l, c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* Closes without TIME_WAIT (so a long run does not hold thousands of ports), and counts a lost answer. */
static void conn_close(load_t *l, conn_t *c, int reopen)
{
    struct linger hard = {1, 0};
    if (c->state == SENDING || c->state == WAITING) {
        l->errors++;
        l->in_flight--;
    }
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    close(c->fd);
    c->state = CLOSED;
    if (reopen)
        conn_open(l, c);
}

/* Builds the next request into c->out and starts sending it; closes c when no chain is left or time is up. */
static void conn_next(load_t *l, conn_t *c)
{
    const chains_t *ch = l->chains;
    if (l->issuing && l->next_chain == ch->count) {
        l->issuing = 0;
        l->window_end_ns = now_ns();
    }
    if (!l->issuing) {
        conn_close(l, c, 0);
        return;
    }
    const uint8_t *rec = ch->records + l->next_chain++ * ch->record;
    size_t der_len = (size_t)rec[0] << 8 | rec[1];
    char leaf[4096];
    if (TLOG_BASE64_LEN(der_len) >= sizeof(leaf))
        die("a leaf is too long");
    size_t leaf_len = tlog_base64_encode(rec + 2, der_len, leaf);
    static const char open[] = "{\"chain\":[\"", middle[] = "\",\"", close[] = "\"]}";
    size_t body_len = sizeof(open) - 1 + leaf_len + sizeof(middle) - 1 + ch->inter_b64_len + sizeof(close) - 1;
    int n = snprintf(c->out, 1024,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: faro-addchain-load\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     l->path, l->host, body_len, open);
    char *p = c->out + n;
    memcpy(p, leaf, leaf_len);
    p += leaf_len;
    memcpy(p, middle, sizeof(middle) - 1);
    p += sizeof(middle) - 1;
    memcpy(p, ch->inter_b64, ch->inter_b64_len);
    p += ch->inter_b64_len;
    memcpy(p, close, sizeof(close) - 1);
    c->out_len = (size_t)(p + sizeof(close) - 1 - c->out);
    c->out_sent = 0;
    c->state = SENDING;
    c->sent_ns = now_ns();
    l->sent++;
    l->in_flight++;
    watch(l, c, EPOLL_CTL_MOD, EPOLLOUT);
}

static void on_writable(load_t *l, conn_t *c)
{
    if (c->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            l->reconnects++;
            close(c->fd);
            conn_open(l, c);
            return;
        }
        c->state = IDLE;
        watch(l, c, EPOLL_CTL_MOD, 0);
        if (l->issuing)
            conn_next(l, c);
        return;
    }
    ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN)
            conn_close(l, c, l->issuing);
        return;
    }
    c->out_sent += (size_t)n;
    if (c->out_sent == c->out_len) {
        c->state = WAITING;
        c->in_len = 0;
        watch(l, c, EPOLL_CTL_MOD, EPOLLIN);
    }
}

/* The value of a header in a response head, or NULL. */
static const char *header_value(const char *head, size_t len, const char *name)
{
    size_t name_len = strlen(name);
    for (const char *p = memchr(head, '\n', len); p != NULL && p + 1 + name_len < head + len;
         p = memchr(p + 1, '\n', (size_t)(head + len - p - 1)))
        if (strncasecmp(p + 1, name, name_len) == 0 && p[1 + name_len] == ':')
            return p + 2 + name_len;
    return NULL;
}

/*
 * Where the response whose head ends at head_len ends: 1 with *end set, 0 if
 * more bytes are due, -1 if it has neither Content-Length nor chunked framing.
 */
static int response_end(const char *in, size_t len, size_t head_len, size_t *end)
{
    const char *cl = header_value(in, head_len, "content-length");
    if (cl != NULL) {
        *end = head_len + strtoul(cl, NULL, 10);
        return *end <= len;
    }
    const char *te = header_value(in, head_len, "transfer-encoding");
    if (te == NULL || strncasecmp(te + strspn(te, " "), "chunked", 7) != 0)
        return -1;
    for (size_t at = head_len;;) {
        const char *eol = memmem(in + at, len - at, "\r\n", 2);
        if (eol == NULL)
            return 0;
        size_t size = strtoul(in + at, NULL, 16), next = (size_t)(eol - in) + 2 + size + 2;
        if (next > len)
            return 0;
        if (size == 0) {
            *end = next;
            return 1;
        }
        at = next;
    }
}

static void record(load_t *l, int status, uint64_t sent_ns, uint64_t done_ns)
{
    l->status[status]++;
    if (status != 200)
        return;
    l->latencies_us[l->ok++] = (uint32_t)((done_ns - sent_ns) / 1000);
    size_t second = (size_t)((done_ns - l->start_ns) / 1000000000u);
    if (second < l->seconds)
        l->per_second[second]++;
}

static void on_readable(load_t *l, conn_t *c)
{
    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, 0);
    if (n <= 0) {
        if (n == 0 || errno != EAGAIN)
            conn_close(l, c, l->issuing);
        return;
    }
    c->in_len += (size_t)n;
    c->in[c->in_len] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (end == NULL) {
        if (c->in_len == sizeof(c->in) - 1)
            conn_close(l, c, l->issuing);
        return;
    }
    size_t head_len = (size_t)(end + 4 - c->in);
    int status = 0;
    size_t end_at;
    int complete = sscanf(c->in, "HTTP/1.%*d %d", &status) == 1 && status >= 100 && status < 600
                       ? response_end(c->in, c->in_len, head_len, &end_at)
                       : -1;
    if (complete < 0 || (complete == 0 && c->in_len == sizeof(c->in) - 1)) {
        conn_close(l, c, l->issuing);
        return;
    }
    if (complete == 0)
        return;
    uint64_t done = now_ns();
    if (status == 200 && memmem(c->in + head_len, end_at - head_len, "\"signature\":\"", 13) == NULL)
        l->bad_bodies++;
    record(l, status, c->sent_ns, done);
    l->in_flight--;
    const char *connection = header_value(c->in, head_len, "connection");
    c->state = IDLE;
    if (connection != NULL && strncasecmp(connection + strspn(connection, " "), "close", 5) == 0) {
        conn_close(l, c, 0);
        if (l->issuing)
            conn_open(l, c);
        return;
    }
    conn_next(l, c);
}

static void on_event(load_t *l, conn_t *c, uint32_t events)
{
    if (c->state == CLOSED)
        return;
    if (c->state == IDLE) /* the server closed an idle connection */
        conn_close(l, c, l->issuing || l->start_ns == 0);
    else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR) && c->state == WAITING)
        on_readable(l, c);
    else if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
        on_writable(l, c);
}

static void resolve(const char *hostport, load_t *l)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host))
        die("--connect wants HOST:PORT");
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        die("cannot resolve --connect");
    memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
    l->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
}

static int by_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static double percentile_ms(const uint32_t *sorted, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i] / 1000.0;
}

static void report(load_t *l, size_t concurrency, double window_s)
{
    printf("connections %zu\nduration_s %.2f\nsent %zu\nok %zu\n", concurrency, window_s, l->sent, l->ok);
    for (int s = 0; s < 600; s++)
        if (s != 200 && l->status[s] > 0)
            printf("status %d %zu\n", s, l->status[s]);
    printf("errors %zu\nbad_bodies %zu\nunanswered %zu\nreconnects %zu\n", l->errors, l->bad_bodies, l->in_flight, l->reconnects);
    size_t in_window = 0, whole = (size_t)window_s;
    for (size_t s = 0; s < l->seconds && s < whole; s++)
        in_window += l->per_second[s];
    /* The partial last second of the window, counted from the latencies' own timestamps would need them: take it pro rata. */
    if (whole < l->seconds)
        in_window += (size_t)((window_s - (double)whole) * (double)l->per_second[whole]);
    printf("throughput_per_s %.0f\n", window_s > 0 ? (double)in_window / window_s : 0);
    qsort(l->latencies_us, l->ok, sizeof(uint32_t), by_value);
    printf("latency_ms %.1f %.1f %.1f %.1f\n", percentile_ms(l->latencies_us, l->ok, 0.5),
           percentile_ms(l->latencies_us, l->ok, 0.9), percentile_ms(l->latencies_us, l->ok, 0.99),
           l->ok ? l->latencies_us[l->ok - 1] / 1000.0 : 0);
    printf("per_10s");
    for (size_t s = 0; s + 10 <= whole && s + 10 <= l->seconds; s += 10) {
        size_t sum = 0;
        for (size_t i = s; i < s + 10; i++)
            sum += l->per_second[i];
        printf(" %zu", sum / 10);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"chains", required_argument, NULL, 'f'},      {"connect", required_argument, NULL, 'c'},
        {"path", required_argument, NULL, 'p'},        {"host", required_argument, NULL, 'h'},
        {"concurrency", required_argument, NULL, 'n'}, {"duration", required_argument, NULL, 'd'},
        {"drain", required_argument, NULL, 'w'},       {NULL, 0, NULL, 0},
    };
    const char *file = NULL, *connect_to = NULL;
    size_t concurrency = 64;
    double duration = 60, drain = 30;
    load_t l = {.path = NULL};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'f':
            file = optarg;
            break;
        case 'c':
            connect_to = optarg;
            break;
        case 'p':
            l.path = optarg;
            break;
        case 'h':
            l.host = optarg;
            break;
        case 'n':
            concurrency = strtoul(optarg, NULL, 10);
            break;
        case 'd':
            duration = atof(optarg);
            break;
        case 'w':
            drain = atof(optarg);
            break;
        default:
            die("usage: addchain_load --chains FILE --connect HOST:PORT --path PATH [--host NAME] [--concurrency N] "
                "[--duration S] [--drain S]");
        }
    }
    if (file == NULL || connect_to == NULL || l.path == NULL || concurrency < 1 || duration <= 0 || drain < 0)
        die("--chains, --connect and --path are required; --concurrency and --duration must be positive");
    if (l.host == NULL)
        l.host = connect_to;

    chains_t chains;
    chains_map(file, &chains);
    l.chains = &chains;
    resolve(connect_to, &l);
    l.epoll = epoll_create1(EPOLL_CLOEXEC);
    l.latencies_us = malloc(chains.count * sizeof(uint32_t));
    l.seconds = (size_t)(duration + drain) + 2;
    l.per_second = calloc(l.seconds, sizeof(size_t));
    conn_t *conns = calloc(concurrency, sizeof(conn_t));
    if (l.epoll < 0 || l.latencies_us == NULL || l.per_second == NULL || conns == NULL)
        die("out of memory");
    size_t out_max = 1024 + TLOG_BASE64_LEN(chains.record) + chains.inter_b64_len + 16;
    for (size_t i = 0; i < concurrency; i++) {
        if ((conns[i].out = malloc(out_max)) == NULL)
            die("out of memory");
        conn_open(&l, &conns[i]);
    }

    struct epoll_event events[256];
    size_t connected = 0;
    uint64_t give_up = now_ns() + 60 * UINT64_C(1000000000);
    while (connected < concurrency) {
        if (now_ns() > give_up)
            die("could not open every connection within 60 s");
        int n = epoll_wait(l.epoll, events, 256, 100);
        for (int i = 0; i < n; i++)
            on_event(&l, events[i].data.ptr, events[i].events);
        connected = 0;
        for (size_t i = 0; i < concurrency; i++)
            connected += conns[i].state == IDLE;
    }

    fprintf(stderr, "addchain_load: %zu connections open, %zu chains; submitting for %.0f s\n", concurrency, chains.count,
            duration);
    l.issuing = 1;
    l.start_ns = now_ns();
    uint64_t stop = l.start_ns + (uint64_t)(duration * 1e9), last_progress = l.start_ns;
    size_t last_ok = 0;
    for (size_t i = 0; i < concurrency; i++)
        conn_next(&l, &conns[i]);
    for (;;) {
        uint64_t now = now_ns();
        if (l.issuing && now >= stop) {
            l.issuing = 0;
            l.window_end_ns = stop;
        }
        if (!l.issuing && (l.in_flight == 0 || now >= l.window_end_ns + (uint64_t)(drain * 1e9)))
            break;
        if (now - last_progress >= 10 * UINT64_C(1000000000)) {
            fprintf(stderr, "addchain_load: %4.0f s: %zu SCTs, %.0f/s over the last 10 s, %zu in flight\n",
                    (double)(now - l.start_ns) / 1e9, l.ok, (double)(l.ok - last_ok) * 1e9 / (double)(now - last_progress),
                    l.in_flight);
            last_progress = now;
            last_ok = l.ok;
        }
        int n = epoll_wait(l.epoll, events, 256, 50);
        for (int i = 0; i < n; i++)
            on_event(&l, events[i].data.ptr, events[i].events);
    }
    if (l.next_chain == chains.count)
        fprintf(stderr, "addchain_load: the chains ran out after %.1f s\n", (double)(l.window_end_ns - l.start_ns) / 1e9);
    report(&l, concurrency, (double)(l.window_end_ns - l.start_ns) / 1e9);
    for (size_t i = 0; i < concurrency; i++) {
        if (conns[i].state != CLOSED)
            conn_close(&l, &conns[i], 0);
        free(conns[i].out);
    }
    free(conns);
    free(l.latencies_us);
    free(l.per_second);
    free(chains.inter_b64);
    return 0;
}

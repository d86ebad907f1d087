/*
 * Listening sockets and event-loop threads for both daemons (see server.h).
 *
 * A thread polls its loop in 50 ms slices and checks two flags between
 * them: closing (drop its listeners) and stopping (leave the loop). That
 * bounds how long server_close_listeners and server_free take to be seen
 * without waking the loops from another thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server.h"
#include "tlog/error.h"

typedef struct thread_listener {
    server_thread_t *thread;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *sock;
    int fd;
} thread_listener_t;

typedef struct thread_state {
    server_thread_t super;
    pthread_t tid;
    thread_listener_t *listeners;
} thread_state_t;

struct server {
    h2o_globalconf_t *globalconf;
    server_listener_t *listeners;
    size_t nlisteners;
    thread_state_t *threads;
    unsigned nthreads;
    void (*on_thread_start)(server_thread_t *thread, void *data);
    void *data;
    atomic_int closing, stopping;
};

int server_listen(const char *address, const char *key, char *err)
{
    char host[256];
    const char *colon = strrchr(address, ':');
    if (colon == NULL || (size_t)(colon - address) >= sizeof(host))
        return tlog_errorf(err, "%s: %s is not host:port", key, address);
    const char *h = address;
    size_t hlen = (size_t)(colon - address);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE}, *res;
    int gai = getaddrinfo(host, colon + 1, &hints, &res);
    if (gai != 0)
        return tlog_errorf(err, "%s: %s: %s", key, address, gai_strerror(gai));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        tlog_errorf(err, "%s: %s: %s", key, address, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

void server_take_signals(sigset_t *signals, int reload)
{
    sigemptyset(signals);
    sigaddset(signals, SIGTERM);
    sigaddset(signals, SIGINT);
    if (reload)
        sigaddset(signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, signals, NULL);
    signal(SIGPIPE, SIG_IGN);
}

char *server_url_path(const char *url)
{
    const char *p = strstr(url, "://");
    p = p != NULL ? strchr(p + 3, '/') : NULL;
    char *path = strdup(p != NULL ? p : "");
    if (path == NULL)
        abort();
    return path;
}

static void on_socket_close(void *data)
{
    server_thread_t *thread = data;
    atomic_fetch_add_explicit(&thread->connections_closed, 1, memory_order_relaxed);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    thread_listener_t *l = listener->data;
    if (err != NULL)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock == NULL)
        return;
    atomic_fetch_add_explicit(&l->thread->connections_accepted, 1, memory_order_relaxed);
    sock->on_close.cb = on_socket_close;
    sock->on_close.data = l->thread;
    h2o_accept(&l->accept_ctx, sock);
}

static void close_listeners(thread_state_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (t->listeners[i].sock != NULL) {
            h2o_socket_read_stop(t->listeners[i].sock);
            h2o_socket_close(t->listeners[i].sock); /* closes the dup'd fd */
            t->listeners[i].sock = NULL;
        }
    }
}

static void *thread_main(void *arg)
{
    thread_state_t *t = arg;
    server_t *server = t->super.server;

    t->super.loop = h2o_evloop_create();
    h2o_context_init(&t->super.ctx, t->super.loop, server->globalconf);
    if (server->on_thread_start != NULL)
        server->on_thread_start(&t->super, server->data);
    for (size_t i = 0; i < server->nlisteners; i++) {
        thread_listener_t *l = &t->listeners[i];
        l->accept_ctx.ctx = &t->super.ctx;
        l->accept_ctx.hosts = server->listeners[i].hosts;
        l->accept_ctx.ssl_ctx = server->listeners[i].ssl_ctx;
        l->sock = h2o_evloop_socket_create(t->super.loop, l->fd, H2O_SOCKET_FLAG_DONT_READ);
        l->sock->data = l;
        h2o_socket_read_start(l->sock, on_accept);
    }
    while (!atomic_load(&server->stopping)) {
        if (atomic_load(&server->closing))
            close_listeners(t, server->nlisteners);
        h2o_evloop_run(t->super.loop, 50);
    }
    close_listeners(t, server->nlisteners);
    return NULL;
}

server_t *server_new(h2o_globalconf_t *globalconf, const server_listener_t *listeners, size_t nlisteners, unsigned threads)
{
    server_t *server = calloc(1, sizeof(*server));
    if (server == NULL || (server->listeners = calloc(nlisteners, sizeof(*listeners))) == NULL ||
        (server->threads = calloc(threads, sizeof(*server->threads))) == NULL)
        abort();
    memcpy(server->listeners, listeners, nlisteners * sizeof(*listeners));
    server->nlisteners = nlisteners;
    server->globalconf = globalconf;
    server->nthreads = threads;
    for (unsigned i = 0; i < threads; i++) {
        thread_state_t *t = &server->threads[i];
        t->super.server = server;
        t->super.index = i;
        if ((t->listeners = calloc(nlisteners, sizeof(*t->listeners))) == NULL)
            abort();
        for (size_t j = 0; j < nlisteners; j++) {
            t->listeners[j].thread = &t->super;
            if ((t->listeners[j].fd = dup(listeners[j].fd)) < 0)
                abort();
        }
    }
    return server;
}

void server_run(server_t *server, void (*on_thread_start)(server_thread_t *thread, void *data), void *data)
{
    server->on_thread_start = on_thread_start;
    server->data = data;
    for (unsigned i = 0; i < server->nthreads; i++)
        pthread_create(&server->threads[i].tid, NULL, thread_main, &server->threads[i]);
}

unsigned server_threads(const server_t *server)
{
    return server->nthreads;
}

server_thread_t *server_thread(server_t *server, unsigned index)
{
    return &server->threads[index].super;
}

void server_close_listeners(server_t *server)
{
    atomic_store(&server->closing, 1);
}

void server_free(server_t *server)
{
    if (server == NULL)
        return;
    atomic_store(&server->stopping, 1);
    for (unsigned i = 0; i < server->nthreads; i++) {
        pthread_join(server->threads[i].tid, NULL);
        free(server->threads[i].listeners);
    }
    for (size_t j = 0; j < server->nlisteners; j++)
        close(server->listeners[j].fd);
    free(server->threads);
    free(server->listeners);
    free(server);
}

/*
 * The HTTP plumbing faro-writer and faro-gateway share: listening sockets
 * made from configured addresses, and a set of threads that each run their
 * own libh2o event loop and accept connections from every listener.
 *
 * Every thread holds a dup of each listening socket, so the kernel spreads
 * new connections over the loops and a slow loop never holds back the
 * others. The server counts connections per thread (accepted, still open)
 * without shared writes on the request path.
 */
#ifndef FARO_SERVER_H
#define FARO_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

/* Binds and listens on "host:port" ("[v6]:port" too), non-blocking; the fd, or -1 with err naming key. */
int server_listen(const char *address, const char *key, char *err);
/* The path part of a prefix URL, malloc'd: "http://host:port/a/b" -> "/a/b", "http://host" -> "". */
char *server_url_path(const char *url);

/*
 * Blocks SIGTERM and SIGINT (and SIGHUP with reload) in the calling thread,
 * so every thread started afterwards inherits the mask and the caller takes
 * them with sigwait on *signals; ignores SIGPIPE (a client that hangs up is
 * an error return, not a death). Call before starting any thread.
 */
void server_take_signals(sigset_t *signals, int reload);

typedef struct server_listener {
    int fd;                 /* from server_listen; the server closes it */
    h2o_hostconf_t **hosts; /* NULL-terminated hosts of the globalconf that serve it */
    SSL_CTX *ssl_ctx;       /* NULL for plain HTTP */
} server_listener_t;

typedef struct server server_t;

typedef struct server_thread {
    server_t *server;
    unsigned index; /* 0 .. threads - 1 */
    h2o_evloop_t *loop;
    h2o_context_t ctx; /* a handler finds its thread with H2O_STRUCT_FROM_MEMBER(server_thread_t, ctx, req->conn->ctx) */
    _Atomic uint64_t connections_accepted, connections_closed;
} server_thread_t;

/*
 * Makes a server for listeners (the array is copied) with globalconf, which
 * must outlive it; nothing is served until server_run. Keep the pointer
 * before that: handlers on the new threads may use it at once.
 */
server_t *server_new(h2o_globalconf_t *globalconf, const server_listener_t *listeners, size_t nlisteners, unsigned threads);
/* Starts the threads; on_thread_start, if not NULL, runs on each before its loop does (to register message receivers). */
void server_run(server_t *server, void (*on_thread_start)(server_thread_t *thread, void *data), void *data);
unsigned server_threads(const server_t *server);
server_thread_t *server_thread(server_t *server, unsigned index);
/* Stops accepting new connections; requests in progress go on. */
void server_close_listeners(server_t *server);
/* Stops every loop, joins the threads and frees the server; NULL is a no-op. */
void server_free(server_t *server);

#endif

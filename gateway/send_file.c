/*
 * Sending an open file as a response body (send_file.h).
 *
 * h2o 2.2 has no file body of its own: its HTTP/1 connection writes the
 * headers, then asks the generator for more (proceed). The generator then
 * writes the body to the socket itself with sendfile, which h2o allows
 * because nothing of its own is pending on the socket at that point. When
 * the socket is full, h2o_socket_notify_write waits for room; its callback
 * receives the socket with sock->data, which is h2o's connection, so the
 * sender borrows that field while it waits and gives it back first thing.
 * h2o stops reading a connection while its response is being sent, so no
 * other callback sees the field meanwhile.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include "gateway/files.h"
#include "gateway/internal.h"
#include "gateway/send_file.h"

typedef struct file_sender {
    h2o_generator_t super;
    h2o_req_t *req;
    h2o_socket_t *sock;
    void *borrowed; /* sock->data while the sender waits for room, else NULL */
    int fd;
    off_t offset;
    size_t len;
} file_sender_t;

static void send_rest(file_sender_t *s);

/*
 * Corked, the socket holds the headers h2o writes until the body follows,
 * so they leave in the body's first segment: one wake-up of the client
 * instead of two, as nginx's tcp_nopush does. Uncorking sends what is left.
 */
static void set_cork(int sock_fd, int on)
{
    setsockopt(sock_fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

static void give_back(file_sender_t *s)
{
    if (s->borrowed != NULL) {
        s->sock->data = s->borrowed;
        s->borrowed = NULL;
    }
}

static void on_writable(h2o_socket_t *sock, const char *err)
{
    file_sender_t *s = sock->data;
    give_back(s);
    if (err != NULL) {
        h2o_send(s->req, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    send_rest(s);
}

static void send_rest(file_sender_t *s)
{
    int sock_fd = h2o_socket_get_fd(s->sock);
    while ((size_t)s->offset < s->len) {
        ssize_t n = sendfile(sock_fd, s->fd, &s->offset, s->len - (size_t)s->offset);
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        if (n < 0 && errno == EAGAIN) {
            s->borrowed = s->sock->data;
            s->sock->data = s;
            h2o_socket_notify_write(s->sock, on_writable);
            return;
        }
        /* The client went away, or the file ended early (n == 0): the headers are out, so the connection closes. */
        h2o_send(s->req, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    set_cork(sock_fd, 0);
    s->req->bytes_sent += s->len; /* h2o counts only what passes through it */
    h2o_send(s->req, NULL, 0, H2O_SEND_STATE_FINAL);
}

static void on_proceed(h2o_generator_t *generator, h2o_req_t *req)
{
    (void)req;
    send_rest((file_sender_t *)generator);
}

static void on_stop(h2o_generator_t *generator, h2o_req_t *req)
{
    (void)req;
    give_back((file_sender_t *)generator);
}

int gateway_respond_file(h2o_req_t *req, int status, const char *reason, const char *content_type, const char *cache_control,
                         int fd, size_t len)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket != NULL ? req->conn->callbacks->get_socket(req->conn) : NULL;
    if (gateway_request_is_head(req)) {
        gateway_respond(req, status, reason, content_type, cache_control, NULL, len);
        return 0;
    }
    if (req->version >= 0x200 || sock == NULL || sock->ssl != NULL) {
        char *body = h2o_mem_alloc_pool(&req->pool, len ? len : 1);
        if (gateway_files_read(fd, body, len) != 0)
            return -1;
        gateway_respond(req, status, reason, content_type, cache_control, body, len);
        return 0;
    }
    file_sender_t *s = h2o_mem_alloc_pool(&req->pool, sizeof(*s));
    *s = (file_sender_t){{on_proceed, on_stop}, req, sock, NULL, fd, 0, len};
    set_cork(h2o_socket_get_fd(sock), 1);
    gateway_respond_start(req, status, reason, content_type, cache_control, len, &s->super);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_IN_PROGRESS); /* the headers; h2o then calls on_proceed */
    return 0;
}

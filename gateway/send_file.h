/*
 * Responses whose body is an open file: the data tiles the file cache keeps
 * open. Over plain HTTP/1.1 the body goes from the page cache to the socket
 * with sendfile once h2o has written the headers, so its bytes never pass
 * through the gateway; over TLS or HTTP/2, where h2o must encrypt or frame
 * them, the file is read into the request's pool and sent from there.
 */
#ifndef FARO_GATEWAY_SEND_FILE_H
#define FARO_GATEWAY_SEND_FILE_H

#include <stddef.h>

#include <h2o.h>

/*
 * Answers req with the len bytes of fd (from offset 0), which must stay open
 * as long as req's pool. 0 once the response has started; -1 with errno if
 * the file could not be read before anything was sent (the caller answers).
 * A file found shorter than len after the headers went out closes the
 * connection, the only way left to tell the client its body is incomplete.
 */
int gateway_respond_file(h2o_req_t *req, int status, const char *reason, const char *content_type, const char *cache_control,
                         int fd, size_t len);

#endif

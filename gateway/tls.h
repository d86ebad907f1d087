/*
 * The gateway's TLS identity: the certificate chain of gateway.tls_cert and
 * the key of gateway.tls_key, served by an SSL_CTX whose certificate
 * callback hands every new handshake the identity loaded last. Reloading
 * (on SIGHUP, after an ACME client renewed the files) swaps it for the next
 * handshakes; connections already open keep theirs. A reload that fails
 * keeps the current identity.
 */
#ifndef FARO_GATEWAY_TLS_H
#define FARO_GATEWAY_TLS_H

#include <openssl/ssl.h>

typedef struct gateway_tls gateway_tls_t;

/* Loads both files; NULL with err naming the setting at fault. */
gateway_tls_t *gateway_tls_new(const char *cert_path, const char *key_path, char *err);
void gateway_tls_free(gateway_tls_t *tls);
/* The context to accept with (TLS 1.2 and later, ALPN h2 and http/1.1); it lives as long as tls. */
SSL_CTX *gateway_tls_context(gateway_tls_t *tls);
/* Reads both files again; 0 with a description of the new certificate in about, or -1 with err. */
int gateway_tls_reload(gateway_tls_t *tls, char *about, size_t about_size, char *err);

#endif

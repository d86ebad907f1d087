/*
 * Who is asking: the client class of a request's User-Agent (as Skylight
 * decides it, spec/skylight.md A.2), the network prefix of its address
 * (IPv4 /24, IPv6 /64) and the per-client identity used by the per-client
 * rate limit (User-Agent + prefix). Pure functions of their arguments: no
 * state, no allocation, safe from any thread.
 *
 * A User-Agent is bytes, not a C string: it may be absent (NULL, 0), empty,
 * hold NUL bytes or be of any length. Addresses are struct sockaddr of family
 * AF_INET or AF_INET6 (an IPv4-mapped IPv6 address counts as IPv4); any other
 * family (or NULL) is "unknown" and all such clients share one prefix.
 */
#ifndef GATEWAY_CLIENT_H
#define GATEWAY_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gateway/gcra.h"

typedef enum client_class {
    CLIENT_ANONYMOUS,   /* no contact: shares the one anonymous rate limit */
    CLIENT_WITH_EMAIL,  /* contains "@" */
    CLIENT_WITH_URL,    /* contains "https://" */
    CLIENT_WITH_GITHUB, /* contains "github.com/" */
} client_class_t;

/*
 * The first rule that matches, in this order: contains "example.com" →
 * anonymous (placeholder addresses do not count), "@" → with-email,
 * "https://" → with-url, "github.com/" → with-github, else anonymous.
 * Case-sensitive byte search over all len bytes, as Skylight's.
 */
client_class_t client_classify(const char *ua, size_t len);
/* "anonymous", "with-email", "with-url", "with-github": the metrics label. */
const char *client_class_name(client_class_t class);

/* Room for any address in text (INET6_ADDRSTRLEN bytes, NUL included) and "/64". */
#define CLIENT_PREFIX_MAX 49

/* The client's network as text: "192.0.2.0/24", "2001:db8::/64", or "unknown". */
void client_prefix(const struct sockaddr *addr, char out[CLIENT_PREFIX_MAX]);

/*
 * The per-client rate-limit identity: a 128-bit BLAKE2b digest of the prefix
 * and the whole User-Agent, so two clients share a key only if both match
 * (or by a collision nobody can aim at).
 */
void client_key(const char *ua, size_t ua_len, const struct sockaddr *addr, uint8_t out[GCRA_KEY_BYTES]);

#endif

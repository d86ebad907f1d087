/*
 * Client classification, network prefixes and per-client keys (client.h).
 * The prefix is computed once into a small struct (family, masked network
 * bytes) that both the text form and the key are made from, so the two can
 * never disagree about which clients share a network.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "gateway/client.h"

static int contains(const char *haystack, size_t len, const char *needle)
{
    return haystack != NULL && memmem(haystack, len, needle, strlen(needle)) != NULL;
}

client_class_t client_classify(const char *ua, size_t len)
{
    if (contains(ua, len, "example.com"))
        return CLIENT_ANONYMOUS;
    if (contains(ua, len, "@"))
        return CLIENT_WITH_EMAIL;
    if (contains(ua, len, "https://"))
        return CLIENT_WITH_URL;
    if (contains(ua, len, "github.com/"))
        return CLIENT_WITH_GITHUB;
    return CLIENT_ANONYMOUS;
}

const char *client_class_name(client_class_t class)
{
    switch (class) {
    case CLIENT_WITH_EMAIL:
        return "with-email";
    case CLIENT_WITH_URL:
        return "with-url";
    case CLIENT_WITH_GITHUB:
        return "with-github";
    case CLIENT_ANONYMOUS:
        break;
    }
    return "anonymous";
}

/* A client's network: family AF_INET (3 bytes, /24), AF_INET6 (8 bytes, /64) or AF_UNSPEC (unknown, no bytes). */
typedef struct network {
    uint8_t family;
    uint8_t bytes[8];
} network_t;

static void network_of(const struct sockaddr *addr, network_t *out)
{
    static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    memset(out, 0, sizeof(*out));
    out->family = AF_UNSPEC;
    if (addr == NULL)
        return;
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        out->family = AF_INET;
        memcpy(out->bytes, &in->sin_addr.s_addr, 3);
    } else if (addr->sa_family == AF_INET6) {
        const uint8_t *a = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
        if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0) {
            out->family = AF_INET;
            memcpy(out->bytes, a + 12, 3);
        } else {
            out->family = AF_INET6;
            memcpy(out->bytes, a, 8);
        }
    }
}

/* "a.b.c.0/24" by hand: this runs on every request, where inet_ntop and snprintf cost more than all the other accounting. */
static void ipv4_prefix(const uint8_t bytes[3], char out[CLIENT_PREFIX_MAX])
{
    char *p = out;
    for (int i = 0; i < 3; i++) {
        if (bytes[i] >= 100)
            *p++ = (char)('0' + bytes[i] / 100);
        if (bytes[i] >= 10)
            *p++ = (char)('0' + bytes[i] / 10 % 10);
        *p++ = (char)('0' + bytes[i] % 10);
        *p++ = '.';
    }
    memcpy(p, "0/24", sizeof("0/24"));
}

void client_prefix(const struct sockaddr *addr, char out[CLIENT_PREFIX_MAX])
{
    network_t net;
    uint8_t full[16] = {0};
    char text[INET6_ADDRSTRLEN];

    network_of(addr, &net);
    if (net.family == AF_INET) {
        ipv4_prefix(net.bytes, out);
        return;
    }
    memcpy(full, net.bytes, sizeof(net.bytes));
    if (net.family == AF_UNSPEC || inet_ntop(net.family, full, text, sizeof(text)) == NULL) {
        snprintf(out, CLIENT_PREFIX_MAX, "unknown");
        return;
    }
    snprintf(out, CLIENT_PREFIX_MAX, "%s/64", text);
}

void client_key(const char *ua, size_t ua_len, const struct sockaddr *addr, uint8_t out[GCRA_KEY_BYTES])
{
    crypto_generichash_state state;
    network_t net;

    network_of(addr, &net);
    /* The network has a fixed size (and no padding), so no two (network, UA) pairs hash the same input. */
    crypto_generichash_init(&state, NULL, 0, GCRA_KEY_BYTES);
    crypto_generichash_update(&state, (const uint8_t *)&net, sizeof(net));
    if (ua_len > 0)
        crypto_generichash_update(&state, (const uint8_t *)ua, ua_len);
    crypto_generichash_final(&state, out, GCRA_KEY_BYTES);
}

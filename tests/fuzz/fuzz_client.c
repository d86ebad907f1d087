/*
 * Client classification, prefixes, keys, the per-client limit and heavy-hitter
 * reports on arbitrary bytes. Input: byte 0 picks the address (0 IPv4, 1 IPv6,
 * 2 AF_UNIX, 3 none), bytes 1..16 are its address bytes, the rest is the
 * User-Agent. Checks: a prefix is "unknown" or a valid network with its host
 * bits clear, and clients on one network share prefix and key; reports are
 * valid JSON, and HTML whose only markup is the table's own.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <jansson.h>

#include "gateway/client.h"
#include "gateway/gcra.h"
#include "gateway/heavy_hitters.h"

#define ADDRESS_BYTES 16

/* Fills ss from the input's address bytes; host (0 or 1) sets the bits outside the network to 0 or to 1. */
static const struct sockaddr *make_address(uint8_t kind, const uint8_t bytes[ADDRESS_BYTES], int host, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    switch (kind % 4) {
    case 0: {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, bytes, 4);
        ((uint8_t *)&in->sin_addr)[3] = host ? 0xff : 0;
        break;
    }
    case 1: {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, bytes, 16);
        /* An IPv4-mapped address is IPv4: its host is byte 15. */
        if (memcmp(bytes, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
            in6->sin6_addr.s6_addr[15] = host ? 0xff : 0;
        else
            memset(in6->sin6_addr.s6_addr + 8, host ? 0xff : 0, 8);
        break;
    }
    case 2:
        ((struct sockaddr_un *)ss)->sun_family = AF_UNIX;
        memcpy(((struct sockaddr_un *)ss)->sun_path, bytes, ADDRESS_BYTES);
        break;
    default:
        return NULL;
    }
    return (const struct sockaddr *)ss;
}

static void check_prefix(const char *prefix)
{
    char text[CLIENT_PREFIX_MAX];
    uint8_t bytes[16];
    if (strcmp(prefix, "unknown") == 0)
        return;
    strcpy(text, prefix);
    char *slash = strchr(text, '/');
    if (slash == NULL)
        abort();
    *slash = '\0';
    if (strcmp(slash + 1, "24") == 0) {
        if (inet_pton(AF_INET, text, bytes) != 1 || bytes[3] != 0)
            abort();
    } else if (strcmp(slash + 1, "64") != 0 || inet_pton(AF_INET6, text, bytes) != 1 ||
               memcmp(bytes + 8, "\0\0\0\0\0\0\0\0", 8) != 0) {
        abort();
    }
}

/* How many "<" the HTML has; aborts on a ">" count that differs, or any byte but printable ASCII and newline. */
static size_t count_tags(const char *html)
{
    size_t opening = 0, closing = 0;
    for (const char *p = html; *p; p++) {
        if ((*p < 0x20 || *p >= 0x7f) && *p != '\n')
            abort();
        opening += *p == '<';
        closing += *p == '>';
    }
    if (opening != closing)
        abort();
    return opening;
}

static void check_reports(heavy_hitters_t *hh)
{
    json_t *report = heavy_hitters_json(hh, 10);
    char *text = json_dumps(report, 0);
    json_t *again = json_loads(text, 0, NULL);
    if (text == NULL || again == NULL || !json_equal(report, again))
        abort();
    size_t rows = json_array_size(json_object_get(report, "entries"));
    free(text);
    json_decref(again);
    json_decref(report);

    /* 20 tags around the rows, 12 in each: any other "<" came from a value. */
    char *html = heavy_hitters_html(hh, 10, "fuzz");
    if (count_tags(html) != 20 + 12 * rows)
        abort();
    free(html);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gcra_table_t *per_client;
    uint8_t address[ADDRESS_BYTES] = {0}, key[GCRA_KEY_BYTES], other_key[GCRA_KEY_BYTES];
    char prefix[CLIENT_PREFIX_MAX], other_prefix[CLIENT_PREFIX_MAX];
    struct sockaddr_storage ss, other_ss;

    if (per_client == NULL)
        per_client = gcra_table_new(100, 2, 64);
    if (size == 0)
        return 0;
    memcpy(address, data + 1, size - 1 < ADDRESS_BYTES ? size - 1 : ADDRESS_BYTES);
    size_t ua_len = size - 1 > ADDRESS_BYTES ? size - 1 - ADDRESS_BYTES : 0;
    /* A copy of exactly ua_len bytes, so ASan catches any read past the User-Agent. */
    char *ua = malloc(ua_len ? ua_len : 1);
    if (ua_len > 0)
        memcpy(ua, data + 1 + ADDRESS_BYTES, ua_len);

    client_class_t class = client_classify(ua_len ? ua : NULL, ua_len);
    if (class > CLIENT_WITH_GITHUB || client_class_name(class) == NULL)
        abort();

    const struct sockaddr *addr = make_address(data[0], address, 0, &ss);
    const struct sockaddr *other = make_address(data[0], address, 1, &other_ss);
    client_prefix(addr, prefix);
    client_prefix(other, other_prefix);
    check_prefix(prefix);
    client_key(ua, ua_len, addr, key);
    client_key(ua, ua_len, other, other_key);
    if (strcmp(prefix, other_prefix) != 0 || memcmp(key, other_key, sizeof(key)) != 0)
        abort();
    gcra_table_admit(per_client, key, 1000000000 + size);

    /* Two counters per thread: the UA, its halves and a regular force takeovers; the UA is also an attribute. */
    heavy_hitters_t *hh = heavy_hitters_new(2, 2);
    heavy_hitters_add(hh, 0, ua, ua_len, prefix, strlen(prefix), 1);
    heavy_hitters_add(hh, 1, ua, ua_len / 2, prefix, strlen(prefix), 2);
    heavy_hitters_add(hh, 1, "regular", 7, ua, ua_len, 3);
    heavy_hitters_add(hh, 1, ua + ua_len / 2, ua_len - ua_len / 2, prefix, strlen(prefix), 4);
    heavy_hitters_add(hh, 0, ua, ua_len, NULL, 0, 5);
    heavy_hitters_add(hh, data[0] & 1, prefix, strlen(prefix), ua, ua_len, 6);
    check_reports(hh);
    heavy_hitters_free(hh);
    free(ua);
    return 0;
}

/* Client classes in Skylight's order, network prefixes (IPv4 /24, IPv6 /64, mapped IPv4) and per-client keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cmocka.h>

#include "gateway/client.h"

typedef struct {
    const char *ua;
    size_t len; /* bytes of ua, NULs included */
    client_class_t want;
} class_case_t;

#define UA(s) s, sizeof(s) - 1

static void test_gateway_client_classify_table(void **state)
{
    static const class_case_t cases[] = {
        {NULL, 0, CLIENT_ANONYMOUS},
        {UA(""), CLIENT_ANONYMOUS},
        {UA("curl/8.5.0"), CLIENT_ANONYMOUS},
        {UA("mailto:"), CLIENT_ANONYMOUS},
        {UA("monitor (mailto:ops@ct.invalid)"), CLIENT_WITH_EMAIL},
        {UA("@"), CLIENT_WITH_EMAIL},
        {UA("you@example.com"), CLIENT_ANONYMOUS},
        {UA("monitor (+https://example.com/about)"), CLIENT_ANONYMOUS},
        {UA("ops@ct.invalid; see example.com"), CLIENT_ANONYMOUS},
        {UA("monitor/1.0 (+https://monitor.invalid/about)"), CLIENT_WITH_URL},
        {UA("monitor/1.0 (+http://monitor.invalid/about)"), CLIENT_ANONYMOUS},
        {UA("monitor (HTTPS://MONITOR.INVALID)"), CLIENT_ANONYMOUS},
        {UA("monitor (github.com/someone/monitor)"), CLIENT_WITH_GITHUB},
        {UA("monitor (github.com)"), CLIENT_ANONYMOUS},
        {UA("monitor (https://github.com/someone/monitor)"), CLIENT_WITH_URL},
        {UA("a@b.invalid https://c.invalid github.com/d"), CLIENT_WITH_EMAIL},
        {UA("Example.COM ops@ct.invalid"), CLIENT_WITH_EMAIL},
        {UA("\0ops@ct.invalid"), CLIENT_WITH_EMAIL},
        {UA("ops\0@\0"), CLIENT_WITH_EMAIL},
        {UA("example\0.com ops@ct.invalid"), CLIENT_WITH_EMAIL},
        {UA("ops@ct.invalid\0example.com"), CLIENT_ANONYMOUS},
        {"ops@ct.invalid", 3, CLIENT_ANONYMOUS}, /* only "ops" is the header's value */
        {"https://x.invalid", 8, CLIENT_WITH_URL},
        {"https://x.invalid", 7, CLIENT_ANONYMOUS},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        client_class_t got = client_classify(cases[i].ua, cases[i].len);
        if (got != cases[i].want)
            fail_msg("case %zu: got %s, want %s", i, client_class_name(got), client_class_name(cases[i].want));
    }
}

/* A 4 MiB User-Agent is searched to its end, in both directions of the precedence. */
static void test_gateway_client_classify_huge(void **state)
{
    size_t len = 4 << 20;
    char *ua = malloc(len);
    (void)state;
    assert_non_null(ua);
    memset(ua, 'a', len);
    assert_int_equal(client_classify(ua, len), CLIENT_ANONYMOUS);
    ua[len - 1] = '@';
    assert_int_equal(client_classify(ua, len), CLIENT_WITH_EMAIL);
    assert_int_equal(client_classify(ua, len - 1), CLIENT_ANONYMOUS);
    memcpy(ua + len - 12, "example.com", 11);
    ua[0] = '@';
    assert_int_equal(client_classify(ua, len), CLIENT_ANONYMOUS);
    memcpy(ua + len - 12, "github.com/", 11);
    ua[0] = 'a';
    ua[len - 1] = 'a';
    assert_int_equal(client_classify(ua, len), CLIENT_WITH_GITHUB);
    free(ua);
}

static void test_gateway_client_class_names(void **state)
{
    (void)state;
    assert_string_equal(client_class_name(CLIENT_ANONYMOUS), "anonymous");
    assert_string_equal(client_class_name(CLIENT_WITH_EMAIL), "with-email");
    assert_string_equal(client_class_name(CLIENT_WITH_URL), "with-url");
    assert_string_equal(client_class_name(CLIENT_WITH_GITHUB), "with-github");
}

static struct sockaddr_storage address(const char *text, uint16_t port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
    } else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
    } else {
        fail_msg("not an address: %s", text);
    }
    return ss;
}

static void assert_prefix(const char *addr, const char *want)
{
    struct sockaddr_storage ss = address(addr, 443);
    char out[CLIENT_PREFIX_MAX];
    client_prefix((struct sockaddr *)&ss, out);
    if (strcmp(out, want) != 0)
        fail_msg("%s: got %s, want %s", addr, out, want);
}

static void test_gateway_client_prefix(void **state)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/run/faro.sock"};
    char out[CLIENT_PREFIX_MAX];
    (void)state;
    assert_prefix("192.0.2.77", "192.0.2.0/24");
    assert_prefix("192.0.2.0", "192.0.2.0/24");
    assert_prefix("255.255.255.255", "255.255.255.0/24");
    assert_prefix("0.0.0.0", "0.0.0.0/24");
    assert_prefix("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64");
    assert_prefix("2001:db8::1", "2001:db8::/64");
    assert_prefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff::/64");
    assert_prefix("::1", "::/64");
    assert_prefix("::ffff:192.0.2.77", "192.0.2.0/24");
    assert_prefix("::ffff:0:192.0.2.77", "::/64"); /* SIIT-translated, not IPv4-mapped */
    client_prefix((struct sockaddr *)&un, out);
    assert_string_equal(out, "unknown");
    client_prefix(NULL, out);
    assert_string_equal(out, "unknown");
}

static void key_of(const char *ua, size_t len, const char *addr, uint8_t out[GCRA_KEY_BYTES])
{
    struct sockaddr_storage ss = address(addr, 1000 + (uint16_t)strlen(addr));
    client_key(ua, len, (struct sockaddr *)&ss, out);
}

/* Keys are equal exactly when the UA bytes and the network are. */
static void test_gateway_client_key(void **state)
{
    uint8_t a[GCRA_KEY_BYTES], b[GCRA_KEY_BYTES];
    (void)state;

    key_of(UA("mon ops@ct.invalid"), "192.0.2.1", a);
    key_of(UA("mon ops@ct.invalid"), "192.0.2.254", b);
    assert_memory_equal(a, b, GCRA_KEY_BYTES);
    key_of(UA("mon ops@ct.invalid"), "::ffff:192.0.2.9", b);
    assert_memory_equal(a, b, GCRA_KEY_BYTES);
    key_of(UA("mon ops@ct.invalid"), "192.0.3.1", b);
    assert_memory_not_equal(a, b, GCRA_KEY_BYTES);
    key_of(UA("mon ops@ct.invalid "), "192.0.2.1", b);
    assert_memory_not_equal(a, b, GCRA_KEY_BYTES);
    key_of(UA("mon ops@ct.invalid\0"), "192.0.2.1", b);
    assert_memory_not_equal(a, b, GCRA_KEY_BYTES);

    key_of(UA("mon"), "2001:db8:1:2::1", a);
    key_of(UA("mon"), "2001:db8:1:2:ffff:ffff:ffff:ffff", b);
    assert_memory_equal(a, b, GCRA_KEY_BYTES);
    key_of(UA("mon"), "2001:db8:1:3::1", b);
    assert_memory_not_equal(a, b, GCRA_KEY_BYTES);
    /* An IPv4 network and the IPv6 network that starts with the same bytes are different networks. */
    key_of(UA("mon"), "192.0.2.1", a);
    key_of(UA("mon"), "c000:200::", b);
    assert_memory_not_equal(a, b, GCRA_KEY_BYTES);

    /* An absent UA is the empty UA; unknown families share one network. */
    key_of(NULL, 0, "192.0.2.1", a);
    key_of(UA(""), "192.0.2.1", b);
    assert_memory_equal(a, b, GCRA_KEY_BYTES);
    struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/run/a"};
    client_key(UA("mon"), (struct sockaddr *)&un, a);
    client_key(UA("mon"), NULL, b);
    assert_memory_equal(a, b, GCRA_KEY_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gateway_client_classify_table),
        cmocka_unit_test(test_gateway_client_classify_huge),
        cmocka_unit_test(test_gateway_client_class_names),
        cmocka_unit_test(test_gateway_client_prefix),
        cmocka_unit_test(test_gateway_client_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

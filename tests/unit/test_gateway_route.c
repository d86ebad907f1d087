/* gateway/route.c: which resource a path under a monitoring prefix names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/route.h"
#include "tests/unit/vectors.h"

static gateway_kind_t kind_of(const char *path)
{
    return gateway_route(path, strlen(path)).kind;
}

/* Every tile path of the shared vectors, under the prefix. */
static gateway_kind_t kind_of_tile(const char *tile_path)
{
    char path[128];
    snprintf(path, sizeof(path), "/%s", tile_path);
    return kind_of(path);
}

static void test_gateway_route_names_each_kind(void **state)
{
    (void)state;
    assert_int_equal(kind_of(""), GATEWAY_KIND_PAGE);
    assert_int_equal(kind_of("/"), GATEWAY_KIND_PAGE);
    assert_int_equal(kind_of("/checkpoint"), GATEWAY_KIND_CHECKPOINT);
    assert_int_equal(kind_of("/log.v3.json"), GATEWAY_KIND_LOG_JSON);
    assert_int_equal(kind_of("/tile/0/000"), GATEWAY_KIND_HASH_TILE);
    assert_int_equal(kind_of("/tile/5/x001/234"), GATEWAY_KIND_HASH_TILE);
    assert_int_equal(kind_of("/tile/data/000"), GATEWAY_KIND_DATA_TILE);
    assert_int_equal(kind_of("/tile/1/000.p/2"), GATEWAY_KIND_PARTIAL_TILE);
    assert_int_equal(kind_of("/tile/data/002.p/255"), GATEWAY_KIND_PARTIAL_TILE);
    assert_int_equal(kind_of("/issuer/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), GATEWAY_KIND_ISSUER);

    assert_int_equal(kind_of("/ct/v1/get-sth"), GATEWAY_KIND_CT_GET_STH);
    assert_int_equal(kind_of("/ct/v1/get-sth-consistency"), GATEWAY_KIND_CT_GET_STH_CONSISTENCY);
    assert_int_equal(kind_of("/ct/v1/get-proof-by-hash"), GATEWAY_KIND_CT_GET_PROOF_BY_HASH);
    assert_int_equal(kind_of("/ct/v1/get-entries"), GATEWAY_KIND_CT_GET_ENTRIES);
    assert_int_equal(kind_of("/ct/v1/get-entry-and-proof"), GATEWAY_KIND_CT_GET_ENTRY_AND_PROOF);
    assert_int_equal(kind_of("/ct/v1/get-roots"), GATEWAY_KIND_CT_GET_ROOTS);
    for (int k = 0; k < GATEWAY_KIND_COUNT; k++)
        assert_int_equal(gateway_kind_is_ct((gateway_kind_t)k), k >= GATEWAY_KIND_CT_GET_STH && k <= GATEWAY_KIND_CT_GET_ROOTS);

    gateway_route_t r = gateway_route("/tile/data/x001/002.p/7", strlen("/tile/data/x001/002.p/7"));
    assert_int_equal(r.tile.level, TLOG_TILE_DATA);
    assert_int_equal(r.tile.index, 1002);
    assert_int_equal(r.tile.width, 7);
}

static void test_gateway_route_vectors(void **state)
{
    (void)state;
    json_t *v = vectors_load_json("tile-paths.json"), *p;
    size_t i;
    json_array_foreach(json_object_get(v, "paths"), i, p)
    {
        assert_int_equal(kind_of_tile(vectors_string(p, "level0_full")), GATEWAY_KIND_HASH_TILE);
        assert_int_equal(kind_of_tile(vectors_string(p, "level0_partial_w17")), GATEWAY_KIND_PARTIAL_TILE);
        assert_int_equal(kind_of_tile(vectors_string(p, "level2_full")), GATEWAY_KIND_HASH_TILE);
        assert_int_equal(kind_of_tile(vectors_string(p, "data_full")), GATEWAY_KIND_DATA_TILE);
        assert_int_equal(kind_of_tile(vectors_string(p, "data_partial_w1")), GATEWAY_KIND_PARTIAL_TILE);
    }
    json_decref(v);
}

static void test_gateway_route_names_nothing_else(void **state)
{
    (void)state;
    static const char *const other[] = {
        "//",
        "/checkpoint/",
        "/checkpoint?x",
        "/CHECKPOINT",
        "/log.v3.json/",
        "/../checkpoint",
        "/%2e%2e/checkpoint",
        "/./checkpoint",
        "/tile/0/0",
        "/tile/0/x000/001",
        "/tile/6/000",
        "/tile/0/000.p/256",
        "/tile/0/000.p/0",
        "/tile/0/000/",
        "/tile//0/000",
        "/tile/names/000",
        "/issuer/",
        "/issuer/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "/issuer/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
        "/issuer/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
        "/issuer/../checkpoint",
        "checkpoint",
        "/staging/1-ab",
        "/.checkpoint.AbC123",
        "/health",
        "/metrics",
        "/ct/v1/",
        "/ct/v1/get-sth/",
        "/ct/v1/get-sth-",
        "/ct/v1/get-st",
        "/ct/v1//get-sth",
        "/ct/v1/Get-sth",
        "/ct/v2/get-sth",
        "/ct/get-sth",
        "/ct/v1/add-chain",
        "/ct/v1/add-pre-chain",
        "/ct/v1/get-entries/../get-sth",
    };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        if (kind_of(other[i]) != GATEWAY_KIND_OTHER)
            fail_msg("%s names a resource", other[i]);
    }
    /* A NUL inside the path is not the end of it. */
    assert_int_equal(gateway_route("/checkpoint\0x", 13).kind, GATEWAY_KIND_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gateway_route_names_each_kind),
        cmocka_unit_test(test_gateway_route_vectors),
        cmocka_unit_test(test_gateway_route_names_nothing_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

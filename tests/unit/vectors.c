#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/vectors.h"
#include "tlog/hash.h"

static void die(const char *what, const char *name)
{
    fprintf(stderr, "vectors: %s: %s\n", what, name);
    abort();
}

char *vectors_read_file(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", FARO_VECTORS_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot open", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

json_t *vectors_load_json(const char *name)
{
    char *text = vectors_read_file(name, NULL);
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    free(text);
    if (root == NULL)
        die(error.text, name);
    return root;
}

const char *vectors_string(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (s == NULL)
        die("missing string member", key);
    return s;
}

uint8_t *vectors_hex(json_t *obj, const char *key, size_t *len)
{
    const char *hex = vectors_string(obj, key);
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n + 1);
    if (tlog_hex_decode(hex, strlen(hex), out, n) != 0)
        die("bad hex", key);
    if (len != NULL)
        *len = n;
    return out;
}

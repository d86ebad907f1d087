/* Test helpers: reading the shared spec vectors. */
#ifndef FARO_TEST_VECTORS_H
#define FARO_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Loads FARO_VECTORS_DIR/name as JSON; aborts the test binary if missing or invalid. */
json_t *vectors_load_json(const char *name);
/* Reads FARO_VECTORS_DIR/name into a malloc'd NUL-terminated buffer. */
char *vectors_read_file(const char *name, size_t *len);
/* Decodes the hex string member key of obj into a malloc'd buffer; aborts on error. */
uint8_t *vectors_hex(json_t *obj, const char *key, size_t *len);
const char *vectors_string(json_t *obj, const char *key);

#endif

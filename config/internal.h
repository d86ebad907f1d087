/*
 * Inside the config module: the YAML tree (yaml.c) the schema walk
 * (config.c) reads, and the value checkers (values.c) it calls. Nothing
 * outside config/ includes this.
 */
#ifndef FARO_CONFIG_INTERNAL_H
#define FARO_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Collections nest at most this deep; faro.yaml needs four (logs, a log, a list, its item). */
#define CONFIG_MAX_DEPTH 8
/* At most this many nodes in one file. */
#define CONFIG_MAX_NODES 100000

typedef enum config_node_kind {
    CONFIG_SCALAR,
    CONFIG_SEQUENCE,
    CONFIG_MAPPING,
} config_node_kind_t;

typedef struct config_node {
    config_node_kind_t kind;
    int quoted;                 /* scalar: written quoted or as a block, so never null, a number or a boolean */
    char *text;                 /* scalar: NUL-terminated, no NUL inside */
    struct config_node **items; /* sequence: its items; mapping: key, value, key, value, ... */
    size_t count;               /* of items */
    size_t cap;
} config_node_t;

/*
 * Parses one YAML document into a tree. Refuses syntax errors, anchors,
 * aliases, tags, a second document, NUL bytes in scalars and nesting deeper
 * than CONFIG_MAX_DEPTH, with "<name>: line L, column C: <reason>". *root is
 * NULL for a stream with no document.
 */
int config_yaml_load(const char *text, size_t len, const char *name, config_node_t **root, char *err);
void config_node_free(config_node_t *node);
/* A plain scalar YAML reads as null: empty, "~" or "null". */
int config_node_is_null(const config_node_t *node);

/* Checkers: 1 if s is valid (and *out set where there is one), else 0. */
int config_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int config_parse_rate(const char *s, uint64_t max, double *out);
int config_parse_time(const char *s, time_t *out);
int config_parse_old_not_before(const char *s, uint64_t *age_ms, uint64_t *rate);
int config_name_valid(const char *s);
int config_oid_valid(const char *s);
int config_eku_valid(const char *s);
/* These return NULL if s is valid, else the reason ("must have a host"). */
const char *config_check_listen(const char *s);
/* With prefix set, a query is refused too; *scheme_len is the length of "http://" or "https://". */
const char *config_check_url(const char *s, int prefix, size_t *scheme_len);
/* A file path: no control characters and no PEM text (a key pasted in place of its path); the reason never quotes s. */
const char *config_check_path(const char *s);

/* The names config_eku_valid accepts, comma separated, for messages. */
extern const char config_eku_names[];
/* Writes ms as a duration faro_duration_parse reads back ("1m30s", "0s") into buf. */
void config_format_ms(uint64_t ms, char buf[32]);

#endif

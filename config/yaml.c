/*
 * YAML text to a small tree (config/internal.h), through libyaml's event
 * parser. The event API, rather than libyaml's document loader, lets us see
 * and refuse what a configuration file has no use for and what would make the
 * tree a graph: anchors and aliases, explicit tags, a second document.
 *
 * Open collections sit on an explicit stack of at most CONFIG_MAX_DEPTH; a
 * node is attached to its parent as soon as it is made, so on any failure
 * freeing the root frees everything. One pass over the events: O(bytes).
 * Invariants of a returned tree: a mapping has an even number of items; no
 * scalar holds a NUL byte; depth <= CONFIG_MAX_DEPTH + 1.
 */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/internal.h"
#include "tlog/error.h"

typedef struct builder {
    const char *name;
    char *err;
    config_node_t *root;
    config_node_t *stack[CONFIG_MAX_DEPTH];
    size_t depth;
    size_t nodes;
    int documents;
} builder_t;

static int builder_error(builder_t *b, const yaml_mark_t *mark, const char *reason)
{
    return tlog_errorf(b->err, "%s: line %zu, column %zu: %s", b->name, mark->line + 1, mark->column + 1, reason);
}

static int yaml_error(builder_t *b, const yaml_parser_t *parser)
{
    if (parser->error == YAML_MEMORY_ERROR)
        return tlog_errorf(b->err, "%s: out of memory", b->name);
    if (parser->problem == NULL)
        return tlog_errorf(b->err, "%s: not valid YAML", b->name);
    if (parser->context != NULL)
        return tlog_errorf(b->err, "%s: line %zu, column %zu: %s %s", b->name, parser->problem_mark.line + 1,
                           parser->problem_mark.column + 1, parser->problem, parser->context);
    return builder_error(b, &parser->problem_mark, parser->problem);
}

/* Makes a node and attaches it to the open collection (or makes it the root). */
static config_node_t *builder_add(builder_t *b, const yaml_event_t *event, config_node_kind_t kind)
{
    config_node_t *node;

    if (b->nodes >= CONFIG_MAX_NODES) {
        builder_error(b, &event->start_mark, "too many values in one file");
        return NULL;
    }
    if ((node = calloc(1, sizeof(*node))) == NULL)
        goto oom;
    node->kind = kind;
    if (b->depth == 0) {
        b->root = node;
    } else {
        config_node_t *parent = b->stack[b->depth - 1];
        if (parent->count == parent->cap) {
            size_t cap = parent->cap ? parent->cap * 2 : 8;
            config_node_t **items = realloc(parent->items, cap * sizeof(*items));
            if (items == NULL) {
                free(node);
                goto oom;
            }
            parent->items = items;
            parent->cap = cap;
        }
        parent->items[parent->count++] = node;
    }
    b->nodes++;
    return node;
oom:
    tlog_errorf(b->err, "%s: out of memory", b->name);
    return NULL;
}

static int builder_scalar(builder_t *b, const yaml_event_t *event)
{
    const char *value = (const char *)event->data.scalar.value;
    size_t len = event->data.scalar.length;
    config_node_t *node;

    if (memchr(value, '\0', len) != NULL)
        return builder_error(b, &event->start_mark, "a value holds a NUL byte");
    if ((node = builder_add(b, event, CONFIG_SCALAR)) == NULL)
        return -1;
    node->quoted = event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    if ((node->text = malloc(len + 1)) == NULL)
        return tlog_errorf(b->err, "%s: out of memory", b->name);
    memcpy(node->text, value, len);
    node->text[len] = '\0';
    return 0;
}

static int builder_open(builder_t *b, const yaml_event_t *event, config_node_kind_t kind)
{
    config_node_t *node;

    if (b->depth == CONFIG_MAX_DEPTH)
        return builder_error(b, &event->start_mark, "lists and mappings nest too deep");
    if ((node = builder_add(b, event, kind)) == NULL)
        return -1;
    b->stack[b->depth++] = node;
    return 0;
}

/* Handles one event: 0, 1 at the end of the stream, or -1. */
static int builder_event(builder_t *b, const yaml_event_t *event)
{
    const yaml_char_t *anchor = NULL, *tag = NULL;

    switch (event->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->documents > 1)
            return builder_error(b, &event->start_mark, "a second YAML document; the file must hold exactly one");
        return 0;
    case YAML_ALIAS_EVENT:
        return builder_error(b, &event->start_mark, "YAML aliases (*name) are not supported");
    case YAML_SCALAR_EVENT:
        anchor = event->data.scalar.anchor;
        tag = event->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = event->data.sequence_start.anchor;
        tag = event->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = event->data.mapping_start.anchor;
        tag = event->data.mapping_start.tag;
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        b->depth--;
        return 0;
    default:
        return 0;
    }
    if (anchor != NULL)
        return builder_error(b, &event->start_mark, "YAML anchors (&name) are not supported");
    if (tag != NULL)
        return builder_error(b, &event->start_mark, "YAML tags (!tag) are not supported");
    if (event->type == YAML_SCALAR_EVENT)
        return builder_scalar(b, event);
    return builder_open(b, event, event->type == YAML_MAPPING_START_EVENT ? CONFIG_MAPPING : CONFIG_SEQUENCE);
}

int config_yaml_load(const char *text, size_t len, const char *name, config_node_t **root, char *err)
{
    builder_t b = {.name = name, .err = err};
    yaml_parser_t parser;
    int done = 0;

    *root = NULL;
    if (!yaml_parser_initialize(&parser))
        return tlog_errorf(err, "%s: out of memory", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done) {
        yaml_event_t event;
        if (!yaml_parser_parse(&parser, &event)) {
            yaml_error(&b, &parser);
            goto fail;
        }
        done = builder_event(&b, &event);
        yaml_event_delete(&event);
        if (done < 0)
            goto fail;
    }
    yaml_parser_delete(&parser);
    *root = b.root;
    return 0;
fail:
    yaml_parser_delete(&parser);
    config_node_free(b.root);
    return -1;
}

void config_node_free(config_node_t *node)
{
    if (node == NULL)
        return;
    for (size_t i = 0; i < node->count; i++)
        config_node_free(node->items[i]);
    free(node->items);
    free(node->text);
    free(node);
}

int config_node_is_null(const config_node_t *node)
{
    return node->kind == CONFIG_SCALAR && !node->quoted &&
           (node->text[0] == '\0' || strcmp(node->text, "~") == 0 || strcmp(node->text, "null") == 0);
}

/*
 * The private admin listener: heavy hitters by User-Agent and by client
 * network, as HTML and JSON. User-Agents carry people's e-mail addresses,
 * so this is never served on the public listener.
 *   GET /                      links
 *   GET /heavy-hitters         both tables, HTML
 *   GET /heavy-hitters.json    {"user_agents": {...}, "prefixes": {...}}
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"

/* Rows shown of each table. */
#define REPORT_TOP 100

static void heavy_hitters_page(gateway_t *gw, tlog_buf_t *out)
{
    tlog_buf_appendf(out,
                     "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>faro-gateway heavy hitters</title>"
                     "<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;margin-bottom:2rem}"
                     "td,th{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left}</style></head><body>\n"
                     "<h1>Heavy hitters</h1>\n");
    char *agents = heavy_hitters_html(gw->by_agent, REPORT_TOP, "User-Agents");
    char *prefixes = heavy_hitters_html(gw->by_prefix, REPORT_TOP, "Client networks");
    tlog_buf_append(out, agents, strlen(agents));
    tlog_buf_append(out, prefixes, strlen(prefixes));
    free(agents);
    free(prefixes);
    tlog_buf_appendf(out, "</body></html>\n");
}

static int on_admin_req(h2o_handler_t *self, h2o_req_t *req)
{
    gateway_t *gw = ((gateway_handler_t *)self)->gw;
    h2o_iovec_t path = h2o_iovec_init(req->path.base, req->query_at != SIZE_MAX ? req->query_at : req->path.len);
    tlog_buf_t text = TLOG_BUF_INIT;

    if (h2o_memis(path.base, path.len, H2O_STRLIT("/heavy-hitters"))) {
        heavy_hitters_page(gw, &text);
        gateway_respond_buf(req, 200, "OK", "text/html; charset=utf-8", &text);
    } else if (h2o_memis(path.base, path.len, H2O_STRLIT("/heavy-hitters.json"))) {
        json_t *report = json_pack("{s:o, s:o}", "user_agents", heavy_hitters_json(gw->by_agent, REPORT_TOP), "prefixes",
                                   heavy_hitters_json(gw->by_prefix, REPORT_TOP));
        char *json = json_dumps(report, JSON_INDENT(2));
        json_decref(report);
        tlog_buf_append(&text, json, strlen(json));
        tlog_buf_append(&text, "\n", 1);
        free(json);
        gateway_respond_buf(req, 200, "OK", "application/json", &text);
    } else if (h2o_memis(path.base, path.len, H2O_STRLIT("/"))) {
        tlog_buf_appendf(&text, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>faro-gateway admin</title>"
                                "</head><body><h1>faro-gateway admin</h1><ul><li><a href=\"/heavy-hitters\">Heavy hitters</a>"
                                " (<a href=\"/heavy-hitters.json\">JSON</a>)</li></ul></body></html>\n");
        gateway_respond_buf(req, 200, "OK", "text/html; charset=utf-8", &text);
    } else {
        tlog_buf_appendf(&text, "not found\n");
        gateway_respond_buf(req, 404, "Not Found", "text/plain; charset=utf-8", &text);
    }
    return 0;
}

void gateway_admin_register(gateway_t *gw, h2o_hostconf_t *host)
{
    h2o_pathconf_t *root = h2o_config_register_path(host, "/", 0);
    gateway_handler_t *handler = (gateway_handler_t *)h2o_create_handler(root, sizeof(*handler));
    handler->super.on_req = on_admin_req;
    handler->gw = gw;
}

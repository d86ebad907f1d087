/*
 * The pages a person reads: an index of the logs at "/", and one page per
 * log at its monitoring prefix, with what an operator or a monitor needs to
 * configure a client: origin, prefixes, log ID, keys, size and checkpoint
 * age, accepted roots, temporal interval. Built from storage and the
 * configuration at each request; everything from either is escaped.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/ct_log.h"
#include "gateway/internal.h"
#include "gateway/status.h"
#include "tlog/error.h"

static const char page_style[] = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
                                 "h1{font-size:1.6rem}table{border-collapse:collapse;width:100%}"
                                 "th,td{text-align:left;vertical-align:top;padding:.35rem .6rem;border-bottom:1px solid #ddd}"
                                 "th{white-space:nowrap;width:12rem}code{font-size:.9rem;word-break:break-all}.bad{color:#b00}";

void gateway_html_escape(tlog_buf_t *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '<':
            tlog_buf_append(out, "&lt;", 4);
            break;
        case '>':
            tlog_buf_append(out, "&gt;", 4);
            break;
        case '&':
            tlog_buf_append(out, "&amp;", 5);
            break;
        case '"':
            tlog_buf_append(out, "&quot;", 6);
            break;
        case '\'':
            tlog_buf_append(out, "&#39;", 5);
            break;
        default:
            tlog_buf_append(out, &s[i], 1);
        }
    }
}

static void escaped(tlog_buf_t *out, const char *s)
{
    gateway_html_escape(out, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static void page_start(tlog_buf_t *out, const char *title)
{
    tlog_buf_appendf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    escaped(out, title);
    tlog_buf_appendf(out, "</title><style>%s</style></head><body>\n<h1>", page_style);
    escaped(out, title);
    tlog_buf_appendf(out, "</h1>\n");
}

static void page_end(tlog_buf_t *out)
{
    tlog_buf_appendf(out, "<p>Served by faro-gateway. <a href=\"/health\">Health</a> · <a href=\"/metrics\">Metrics</a></p>\n"
                          "</body></html>\n");
}

/* One table row; value is escaped, and shown in <code> when code is set. */
static void row(tlog_buf_t *out, const char *name, const char *value, int code)
{
    tlog_buf_appendf(out, "<tr><th>%s</th><td>%s", name, code ? "<code>" : "");
    escaped(out, value != NULL ? value : "(unknown)");
    tlog_buf_appendf(out, "%s</td></tr>\n", code ? "</code>" : "");
}

static void status_rows(tlog_buf_t *out, const gateway_status_t *status, int ok, const char *err)
{
    char text[TLOG_ERR_MAX + 64];
    if (!ok) {
        tlog_buf_appendf(out, "<tr><th>Checkpoint</th><td class=\"bad\">");
        escaped(out, err);
        tlog_buf_appendf(out, "</td></tr>\n");
        return;
    }
    double age = gateway_status_age_seconds(status);
    snprintf(text, sizeof(text), "%lu", status->size);
    row(out, "Tree size", text, 0);
    snprintf(text, sizeof(text), "%.1f s old", age);
    row(out, "Checkpoint", text, 0);
}

void gateway_page_log(gateway_t *gw, gateway_log_t *log, tlog_buf_t *out)
{
    const faro_log_config_t *c = log->config;
    gateway_status_t status;
    char err[TLOG_ERR_MAX], text[128];
    int ok = gateway_status_read(c, log->storage_fd, log->status_memo, &status, err) == 0;

    page_start(out, c->name);
    tlog_buf_appendf(out, "<p>A <a href=\"https://c2sp.org/static-ct-api\">static-ct-api</a> Certificate Transparency log.</p>\n"
                          "<table>\n");
    row(out, "Origin", c->origin, 1);
    row(out, "Submission prefix", c->submission_prefix, 1);
    row(out, "Monitoring prefix", c->monitoring_prefix, 1);
    row(out, "Log ID", gateway_status_field(&status, "log_id"), 1);
    row(out, "Public key", gateway_status_field(&status, "key"), 1);
    row(out, "Verifier key", gateway_status_field(&status, "verifier_key"), 1);
    status_rows(out, &status, ok, err);
    json_t *interval = json_object_get(status.log_json, "temporal_interval");
    if (interval != NULL) {
        snprintf(text, sizeof(text), "%s to %s", json_string_value(json_object_get(interval, "start_inclusive")),
                 json_string_value(json_object_get(interval, "end_exclusive")));
        row(out, "Temporal interval", text, 0);
    } else {
        row(out, "Temporal interval", "none: any NotAfter", 0);
    }
    long roots = ct_logs_roots_count(gw->ct, (size_t)(log - gw->logs));
    snprintf(text, sizeof(text), "%ld", roots);
    row(out, "Accepted roots", roots >= 0 ? text : NULL, 0);
    tlog_buf_appendf(out, "</table>\n<p>");
    static const char *const links[] = {"checkpoint", "log.v3.json", "tile/0/000", "tile/data/000"};
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        tlog_buf_appendf(out, "%s<a href=\"", i ? " · " : "");
        escaped(out, log->path);
        tlog_buf_appendf(out, "/%s\">%s</a>", links[i], links[i]);
    }
    tlog_buf_appendf(out, "</p>\n");
    page_end(out);
    gateway_status_free(&status);
}

void gateway_page_index(gateway_t *gw, tlog_buf_t *out)
{
    page_start(out, "faro: Certificate Transparency logs");
    tlog_buf_appendf(out, "<table>\n<tr><th>Log</th><th>Origin</th><th>Tree size</th></tr>\n");
    for (size_t i = 0; i < gw->nlogs; i++) {
        gateway_log_t *log = &gw->logs[i];
        gateway_status_t status;
        int ok = gateway_status_read(log->config, log->storage_fd, log->status_memo, &status, NULL) == 0;
        tlog_buf_appendf(out, "<tr><td><a href=\"");
        escaped(out, log->path);
        tlog_buf_appendf(out, "/\">");
        escaped(out, log->config->name);
        tlog_buf_appendf(out, "</a></td><td><code>");
        escaped(out, log->config->origin);
        if (ok)
            tlog_buf_appendf(out, "</code></td><td>%lu</td></tr>\n", status.size);
        else
            tlog_buf_appendf(out, "</code></td><td class=\"bad\">no valid checkpoint</td></tr>\n");
        gateway_status_free(&status);
    }
    tlog_buf_appendf(out, "</table>\n");
    page_end(out);
}

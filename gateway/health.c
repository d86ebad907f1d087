/*
 * /health and the per-log part of /metrics: both read each log's status
 * from storage (gateway/status.h) at the moment they are asked, so they
 * report what monitors would see now, not what a cache saw earlier (only
 * the signature check is remembered, for the same checkpoint and key).
 */
#include <stdatomic.h>
#include <time.h>

#include "gateway/ct_log.h"
#include "gateway/internal.h"
#include "gateway/status.h"
#include "tlog/error.h"
#include "tlog/note.h"

/* Whether the verified checkpoint carries the cosignatures its log's witness policy asks for (always, without one). */
static int cosigned_enough(const gateway_log_t *log, const gateway_status_t *status, char *err)
{
    tlog_note_t *note;
    if (log->witness_policy == NULL)
        return 1;
    if (tlog_note_parse(status->checkpoint, status->checkpoint_len, &note, err) != 0)
        return 0;
    int met = policy_note_meets_quorum(log->witness_policy, note, (uint64_t)time(NULL), err) == 1;
    tlog_note_free(note);
    return met;
}

int gateway_health(gateway_t *gw, tlog_buf_t *out)
{
    int healthy = 1;
    for (size_t i = 0; i < gw->nlogs; i++) {
        const faro_log_config_t *c = gw->logs[i].config;
        gateway_status_t status;
        char err[TLOG_ERR_MAX];
        if (gateway_status_read(c, gw->logs[i].storage_fd, gw->logs[i].status_memo, &status, err) != 0) {
            tlog_buf_appendf(out, "%s: %s\n", c->name, err);
            healthy = 0;
        } else if (!cosigned_enough(&gw->logs[i], &status, err)) {
            tlog_buf_appendf(out, "%s: checkpoint does not meet its witness policy: %s\n", c->name, err);
            healthy = 0;
        } else if (gateway_status_age_seconds(&status) * 1000 > (double)gw->config->gateway.health_max_age_ms) {
            tlog_buf_appendf(out, "%s: checkpoint is too old: %.1f s (health_max_age is %.1f s)\n", c->name,
                             gateway_status_age_seconds(&status), (double)gw->config->gateway.health_max_age_ms / 1000);
            healthy = 0;
        } else {
            tlog_buf_appendf(out, "%s: OK: tree size %lu, checkpoint %.1f s old\n", c->name, status.size,
                             gateway_status_age_seconds(&status));
        }
        gateway_status_free(&status);
    }
    return healthy;
}

void gateway_metrics_text(gateway_t *gw, server_t *server, tlog_buf_t *out)
{
    const char *names[gw->nlogs + 1];
    for (size_t i = 0; i < gw->nlogs; i++)
        names[i] = gw->logs[i].config->name;
    gateway_metrics_render(gw->metrics, names, out);
    ct_logs_metrics(gw->ct, names, out);

    uint64_t accepted = 0, closed = 0;
    for (unsigned t = 0; t < server_threads(server); t++) {
        server_thread_t *thread = server_thread(server, t);
        accepted += atomic_load_explicit(&thread->connections_accepted, memory_order_relaxed);
        closed += atomic_load_explicit(&thread->connections_closed, memory_order_relaxed);
    }
    tlog_buf_appendf(out,
                     "# HELP faro_gateway_connections_accepted_total Connections accepted (public and admin).\n"
                     "# TYPE faro_gateway_connections_accepted_total counter\n"
                     "faro_gateway_connections_accepted_total %lu\n"
                     "# HELP faro_gateway_open_connections Connections open now.\n"
                     "# TYPE faro_gateway_open_connections gauge\n"
                     "faro_gateway_open_connections %lu\n",
                     accepted, accepted - closed);

    gateway_status_t status[gw->nlogs + 1];
    int valid[gw->nlogs + 1];
    for (size_t i = 0; i < gw->nlogs; i++)
        valid[i] = gateway_status_read(gw->logs[i].config, gw->logs[i].storage_fd, gw->logs[i].status_memo, &status[i], NULL) == 0;
    tlog_buf_appendf(out, "# HELP faro_gateway_checkpoint_valid Whether the log's checkpoint verifies with its key and origin.\n"
                          "# TYPE faro_gateway_checkpoint_valid gauge\n");
    for (size_t i = 0; i < gw->nlogs; i++)
        tlog_buf_appendf(out, "faro_gateway_checkpoint_valid{log=\"%s\"} %d\n", names[i], valid[i]);
    tlog_buf_appendf(out, "# HELP faro_gateway_tree_size Tree size of the log's verified checkpoint.\n"
                          "# TYPE faro_gateway_tree_size gauge\n");
    for (size_t i = 0; i < gw->nlogs; i++)
        if (valid[i])
            tlog_buf_appendf(out, "faro_gateway_tree_size{log=\"%s\"} %lu\n", names[i], status[i].size);
    tlog_buf_appendf(out, "# HELP faro_gateway_checkpoint_age_seconds Age of the log's verified checkpoint.\n"
                          "# TYPE faro_gateway_checkpoint_age_seconds gauge\n");
    for (size_t i = 0; i < gw->nlogs; i++)
        if (valid[i])
            tlog_buf_appendf(out, "faro_gateway_checkpoint_age_seconds{log=\"%s\"} %.3f\n", names[i],
                             gateway_status_age_seconds(&status[i]));
    for (size_t i = 0; i < gw->nlogs; i++)
        gateway_status_free(&status[i]);
}

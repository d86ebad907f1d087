/*
 * quorumcheck POLICY CHECKPOINT: checks a published checkpoint's cosignatures
 * against a trust policy, as faro-gateway's /health does
 * (policy_note_meets_quorum), and says which witnesses cosigned.
 *
 * Prints one line per policy witness ("W1 cosigned at <unix seconds>" or
 * "W1 absent"), then "quorum met" or "quorum not met: <why>". Exit status:
 * 0 met, 1 not met or a cosignature line that does not verify, 2 usage or
 * unreadable input.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "policy/policy.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/note.h"

int main(int argc, char **argv)
{
    char *body, err[TLOG_ERR_MAX];
    size_t len;
    policy_t *policy;
    tlog_note_t *note;

    if (argc != 3) {
        fprintf(stderr, "usage: quorumcheck POLICY CHECKPOINT\n");
        return 2;
    }
    if (policy_load(argv[1], 0, &policy, err) != 0 || tlog_read_file(argv[2], 1 << 20, &body, &len, err) != 0 ||
        tlog_note_parse(body, len, &note, err) != 0) {
        fprintf(stderr, "quorumcheck: %s\n", err);
        return 2;
    }
    size_t n = policy_witness_count(policy);
    tlog_note_result_t *results = calloc(n > 0 ? n : 1, sizeof(*results));
    if (results == NULL)
        return 2;
    /* Which witnesses cosigned; fails only when a line of a witness key does not verify (or none has one). */
    tlog_note_verify(note, policy_witness_verifiers(policy), n, results, err);
    for (size_t i = 0; i < n; i++)
        if (results[i].signed_ok)
            printf("%s cosigned at %" PRIu64 "\n", policy_witness_name(policy, i), results[i].timestamp);
        else
            printf("%s absent\n", policy_witness_name(policy, i));
    int met = policy_note_meets_quorum(policy, note, (uint64_t)time(NULL), err);
    if (met == 1)
        printf("quorum met\n");
    else
        printf("quorum not met: %s\n", err);
    free(results);
    tlog_note_free(note);
    policy_free(policy);
    free(body);
    return met == 1 ? 0 : 1;
}

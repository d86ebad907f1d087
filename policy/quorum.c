/*
 * Quorum evaluation over a parsed policy, as cosignatures arrive.
 *
 * An evaluation keeps, per node, whether it is satisfied and, for groups, how
 * many members are. Marking a witness pushes it on a work stack; popping a
 * node bumps the counter of each group listing it, and a group whose counter
 * just reached its threshold is satisfied and pushed in turn. A node becomes
 * satisfied at most once, so over a whole evaluation every membership edge is
 * followed at most once: a mark costs O(the memberships it newly satisfies),
 * at most O(depth x fan-out), and the stack never holds more than the nodes.
 *
 * Invariants: sat[g] == (count[g] >= threshold(g)) for every group g;
 * count[g] <= nmembers(g); met == (quorum is none or sat[quorum]).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"
#include "tlog/error.h"

struct policy_eval {
    const policy_t *policy;
    int met;
    uint32_t *count; /* per node: satisfied members (groups) */
    uint32_t *stack; /* satisfied nodes not yet propagated to their parents */
    uint8_t *sat;    /* per node: 1 once satisfied */
};

policy_eval_t *policy_eval_new(const policy_t *policy)
{
    size_t n = policy->nnodes;
    policy_eval_t *eval = malloc(sizeof(*eval) + n * (2 * sizeof(uint32_t) + 1));
    if (eval == NULL)
        return NULL;
    eval->policy = policy;
    eval->count = (uint32_t *)(eval + 1);
    eval->stack = eval->count + n;
    eval->sat = (uint8_t *)(eval->stack + n);
    policy_eval_reset(eval);
    return eval;
}

void policy_eval_free(policy_eval_t *eval)
{
    free(eval);
}

void policy_eval_reset(policy_eval_t *eval)
{
    const policy_t *policy = eval->policy;
    memset(eval->count, 0, policy->nnodes * sizeof(*eval->count));
    memset(eval->sat, 0, policy->nnodes);
    eval->met = policy->quorum == POLICY_NO_NODE;
}

int policy_eval_add(policy_eval_t *eval, size_t witness_index)
{
    const policy_t *policy = eval->policy;
    size_t top = 0;

    if (witness_index >= policy->nwitnesses)
        return -1;
    uint32_t node = policy->witnesses[witness_index].node;
    if (eval->sat[node])
        return eval->met;
    eval->sat[node] = 1;
    eval->stack[top++] = node;
    while (top > 0) {
        node = eval->stack[--top];
        if (node == policy->quorum)
            eval->met = 1;
        for (uint32_t i = policy->nodes[node].parent_start; i < policy_parent_end(policy, node); i++) {
            uint32_t group = policy->parents[i];
            assert(eval->count[group] < policy->nodes[group].nmembers);
            if (++eval->count[group] == policy->nodes[group].threshold) {
                eval->sat[group] = 1;
                eval->stack[top++] = group;
            }
        }
    }
    return eval->met;
}

int policy_eval_met(const policy_eval_t *eval)
{
    return eval->met;
}

/* Whether some signature line names one of the policy's keys (otherwise there is nothing to verify). */
static int names_a_key(const policy_t *policy, const tlog_note_t *note)
{
    size_t nkeys = policy->nwitnesses + policy->nlogs;
    for (size_t s = 0; s < note->nsigs; s++)
        for (size_t k = 0; k < nkeys; k++) {
            const char *name = tlog_verifier_name(policy->keys[k]);
            if (note->sigs[s].key_id == tlog_verifier_key_id(policy->keys[k]) && strlen(name) == note->sigs[s].name_len &&
                memcmp(name, note->sigs[s].name, note->sigs[s].name_len) == 0)
                return 1;
        }
    return 0;
}

/* Whether a log of the policy, named as the note's origin (its first line), signed. */
static int log_signed(const policy_t *policy, const tlog_note_t *note, const tlog_note_result_t *results)
{
    const char *nl = memchr(note->text, '\n', note->text_len);
    size_t origin_len = nl != NULL ? (size_t)(nl - note->text) : note->text_len;
    for (size_t i = 0; i < policy->nlogs; i++) {
        const char *name = tlog_verifier_name(policy->logs[i].verifier);
        if (results[policy->nwitnesses + i].signed_ok && strlen(name) == origin_len && memcmp(name, note->text, origin_len) == 0)
            return 1;
    }
    return 0;
}

int policy_note_meets_quorum(const policy_t *policy, const tlog_note_t *note, uint64_t now_s, char *err)
{
    size_t nkeys = policy->nwitnesses + policy->nlogs, cosigned = 0, future = 0;
    tlog_note_result_t *results = NULL;
    policy_eval_t *eval = NULL;
    int rc = -1;

    if ((results = calloc(nkeys > 0 ? nkeys : 1, sizeof(*results))) == NULL || (eval = policy_eval_new(policy)) == NULL) {
        tlog_errorf(err, "out of memory");
        goto out;
    }
    if (names_a_key(policy, note) && tlog_note_verify(note, policy->keys, nkeys, results, err) != 0)
        goto out;
    rc = 0;
    if (policy->nlogs > 0 && !log_signed(policy, note, results)) {
        tlog_errorf(err, "no log of the policy signed the note under its origin");
        goto out;
    }
    for (size_t i = 0; i < policy->nwitnesses; i++) {
        if (!results[i].signed_ok)
            continue;
        if (now_s != 0 && results[i].timestamp > now_s + POLICY_CLOCK_SKEW_S) {
            future++;
            continue;
        }
        cosigned++;
        policy_eval_add(eval, i);
    }
    rc = policy_eval_met(eval);
    if (!rc)
        tlog_errorf(err, "quorum not met: %zu of the policy's %zu witnesses cosigned%s", cosigned, policy->nwitnesses,
                    future > 0 ? " (cosignatures timestamped in the future do not count)" : "");
out:
    policy_eval_free(eval);
    free(results);
    return rc;
}

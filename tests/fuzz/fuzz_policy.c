/*
 * Trust-policy parser and quorum evaluator. Any bytes either fail to parse or
 * give a policy whose evaluation keeps its promises: nothing marked meets the
 * quorum only when it is none; every witness marked always meets it (each
 * group needs at most all its members); the verdict for a set of witnesses
 * does not depend on the order they arrive in, nor on repeats; and requiring
 * URLs rejects exactly the policies with a witness lacking one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "tlog/error.h"

/* Marks the witnesses of set (bit i of byte i / 8 of the input, cycled) in forward or reverse order; the verdict. */
static int mark_subset(policy_eval_t *eval, size_t n, const uint8_t *data, size_t size, int reverse)
{
    policy_eval_reset(eval);
    int met = policy_eval_met(eval);
    for (size_t k = 0; k < n; k++) {
        size_t i = reverse ? n - 1 - k : k;
        if (size > 0 && (data[(i / 8) % size] >> (i % 8)) & 1) {
            int now = policy_eval_add(eval, i);
            if (now < met || now != policy_eval_add(eval, i))
                abort();
            met = now;
        }
    }
    return policy_eval_met(eval);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan catches any read past the input. */
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    policy_t *policy = NULL, *strict = NULL;
    policy_eval_t *eval = NULL;
    char err[TLOG_ERR_MAX];

    int parsed = policy_parse(text, size, 0, &policy, err) == 0;
    int parsed_strict = policy_parse(text, size, POLICY_REQUIRE_URLS, &strict, err) == 0;
    if (!parsed) {
        if (parsed_strict)
            abort();
        goto out;
    }
    size_t n = policy_witness_count(policy);
    int all_urls = 1;
    for (size_t i = 0; i < n; i++) {
        if (policy_witness_name(policy, i) == NULL ||
            tlog_verifier_type(policy_witness_verifier(policy, i)) != TLOG_SIG_COSIGNATURE)
            abort();
        all_urls &= policy_witness_url(policy, i) != NULL;
    }
    for (size_t i = 0; i < policy_log_count(policy); i++)
        if (policy_log_index(policy, policy_log_verifier(policy, i)) != (int)i)
            abort();
    if (parsed_strict != all_urls)
        abort();
    if ((eval = policy_eval_new(policy)) == NULL)
        abort();
    if (policy_eval_met(eval) != policy_quorum_is_none(policy) || policy_eval_add(eval, n) != -1)
        abort();
    for (size_t i = 0; i < n; i++)
        policy_eval_add(eval, i);
    if (!policy_eval_met(eval))
        abort();
    if (mark_subset(eval, n, data, size, 0) != mark_subset(eval, n, data, size, 1))
        abort();
out:
    policy_eval_free(eval);
    policy_free(strict);
    policy_free(policy);
    free(text);
    return 0;
}

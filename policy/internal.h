/*
 * The parsed policy as policy.c builds it and quorum.c evaluates it. Private
 * to the policy module: other modules use policy/policy.h.
 *
 * Witnesses and groups share one namespace and are the policy's nodes, in
 * file order; a group's members are earlier nodes, so the graph has no
 * cycles. Membership is stored upside down, as each node's parents (the
 * groups listing it), which is the direction satisfaction propagates.
 */
#ifndef POLICY_INTERNAL_H
#define POLICY_INTERNAL_H

#include <stdint.h>

#include "policy/policy.h"

#define POLICY_NO_NODE UINT32_MAX

typedef struct policy_node {
    const char *name;      /* in policy->arena */
    size_t line;           /* where it is defined */
    uint32_t threshold;    /* groups: members needed, 1 <= threshold <= nmembers; witnesses: 0 */
    uint32_t nmembers;     /* groups: distinct members; witnesses: 0 */
    uint32_t parent_start; /* this node's parents: policy->parents[parent_start .. next node's parent_start) */
} policy_node_t;

typedef struct policy_key {
    const char *url;           /* in policy->arena, or NULL */
    tlog_verifier_t *verifier; /* owned: 0x04 for witnesses, 0x01 for logs */
    uint8_t public_key[32];
    size_t line;
    uint32_t node; /* witnesses: its node */
} policy_key_t;

struct policy {
    char *arena; /* a NUL-separated copy of the text; names and URLs point into it */
    policy_node_t *nodes;
    size_t nnodes;
    uint32_t *parents; /* group node indexes, grouped by child (see policy_node_t.parent_start) */
    size_t nparents;
    policy_key_t *witnesses;
    size_t nwitnesses;
    policy_key_t *logs;
    size_t nlogs;
    tlog_verifier_t **keys; /* the witness verifiers then the log verifiers (borrowed) */
    uint32_t quorum;        /* a node, or POLICY_NO_NODE for "none" */
    size_t quorum_line;     /* 0 until the quorum line is read */
};

/* Parents of node n: policy->parents[policy->nodes[n].parent_start .. policy_parent_end(policy, n)). */
static inline uint32_t policy_parent_end(const struct policy *policy, uint32_t n)
{
    return n + 1 < policy->nnodes ? policy->nodes[n + 1].parent_start : (uint32_t)policy->nparents;
}

#endif

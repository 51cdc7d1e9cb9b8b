/* The flame graphs of the HTML report: one call tree of all sites, outermost frame first, with a
 * value per kind at every node; each kind is written pruned on its own (docs/HTML.md). */
#include <stdlib.h>
#include <string.h>

#include "analyze/cpu.h"
#include "analyze/sites.h"
#include "report/html-int.h"
#include "util/array.h"
#include "util/error.h"
#include "util/hash.h"

typedef unsigned long long ull;

/* The kinds of the flame graphs: one row here and one value in flame_node each; the page shows
 * every kind the data holds. CPU samples are written only for a trace with a CPU profile. */
enum { K_BYTES, K_CALLS, K_LEAKED, K_PEAK, K_CPU, K_COUNT };

static const struct {
    const char *key, *label, *unit;
} kinds[K_COUNT] = {
    {"alloc_bytes", "Allocated bytes", "bytes"}, {"alloc_calls", "Allocation calls", "calls"},
    {"leaked_bytes", "Leaked bytes", "bytes"},   {"peak_bytes", "Memory at the peak", "bytes"},
    {"cpu_samples", "CPU samples", "samples"},
};

typedef struct flame_node {
    uint32_t name;
    uint32_t first_child, next_sibling; /* UINT32_MAX: none */
    uint64_t v[K_COUNT];
} flame_node;

typedef struct flame_tree {
    flame_node *nodes;
    size_t n, cap;
    uint32_t *slots; /* (parent, name) -> node + 1 */
    uint32_t *slot_parent;
    size_t n_slots;
} flame_tree;

static uint64_t node_key(uint32_t parent, uint32_t name)
{
    return vt_hash64(((uint64_t)parent << 32) | name);
}

static int rehash(flame_tree *t)
{
    size_t n = t->n_slots ? t->n_slots * 2 : 1024;
    uint32_t *s = calloc(n, sizeof(*s)), *p = calloc(n, sizeof(*p));
    if (!s || !p) {
        free(s);
        free(p);
        return VT_ENOMEM;
    }
    for (size_t i = 0; i < t->n_slots; i++) {
        if (!t->slots[i])
            continue;
        uint32_t node = t->slots[i] - 1, parent = t->slot_parent[i];
        size_t j = node_key(parent, t->nodes[node].name) & (n - 1);
        while (s[j])
            j = (j + 1) & (n - 1);
        s[j] = node + 1;
        p[j] = parent;
    }
    free(t->slots);
    free(t->slot_parent);
    t->slots = s;
    t->slot_parent = p;
    t->n_slots = n;
    return 0;
}

/* The child of parent named name, made when new; UINT32_MAX on out of memory. */
static uint32_t child(flame_tree *t, uint32_t parent, uint32_t name)
{
    if ((t->n + 1) * 2 > t->n_slots && rehash(t))
        return UINT32_MAX;
    size_t j = node_key(parent, name) & (t->n_slots - 1);
    for (; t->slots[j]; j = (j + 1) & (t->n_slots - 1)) {
        uint32_t c = t->slots[j] - 1;
        if (t->slot_parent[j] == parent && t->nodes[c].name == name)
            return c;
    }
    if (vt_grow(&t->nodes, &t->cap, t->n + 1, sizeof(flame_node), 1024))
        return UINT32_MAX;
    uint32_t c = (uint32_t)t->n++;
    t->nodes[c] = (flame_node){.name = name, .first_child = UINT32_MAX};
    t->nodes[c].next_sibling = t->nodes[parent].first_child;
    t->nodes[parent].first_child = c;
    t->slots[j] = c + 1;
    t->slot_parent[j] = parent;
    return c;
}

static void add_values(flame_node *n, const vt_site *s)
{
    n->v[K_BYTES] += s->alloc_bytes;
    n->v[K_CALLS] += s->alloc_calls;
    n->v[K_LEAKED] += s->live_bytes;
    n->v[K_PEAK] += s->peak_bytes;
}

/* Adds v of kind k to the root and to the nodes of stack st, outermost frame first. */
static int add_stack(flame_tree *t, vt_symbols *syms, const vt_stack *st, vt__html_strs *strs,
                     int k, uint64_t v)
{
    vt_frame_info f[16];
    char buf[64];
    uint32_t node = 0;
    t->nodes[0].v[k] += v;
    for (uint32_t d = st->depth; d-- > 0;) {
        int n = vt_stack_frame(syms, st, d, f, 16);
        for (int i = n; i-- > 0;) {
            uint32_t id =
                vt__html_intern(strs, vt__html_frame_name(&f[i], st->frames[d], buf, sizeof(buf)));
            if (id == UINT32_MAX)
                return VT_ENOMEM;
            node = child(t, node, id);
            if (node == UINT32_MAX)
                return VT_ENOMEM;
            t->nodes[node].v[k] += v;
        }
    }
    return 0;
}

/* The CPU samples of every stack (and thread) under kind K_CPU; samples without a stack go to
 * one "(no stack)" child of the root. */
static int add_cpu(flame_tree *t, const vt_model *m, vt_symbols *syms, vt__html_strs *strs)
{
    for (size_t i = 0; i < m->cpu->n_aggs; i++) {
        const vt_cpu_agg *a = &m->cpu->aggs[i];
        if (!a->on_samples)
            continue;
        if (a->stack != UINT32_MAX && a->stack < m->n_stacks) {
            int rc = add_stack(t, syms, &m->stacks[a->stack], strs, K_CPU, a->on_samples);
            if (rc)
                return rc;
            continue;
        }
        uint32_t id = vt__html_intern(strs, "(no stack)");
        uint32_t node = id == UINT32_MAX ? UINT32_MAX : child(t, 0, id);
        if (node == UINT32_MAX)
            return VT_ENOMEM;
        t->nodes[0].v[K_CPU] += a->on_samples;
        t->nodes[node].v[K_CPU] += a->on_samples;
    }
    return 0;
}

static int build(flame_tree *t, const vt_model *m, vt_symbols *syms, vt__html_strs *strs)
{
    uint32_t all = vt__html_intern(strs, "all");
    if (all == UINT32_MAX || vt_grow(&t->nodes, &t->cap, 1, sizeof(flame_node), 1024))
        return VT_ENOMEM;
    t->nodes[0] = (flame_node){.name = all, .first_child = UINT32_MAX};
    t->n = 1;
    vt_frame_info f[16];
    char buf[64];
    for (size_t i = 0; i < m->n_sites; i++) {
        const vt_site *s = &m->sites[i];
        const vt_stack *st = &m->stacks[s->stack];
        uint32_t node = 0;
        add_values(&t->nodes[0], s);
        for (uint32_t d = st->depth; d-- > 0;) {
            int n = vt_stack_frame(syms, st, d, f, 16);
            for (int k = n; k-- > 0;) {
                const char *name = vt__html_frame_name(&f[k], st->frames[d], buf, sizeof(buf));
                uint32_t id = vt__html_intern(strs, name);
                if (id == UINT32_MAX)
                    return VT_ENOMEM;
                node = child(t, node, id);
                if (node == UINT32_MAX)
                    return VT_ENOMEM;
                add_values(&t->nodes[node], s);
            }
        }
    }
    return m->cpu ? add_cpu(t, m, syms, strs) : 0;
}

/* Nodes with a value of kind k in the subtree of node. */
static uint64_t count_nonzero(const flame_tree *t, uint32_t node, int k)
{
    uint64_t n = t->nodes[node].v[k] != 0;
    for (uint32_t c = t->nodes[node].first_child; c != UINT32_MAX; c = t->nodes[c].next_sibling)
        n += count_nonzero(t, c, k);
    return n;
}

struct emit {
    FILE *out;
    const flame_tree *t;
    int k;
    uint64_t threshold;
    uint64_t emitted, pruned_nodes, pruned_value;
    int first;
};

static int cmp_desc(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b; /* {value, node} pairs */
    if (x[0] != y[0])
        return x[0] > y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static void emit_node(struct emit *e, long name, uint64_t value, uint32_t depth, uint64_t other)
{
    fprintf(e->out, "%s%ld,%llu,%u,%llu", e->first ? "" : ",", name, (ull)value, depth, (ull)other);
    e->first = 0;
    e->emitted++;
}

/* Writes node and, largest first, its children at or above the threshold; the others become
 * one "other" child (name -1) whose last field counts the nodes merged into it. */
static int emit_tree(struct emit *e, uint32_t node, uint32_t depth)
{
    const flame_tree *t = e->t;
    emit_node(e, t->nodes[node].name, t->nodes[node].v[e->k], depth, 0);
    size_t n = 0;
    for (uint32_t c = t->nodes[node].first_child; c != UINT32_MAX; c = t->nodes[c].next_sibling)
        n += t->nodes[c].v[e->k] != 0;
    if (!n)
        return 0;
    uint64_t *kids = malloc(n * 2 * sizeof(uint64_t));
    if (!kids)
        return VT_ENOMEM;
    size_t j = 0;
    for (uint32_t c = t->nodes[node].first_child; c != UINT32_MAX; c = t->nodes[c].next_sibling) {
        if (t->nodes[c].v[e->k]) {
            kids[j * 2] = t->nodes[c].v[e->k];
            kids[j * 2 + 1] = c;
            j++;
        }
    }
    qsort(kids, n, 2 * sizeof(uint64_t), cmp_desc);
    uint64_t other_value = 0, other_nodes = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (kids[i * 2] >= e->threshold) {
            rc = emit_tree(e, (uint32_t)kids[i * 2 + 1], depth + 1);
        } else {
            other_value += kids[i * 2];
            other_nodes += count_nonzero(t, (uint32_t)kids[i * 2 + 1], e->k);
        }
    }
    if (!rc && other_nodes) {
        emit_node(e, -1, other_value, depth + 1, other_nodes);
        e->pruned_nodes += other_nodes;
        e->pruned_value += other_value;
    }
    free(kids);
    return rc;
}

static void tree_release(flame_tree *t)
{
    free(t->nodes);
    free(t->slots);
    free(t->slot_parent);
}

int vt__html_flame(FILE *out, const vt_model *m, vt_symbols *syms, vt__html_strs *strs)
{
    flame_tree t = {0};
    int rc = build(&t, m, syms, strs);
    if (rc)
        goto out;
    fprintf(out, "{\"prune_divisor\":%d,\"tree_nodes\":%zu,\"kinds\":[", VT_HTML_PRUNE_DIVISOR,
            t.n);
    for (int k = 0; k < K_COUNT && !rc; k++) {
        if (k == K_CPU && !m->cpu)
            continue;
        uint64_t total = t.nodes[0].v[k];
        struct emit e = {.out = out, .t = &t, .k = k, .first = 1};
        /* At least 1, so that nodes of value 0 are never written. */
        e.threshold = total / VT_HTML_PRUNE_DIVISOR + (total % VT_HTML_PRUNE_DIVISOR != 0);
        if (!e.threshold)
            e.threshold = 1;
        fprintf(out, "%s{\"key\":\"%s\",\"label\":\"%s\",\"unit\":\"%s\",\"total\":%llu,",
                k ? "," : "", kinds[k].key, kinds[k].label, kinds[k].unit, (ull)total);
        fprintf(out, "\"threshold\":%llu,\"nodes\":[", (ull)e.threshold);
        rc = emit_tree(&e, 0, 0);
        fprintf(out, "],\"emitted\":%llu,\"pruned_nodes\":%llu,\"pruned_value\":%llu}",
                (ull)e.emitted, (ull)e.pruned_nodes, (ull)e.pruned_value);
    }
    fputs("]}", out);
out:
    tree_release(&t);
    return rc;
}

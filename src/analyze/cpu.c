/* The CPU profile: decoding the records of tags 0x90-0x94 into per-stack, per-thread sums, and
 * the analyses the reports show. See cpu.h and docs/REPORT.md. */
#include "analyze/cpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/model.h"
#include "analyze/sites.h"
#include "trace/format.h"
#include "trace/stream.h"
#include "util/array.h"
#include "util/error.h"
#include "util/hash.h"

const char *vt_cpu_sampler_name(int sampler)
{
    switch (sampler) {
    case VT_SAMPLER_PERF:
        return "perf task-clock";
    case VT_SAMPLER_TIMER:
        return "per-thread timer";
    }
    return "none";
}

void vt__cpu_free(vt_cpu *cpu)
{
    if (!cpu)
        return;
    free(cpu->note);
    free(cpu->aggs);
    for (size_t i = 0; i < cpu->n_threads; i++) {
        free(cpu->threads[i].name);
        free(cpu->threads[i].counts);
    }
    free(cpu->threads);
    for (size_t i = 0; i < cpu->n_events; i++)
        free(cpu->events[i].name);
    free(cpu->events);
    vt_index_free(&cpu->agg_index);
    free(cpu);
}

#define GET(v)                                                                                     \
    do {                                                                                           \
        if (vt_stream_get(d, VT_COL_MISC, &(v)))                                                   \
            return -1;                                                                             \
    } while (0)

/* The thread with this tid (the latest one, as tids are reused), made if new. */
static vt_cpu_thread *thread_of(vt_cpu *cpu, uint64_t tid, int fresh)
{
    for (size_t i = cpu->n_threads; i-- > 0;)
        if (cpu->threads[i].tid == tid && !(fresh && cpu->threads[i].has_record))
            return &cpu->threads[i];
    if (tid > UINT32_MAX || cpu->n_threads >= (1u << 22) ||
        vt_grow(&cpu->threads, &cpu->cap_threads, cpu->n_threads + 1, sizeof(vt_cpu_thread), 8))
        return NULL;
    vt_cpu_thread *t = &cpu->threads[cpu->n_threads++];
    memset(t, 0, sizeof(*t));
    t->tid = (uint32_t)tid;
    return t;
}

static uint64_t agg_key(uint32_t stack, uint32_t thread)
{
    return vt_hash64((uint64_t)stack << 32 | thread);
}

static uint64_t agg_hash(const void *ctx, size_t a)
{
    const vt_cpu_agg *g = &((const vt_cpu *)ctx)->aggs[a];
    return agg_key(g->stack, g->thread);
}

static vt_cpu_agg *agg_of(vt_cpu *cpu, uint32_t stack, uint32_t thread)
{
    vt_index *x = &cpu->agg_index;
    if (vt_index_fit(x, cpu->n_aggs, 1024, agg_hash, cpu))
        return NULL;
    size_t i = vt_index_first(x, agg_key(stack, thread));
    for (; x->slots[i] != VT_INDEX_EMPTY; i = vt_index_next(x, i)) {
        vt_cpu_agg *a = &cpu->aggs[x->slots[i]];
        if (a->stack == stack && a->thread == thread)
            return a;
    }
    if (vt_grow(&cpu->aggs, &cpu->cap_aggs, cpu->n_aggs + 1, sizeof(vt_cpu_agg), 256))
        return NULL;
    x->slots[i] = (uint32_t)cpu->n_aggs;
    vt_cpu_agg *a = &cpu->aggs[cpu->n_aggs++];
    memset(a, 0, sizeof(*a));
    a->stack = stack;
    a->thread = thread;
    return a;
}

int vt__cpu_decode(vt_cpu **cpup, uint8_t tag, struct vt_stream_dec *d, uint64_t tsc,
                   const uint32_t *stack_canon, size_t n_ids)
{
    if (!*cpup && !(*cpup = calloc(1, sizeof(vt_cpu))))
        return VT_ENOMEM;
    vt_cpu *cpu = *cpup;
    uint64_t a, b, c, e, f;
    switch (tag) {
    case VT_TAG_CPU_SAMPLE: {
        if (vt_stream_get(d, VT_COL_STACK, &a) || vt_stream_get(d, VT_COL_THREAD, &b))
            return -1;
        GET(c);
        GET(e);
        if (c > VT_CPU_OFF)
            return -1;
        uint32_t stack = a < n_ids ? stack_canon[a] : UINT32_MAX;
        vt_cpu_thread *t = thread_of(cpu, b, 0);
        if (!t)
            return VT_ENOMEM;
        if (!t->start_tsc || tsc < t->start_tsc)
            t->start_tsc = tsc;
        vt_cpu_agg *g = agg_of(cpu, stack, (uint32_t)(t - cpu->threads));
        if (!g)
            return VT_ENOMEM;
        if (c == VT_CPU_ON) {
            g->on_samples++;
            g->on_ns += e;
            t->on_ns += e;
            cpu->samples++;
            cpu->on_ns += e;
        } else {
            g->off_count++;
            g->off_ns += e;
            t->off_ns += e;
            cpu->off_ns += e;
        }
        return 0;
    }
    case VT_TAG_CPU_SAMPLER:
        GET(a);
        GET(b);
        GET(c);
        GET(e);
        cpu->sampler = (int)a;
        cpu->hz = b;
        cpu->flags = c;
        cpu->period_ns = e;
        return vt_stream_get_str(d, &cpu->note);
    case VT_TAG_CPU_EVENT: {
        uint64_t v[5];
        for (int i = 0; i < 5; i++)
            GET(v[i]);
        if (v[0] >= 64)
            return -1;
        if (v[0] >= cpu->n_events) {
            if (vt_grow(&cpu->events, &cpu->cap_events, v[0] + 1, sizeof(vt_cpu_event), 16))
                return VT_ENOMEM;
            memset(cpu->events + cpu->n_events, 0,
                   (v[0] + 1 - cpu->n_events) * sizeof(vt_cpu_event));
            cpu->n_events = v[0] + 1;
        }
        vt_cpu_event *ev = &cpu->events[v[0]];
        ev->status = (int)v[1];
        ev->type = (uint32_t)v[2];
        ev->config = v[3];
        ev->flags = (int)v[4];
        return vt_stream_get_str(d, &ev->name);
    }
    case VT_TAG_CPU_COUNTERS: {
        GET(a);
        GET(b);
        if (b > 64)
            return -1;
        vt_cpu_thread *t = thread_of(cpu, a, 1);
        if (!t)
            return VT_ENOMEM;
        if (!t->counts && !(t->counts = calloc(64, sizeof(vt_cpu_count))))
            return VT_ENOMEM;
        for (uint64_t i = 0; i < b; i++) {
            uint64_t idx, v, en, run;
            GET(idx);
            GET(v);
            GET(en);
            GET(run);
            if (idx >= 64)
                return -1;
            t->counts[idx] = (vt_cpu_count){v, en, run};
        }
        return 0;
    }
    case VT_TAG_CPU_THREAD: {
        uint64_t v[9];
        for (int i = 0; i < 9; i++)
            GET(v[i]);
        vt_cpu_thread *t = thread_of(cpu, v[0], 1);
        if (!t)
            return VT_ENOMEM;
        t->has_record = 1;
        t->start_tsc = v[1];
        t->end_tsc = v[2];
        t->cpu_ns = v[3];
        t->samples = v[4];
        t->lost = v[5];
        t->migrations = v[6];
        t->switches = v[7];
        t->flags = v[8];
        cpu->lost += v[5];
        (void)f;
        return vt_stream_get_str(d, &t->name);
    }
    }
    return -1;
}
#undef GET

void vt__cpu_finish(vt_cpu *cpu, uint64_t (*to_ns)(uint64_t tsc, const void *arg), const void *arg)
{
    if (!cpu)
        return;
    for (size_t i = 0; i < cpu->n_threads; i++) {
        vt_cpu_thread *t = &cpu->threads[i];
        t->start_ns = to_ns(t->start_tsc, arg);
        t->end_ns = t->end_tsc ? to_ns(t->end_tsc, arg) : t->start_ns;
        if (!t->has_record)
            t->cpu_ns = t->on_ns; /* the trace was cut short: what the samples say */
        for (size_t e = 0; e < cpu->n_events && t->counts; e++) {
            const vt_cpu_count *c = &t->counts[e];
            vt_cpu_event *ev = &cpu->events[e];
            if (!c->running && !c->enabled)
                continue;
            ev->total.value += c->value;
            ev->total.enabled += c->enabled;
            ev->total.running += c->running;
            if (c->running)
                ev->scaled += c->running >= c->enabled
                                  ? (double)c->value
                                  : (double)c->value * (double)c->enabled / (double)c->running;
            ev->threads++;
        }
    }
}

double vt_cpu_event_total(const vt_cpu *cpu, const char *name)
{
    for (size_t i = 0; cpu && i < cpu->n_events; i++)
        if (cpu->events[i].name && !strcmp(cpu->events[i].name, name) && !cpu->events[i].status &&
            cpu->events[i].total.running)
            return cpu->events[i].scaled;
    return -1;
}

static double cpu_total(const void *cpu, const char *name)
{
    return vt_cpu_event_total(cpu, name);
}

int vt_cpu_ratios(const vt_cpu *cpu, vt_cpu_ratio *r)
{
    return vt_cpu_ratios_by(cpu_total, cpu, r);
}

int vt_cpu_ratios_by(double (*total)(const void *arg, const char *name), const void *arg,
                     vt_cpu_ratio *r)
{
    double cyc = total(arg, "cycles"), ins = total(arg, "instructions");
    double br = total(arg, "branches"), brm = total(arg, "branch-misses");
    double l1 = total(arg, "L1-dcache-loads");
    double l1m = total(arg, "L1-dcache-load-misses");
    double llc = total(arg, "LLC-loads"), llcm = total(arg, "LLC-load-misses");
    double dtlb = total(arg, "dTLB-load-misses");
    double itlb = total(arg, "iTLB-load-misses");
    struct {
        const char *name, *formula;
        double num, den, mul;
    } def[VT_RATIOS] = {
        [VT_RATIO_IPC] = {"IPC", "instructions / cycles", ins, cyc, 1},
        [VT_RATIO_BRANCH_MISS] = {"branch-miss rate", "branch-misses / branches", brm, br, 100},
        [VT_RATIO_L1_MISS] = {"L1d miss rate", "L1-dcache-load-misses / L1-dcache-loads", l1m, l1,
                              100},
        [VT_RATIO_LLC_MISS] = {"LLC miss rate", "LLC-load-misses / LLC-loads", llcm, llc, 100},
        [VT_RATIO_BRANCH_MPKI] = {"branch MPKI", "1000 * branch-misses / instructions", brm, ins,
                                  1000},
        [VT_RATIO_L1_MPKI] = {"L1d MPKI", "1000 * L1-dcache-load-misses / instructions", l1m, ins,
                              1000},
        [VT_RATIO_LLC_MPKI] = {"LLC MPKI", "1000 * LLC-load-misses / instructions", llcm, ins,
                               1000},
        [VT_RATIO_TLB_MPKI] = {"TLB MPKI",
                               "1000 * (dTLB-load-misses + iTLB-load-misses) / "
                               "instructions",
                               dtlb >= 0 && itlb >= 0 ? dtlb + itlb : -1, ins, 1000},
    };
    int n = 0;
    for (int i = 0; i < VT_RATIOS; i++) {
        r[i].name = def[i].name;
        r[i].formula = def[i].formula;
        r[i].have = def[i].num >= 0 && def[i].den > 0;
        r[i].value = r[i].have ? def[i].mul * def[i].num / def[i].den : 0;
        n += r[i].have;
    }
    return n;
}

const char *vt_cpu_interpret(const vt_cpu_ratio *r, char *buf, size_t n)
{
    if (!r[VT_RATIO_IPC].have)
        return NULL;
    double ipc = r[VT_RATIO_IPC].value;
    double llc = r[VT_RATIO_LLC_MPKI].have ? r[VT_RATIO_LLC_MPKI].value : -1;
    double brm = r[VT_RATIO_BRANCH_MISS].have ? r[VT_RATIO_BRANCH_MISS].value : -1;
    if (ipc < 1.0 && llc >= 1.0)
        snprintf(buf, n,
                 "memory-bound: IPC %.2f is low and the last-level cache misses %.1f times per "
                 "thousand instructions (>= 1): the cores wait for memory; improve locality",
                 ipc, llc);
    else if (ipc < 1.0 && brm >= 5.0)
        snprintf(buf, n,
                 "branch-bound: IPC %.2f is low and %.1f%% of branches are mispredicted (>= 5%%): "
                 "make the hot branches predictable or branch-free",
                 ipc, brm);
    else if (ipc >= 2.0)
        snprintf(buf, n,
                 "compute-bound: IPC %.2f (>= 2) keeps the core busy; only less work (or "
                 "vectorisation) makes it faster",
                 ipc);
    else
        snprintf(buf, n, "neither clearly memory- nor compute-bound: IPC %.2f", ipc);
    return buf;
}

/* ---- the profile ---- */

struct vt_cpu_profile {
    vt_cpu_fn *fns;
    size_t n_fns, cap_fns;
    uint32_t *by_total;
    char **names;        /* owned names, parallel to fns */
    vt_index name_index; /* functions by name */
    vt_cpu_node *nodes;
    size_t n_nodes, cap_nodes;
    uint64_t ns, off_ns;
    /* per model stack: its functions, innermost first (offsets into chain) */
    uint32_t *stack_off, *stack_len;
    uint32_t *chain;
    size_t n_chain, cap_chain;
    const vt_model *m;
};

static uint64_t fn_hash(const void *ctx, size_t f)
{
    return vt_hash_str(((const vt_cpu_profile *)ctx)->names[f]);
}

static uint32_t intern_fn(vt_cpu_profile *p, const char *name, const char *module)
{
    vt_index *x = &p->name_index;
    if (vt_index_fit(x, p->n_fns, 256, fn_hash, p))
        return UINT32_MAX;
    size_t i = vt_index_first(x, vt_hash_str(name));
    for (; x->slots[i] != VT_INDEX_EMPTY; i = vt_index_next(x, i))
        if (!strcmp(p->names[x->slots[i]], name))
            return x->slots[i];
    size_t cap = p->cap_fns;
    if (vt_grow(&p->fns, &p->cap_fns, p->n_fns + 1, sizeof(vt_cpu_fn), 64) ||
        vt_grow(&p->names, &cap, p->n_fns + 1, sizeof(char *), 64))
        return UINT32_MAX;
    char *copy = strdup(name);
    if (!copy)
        return UINT32_MAX;
    p->names[p->n_fns] = copy;
    vt_cpu_fn *f = &p->fns[p->n_fns];
    memset(f, 0, sizeof(*f));
    f->name = copy;
    f->module = module;
    f->id = (uint32_t)p->n_fns;
    x->slots[i] = (uint32_t)p->n_fns;
    return (uint32_t)p->n_fns++;
}

/* The function of frame i of stack s: the outermost function of its inline chain (the one the
 * symbol table names, as perf report does), or module+offset when it has no symbol. */
static uint32_t frame_fn(vt_cpu_profile *p, vt_symbols *syms, const vt_stack *s, uint32_t i,
                         const char **file, int *line)
{
    vt_frame_info f[16];
    int n = vt_symbols_lookup_gen(syms, s->gen, s->frames[i], i > 0, f, 16);
    if (n < 1) {
        f[0] = (vt_frame_info){0};
        n = 1;
    }
    const vt_frame_info *outer = &f[n - 1];
    *file = f[0].file;
    *line = f[0].line;
    char buf[512];
    const char *name = outer->function;
    if (!name) {
        const char *mod = outer->module ? strrchr(outer->module, '/') : NULL;
        mod = mod ? mod + 1 : outer->module;
        if (mod)
            snprintf(buf, sizeof(buf), "%s+0x%llx", mod, (unsigned long long)outer->offset);
        else
            snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)s->frames[i]);
        name = buf;
    }
    return intern_fn(p, name, outer->module);
}

/* The agent's wrapper of main sits between the C library and main: not the program's. */
static int is_agent_wrapper(vt_symbols *syms, const vt_stack *s, uint32_t i)
{
    vt_frame_info f[4];
    int n = vt_symbols_lookup_gen(syms, s->gen, s->frames[i], i > 0, f, 4);
    if (n < 1 || !f[n - 1].function || !f[n - 1].module)
        return 0;
    const char *b = strrchr(f[n - 1].module, '/');
    b = b ? b + 1 : f[n - 1].module;
    return !strcmp(b, "libvitals-agent.so") && !strcmp(f[n - 1].function, "main_wrapper");
}

/* The functions of model stack si, innermost first (computed once). */
static int stack_fns(vt_cpu_profile *p, vt_symbols *syms, uint32_t si, const uint32_t **out,
                     uint32_t *n, const char **file, int *line)
{
    *file = NULL;
    *line = 0;
    if (si == UINT32_MAX || si >= p->m->n_stacks) {
        *out = NULL;
        *n = 0;
        return 0;
    }
    const vt_stack *s = &p->m->stacks[si];
    if (p->stack_off[si] == UINT32_MAX) {
        if (vt_grow(&p->chain, &p->cap_chain, p->n_chain + s->depth, sizeof(uint32_t), 1024))
            return VT_ENOMEM;
        p->stack_off[si] = (uint32_t)p->n_chain;
        p->stack_len[si] = 0;
        for (uint32_t i = 0; i < s->depth; i++) {
            const char *fl;
            int ln;
            if (i > 0 && is_agent_wrapper(syms, s, i))
                continue;
            uint32_t fn = frame_fn(p, syms, s, i, &fl, &ln);
            if (fn == UINT32_MAX)
                return VT_ENOMEM;
            p->chain[p->n_chain++] = fn;
            p->stack_len[si]++;
        }
    }
    *out = p->chain + p->stack_off[si];
    *n = p->stack_len[si];
    if (s->depth) {
        vt_frame_info f[16];
        int k = vt_symbols_lookup_gen(syms, s->gen, s->frames[0], 0, f, 16);
        if (k >= 1) {
            *file = f[0].file;
            *line = f[0].line;
        }
    }
    return 0;
}

static uint32_t tree_child(vt_cpu_profile *p, uint32_t parent, uint32_t fn)
{
    for (uint32_t c = p->nodes[parent].first_child; c != UINT32_MAX; c = p->nodes[c].next_sibling)
        if (p->nodes[c].fn == fn)
            return c;
    if (vt_grow(&p->nodes, &p->cap_nodes, p->n_nodes + 1, sizeof(vt_cpu_node), 256))
        return UINT32_MAX;
    uint32_t c = (uint32_t)p->n_nodes++;
    p->nodes[c] = (vt_cpu_node){.fn = fn,
                                .parent = parent,
                                .first_child = UINT32_MAX,
                                .next_sibling = p->nodes[parent].first_child};
    p->nodes[parent].first_child = c;
    return c;
}

static const vt_cpu_profile *sort_p;

static int by_self(const void *a, const void *b)
{
    const vt_cpu_fn *x = a, *y = b;
    if (x->self_ns != y->self_ns)
        return x->self_ns < y->self_ns ? 1 : -1;
    if (x->total_ns != y->total_ns)
        return x->total_ns < y->total_ns ? 1 : -1;
    return strcmp(x->name, y->name);
}

static int by_total(const void *a, const void *b)
{
    const vt_cpu_fn *x = &sort_p->fns[*(const uint32_t *)a],
                    *y = &sort_p->fns[*(const uint32_t *)b];
    if (x->total_ns != y->total_ns)
        return x->total_ns < y->total_ns ? 1 : -1;
    return strcmp(x->name, y->name);
}

static int node_cmp(const void *a, const void *b)
{
    const vt_cpu_node *x = &sort_p->nodes[*(const uint32_t *)a];
    const vt_cpu_node *y = &sort_p->nodes[*(const uint32_t *)b];
    if (x->total_ns != y->total_ns)
        return x->total_ns < y->total_ns ? 1 : -1;
    return strcmp(sort_p->fns[x->fn].name, sort_p->fns[y->fn].name);
}

/* Orders every node's children by total time. */
static int sort_children(vt_cpu_profile *p)
{
    uint32_t *tmp = malloc((p->n_nodes + 1) * sizeof(*tmp));
    if (!tmp)
        return VT_ENOMEM;
    sort_p = p;
    for (size_t n = 0; n < p->n_nodes; n++) {
        size_t k = 0;
        for (uint32_t c = p->nodes[n].first_child; c != UINT32_MAX; c = p->nodes[c].next_sibling)
            tmp[k++] = c;
        if (k < 2)
            continue;
        qsort(tmp, k, sizeof(*tmp), node_cmp);
        p->nodes[n].first_child = tmp[0];
        for (size_t i = 0; i + 1 < k; i++)
            p->nodes[tmp[i]].next_sibling = tmp[i + 1];
        p->nodes[tmp[k - 1]].next_sibling = UINT32_MAX;
    }
    free(tmp);
    return 0;
}

void vt_cpu_profile_free(vt_cpu_profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_fns; i++)
        free(p->names[i]);
    free(p->names);
    free(p->fns);
    free(p->by_total);
    vt_index_free(&p->name_index);
    free(p->nodes);
    free(p->stack_off);
    free(p->stack_len);
    free(p->chain);
    free(p);
}

vt_cpu_profile *vt_cpu_profile_new(const vt_model *m, vt_symbols *syms, long thread)
{
    vt_cpu_profile *p = calloc(1, sizeof(*p));
    const vt_cpu *cpu = m->cpu;
    if (!p)
        return NULL;
    p->m = m;
    size_t ns = m->n_stacks ? m->n_stacks : 1;
    p->stack_off = malloc(ns * sizeof(uint32_t));
    p->stack_len = calloc(ns, sizeof(uint32_t));
    if (!p->stack_off || !p->stack_len ||
        vt_grow(&p->nodes, &p->cap_nodes, 1, sizeof(vt_cpu_node), 256))
        goto fail;
    memset(p->stack_off, 0xff, ns * sizeof(uint32_t));
    p->nodes[0] = (vt_cpu_node){.fn = UINT32_MAX,
                                .parent = UINT32_MAX,
                                .first_child = UINT32_MAX,
                                .next_sibling = UINT32_MAX};
    p->n_nodes = 1;
    /* Sorted (fns move) only at the end: until then fns are indexed by intern order. */
    uint32_t *seen = NULL;
    size_t seen_cap = 0;
    for (size_t a = 0; cpu && a < cpu->n_aggs; a++) {
        const vt_cpu_agg *g = &cpu->aggs[a];
        if (thread >= 0 && g->thread != (uint32_t)thread)
            continue;
        const uint32_t *fns;
        uint32_t n;
        const char *file;
        int line;
        if (stack_fns(p, syms, g->stack, &fns, &n, &file, &line))
            goto fail_seen;
        p->ns += g->on_ns;
        p->off_ns += g->off_ns;
        if (!n) {
            uint32_t f = intern_fn(p, "(no stack)", NULL);
            if (f == UINT32_MAX)
                goto fail_seen;
            p->fns[f].self_ns += g->on_ns;
            p->fns[f].total_ns += g->on_ns;
            p->fns[f].off_ns += g->off_ns;
            continue;
        }
        vt_cpu_fn *leaf = &p->fns[fns[0]];
        leaf->self_ns += g->on_ns;
        leaf->off_ns += g->off_ns;
        /* The hottest line of the function, by self time of the stacks sampled there. */
        if (g->on_ns > leaf->line_ns && file) {
            leaf->line_ns = g->on_ns;
            leaf->file = file;
            leaf->line = line;
        }
        /* Total: once per stack, however often recursion repeats it. */
        if (vt_grow(&seen, &seen_cap, n, sizeof(uint32_t), 64))
            goto fail_seen;
        size_t k = 0;
        for (uint32_t i = 0; i < n; i++) {
            size_t j = 0;
            while (j < k && seen[j] != fns[i])
                j++;
            if (j == k) {
                seen[k++] = fns[i];
                p->fns[fns[i]].total_ns += g->on_ns;
            }
        }
        if (!g->on_ns)
            continue;
        uint32_t node = 0;
        p->nodes[0].total_ns += g->on_ns;
        for (uint32_t i = n; i-- > 0;) {
            node = tree_child(p, node, fns[i]);
            if (node == UINT32_MAX)
                goto fail_seen;
            p->nodes[node].total_ns += g->on_ns;
        }
        p->nodes[node].self_ns += g->on_ns;
    }
    free(seen);
    /* Sort the functions by self time, renumbering the tree and the stack chains. */
    uint32_t *order = malloc((p->n_fns + 1) * sizeof(uint32_t));
    uint32_t *rank = malloc((p->n_fns + 1) * sizeof(uint32_t));
    vt_cpu_fn *sorted = malloc((p->n_fns + 1) * sizeof(vt_cpu_fn));
    char **names = malloc((p->n_fns + 1) * sizeof(char *));
    if (!order || !rank || !sorted || !names) {
        free(order);
        free(rank);
        free(sorted);
        free(names);
        goto fail;
    }
    if (p->n_fns) {
        memcpy(sorted, p->fns, p->n_fns * sizeof(vt_cpu_fn));
        qsort(sorted, p->n_fns, sizeof(vt_cpu_fn), by_self);
    }
    for (size_t i = 0; i < p->n_fns; i++) {
        rank[sorted[i].id] = (uint32_t)i;
        names[i] = (char *)sorted[i].name;
    }
    for (size_t i = 0; i < p->n_fns; i++)
        sorted[i].id = (uint32_t)i;
    free(p->fns);
    free(p->names);
    p->fns = sorted;
    p->names = names;
    p->cap_fns = p->n_fns + 1;
    for (size_t n = 1; n < p->n_nodes; n++)
        p->nodes[n].fn = rank[p->nodes[n].fn];
    for (size_t i = 0; i < p->n_chain; i++)
        p->chain[i] = rank[p->chain[i]];
    free(rank);
    vt_index_free(&p->name_index); /* rebuilt on demand by find */
    p->by_total = order;
    for (size_t i = 0; i < p->n_fns; i++)
        order[i] = (uint32_t)i;
    sort_p = p;
    qsort(order, p->n_fns, sizeof(uint32_t), by_total);
    if (sort_children(p))
        goto fail;
    return p;
fail_seen:
    free(seen);
fail:
    vt_cpu_profile_free(p);
    return NULL;
}

uint64_t vt_cpu_profile_ns(const vt_cpu_profile *p)
{
    return p->ns;
}

uint64_t vt_cpu_profile_off_ns(const vt_cpu_profile *p)
{
    return p->off_ns;
}

const vt_cpu_fn *vt_cpu_profile_fns(const vt_cpu_profile *p, size_t *n)
{
    *n = p->n_fns;
    return p->fns;
}

const uint32_t *vt_cpu_profile_by_total(const vt_cpu_profile *p, size_t *n)
{
    *n = p->n_fns;
    return p->by_total;
}

const vt_cpu_node *vt_cpu_profile_tree(const vt_cpu_profile *p, size_t *n)
{
    *n = p->n_nodes;
    return p->nodes;
}

long vt_cpu_profile_find(const vt_cpu_profile *p, const char *name)
{
    for (size_t i = 0; i < p->n_fns; i++)
        if (!strcmp(p->fns[i].name, name))
            return (long)i;
    return -1;
}

static int edge_cmp(const void *a, const void *b)
{
    const vt_cpu_edge *x = a, *y = b;
    if (x->ns != y->ns)
        return x->ns < y->ns ? 1 : -1;
    return x->fn < y->fn ? -1 : x->fn > y->fn;
}

vt_cpu_edge *vt_cpu_profile_edges(const vt_cpu_profile *p, uint32_t fn, int which, size_t *n)
{
    vt_cpu_edge *e = NULL;
    size_t cap = 0;
    *n = 0;
    const vt_cpu *cpu = p->m->cpu;
    for (size_t a = 0; cpu && a < cpu->n_aggs; a++) {
        const vt_cpu_agg *g = &cpu->aggs[a];
        if (g->stack == UINT32_MAX || g->stack >= p->m->n_stacks || !g->on_ns ||
            p->stack_off[g->stack] == UINT32_MAX)
            continue;
        const uint32_t *fns = p->chain + p->stack_off[g->stack];
        uint32_t len = p->stack_len[g->stack];
        /* The outermost occurrence (recursion counts once). */
        for (uint32_t i = len; i-- > 0;) {
            if (fns[i] != fn)
                continue;
            long other = which == 0 ? (i + 1 < len ? (long)fns[i + 1] : -1)
                                    : (i > 0 ? (long)fns[i - 1] : -1);
            if (other >= 0) {
                size_t k = 0;
                while (k < *n && e[k].fn != (uint32_t)other)
                    k++;
                if (k == *n) {
                    if (vt_grow(&e, &cap, *n + 1, sizeof(*e), 16)) {
                        free(e);
                        *n = 0;
                        return NULL;
                    }
                    e[k] = (vt_cpu_edge){(uint32_t)other, 0};
                    (*n)++;
                }
                e[k].ns += g->on_ns;
            }
            break;
        }
    }
    if (*n)
        qsort(e, *n, sizeof(*e), edge_cmp);
    return e;
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0;
}

static int hot_cmp(const void *a, const void *b)
{
    const vt_cpu_hot *x = a, *y = b;
    if (x->pct != y->pct)
        return x->pct < y->pct ? 1 : -1;
    return x->kind - y->kind;
}

vt_cpu_hot *vt_cpu_hot_spots(const vt_model *m, const vt_cpu_profile *p, size_t *n)
{
    vt_cpu_hot *h = NULL;
    size_t cap = 0;
    *n = 0;
    uint64_t whole = p->ns;
    for (size_t i = 0; i < p->n_fns && whole; i++) {
        const vt_cpu_fn *f = &p->fns[i];
        double self = pct(f->self_ns, whole), total = pct(f->total_ns, whole);
        vt_cpu_hot x = {.fn = (uint32_t)i, .via = UINT32_MAX, .thread = -1};
        if (self >= VT_CPU_HOT_SELF_PCT) {
            x.kind = VT_HOT_SELF;
            x.pct = self;
            if (f->file)
                snprintf(x.advice, sizeof(x.advice),
                         "%s runs %.1f%% of the sampled CPU time in its own code (threshold "
                         "%.0f%%), most of it at %s:%d: make that code do less (algorithm, "
                         "loop body, data layout)",
                         f->name, self, VT_CPU_HOT_SELF_PCT, f->file, f->line);
            else
                snprintf(x.advice, sizeof(x.advice),
                         "%s runs %.1f%% of the sampled CPU time in its own code (threshold "
                         "%.0f%%): make it do less, or call it less often",
                         f->name, self, VT_CPU_HOT_SELF_PCT);
        } else if (total >= VT_CPU_HOT_TOTAL_PCT && total < VT_CPU_HOT_ENTRY_PCT &&
                   self < VT_CPU_HOT_TOTAL_SELF_PCT) {
            size_t ne;
            vt_cpu_edge *e = vt_cpu_profile_edges(p, (uint32_t)i, 1, &ne);
            x.kind = VT_HOT_CALLEES;
            x.pct = total;
            if (ne) {
                x.via = e[0].fn;
                x.via_pct = pct(e[0].ns, whole);
            }
            free(e);
            snprintf(x.advice, sizeof(x.advice),
                     "%s is on the stack for %.1f%% of the sampled CPU time (threshold %.0f%%) but "
                     "runs only %.1f%% itself: the time is in what it calls%s%s%s; call it less "
                     "often, or look at that callee",
                     f->name, total, VT_CPU_HOT_TOTAL_PCT, self,
                     x.via != UINT32_MAX ? ", mostly " : "",
                     x.via != UINT32_MAX ? p->fns[x.via].name : "", "");
        } else {
            continue;
        }
        if (vt_grow(&h, &cap, *n + 1, sizeof(*h), 8))
            break;
        h[(*n)++] = x;
    }
    const vt_cpu *cpu = m->cpu;
    for (size_t t = 0; cpu && (cpu->flags & VT_CPU_F_WALL) && t < cpu->n_threads; t++) {
        const vt_cpu_thread *th = &cpu->threads[t];
        uint64_t wall = th->end_ns > th->start_ns ? th->end_ns - th->start_ns : 0;
        double off = pct(th->off_ns, wall);
        if (off < VT_CPU_OFF_PCT || !wall)
            continue;
        /* Where it blocked most: the innermost function of its heaviest off-CPU stack. */
        uint64_t best = 0;
        uint32_t fn = UINT32_MAX;
        for (size_t a = 0; a < cpu->n_aggs; a++) {
            const vt_cpu_agg *g = &cpu->aggs[a];
            if (g->thread != t || g->off_ns <= best || g->stack == UINT32_MAX ||
                g->stack >= m->n_stacks || p->stack_off[g->stack] == UINT32_MAX ||
                !p->stack_len[g->stack])
                continue;
            best = g->off_ns;
            fn = p->chain[p->stack_off[g->stack]];
        }
        vt_cpu_hot x = {
            .kind = VT_HOT_BLOCKED, .fn = fn, .via = UINT32_MAX, .pct = off, .thread = (long)t};
        snprintf(x.advice, sizeof(x.advice),
                 "thread %u spent %.1f%% of its %.3f s switched out (threshold %.0f%%), most of it "
                 "in %s: it waits (I/O, locks, sleep) rather than computes; overlap or remove "
                 "the wait",
                 th->tid, off, (double)wall / 1e9, VT_CPU_OFF_PCT,
                 fn != UINT32_MAX ? p->fns[fn].name : "an unknown place");
        if (vt_grow(&h, &cap, *n + 1, sizeof(*h), 8))
            break;
        h[(*n)++] = x;
    }
    if (*n)
        qsort(h, *n, sizeof(*h), hot_cmp);
    return h;
}

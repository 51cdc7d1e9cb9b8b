/* Builds a vt_model from a trace in one pass over its stream of records (trace/stream.h).
 * Live blocks are keyed by their allocation ordinal, which is all a free record names. */
#include "analyze/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/cpu.h"
#include "analyze/frag.h"
#include "analyze/zone_counters.h"
#include "trace/reader.h"
#include "trace/stream.h"
#include "util/array.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/index.h"
#include "util/varint.h"

static const char *const fn_names[VT_FN_COUNT] = {
#define VT_FN_NAME(name, str) str,
    VT_FN_LIST(VT_FN_NAME)
#undef VT_FN_NAME
};

const char *vt_fn_name(int fn)
{
    return fn >= 0 && fn < VT_FN_COUNT ? fn_names[fn] : "?";
}

const int vt_leak_class_order[VT_LEAK_CLASSES] = {VT_LEAK_DEFINITE, VT_LEAK_INDIRECT,
                                                  VT_LEAK_POSSIBLE, VT_LEAK_REACHABLE};

const char *vt_leak_class_name(int c)
{
    static const char *const names[VT_LEAK_CLASSES] = {
        [VT_LEAK_REACHABLE] = "still reachable",
        [VT_LEAK_POSSIBLE] = "possibly lost",
        [VT_LEAK_INDIRECT] = "indirectly lost",
        [VT_LEAK_DEFINITE] = "definitely lost",
    };
    return c >= 0 && c < VT_LEAK_CLASSES ? names[c] : "?";
}

const char *vt_leak_class_key(int c)
{
    static const char *const keys[VT_LEAK_CLASSES] = {
        [VT_LEAK_REACHABLE] = "still_reachable",
        [VT_LEAK_POSSIBLE] = "possibly_lost",
        [VT_LEAK_INDIRECT] = "indirectly_lost",
        [VT_LEAK_DEFINITE] = "definitely_lost",
    };
    return c >= 0 && c < VT_LEAK_CLASSES ? keys[c] : "?";
}

const char *vt_leak_check_status(const vt_model *m)
{
    if (!m->scan.present)
        return "not run";
    switch (m->scan.status) {
    case VT_SCAN_DONE:
        return "done";
    case VT_SCAN_NOMEM:
        return "out of memory";
    case VT_SCAN_FOREIGN:
        return "foreign allocator";
    }
    return "unknown";
}

/* Live blocks: open addressing on ordinal + 1 (0 marks an empty slot), deletion by backward
 * shift. */
struct live {
    uint64_t ptr; /* ordinal + 1 */
    uint64_t size;
    uint64_t waste; /* usable size minus size */
    uint32_t site;
    uint32_t thread;
    uint64_t tsc;           /* when it was allocated */
    uint32_t chain, origin; /* its realloc chain (patterns.h) */
};

struct live_map {
    struct live *slots;
    size_t mask, count;
};

static int live_grow(struct live_map *m)
{
    size_t cap = m->slots ? (m->mask + 1) * 2 : 1024;
    struct live *ns = calloc(cap, sizeof(*ns));
    if (!ns)
        return VT_ENOMEM;
    for (size_t i = 0; m->slots && i <= m->mask; i++) {
        if (!m->slots[i].ptr)
            continue;
        size_t j = vt_hash64(m->slots[i].ptr) & (cap - 1);
        while (ns[j].ptr)
            j = (j + 1) & (cap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->mask = cap - 1;
    return 0;
}

static struct live *live_find(struct live_map *m, uint64_t ptr)
{
    if (!m->slots)
        return NULL;
    for (size_t i = vt_hash64(ptr) & m->mask;; i = (i + 1) & m->mask) {
        if (m->slots[i].ptr == ptr)
            return &m->slots[i];
        if (!m->slots[i].ptr)
            return NULL;
    }
}

/* Returns the slot for ptr, inserting an empty one (size 0) if absent; NULL on no memory. */
static struct live *live_put(struct live_map *m, uint64_t ptr, int *existed)
{
    if (!m->slots || (m->count + 1) * 4 > (m->mask + 1) * 3) {
        if (live_grow(m))
            return NULL;
    }
    size_t i = vt_hash64(ptr) & m->mask;
    for (; m->slots[i].ptr; i = (i + 1) & m->mask) {
        if (m->slots[i].ptr == ptr) {
            *existed = 1;
            return &m->slots[i];
        }
    }
    *existed = 0;
    m->count++;
    m->slots[i].ptr = ptr;
    return &m->slots[i];
}

static void live_remove(struct live_map *m, struct live *e)
{
    size_t i = (size_t)(e - m->slots);
    size_t j = i;
    m->count--;
    for (;;) {
        j = (j + 1) & m->mask;
        if (!m->slots[j].ptr)
            break;
        size_t home = vt_hash64(m->slots[j].ptr) & m->mask;
        /* Move j back into the hole at i unless its home lies cyclically in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].ptr = 0;
}

struct region {
    uint64_t start, len;
    uint32_t site;
};

struct loader {
    vt_model *m;
    vt_reader *r;
    /* stacks as numbered in the trace, and their canonical (deduplicated) index */
    uint32_t *canon;
    size_t n_ids;
    vt_index stack_index;   /* canonical stacks by their frames */
    int32_t *site_of_stack; /* per canonical stack, -1 if none */
    int64_t empty_stack;    /* canonical index of the empty stack, -1 until needed */
    size_t sites_cap, stacks_cap, modules_cap, threads_cap;
    struct live_map live;
    struct region *regions;
    size_t n_regions, regions_cap;
    uint64_t *last_alloc; /* per thread: ordinal + 1 of its latest allocation */
    uint64_t heap, blocks, mapped, waste;
    uint64_t epoch;
    uint64_t mem_epoch;  /* the peak epoch when the last memory sample was taken */
    uint64_t mem_stride; /* samples per point of the memory series */
    uint64_t start_tsc, start_ns, tsc_hz, clock_tsc, clock_ns, last_tsc, peak_tsc;
    int time_shift;
    uint64_t now;                         /* the time of the record being applied */
    double tick_ns;                       /* ns per tick for lifetimes during the pass */
    uint64_t end_clock_tsc, end_clock_ns; /* the trace's last clock pair (prescan_clock) */
    int have_info;
    int have_modmap; /* MODMAP records tag the module maps (version 1.1) */
    uint32_t cur_gen;
    uint64_t leak_ord; /* the ordinal of the last LEAK record */
    int err;
};

static int add_module(struct loader *L, const vt_module *mod)
{
    vt_model *m = L->m;
    if (vt_grow(&m->modules, &L->modules_cap, m->n_modules + 1, sizeof(*mod), 32))
        return VT_ENOMEM;
    m->modules[m->n_modules++] = *mod;
    return 0;
}

static uint64_t stack_hash(const void *ctx, size_t s)
{
    const vt_stack *st = &((const vt_model *)ctx)->stacks[s];
    return vt_hash_words(st->frames, st->depth);
}

/* Returns the canonical index of frames (taking ownership of them), or -1 on no memory. */
static int64_t intern_stack(struct loader *L, uint64_t *frames, uint32_t depth, uint32_t gen)
{
    vt_model *m = L->m;
    vt_index *x = &L->stack_index;
    if (vt_index_fit(x, m->n_stacks, 4096, stack_hash, m)) {
        free(frames);
        return -1;
    }
    size_t i = vt_index_first(x, vt_hash_words(frames, depth));
    for (; x->slots[i] != VT_INDEX_EMPTY; i = vt_index_next(x, i)) {
        vt_stack *s = &m->stacks[x->slots[i]];
        if (s->depth == depth && s->gen == gen &&
            !memcmp(s->frames, frames, depth * sizeof(uint64_t))) {
            free(frames);
            return x->slots[i];
        }
    }
    if (m->n_stacks == L->stacks_cap) {
        size_t cap = L->stacks_cap ? L->stacks_cap * 2 : 1024;
        vt_stack *ns = realloc(m->stacks, cap * sizeof(*ns));
        if (ns)
            m->stacks = ns;
        int32_t *so = realloc(L->site_of_stack, cap * sizeof(*so));
        if (so)
            L->site_of_stack = so;
        if (!ns || !so) {
            free(frames);
            return -1;
        }
        L->stacks_cap = cap;
    }
    m->stacks[m->n_stacks] = (vt_stack){.depth = depth, .gen = gen, .frames = frames};
    L->site_of_stack[m->n_stacks] = -1;
    x->slots[i] = (uint32_t)m->n_stacks;
    return (int64_t)m->n_stacks++;
}

/* A duration of ticks in ns (saturating: a damaged trace may hold any time). */
static uint64_t ticks_to_ns(uint64_t ticks, double ns_per_tick)
{
    double v = (double)ticks * ns_per_tick;
    return v < 1.8e19 ? (uint64_t)v : UINT64_MAX;
}

static uint64_t to_ns(const struct loader *L, uint64_t tsc, double ns_per_tick)
{
    if (tsc <= L->start_tsc)
        return 0;
    return (uint64_t)((double)(tsc - L->start_tsc) * ns_per_tick);
}

struct tick_conv {
    const struct loader *L;
    double ns_per_tick;
};

static uint64_t tick_to_ns(uint64_t tick, const void *arg)
{
    const struct tick_conv *c = arg;
    return to_ns(c->L, tick, c->ns_per_tick);
}

static vt_site *site_for(struct loader *L, uint64_t trace_stack)
{
    vt_model *m = L->m;
    uint32_t canon = trace_stack < L->n_ids ? L->canon[trace_stack] : UINT32_MAX;
    if (canon == UINT32_MAX) {
        /* A stack the trace never defined (its block was lost): the empty stack. */
        if (L->empty_stack < 0) {
            uint64_t *none = malloc(sizeof(uint64_t));
            L->empty_stack = none ? intern_stack(L, none, 0, UINT32_MAX) : -1;
            if (L->empty_stack < 0)
                return NULL;
        }
        canon = (uint32_t)L->empty_stack;
    }
    int32_t s = L->site_of_stack[canon];
    if (s >= 0)
        return &m->sites[s];
    if (vt_grow(&m->sites, &L->sites_cap, m->n_sites + 1, sizeof(vt_site), 1024))
        return NULL;
    vt_site *site = &m->sites[m->n_sites];
    memset(site, 0, sizeof(*site));
    site->stack = canon;
    L->site_of_stack[canon] = (int32_t)m->n_sites++;
    return site;
}

/* Brings the site's value at the last peak up to date before it changes: a site not touched
 * since the peak still holds what it held then. */
static inline void site_touch(struct loader *L, vt_site *s)
{
    if (s->epoch != L->epoch) {
        s->at_peak_bytes = s->live_bytes;
        s->at_peak_blocks = s->live_blocks;
        s->at_peak_waste = s->live_waste;
        s->epoch = L->epoch;
    }
}

/* The thread with this index, made (with an unknown tid) if the trace has not named it: its
 * THREAD_START may have been in a block that could not be read. */
static vt_thread_stats *thread_at(struct loader *L, uint64_t index)
{
    vt_model *m = L->m;
    if (index >= (1u << 22))
        return NULL;
    if (index >= m->n_threads) {
        size_t cap = L->threads_cap;
        if (vt_grow(&m->threads, &cap, index + 1, sizeof(*m->threads), 16) ||
            vt_grow(&L->last_alloc, &L->threads_cap, index + 1, sizeof(*L->last_alloc), 16))
            return NULL;
        memset(m->threads + m->n_threads, 0, (index + 1 - m->n_threads) * sizeof(*m->threads));
        memset(L->last_alloc + m->n_threads, 0,
               (index + 1 - m->n_threads) * sizeof(*L->last_alloc));
        m->n_threads = index + 1;
    }
    return &m->threads[index];
}

static void do_alloc(struct loader *L, int64_t thread, int fn, uint64_t ord, uint64_t size,
                     uint64_t stack, uint64_t waste)
{
    vt_model *m = L->m;
    vt_site *s = site_for(L, stack);
    int existed;
    struct live *e = s ? live_put(&L->live, ord + 1, &existed) : NULL;
    if (!e) {
        L->err = VT_ENOMEM;
        return;
    }
    e->size = size;
    e->waste = waste;
    e->site = (uint32_t)(s - m->sites);
    e->thread = (uint32_t)thread;
    e->tsc = L->now;
    if (vt__patterns_alloc(&m->patterns, e->site, thread, fn, size, &e->chain, &e->origin) ||
        vt__timeline_change(&m->timeline, L->now, e->site, s->live_bytes, L->heap, L->heap + size,
                            1, size))
        L->err = VT_ENOMEM;
    site_touch(L, s);
    s->alloc_calls++;
    s->alloc_bytes += size;
    s->live_blocks++;
    s->live_bytes += size;
    s->waste_bytes += waste;
    s->live_waste += waste;
    s->fn_mask |= 1ull << fn;
    if (m->zones.priv)
        vt__zones_alloc(&m->zones, thread, size);
    m->alloc_calls++;
    m->alloc_bytes += size;
    m->waste_bytes += waste;
    m->fn_calls[fn]++;
    if (thread >= 0) {
        m->threads[thread].alloc_calls++;
        m->threads[thread].alloc_bytes += size;
        L->last_alloc[thread] = ord + 1;
    }
    L->heap += size;
    L->blocks++;
    L->waste += waste;
    if (L->heap > m->peak_bytes) {
        m->peak_bytes = L->heap;
        m->peak_blocks = L->blocks;
        m->peak_waste = L->waste;
        L->epoch++;
    }
}

/* Releases block ord; counts it as a call of fn unless fn is -1 (an implied release). */
static void do_free(struct loader *L, int64_t thread, int fn, uint64_t ord)
{
    vt_model *m = L->m;
    if (fn == VT_FN_REALLOC || fn == VT_FN_REALLOCARRAY) {
        m->realloc_calls++;
    } else if (fn >= 0) {
        m->free_calls++;
        m->fn_calls[fn]++;
        if (thread >= 0)
            m->threads[thread].frees++;
    }
    struct live *e = live_find(&L->live, ord + 1);
    if (!e) {
        /* Its allocation was in a block that could not be read. */
        m->unmatched_frees++;
        vt__patterns_unmatched(&m->patterns, thread);
        return;
    }
    vt_site *s = &m->sites[e->site];
    uint64_t life = L->now > e->tsc ? L->now - e->tsc : 0;
    if (vt__patterns_free(&m->patterns, e->site, e->thread, thread, fn, e->size, e->chain,
                          e->origin) ||
        vt__lifetimes_free(&m->lifetimes, e->site, ticks_to_ns(life, L->tick_ns)) ||
        vt__timeline_change(&m->timeline, L->now, e->site, s->live_bytes, L->heap,
                            L->heap - e->size, 0, 0))
        L->err = VT_ENOMEM;
    site_touch(L, s);
    s->live_blocks--;
    s->live_bytes -= e->size;
    s->live_waste -= e->waste;
    L->heap -= e->size;
    L->waste -= e->waste;
    L->blocks--;
    if (fn >= 0 && fn != VT_FN_REALLOC && fn != VT_FN_REALLOCARRAY && thread >= 0 &&
        L->last_alloc[thread] == ord + 1) {
        s->temporary++;
        m->temporary++;
    }
    live_remove(&L->live, e);
}

static int region_add(struct loader *L, struct region r)
{
    if (vt_grow(&L->regions, &L->regions_cap, L->n_regions + 1, sizeof(r), 64))
        return VT_ENOMEM;
    L->regions[L->n_regions++] = r;
    return 0;
}

static void do_mmap(struct loader *L, uint64_t addr, uint64_t size, uint64_t stack)
{
    vt_model *m = L->m;
    vt_site *s = site_for(L, stack);
    if (!s || region_add(L, (struct region){addr, size, (uint32_t)(s - m->sites)})) {
        L->err = VT_ENOMEM;
        return;
    }
    s->mapped_calls++;
    s->mapped_bytes += size;
    s->mapped_live += size;
    s->fn_mask |= 1ull << 63;
    m->mmap_calls++;
    m->mapped_bytes += size;
    L->mapped += size;
    if (L->mapped > m->mapped_peak)
        m->mapped_peak = L->mapped;
}

/* Removes [addr, addr + size) from the recorded mappings, splitting those it cuts. */
static void do_munmap(struct loader *L, uint64_t addr, uint64_t size)
{
    vt_model *m = L->m;
    uint64_t lo = addr, hi = addr + size;
    int counted = 0;
    for (size_t i = 0; i < L->n_regions;) {
        struct region *r = &L->regions[i];
        uint64_t rlo = r->start, rhi = r->start + r->len;
        if (rhi <= lo || rlo >= hi) {
            i++;
            continue;
        }
        uint64_t cut = (rhi < hi ? rhi : hi) - (rlo > lo ? rlo : lo);
        /* Only unmaps of recorded (anonymous) mappings count; the rest are file mappings or
         * memory mapped inside the C library. */
        if (!counted++)
            m->munmap_calls++;
        m->sites[r->site].mapped_live -= cut;
        L->mapped -= cut;
        if (rlo < lo && rhi > hi) {
            struct region right = {hi, rhi - hi, r->site};
            r->len = lo - rlo;
            if (region_add(L, right)) {
                L->err = VT_ENOMEM;
                return;
            }
            i++;
        } else if (rlo < lo) {
            r->len = lo - rlo;
            i++;
        } else if (rhi > hi) {
            r->start = hi;
            r->len = rhi - hi;
            i++;
        } else {
            L->regions[i] = L->regions[--L->n_regions];
        }
    }
}

#define GET(col, v)                                                                                \
    do {                                                                                           \
        if (vt_stream_get(&d, (col), &(v)))                                                        \
            goto bad;                                                                              \
    } while (0)

#define TIME()                                                                                     \
    do {                                                                                           \
        uint64_t dq_;                                                                              \
        GET(VT_COL_TIME, dq_);                                                                     \
        q += dq_;                                                                                  \
        tsc = q << L->time_shift;                                                                  \
        L->now = tsc;                                                                              \
        if (tsc > L->last_tsc)                                                                     \
            L->last_tsc = tsc;                                                                     \
    } while (0)

static int decode_scan(struct loader *L, vt_stream_dec *dp)
{
    vt_stream_dec d = *dp;
    vt_leak_scan *sc = &L->m->scan;
    uint64_t f[18];
    for (int i = 0; i < 18; i++)
        GET(VT_COL_MISC, f[i]);
    memset(sc, 0, sizeof(*sc));
    sc->present = 1;
    sc->status = f[0] > 255 ? 255 : (int)f[0];
    sc->blocks = f[1];
    static const int order[4] = {VT_LEAK_DEFINITE, VT_LEAK_INDIRECT, VT_LEAK_POSSIBLE,
                                 VT_LEAK_REACHABLE};
    for (int i = 0; i < 4; i++) {
        sc->count[order[i]] = f[2 + 2 * i];
        sc->bytes[order[i]] = f[3 + 2 * i];
    }
    sc->root_bytes = f[10];
    sc->heap_bytes = f[11];
    sc->ns = f[12];
    sc->threads = f[13];
    sc->threads_sp = f[14];
    sc->flags = f[15];
    sc->heuristic_blocks = f[16];
    sc->heuristic_bytes = f[17];
    L->leak_ord = UINT64_MAX;
    *dp = d;
    return 0;
bad:
    return -1;
}

static void do_leak(struct loader *L, uint64_t ord, uint64_t cls)
{
    vt_model *m = L->m;
    struct live *e = live_find(&L->live, ord + 1);
    if (!e || cls >= VT_LEAK_CLASSES) {
        m->scan.unmatched++;
        return;
    }
    vt_site *s = &m->sites[e->site];
    s->leak_blocks[cls]++;
    s->leak_bytes[cls] += e->size;
}

static int decode_info(struct loader *L, vt_stream_dec *dp)
{
    vt_stream_dec d = *dp;
    vt_model *m = L->m;
    uint64_t v[9];
    for (int i = 0; i < 9; i++)
        GET(VT_COL_MISC, v[i]);
    if (v[8] > 32)
        goto bad;
    m->pid = v[0];
    m->ppid = v[1];
    L->tsc_hz = v[2];
    L->start_tsc = v[3];
    L->start_ns = v[4];
    m->start_realtime_ns = v[5];
    m->depth = (int)v[6];
    m->forked = (v[7] & VT_INFO_FORKED) != 0;
    m->zones.zones_only = (v[7] & VT_INFO_ZONES_ONLY) != 0;
    L->time_shift = (int)v[8];
    /* The fit vt_model_load makes at the end, if the last clock pair is known already. */
    if (L->end_clock_ns > L->start_ns + 10000000 && L->end_clock_tsc > L->start_tsc)
        L->tick_ns =
            (double)(L->end_clock_ns - L->start_ns) / (double)(L->end_clock_tsc - L->start_tsc);
    else
        L->tick_ns = L->tsc_hz ? 1e9 / (double)L->tsc_hz : 1.0;
    if (!m->timeline.buckets &&
        vt__timeline_start(&m->timeline, L->start_tsc, 1ull << L->time_shift))
        goto bad;
    free(m->exe);
    m->exe = NULL;
    if (vt_stream_get_str(&d, &m->exe))
        goto bad;
    uint64_t argc;
    GET(VT_COL_MISC, argc);
    if (argc > (uint64_t)(d.end[VT_COL_MISC] - d.p[VT_COL_MISC]))
        goto bad;
    for (size_t i = 0; i < m->argc; i++)
        free(m->argv[i]);
    free(m->argv);
    m->argc = 0;
    m->argv = calloc(argc + 1, sizeof(char *));
    if (!m->argv)
        goto bad;
    for (; m->argc < argc; m->argc++)
        if (vt_stream_get_str(&d, &m->argv[m->argc]))
            goto bad;
    L->have_info = 1;
    *dp = d;
    return 0;
bad:
    return -1;
}

static int decode_module(struct loader *L, vt_stream_dec *dp)
{
    vt_stream_dec d = *dp;
    vt_model *m = L->m;
    vt_module mod = {0};
    uint64_t blen;
    if (vt_stream_get_str(&d, &mod.path))
        return -1;
    GET(VT_COL_MISC, mod.bias);
    GET(VT_COL_MISC, mod.start);
    GET(VT_COL_MISC, mod.end);
    GET(VT_COL_MISC, blen);
    if (blen > 64 || blen > (uint64_t)(d.end[VT_COL_MISC] - d.p[VT_COL_MISC]))
        goto bad;
    memcpy(mod.build_id, d.p[VT_COL_MISC], blen);
    mod.build_id_len = (uint32_t)blen;
    d.p[VT_COL_MISC] += blen;
    /* The whole map is written again after a dlopen; keep one copy of each, with the code
     * generations it was seen in. Without MODMAP records (version 1.0) a module counts for all
     * generations. */
    mod.first_gen = L->have_modmap ? L->cur_gen : 0;
    mod.last_gen = L->have_modmap ? L->cur_gen : UINT32_MAX;
    for (size_t i = 0; i < m->n_modules; i++) {
        vt_module *o = &m->modules[i];
        if (o->start == mod.start && o->end == mod.end && !strcmp(o->path, mod.path)) {
            if (mod.first_gen < o->first_gen)
                o->first_gen = mod.first_gen;
            if (mod.last_gen > o->last_gen)
                o->last_gen = mod.last_gen;
            free(mod.path);
            *dp = d;
            return 0;
        }
    }
    if (add_module(L, &mod))
        goto bad;
    *dp = d;
    return 0;
bad:
    free(mod.path);
    return -1;
}

static int decode_stack(struct loader *L, vt_stream_dec *dp)
{
    vt_stream_dec d = *dp;
    uint64_t id, depth, v, prev = 0;
    uint64_t gen = UINT32_MAX;
    GET(VT_COL_MISC, id);
    GET(VT_COL_MISC, depth);
    if (vt_reader_minor(L->r) >= 1)
        GET(VT_COL_MISC, gen);
    if (depth > 4096 || id >= (1u << 24) || gen > UINT32_MAX) /* agent ids stay below 2^24 */
        goto bad;
    uint64_t *frames = malloc((depth ? depth : 1) * sizeof(uint64_t));
    if (!frames)
        goto bad;
    for (uint64_t i = 0; i < depth; i++) {
        if (vt_stream_get(&d, VT_COL_MISC, &v)) {
            free(frames);
            goto bad;
        }
        prev += (uint64_t)vt_unzigzag(v);
        frames[i] = prev;
    }
    int64_t canon = intern_stack(L, frames, (uint32_t)depth, (uint32_t)gen);
    if (canon < 0)
        goto bad;
    if (id >= L->n_ids) {
        size_t n_ids = (id + 1) * 2;
        uint32_t *nc = realloc(L->canon, n_ids * sizeof(*nc));
        if (!nc)
            goto bad;
        memset(nc + L->n_ids, 0xff, (n_ids - L->n_ids) * sizeof(*nc));
        L->canon = nc;
        L->n_ids = n_ids;
    }
    L->canon[id] = (uint32_t)canon;
    *dp = d;
    return 0;
bad:
    return -1;
}

static int decode_meminfo(struct loader *L, vt_stream_dec *dp, uint64_t tsc)
{
    vt_stream_dec d = *dp;
    vt_model *m = L->m;
    uint64_t v[VT_MEM_FIELDS];
    for (int i = 0; i < VT_MEM_HEAP; i++)
        GET(VT_COL_MISC, v[i]);
    v[VT_MEM_HEAP] = L->heap;
    if (vt__mem_add(m, &L->mem_stride, v, tsc)) {
        L->err = VT_ENOMEM;
        goto bad;
    }
    /* The first sample after each new heap peak stands for the peak. */
    if (L->epoch != L->mem_epoch) {
        vt__mem_point_set(&m->mem_at_peak, v, tsc);
        L->mem_epoch = L->epoch;
    }
    vt__mem_point_set(&m->mem_at_exit, v, tsc);
    m->has_mem_at_exit = 1;
    *dp = d;
    return 0;
bad:
    return -1;
}

static int decode_stack_usage(struct loader *L, vt_stream_dec *dp)
{
    vt_stream_dec d = *dp;
    uint64_t index, size, used;
    GET(VT_COL_MISC, index);
    GET(VT_COL_MISC, size);
    GET(VT_COL_MISC, used);
    vt_thread_stats *th = thread_at(L, index);
    if (!th)
        goto bad;
    th->has_stack = 1;
    th->stack_size = size;
    th->stack_used = used;
    *dp = d;
    return 0;
bad:
    return -1;
}

/* Applies every record of one block. */
static void decode_block(struct loader *L, const vt_block_info *b, const uint8_t *raw, size_t n)
{
    vt_model *m = L->m;
    vt_stream_dec d;
    uint64_t q = b->base_time, ord = b->base_ordinal, tsc = 0, map_addr = 0, a, c = 0, e, f;
    int64_t thread = -1;
    const uint8_t *rec = NULL;
    uint8_t tag = 0;
    if (vt_stream_dec_init(&d, raw, n)) {
        vt_reader_warn(L->r, "the block at byte %llu is malformed and was skipped",
                       (unsigned long long)b->offset);
        return;
    }
    while (vt_stream_more(&d) && !L->err) {
        rec = d.p[VT_COL_TAG];
        tag = *d.p[VT_COL_TAG]++;
        int fn = tag & 0x0f;
        if (!L->have_info && tag != VT_TAG_INFO)
            goto bad;
        switch (tag & 0xf0) {
        case 0x00:
            switch (tag) {
            case VT_TAG_INFO:
                if (decode_info(L, &d))
                    goto bad;
                if (!q)
                    q = b->base_time;
                break;
            case VT_TAG_MODULE:
                if (decode_module(L, &d))
                    goto bad;
                break;
            case VT_TAG_STACK:
                if (decode_stack(L, &d))
                    goto bad;
                break;
            case VT_TAG_MODMAP:
                GET(VT_COL_MISC, a);
                if (a > UINT32_MAX)
                    goto bad;
                L->have_modmap = 1;
                L->cur_gen = (uint32_t)a;
                break;
            case VT_TAG_CLOCK:
                GET(VT_COL_MISC, a);
                GET(VT_COL_MISC, c);
                L->clock_tsc = a;
                L->clock_ns = c;
                break;
            case VT_TAG_END:
                GET(VT_COL_MISC, a);
                GET(VT_COL_MISC, c);
                GET(VT_COL_MISC, e);
                GET(VT_COL_MISC, f);
                m->has_end = 1;
                m->end_reason = (int)a;
                m->end_status = (int)c;
                m->dropped = e;
                if (f > L->last_tsc)
                    L->last_tsc = f;
                break;
            case VT_TAG_STOPPED:
                free(m->stopped);
                m->stopped = NULL;
                if (vt_stream_get_str(&d, &m->stopped))
                    goto bad;
                break;
            case VT_TAG_SCAN:
                if (decode_scan(L, &d))
                    goto bad;
                break;
            case VT_TAG_MEMINFO:
                TIME();
                if (decode_meminfo(L, &d, tsc))
                    goto bad;
                break;
            case VT_TAG_STACK_USAGE:
                if (decode_stack_usage(L, &d))
                    goto bad;
                break;
            case VT_TAG_LOCATION: {
                int r = vt__zones_location(&m->zones, &d);
                if (r == VT_ENOMEM)
                    L->err = r;
                else if (r)
                    goto bad;
                break;
            }
            case VT_TAG_EXEC:
                GET(VT_COL_MISC, a);
                free(m->exec_path);
                m->exec_path = NULL;
                if (vt_stream_get_str(&d, &m->exec_path))
                    goto bad;
                if (a > L->last_tsc)
                    L->last_tsc = a;
                break;
            default:
                goto bad;
            }
            break;
        case VT_TAG_ALLOC:
            if (fn >= VT_FN_COUNT)
                goto bad;
            TIME();
            GET(VT_COL_SIZE, a);
            GET(VT_COL_STACK, c);
            e = 0;
            if (vt_reader_minor(L->r) >= 2)
                GET(VT_COL_MISC, e);
            {
                uint64_t before = m->peak_bytes;
                do_alloc(L, thread, fn, ord++, a, c, e);
                if (m->peak_bytes != before)
                    L->peak_tsc = tsc;
            }
            break;
        case VT_TAG_FREE:
        case VT_TAG_FREE_UNKNOWN:
            if (fn >= VT_FN_COUNT)
                goto bad;
            TIME();
            if ((tag & 0xf0) == VT_TAG_FREE) {
                GET(VT_COL_ORDINAL, a);
                if (a == 0 || a > ord)
                    goto bad;
                do_free(L, thread, fn, ord - a);
            } else {
                do_free(L, thread, fn, UINT64_MAX - 1); /* never live */
            }
            break;
        case VT_TAG_FREE_IMPLIED:
            if (tag != VT_TAG_FREE_IMPLIED)
                goto bad;
            TIME();
            GET(VT_COL_ORDINAL, a);
            if (a == 0 || a > ord)
                goto bad;
            do_free(L, thread, -1, ord - a);
            break;
        case 0x30:
            if (tag != VT_TAG_MMAP && tag != VT_TAG_MUNMAP)
                goto bad;
            TIME();
            GET(VT_COL_SIZE, a);
            if (tag == VT_TAG_MMAP)
                GET(VT_COL_STACK, c);
            GET(VT_COL_MISC, e);
            map_addr += (uint64_t)vt_unzigzag(e);
            if (tag == VT_TAG_MMAP)
                do_mmap(L, map_addr, a, c);
            else
                do_munmap(L, map_addr, a);
            break;
        case 0x90: /* the CPU profile (cpu.c) */
            if (tag == VT_TAG_ZONE_COUNTERS || tag == VT_TAG_ZONE_COUNTER_EVENT) {
                /* counters at zone boundaries (zone_counters.c), from version 1.4 */
                if (tag == VT_TAG_ZONE_COUNTERS)
                    TIME();
                int r = vt__zc_decode(&m->zone_counters, &m->zones, tag, &d);
                if (r == VT_ENOMEM)
                    L->err = r;
                if (r)
                    goto bad;
                break;
            }
            if (tag == VT_TAG_CPU_SAMPLE)
                TIME();
            {
                int r = vt__cpu_decode(&m->cpu, tag, &d, tsc, L->canon, L->n_ids);
                if (r == VT_ENOMEM)
                    L->err = r;
                if (r)
                    goto bad;
            }
            break;
        case 0x80: { /* libvitals' records (zones.c) */
            TIME();
            int r = vt__zones_record(&m->zones, tag, &d, thread, tsc);
            if (r == VT_ENOMEM)
                L->err = r;
            else if (r)
                goto bad;
            break;
        }
        case VT_TAG_LEAK:
            if (tag != VT_TAG_LEAK || !m->scan.present)
                goto bad;
            GET(VT_COL_ORDINAL, a);
            GET(VT_COL_MISC, c);
            L->leak_ord += a;
            do_leak(L, L->leak_ord, c);
            break;
        case 0xa0: /* live monitoring (series.h), from version 1.3 */
            if (tag == VT_TAG_METRICS || tag == VT_TAG_ALERT)
                TIME();
            a = tsc > L->start_tsc ? ticks_to_ns(tsc - L->start_tsc, L->tick_ns) : 0;
            int se = vt__series_decode(&m->series, tag, &d, a);
            if (se == VT_ENOMEM)
                L->err = se;
            else if (se)
                goto bad;
            break;
        case 0x40:
            if (tag == VT_TAG_THREAD_START) {
                TIME();
                GET(VT_COL_MISC, a);
                GET(VT_COL_MISC, c);
                vt_thread_stats *th = thread_at(L, c);
                if (!th)
                    goto bad;
                th->tid = (uint32_t)a;
                thread = (int64_t)c;
                th->first_ns = tsc; /* ticks until the end */
            } else if (tag == VT_TAG_THREAD_EXIT) {
                TIME();
                if (thread >= 0)
                    m->threads[thread].last_ns = tsc;
            } else if (tag == VT_TAG_THREAD) {
                GET(VT_COL_THREAD, a);
                if (!thread_at(L, a))
                    goto bad;
                thread = (int64_t)a;
            } else {
                goto bad;
            }
            break;
        default:
            goto bad;
        }
        m->events++;
    }
    return;
bad:
    vt_reader_warn(L->r,
                   "malformed record (tag 0x%02x, record %zu of the block at byte %llu); the rest "
                   "of that block was skipped",
                   tag, rec ? (size_t)(rec - d.base) : 0, (unsigned long long)b->offset);
}
#undef GET
#undef TIME

struct finish_arg {
    const struct loader *L;
    double ns_per_tick;
};

static uint64_t finish_site_live(const void *arg, size_t i)
{
    return ((const struct finish_arg *)arg)->L->m->sites[i].live_bytes;
}

static uint64_t finish_ns(const void *arg, uint64_t tsc)
{
    const struct finish_arg *a = arg;
    return tsc > a->L->start_tsc ? ticks_to_ns(tsc - a->L->start_tsc, a->ns_per_tick) : 0;
}

/* Ends the analyses of timeline.h, lifetime.h and patterns.h: the ages of the blocks still
 * live, the growth rule. */
static int finish_patterns(struct loader *L, double ns_per_tick)
{
    vt_model *m = L->m;
    for (size_t i = 0; L->live.slots && i <= L->live.mask; i++) {
        const struct live *e = &L->live.slots[i];
        uint64_t age = e->ptr && L->last_tsc > e->tsc ? L->last_tsc - e->tsc : 0;
        if (e->ptr && vt__lifetimes_live(&m->lifetimes, e->site, ticks_to_ns(age, ns_per_tick)))
            return VT_ENOMEM;
    }
    vt__patterns_finish(&m->patterns);
    struct finish_arg a = {L, ns_per_tick};
    return vt__timeline_finish(&m->timeline, L->last_tsc, m->n_sites, finish_site_live, finish_ns,
                               &a);
}

void vt_model_free(vt_model *m)
{
    if (!m)
        return;
    free(m->exe);
    for (size_t i = 0; i < m->argc; i++)
        free(m->argv[i]);
    free(m->argv);
    free(m->exec_path);
    free(m->stopped);
    for (size_t i = 0; i < m->n_stacks; i++)
        free(m->stacks[i].frames);
    free(m->stacks);
    free(m->sites);
    vt__timeline_release(&m->timeline);
    vt__lifetimes_release(&m->lifetimes);
    vt__patterns_release(&m->patterns);
    vt__zones_release(&m->zones);
    for (size_t i = 0; i < m->n_modules; i++)
        free(m->modules[i].path);
    free(m->modules);
    free(m->threads);
    free(m->mem);
    free(m->warnings);
    vt_series_release(&m->series);
    vt__cpu_free(m->cpu);
    vt__zc_free(m->zone_counters);
    free(m);
}

int vt_model_cpu_only(const vt_model *m)
{
    return m->cpu && (m->cpu->flags & VT_CPU_F_NO_ALLOC);
}

static void loader_release(struct loader *L)
{
    free(L->canon);
    vt_index_free(&L->stack_index);
    free(L->site_of_stack);
    free(L->live.slots);
    free(L->regions);
    free(L->last_alloc);
    vt_reader_free(L->r);
}

/* Finds the trace's last clock pair before the pass, in its last blocks (the agent writes one
 * at the end), by applying them to a scratch model: lifetimes, measured during the pass, then
 * use the fit that turns every other time into ns at the end. INFO's frequency, measured over
 * 200 us at start-up, is off when the agent was preempted meanwhile. */
static void prescan_clock(const char *path, struct loader *L)
{
    struct loader S = {.empty_stack = -1, .have_info = 1};
    uint8_t *buf = NULL;
    size_t cap = 0, n;
    int e;
    char msg[8];
    S.m = calloc(1, sizeof(*S.m));
    S.r = S.m ? vt_reader_open(path, &e, msg, sizeof(msg)) : NULL;
    size_t nb = S.r ? vt_reader_block_count(S.r) : 0;
    for (size_t i = nb; i-- > 0 && nb - i <= 4 && !S.clock_ns && !S.err;)
        if (vt_reader_load(S.r, i, &buf, &cap, &n) == 0)
            decode_block(&S, vt_reader_block(S.r, i), buf, n);
    L->end_clock_tsc = S.clock_tsc;
    L->end_clock_ns = S.clock_ns;
    free(buf);
    vt_model_free(S.m);
    loader_release(&S);
}

vt_model *vt_model_load(const char *path, vt_progress_fn progress, void *progress_arg, int *err,
                        char *msg, size_t msg_size)
{
    struct loader L = {.empty_stack = -1};
    uint8_t *buf = NULL;
    size_t cap = 0, n;
    int e = 0;
    L.m = calloc(1, sizeof(*L.m));
    if (!L.m) {
        e = VT_ENOMEM;
        snprintf(msg, msg_size, "out of memory");
        goto fail;
    }
    L.r = vt_reader_open(path, &e, msg, msg_size);
    if (!L.r)
        goto fail;
    vt_model *m = L.m;
    prescan_clock(path, &L);
    m->trace_bytes = vt_reader_file_size(L.r);
    size_t nb = vt_reader_block_count(L.r);
    for (size_t i = 0; i < nb && !L.err; i++) {
        const vt_block_info *b = vt_reader_block(L.r, i);
        if (vt_reader_load(L.r, i, &buf, &cap, &n) == 0)
            decode_block(&L, b, buf, n);
        if (progress && (i & 15) == 0)
            progress(b->offset, m->trace_bytes, progress_arg);
    }
    if (L.err) {
        e = L.err;
        snprintf(msg, msg_size, "%s while reading the trace", vt_strerror(e));
        goto fail;
    }
    if (!L.have_info) {
        e = VT_ECORRUPT;
        snprintf(msg, msg_size, "the trace has no process information (no INFO record)%s%s",
                 vt_reader_warnings(L.r) ? ": " : "",
                 vt_reader_warnings(L.r) ? vt_reader_warnings(L.r) : "");
        goto fail;
    }
    /* Ticks to nanoseconds, fitted over the longest span of clock pairs the trace holds. */
    double ns_per_tick;
    if (L.clock_ns > L.start_ns + 10000000 && L.clock_tsc > L.start_tsc)
        ns_per_tick = (double)(L.clock_ns - L.start_ns) / (double)(L.clock_tsc - L.start_tsc);
    else
        ns_per_tick = L.tsc_hz ? 1e9 / (double)L.tsc_hz : 1.0;
    m->duration_ns = to_ns(&L, L.last_tsc, ns_per_tick);
    struct tick_conv conv = {&L, ns_per_tick};
    vt__mem_finish(m, tick_to_ns, &conv);
    vt__cpu_finish(m->cpu, tick_to_ns, &conv);
    m->has_mem_at_peak = m->has_mem_at_exit && L.epoch && L.mem_epoch == L.epoch;
    m->peak_ns = to_ns(&L, L.peak_tsc, ns_per_tick);
    for (size_t i = 0; i < m->n_threads; i++) {
        vt_thread_stats *t = &m->threads[i];
        t->first_ns = to_ns(&L, t->first_ns, ns_per_tick);
        t->last_ns = t->last_ns ? to_ns(&L, t->last_ns, ns_per_tick) : m->duration_ns;
    }
    m->live_bytes = L.heap;
    m->live_blocks = L.blocks;
    m->mapped_live = L.mapped;
    m->live_waste = L.waste;
    m->has_waste = vt_reader_minor(L.r) >= 2;
    for (size_t i = 0; i < m->n_sites; i++) {
        vt_site *s = &m->sites[i];
        s->peak_bytes = s->epoch == L.epoch ? s->at_peak_bytes : s->live_bytes;
        s->peak_blocks = s->epoch == L.epoch ? s->at_peak_blocks : s->live_blocks;
        s->peak_waste = s->epoch == L.epoch ? s->at_peak_waste : s->live_waste;
        if (m->scan.present && m->scan.status == VT_SCAN_DONE) {
            /* Blocks no LEAK record names are still reachable. */
            uint64_t nb = 0, nbytes = 0;
            for (int c = 0; c < VT_LEAK_CLASSES; c++) {
                if (c == VT_LEAK_REACHABLE)
                    continue;
                nb += s->leak_blocks[c];
                nbytes += s->leak_bytes[c];
            }
            s->leak_blocks[VT_LEAK_REACHABLE] = s->live_blocks > nb ? s->live_blocks - nb : 0;
            s->leak_bytes[VT_LEAK_REACHABLE] = s->live_bytes > nbytes ? s->live_bytes - nbytes : 0;
            for (int c = 0; c < VT_LEAK_CLASSES; c++) {
                m->leak_blocks[c] += s->leak_blocks[c];
                m->leak_bytes[c] += s->leak_bytes[c];
            }
        }
    }
    if (finish_patterns(&L, ns_per_tick) ||
        vt__zones_finish(&m->zones, ns_per_tick, L.start_tsc, m->duration_ns)) {
        e = VT_ENOMEM;
        snprintf(msg, msg_size, "out of memory");
        goto fail;
    }
    if (vt_reader_warnings(L.r))
        m->warnings = strdup(vt_reader_warnings(L.r));
    if (!m->has_end && !m->exec_path && !m->warnings) {
        char w[320];
        snprintf(w, sizeof(w),
                 "the trace ends at byte %llu without an end record: the program was killed "
                 "(SIGKILL?) or the trace was copied while being written; events still in the "
                 "agent's buffers are lost",
                 (unsigned long long)vt_reader_end_offset(L.r));
        m->warnings = strdup(w);
    }
    goto done;
fail:
    *err = e;
    vt_model_free(L.m);
    L.m = NULL;
done:
    free(buf);
    loader_release(&L);
    return L.m;
}

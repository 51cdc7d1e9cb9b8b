/* Builds a vt_model from a trace: meta blocks first (definitions), then every thread's event
 * blocks merged by time, so that frees made by one thread of blocks allocated by another are
 * seen in the order they happened. */
#include "analyze/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/reader.h"
#include "util/error.h"
#include "util/hash.h"
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

/* Live blocks: open addressing on the address, deletion by backward shift. */
struct live {
    uint64_t ptr; /* 0 = empty */
    uint64_t size;
    uint32_t site;
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

struct event {
    int type; /* VT_EV_* with the fn nibble removed */
    int fn;
    uint64_t tsc, size, ptr;
    uint32_t stack;
};

struct cursor {
    size_t *blocks; /* indexes of this thread's event blocks, in file order */
    size_t n_blocks, next_block;
    uint8_t *buf;
    size_t cap, len;
    const uint8_t *p, *end;
    uint64_t tsc, ptr;
    uint64_t block_offset;
    struct event ev;
    int done;
    uint32_t thread; /* index into model->threads */
    uint64_t last_alloc;
};

struct loader {
    vt_model *m;
    vt_reader *r;
    /* stacks as numbered in the trace, and their canonical (deduplicated) index */
    uint32_t *canon;
    size_t n_ids;
    /* canonical stack hash table */
    uint32_t *stack_table;
    size_t stack_mask;
    int32_t *site_of_stack; /* per canonical stack, -1 if none */
    size_t sites_cap, stacks_cap, modules_cap;
    struct live_map live;
    struct region *regions;
    size_t n_regions, regions_cap;
    uint64_t heap, blocks, mapped;
    uint64_t epoch;
    uint64_t start_tsc, start_ns, tsc_hz, clock_tsc, clock_ns, last_tsc;
    double ns_per_tick;
    int err;
};

static int add_module(struct loader *L, const vt_module *mod)
{
    vt_model *m = L->m;
    if (m->n_modules == L->modules_cap) {
        size_t cap = L->modules_cap ? L->modules_cap * 2 : 32;
        vt_module *nm = realloc(m->modules, cap * sizeof(*nm));
        if (!nm)
            return VT_ENOMEM;
        m->modules = nm;
        L->modules_cap = cap;
    }
    m->modules[m->n_modules++] = *mod;
    return 0;
}

static int stack_table_grow(struct loader *L)
{
    size_t cap = L->stack_table ? (L->stack_mask + 1) * 2 : 4096;
    uint32_t *t = malloc(cap * sizeof(*t));
    if (!t)
        return VT_ENOMEM;
    memset(t, 0xff, cap * sizeof(*t));
    vt_model *m = L->m;
    for (size_t s = 0; s < m->n_stacks; s++) {
        size_t i = vt_hash_words(m->stacks[s].frames, m->stacks[s].depth) & (cap - 1);
        while (t[i] != UINT32_MAX)
            i = (i + 1) & (cap - 1);
        t[i] = (uint32_t)s;
    }
    free(L->stack_table);
    L->stack_table = t;
    L->stack_mask = cap - 1;
    return 0;
}

/* Returns the canonical index of frames (taking ownership of them), or -1 on no memory. */
static int64_t intern_stack(struct loader *L, uint64_t *frames, uint32_t depth)
{
    vt_model *m = L->m;
    if (!L->stack_table || (m->n_stacks + 1) * 2 > L->stack_mask + 1) {
        if (stack_table_grow(L))
            return -1;
    }
    size_t i = vt_hash_words(frames, depth) & L->stack_mask;
    for (; L->stack_table[i] != UINT32_MAX; i = (i + 1) & L->stack_mask) {
        vt_stack *s = &m->stacks[L->stack_table[i]];
        if (s->depth == depth && !memcmp(s->frames, frames, depth * sizeof(uint64_t))) {
            free(frames);
            return L->stack_table[i];
        }
    }
    if (m->n_stacks == L->stacks_cap) {
        size_t cap = L->stacks_cap ? L->stacks_cap * 2 : 1024;
        vt_stack *ns = realloc(m->stacks, cap * sizeof(*ns));
        int32_t *so = realloc(L->site_of_stack, cap * sizeof(*so));
        if (ns)
            m->stacks = ns;
        if (so)
            L->site_of_stack = so;
        if (!ns || !so)
            return -1;
        L->stacks_cap = cap;
    }
    m->stacks[m->n_stacks] = (vt_stack){depth, frames};
    L->site_of_stack[m->n_stacks] = -1;
    L->stack_table[i] = (uint32_t)m->n_stacks;
    return (int64_t)m->n_stacks++;
}

static int get_str(const uint8_t **p, const uint8_t *end, char **out)
{
    uint64_t n;
    if (vt_varint_get(p, end, &n) || n > (uint64_t)(end - *p))
        return -1;
    char *s = malloc(n + 1);
    if (!s)
        return -1;
    memcpy(s, *p, n);
    s[n] = 0;
    *p += n;
    *out = s;
    return 0;
}

#define GET(v)                                                                                     \
    do {                                                                                           \
        if (vt_varint_get(&p, end, &(v)))                                                          \
            goto bad;                                                                              \
    } while (0)

static void decode_meta(struct loader *L, const vt_block_info *b, const uint8_t *data, size_t n)
{
    vt_model *m = L->m;
    const uint8_t *p = data, *end = data + n, *rec = p;
    while (p < end) {
        rec = p;
        uint8_t tag = *p++;
        uint64_t a, c, d, e, f, g, h, k;
        switch (tag) {
        case VT_META_INFO: {
            GET(a);
            GET(c);
            GET(d);
            GET(e);
            GET(f);
            GET(g);
            GET(h);
            GET(k);
            m->pid = a;
            m->ppid = c;
            L->tsc_hz = d;
            L->start_tsc = e;
            L->start_ns = f;
            m->start_realtime_ns = g;
            m->depth = (int)h;
            m->forked = (k & VT_INFO_FORKED) != 0;
            free(m->exe);
            m->exe = NULL;
            if (get_str(&p, end, &m->exe))
                goto bad;
            GET(a);
            if (a > (uint64_t)(end - p))
                goto bad;
            m->argv = calloc(a + 1, sizeof(char *));
            if (!m->argv)
                goto bad;
            m->argc = a;
            for (uint64_t i = 0; i < a; i++)
                if (get_str(&p, end, &m->argv[i]))
                    goto bad;
            break;
        }
        case VT_META_MODULE: {
            vt_module mod = {0};
            uint64_t blen;
            if (get_str(&p, end, &mod.path))
                goto bad;
            GET(mod.bias);
            GET(mod.start);
            GET(mod.end);
            GET(blen);
            if (blen > 64 || blen > (uint64_t)(end - p)) {
                free(mod.path);
                goto bad;
            }
            memcpy(mod.build_id, p, blen);
            mod.build_id_len = (uint32_t)blen;
            p += blen;
            /* The whole map is written again after a dlopen; keep one copy of each. */
            int seen = 0;
            for (size_t i = 0; i < m->n_modules && !seen; i++)
                seen = m->modules[i].start == mod.start && m->modules[i].end == mod.end &&
                       !strcmp(m->modules[i].path, mod.path);
            if (seen)
                free(mod.path);
            else if (add_module(L, &mod))
                goto bad;
            break;
        }
        case VT_META_STACK: {
            uint64_t id, depth;
            GET(id);
            GET(depth);
            if (depth > 4096 || id > (1u << 30))
                goto bad;
            uint64_t *frames = malloc((depth ? depth : 1) * sizeof(uint64_t));
            if (!frames)
                goto bad;
            uint64_t prev = 0;
            for (uint64_t i = 0; i < depth; i++) {
                if (vt_varint_get(&p, end, &a)) {
                    free(frames);
                    goto bad;
                }
                prev += (uint64_t)vt_unzigzag(a);
                frames[i] = prev;
            }
            int64_t canon = intern_stack(L, frames, (uint32_t)depth);
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
            break;
        }
        case VT_META_CLOCK:
            GET(a);
            GET(c);
            L->clock_tsc = a;
            L->clock_ns = c;
            break;
        case VT_META_END:
            GET(a);
            GET(c);
            GET(d);
            GET(e);
            m->has_end = 1;
            m->end_reason = (int)a;
            m->end_status = (int)c;
            m->dropped = d;
            if (e > L->last_tsc)
                L->last_tsc = e;
            break;
        case VT_META_STOPPED:
            GET(a);
            free(m->stopped);
            m->stopped = NULL;
            if (get_str(&p, end, &m->stopped))
                goto bad;
            break;
        case VT_META_EXEC:
            GET(a);
            free(m->exec_path);
            m->exec_path = NULL;
            if (get_str(&p, end, &m->exec_path))
                goto bad;
            if (a > L->last_tsc)
                L->last_tsc = a;
            break;
        default:
            goto bad;
        }
    }
    return;
bad:
    vt_reader_warn(L->r,
                   "malformed record (tag 0x%02x) at byte %zu of the definitions block at byte "
                   "%llu; the rest of that block was skipped",
                   rec < end ? *rec : 0, (size_t)(rec - data), (unsigned long long)b->offset);
}

/* Decodes the cursor's next event; sets done at the end of its blocks. */
static void cursor_next(struct loader *L, struct cursor *c)
{
    for (;;) {
        if (c->p < c->end) {
            const uint8_t *p = c->p, *end = c->end;
            uint8_t tag = *p++;
            uint64_t dt, v, d;
            struct event *ev = &c->ev;
            ev->type = tag & 0xf0;
            ev->fn = tag & 0x0f;
            GET(dt);
            c->tsc += dt;
            ev->tsc = c->tsc;
            switch (tag & 0xf0) {
            case VT_EV_ALLOC:
                if (ev->fn >= VT_FN_COUNT)
                    goto bad;
                GET(ev->size);
                GET(v);
                ev->stack = (uint32_t)v;
                GET(d);
                c->ptr += (uint64_t)vt_unzigzag(d);
                ev->ptr = c->ptr;
                break;
            case VT_EV_FREE:
                if (ev->fn >= VT_FN_COUNT)
                    goto bad;
                GET(d);
                c->ptr += (uint64_t)vt_unzigzag(d);
                ev->ptr = c->ptr;
                break;
            case 0x30:
                ev->type = tag;
                if (tag == VT_EV_MMAP) {
                    GET(ev->size);
                    GET(v);
                    ev->stack = (uint32_t)v;
                    GET(d);
                    c->ptr += (uint64_t)vt_unzigzag(d);
                    ev->ptr = c->ptr;
                } else if (tag == VT_EV_MUNMAP) {
                    GET(d);
                    c->ptr += (uint64_t)vt_unzigzag(d);
                    ev->ptr = c->ptr;
                    GET(ev->size);
                } else {
                    goto bad;
                }
                break;
            case 0x40:
                ev->type = tag;
                if (tag != VT_EV_THREAD_START && tag != VT_EV_THREAD_EXIT)
                    goto bad;
                break;
            default:
                goto bad;
            }
            c->p = p;
            return;
        bad:
            vt_reader_warn(L->r,
                           "malformed event (tag 0x%02x) at byte %zu of the block at byte %llu "
                           "(thread %u); the rest of that block was skipped",
                           tag, (size_t)(c->p - c->buf), (unsigned long long)c->block_offset,
                           L->m->threads[c->thread].tid);
            c->p = c->end;
            continue;
        }
        if (c->next_block == c->n_blocks) {
            c->done = 1;
            return;
        }
        size_t bi = c->blocks[c->next_block++];
        const vt_block_info *b = vt_reader_block(L->r, bi);
        if (vt_reader_load(L->r, bi, &c->buf, &c->cap, &c->len) != 0)
            continue;
        c->p = c->buf;
        c->end = c->buf + c->len;
        c->tsc = b->first_tsc;
        c->ptr = 0;
        c->block_offset = b->offset;
    }
}
#undef GET

static uint64_t to_ns(struct loader *L, uint64_t tsc)
{
    if (tsc <= L->start_tsc)
        return 0;
    return (uint64_t)((double)(tsc - L->start_tsc) * L->ns_per_tick);
}

static vt_site *site_for(struct loader *L, uint32_t trace_stack)
{
    vt_model *m = L->m;
    uint32_t canon = trace_stack < L->n_ids ? L->canon[trace_stack] : UINT32_MAX;
    if (canon == UINT32_MAX) {
        /* A stack the trace never defined: file it under the empty stack. */
        uint64_t *none = malloc(sizeof(uint64_t));
        int64_t c = none ? intern_stack(L, none, 0) : -1;
        if (c < 0)
            return NULL;
        canon = (uint32_t)c;
    }
    int32_t s = L->site_of_stack[canon];
    if (s >= 0)
        return &m->sites[s];
    if (m->n_sites == L->sites_cap) {
        size_t cap = L->sites_cap ? L->sites_cap * 2 : 1024;
        vt_site *ns = realloc(m->sites, cap * sizeof(*ns));
        if (!ns)
            return NULL;
        m->sites = ns;
        L->sites_cap = cap;
    }
    vt_site *site = &m->sites[m->n_sites];
    memset(site, 0, sizeof(*site));
    site->stack = canon;
    L->site_of_stack[canon] = (int32_t)m->n_sites++;
    return site;
}

/* Brings the site's value at the last peak up to date before it changes (see peak_bytes). */
static inline void site_touch(struct loader *L, vt_site *s)
{
    if (s->epoch != L->epoch) {
        s->at_peak_bytes = s->live_bytes;
        s->at_peak_blocks = s->live_blocks;
        s->epoch = L->epoch;
    }
}

static void apply(struct loader *L, struct cursor *c)
{
    vt_model *m = L->m;
    struct event *ev = &c->ev;
    vt_thread_stats *th = &m->threads[c->thread];
    m->events++;
    switch (ev->type) {
    case VT_EV_ALLOC: {
        vt_site *s = site_for(L, ev->stack);
        int existed;
        struct live *e = s ? live_put(&L->live, ev->ptr, &existed) : NULL;
        if (!e) {
            L->err = VT_ENOMEM;
            return;
        }
        if (existed) {
            /* The block at this address was released without our seeing it. */
            vt_site *old = &m->sites[e->site];
            site_touch(L, old);
            old->live_blocks--;
            old->live_bytes -= e->size;
            L->heap -= e->size;
            L->blocks--;
        }
        e->size = ev->size;
        e->site = (uint32_t)(s - m->sites);
        site_touch(L, s);
        s->alloc_calls++;
        s->alloc_bytes += ev->size;
        s->live_blocks++;
        s->live_bytes += ev->size;
        s->fn_mask |= 1ull << ev->fn;
        m->alloc_calls++;
        m->alloc_bytes += ev->size;
        m->fn_calls[ev->fn]++;
        th->alloc_calls++;
        th->alloc_bytes += ev->size;
        L->heap += ev->size;
        L->blocks++;
        c->last_alloc = ev->ptr;
        if (L->heap > m->peak_bytes) {
            m->peak_bytes = L->heap;
            m->peak_blocks = L->blocks;
            m->peak_ns = to_ns(L, ev->tsc);
            L->epoch++;
        }
        break;
    }
    case VT_EV_FREE: {
        if (ev->fn == VT_FN_REALLOC || ev->fn == VT_FN_REALLOCARRAY)
            m->realloc_calls++;
        else {
            m->free_calls++;
            m->fn_calls[ev->fn]++;
            th->frees++;
        }
        struct live *e = live_find(&L->live, ev->ptr);
        if (!e) {
            m->unmatched_frees++;
            break;
        }
        vt_site *s = &m->sites[e->site];
        site_touch(L, s);
        s->live_blocks--;
        s->live_bytes -= e->size;
        L->heap -= e->size;
        L->blocks--;
        if (c->last_alloc == ev->ptr && ev->fn != VT_FN_REALLOC &&
            ev->fn != VT_FN_REALLOCARRAY) {
            s->temporary++;
            m->temporary++;
        }
        live_remove(&L->live, e);
        break;
    }
    case VT_EV_MMAP: {
        vt_site *s = site_for(L, ev->stack);
        if (!s) {
            L->err = VT_ENOMEM;
            return;
        }
        if (L->n_regions == L->regions_cap) {
            size_t cap = L->regions_cap ? L->regions_cap * 2 : 64;
            struct region *nr = realloc(L->regions, cap * sizeof(*nr));
            if (!nr) {
                L->err = VT_ENOMEM;
                return;
            }
            L->regions = nr;
            L->regions_cap = cap;
        }
        L->regions[L->n_regions++] =
            (struct region){ev->ptr, ev->size, (uint32_t)(s - m->sites)};
        s->mapped_calls++;
        s->mapped_bytes += ev->size;
        s->mapped_live += ev->size;
        s->fn_mask |= 1ull << 63;
        m->mmap_calls++;
        m->mapped_bytes += ev->size;
        L->mapped += ev->size;
        if (L->mapped > m->mapped_peak)
            m->mapped_peak = L->mapped;
        break;
    }
    case VT_EV_MUNMAP: {
        m->munmap_calls++;
        uint64_t lo = ev->ptr, hi = ev->ptr + ev->size;
        for (size_t i = 0; i < L->n_regions;) {
            struct region *r = &L->regions[i];
            uint64_t rlo = r->start, rhi = r->start + r->len;
            if (rhi <= lo || rlo >= hi) {
                i++;
                continue;
            }
            uint64_t cut_lo = rlo > lo ? rlo : lo, cut_hi = rhi < hi ? rhi : hi;
            uint64_t cut = cut_hi - cut_lo;
            m->sites[r->site].mapped_live -= cut;
            L->mapped -= cut;
            if (rlo < lo && rhi > hi) {
                /* A hole punched in the middle: keep both sides. */
                struct region right = {hi, rhi - hi, r->site};
                r->len = lo - rlo;
                if (L->n_regions == L->regions_cap) {
                    size_t cap = L->regions_cap * 2;
                    struct region *nr = realloc(L->regions, cap * sizeof(*nr));
                    if (!nr) {
                        L->err = VT_ENOMEM;
                        return;
                    }
                    L->regions = nr;
                    L->regions_cap = cap;
                }
                L->regions[L->n_regions++] = right;
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
        break;
    }
    default:
        break;
    }
    uint64_t ns = to_ns(L, ev->tsc);
    if (!th->first_ns)
        th->first_ns = ns ? ns : 1;
    th->last_ns = ns;
    if (ev->tsc > L->last_tsc)
        L->last_tsc = ev->tsc;
}

/* A binary min-heap of cursors keyed by their next event's time. */
static void heap_down(struct cursor **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i;
        if (l < n && h[l]->ev.tsc < h[s]->ev.tsc)
            s = l;
        if (r < n && h[r]->ev.tsc < h[s]->ev.tsc)
            s = r;
        if (s == i)
            return;
        struct cursor *t = h[i];
        h[i] = h[s];
        h[s] = t;
        i = s;
    }
}

static int cmp_tid_idx(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static int merge_events(struct loader *L, vt_progress_fn progress, void *arg)
{
    vt_model *m = L->m;
    size_t nb = vt_reader_block_count(L->r), ne = 0;
    size_t *pairs = malloc((nb ? nb : 1) * 2 * sizeof(size_t));
    size_t *order = malloc((nb ? nb : 1) * sizeof(size_t));
    struct cursor *cur = NULL;
    struct cursor **heap = NULL;
    size_t n_cur = 0;
    int err = 0;
    if (!pairs || !order) {
        err = VT_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nb; i++) {
        const vt_block_info *b = vt_reader_block(L->r, i);
        if (b->kind == VT_BLOCK_EVENTS) {
            pairs[2 * ne] = b->tid;
            pairs[2 * ne + 1] = i;
            ne++;
        }
    }
    qsort(pairs, ne, 2 * sizeof(size_t), cmp_tid_idx);
    for (size_t i = 0; i < ne; i++)
        order[i] = pairs[2 * i + 1];
    for (size_t i = 0; i < ne; i++)
        n_cur += i == 0 || pairs[2 * i] != pairs[2 * i - 2];
    cur = calloc(n_cur ? n_cur : 1, sizeof(*cur));
    heap = calloc(n_cur ? n_cur : 1, sizeof(*heap));
    m->threads = calloc(n_cur ? n_cur : 1, sizeof(*m->threads));
    if (!cur || !heap || !m->threads) {
        err = VT_ENOMEM;
        goto out;
    }
    m->n_threads = n_cur;
    for (size_t i = 0, k = 0; i < ne; k++) {
        size_t j = i;
        while (j < ne && pairs[2 * j] == pairs[2 * i])
            j++;
        cur[k].blocks = order + i;
        cur[k].n_blocks = j - i;
        cur[k].thread = (uint32_t)k;
        m->threads[k].tid = (uint32_t)pairs[2 * i];
        i = j;
    }
    size_t n_heap = 0;
    for (size_t k = 0; k < n_cur; k++) {
        cursor_next(L, &cur[k]);
        if (!cur[k].done)
            heap[n_heap++] = &cur[k];
    }
    for (size_t i = n_heap / 2; i-- > 0;)
        heap_down(heap, n_heap, i);
    uint64_t step = 0;
    while (n_heap && !L->err) {
        struct cursor *c = heap[0];
        /* Run this thread's events up to the next thread's first pending one. */
        uint64_t limit = UINT64_MAX;
        if (n_heap > 1)
            limit = heap[1]->ev.tsc;
        if (n_heap > 2 && heap[2]->ev.tsc < limit)
            limit = heap[2]->ev.tsc;
        do {
            apply(L, c);
            cursor_next(L, c);
        } while (!c->done && c->ev.tsc <= limit && !L->err);
        if (c->done)
            heap[0] = heap[--n_heap];
        heap_down(heap, n_heap, 0);
        if (progress && (++step & 1023) == 0)
            progress(c->block_offset, vt_reader_file_size(L->r), arg);
    }
    err = L->err;
out:
    for (size_t k = 0; k < n_cur; k++)
        free(cur[k].buf);
    free(cur);
    free(heap);
    free(pairs);
    free(order);
    return err;
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
    for (size_t i = 0; i < m->n_modules; i++)
        free(m->modules[i].path);
    free(m->modules);
    free(m->threads);
    free(m->warnings);
    free(m);
}

vt_model *vt_model_load(const char *path, vt_progress_fn progress, void *progress_arg, int *err,
                        char *msg, size_t msg_size)
{
    struct loader L = {0};
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
    L.m->trace_bytes = vt_reader_file_size(L.r);
    size_t nb = vt_reader_block_count(L.r);
    for (size_t i = 0; i < nb; i++) {
        const vt_block_info *b = vt_reader_block(L.r, i);
        if (b->kind != VT_BLOCK_META)
            continue;
        if (vt_reader_load(L.r, i, &buf, &cap, &n) == 0)
            decode_meta(&L, b, buf, n);
    }
    if (!L.m->exe) {
        e = VT_ECORRUPT;
        snprintf(msg, msg_size, "the trace has no process information (no INFO record)%s",
                 vt_reader_warnings(L.r) ? "; it is truncated or corrupted" : "");
        goto fail;
    }
    /* Ticks to nanoseconds: fitted over the longest span of clock pairs the trace holds. */
    if (L.clock_ns > L.start_ns + 10000000 && L.clock_tsc > L.start_tsc)
        L.ns_per_tick = (double)(L.clock_ns - L.start_ns) / (double)(L.clock_tsc - L.start_tsc);
    else
        L.ns_per_tick = L.tsc_hz ? 1e9 / (double)L.tsc_hz : 1.0;
    e = merge_events(&L, progress, progress_arg);
    if (e) {
        snprintf(msg, msg_size, "%s while reading events", vt_strerror(e));
        goto fail;
    }
    vt_model *m = L.m;
    m->duration_ns = to_ns(&L, L.last_tsc);
    m->live_bytes = L.heap;
    m->live_blocks = L.blocks;
    m->mapped_live = L.mapped;
    for (size_t i = 0; i < m->n_sites; i++) {
        vt_site *s = &m->sites[i];
        s->peak_bytes = s->epoch == L.epoch ? s->at_peak_bytes : s->live_bytes;
        s->peak_blocks = s->epoch == L.epoch ? s->at_peak_blocks : s->live_blocks;
    }
    if (vt_reader_warnings(L.r))
        m->warnings = strdup(vt_reader_warnings(L.r));
    if (!m->has_end && !m->exec_path && !m->warnings) {
        char w[256];
        snprintf(w, sizeof(w),
                 "the trace has no end record: the program was killed (SIGKILL?) or the trace "
                 "was copied while being written; events still in the agent's buffers are lost");
        m->warnings = strdup(w);
    }
    goto done;
fail:
    *err = e;
    vt_model_free(L.m);
    L.m = NULL;
done:
    free(buf);
    free(L.canon);
    free(L.stack_table);
    free(L.site_of_stack);
    free(L.live.slots);
    free(L.regions);
    vt_reader_free(L.r);
    return L.m;
}

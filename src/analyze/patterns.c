/* Allocation patterns (patterns.h). */
#include "analyze/patterns.h"

#include <stdlib.h>
#include <string.h>

#include "trace/format.h"
#include "util/array.h"
#include "util/error.h"
#include "util/hash.h"

/* Per thread: the release half of a realloc, waiting for its allocation half. */
struct vt__realloc_pending {
    uint64_t size;
    uint32_t chain, origin;
    int valid;
};

int vt_size_class(uint64_t size)
{
    if (size <= 1)
        return 0;
    int k = 64 - __builtin_clzll(size - 1); /* the least k with size <= 2^k */
    return k < VT_SIZE_CLASSES - 1 ? k : VT_SIZE_CLASSES - 1;
}

uint64_t vt_size_class_max(int k)
{
    return k >= VT_SIZE_CLASSES - 1 ? UINT64_MAX : 1ull << k;
}

enum vt_size_coarse vt_size_coarse_of(int k)
{
    if (k <= 10)
        return VT_SIZE_SMALL;
    if (k <= 16)
        return VT_SIZE_MEDIUM;
    if (k <= 20)
        return VT_SIZE_LARGE;
    return VT_SIZE_HUGE;
}

const char *vt_size_coarse_name(enum vt_size_coarse c)
{
    static const char *const names[VT_SIZE_COARSE] = {"<= 1 KiB", "1 KiB - 64 KiB",
                                                      "64 KiB - 1 MiB", "> 1 MiB"};
    return c < VT_SIZE_COARSE ? names[c] : "?";
}

static __attribute__((noinline)) vt_site_patterns *site_grow(vt_patterns *p, uint32_t site)
{
    if (vt_grow(&p->sites, &p->sites_cap, (size_t)site + 1, sizeof(*p->sites), 64))
        return NULL;
    memset(p->sites + p->n_sites, 0, (site + 1 - p->n_sites) * sizeof(*p->sites));
    p->n_sites = (size_t)site + 1;
    return &p->sites[site];
}

static inline vt_site_patterns *site_at(vt_patterns *p, uint32_t site)
{
    return site < p->n_sites ? &p->sites[site] : site_grow(p, site);
}

static __attribute__((noinline)) struct vt__realloc_pending *pending_grow(vt_patterns *p, size_t i)
{
    size_t old = p->pending_cap;
    if (vt_grow(&p->pending, &p->pending_cap, i + 1, sizeof(*p->pending), 16))
        return NULL;
    memset(p->pending + old, 0, (p->pending_cap - old) * sizeof(*p->pending));
    return &p->pending[i];
}

/* The pending realloc of thread (slot 0 is the unknown thread). */
static inline struct vt__realloc_pending *pending_of(vt_patterns *p, int64_t thread)
{
    size_t i = thread < 0 ? 0 : (size_t)thread + 1;
    return i < p->pending_cap ? &p->pending[i] : pending_grow(p, i);
}

int vt__patterns_alloc(vt_patterns *p, uint32_t site, int64_t thread, int fn, uint64_t size,
                       uint32_t *chain, uint32_t *origin)
{
    vt_site_patterns *s = site_at(p, site);
    struct vt__realloc_pending *pd = pending_of(p, thread);
    if (!s || !pd)
        return VT_ENOMEM;
    int k = vt_size_class(size);
    if (vt_hist_add(&s->size_calls, k, VT_SIZE_CLASSES))
        return VT_ENOMEM;
    p->size_calls[k]++;
    p->size_bytes[k] += size;
    if (!s->sizes) {
        s->first_size = size;
        s->sizes = 1;
    } else if (size != s->first_size) {
        s->sizes = 2;
    }
    *chain = 0;
    *origin = site;
    if ((fn == VT_FN_REALLOC || fn == VT_FN_REALLOCARRAY) && pd->valid && pd->origin < p->n_sites) {
        vt_site_patterns *o = &p->sites[pd->origin];
        uint64_t copied = pd->size < size ? pd->size : size;
        *chain = pd->chain < UINT32_MAX ? pd->chain + 1 : UINT32_MAX;
        *origin = pd->origin;
        if (*chain == 1) {
            o->chains++;
            p->chains++;
        }
        o->reallocs++;
        p->reallocs++;
        o->copied_bytes += copied;
        p->copied_bytes += copied;
        if (*chain > o->longest_chain)
            o->longest_chain = *chain;
        if (*chain > p->longest_chain)
            p->longest_chain = *chain;
    }
    pd->valid = 0;
    return 0;
}

static int pair_add(vt_patterns *p, uint32_t from, uint32_t to, uint64_t size)
{
    const size_t slots = 2 * VT_THREAD_PAIRS_MAX;
    if (!p->pair_slots) {
        p->pair_slots = calloc(slots, sizeof(*p->pair_slots));
        if (!p->pair_slots)
            return VT_ENOMEM;
    }
    uint64_t key = (uint64_t)from << 32 | to;
    size_t i = vt_hash64(key) & (slots - 1);
    for (; p->pair_slots[i]; i = (i + 1) & (slots - 1)) {
        vt_thread_pair *q = &p->pairs[p->pair_slots[i] - 1];
        if (q->alloc_thread == from && q->free_thread == to) {
            q->frees++;
            q->bytes += size;
            return 0;
        }
    }
    if (p->n_pairs == VT_THREAD_PAIRS_MAX) {
        p->other_pair_frees++;
        p->other_pair_bytes += size;
        return 0;
    }
    if (vt_grow(&p->pairs, &p->pairs_cap, p->n_pairs + 1, sizeof(*p->pairs), 16))
        return VT_ENOMEM;
    p->pairs[p->n_pairs++] = (vt_thread_pair){from, to, 1, size};
    p->pair_slots[i] = (uint32_t)p->n_pairs;
    return 0;
}

int vt__patterns_free(vt_patterns *p, uint32_t site, uint32_t alloc_thread, int64_t thread, int fn,
                      uint64_t size, uint32_t chain, uint32_t origin)
{
    vt_site_patterns *s = site_at(p, site);
    struct vt__realloc_pending *pd = pending_of(p, thread);
    if (!s || !pd)
        return VT_ENOMEM;
    int realloc = fn == VT_FN_REALLOC || fn == VT_FN_REALLOCARRAY;
    *pd = (struct vt__realloc_pending){size, chain, origin, realloc};
    if (fn < 0 || thread < 0 || alloc_thread == UINT32_MAX || alloc_thread == (uint64_t)thread)
        return 0;
    s->cross_frees++;
    s->cross_bytes += size;
    p->cross_frees++;
    p->cross_bytes += size;
    return pair_add(p, alloc_thread, (uint32_t)thread, size);
}

void vt__patterns_unmatched(vt_patterns *p, int64_t thread)
{
    struct vt__realloc_pending *pd = pending_of(p, thread);
    if (pd)
        pd->valid = 0;
}

static int cmp_pairs(const void *a, const void *b)
{
    const vt_thread_pair *x = a, *y = b;
    if (x->frees != y->frees)
        return x->frees > y->frees ? -1 : 1;
    if (x->alloc_thread != y->alloc_thread)
        return x->alloc_thread < y->alloc_thread ? -1 : 1;
    return x->free_thread < y->free_thread ? -1 : x->free_thread > y->free_thread;
}

void vt__patterns_finish(vt_patterns *p)
{
    if (p->n_pairs)
        qsort(p->pairs, p->n_pairs, sizeof(*p->pairs), cmp_pairs);
    free(p->pair_slots);
    p->pair_slots = NULL;
}

void vt__patterns_release(vt_patterns *p)
{
    for (size_t i = 0; i < p->n_sites; i++)
        vt_hist_release(&p->sites[i].size_calls);
    free(p->sites);
    free(p->pairs);
    free(p->pair_slots);
    free(p->pending);
    p->sites = NULL;
    p->pairs = NULL;
    p->pair_slots = NULL;
    p->pending = NULL;
    p->n_sites = p->n_pairs = p->sites_cap = p->pairs_cap = p->pending_cap = 0;
}

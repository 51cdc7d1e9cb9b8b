/* Zone figures aggregated in the recording thread (zone_agg.h): the thread's state, its table
 * of call sites, spans, and the publication of the aggregates as rows. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "agent/zone_agg.h"
#include "util/varint.h"

uint64_t vt__zagg_period = UINT64_MAX;
static uint64_t start_tsc;
static _Atomic int64_t spans_budget;

/* Memory for a thread's state and its sites comes in pieces of this size. */
#define VT_ZONE_CHUNK (256 * 1024)

void vt__zagg_init(void)
{
    uint64_t hz = vt__tsc_hz();
    vt__zagg_period = hz ? hz / 1000 * VT_ZONE_PUBLISH_MS : 3000000ull * VT_ZONE_PUBLISH_MS;
    start_tsc = vt__now();
    atomic_store(&spans_budget, vt__config.zone_spans);
}

/* Zone states of exited threads, for the next threads. */
static struct vt_zthread *free_states;
static atomic_flag free_lock = ATOMIC_FLAG_INIT;

static void free_lock_take(void)
{
    while (atomic_flag_test_and_set_explicit(&free_lock, memory_order_acquire))
        sched_yield();
}

static void free_lock_give(void)
{
    atomic_flag_clear_explicit(&free_lock, memory_order_release);
}

/* Where a state's sites start in its first chunk. */
#define VT_ZONE_HEAD ((sizeof(struct vt_zthread) + 63) & ~(size_t)63)

struct vt_zthread *vt__zagg_attach(struct vt_thread *t)
{
    free_lock_take();
    struct vt_zthread *z = free_states;
    if (z)
        free_states = z->next_free;
    free_lock_give();
    if (z) {
        uint8_t *chunks[VT_ZONE_CHUNKS];
        uint32_t n = z->n_chunks;
        memcpy(chunks, z->chunks, sizeof(chunks));
        memset(z, 0, sizeof(*z));
        memcpy(z->chunks, chunks, sizeof(chunks));
        z->n_chunks = n;
    } else {
        uint8_t *mem = vt__map(VT_ZONE_CHUNK, 1);
        if (!mem)
            return NULL;
        z = (struct vt_zthread *)mem;
        z->chunks[0] = mem;
        z->n_chunks = 1;
    }
    z->spare = z->chunks[0] + VT_ZONE_HEAD;
    z->spare_end = z->chunks[0] + VT_ZONE_CHUNK;
    z->deadline = vt__now() + vt__zagg_period / 64;
    if (atomic_load_explicit(&spans_budget, memory_order_relaxed) > 0)
        z->slow |= VT_ZSLOW_SPANS;
    t->zones = z;
    return z;
}

void vt__zagg_detach(struct vt_thread *t)
{
    struct vt_zthread *z = t->zones;
    if (!z)
        return;
    vt__zagg_publish(t, z, vt__now(), VT_ZPUB_OPEN);
    t->zones = NULL;
    free_lock_take();
    z->next_free = free_states;
    free_states = z;
    free_lock_give();
}

void vt__zagg_after_fork(void)
{
    atomic_flag_clear(&free_lock);
}

struct vt_zsite *vt__zagg_site_slow(struct vt_zthread *z, const struct vt_source_location *loc)
{
    size_t h = (size_t)(((uintptr_t)loc * 0x9E3779B97F4A7C15ull) >> 55) & (VT_ZONE_SLOTS - 1);
    for (;; h = (h + 1) & (VT_ZONE_SLOTS - 1)) {
        struct vt_zsite *s = z->slots[h];
        if (!s)
            break;
        if (s->loc == loc)
            return s;
    }
    if ((z->n_sites + 1) * 4 > VT_ZONE_SLOTS * 3)
        return NULL;
    size_t size = (sizeof(struct vt_zsite) + 63) & ~(size_t)63;
    if ((size_t)(z->spare_end - z->spare) < size) {
        /* The next chunk: one a former thread left, or a new one. */
        if (z->cur_chunk + 1 >= z->n_chunks) {
            uint8_t *mem = z->n_chunks < VT_ZONE_CHUNKS ? vt__map(VT_ZONE_CHUNK, 1) : NULL;
            if (!mem)
                return NULL;
            z->chunks[z->n_chunks++] = mem;
        }
        z->cur_chunk++;
        z->spare = z->chunks[z->cur_chunk];
        z->spare_end = z->spare + VT_ZONE_CHUNK;
    }
    struct vt_zsite *s = (struct vt_zsite *)z->spare;
    z->spare += size;
    memset(s, 0, sizeof(*s)); /* a former thread's, perhaps */
    s->loc = loc;
    z->slots[h] = s;
    z->n_sites++;
    return s;
}

int64_t vt__zagg_take_spans(void)
{
    int64_t left = atomic_load_explicit(&spans_budget, memory_order_relaxed);
    while (left > 0) {
        int64_t n = left < VT_ZONE_SPANS_CHUNK ? left : VT_ZONE_SPANS_CHUNK;
        if (atomic_compare_exchange_weak_explicit(&spans_budget, &left, left - n,
                                                  memory_order_relaxed, memory_order_relaxed))
            return n;
    }
    return 0;
}

static inline uint8_t *put_raw_ptr(uint8_t *p, const void *ptr)
{
    memcpy(p, &ptr, sizeof(ptr));
    return p + sizeof(ptr);
}

/* Histogram pairs per ZONE_HIST row. */
#define VT_ZHIST_PAIRS 5

static void publish_site(struct vt_thread *t, struct vt_zsite *s, uint64_t tsc, int final)
{
    vt__zagg_count(s);
    uint8_t *p = vt__row_reserve(t, 128, final);
    if (!p)
        return;
    double m2 = 0;
    if (s->calls) {
        double n = (double)s->calls, sum = (double)s->dsum;
        m2 = s->dsq - sum * sum / n;
        if (m2 < 0)
            m2 = 0;
    }
    uint64_t m2_bits;
    memcpy(&m2_bits, &m2, sizeof(m2_bits));
    *p++ = VT_TAG_ZONE_STATS;
    p = vt_varint_put(p, vt__row_tick(t, tsc));
    p = put_raw_ptr(p, s->loc);
    p = vt_varint_put(p, s->calls);
    p = vt_varint_put(p, s->errors);
    p = vt_varint_put(p, s->total);
    p = vt_varint_put(p, s->min);
    p = vt_varint_put(p, s->max);
    p = vt_varint_put(p, m2_bits);
    p = vt_varint_put(p, s->calls && tsc > s->first ? tsc - s->first : 0);
    p = vt_varint_put(p, s->alloc_calls);
    p = vt_varint_put(p, s->alloc_bytes);
    vt__row_commit(t, p, final);
    if (s->calls) {
        /* Only the buckets between the least and the greatest duration can be in use. */
        unsigned lo = vt_loghist_index(s->min), hi = vt_loghist_index(s->max);
        uint64_t pairs[2 * VT_ZHIST_PAIRS];
        int n = 0;
        for (unsigned i = lo; i <= hi; i++) {
            if (s->hist[i]) {
                pairs[2 * n] = i;
                pairs[2 * n + 1] = s->hist[i];
                s->hist[i] = 0;
                n++;
            }
            if (n == VT_ZHIST_PAIRS || (i == hi && n)) {
                p = vt__row_reserve(t, 16 + 2 * VT_ZHIST_PAIRS * VT_VARINT_MAX, final);
                if (!p)
                    break;
                *p++ = VT_TAG_ZONE_HIST;
                p = vt_varint_put(p, vt__row_tick(t, tsc));
                p = vt_varint_put(p, (uint64_t)n);
                for (int k = 0; k < 2 * n; k++)
                    p = vt_varint_put(p, pairs[k]);
                vt__row_commit(t, p, final);
                n = 0;
            }
        }
        /* Any bucket left (out of memory above) is dropped with the rest of the figures. */
        for (unsigned i = lo; i <= hi; i++)
            s->hist[i] = 0;
    }
    const struct vt_source_location *loc = s->loc;
    size_t keep = offsetof(struct vt_zsite, hist);
    memset(s, 0, keep);
    s->loc = loc;
}

void vt__zagg_publish(struct vt_thread *t, struct vt_zthread *z, uint64_t tsc, int flags)
{
    int final = (flags & VT_ZPUB_QUIET) != 0;
    int saved_errno = errno;
    /* Early in a run the reader's trend windows are narrow: publish a 64th of the run so far,
     * from a 64th of the period up to the period, so that a batch stays within a window. */
    uint64_t age = tsc > start_tsc ? tsc - start_tsc : 0, period = age / 64;
    period = period < vt__zagg_period / 64 ? vt__zagg_period / 64 : period;
    z->deadline = tsc + (period < vt__zagg_period ? period : vt__zagg_period);
    for (size_t i = 0; i < VT_ZONE_SLOTS; i++) {
        struct vt_zsite *s = z->slots[i];
        if (s && (s->calls || s->alloc_calls))
            publish_site(t, s, tsc, final);
    }
    uint64_t open = flags & VT_ZPUB_OPEN ? z->depth : 0;
    if (open || z->unmatched || z->lost) {
        uint8_t *p = vt__row_reserve(t, 64, final);
        if (p) {
            *p++ = VT_TAG_ZONE_AGG;
            p = vt_varint_put(p, vt__row_tick(t, tsc));
            p = vt_varint_put(p, (uint64_t)vt__config.zone_spans);
            p = vt_varint_put(p, open);
            p = vt_varint_put(p, z->unmatched);
            p = vt_varint_put(p, z->lost);
            vt__row_commit(t, p, final);
            z->unmatched = z->lost = 0;
        }
    }
    errno = saved_errno;
}

void vt__zagg_publish_all(void)
{
    uint64_t now = vt__now();
    for (struct vt_thread *t = vt__threads(); t; t = t->next_all) {
        /* A thread still inside a hook is the one a fatal signal interrupted: its figures may
         * be half updated. */
        if (!t->zones || atomic_load_explicit(&t->retired, memory_order_relaxed) ||
            atomic_load_explicit(&t->in_hook, memory_order_relaxed))
            continue;
        vt__zagg_publish(t, t->zones, now > t->last_tsc ? now : t->last_tsc,
                         VT_ZPUB_OPEN | VT_ZPUB_QUIET);
    }
}

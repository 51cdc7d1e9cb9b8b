/* Zone figures aggregated in the recording thread (from trace version 1.4).
 *
 * A zone's begin pushes its call site on the thread's zone stack; its end pops it and adds the
 * duration to the site's aggregate for this thread: calls, errors, total, least and greatest,
 * shifted sums for the variance, and the log-linear histogram of util/loghist.h (counted
 * VT_ZONE_BATCH durations at a time, and before each publication). Nothing else is written per
 * call, and the writer thread reads nothing of it: at most once a millisecond of activity
 * (VT_ZONE_PUBLISH_MS; more often in the first 64 ms), when the thread exits and at the end of
 * the trace, the thread's aggregates become ZONE_STATS and ZONE_HIST rows of its own buffer and
 * start again from zero. Allocations are counted to the zone on top of the stack as
 * they are made.
 *
 * The first VT_ZONE_SPANS_DEFAULT calls of the process (VITALS_ZONE_SPANS) are written as
 * ZONE_BEGIN and ZONE_END rows as well, for the formats that draw each call (Chrome trace).
 *
 * Used by thread.c (the begin and end functions, the allocation hook) and flush.c. */
#ifndef VT_AGENT_ZONE_AGG_H
#define VT_AGENT_ZONE_AGG_H

#include <stdint.h>

#include "agent/agent-int.h"
#include "util/loghist.h"

/* Zones open at once on a thread that are recorded; deeper ones are counted as lost. */
#define VT_ZONE_DEPTH 64
/* Slots of a thread's table of call sites (at most 3/4 of them used). */
#define VT_ZONE_SLOTS 512
/* How often an active thread publishes its aggregates, in milliseconds of its zones' time (a
 * 64th of the run so far while that is less, but not under a 64th of this). */
#define VT_ZONE_PUBLISH_MS 1
/* Calls written as spans (ZONE_BEGIN/ZONE_END rows) by default, over the whole process: as
 * many as the analyzer keeps (VT_ZONE_SPANS_KEPT). */
#define VT_ZONE_SPANS_DEFAULT 200000
/* The most pieces of memory (VT_ZONE_CHUNK bytes each) a thread's zone state takes. */
#define VT_ZONE_CHUNKS 16
/* Spans a thread takes from the process's budget at a time. */
#define VT_ZONE_SPANS_CHUNK 1024

/* Durations a site keeps before counting them in its histogram, all at once. The bucket's
 * address depends on the duration, that is on the clock read just before: counting each at once
 * took about 4 ns more per begin+end pair than storing it (docs/BENCHMARKS.md, "Zones: the
 * histogram in batches"). */
#define VT_ZONE_BATCH 16

/* Bits of vt_zthread.slow: the reasons for a zone's begin or end to leave the fast path. */
#define VT_ZSLOW_SPANS 0x1 /* the thread may still write spans */

/* One call site's figures on one thread since its last publication. Durations in ticks. */
struct vt_zsite {
    const struct vt_source_location *loc;
    uint64_t calls, errors, total, min, max;
    uint64_t first; /* the start of the first call since the last publication */
    uint64_t ref;   /* that call's duration: the sums below are of (duration - ref) */
    int64_t dsum;
    double dsq;
    uint64_t alloc_calls, alloc_bytes;
    uint32_t batched; /* durations in batch not yet counted in hist */
    uint64_t batch[VT_ZONE_BATCH];
    uint32_t hist[VT_LOGHIST_BUCKETS]; /* < 2^32: a publication at least every millisecond */
};

/* A thread's zones: its own, read by no other thread while it runs. */
struct vt_zthread {
    uint32_t depth; /* zones open, recorded or not */
    uint32_t slow;  /* VT_ZSLOW_* */
    uint64_t deadline;
    uint64_t raw; /* bit d: the zone open at depth d was written as a span */
    int64_t spans_left;
    uint64_t unmatched, lost; /* since the last publication */
    struct vt_zsite *stack[VT_ZONE_DEPTH];
    struct vt_zsite *slots[VT_ZONE_SLOTS];
    uint32_t n_sites;
    uint8_t *spare; /* room for more sites, up to spare_end */
    uint8_t *spare_end;
    uint8_t *chunks[VT_ZONE_CHUNKS]; /* its memory: the first holds this struct */
    uint32_t n_chunks, cur_chunk;
    struct vt_zthread *next_free;
};

/* The number of ticks between publications (set by vt__zagg_init). */
extern VT_HIDDEN uint64_t vt__zagg_period;

/* Reads the configuration (VITALS_ZONE_SPANS) once the clock is known. */
void vt__zagg_init(void);
/* Makes t's zone state (or takes one an exited thread left); NULL when out of memory. */
struct vt_zthread *vt__zagg_attach(struct vt_thread *t);
/* The calling thread t is exiting: publishes its figures (its zones still open counted as open
 * at the end) and keeps its zone state for another thread. */
void vt__zagg_detach(struct vt_thread *t);
/* In a forked child: the lock of the kept states is free. */
void vt__zagg_after_fork(void);
/* The site of loc on z, made at its first call there; NULL when the table is full or out of
 * memory (the call is then counted as lost). */
struct vt_zsite *vt__zagg_site_slow(struct vt_zthread *z, const struct vt_source_location *loc);
/* Writes z's aggregates as rows of t's buffer at tsc and starts them again from zero. With
 * VT_ZPUB_OPEN a ZONE_AGG row says how many zones are still open; with VT_ZPUB_QUIET (the final
 * flush, the thread stopped) full buffers are queued without waking the writer. */
#define VT_ZPUB_OPEN 0x1
#define VT_ZPUB_QUIET 0x2
void vt__zagg_publish(struct vt_thread *t, struct vt_zthread *z, uint64_t tsc, int flags);
/* Takes up to VT_ZONE_SPANS_CHUNK spans from the process's budget; 0 when it is spent. */
int64_t vt__zagg_take_spans(void);
/* Publishes every thread's aggregates: the final flush, with the threads stopped. */
void vt__zagg_publish_all(void);

static inline __attribute__((always_inline)) struct vt_zsite *
vt__zagg_site(struct vt_zthread *z, const struct vt_source_location *loc)
{
    size_t h = (size_t)(((uintptr_t)loc * 0x9E3779B97F4A7C15ull) >> 55) & (VT_ZONE_SLOTS - 1);
    struct vt_zsite *s = z->slots[h];
    if (likely(s && s->loc == loc))
        return s;
    return vt__zagg_site_slow(z, loc);
}

/* Counts the durations s keeps in its histogram. */
static inline __attribute__((always_inline)) void vt__zagg_count(struct vt_zsite *s)
{
    for (uint32_t i = 0; i < s->batched; i++)
        s->hist[vt_loghist_index(s->batch[i])]++;
    s->batched = 0;
}

/* Adds one call of s that started at start and lasted dur ticks. */
static inline __attribute__((always_inline)) void vt__zagg_add(struct vt_zsite *s, uint64_t start,
                                                               uint64_t dur, int failed)
{
    if (unlikely(!s->calls)) {
        s->first = start;
        s->ref = dur;
        s->min = dur;
    }
    s->calls++;
    s->errors += failed != 0;
    s->total += dur;
    s->min = dur < s->min ? dur : s->min;
    s->max = dur > s->max ? dur : s->max;
    int64_t x = (int64_t)(dur - s->ref);
    s->dsum += x;
    s->dsq += (double)x * (double)x;
    s->batch[s->batched] = dur;
    if (unlikely(++s->batched == VT_ZONE_BATCH))
        vt__zagg_count(s);
}

/* An allocation of size bytes on the thread: counted to its innermost open zone. */
static inline void vt__zagg_alloc(struct vt_thread *t, uint64_t size)
{
    struct vt_zthread *z = t->zones;
    if (z && z->depth && z->depth <= VT_ZONE_DEPTH && z->stack[z->depth - 1]) {
        struct vt_zsite *s = z->stack[z->depth - 1];
        s->alloc_calls++;
        s->alloc_bytes += size;
    }
}

#endif

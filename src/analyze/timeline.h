/* The heap over time, in a bounded number of buckets however long the trace, and the sites
 * whose live bytes keep growing through the run ("growth suspects"). Rules in docs/REPORT.md.
 *
 * The model feeds it during its single pass (times in TSC ticks) and finishes it at the end,
 * when ticks are turned into nanoseconds. Memory: VT_TIMELINE_BUCKETS buckets, and
 * VT_GROWTH_POINTS values per site. */
#ifndef VT_ANALYZE_TIMELINE_H
#define VT_ANALYZE_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#define VT_TIMELINE_BUCKETS 1024
/* A site's series has one value per window of VT_TIMELINE_BUCKETS / VT_GROWTH_POINTS
 * buckets. */
#define VT_GROWTH_POINTS 32

/* The growth rule: over the windows that end within the first 90% of the run (at least
 * VT_GROWTH_MIN_WINDOWS of them), live bytes rose from one window to the next in at least
 * VT_GROWTH_RISE_PCT percent of the steps, and the last of them holds at least
 * VT_GROWTH_MIN_BYTES more than, and twice, the first. */
#define VT_GROWTH_RUN_PCT 90
#define VT_GROWTH_MIN_WINDOWS 8
#define VT_GROWTH_RISE_PCT 75
#define VT_GROWTH_MIN_BYTES (64u * 1024)

/* One bucket of the heap timeline: heap bytes in use and allocations made in it. */
typedef struct vt_heap_bucket {
    uint64_t end_ns;    /* when the bucket ends (ns since the start; the last: the end) */
    uint64_t min_bytes; /* heap in use: the least, the most and the last value in the bucket */
    uint64_t max_bytes;
    uint64_t end_bytes;
    uint64_t alloc_calls; /* allocations made in the bucket (a realloc counts as one) */
    uint64_t alloc_bytes;
} vt_heap_bucket;

/* A site's live heap bytes over the run. */
typedef struct vt_site_growth {
    uint64_t points[VT_GROWTH_POINTS]; /* live bytes at the end of each window */
    uint32_t windows;                  /* windows the rule looked at (the first ones) */
    uint32_t rises;                    /* steps between them in which live bytes rose */
    uint64_t from_bytes, to_bytes;     /* live bytes at the end of the first and last of them */
    int suspect;                       /* the rule holds */
    /* private to the timeline */
    uint32_t filled, gen;
} vt_site_growth;

typedef struct vt_timeline {
    vt_heap_bucket *buckets; /* in time order, the first starting at the start of the trace */
    size_t n_buckets;
    size_t n_windows;                         /* windows of the site series the run spans */
    uint64_t window_end_ns[VT_GROWTH_POINTS]; /* when each window ends */
    vt_site_growth *sites;                    /* indexed like vt_model.sites */
    size_t n_sites;
    size_t n_suspects;
    /* private to the timeline */
    uint64_t start_tsc, width, heap;
    uint64_t last_end; /* when the last bucket ends */
    uint32_t gen;
    size_t sites_cap;
} vt_timeline;

/* Starts an empty timeline at start_tsc with buckets of width ticks (at least 1). Returns 0 or
 * VT_ENOMEM. */
int vt__timeline_start(vt_timeline *t, uint64_t start_tsc, uint64_t width);

/* Records a change of the heap at tsc: from heap_before to heap_after bytes, of site (whose
 * live bytes were site_before); alloc_bytes counts an allocation of that size when alloc is
 * set. Returns 0 or VT_ENOMEM. */
int vt__timeline_change(vt_timeline *t, uint64_t tsc, uint32_t site, uint64_t site_before,
                        uint64_t heap_before, uint64_t heap_after, int alloc, uint64_t alloc_bytes);

/* Ends the timeline at end_tsc: site_live(arg, i) gives site i's live bytes at the end (for
 * n_sites sites); times become nanoseconds with ns(arg, tsc). Applies the growth rule. Returns
 * 0 or VT_ENOMEM. */
int vt__timeline_finish(vt_timeline *t, uint64_t end_tsc, size_t n_sites,
                        uint64_t (*site_live)(const void *arg, size_t i),
                        uint64_t (*ns)(const void *arg, uint64_t tsc), const void *arg);

/* Frees what the timeline holds (not t itself). */
void vt__timeline_release(vt_timeline *t);

#endif

/* The heap timeline and the growth series of the sites (timeline.h). When time runs past the
 * last bucket, neighbouring buckets are merged in pairs and the width doubles; a site's series
 * follows lazily, the next time the site changes or at the end. */
#include "analyze/timeline.h"

#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/error.h"

#define BUCKETS_PER_POINT (VT_TIMELINE_BUCKETS / VT_GROWTH_POINTS)

int vt__timeline_start(vt_timeline *t, uint64_t start_tsc, uint64_t width)
{
    vt__timeline_release(t);
    memset(t, 0, sizeof(*t));
    t->buckets = calloc(VT_TIMELINE_BUCKETS, sizeof(*t->buckets));
    if (!t->buckets)
        return VT_ENOMEM;
    t->n_buckets = 1;
    t->start_tsc = start_tsc;
    t->width = width ? width : 1;
    return 0;
}

static void fill(vt_timeline *t, size_t upto)
{
    for (size_t i = t->n_buckets; i < upto; i++)
        t->buckets[i] = (vt_heap_bucket){0, t->heap, t->heap, t->heap, 0, 0};
    if (upto > t->n_buckets)
        t->n_buckets = upto;
}

static void merge_pairs(vt_timeline *t)
{
    size_t n = (t->n_buckets + 1) / 2;
    for (size_t i = 0; i < n; i++) {
        vt_heap_bucket a = t->buckets[2 * i];
        if (2 * i + 1 < t->n_buckets) {
            const vt_heap_bucket *b = &t->buckets[2 * i + 1];
            a.min_bytes = b->min_bytes < a.min_bytes ? b->min_bytes : a.min_bytes;
            a.max_bytes = b->max_bytes > a.max_bytes ? b->max_bytes : a.max_bytes;
            a.end_bytes = b->end_bytes;
            a.alloc_calls += b->alloc_calls;
            a.alloc_bytes += b->alloc_bytes;
        }
        t->buckets[i] = a;
    }
    t->n_buckets = n;
    t->width *= 2;
    t->gen++;
}

/* Notes when the last bucket ends, so that the events inside it need no division. */
static size_t last_bucket(vt_timeline *t)
{
    uint64_t n = t->n_buckets;
    if (t->width <= (UINT64_MAX - t->start_tsc) / n)
        t->last_end = t->start_tsc + n * t->width;
    else
        t->last_end = UINT64_MAX;
    return t->n_buckets - 1;
}

/* The bucket of tsc, merging until it exists; times before the last bucket (a damaged trace)
 * count in the last bucket. */
static size_t bucket_of(vt_timeline *t, uint64_t tsc)
{
    if (tsc < t->last_end)
        return t->n_buckets - 1;
    for (;;) {
        uint64_t d = tsc > t->start_tsc ? tsc - t->start_tsc : 0;
        uint64_t b = d / t->width;
        if (b < VT_TIMELINE_BUCKETS) {
            fill(t, (size_t)b + 1);
            return last_bucket(t);
        }
        fill(t, VT_TIMELINE_BUCKETS);
        if (t->width > UINT64_MAX / 4) {
            t->last_end = UINT64_MAX;
            return VT_TIMELINE_BUCKETS - 1;
        }
        merge_pairs(t);
    }
}

static int site_at(vt_timeline *t, size_t site, vt_site_growth **out)
{
    if (site >= t->n_sites) {
        if (vt_grow(&t->sites, &t->sites_cap, site + 1, sizeof(*t->sites), 64))
            return VT_ENOMEM;
        memset(t->sites + t->n_sites, 0, (site + 1 - t->n_sites) * sizeof(*t->sites));
        for (size_t i = t->n_sites; i <= site; i++)
            t->sites[i].gen = t->gen;
        t->n_sites = site + 1;
    }
    *out = &t->sites[site];
    return 0;
}

/* Brings g up to the current width (each merge of the timeline halves the windows), then
 * records value as its live bytes at the end of every window before window p. */
static void series_fill(const vt_timeline *t, vt_site_growth *g, size_t p, uint64_t value)
{
    uint32_t k = t->gen - g->gen;
    if (k >= 32) {
        g->filled = 0;
    } else if (k) {
        uint32_t n = g->filled >> k;
        for (uint32_t i = 0; i < n; i++)
            g->points[i] = g->points[((i + 1) << k) - 1];
        g->filled = n;
    }
    g->gen = t->gen;
    for (size_t j = g->filled; j < p && j < VT_GROWTH_POINTS; j++)
        g->points[j] = value;
    if (p > g->filled)
        g->filled = (uint32_t)(p < VT_GROWTH_POINTS ? p : VT_GROWTH_POINTS);
}

int vt__timeline_change(vt_timeline *t, uint64_t tsc, uint32_t site, uint64_t site_before,
                        uint64_t heap_before, uint64_t heap_after, int alloc, uint64_t alloc_bytes)
{
    if (!t->buckets)
        return 0;
    t->heap = heap_before;
    size_t b = bucket_of(t, tsc);
    vt_heap_bucket *k = &t->buckets[b];
    if (heap_after < k->min_bytes)
        k->min_bytes = heap_after;
    if (heap_after > k->max_bytes)
        k->max_bytes = heap_after;
    k->end_bytes = heap_after;
    t->heap = heap_after;
    if (alloc) {
        k->alloc_calls++;
        k->alloc_bytes += alloc_bytes;
    }
    vt_site_growth *g;
    if (site < t->n_sites) {
        g = &t->sites[site];
        if (g->gen == t->gen && b / BUCKETS_PER_POINT <= g->filled)
            return 0; /* nothing to fill since the site's last change */
    } else if (site_at(t, site, &g)) {
        return VT_ENOMEM;
    }
    series_fill(t, g, b / BUCKETS_PER_POINT, site_before);
    return 0;
}

static void apply_rule(vt_site_growth *g, size_t n_windows)
{
    size_t k = n_windows * VT_GROWTH_RUN_PCT / 100;
    g->windows = (uint32_t)k;
    g->rises = 0;
    g->suspect = 0;
    g->from_bytes = g->to_bytes = 0;
    if (!k)
        return;
    for (size_t j = 1; j < k; j++)
        g->rises += g->points[j] > g->points[j - 1];
    g->from_bytes = g->points[0];
    g->to_bytes = g->points[k - 1];
    g->suspect = k >= VT_GROWTH_MIN_WINDOWS && g->rises * 100 >= (k - 1) * VT_GROWTH_RISE_PCT &&
                 g->to_bytes >= g->from_bytes + VT_GROWTH_MIN_BYTES &&
                 g->to_bytes / 2 >= g->from_bytes;
}

int vt__timeline_finish(vt_timeline *t, uint64_t end_tsc, size_t n_sites,
                        uint64_t (*site_live)(const void *arg, size_t i),
                        uint64_t (*ns)(const void *arg, uint64_t tsc), const void *arg)
{
    if (!t->buckets)
        return 0;
    size_t last = bucket_of(t, end_tsc);
    t->n_windows = last / BUCKETS_PER_POINT + 1;
    uint64_t end_ns = ns(arg, end_tsc);
    for (size_t i = 0; i < t->n_buckets; i++) {
        uint64_t tsc = t->start_tsc + (uint64_t)(i + 1) * t->width;
        t->buckets[i].end_ns = i == last || tsc > end_tsc ? end_ns : ns(arg, tsc);
    }
    for (size_t j = 0; j < t->n_windows; j++) {
        uint64_t tsc = t->start_tsc + (uint64_t)(j + 1) * BUCKETS_PER_POINT * t->width;
        t->window_end_ns[j] = j + 1 == t->n_windows || tsc > end_tsc ? end_ns : ns(arg, tsc);
    }
    if (n_sites) {
        vt_site_growth *g;
        if (site_at(t, n_sites - 1, &g))
            return VT_ENOMEM;
    }
    t->n_suspects = 0;
    for (size_t i = 0; i < t->n_sites; i++) {
        vt_site_growth *g = &t->sites[i];
        series_fill(t, g, t->n_windows, i < n_sites ? site_live(arg, i) : 0);
        apply_rule(g, t->n_windows);
        t->n_suspects += g->suspect;
    }
    return 0;
}

void vt__timeline_release(vt_timeline *t)
{
    free(t->buckets);
    free(t->sites);
    t->buckets = NULL;
    t->sites = NULL;
    t->n_buckets = t->n_sites = t->sites_cap = 0;
}

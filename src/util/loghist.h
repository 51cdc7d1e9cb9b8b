/* A log-linear histogram of 64-bit values (HdrHistogram's layout): values below
 * 2^VT_LOGHIST_SUB_BITS have a bucket each; above, each power of two is cut into
 * 2^VT_LOGHIST_SUB_BITS buckets of equal width. A bucket [lo, lo + w) has w <= lo / 2^SUB_BITS,
 * and a quantile is reported as its bucket's midpoint, so it is within lo / 2^(SUB_BITS + 1)
 * of the exact value: a relative error of at most 1/64 (1.5625%) with 5 bits, tested against
 * sorted values by tests/unit/test_zones.c. Scaling the result (ticks to ns) keeps the bound. */
#ifndef VT_UTIL_LOGHIST_H
#define VT_UTIL_LOGHIST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define VT_LOGHIST_SUB_BITS 5
#define VT_LOGHIST_SUB (1u << VT_LOGHIST_SUB_BITS)
#define VT_LOGHIST_BUCKETS ((64 - VT_LOGHIST_SUB_BITS + 1) * VT_LOGHIST_SUB)

typedef struct vt_loghist {
    uint64_t *counts; /* VT_LOGHIST_BUCKETS, made at the first value */
    uint64_t n;
} vt_loghist;

static inline unsigned vt_loghist_index(uint64_t v)
{
    if (v < VT_LOGHIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= SUB_BITS */
    unsigned sub = (unsigned)(v >> (e - VT_LOGHIST_SUB_BITS)) & (VT_LOGHIST_SUB - 1);
    return (e - VT_LOGHIST_SUB_BITS + 1) * VT_LOGHIST_SUB + sub;
}

/* The bucket's lowest value and width. */
static inline void vt_loghist_bucket(unsigned i, uint64_t *lo, uint64_t *width)
{
    if (i < VT_LOGHIST_SUB) {
        *lo = i;
        *width = 1;
        return;
    }
    unsigned e = i / VT_LOGHIST_SUB + VT_LOGHIST_SUB_BITS - 1, sub = i % VT_LOGHIST_SUB;
    *width = 1ull << (e - VT_LOGHIST_SUB_BITS);
    *lo = (1ull << e) + (uint64_t)sub * *width;
}

/* Adds v. Returns 0 or VT_ENOMEM. */
static inline int vt_loghist_add(vt_loghist *h, uint64_t v)
{
    if (!h->counts && !(h->counts = calloc(VT_LOGHIST_BUCKETS, sizeof(*h->counts))))
        return VT_ENOMEM;
    h->counts[vt_loghist_index(v)]++;
    h->n++;
    return 0;
}

/* Adds count values that fall in bucket i (< VT_LOGHIST_BUCKETS). Returns 0 or VT_ENOMEM. */
static inline int vt_loghist_add_bucket(vt_loghist *h, unsigned i, uint64_t count)
{
    if (!h->counts && !(h->counts = calloc(VT_LOGHIST_BUCKETS, sizeof(*h->counts))))
        return VT_ENOMEM;
    h->counts[i] += count;
    h->n += count;
    return 0;
}

/* The q-quantile (0 < q <= 1) by nearest rank: the value of rank ceil(q * n), as its
 * bucket's midpoint (exact for values below 2^SUB_BITS). 0 when empty. */
static inline double vt_loghist_quantile(const vt_loghist *h, double q)
{
    if (!h->n)
        return 0;
    double r = q * (double)h->n;
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r)
        rank++;
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < VT_LOGHIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t lo, w;
            vt_loghist_bucket(i, &lo, &w);
            return w == 1 ? (double)lo : (double)lo + (double)w / 2.0;
        }
    }
    return 0;
}

static inline void vt_loghist_release(vt_loghist *h)
{
    free(h->counts);
    memset(h, 0, sizeof(*h));
}

#endif

/* A histogram over a small number of buckets (at most 256) that stays small while few buckets
 * are used: the counts of up to VT_HIST_INLINE buckets are kept inline, and a full array is
 * made only when more are used. For per-site histograms, where most sites fill one or two
 * buckets. */
#ifndef VT_UTIL_HIST_H
#define VT_UTIL_HIST_H

#include <stdint.h>
#include <stdlib.h>

#include "util/error.h"

#define VT_HIST_INLINE 3

typedef struct vt_hist {
    uint64_t *full; /* every bucket's count, once more than VT_HIST_INLINE were used */
    uint64_t count[VT_HIST_INLINE];
    uint8_t key[VT_HIST_INLINE];
    uint8_t n; /* inline buckets used */
} vt_hist;

/* Adds one to bucket k (< n_buckets, the same on every call). Returns 0 or VT_ENOMEM. */
static inline int vt_hist_add(vt_hist *h, int k, int n_buckets)
{
    if (h->full) {
        h->full[k]++;
        return 0;
    }
    for (int i = 0; i < h->n; i++) {
        if (h->key[i] == k) {
            h->count[i]++;
            return 0;
        }
    }
    if (h->n < VT_HIST_INLINE) {
        h->key[h->n] = (uint8_t)k;
        h->count[h->n++] = 1;
        return 0;
    }
    h->full = calloc((size_t)n_buckets, sizeof(uint64_t));
    if (!h->full)
        return VT_ENOMEM;
    for (int i = 0; i < h->n; i++)
        h->full[h->key[i]] = h->count[i];
    h->full[k]++;
    return 0;
}

/* The count of bucket k. */
static inline uint64_t vt_hist_get(const vt_hist *h, int k)
{
    if (h->full)
        return h->full[k];
    for (int i = 0; i < h->n; i++)
        if (h->key[i] == k)
            return h->count[i];
    return 0;
}

/* Frees what h holds (not h itself). */
static inline void vt_hist_release(vt_hist *h)
{
    free(h->full);
    h->full = NULL;
}

#endif

/* An open-addressing index of positions (uint32_t) into an array that its user keeps, hashes
 * and compares: linear probing, at most half full, doubled when it would be more. Used by the
 * analyzer's interning tables (stacks, functions, CPU aggregates). */
#ifndef VT_UTIL_INDEX_H
#define VT_UTIL_INDEX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define VT_INDEX_EMPTY UINT32_MAX

typedef struct vt_index {
    uint32_t *slots; /* NULL until the first vt_index_fit */
    size_t mask;     /* slots - 1 */
} vt_index;

/* Makes room for one more than the n entries the index holds (first slots to begin with,
 * a power of two); when it grows, entries 0 to n-1 are placed again by hash(ctx, entry).
 * Returns 0, or VT_ENOMEM leaving the index as it was. */
static inline int vt_index_fit(vt_index *x, size_t n, size_t first,
                               uint64_t (*hash)(const void *ctx, size_t entry), const void *ctx)
{
    if (x->slots && (n + 1) * 2 <= x->mask + 1)
        return 0;
    size_t cap = x->slots ? (x->mask + 1) * 2 : first;
    while ((n + 1) * 2 > cap)
        cap *= 2;
    uint32_t *t = malloc(cap * sizeof(*t));
    if (!t)
        return VT_ENOMEM;
    memset(t, 0xff, cap * sizeof(*t));
    for (size_t e = 0; e < n; e++) {
        size_t i = hash(ctx, e) & (cap - 1);
        while (t[i] != VT_INDEX_EMPTY)
            i = (i + 1) & (cap - 1);
        t[i] = (uint32_t)e;
    }
    free(x->slots);
    x->slots = t;
    x->mask = cap - 1;
    return 0;
}

/* The slot where probing for hash h starts, and the one after slot i. */
static inline size_t vt_index_first(const vt_index *x, uint64_t h)
{
    return h & x->mask;
}

static inline size_t vt_index_next(const vt_index *x, size_t i)
{
    return (i + 1) & x->mask;
}

static inline void vt_index_free(vt_index *x)
{
    free(x->slots);
    x->slots = NULL;
    x->mask = 0;
}

#endif

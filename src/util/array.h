/* Growing arrays, for the analyzer's tables. */
#ifndef VT_UTIL_ARRAY_H
#define VT_UTIL_ARRAY_H

#include <stdlib.h>

#include "util/error.h"

/* Makes room for at least need elements of elem bytes in *arr (capacity *cap, doubling from
 * first). Returns 0, or VT_ENOMEM leaving *arr and *cap as they were. */
static inline int vt_grow(void *arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    void **p = (void **)arr;
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : first;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return VT_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

#endif

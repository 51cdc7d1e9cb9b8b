/* LEB128-style unsigned varints and zigzag signed deltas, used by the trace encoding. */
#ifndef VT_UTIL_VARINT_H
#define VT_UTIL_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* The longest encoding of a 64-bit value. */
#define VT_VARINT_MAX 10

/* Writes v at p and returns the byte after it; p must have VT_VARINT_MAX bytes. */
static inline uint8_t *vt_varint_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Reads a varint from [*pp, end). Returns 0 and advances *pp, or -1 if it runs past end or
 * is longer than VT_VARINT_MAX bytes. */
static inline int vt_varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p == end)
            return -1;
        uint8_t b = *p++;
        if (shift == 63 && b > 1)
            return -1; /* more than 64 bits */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *out = v;
            return 0;
        }
    }
    return -1;
}

static inline uint64_t vt_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t vt_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif

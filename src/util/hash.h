/* Small, fast hashing for interned stacks and pointer maps. */
#ifndef VT_UTIL_HASH_H
#define VT_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* A 64-bit finaliser (from MurmurHash3's fmix64): good spread for pointers and ids. */
static inline uint64_t vt_hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* Hashes an array of 64-bit words (a call stack). Never returns 0. Four independent lanes, so
 * that the multiplies of consecutive words overlap instead of waiting on each other. */
static inline uint64_t vt_hash_words(const uint64_t *w, size_t n)
{
    uint64_t a = 0x9e3779b97f4a7c15ULL ^ n, b = 0xc2b2ae3d27d4eb4fULL, c = 0x165667b19e3779f9ULL,
             d = 0x27d4eb2f165667c5ULL;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a = (a ^ w[i]) * 0x100000001b3ULL;
        b = (b ^ w[i + 1]) * 0x100000001b3ULL;
        c = (c ^ w[i + 2]) * 0x100000001b3ULL;
        d = (d ^ w[i + 3]) * 0x100000001b3ULL;
    }
    for (; i < n; i++)
        a = (a ^ w[i]) * 0x100000001b3ULL;
    uint64_t h = vt_hash64(a ^ vt_hash64(b) ^ (vt_hash64(c) >> 1) ^ (vt_hash64(d) << 1));
    return h ? h : 1;
}

/* FNV-1a of a NUL-terminated string (function names). */
static inline uint64_t vt_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

#endif

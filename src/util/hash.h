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

/* Hashes an array of 64-bit words (a call stack). Never returns 0. */
static inline uint64_t vt_hash_words(const uint64_t *w, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    for (size_t i = 0; i < n; i++)
        h = (h ^ w[i]) * 0x100000001b3ULL + (h >> 29);
    h = vt_hash64(h);
    return h ? h : 1;
}

#endif

/* Allocation patterns: size histograms, realloc growth chains, sites that make blocks of one
 * size, and blocks released by another thread than the one that made them. Overall and per
 * site; the rules are in docs/REPORT.md. */
#ifndef VT_ANALYZE_PATTERNS_H
#define VT_ANALYZE_PATTERNS_H

#include <stddef.h>
#include <stdint.h>

#include "util/hist.h"

/* Class 0 holds sizes 0 and 1; class k, sizes in (2^(k-1), 2^k]; the last class, everything
 * above 2^(VT_SIZE_CLASSES - 2). */
#define VT_SIZE_CLASSES 41

/* A site is a "one-size site" when all its allocations, at least this many, had one size. */
#define VT_ONE_SIZE_MIN_CALLS 100

/* Thread pairs kept for cross-thread frees; frees between further pairs are counted apart. */
#define VT_THREAD_PAIRS_MAX 4096

enum vt_size_coarse {
    VT_SIZE_SMALL,  /* up to 1 KiB */
    VT_SIZE_MEDIUM, /* over 1 KiB, up to 64 KiB */
    VT_SIZE_LARGE,  /* over 64 KiB, up to 1 MiB */
    VT_SIZE_HUGE,   /* over 1 MiB */
    VT_SIZE_COARSE
};

typedef struct vt_site_patterns {
    vt_hist size_calls;     /* allocations by size class (vt_hist_get) */
    uint64_t first_size;    /* the size of its first allocation */
    int sizes;              /* 0: no allocation, 1: all had first_size bytes, 2: several */
    uint64_t chains;        /* realloc chains that began with a block of this site */
    uint64_t reallocs;      /* reallocs in them */
    uint64_t longest_chain; /* the most reallocs one of them had */
    uint64_t copied_bytes;  /* what their reallocs copied if every one moved the block */
    uint64_t cross_frees;   /* its blocks released by another thread */
    uint64_t cross_bytes;
} vt_site_patterns;

/* Blocks that thread alloc_thread made and thread free_thread released (indexes into
 * vt_model.threads). */
typedef struct vt_thread_pair {
    uint32_t alloc_thread, free_thread;
    uint64_t frees, bytes;
} vt_thread_pair;

struct vt__realloc_pending;

typedef struct vt_patterns {
    uint64_t size_calls[VT_SIZE_CLASSES], size_bytes[VT_SIZE_CLASSES];
    uint64_t chains, reallocs, longest_chain, copied_bytes;
    uint64_t cross_frees, cross_bytes;
    vt_thread_pair *pairs; /* most frees first (after vt__patterns_finish) */
    size_t n_pairs;
    uint64_t other_pair_frees, other_pair_bytes; /* between pairs beyond the first kept */
    vt_site_patterns *sites;                     /* indexed like vt_model.sites */
    size_t n_sites;
    /* private to the module */
    size_t sites_cap, pairs_cap, pending_cap;
    uint32_t *pair_slots;
    struct vt__realloc_pending *pending;
} vt_patterns;

/* The size class of size bytes, and the largest size in class k (UINT64_MAX for the last). */
int vt_size_class(uint64_t size);
uint64_t vt_size_class_max(int k);

/* The coarse bucket of size class k, and its name ("<= 1 KiB"...). */
enum vt_size_coarse vt_size_coarse_of(int k);
const char *vt_size_coarse_name(enum vt_size_coarse c);

/* Records an allocation of size bytes by fn (VT_FN_*) at site on thread (-1: unknown). *chain
 * and *origin get the new block's place in a realloc chain: reallocs so far and the site of the
 * chain's first block. A realloc whose release half the thread recorded just before continues
 * that block's chain; any other allocation starts one (0, site). Returns 0 or VT_ENOMEM. */
int vt__patterns_alloc(vt_patterns *p, uint32_t site, int64_t thread, int fn, uint64_t size,
                       uint32_t *chain, uint32_t *origin);

/* Records the release by fn (-1: an implied release) on thread of a block of size bytes that
 * alloc_thread (UINT32_MAX: unknown) made at site, with the chain and origin it got. Returns 0
 * or VT_ENOMEM. */
int vt__patterns_free(vt_patterns *p, uint32_t site, uint32_t alloc_thread, int64_t thread, int fn,
                      uint64_t size, uint32_t chain, uint32_t origin);

/* A release of a block the trace never saw allocated, on thread. */
void vt__patterns_unmatched(vt_patterns *p, int64_t thread);

/* Orders the thread pairs, most frees first. */
void vt__patterns_finish(vt_patterns *p);

/* Frees what p holds (not p itself). */
void vt__patterns_release(vt_patterns *p);

#endif

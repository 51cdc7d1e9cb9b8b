/* Rankings of call sites: the analyses behind "top sites" and "leaks by call stack". */
#ifndef VT_ANALYZE_SITES_H
#define VT_ANALYZE_SITES_H

#include <stddef.h>

#include "analyze/model.h"
#include "analyze/symbols.h"

enum vt_site_key {
    VT_BY_CALLS,  /* allocation calls */
    VT_BY_BYTES,  /* bytes allocated */
    VT_BY_PEAK,   /* bytes held at the heap peak */
    VT_BY_LEAKED, /* bytes still allocated at the end (only sites with leaks) */
    VT_BY_MAPPED, /* bytes mapped with anonymous mmap (only sites that mapped) */
    VT_BY_WASTE,  /* usable size minus bytes requested, over all allocations */
    /* bytes live at the end in one leak class (only sites with such blocks) */
    VT_BY_DEFINITE,
    VT_BY_INDIRECT,
    VT_BY_POSSIBLE,
    VT_BY_REACHABLE,
};

/* The site key of leak class c (VT_LEAK_*). */
enum vt_site_key vt_site_key_of_class(int c);

/* Fills out with up to max site indexes ranked by key (largest first, ties by stack order),
 * leaving out sites whose key is 0. Returns how many were written; *total (may be NULL) gets
 * how many sites have a non-zero key. */
size_t vt_sites_rank(const vt_model *m, enum vt_site_key key, size_t *out, size_t max,
                     size_t *total);

/* The value a site is ranked by. */
unsigned long long vt_site_value(const vt_site *s, enum vt_site_key key);

/* Rankings by the analyses of timeline.h and patterns.h (docs/REPORT.md). */
enum vt_pattern_key {
    VT_BY_GROWTH,      /* growth suspects, by the growth of their live bytes */
    VT_BY_REALLOCS,    /* sites whose blocks began realloc chains, by reallocs in them */
    VT_BY_ONE_SIZE,    /* one-size sites, by allocation calls */
    VT_BY_CROSS_FREES, /* sites whose blocks other threads released, by such releases */
};

/* As vt_sites_rank(), by a key of the pattern analyses. */
size_t vt_sites_rank_pattern(const vt_model *m, enum vt_pattern_key key, size_t *out, size_t max,
                             size_t *total);

/* The value site i is ranked by (0: not in the ranking). */
unsigned long long vt_site_pattern_value(const vt_model *m, size_t i, enum vt_pattern_key key);

/* Symbolizes frame i of stack s into out (at most max frames, innermost inlined first), in the
 * modules of the stack's code generation. Returns at least 1: an address that cannot be
 * resolved gives one frame whose function is NULL. */
int vt_stack_frame(vt_symbols *syms, const vt_stack *s, uint32_t i, vt_frame_info *out, int max);

/* A symbolizer loaded with the model's module map; caller frees with vt_symbols_free(). */
vt_symbols *vt_model_symbols(const vt_model *m);

#endif

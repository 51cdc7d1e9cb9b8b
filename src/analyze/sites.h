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
};

/* Fills out with up to max site indexes ranked by key (largest first, ties by stack order),
 * leaving out sites whose key is 0. Returns how many were written; *total (may be NULL) gets
 * how many sites have a non-zero key. */
size_t vt_sites_rank(const vt_model *m, enum vt_site_key key, size_t *out, size_t max,
                     size_t *total);

/* The value a site is ranked by. */
unsigned long long vt_site_value(const vt_site *s, enum vt_site_key key);

/* Symbolizes frame i of stack s into out (at most max frames, innermost inlined first), in the
 * modules of the stack's code generation. Returns at least 1: an address that cannot be
 * resolved gives one frame whose function is NULL. */
int vt_stack_frame(vt_symbols *syms, const vt_stack *s, uint32_t i, vt_frame_info *out, int max);

/* A symbolizer loaded with the model's module map; caller frees with vt_symbols_free(). */
vt_symbols *vt_model_symbols(const vt_model *m);

#endif

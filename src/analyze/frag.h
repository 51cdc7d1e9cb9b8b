/* Fragmentation and stack use: what a trace says about memory the program holds without
 * having asked for it. The figures and their formulas are described in docs/REPORT.md.
 *
 * The model feeds the memory samples in while it reads a trace (vt__mem_*); renderers read the
 * figures (vt_frag_*, vt_mem_figures_of, vt_stack_near_limit). */
#ifndef VT_ANALYZE_FRAG_H
#define VT_ANALYZE_FRAG_H

#include <stdint.h>

#include "analyze/model.h"

/* Sets *p to the single sample v taken at tick tsc. */
void vt__mem_point_set(vt_mem_point *p, const uint64_t v[VT_MEM_FIELDS], uint64_t tsc);

/* Appends the sample v taken at tick tsc to m's series. Each point holds *stride samples (0
 * before the first call); when the series is full, neighbouring points are merged in pairs and
 * the stride doubles, so m->n_mem never exceeds VT_MEM_POINTS_MAX. Times stay in ticks until
 * vt__mem_finish(). Returns 0 or VT_ENOMEM. */
int vt__mem_add(vt_model *m, uint64_t *stride, const uint64_t v[VT_MEM_FIELDS], uint64_t tsc);

/* Turns the ticks of the series' times into ns since start with to_ns(tick, arg). */
void vt__mem_finish(vt_model *m, uint64_t (*to_ns)(uint64_t tick, const void *arg),
                    const void *arg);

/* Internal waste at one moment, or over all allocations. */
typedef struct vt_waste {
    uint64_t requested; /* bytes asked for */
    uint64_t waste;     /* usable size minus bytes asked for */
    uint64_t usable;    /* requested + waste */
    double pct;         /* waste / usable, in percent */
} vt_waste;

/* Over all allocations (which = 0), of the blocks live at the heap peak (1), or at the end
 * (2). The caller checks m->has_waste first. */
void vt_frag_waste(const vt_model *m, int which, vt_waste *out);

/* The same for one site. */
void vt_frag_site_waste(const vt_site *s, int which, vt_waste *out);

/* What a memory sample says (for a point that merges several samples, its greatest values). */
typedef struct vt_mem_figures {
    uint64_t rss;        /* resident set size */
    uint64_t heap;       /* bytes requested by the blocks live then (the trace's count) */
    uint64_t footprint;  /* arena + hblkhd: memory the allocator holds from the system */
    uint64_t in_use;     /* uordblks + hblkhd: chunks in use, headers and rounding included */
    uint64_t free_held;  /* fordblks: free memory inside the arenas */
    uint64_t releasable; /* keepcost: of which at the top of the main arena */
    double free_pct;     /* fordblks / arena: free share of the arenas (external fragmentation) */
    double chunk_pct;    /* (in_use - heap) / in_use: in-use memory beyond the requests */
    double overhead_pct; /* (footprint - heap) / footprint: all the allocator holds beyond them */
    double rss_per_heap; /* rss / heap: resident memory per byte of live heap */
} vt_mem_figures;

void vt_mem_figures_of(const vt_mem_point *p, vt_mem_figures *out);

/* Whether a thread used 90% or more of its stack. */
int vt_stack_near_limit(const vt_thread_stats *t);

#endif

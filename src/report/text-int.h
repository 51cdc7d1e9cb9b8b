/* What the files of the text report share: text.c (the report's frame and the site rankings)
 * and text_patterns.c (the sections over time and of allocation patterns). */
#ifndef VT_REPORT_TEXT_INT_H
#define VT_REPORT_TEXT_INT_H

#include <stdio.h>

#include "analyze/model.h"
#include "analyze/symbols.h"
#include "report/report.h"

struct ctx {
    const vt_model *m;
    vt_symbols *syms;
    const vt_report_opts *o;
    FILE *out;
    char cwd[4096];
    size_t cwd_len;
};

/* A section title, with "(top N of M what; --top N for more)" when entries were left out. */
void vt__text_section(const struct ctx *c, const char *title, size_t shown, size_t total,
                      const char *what);

/* A stack, innermost first, indented under an entry. */
void vt__text_stack(const struct ctx *c, const vt_stack *s);

/* " from malloc, realloc" for a site's fn_mask. */
void vt__text_fn_list(const struct ctx *c, uint64_t mask);

/* ANSI bold and reset, when colours are on ("" otherwise). */
const char *vt__text_bold(const struct ctx *c);
const char *vt__text_reset(const struct ctx *c);

/* The sections of text_patterns.c: the heap over time and the growth suspects (after the heap
 * summary), and lifetimes, sizes, realloc chains, one-size sites and cross-thread frees. */
void vt__text_over_time(const struct ctx *c);
void vt__text_patterns(const struct ctx *c);

/* text_zones.c: ns as "850 ns", "12.3 us", "4.56 ms", "2.1 s" in buf; returns buf. */
const char *vt__text_ns(double ns, char *buf, size_t n);

/* text_zones.c: zones, counters, frames, tasks, pools and caches, when the trace has them. */
void vt__text_zones(const struct ctx *c);
/* The lines of `vitals run`'s summary about them. */
void vt__text_zones_summary(const vt_model *m, FILE *out);
/* text_zone_counters.c: the counters read at zone boundaries (--zone-counters), per zone. */
void vt__text_zone_counters(const struct ctx *c);

#endif

/* The outputs of `vitals diff`: text, JSON (docs/DIFF.md has the schema) and Markdown (for a
 * comment on a pull request). They format a vt_diff; the comparisons come from src/analyze. */
#ifndef VT_REPORT_DIFF_REPORT_H
#define VT_REPORT_DIFF_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "analyze/diff.h"

typedef struct vt_diff_report_opts {
    int metric; /* VT_DM_*: what sites are ranked by */
    size_t top; /* sites shown (JSON's "flame" has them all) */
    int frames; /* frames shown per stack in text and Markdown (0 = all) */
    int color;  /* ANSI colours in text */
    const char *const *base_paths, *const *new_paths; /* as the user named them */
    const vt_diff_verdict *verdicts;                  /* the budgets, in the order given */
    size_t n_verdicts;
    enum vt_stat_test test;
    double alpha;
} vt_diff_report_opts;

/* Each writes the whole output to out; returns 0, or -1 when writing failed. */
int vt_render_diff_text(const vt_diff *d, const vt_diff_report_opts *o, FILE *out);
int vt_render_diff_json(const vt_diff *d, const vt_diff_report_opts *o, FILE *out);
int vt_render_diff_markdown(const vt_diff *d, const vt_diff_report_opts *o, FILE *out);
/* One self-contained HTML page: the figures, zones, CPU functions, call sites and a
 * differential flame graph (grown and shrunk stacks in two colours), from the JSON document. */
int vt_render_diff_html(const vt_diff *d, const vt_diff_report_opts *o, FILE *out);

/* How many verdicts are broken. */
size_t vt_diff_broken_count(const vt_diff_verdict *v, size_t n);

#endif

/* Comparing runs: the figures and call sites of one or more base traces against one or more new
 * traces. Sites are matched by their symbolized stack (function names and module basenames, the
 * main program's module standing as "<main>"), never by address, so that a rebuilt or renamed
 * program still matches. */
#ifndef VT_ANALYZE_DIFF_H
#define VT_ANALYZE_DIFF_H

#include <stddef.h>

#include "analyze/budget.h"
#include "analyze/figures.h"
#include "analyze/model.h"
#include "analyze/stats.h"
#include "analyze/symbols.h"

/* What a call site is compared by. */
enum vt_diff_metric {
    VT_DM_CALLS,     /* allocation calls */
    VT_DM_BYTES,     /* bytes allocated */
    VT_DM_PEAK,      /* bytes held at the heap peak */
    VT_DM_LEAKED,    /* bytes still allocated at exit */
    VT_DM_TEMPORARY, /* temporary allocations */
    VT_DM_COUNT
};

/* "calls", "bytes", "peak", "leaked", "temporary"; vt_diff_metric_find() the reverse (-1 when
 * unknown). */
const char *vt_diff_metric_name(int metric);
int vt_diff_metric_find(const char *name);

enum vt_site_change {
    VT_SITE_SAME,
    VT_SITE_ADDED,   /* 0 in the base, more in the new runs */
    VT_SITE_REMOVED, /* more than 0 in the base, 0 in the new runs */
    VT_SITE_GROWN,
    VT_SITE_SHRUNK,
};

/* "same", "added", "removed", "grown", "shrunk". */
const char *vt_site_change_name(enum vt_site_change c);

typedef struct vt_diff_frame {
    char *function; /* demangled name, or "0x<offset>" when unknown */
    char *module;   /* basename, "<main>" for the main program, "?" when none */
} vt_diff_frame;

typedef struct vt_diff_site {
    vt_diff_frame *frames; /* innermost first */
    size_t n_frames;
    /* means over the runs of each side (a run without the site counts as 0) */
    double base[VT_DM_COUNT], new_value[VT_DM_COUNT];
    char *key; /* the matching key */
} vt_diff_site;

typedef struct vt_diff_figure {
    const vt_figure *fig;
    int has;                  /* measured in every run of both sides */
    const char *why;          /* why not, when !has (static) */
    double *base, *new_value; /* per run */
    double base_mean, new_mean;
    vt_test_result test; /* base runs against new runs (valid with 2 or more on each side) */
} vt_diff_figure;

/* A qualified figure (zone:parse p99) compared: fig is the row for its statistic. */
typedef struct vt_diff_named {
    vt_diff_figure f;
    char *qualifier;  /* "parse" */
    const char *stat; /* "p99", or "" */
    char *name;       /* as written in a rule: "zone:parse p99" */
} vt_diff_named;

/* A function's self CPU time compared. */
typedef struct vt_diff_fn {
    char *name;
    double base_ns, new_ns;       /* means over the runs of each side */
    double base_share, new_share; /* percent of each side's sampled CPU time (means) */
} vt_diff_fn;

typedef struct vt_diff {
    size_t n_base, n_new;
    enum vt_stat_test test;
    vt_diff_figure *figures; /* one per unqualified row of vt_figures, in its order */
    size_t n_figures;
    vt_diff_site *sites;
    size_t n_sites;
    /* borrowed from the caller, who keeps them until vt_diff_free() */
    vt_model *const *base_models, *const *new_models;
    /* figures of libvitals' zones and counters found in any run (zone:NAME calls, p50, p99,
     * mean; counter:NAME), zones by name, then counters by name */
    vt_diff_named *named;
    size_t n_named;
    /* functions of the CPU profiles (any run with samples), by name; means of their self time
     * over the runs of each side (0 in a run without the function or without a profile) */
    vt_diff_fn *fns;
    size_t n_fns;
    int has_cpu; /* some run of either side has CPU samples */
} vt_diff;

/* Compares nb base models with nn new ones (each side at least 1), symbolized with the
 * matching syms, figures weighed against noise with test when both sides have repeated runs.
 * The models are borrowed and must outlive the diff. Returns NULL on out of
 * memory. Caller frees with vt_diff_free(). */
vt_diff *vt_diff_new(vt_model *const *base, vt_symbols *const *base_syms, size_t nb,
                     vt_model *const *new_models, vt_symbols *const *new_syms, size_t nn,
                     enum vt_stat_test test);

void vt_diff_free(vt_diff *d);

/* How site s changed by metric. */
enum vt_site_change vt_diff_site_change(const vt_diff_site *s, int metric);

/* Fills out with up to max indexes of changed sites ranked by the absolute change of metric
 * (largest first, ties by key). Returns how many were written; *total (may be NULL) gets how
 * many sites changed. */
size_t vt_diff_rank(const vt_diff *d, int metric, size_t *out, size_t max, size_t *total);

/* Fills out with up to max indexes into d->fns of functions whose self time changed, ranked by
 * the absolute change (largest first, ties by name). Returns how many were written; *total
 * (may be NULL) gets how many changed. */
size_t vt_diff_rank_fns(const vt_diff *d, size_t *out, size_t max, size_t *total);

/* The verdict of one budget rule over a diff. */
typedef struct vt_diff_verdict {
    const vt_budget_expr *rule;
    const vt_figure *fig;
    int measured; /* the figure is in every trace; else why says why not */
    const char *why;
    double base, new_value; /* means */
    double quantity;        /* what the rule compared with its limit */
    int holds;              /* the rule's condition holds on the means */
    int noise;              /* repeated runs on both sides: the test below was made */
    vt_test_result test;    /* base runs against new runs */
    int broken;             /* holds, and the difference is significant (p < alpha) when noise */
} vt_diff_verdict;

/* Evaluates rule (whose figure fig came from vt_figure_for_rule()) over d with test at
 * significance level alpha. Returns 0, or VT_ENOMEM. */
int vt_diff_check(const vt_diff *d, const vt_budget_expr *rule, const vt_figure *fig,
                  enum vt_stat_test test, double alpha, vt_diff_verdict *out);

#endif

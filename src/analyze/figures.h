/* Figures: the named numbers of a run that `vitals diff`, budgets and the run history compare
 * ("peak", "leaked", "allocs"...). One table; a figure is looked up by name, so new figures
 * (CPU time, zone percentiles, counters) are rows added to it, and figures that take a
 * qualifier (`zone:parse p99`) say so in their row. */
#ifndef VT_ANALYZE_FIGURES_H
#define VT_ANALYZE_FIGURES_H

#include <stddef.h>

#include "analyze/budget.h"
#include "analyze/model.h"
#include "analyze/symbols.h"

enum vt_figure_unit {
    VT_FIG_BYTES,
    VT_FIG_COUNT,
    VT_FIG_NS,
    VT_FIG_PCT, /* a share in percent (cpu:FUNCTION share) */
};

typedef struct vt_figure {
    const char *name;  /* as written in rules and shown in outputs */
    const char *label; /* for people: "heap peak" */
    enum vt_figure_unit unit;
    int qualified;     /* needs ":NAME" (as zone:parse); 0: a qualifier is an error */
    const char *stats; /* space-separated statistics it accepts ("p50 p99"), or NULL: none */
    /* The figure's value in m (qual and stat as in the rule, "" when absent). Returns 0 and
     * *out, or VT_ENOTFOUND when the trace does not measure it, with the reason in *why
     * (static). */
    int (*get)(const vt_model *m, const char *qual, const char *stat, double *out,
               const char **why);
} vt_figure;

/* All figures, ended by a row whose name is NULL. */
extern const vt_figure vt_figures[];

/* The figure called name, or NULL. */
const vt_figure *vt_figure_find(const char *name);

/* The row for figure name with qualifier qual ("" or NULL: none) and statistic stat: the
 * figure's unit can depend on the statistic (zone:NAME calls is a count, zone:NAME p99 a
 * time), and "cpu" is both a plain figure and a qualified one (cpu:FUNCTION). NULL when
 * unknown. */
const vt_figure *vt_figure_resolve(const char *name, const char *qual, const char *stat);

/* The self time (stat "self" or ""), total time ("total") or self share of the sampled CPU time
 * in percent ("share") of function fn in m's CPU profile, symbolized with syms. Returns 0 and
 * *out, VT_ENOTFOUND with *why, or VT_ENOMEM. */
int vt_figure_cpu_fn(const vt_model *m, vt_symbols *syms, const char *fn, const char *stat,
                     double *out, const char **why);

/* The qualified figures of m that a run's history keeps, at most max of them: for each zone
 * "zone:NAME calls", "zone:NAME p50", "zone:NAME p99", "zone:NAME mean"; for each counter or
 * gauge "counter:NAME". Sets *names (each and the array freed by the caller), *values (freed
 * by the caller) and *n. Returns 0 or VT_ENOMEM. */
int vt_figures_named(const vt_model *m, size_t max, char ***names, double **values, size_t *n);

/* Checks that rule e names a known figure with a qualifier and statistic it accepts, and a
 * limit in a unit that fits it. Returns the figure, or NULL with *err_at (an offset in e->text)
 * and a reason in msg. */
const vt_figure *vt_figure_for_rule(const vt_budget_expr *e, size_t *err_at, char *msg,
                                    size_t msg_size);

/* Formats v in fig's unit ("1.50 MiB", "1,234", "12.3 ms"); signed adds "+" to positive
 * values. Returns buf. */
const char *vt_figure_fmt(const vt_figure *fig, double v, int is_signed, char *buf, size_t n);

/* The unit's name in JSON: "bytes", "count" or "ns". */
const char *vt_figure_unit_name(enum vt_figure_unit u);

#endif

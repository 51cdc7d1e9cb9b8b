/* The budget grammar: rules such as `peak > +10%`, `leaked > 0`, `allocs > +20%` or
 * `zone:parse p99 > +15%` (docs/DIFF.md). Parsing turns a rule into an expression; checking it
 * against figures is a separate step (vt_budget_holds), so that other commands can reuse the
 * parser with figures of their own. Nothing here knows which figures exist (see figures.h). */
#ifndef VT_ANALYZE_BUDGET_H
#define VT_ANALYZE_BUDGET_H

#include <stddef.h>

#include "analyze/lex.h"

/* What the limit of a rule is compared with. */
enum vt_limit_kind {
    VT_LIMIT_VALUE,    /* `leaked > 0`: the new value itself */
    VT_LIMIT_CHANGE,   /* `peak > +1MiB`: new minus base, in the figure's unit */
    VT_LIMIT_RELATIVE, /* `peak > +10%`: (new - base) / base, in percent */
};

#define VT_BUDGET_NAME_MAX 64
#define VT_BUDGET_QUAL_MAX 128
#define VT_BUDGET_STAT_MAX 16
#define VT_BUDGET_TEXT_MAX 256

typedef struct vt_budget_expr {
    char figure[VT_BUDGET_NAME_MAX];    /* "peak", "zone" */
    char qualifier[VT_BUDGET_QUAL_MAX]; /* "parse" in `zone:parse`, or "" */
    char stat[VT_BUDGET_STAT_MAX];      /* "p99" in `zone:parse p99`, or "" */
    enum vt_cmp cmp;
    enum vt_limit_kind kind;
    enum vt_qty unit; /* what the limit's unit measures; % only with VT_LIMIT_RELATIVE */
    double limit;                  /* in bytes, ns or a plain count; percent for RELATIVE */
    size_t figure_at, limit_at;    /* offsets in text, for messages */
    char text[VT_BUDGET_TEXT_MAX]; /* the rule as written, trimmed */
} vt_budget_expr;

/* Parses one rule from text into *out. Returns 0, or VT_EINVAL with *err_at set to the offset
 * (in text) of the offending character and a one-line reason in msg. */
int vt_budget_parse(const char *text, vt_budget_expr *out, size_t *err_at, char *msg,
                    size_t msg_size);

/* The same for a rule followed by more text (as in `rss > 2GiB for 10s`, where a grammar of
 * its own reads ` for 10s`): parses the rule at the start of text and sets *rest to the offset
 * of what follows it (spaces skipped; strlen(text) when nothing does). A word after the limit
 * and a space is left to the caller unless it is a unit. */
int vt_budget_parse_prefix(const char *text, vt_budget_expr *out, size_t *rest, size_t *err_at,
                           char *msg, size_t msg_size);

/* The quantity rule e compares with its limit, given the base and new values: new itself,
 * new - base, or the change in percent of base (from a base of 0: 0 when new is 0 too, else
 * +-infinity, any growth from nothing being infinitely large). Returns 0 and *out, or
 * VT_EINVAL when the rule needs a base and has_base is 0. */
int vt_budget_measure(const vt_budget_expr *e, double base, double new_value, int has_base,
                      double *out);

/* Whether rule e is broken (its condition holds): 1 yes, 0 no, or a negative VT_E* code as for
 * vt_budget_measure(). *measured (may be NULL) gets the quantity compared. */
int vt_budget_broken(const vt_budget_expr *e, double base, double new_value, int has_base,
                     double *measured);

/* Formats a limit as written in rules ("+10%", "1 MiB", "+250 ms"); returns buf. */
const char *vt_budget_limit_str(const vt_budget_expr *e, char *buf, size_t n);

#endif

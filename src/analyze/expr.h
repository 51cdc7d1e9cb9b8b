/* A small grammar of conditions over named metrics, parsed into a struct and evaluated
 * separately, so that any command can bind the names to its own figures (vitals monitor
 * --alert binds them to the live metrics). docs/MONITOR.md has the grammar:
 *
 *   condition := [severity ':'] metric ['/s'] op number [unit] ['for' number duration-unit]
 *   severity  := info | warning | critical            (default: warning)
 *   metric    := [a-z_][a-z0-9_.]*
 *   op        := > | >= | < | <= | == | !=
 *   unit      := B kB MB GB TB KiB MiB GiB TiB | % | ns us ms s m h | k M G
 *
 * Comparisons, numbers and units are those of every rule grammar (lex.h). Parse errors say
 * which character is wrong. */
#ifndef VT_ANALYZE_EXPR_H
#define VT_ANALYZE_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/lex.h"

typedef struct vt_expr {
    char text[256];   /* the condition as written */
    char metric[64];  /* the metric's name */
    int rate;         /* '/s' followed the name */
    enum vt_cmp op;   /* compares the metric (left) with value */
    double value;     /* the threshold in the unit's base: bytes, percent, ns, count */
    enum vt_qty unit; /* what the threshold's unit measures */
    uint64_t for_ns;  /* how long the condition must hold (0: at once) */
    int severity;     /* 0 info, 1 warning, 2 critical */
    size_t metric_at; /* character offsets, for messages after parsing */
    size_t unit_at;
} vt_expr;

typedef struct vt_expr_error {
    size_t pos;    /* the offending character (0-based) */
    char msg[160]; /* what is wrong there */
} vt_expr_error;

/* Parses text into *e. Returns 0, or VT_EINVAL with *err saying where and why. */
int vt_expr_parse(const char *text, vt_expr *e, vt_expr_error *err);

#endif

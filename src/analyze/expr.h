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
 * Parse errors say which character is wrong. */
#ifndef VT_ANALYZE_EXPR_H
#define VT_ANALYZE_EXPR_H

#include <stddef.h>
#include <stdint.h>

enum vt_expr_op { VT_OP_GT, VT_OP_GE, VT_OP_LT, VT_OP_LE, VT_OP_EQ, VT_OP_NE };

/* What the number's unit says it measures. */
enum vt_expr_unit {
    VT_EXPR_PLAIN = 0, /* no unit */
    VT_EXPR_BYTES,     /* value in bytes */
    VT_EXPR_PERCENT,   /* value in percent */
    VT_EXPR_TIME,      /* value in nanoseconds */
    VT_EXPR_COUNT,     /* a plain number with k, M or G */
};

typedef struct vt_expr {
    char text[256];   /* the condition as written */
    char metric[64];  /* the metric's name */
    int rate;         /* '/s' followed the name */
    int op;           /* VT_OP_* */
    double value;     /* the threshold in the unit's base: bytes, percent, ns, count */
    int unit;         /* VT_EXPR_* */
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

/* Whether value satisfies e's comparison (the threshold in the same base unit). */
int vt_expr_holds(const vt_expr *e, double value);

/* ">", ">="... */
const char *vt_expr_op_name(int op);

#endif

/* Advice with evidence, and a memory-health rating. Every item names the site (or thread) and
 * the figures that triggered it, and what acting on it would save; the rules and thresholds are
 * in docs/REPORT.md ("Advice" and "Memory health"). No figure here is computed anew: the rules
 * read the model and the analyses (leak classes, lifetimes, patterns, growth, fragmentation). */
#ifndef VT_ANALYZE_ADVICE_H
#define VT_ANALYZE_ADVICE_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/model.h"

enum vt_advice_kind {
    VT_ADVICE_LEAK,      /* definitely lost blocks */
    VT_ADVICE_POSSIBLE,  /* possibly lost blocks */
    VT_ADVICE_GROWTH,    /* live bytes that keep growing */
    VT_ADVICE_POOL,      /* many short-lived blocks of one size */
    VT_ADVICE_TEMPORARY, /* temporaries on a hot path */
    VT_ADVICE_REALLOC,   /* a buffer grown by many reallocs */
    VT_ADVICE_WASTE,     /* requests the allocator rounds up a lot */
    VT_ADVICE_STACK,     /* a thread near the end of its stack */
    VT_ADVICE_OVERHEAD,  /* the allocator holds much more than the heap */
    VT_ADVICE_KINDS
};

enum vt_severity {
    VT_SEV_INFO,
    VT_SEV_WARNING,
    VT_SEV_CRITICAL,
};

typedef struct vt_advice {
    enum vt_advice_kind kind;
    enum vt_severity severity;
    long site;               /* index into vt_model.sites, or -1 */
    long thread;             /* index into vt_model.threads, or -1 */
    char evidence[320];      /* the figures that triggered it */
    const char *action;      /* what to do (static text) */
    uint64_t saving;         /* what acting on it would save, in saving_unit */
    const char *saving_unit; /* "bytes", "allocation calls"... (static text) */
    int saving_is_bound;     /* saving is an upper bound, not a count */
} vt_advice;

/* The advice for m, most severe first, then by saving. Returns a malloc'd array of *n items
 * (the caller frees it with free()), or NULL with *n = 0 when there is none or no memory. */
vt_advice *vt_advise(const vt_model *m, size_t *n);

/* "leak", "possible-leak", "growth", "pool", "temporary", "realloc", "waste", "stack",
 * "overhead". */
const char *vt_advice_kind_name(enum vt_advice_kind k);
/* "info", "warning", "critical". */
const char *vt_severity_name(enum vt_severity s);

#define VT_HEALTH_REASONS 8

typedef struct vt_health {
    int score;          /* 100 less the deductions, at least 0 */
    const char *rating; /* "excellent", "good", "fair", "poor" or "critical" */
    int n_reasons;
    struct {
        int points;     /* deducted */
        char text[200]; /* why, with the figures */
    } reasons[VT_HEALTH_REASONS];
} vt_health;

/* The memory-health rating of m (docs/REPORT.md, "Memory health"). */
void vt_health_of(const vt_model *m, vt_health *out);

#endif

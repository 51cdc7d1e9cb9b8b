/* The CPU profile of a trace: samples per call stack and thread, the threads the sampler
 * followed, counters; and the analyses over them (hot functions, call tree, callers and
 * callees, hot spots with advice, derived ratios). docs/REPORT.md explains every figure. */
#ifndef VT_ANALYZE_CPU_H
#define VT_ANALYZE_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/symbols.h"
#include "util/index.h"

struct vt_model;

/* Samples of one call stack in one thread. */
typedef struct vt_cpu_agg {
    uint32_t stack;             /* index into vt_model.stacks, UINT32_MAX: no stack */
    uint32_t thread;            /* index into vt_cpu.threads */
    uint64_t on_samples, on_ns; /* on-CPU samples and the CPU time they stand for */
    uint64_t off_count, off_ns; /* --wall: times switched out here, and for how long */
} vt_cpu_agg;

/* A count of one event in one thread (a CPU_COUNTERS record). */
typedef struct vt_cpu_count {
    uint64_t value, enabled, running;
} vt_cpu_count;

typedef struct vt_cpu_thread {
    uint32_t tid;
    char *name;                /* its name (comm), or NULL */
    int has_record;            /* a CPU_THREAD record said its figures */
    uint64_t start_ns, end_ns; /* ns since the start of the trace */
    uint64_t cpu_ns;           /* CPU time (task-clock, or the thread's CPU clock) */
    uint64_t samples, lost;
    uint64_t migrations, switches;
    uint64_t flags;         /* VT_CPU_T_* */
    uint64_t on_ns, off_ns; /* sampled on-CPU time; --wall: switched-out time */
    vt_cpu_count *counts;   /* per event (n_events), value 0 and running 0 when not read */
    /* private */
    uint64_t start_tsc, end_tsc;
} vt_cpu_thread;

typedef struct vt_cpu_event {
    char *name;
    int status; /* 0 counted, else the errno of perf_event_open (ENOENT: not on this machine) */
    uint32_t type;
    uint64_t config;
    int flags;          /* VT_CPU_EV_* */
    vt_cpu_count total; /* summed over threads */
    double scaled;      /* summed over threads, each scaled enabled/running */
    int threads;        /* threads that counted it */
} vt_cpu_event;

typedef struct vt_cpu {
    int sampler; /* VT_SAMPLER_* */
    uint64_t hz, flags, period_ns;
    char *note;
    vt_cpu_agg *aggs;
    size_t n_aggs;
    vt_cpu_thread *threads;
    size_t n_threads;
    vt_cpu_event *events;
    size_t n_events;
    uint64_t samples, on_ns, off_ns, lost;
    /* private */
    size_t cap_aggs, cap_threads, cap_events;
    vt_index agg_index; /* aggregates by stack and thread */
} vt_cpu;

struct vt_stream_dec;

/* Applies one record of tags 0x90-0x9f to *cpu (made on first use). stack_canon maps trace
 * stack ids to model stacks (n_ids of them). tsc: the record's time (CPU_SAMPLE). Returns 0,
 * or -1 for a malformed record, VT_ENOMEM. */
int vt__cpu_decode(vt_cpu **cpu, uint8_t tag, struct vt_stream_dec *d, uint64_t tsc,
                   const uint32_t *stack_canon, size_t n_ids);

/* Turns the trace's ticks into ns once the clock is known, and sums the counters. */
void vt__cpu_finish(vt_cpu *cpu, uint64_t (*to_ns)(uint64_t tsc, const void *arg), const void *arg);

/* Frees everything; NULL does nothing. */
void vt__cpu_free(vt_cpu *cpu);

/* The name of a sampler ("perf task-clock", "per-thread timer", "none"). */
const char *vt_cpu_sampler_name(int sampler);

/* ---- analyses (at report time, with symbols) ---- */

/* One function: its self time (innermost frame) and total time (anywhere on the stack). */
typedef struct vt_cpu_fn {
    const char *name;   /* borrowed from the profile */
    const char *module; /* borrowed, or NULL */
    const char *file;   /* of the hottest sampled line, or NULL */
    int line;
    uint64_t self_ns, total_ns;
    uint64_t off_ns; /* --wall: switched-out time with this function innermost */
    /* private */
    uint64_t line_ns;
    uint32_t id;
} vt_cpu_fn;

/* A node of the call tree (top-down: the root has no function). */
typedef struct vt_cpu_node {
    uint32_t fn;                        /* index into fns; UINT32_MAX for the root */
    uint32_t parent;                    /* UINT32_MAX for the root */
    uint32_t first_child, next_sibling; /* UINT32_MAX: none */
    uint64_t self_ns, total_ns;
} vt_cpu_node;

/* A caller or callee of a function, with the time that flowed through that call. */
typedef struct vt_cpu_edge {
    uint32_t fn;
    uint64_t ns;
} vt_cpu_edge;

typedef struct vt_cpu_profile vt_cpu_profile;

/* Builds the profile of one thread (index into cpu->threads) or of all (thread < 0) from the
 * on-CPU samples. NULL on out of memory. Caller frees with vt_cpu_profile_free(). */
vt_cpu_profile *vt_cpu_profile_new(const struct vt_model *m, vt_symbols *syms, long thread);
void vt_cpu_profile_free(vt_cpu_profile *p);

/* The sampled CPU time it covers (ns), the samples, and the functions, by self time (ties: by
 * total, then name). Borrowed, valid until vt_cpu_profile_free(). */
uint64_t vt_cpu_profile_ns(const vt_cpu_profile *p);
uint64_t vt_cpu_profile_off_ns(const vt_cpu_profile *p);
const vt_cpu_fn *vt_cpu_profile_fns(const vt_cpu_profile *p, size_t *n);
/* Indexes of functions by total time (n of them). Borrowed. */
const uint32_t *vt_cpu_profile_by_total(const vt_cpu_profile *p, size_t *n);
/* The call tree; node 0 is the root. Children are ordered by total time. Borrowed. */
const vt_cpu_node *vt_cpu_profile_tree(const vt_cpu_profile *p, size_t *n);
/* The function called name, or -1. */
long vt_cpu_profile_find(const vt_cpu_profile *p, const char *name);
/* Callers (which = 0) or callees (which = 1) of function fn, by time; caller frees the array. */
vt_cpu_edge *vt_cpu_profile_edges(const vt_cpu_profile *p, uint32_t fn, int which, size_t *n);

/* Thresholds of the hot spots (docs/REPORT.md). */
#define VT_CPU_HOT_SELF_PCT 10.0  /* a function's self share of the sampled CPU time */
#define VT_CPU_HOT_TOTAL_PCT 30.0 /* a function's total share, when its self share is small */
#define VT_CPU_HOT_TOTAL_SELF_PCT 5.0
#define VT_CPU_HOT_ENTRY_PCT 95.0 /* above it a function is an entry point (main): not shown */
#define VT_CPU_OFF_PCT 20.0       /* --wall: a thread's switched-out share of its wall time */
#define VT_CPU_LOST_PCT 1.0       /* lost samples worth a warning */

enum vt_cpu_hot_kind {
    VT_HOT_SELF,    /* its own code takes the time */
    VT_HOT_CALLEES, /* its callees take the time */
    VT_HOT_BLOCKED, /* a thread waits (off-CPU) */
};

typedef struct vt_cpu_hot {
    int kind;         /* vt_cpu_hot_kind */
    uint32_t fn;      /* the function (VT_HOT_BLOCKED: the innermost function it blocked in) */
    uint32_t via;     /* VT_HOT_CALLEES: its heaviest callee (UINT32_MAX: none) */
    double pct;       /* the share that crossed the threshold */
    double via_pct;   /* the callee's share of the total CPU time */
    long thread;      /* VT_HOT_BLOCKED: the thread index */
    char advice[512]; /* what to do, citing the evidence */
} vt_cpu_hot;

/* Hot spots of profile p (all threads), ranked by share; caller frees. */
vt_cpu_hot *vt_cpu_hot_spots(const struct vt_model *m, const vt_cpu_profile *p, size_t *n);

/* Ratios derived from counters; each is valid only when have is set. */
typedef struct vt_cpu_ratio {
    const char *name;
    const char *formula;
    double value;
    int have;
} vt_cpu_ratio;

enum {
    VT_RATIO_IPC,
    VT_RATIO_BRANCH_MISS,
    VT_RATIO_L1_MISS,
    VT_RATIO_LLC_MISS,
    VT_RATIO_BRANCH_MPKI,
    VT_RATIO_L1_MPKI,
    VT_RATIO_LLC_MPKI,
    VT_RATIO_TLB_MPKI,
    VT_RATIOS
};

/* Fills out[VT_RATIOS] from the counter totals (scaled) of cpu; returns how many are valid. */
int vt_cpu_ratios(const vt_cpu *cpu, vt_cpu_ratio *out);

/* The same formulas over any totals: total(arg, name) is the scaled total of the event called
 * name, or -1 when it was not counted (a zone's counts: zone_counters.h). */
int vt_cpu_ratios_by(double (*total)(const void *arg, const char *name), const void *arg,
                     vt_cpu_ratio *out);

/* A one-line reading of the ratios ("memory-bound: ..."), or NULL when they say too little. */
const char *vt_cpu_interpret(const vt_cpu_ratio *r, char *buf, size_t n);

/* The scaled total of the event called name, or -1 when it was not counted. */
double vt_cpu_event_total(const vt_cpu *cpu, const char *name);

#endif

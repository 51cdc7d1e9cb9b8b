/* What limits a process over a recording: CPU, I/O, memory (paging), or nothing it does
 * itself (waiting: locks, network, timers, input), decided from the monitor's series with the
 * numbers that decided it. */
#ifndef VT_ANALYZE_BOTTLENECK_H
#define VT_ANALYZE_BOTTLENECK_H

#include "analyze/series.h"

enum vt_bottleneck_class {
    VT_BOUND_UNKNOWN = 0, /* too few snapshots */
    VT_BOUND_CPU,
    VT_BOUND_IO,
    VT_BOUND_MEMORY,
    VT_BOUND_WAITING,
};

typedef struct vt_bottleneck {
    int cls;
    double seconds;                    /* the window */
    double cpu_pct;                    /* CPU time over wall time, % of one core */
    double blkio_pct;                  /* time waiting for block I/O (delay accounting), % */
    double disk_state_pct;             /* share of thread samples in D state */
    double running_pct;                /* share of thread samples running or runnable */
    double major_faults_s;             /* major faults per second */
    double psi_memory_pct, psi_io_pct; /* system-wide stall shares (NAN: no PSI) */
    double steal_pct;                  /* hypervisor steal, % of the machine (NAN: unknown) */
    char reason[320];                  /* one sentence with the numbers */
} vt_bottleneck;

/* Classifies the whole of s. Rules (docs/MONITOR.md): memory-bound at >= 100 major faults/s
 * or >= 10% memory stall with any major faults; I/O-bound at >= 20% of the time waiting for
 * block I/O or >= 20% of thread samples in D state; CPU-bound at >= 70% of one core or >= 70%
 * of thread samples running or runnable; otherwise waiting. */
void vt_bottleneck_classify(const vt_series *s, vt_bottleneck *out);

/* "cpu-bound", "io-bound", "memory-bound", "waiting", "unknown". */
const char *vt_bottleneck_name(int cls);

/* The default window of the sliding classification. */
#define VT_PHASE_WINDOW_NS 10000000000ull

/* A stretch of the recording with one class: consecutive windows of the same class collapse
 * into one phase, whose figures (b) are the means over all its snapshots. */
typedef struct vt_phase {
    uint64_t from_ns, to_ns; /* since the start of the recording */
    uint64_t snapshots;
    vt_bottleneck b;
} vt_phase;

/* Means of the deciding metrics over a stretch, each weighted by its snapshot's interval. */
typedef struct vt_phase_acc {
    double sum[9], w[9];
    uint64_t n;
    uint64_t first_ns, last_ns;
} vt_phase_acc;

/* The sliding classification: windows of window_ns, each classified by the rules of
 * vt_bottleneck_classify, neighbours of one class collapsed into phases. Fed one snapshot at a
 * time, live (vitals monitor) or from a recorded series. */
typedef struct vt_phases {
    uint64_t window_ns;
    uint64_t
        origin_ns; /* the first snapshot's time: windows are [origin + k w, origin + (k+1) w) */
    int started;
    uint64_t window_index;
    vt_phase_acc win;   /* the window being filled */
    vt_phase_acc phase; /* the last phase's snapshots */
    vt_phase *v;        /* the phases so far; the last one may still grow */
    size_t n, cap;
} vt_phases;

void vt_phases_init(vt_phases *ph, uint64_t window_ns);
void vt_phases_release(vt_phases *ph);

/* Adds the snapshot of s that is current (s->now, s->now_ns - s->prev_ns its interval) taken at
 * ns since the start. Returns 1 when this closed a window that began a new phase (a change of
 * class: ph->v[ph->n - 2] is the one before, or none when n is 1), 0 otherwise, or
 * VT_ENOMEM. */
int vt_phases_step(vt_phases *ph, const vt_series *s, uint64_t ns);

/* Adds the figures of one point: vals as vt_phase_acc holds them (cpu, blkio, major faults,
 * psi memory, psi io, steal, threads running, in D, sleeping; NAN: not measured), dt_ns its
 * interval. Returns as vt_phases_step. */
int vt_phases_add(vt_phases *ph, uint64_t ns, uint64_t dt_ns, const double *vals);

/* Closes the last window (a partial one counts when it holds at least 2 snapshots, or when
 * there is no phase yet). Returns 1 when it began a new phase, 0, or VT_ENOMEM. */
int vt_phases_finish(vt_phases *ph);

/* Fills ph (initialised with its window) from the points kept in a recorded series s. Returns
 * 0 or VT_ENOMEM. */
int vt_phases_of_series(vt_phases *ph, const vt_series *s);

#endif

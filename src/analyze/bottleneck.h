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

#endif

/* What libvitals recorded: zones (per call site: calls, errors, duration statistics and
 * percentiles, rate, trend, allocations made inside), counters, gauges, frame marks, tasks
 * (resource use, classification per kind) and the figures of pools and caches. The model feeds
 * it during its one pass (times in TSC ticks) and finishes it at the end, when ticks become
 * nanoseconds; renderers (text, json, and any other format) read the finished tables below.
 * Rules and thresholds are in docs/REPORT.md. */
#ifndef VT_ANALYZE_ZONES_H
#define VT_ANALYZE_ZONES_H

#include <stddef.h>
#include <stdint.h>

#include "trace/format.h"
#include "trace/stream.h"
#include "util/loghist.h"

/* Series over the run (a zone's trend, a counter's or gauge's values) keep this many windows
 * however long the trace: when time runs past the last, neighbours merge in pairs. */
#define VT_ZONE_WINDOWS 32

/* A name from a LOCATION record. */
typedef struct vt_location {
    uint32_t kind; /* VT_LOC_* */
    char *name;    /* never NULL; a zone named after its function has its function's name */
    char *function, *file;
    uint32_t line;
} vt_location;

/* One window of a series: from start_ns for the window's width. */
typedef struct vt_window {
    uint64_t start_ns;
    uint64_t n;      /* zone ends, counter or gauge updates in it */
    double sum;      /* zone: durations (ns); counter: amounts added */
    double min, max; /* zone: durations; gauge: values */
    double last;     /* gauge: the last value; counter: the total at the window's end */
} vt_window;

typedef struct vt_zone_stats {
    uint32_t loc; /* index into vt_zones.locs */
    uint64_t calls, errors;
    double total_ns, min_ns, max_ns, mean_ns, stddev_ns;
    double p50_ns, p90_ns, p95_ns, p99_ns, p999_ns;
    double rate_per_s;     /* calls over the run's duration */
    double trend_ns_per_s; /* least-squares slope of the windows' mean duration over time */
    double trend_pct;      /* that slope over the run, as a share of the mean duration */
    uint64_t alloc_calls, alloc_bytes; /* made on its thread while it was the innermost zone */
    size_t n_windows;
    vt_window windows[VT_ZONE_WINDOWS];
    /* private to the pass */
    vt_loghist hist; /* durations in ticks */
    double mean_t, m2_t;
    uint64_t min_t, max_t, total_t;
    uint64_t win_width, win_base; /* ticks */
} vt_zone_stats;

typedef struct vt_counter_stats {
    uint32_t loc;
    int gauge; /* a gauge (else a counter) */
    uint64_t updates;
    int64_t total;         /* counter: the sum of the amounts */
    double last, min, max; /* gauge */
    size_t n_windows;
    vt_window windows[VT_ZONE_WINDOWS];
    uint64_t win_width, win_base;
} vt_counter_stats;

typedef struct vt_frame_stats {
    uint32_t loc; /* UINT32_MAX: the main loop (no name) */
    uint64_t marks;
    double mean_ns, p50_ns, p99_ns, max_ns; /* intervals between consecutive marks */
    double per_s;
    vt_loghist hist; /* intervals in ticks */
    uint64_t last_t, max_t, sum_t;
} vt_frame_stats;

/* One finished task. */
typedef struct vt_task {
    uint32_t name, kind; /* indexes into vt_zones.locs */
    uint32_t thread;
    uint64_t start_ns, wall_ns, user_ns, sys_ns, vcsw, ivcsw;
    uint64_t rchar, wchar, read_bytes, write_bytes;
    uint64_t alloc_calls, alloc_bytes;
    uint64_t run_delay_ns; /* runnable, waiting for a CPU */
    int has_rusage, has_io, has_sched;
    double vs_baseline; /* wall time over the median of its kind */
} vt_task;

/* What holds a kind of task back, by the rules of docs/REPORT.md. */
enum vt_task_class {
    VT_TASK_CPU,
    VT_TASK_MEMORY,
    VT_TASK_IO,
    VT_TASK_WAIT,
    VT_TASK_UNKNOWN, /* no usage measured */
};

/* One call of a zone: the first VT_ZONE_SPANS_KEPT are kept, for the formats that draw each
 * call (Chrome trace slices). */
typedef struct vt_zone_span {
    uint32_t loc;    /* index into vt_zones.locs */
    uint32_t thread; /* the model's thread index */
    uint64_t start_ns, dur_ns;
} vt_zone_span;
#define VT_ZONE_SPANS_KEPT 200000

/* The model keeps this many tasks (their kinds' figures are over them): memory stays bounded
 * however long the trace. */
#define VT_TASKS_KEPT 100000

/* Thresholds of the classification (docs/REPORT.md). */
/* CPU time plus time waiting for a CPU, over wall time: CPU-bound at or above */
#define VT_TASK_CPU_DEMAND 0.70
#define VT_TASK_MEM_BYTES (8u * 1024 * 1024) /* allocated per task: memory-bound at or above */
#define VT_TASK_MEM_CALLS_PER_MS 1000.0      /* or allocations per ms of wall time */
#define VT_TASK_IO_BYTES (64u * 1024)        /* read or written per task: I/O-bound */

typedef struct vt_task_kind {
    uint32_t kind; /* index into vt_zones.locs */
    uint64_t tasks;
    /* medians over its tasks: the baseline */
    uint64_t wall_ns, cpu_ns, alloc_bytes, alloc_calls, io_bytes, vcsw, ivcsw;
    uint64_t run_delay_ns;
    double efficiency; /* summed CPU over summed wall time */
    double demand;     /* summed CPU and run-queue wait over summed wall time */
    uint64_t total_wall_ns, total_cpu_ns, total_run_delay_ns;
    int cls; /* enum vt_task_class */
    char evidence[200];
} vt_task_kind;

/* The last figures recorded of a pool or cache (POOL_STATS, CACHE_STATS). */
typedef struct vt_lib_object {
    uint32_t loc;
    int cache;                   /* else a pool */
    int final;                   /* these are its figures as it was freed */
    uint64_t samples;            /* records of it in the trace */
    uint64_t ns;                 /* when the figures were taken */
    uint64_t v[VT_CACHE_FIELDS]; /* VT_POOL_* or VT_CACHE_* fields */
} vt_lib_object;

typedef struct vt_zones {
    int present;    /* the trace holds any of libvitals' records */
    int zones_only; /* recorded without allocation hooks (VITALS_TRACE) */
    vt_location *locs;
    size_t n_locs;
    vt_zone_stats *zones; /* sorted by total time, descending, once finished */
    size_t n_zones;
    vt_counter_stats *counters; /* counters, then gauges, by name */
    size_t n_counters;
    vt_frame_stats *frames;
    size_t n_frames;
    vt_task *tasks; /* in the order they ended; the first VT_TASKS_KEPT */
    size_t n_tasks;
    uint64_t tasks_not_kept; /* tasks that ended after the first VT_TASKS_KEPT: left out */
    vt_task_kind *kinds;
    size_t n_kinds;
    vt_zone_span *spans; /* in the order the calls ended; the first VT_ZONE_SPANS_KEPT */
    size_t n_spans;
    uint64_t spans_not_kept; /* calls that ended after the first VT_ZONE_SPANS_KEPT */
    vt_lib_object *objects;  /* pools then caches, in the order they appeared */
    size_t n_objects;
    uint64_t unmatched_ends; /* ZONE_END or TASK_END with nothing open on the thread */
    uint64_t open_at_end;    /* zones and tasks still open when the trace ended */
    uint64_t unknown_ids;    /* records naming a location the trace never defined */
    int aggregated;          /* from version 1.4: figures from the threads' ZONE_STATS */
    uint64_t spans_limit;    /* then: the calls the agent wrote as spans (ZONE_BEGIN/END) */
    uint64_t zones_lost;     /* zones not recorded (too deep, out of memory) */
    /* private to the pass */
    void *priv;
} vt_zones;

/* Applies a LOCATION record (its fields follow in d); 0, or -1 when malformed. */
int vt__zones_location(vt_zones *z, vt_stream_dec *d);
/* Applies a record of tag 0x80-0x8f at tick tsc on thread (-1: none) whose fields follow
 * in d; returns 0, -1 when malformed, or VT_ENOMEM. */
int vt__zones_record(vt_zones *z, int tag, vt_stream_dec *d, int64_t thread, uint64_t tsc);
/* An allocation of size bytes on thread: counted to its innermost open zone and task. */
void vt__zones_alloc(vt_zones *z, int64_t thread, uint64_t size);
/* Turns ticks into ns (ns_per_tick; start_tsc is the trace's start, duration_ns its length)
 * and computes the figures. Returns 0 or VT_ENOMEM. */
int vt__zones_finish(vt_zones *z, double ns_per_tick, uint64_t start_tsc, uint64_t duration_ns);
void vt__zones_release(vt_zones *z);

/* "CPU-bound", "memory-bound", "I/O-bound", "wait-bound", "unknown"; key: "cpu"... */
const char *vt_task_class_name(int cls);
const char *vt_task_class_key(int cls);
/* The location's display name ("parse", or "?" for an index out of range). */
const char *vt_zones_name(const vt_zones *z, uint32_t loc);

/* During the pass: the loc index (into locs) of the zone whose LOCATION record had id, or -1
 * when no zone location has that id. */
int64_t vt__zones_zone_loc(const vt_zones *z, uint64_t id);

#endif

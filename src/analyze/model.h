/* The model: what a trace says, read once and aggregated per call stack. Memory is in
 * proportion to distinct stacks, live blocks and threads, never to the number of events. */
#ifndef VT_ANALYZE_MODEL_H
#define VT_ANALYZE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/lifetime.h"
#include "analyze/patterns.h"
#include "analyze/series.h"
#include "analyze/timeline.h"
#include "analyze/zones.h"
#include "trace/format.h"

/* Aggregates for one call stack (a "site"). */
typedef struct vt_site {
    uint32_t stack;       /* index into vt_model.stacks */
    uint64_t alloc_calls; /* allocations made here (realloc counts as one) */
    uint64_t alloc_bytes; /* bytes requested here */
    uint64_t temporary;   /* temporary allocations (see docs/REPORT.md) */
    uint64_t live_blocks; /* still allocated at the end of the trace */
    uint64_t live_bytes;
    uint64_t peak_bytes; /* held at the moment of the heap peak */
    uint64_t peak_blocks;
    uint64_t fn_mask;      /* bit per VT_FN_* that allocated here */
    uint64_t mapped_calls; /* anonymous mmap calls */
    uint64_t mapped_bytes; /* bytes mapped */
    uint64_t mapped_live;  /* still mapped at the end */
    /* blocks and bytes live at the end, by leak class (VT_LEAK_*), when the trace has a scan */
    uint64_t leak_blocks[VT_LEAK_CLASSES], leak_bytes[VT_LEAK_CLASSES];
    /* internal waste (usable size minus bytes requested; traces from version 1.2) */
    uint64_t waste_bytes; /* of all allocations made here */
    uint64_t peak_waste;  /* of the blocks held at the moment of the heap peak */
    uint64_t live_waste;  /* of the blocks still allocated at the end */
    /* private to the model */
    uint64_t at_peak_bytes, at_peak_blocks, at_peak_waste, epoch;
} vt_site;

typedef struct vt_stack {
    uint32_t depth;
    uint32_t gen;     /* the code generation it was captured in (UINT32_MAX: not recorded) */
    uint64_t *frames; /* return addresses, innermost first */
} vt_stack;

typedef struct vt_module {
    char *path;
    uint64_t bias, start, end;
    uint8_t build_id[64];
    uint32_t build_id_len;
    uint32_t first_gen, last_gen; /* code generations whose module map holds it */
} vt_module;

/* The reachability scan the agent ran at exit (a SCAN record). */
typedef struct vt_leak_scan {
    int present;                     /* the trace has a SCAN record */
    int status;                      /* VT_SCAN_* */
    uint64_t blocks;                 /* live blocks the scan classified */
    uint64_t count[VT_LEAK_CLASSES]; /* as the agent counted them */
    uint64_t bytes[VT_LEAK_CLASSES];
    uint64_t root_bytes, heap_bytes; /* memory read from the roots and from blocks */
    uint64_t ns;                     /* how long the scan took */
    uint64_t threads, threads_sp;    /* threads, and those whose stack pointer was known */
    uint64_t flags;                  /* VT_SCAN_DIRECT_READS */
    /* still reachable only through an interior pointer one of memcheck's heuristics accepts */
    uint64_t heuristic_blocks, heuristic_bytes;
    uint64_t unmatched; /* LEAK records naming blocks the model does not hold live */
} vt_leak_scan;

typedef struct vt_thread_stats {
    uint32_t tid;
    uint64_t alloc_calls, alloc_bytes, frees;
    uint64_t first_ns, last_ns;
    /* its stack (STACK_USAGE record, version 1.2): size, and the deepest part of it in use */
    int has_stack;
    uint64_t stack_size, stack_used;
} vt_thread_stats;

/* The fields of a memory sample (MEMINFO record): the process's resident size, glibc's
 * mallinfo2() figures, and the trace's own count of the heap at that moment. */
enum vt_mem_field {
    VT_MEM_RSS,      /* resident set size */
    VT_MEM_ARENA,    /* bytes the allocator's arenas took from the system (brk, heaps) */
    VT_MEM_HBLKHD,   /* bytes of chunks mapped one by one (large blocks) */
    VT_MEM_UORDBLKS, /* bytes of the arenas' chunks in use, headers included */
    VT_MEM_FORDBLKS, /* free bytes inside the arenas */
    VT_MEM_KEEPCOST, /* free bytes at the top of the main arena, which could be given back */
    VT_MEM_HEAP,     /* bytes requested by the blocks live at the sample (from the trace) */
    VT_MEM_FIELDS
};

/* A point of the memory series: one sample, or neighbouring samples merged, holding the least
 * and the greatest value of each field among them. */
typedef struct vt_mem_point {
    uint64_t ns, ns_end; /* the first and the last sample's time, ns since start */
    uint64_t samples;
    uint64_t min[VT_MEM_FIELDS], max[VT_MEM_FIELDS];
} vt_mem_point;

/* The series keeps at most this many points, however long the trace. */
#define VT_MEM_POINTS_MAX 512

/* Everything is read-only for the renderers. */
typedef struct vt_model {
    /* the process */
    uint64_t pid, ppid;
    char *exe;
    char **argv;
    size_t argc;
    int forked; /* a forked child of the traced program */
    uint64_t start_realtime_ns;
    uint64_t duration_ns; /* first to last recorded moment */
    int depth;            /* maximum stack depth the agent recorded */
    int has_end;          /* the trace ended with an END record */
    int end_reason, end_status;
    char *exec_path;  /* the image was replaced by exec of this, or NULL */
    char *stopped;    /* why the agent stopped early, or NULL */
    uint64_t dropped; /* events the agent could not record */

    /* heap totals */
    uint64_t alloc_calls, free_calls, realloc_calls, alloc_bytes;
    uint64_t fn_calls[VT_FN_COUNT];
    uint64_t temporary;
    uint64_t peak_bytes, peak_blocks, peak_ns; /* ns since start */
    uint64_t live_bytes, live_blocks;          /* at the end: leaked at exit */
    uint64_t unmatched_frees;                  /* frees of blocks never seen allocated */
    vt_leak_scan scan;
    /* live at the end by leak class, summed over the sites (meaningful when scan.status is
     * VT_SCAN_DONE) */
    uint64_t leak_blocks[VT_LEAK_CLASSES], leak_bytes[VT_LEAK_CLASSES];

    /* anonymous mappings */
    uint64_t mmap_calls, munmap_calls, mapped_bytes, mapped_peak, mapped_live;

    /* internal waste: usable size minus bytes requested (only traces from version 1.2 say) */
    int has_waste;
    uint64_t waste_bytes; /* of all allocations */
    uint64_t peak_waste;  /* of the blocks live at the heap peak */
    uint64_t live_waste;  /* of the blocks live at the end */

    /* memory samples (MEMINFO records, about every 100 ms), in time order */
    vt_mem_point *mem;
    size_t n_mem;
    uint64_t mem_samples;     /* samples read (points may merge several) */
    int has_mem_at_peak;      /* a sample was taken after the last heap peak */
    vt_mem_point mem_at_peak; /* the first sample after the heap peak */
    int has_mem_at_exit;      /* the trace holds at least one sample */
    vt_mem_point mem_at_exit; /* the last sample (at the final flush, after exit) */

    vt_stack *stacks;
    size_t n_stacks;
    vt_site *sites; /* one per stack that allocated; sites[i].stack indexes stacks */
    size_t n_sites;
    vt_module *modules;
    size_t n_modules;
    vt_thread_stats *threads;
    size_t n_threads;

    /* over time and allocation patterns (timeline.h, lifetime.h, patterns.h) */
    vt_timeline timeline;
    vt_lifetimes lifetimes;
    vt_patterns patterns;

    /* the CPU profile (cpu.h; traces from version 1.3 made with --cpu or --counters), or NULL */
    struct vt_cpu *cpu;
    /* zones, counters, tasks, pools and caches recorded through libvitals (zones.h) */
    vt_zones zones;

    /* where reading stopped early, or NULL */
    char *warnings;
    uint64_t trace_bytes;
    uint64_t events;

    /* metric time series and alerts of vitals monitor (series.h; traces from version 1.3) */
    vt_series series;

    /* counters read at zone boundaries (zone_counters.h; version 1.4, --zone-counters), or NULL */
    struct vt_zone_counters *zone_counters;
} vt_model;

/* Progress callback: done and total in bytes of the trace; may be NULL. */
typedef void (*vt_progress_fn)(uint64_t done, uint64_t total, void *arg);

/* Whether the trace holds no allocation events by design (vitals run --no-alloc). */
int vt_model_cpu_only(const vt_model *m);

/* Reads the trace at path into a new model. On failure returns NULL, sets *err to a negative
 * VT_E* code and writes a one-line explanation to msg. Caller frees with vt_model_free(). */
vt_model *vt_model_load(const char *path, vt_progress_fn progress, void *progress_arg, int *err,
                        char *msg, size_t msg_size);

void vt_model_free(vt_model *m);

/* The name of a VT_FN_* code ("malloc", "operator new"...). */
const char *vt_fn_name(int fn);

/* The name of leak class c (VT_LEAK_*): "definitely lost"...; key gives "definitely_lost". */
const char *vt_leak_class_name(int c);
const char *vt_leak_class_key(int c);
/* The classes in the order reports show them: definitely, indirectly, possibly lost, still
 * reachable. */
extern const int vt_leak_class_order[VT_LEAK_CLASSES];

/* What became of the leak check: "done", "not run" (no SCAN record: --leak-check=none, an
 * older agent, or a trace cut short), "out of memory", "foreign allocator" or "unknown". */
const char *vt_leak_check_status(const vt_model *m);

#endif

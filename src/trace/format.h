/* The .vtr trace format: constants shared by the writer (agent) and the reader (CLI).
 * docs/TRACE_FORMAT.md is the prose version of this file; keep them in step. */
#ifndef VT_TRACE_FORMAT_H
#define VT_TRACE_FORMAT_H

#include <stdint.h>

/* File header: 8-byte magic, u16 major, u16 minor, u32 header size, 16 reserved bytes. */
#define VT_TRACE_MAGIC "\x89VTR\r\n\x1a\n"
#define VT_TRACE_MAJOR 1
#define VT_TRACE_MINOR 4
#define VT_TRACE_HEADER_SIZE 32

/* Every block starts with this 40-byte little-endian header:
 *   u32 sync, u8 kind, u8 encoding, u16 reserved, u32 reserved, u32 raw_size, u32 stored_size,
 *   u64 base_time, u64 base_ordinal, u32 check (FNV-1a of the 36 bytes before it).
 * base_time is the time (in quanta) the block's first delta is relative to; base_ordinal is the
 * number of allocations recorded before the block, so that a block can be decoded even when
 * the one before it was lost. */
#define VT_BLOCK_SYNC 0x4b4c4256u /* "VBLK" */
#define VT_BLOCK_HEADER_SIZE 40
#define VT_BLOCK_MAX_RAW (1u << 20)

enum vt_block_kind {
    VT_BLOCK_STREAM = 1, /* a run of the record stream, column-encoded (stream.h) */
};

enum vt_block_encoding {
    VT_ENC_RAW = 0,
    VT_ENC_ZSTD = 1, /* one zstd frame with its content checksum */
};

/* Record tags of the stream. Fields are listed as column:meaning (see stream.h); TIME is a
 * delta in quanta (2^time_shift TSC ticks, time_shift from INFO) from the previous record that
 * has a time. Strings are a varint length and bytes in MISC. */
enum vt_tag {
    /* MISC: pid, ppid, tsc_hz, start_tsc, start_ns (CLOCK_MONOTONIC), start_realtime_ns,
     * depth, flags, time_shift, str exe, argc, argc strings */
    VT_TAG_INFO = 0x01,
    /* MISC: str path, bias, start, end, build-id length, build-id bytes */
    VT_TAG_MODULE = 0x02,
    /* MISC: id, depth, first frame, then zigzag deltas from the previous frame */
    VT_TAG_STACK = 0x03, /* from version 1.1: id, depth, code generation, frames */
    /* MISC: tsc, ns: a clock pair the reader fits to turn ticks into nanoseconds */
    VT_TAG_CLOCK = 0x04,
    /* MISC: reason, status, dropped events, tsc */
    VT_TAG_END = 0x05,
    /* MISC: str message: the agent stopped tracing early */
    VT_TAG_STOPPED = 0x06,
    /* MISC: tsc, str path: the image was replaced by exec (events after it: exec failed) */
    VT_TAG_EXEC = 0x07,
    /* MISC: code generation: the MODULE records that follow are the whole module map of that
     * generation (1 at start, one more after each dlclose). From version 1.1. */
    VT_TAG_MODMAP = 0x08,
    /* TIME. MISC: rss, then the allocator's own figures (glibc mallinfo2): arena, hblkhd,
     * uordblks, fordblks, keepcost. A sample of the process's memory. From version 1.2. */
    VT_TAG_MEMINFO = 0x09,
    /* MISC: thread index, stack size, deepest bytes used. From version 1.2. */
    VT_TAG_STACK_USAGE = 0x0a,
    /* MISC: status (VT_SCAN_*), then the figures of the reachability scan at exit (see
     * docs/TRACE_FORMAT.md). The LEAK records of the scan follow it. From version 1.2. */
    VT_TAG_SCAN = 0x0b,
    /* | fn. TIME, SIZE:bytes, STACK:id, from version 1.2 MISC:usable size minus bytes. Each
     * ALLOC takes the next ordinal (0, 1, 2...). */
    VT_TAG_ALLOC = 0x10,
    /* | fn. TIME, ORDINAL:(ordinal of the next allocation - ordinal of the freed block). */
    VT_TAG_FREE = 0x20,
    /* TIME, SIZE, STACK, MISC:zigzag address delta from the previous mapping record */
    VT_TAG_MMAP = 0x30,
    /* TIME, SIZE, MISC:zigzag address delta */
    VT_TAG_MUNMAP = 0x31,
    /* TIME, MISC:tid, MISC:index. The thread's index (0, 1...); it becomes the current one. */
    VT_TAG_THREAD_START = 0x40,
    /* TIME. The current thread ended. */
    VT_TAG_THREAD_EXIT = 0x41,
    /* THREAD:index. Later records belong to that thread (each block starts with none). */
    VT_TAG_THREAD = 0x42,
    /* | fn. TIME. A free of a block allocated before tracing began. */
    VT_TAG_FREE_UNKNOWN = 0x50,
    /* TIME, ORDINAL. The block was released without a free being seen (its address was
     * handed out again). */
    VT_TAG_FREE_IMPLIED = 0x60,
    /* ORDINAL:(ordinal - the previous LEAK record's ordinal, or ordinal + 1 for the first),
     * MISC:class (VT_LEAK_*). A live block's class by the scan at exit. From version 1.2. */
    VT_TAG_LEAK = 0x70,
    /* CPU profiling, from version 1.3 (docs/TRACE_FORMAT.md, "CPU profile").
     * TIME, STACK:id (innermost frame the sampled instruction, the others return addresses),
     * THREAD:tid, MISC: kind (VT_CPU_ON/OFF), weight in ns. */
    VT_TAG_CPU_SAMPLE = 0x90,
    /* MISC: tid, n, then n times: event index, count, ns enabled, ns running. A thread's
     * counters when it ended (or when the trace ended). */
    VT_TAG_CPU_COUNTERS = 0x91,
    /* MISC: sampler (VT_SAMPLER_*), rate in Hz, flags (VT_CPU_F_*), period in ns, str note
     * (why this sampler, or what is not available). */
    VT_TAG_CPU_SAMPLER = 0x92,
    /* MISC: event index, status (0 counted, else the errno of perf_event_open), perf type,
     * perf config, flags (VT_CPU_EV_*), str name. */
    VT_TAG_CPU_EVENT = 0x93,
    /* MISC: tid, start tsc, end tsc, CPU ns, samples, lost samples, migrations, context
     * switches, flags (VT_CPU_T_*), str name. A thread the sampler followed, when it ended. */
    VT_TAG_CPU_THREAD = 0x94,
    /* Counters at zone boundaries (--zone-counters), from version 1.4 (docs/TRACE_FORMAT.md,
     * "Zone counters"). TIME. MISC: n groups, then per group: ns enabled, ns running, m, then
     * m times: event index, count. The counts of the current thread's innermost open zone from
     * its begin to now (a ZONE_END of that zone follows). */
    VT_TAG_ZONE_COUNTERS = 0x95,
    /* MISC: event index, status (0 counted, else the errno of perf_event_open), group
     * (VT_ZC_GROUP_*), perf type, perf config, flags (VT_CPU_EV_*), str name. An event of the
     * zone counters; once per event, before the ZONE_COUNTERS that name it. From version 1.4. */
    VT_TAG_ZONE_COUNTER_EVENT = 0x96,
    /* Live monitoring (vitals monitor, docs/MONITOR.md), from version 1.3. MISC: interval ns,
     * flags (VT_MONITOR_SPAWNED), CPUs, memory total. Once, after INFO. */
    VT_TAG_MONITOR = 0xa0,
    /* MISC: id (0, 1... in order), kind (vt_metric_kind), unit (vt_metric_unit), str name.
     * From version 1.3. */
    VT_TAG_METRIC_DEF = 0xa1,
    /* TIME. MISC: n, then n values, value + 1 for metric i (0: not measured). A snapshot of
     * every metric. From version 1.3. */
    VT_TAG_METRICS = 0xa2,
    /* TIME. MISC: severity (0 info, 1 warning, 2 critical), kind (vt_alert_kind), metric id,
     * zigzag(value x 1000), zigzag(threshold x 1000), str rule, str message. From version 1.3. */
    VT_TAG_ALERT = 0xa3,
    /* MISC: id, kind (VT_LOC_*), str name, str function, str file, line. Names a zone's
     * source location, a counter, gauge, frame, task, task kind, pool or cache: the id the
     * records below use (1, 2...; 0 is none). Written before the first record that uses it.
     * From version 1.3. */
    VT_TAG_LOCATION = 0x0c,
    /* TIME, MISC: location id. A zone opened on the current thread. From version 1.3. */
    VT_TAG_ZONE_BEGIN = 0x80,
    /* TIME, MISC: duration in TSC ticks (exact), flags (VT_ZONE_FAILED). The current thread's
     * innermost open zone ended. From version 1.3. */
    VT_TAG_ZONE_END = 0x81,
    /* TIME, MISC: location id, zigzag amount added. From version 1.3. */
    VT_TAG_COUNTER = 0x82,
    /* TIME, MISC: location id, value (the bits of an IEEE double). From version 1.3. */
    VT_TAG_GAUGE = 0x83,
    /* TIME, MISC: location id (0: the main loop). A frame or iteration ended. From 1.3. */
    VT_TAG_FRAME = 0x84,
    /* TIME, MISC: name id, kind id, then the thread's usage (VT_TASK_FIELDS values, enum
     * vt_task_field). A task began on the current thread. From version 1.3. */
    VT_TAG_TASK_BEGIN = 0x85,
    /* TIME, MISC: the thread's usage, as in TASK_BEGIN. Its innermost task ended. From 1.3. */
    VT_TAG_TASK_END = 0x86,
    /* TIME, MISC: location id, flags (VT_STATS_FINAL), then VT_POOL_FIELDS figures of a
     * vt_pool (enum vt_pool_field). From version 1.3. */
    VT_TAG_POOL_STATS = 0x87,
    /* TIME, MISC: location id, flags, then VT_CACHE_FIELDS figures of a vt_cache (enum
     * vt_cache_field). From version 1.3. */
    VT_TAG_CACHE_STATS = 0x88,
    /* Zone figures aggregated by the recording thread, from version 1.4 (docs/TRACE_FORMAT.md,
     * "Zone aggregates"). TIME, MISC: location id, calls, errors, total ticks, least, greatest,
     * sum of squared deviations from the mean (the bits of an IEEE double), ticks from the
     * first call's start to TIME, allocation calls, allocation bytes. The current thread's
     * calls of that zone since its last ZONE_STATS of it; the ZONE_HIST records that follow
     * on the thread belong to it. */
    VT_TAG_ZONE_STATS = 0x89,
    /* TIME, MISC: n, then n times: histogram bucket (util/loghist.h), calls. From 1.4. */
    VT_TAG_ZONE_HIST = 0x8a,
    /* TIME, MISC: spans written (the agent's limit), zones open, ends with no zone open,
     * zones not recorded. Once at the start of a trace (thread none, counts 0): the zone
     * figures are those of the ZONE_STATS records, and ZONE_BEGIN and ZONE_END are the first
     * calls only, as spans; then on a thread, with its counts. From version 1.4. */
    VT_TAG_ZONE_AGG = 0x8b,
};

/* What a LOCATION record names. */
enum vt_loc_kind {
    VT_LOC_ZONE = 0, /* a zone's source location */
    VT_LOC_COUNTER = 1,
    VT_LOC_GAUGE = 2,
    VT_LOC_FRAME = 3,
    VT_LOC_TASK = 4,
    VT_LOC_TASK_KIND = 5,
    VT_LOC_POOL = 6,
    VT_LOC_CACHE = 7,
    VT_LOC_KINDS
};

#define VT_ZONE_FAILED 0x1 /* ZONE_END flags: the zone ended as an error */
#define VT_STATS_FINAL 0x1 /* POOL_STATS, CACHE_STATS flags: the last, as it was freed */
/* The values of a ZONE_STATS record after its location id, and of a ZONE_AGG record. */
#define VT_ZSTATS_FIELDS 9
#define VT_ZAGG_FIELDS 4

/* The usage of a thread that TASK_BEGIN and TASK_END carry, in this order. */
enum vt_task_field {
    VT_TASK_FLAGS,        /* VT_TASK_HAS_RUSAGE | VT_TASK_HAS_IO | VT_TASK_HAS_SCHED */
    VT_TASK_TSC,          /* the exact time, TSC ticks */
    VT_TASK_USER_NS,      /* thread CPU time in user mode (getrusage RUSAGE_THREAD) */
    VT_TASK_SYS_NS,       /* and in the kernel */
    VT_TASK_VCSW,         /* voluntary context switches */
    VT_TASK_IVCSW,        /* involuntary context switches */
    VT_TASK_RCHAR,        /* bytes read by system calls (/proc/thread-self/io) */
    VT_TASK_WCHAR,        /* bytes written by system calls */
    VT_TASK_READ_BYTES,   /* bytes fetched from storage */
    VT_TASK_WRITE_BYTES,  /* bytes sent to storage */
    VT_TASK_RUN_DELAY_NS, /* time runnable but waiting for a CPU (/proc/thread-self/schedstat) */
    VT_TASK_FIELDS
};
#define VT_TASK_HAS_RUSAGE 0x1
#define VT_TASK_HAS_IO 0x2
#define VT_TASK_HAS_SCHED 0x4

/* The figures of a POOL_STATS record (struct vt_pool_stats), in this order. */
enum vt_pool_field {
    VT_POOL_OBJECT_SIZE,
    VT_POOL_MAX,
    VT_POOL_CREATED,
    VT_POOL_IN_USE,
    VT_POOL_HIGH_WATER,
    VT_POOL_ACQUIRES,
    VT_POOL_SERVED_POOL,
    VT_POOL_SERVED_MALLOC,
    VT_POOL_REUSED,
    VT_POOL_RELEASES,
    VT_POOL_FIELDS
};

/* The figures of a CACHE_STATS record (struct vt_cache_stats), in this order; the lookup
 * times are in picoseconds. */
enum vt_cache_field {
    VT_CACHE_GETS,
    VT_CACHE_HITS,
    VT_CACHE_HITS_COMPRESSED,
    VT_CACHE_MISSES,
    VT_CACHE_PUTS,
    VT_CACHE_EVICTIONS,
    VT_CACHE_DEMOTIONS,
    VT_CACHE_EXPIRATIONS,
    VT_CACHE_ENTRIES,
    VT_CACHE_ENTRIES_COMPRESSED,
    VT_CACHE_BYTES,
    VT_CACHE_BYTES_COMPRESSED,
    VT_CACHE_RAW_BYTES_COMPRESSED,
    VT_CACHE_TIMED_GETS,
    VT_CACHE_LOOKUP_AVG_PS,
    VT_CACHE_LOOKUP_P99_PS,
    VT_CACHE_FIELDS
};

/* What a METRIC_DEF's raw values are (from version 1.3). A gauge is a level; a counter only
 * grows and is read as a rate. */
enum vt_metric_kind { VT_METRIC_GAUGE = 0, VT_METRIC_COUNTER = 1 };

/* The unit of a metric's raw values (from version 1.3). A counter of nanoseconds reads as a
 * percentage of the time (CPU: of one core), a counter of bytes as bytes per second. */
enum vt_metric_unit {
    VT_UNIT_COUNT = 0,
    VT_UNIT_BYTES = 1,
    VT_UNIT_NS = 2,
    VT_UNIT_MILLI = 3, /* thousandths (the load average) */
    VT_UNIT_COUNT_OF
};

/* CPU profile: the sampler in use, sample kinds and flags (from version 1.3). */
enum vt_sampler_kind {
    VT_SAMPLER_NONE = 0,
    VT_SAMPLER_PERF = 1,  /* perf_event_open task-clock per thread, stacks by the kernel */
    VT_SAMPLER_TIMER = 2, /* timer_create on CLOCK_THREAD_CPUTIME_ID, a signal per sample */
};
enum vt_cpu_kind {
    VT_CPU_ON = 0,  /* running: weight is the sampling period */
    VT_CPU_OFF = 1, /* switched out (blocked or preempted): weight is how long */
};
#define VT_CPU_F_WALL 0x1      /* --wall: off-CPU time recorded */
#define VT_CPU_F_NO_ALLOC 0x2  /* allocations were not traced (--no-alloc) */
#define VT_CPU_F_COUNTERS 0x4  /* --counters */
#define VT_CPU_EV_SOFTWARE 0x1 /* a software event (always available with perf events) */
#define VT_CPU_EV_USER 0x2     /* asked for with --event */
/* ZONE_COUNTER_EVENT (from 1.4): counted in user mode only (perf_event_paranoid allows no
 * more); events that happen in the kernel, such as context switches, are not seen */
#define VT_CPU_EV_USER_ONLY 0x4
#define VT_CPU_T_CPU_EXACT 0x1 /* CPU ns from the task-clock count (else from the clock) */
#define VT_CPU_T_SWITCHES 0x2  /* migrations and context switches were counted */
#define VT_CPU_T_ENDED 0x4     /* the thread ended before the trace did */

/* The group of a ZONE_COUNTER_EVENT (from version 1.4): software events are read in one group,
 * hardware ones in another, so that multiplexing the hardware group never scales the software
 * counts. */
enum vt_zc_group {
    VT_ZC_GROUP_SOFTWARE = 0,
    VT_ZC_GROUP_HARDWARE = 1,
    VT_ZC_GROUP_NONE = 2, /* not counted (status says why) */
};

/* The classes of the reachability scan, with valgrind memcheck's meanings. */
enum vt_leak_class {
    VT_LEAK_REACHABLE = 0, /* a pointer to its start is reachable from the roots */
    VT_LEAK_POSSIBLE = 1,  /* reachable only through a pointer into its interior */
    VT_LEAK_INDIRECT = 2,  /* reachable only from definitely lost blocks */
    VT_LEAK_DEFINITE = 3,  /* no pointer to it anywhere */
    VT_LEAK_CLASSES
};

/* The function that made or released a block, the low nibble of ALLOC and FREE tags. */
#define VT_FN_LIST(X)                                                                              \
    X(MALLOC, "malloc")                                                                            \
    X(CALLOC, "calloc")                                                                            \
    X(REALLOC, "realloc")                                                                          \
    X(REALLOCARRAY, "reallocarray")                                                                \
    X(POSIX_MEMALIGN, "posix_memalign")                                                            \
    X(ALIGNED_ALLOC, "aligned_alloc")                                                              \
    X(MEMALIGN, "memalign")                                                                        \
    X(VALLOC, "valloc")                                                                            \
    X(PVALLOC, "pvalloc")                                                                          \
    X(NEW, "operator new")                                                                         \
    X(NEW_ARRAY, "operator new[]")                                                                 \
    X(FREE, "free")                                                                                \
    X(DELETE, "operator delete")                                                                   \
    X(DELETE_ARRAY, "operator delete[]")

enum vt_fn {
#define VT_FN_ENUM(name, str) VT_FN_##name,
    VT_FN_LIST(VT_FN_ENUM)
#undef VT_FN_ENUM
        VT_FN_COUNT
};

enum vt_end_reason {
    VT_END_EXIT = 0,        /* exit() or return from main: status unknown to the agent */
    VT_END__EXIT = 1,       /* _exit(status) */
    VT_END_SIGNAL = 2,      /* killed by signal 'status' */
    VT_END_EXIT_STATUS = 3, /* exit(status), or main returned status */
};

/* The status of a SCAN record, and its flags. */
enum vt_scan_status {
    VT_SCAN_DONE = 0,
    VT_SCAN_NOMEM = 1,   /* the agent had no memory for the scan: no LEAK records follow */
    VT_SCAN_FOREIGN = 2, /* malloc is not glibc's: its memory cannot be told apart; no LEAKs */
};
#define VT_SCAN_DIRECT_READS 0x1 /* process_vm_readv was refused: memory was read directly */

/* INFO flags. */
#define VT_INFO_FORKED 0x1 /* this process is a forked child of the traced one */
/* recorded for libvitals (VITALS_TRACE) without allocation hooks; from version 1.3 */
#define VT_INFO_ZONES_ONLY 0x2

#endif

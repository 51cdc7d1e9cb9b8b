/* Writes the trace of vitals monitor: INFO, MONITOR, the METRIC_DEF table, then METRICS and
 * ALERT records as they happen, CLOCK and END at the close (docs/TRACE_FORMAT.md, "Live
 * monitoring"). Times are CLOCK_MONOTONIC nanoseconds (INFO says 1e9 ticks per second), so
 * the trace needs no clock fit. A block is written at least once a second, so that a monitor
 * killed hard leaves a trace readable up to its last second. */
#ifndef VT_TRACE_MONITOR_WRITER_H
#define VT_TRACE_MONITOR_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "trace/stream.h"
#include "trace/writer.h"

typedef struct vt_monitor_writer {
    vt_trace_writer w;
    vt_stream_enc enc;
    uint8_t *mem;         /* the encoder's columns */
    uint8_t *out;         /* one serialised block */
    uint64_t block_start; /* the time the current block's deltas start from */
    uint64_t last;        /* the time of the last timed record */
    uint64_t last_flush;
    uint64_t start_ns;
    int err; /* the first write error (VT_ENOSPC...), after which nothing more is written */
} vt_monitor_writer;

/* The process the trace is about. */
typedef struct vt_monitor_info {
    int pid, ppid;
    const char *exe;
    char *const *argv;
    size_t argc;
    uint64_t start_ns, start_realtime_ns; /* CLOCK_MONOTONIC and CLOCK_REALTIME at start */
    uint64_t interval_ns;
    uint64_t flags; /* VT_MONITOR_SPAWNED */
    uint64_t n_cpus, mem_total;
} vt_monitor_info;

/* Creates path (replacing nothing: it must not exist) and writes INFO and MONITOR. Returns 0
 * or a negative VT_E* code. */
int vt_monitor_writer_open(vt_monitor_writer *mw, const char *path, const vt_monitor_info *info);

/* Appends a METRIC_DEF. */
int vt_monitor_writer_def(vt_monitor_writer *mw, uint32_t id, const char *name, int kind, int unit);

/* Appends a METRICS record taken at ns (CLOCK_MONOTONIC); present[i] 0 means not measured. */
int vt_monitor_writer_metrics(vt_monitor_writer *mw, uint64_t ns, const uint64_t *v,
                              const uint8_t *present, size_t n);

/* Appends an ALERT record. */
int vt_monitor_writer_alert(vt_monitor_writer *mw, uint64_t ns, int severity, int kind,
                            uint32_t metric, double value, double threshold, const char *rule,
                            const char *message);

/* Writes the current block if it is older than a second (or force). */
int vt_monitor_writer_flush(vt_monitor_writer *mw, uint64_t now_ns, int force);

/* Appends CLOCK and END (reason VT_END_*, status), writes the last block and closes the file.
 * Returns the first error met while writing the trace, or 0. */
int vt_monitor_writer_close(vt_monitor_writer *mw, uint64_t now_ns, int reason, int status);

#endif

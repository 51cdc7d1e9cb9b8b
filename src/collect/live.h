/* The live figures a process under `vitals run` publishes: the agent's writer thread rewrites
 * a small file, /dev/shm/vitals-UID-PID, once per round (src/agent/live.c), and vitals top and
 * vitals monitor read it (live.c). The file holds one struct vt_live_file under a sequence lock:
 * the writer makes seq odd, writes the fields, then makes it even again; a reader copies the
 * struct and keeps the copy only when seq was even and unchanged across the copy.
 *
 * A file left behind by a run that was killed names a process that is gone or, if its pid was
 * reused, another process: the reader checks the pid and the process's start time (field 22 of
 * /proc/PID/stat) against the file's and ignores a file that does not match, and one that the
 * process's owner does not own. */
#ifndef VT_COLLECT_LIVE_H
#define VT_COLLECT_LIVE_H

#include <stdint.h>
#include <stdio.h>

#define VT_LIVE_MAGIC 0x564c5456u /* "VTLV", little-endian */
#define VT_LIVE_VERSION 1
#define VT_LIVE_TRACE_MAX 4096

/* flags */
#define VT_LIVE_ALLOC 0x1 /* allocations are traced (the heap figures mean something) */
#define VT_LIVE_CPU 0x2   /* CPU sampling is on (cpu_samples counts) */

/* The file's layout (version 1). Fields only ever get added at the end, before trace, with
 * the version raised. */
struct vt_live_file {
    uint32_t magic, version;
    uint32_t size; /* sizeof(struct vt_live_file) of the writer */
    int32_t pid;
    uint64_t start_ticks; /* the process's start time since boot, in clock ticks */
    uint64_t seq;         /* odd while the writer updates the fields */
    uint64_t flags;       /* VT_LIVE_* */
    uint64_t updated_ns;  /* CLOCK_MONOTONIC of the last update */
    uint64_t elapsed_ns;  /* since the agent started, at the last update */
    /* the heap as the trace has it so far (requested sizes, malloc family and operator new) */
    uint64_t heap_bytes, live_blocks;
    uint64_t heap_peak, heap_peak_ns; /* the highest heap_bytes, and when (since the start) */
    uint64_t alloc_calls, alloc_bytes, free_calls, free_bytes;
    /* the recording */
    uint64_t trace_bytes; /* written to the trace file so far */
    uint64_t dropped;     /* events lost (counted, and shown in every report) */
    uint64_t agent_bytes; /* memory the agent mapped for itself */
    uint64_t cpu_samples; /* CPU samples written (VT_LIVE_CPU) */
    uint64_t reserved[8];
    char trace[VT_LIVE_TRACE_MAX]; /* the trace's path, NUL-terminated */
};

/* Writes the path of pid's file for user uid into out (cap bytes). Returns 0, or -1 when it
 * does not fit. */
static inline int vt_live_path(char *out, size_t cap, uint32_t uid, int pid)
{
    int n = snprintf(out, cap, "/dev/shm/vitals-%u-%d", uid, pid);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Reads the live figures of process pid, owned by uid and started at start_ticks (field 22 of
 * its /proc/PID/stat), into *out. Returns 0; VT_ENOENT when the process does not run under
 * vitals (no file, or a stale one: another pid or start time, another owner); VT_EINVAL when
 * the file is not one this reader knows (magic, version or size); VT_EIO when the writer kept
 * changing it while it was read. Does not allocate. */
int vt_live_read(int pid, uint32_t uid, uint64_t start_ticks, struct vt_live_file *out);

#endif

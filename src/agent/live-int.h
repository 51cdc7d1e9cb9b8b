/* The agent's live figures (live.c): what the writer publishes each round for vitals top and
 * vitals monitor (collect/live.h describes the file). */
#ifndef VT_AGENT_LIVE_INT_H
#define VT_AGENT_LIVE_INT_H

#include <stdint.h>

/* What the writer knows as it merges (merge.c keeps them). */
struct vt_live_figures {
    uint64_t heap_bytes, live_blocks;
    uint64_t heap_peak, heap_peak_tsc;
    uint64_t alloc_calls, alloc_bytes, free_calls, free_bytes;
    uint64_t cpu_samples;
};

/* Writes f (and the recording's own figures) into this process's live file, creating it on
 * the first call; start_tsc is the trace's start, now_ns CLOCK_MONOTONIC. One copy under the
 * file's sequence lock; nothing at all when the file cannot be made (the program and the
 * trace go on without it). Called by the writer thread at the end of each round. */
void vt__live_publish(const struct vt_live_figures *f, uint64_t start_tsc, uint64_t now_ns);

/* Removes the live file (at the end of the trace, before exec). Async-signal-safe. */
void vt__live_remove(void);

/* In a forked child: the mapping is the parent's file; forget it (the child makes its own). */
void vt__live_after_fork(void);

/* Reads /proc/self/stat into *s with the collectors' parser (collect/proc.c), on the stack,
 * without allocating. Returns 0, or -1 when it cannot be read. */
struct vt_proc_sample;
int vt__self_stat(struct vt_proc_sample *s);

#endif

/* CPU profiling inside the agent (sampler.c): per-thread sampling on CPU time, off-CPU time
 * with --wall, and counters, written into the trace by the writer thread (merge.c). */
#ifndef VT_AGENT_SAMPLER_H
#define VT_AGENT_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

/* How often the writer runs when allocations are not traced (ms), at the default rate: fewer
 * wake-ups cost the program less, and a thread's ring (32 KiB) holds 40 ms of samples at
 * 999 Hz with some 40 frames, twice that with 16. */
#define VT_ROUND_MS_CPU_ONLY 40

/* A record of the CPU profile, handed to the stream encoder (merge.c: vt__merge_put_cpu). */
struct vt_cpu_rec {
    uint8_t tag;    /* VT_TAG_CPU_* */
    uint8_t timed;  /* has a TIME field (tsc) */
    uint32_t stack; /* CPU_SAMPLE: the interned stack id */
    uint32_t tid;   /* CPU_SAMPLE: the thread's id (THREAD column) */
    uint64_t tsc;
    size_t n; /* MISC fields in v */
    const uint64_t *v;
    const char *str; /* a trailing string field, or NULL */
    size_t str_len;
};

/* How long the writer may sleep between rounds when allocations are not traced (ms): 40 ms at
 * up to 999 Hz, shorter in proportion at higher rates, so that the rings hold a round of
 * samples at any rate. */
int vt__sampler_round_ms(void);

/* Reads the configuration (VITALS_CPU, VITALS_CPU_WALL, VITALS_CPU_SAMPLER, VITALS_EVENTS) and
 * starts sampling the calling (main) thread. Called once from the agent's start-up. */
void vt__sampler_init(void);

/* Whether CPU profiling is on. */
int vt__sampler_on(void);

/* The writer's part of a round (or of the final flush, with final set): finds threads that
 * started or ended, drains the sample rings, and writes every sample older than watermark in
 * time order (each after the events older than it: vt__merge_until), then the records of
 * threads that ended. With in_signal set, only async-signal-safe calls are made. */
long vt__sampler_round(uint64_t watermark, int final, int in_signal);

/* Whether threads should open their own events as they start (perf events sampling). */
int vt__sampler_thread_wanted(void);
/* Called by a thread made with pthread_create before the program's code runs in it: opens its
 * events and leaves them for the writer (a thread shorter than a round is sampled whole). */
void vt__sampler_thread_start(void);

/* In a forked child: the parent's events and timers are not the child's; samples the calling
 * thread, the child's only one. */
void vt__sampler_after_fork(void);

/* merge.c: writes the events older than tsc; returns how many, or a negative VT_E* code. */
long vt__merge_until(uint64_t tsc);
/* merge.c: appends r to the stream (defining its stack first). */
void vt__merge_put_cpu(const struct vt_cpu_rec *r);
/* merge.c: whether the last round was the final one being run from a signal handler. */

/* stacks.c: the id of frames (n of them), interned like an allocation's stack. */
uint32_t vt__stack_intern(const uint64_t *frames, uint32_t n);

/* The i-th event of VITALS_EVENTS (as the CLI resolved it): sets its name (borrowed), perf
 * type, config, config1, config2 and flags (VT_CPU_EV_*). Returns 0, or -1 past the last. */
int vt__sampler_event(int i, const char **name, uint32_t *type, uint64_t config[3], int *flags);

#endif

/* Internal interface between the files of the preload agent (libvitals-agent.so).
 *
 * hooks.c   the interposed functions; they only forward and call the vt__track_* functions
 * thread.c  per-thread state and buffers, event encoding, the hand-off queue
 * stacks.c  stack capture (libunwind) and interning
 * flush.c   the writer thread, meta records, the final flush at exit, exec and fatal signals
 * scan.c    the reachability scan at exit that sorts live blocks into leak classes
 * mem.c     the agent's own memory, kept apart so the scan can leave it out
 * agent.c   start-up, configuration, fork, signals
 */
#ifndef VT_AGENT_INT_H
#define VT_AGENT_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <x86intrin.h>

#include "trace/format.h"
#include "trace/writer.h"
#include "vitals.h"

#define VT_HIDDEN __attribute__((visibility("hidden")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* The size of one thread buffer, header included. */
#define VT_BUF_SIZE (64 * 1024)
/* Room kept free at the end of a buffer: the longest record fits in it. */
#define VT_BUF_SLACK 64
/* Buffers waiting for the writer before producers wait for it (backpressure). */
#define VT_QUEUE_LIMIT 1024
#define VT_MAX_DEPTH 256
/* Event times are stored in quanta of 2^VT_TIME_SHIFT TSC ticks (about 0.34 us at 3 GHz); the
 * writer orders events by their exact ticks. */
#define VT_TIME_SHIFT 10
/* How often the writer merges the threads' events into the trace, in milliseconds. */
#define VT_ROUND_MS 10

/* What the hooks do. */
enum vt_state {
    VT_STATE_OFF = 0,      /* not started, disabled, or finished: forward only */
    VT_STATE_TRACING = 1,  /* record events */
    VT_STATE_STOPPING = 2, /* a flush is collecting buffers: forward, count as dropped */
};

struct vt_thread;

/* A thread's events in the order they happened, as varint rows (tag, time delta, fields). */
struct vt_buf {
    struct vt_buf *next;
    struct vt_thread *owner;
    uint32_t len;
    uint64_t first_tsc; /* the first row's time delta is relative to this */
    uint8_t data[];
};
#define VT_BUF_CAP (VT_BUF_SIZE - offsetof(struct vt_buf, data))

/* One decoded row, as the writer merges them. */
struct vt_event {
    uint64_t tsc, size, ptr;
    uint64_t waste; /* of an allocation: usable size minus size */
    uint32_t stack;
    uint8_t tag;
    uint64_t aux[VT_TASK_FIELDS]; /* of a task row: the thread's usage */
};

/* One per thread that ever recorded an event. Lives in agent-owned memory, never freed, so
 * the writer and the final flush can reach the buffers of threads that are still running.
 *
 * The writer merges every thread's rows by time. It may only write rows older than every
 * thread's cover: the time before which that thread will record nothing more. A thread raises
 * its cover each time it hands a buffer over; for a thread that is idle, the writer takes the
 * buffer itself (steal) once membarrier() has shown the thread is outside the hooks. */
struct vt_thread {
    /* the thread's own */
    struct vt_buf *buf;
    uint64_t last_tsc;
    uint64_t prev_ptr;
    uint32_t tid;
    uint32_t seen_epoch;
    int exiting; /* its pthread key destructor ran: hand each event off at once */
    /* shared with the writer */
    _Atomic int in_hook;
    _Atomic int steal;   /* the writer is taking this thread's buffer: wait */
    _Atomic int retired; /* the writer has forgotten this state: attach a new one */
    _Atomic uint64_t cover;
    struct vt_thread *next_all;
    /* the writer's, on cache lines of their own: the writer updates them for every row it
     * merges, and sharing a line with the fields above would make each event of the thread
     * wait for that line (the states are 64-byte aligned, so two threads share none either) */
    _Alignas(64) struct vt_buf *pend, *pend_tail; /* handed over, not yet merged */
    const uint8_t *rp, *rend;
    uint64_t rtsc, rptr;
    struct vt_event ev;
    int has_ev;
    int announced; /* its THREAD_START is in the trace */
    uint32_t index;
    uint64_t idle_rounds;
    struct vt_unwind_cache *unwind; /* the thread's own, made on first use (unwind.c) */
    /* its stack (stackuse.c): [stack_lo, stack_hi), 0 when unknown; for the main thread only
     * the top is kept, and the size is RLIMIT_STACK (0: unlimited) */
    uint64_t stack_lo, stack_hi, stack_size;
    uint64_t stack_seen; /* an address in its stack, from its first event */
    int stack_main;
    struct vt_zthread *zones; /* the thread's own zone figures (zone_agg.h), made at its first */
};

struct vt_config {
    char exe[4096]; /* /proc/self/exe, read once at start-up */
    int depth;
    int follow;
    int leak_check; /* run the reachability scan at exit */
    int zstd_level;
    char output[4096];   /* the trace path for this process */
    char manifest[4096]; /* file listing every trace written, or empty */
    int no_alloc;        /* --no-alloc: the allocation hooks only forward (CPU profile only) */
    long zone_spans;     /* zone calls written as spans (VITALS_ZONE_SPANS) */
};

extern VT_HIDDEN _Atomic int vt__state;
extern VT_HIDDEN _Atomic uint32_t vt__epoch;
extern VT_HIDDEN _Atomic int vt__strong_fence;
extern VT_HIDDEN _Atomic int vt__forking;
extern VT_HIDDEN struct vt_config vt__config;
extern VT_HIDDEN vt_trace_writer vt__writer;
extern VT_HIDDEN _Atomic uint64_t vt__dropped;
extern VT_HIDDEN __thread int vt__guard;
extern VT_HIDDEN __thread struct vt_thread *vt__self;

static inline uint64_t vt__now(void)
{
    return __rdtsc();
}

/* thread.c */
struct vt_thread *vt__thread_attach(void);
void vt__thread_sync(struct vt_thread *t);
/* usable is what the allocator says the block holds (malloc_usable_size), or size when that
 * is not known. */
void vt__track_alloc(struct vt_thread *t, int fn, const void *p, size_t size, size_t usable);
void vt__track_free(struct vt_thread *t, int fn, const void *p, uint64_t tsc);
void vt__track_realloc(struct vt_thread *t, int fn, const void *old, uint64_t free_tsc,
                       const void *p, size_t size, size_t usable);
void vt__track_mmap(struct vt_thread *t, const void *p, size_t size);
void vt__track_munmap(struct vt_thread *t, const void *p, size_t size);
/* A STACK_USAGE row: the thread's stack size and deepest use (its key destructor). */
void vt__track_stack_usage(struct vt_thread *t);
void vt__thread_key_init(void);
/* Rows of libvitals' events (zones.c): a zone's start (returns its time, 0 if not recorded)
 * and end, for the calling thread; a COUNTER, GAUGE or FRAME row naming name (a static string); a
 * TASK_BEGIN row (name set) or TASK_END row (name NULL) with the thread's usage (VT_TASK_FIELDS
 * values; its TSC field is set here). */
uint64_t vt__zone_begin_now(const struct vt_source_location *loc);
void vt__zone_end_now(uint64_t start, int failed);
void vt__track_named(struct vt_thread *t, int tag, const void *name, uint64_t value);
void vt__track_task(struct vt_thread *t, const char *name, const char *kind, uint64_t *usage);
/* Room for a row of up to need bytes at the end of t's buffer (a new buffer when it is full;
 * with quiet set, for the final flush, the full one is queued without waking the writer), its
 * time delta for tsc (the thread's clock advances), and the row's end once written. Used by
 * the rows of zone_agg.c. NULL when out of memory. */
uint8_t *vt__row_reserve(struct vt_thread *t, size_t need, int quiet);
uint64_t vt__row_tick(struct vt_thread *t, uint64_t tsc);
void vt__row_commit(struct vt_thread *t, uint8_t *end, int quiet);
struct vt_buf *vt__buf_get(struct vt_thread *owner);
void vt__buf_put(struct vt_buf *b);
void vt__queue_push(struct vt_buf *b);
/* Queues b without waking or starting the writer (for the final flush). */
void vt__queue_push_quiet(struct vt_buf *b);
/* Takes every queued buffer, oldest first per thread. */
struct vt_buf *vt__queue_take(void);
struct vt_thread *vt__threads(void);
void vt__threads_after_fork(void);

/* Enters a hook: returns the calling thread's state with its guard set, or NULL when this
 * call must only be forwarded (inside the agent, or not tracing). */
static inline __attribute__((always_inline)) struct vt_thread *vt__enter(void)
{
    if (vt__guard || vt__config.no_alloc)
        return NULL;
    int state = atomic_load_explicit(&vt__state, memory_order_relaxed);
    if (unlikely(state != VT_STATE_TRACING)) {
        if (state == VT_STATE_STOPPING)
            atomic_fetch_add_explicit(&vt__dropped, 1, memory_order_relaxed);
        return NULL;
    }
    vt__guard = 1;
    struct vt_thread *t = vt__self;
    if (unlikely(!t) && !(t = vt__thread_attach())) {
        vt__guard = 0;
        return NULL;
    }
    atomic_store_explicit(&t->in_hook, 1, memory_order_relaxed);
    /* Pairs with the membarrier() of the writer and of the final flush: either they see
     * in_hook set, or this thread sees what they published before it. */
    if (unlikely(atomic_load_explicit(&vt__strong_fence, memory_order_relaxed)))
        atomic_thread_fence(memory_order_seq_cst);
    else
        atomic_signal_fence(memory_order_seq_cst);
    if (unlikely(atomic_load_explicit(&vt__state, memory_order_relaxed) != VT_STATE_TRACING)) {
        atomic_store_explicit(&t->in_hook, 0, memory_order_relaxed);
        vt__guard = 0;
        return NULL;
    }
    if (unlikely(atomic_load_explicit(&t->steal, memory_order_relaxed) ||
                 atomic_load_explicit(&vt__forking, memory_order_relaxed) ||
                 t->seen_epoch != atomic_load_explicit(&vt__epoch, memory_order_relaxed) ||
                 t->exiting)) {
        vt__thread_sync(t);
        t = vt__self;
    }
    return t;
}

static inline __attribute__((always_inline)) void vt__leave(struct vt_thread *t)
{
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&t->in_hook, 0, memory_order_relaxed);
    vt__guard = 0;
}

/* stackuse.c */
/* Learns the calling thread's stack bounds (t is its own state): the main thread's at once,
 * another thread's only an address in its stack (see vt__stack_learn). Safe inside a hook. */
void vt__stack_attach(struct vt_thread *t);
/* Learns the bounds of another thread's stack: with self set, on the thread itself where it
 * holds no lock of the C library (its pthread key destructor), exactly; otherwise from the
 * mapping that holds the address vt__stack_attach saw. */
void vt__stack_learn(struct vt_thread *t, int self);
/* How many bytes of t's stack have been used (its top minus its lowest resident page), or 0
 * when unknown. Any thread may ask; async-signal-safe. */
uint64_t vt__stack_used(const struct vt_thread *t);

/* stacks.c */
int vt__stacks_init(void);
uint32_t vt__stack_capture(struct vt_thread *t);
/* Frames of stack id (borrowed); *depth set. */
const uint64_t *vt__stack_frames(uint32_t id, uint32_t *depth, uint32_t *gen);
void vt__stacks_after_fork(void);

/* unwind.c */
int vt__unwind_init(int check);
void vt__set_agent_range(uint64_t start, uint64_t end);
/* The addresses of the agent's own image (code and data). */
void vt__agent_range(uint64_t *start, uint64_t *end);
/* Fills out with up to max return addresses of the calling thread's stack, the agent's own
 * frames left out; returns how many. */
int vt__unwind(struct vt_thread *t, uint64_t *out, int max);
/* The thread's scratch for a stack (VT_MAX_DEPTH frames), or NULL without memory. */
uint64_t *vt__unwind_buffer(struct vt_thread *t);
void vt__unwind_code_changed(void);
/* The code generation: 1 at start, one more after each dlclose. A stack's identity includes
 * it, so that code loaded later at the same addresses makes other stacks. */
uint32_t vt__code_gen(void);
/* With VITALS_CHECK_UNWIND=1, says on stderr how many stacks differed from unw_backtrace. */
void vt__unwind_report(void);

/* mem.c */
struct vt_range {
    uint64_t start, len;
};
/* Maps n zeroed bytes for the agent's own use (MAP_NORESERVE if noreserve) and remembers the
 * range; NULL on failure. Release with vt__unmap(). */
void *vt__map(size_t n, int noreserve);
void vt__unmap(void *p, size_t n);
/* Copies up to max of the agent's ranges to out; returns how many there are in all. */
size_t vt__map_ranges(struct vt_range *out, size_t max);
/* Bytes the agent has mapped for itself (vt__map) and not released. */
uint64_t vt__map_total(void);

/* scan.c */
/* Classifies every live block by reachability and appends the SCAN and LEAK records to the
 * stream. Runs at the end of the final flush, with the writer stopped and every event merged;
 * not from a signal handler. */
void vt__scan_at_exit(void);
/* Zeroes the calling thread's dead stack below its frame, so that the scan at exit does not
 * take stale pointers left there for roots (memcheck knows them as undefined). Called as the
 * program heads for exit. */
void vt__scrub_stack(void);

/* merge.c: the writer's work */
int vt__merge_init(void);
/* One round: takes the buffers handed over (and those of idle threads), merges every event
 * older than all the threads' covers into the stream, and writes full blocks. With final set,
 * the threads are stopped and everything is merged and written. Returns the number of events
 * written, or a negative VT_E* code. */
long vt__merge_round(int final, int compress);
/* Writes the current block (if any) to the trace. */
int vt__merge_flush_block(int compress);
/* Appends meta records to the stream. */
void vt__emit_info(int forked, uint64_t start_tsc, uint64_t start_ns, uint64_t tsc_hz);
void vt__emit_clock(void);
/* tsc: when the trace ended (before the leak check, which is not the program's time). */
void vt__emit_end(int reason, int status, uint64_t dropped, uint64_t tsc);
void vt__emit_exec(const char *path);
/* Appends a memory sample (MEMINFO) taken now. Not from a signal handler, nor while the calling
 * thread may hold an allocator lock: glibc's mallinfo2() takes every arena's lock. */
void vt__emit_meminfo(void);
/* Appends a STACK_USAGE record for every thread still running that has not had one (the final
 * flush: those that ended wrote theirs through their rows). */
void vt__emit_stack_usages(void);
void vt__modules_dirty(void);
/* Writes the module map now (not from a signal handler: it takes the loader's lock). */
void vt__emit_modules(void);
/* Takes (take = 1) or releases the lock the writer holds while it walks the loader's list. */
void vt__modules_lock(int take);
void vt__modules_lock_reset(void);
/* Waits (up to about 200 ms) until the writer has written the module map as it is now: called
 * before dlclose, so that a library loaded and unloaded between two rounds is in the trace. */
void vt__modules_sync(void);
void vt__merge_after_fork(void);
/* The live blocks as the writer knows them: calls fn for each (address, ordinal, size), in no
 * particular order. Returns how many there are. */
size_t vt__merge_live(void (*fn)(uint64_t ptr, uint64_t ord, uint64_t size, void *arg), void *arg);
/* Appends a SCAN record (fields as in docs/TRACE_FORMAT.md) and a LEAK record. */
void vt__emit_scan(const uint64_t *fields, size_t n);
void vt__emit_leak(uint64_t ord_delta, int cls);
/* Appends the figures of libvitals' live pools and caches, and those of the ones freed since
 * the last time (not from a signal handler: it takes their locks). */
void vt__emit_lib_stats(void);

/* zones.c: libvitals' door into the agent (lib-api.h) */
/* Queues the last figures of a pool or cache freed by the program, for the writer. */
void vt__lib_stats_final(const void *id, const struct vt_pool_stats *pool,
                         const struct vt_cache_stats *cache);
/* Calls libvitals' collector, if one registered, with sink. Returns 0 if there is none. */
struct vt_lib_stats_sink;
int vt__lib_stats_collect(struct vt_lib_stats_sink *sink);
/* Moves the queued final figures to fn, oldest first. */
void vt__lib_stats_take_final(void (*fn)(const void *id, const struct vt_pool_stats *pool,
                                         const struct vt_cache_stats *cache));
/* Whether the agent runs without allocation hooks, for libvitals only (VITALS_TRACE). */
extern VT_HIDDEN int vt__zones_only;

/* flush.c: the writer thread and the ends of a trace */
int vt__writer_start(void);
int vt__writer_running(void);
void vt__writer_wake(void);
/* Writes everything recorded so far and stops tracing. reason is a VT_END_* code. With
 * in_signal set, only async-signal-safe work is done (blocks are written uncompressed). */
void vt__final_flush(int reason, int status, int in_signal);
/* Before exec: writes everything and an EXEC record; tracing resumes if exec fails. */
void vt__flush_before_exec(const char *path);
void vt__resume_after_exec_failure(void);
void vt__flush_after_fork_child(void);
void vt__disable(const char *why, int err);
void vt__clock_init(void);
/* The TSC frequency vt__clock_init() measured (ticks per second). */
uint64_t vt__tsc_hz(void);
void vt__membarrier_init(void);
/* Makes every thread's in_hook store visible (membarrier, or a sleep without it). */
void vt__barrier(void);

/* agent.c */
/* Whether this process is the one the agent's state belongs to. A vfork child shares the
 * parent's memory (and runs no fork handlers): it must not flush or stop the parent's trace. */
int vt__own_process(void);
/* Writes v in decimal to out (24 bytes is enough) without stdio. */
void vt__utoa(unsigned long v, char *out);
/* Remembers the status exit() was called with (the first call counts). */
void vt__note_exit_status(int status);
void vt__agent_init(void);
/* Whether the agent's malloc is the program's (preloaded), rather than dlopened by libvitals. */
int vt__preloaded(void);
/* Chooses the trace path for this process (vt__config.output) if none is set yet, avoiding
 * existing files. Returns 0 or a negative VT_E* code. */
int vt__pick_output(void);
void vt__say(const char *msg);
extern VT_HIDDEN _Atomic int vt__initialized;

#endif

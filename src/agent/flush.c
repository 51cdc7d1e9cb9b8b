/* The writer thread, and the ends of a trace: opening it, the final flush at exit and on fatal
 * signals, exec, and fork. */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/live-int.h"
#include "agent/sampler.h"
#include "agent/zone_agg.h"
#include "util/error.h"

vt_trace_writer vt__writer = {.fd = -1};
_Atomic uint64_t vt__dropped;
_Atomic int vt__strong_fence;

static _Atomic int file_opened;
static _Atomic uint32_t wake_seq;
static _Atomic int writer_started, writer_busy, writer_quit, writer_abort;
static pthread_t writer_tid;
static _Atomic int membarrier_ok;
static int is_forked_child;
static uint64_t tsc_hz, start_tsc, start_ns;

static int futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
    return (int)syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

void vt__writer_wake(void)
{
    atomic_fetch_add_explicit(&wake_seq, 1, memory_order_release);
    futex(&wake_seq, FUTEX_WAKE_PRIVATE, 1, NULL);
}

void vt__say(const char *msg)
{
    const char *parts[3] = {"vitals: ", msg, "\n"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(parts[i]), done = 0;
        while (done < n) {
            ssize_t r = write(2, parts[i] + done, n - done);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return;
            done += (size_t)r;
        }
    }
}

void vt__disable(const char *why, int err)
{
    if (atomic_exchange(&vt__state, VT_STATE_OFF) == VT_STATE_OFF)
        return;
    char msg[4400];
    size_t n = 0;
    int opened = atomic_load(&file_opened);
    const char *path = vt__config.output;
    const char *parts[] = {"tracing stopped: ",
                           why,
                           opened ? "" : " '",
                           opened ? "" : path,
                           opened ? "" : "'",
                           err ? " (" : "",
                           err ? vt_strerror(err) : "",
                           err ? ")" : "",
                           "; the program continues untraced",
                           opened ? "; the trace '" : "",
                           opened ? path : "",
                           opened ? "' is readable up to this point" : ""};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t l = strlen(parts[i]);
        if (n + l >= sizeof(msg))
            break;
        memcpy(msg + n, parts[i], l);
        n += l;
    }
    msg[n] = 0;
    vt__say(msg);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Estimates the TSC frequency over a short spin, for traces too short to fit it from their
 * clock pairs. */
void vt__clock_init(void)
{
    uint64_t t0 = vt__now(), n0 = mono_ns(), t1, n1;
    do {
        t1 = vt__now();
        n1 = mono_ns();
    } while (n1 - n0 < 200000);
    tsc_hz = (t1 - t0) * 1000000000ull / (n1 - n0);
    start_tsc = t0;
    start_ns = n0;
}

void vt__membarrier_init(void)
{
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
        atomic_store(&membarrier_ok, 1);
    else
        atomic_store(&vt__strong_fence, 1); /* hooks pay for a full fence instead */
}

void vt__barrier(void)
{
    if (atomic_load(&membarrier_ok) &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
        return;
    atomic_thread_fence(memory_order_seq_cst);
}

static int ensure_open(int in_signal)
{
    if (atomic_load(&file_opened))
        return 0;
    int err = vt__pick_output();
    if (!err)
        err = vt_trace_writer_open(&vt__writer, vt__config.output);
    if (err) {
        vt__disable("cannot create the trace file", err);
        return err;
    }
    if (!in_signal && vt_trace_writer_enable_zstd(&vt__writer, vt__config.zstd_level) != 0) {
        vt__disable("out of memory for the compressor", VT_ENOMEM);
        return VT_ENOMEM;
    }
    atomic_store(&file_opened, 1);
    if (is_forked_child) {
        start_tsc = vt__now();
        start_ns = mono_ns();
    }
    vt__emit_info(is_forked_child, start_tsc, start_ns, tsc_hz);
    if (!in_signal)
        vt__emit_modules();
    if (vt__config.manifest[0]) {
        int fd = open(vt__config.manifest, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd >= 0) {
            size_t n = strlen(vt__config.output);
            vt__config.output[n] = '\n';
            ssize_t r = write(fd, vt__config.output, n + 1);
            (void)r;
            vt__config.output[n] = 0;
            close(fd);
        }
    }
    return 0;
}

uint64_t vt__tsc_hz(void)
{
    return tsc_hz;
}

static void *writer_main(void *arg)
{
    (void)arg;
    vt__guard = 1; /* whatever this thread allocates (zstd) is the agent's own */
    for (;;) {
        uint32_t seq = atomic_load_explicit(&wake_seq, memory_order_acquire);
        if (atomic_load(&writer_abort) || atomic_load(&writer_quit))
            break;
        atomic_store(&writer_busy, 1);
        if (atomic_load(&vt__state) == VT_STATE_TRACING)
            vt__merge_round(0, 1);
        atomic_store(&writer_busy, 0);
        /* A CPU profile alone needs fewer rounds, as many as the sample rings need. */
        int ms = vt__sampler_round_ms();
        if (!vt__config.no_alloc && ms > VT_ROUND_MS)
            ms = VT_ROUND_MS;
        struct timespec ts = {0, ms * 1000000L};
        futex(&wake_seq, FUTEX_WAIT_PRIVATE, seq, &ts);
    }
    return NULL;
}

int vt__writer_running(void)
{
    return atomic_load(&writer_started) && !atomic_load(&writer_quit) &&
           !atomic_load(&writer_abort);
}

int vt__writer_start(void)
{
    int expected = 0;
    if (likely(atomic_load_explicit(&writer_started, memory_order_relaxed)) ||
        !atomic_compare_exchange_strong(&writer_started, &expected, 1))
        return 0;
    int err = ensure_open(0);
    if (err)
        return err;
    /* The writer takes no signals: a signal meant for the program must reach its threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int guard = vt__guard;
    vt__guard = 1;
    /* The writer runs on the agent's own memory: a stack from the C library's cache would be
     * handed to the program's next thread, and the leak scan would read the block addresses
     * the writer left on it as the program's pointers. */
    static void *stack;
    enum { STACK_SIZE = 1 << 20 };
    if (!stack && (stack = vt__map(STACK_SIZE, 1)) != NULL)
        mprotect(stack, 4096, PROT_NONE);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (stack)
        pthread_attr_setstack(&attr, stack, STACK_SIZE);
    err = pthread_create(&writer_tid, &attr, writer_main, NULL);
    pthread_attr_destroy(&attr);
    vt__guard = guard;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        atomic_store(&writer_started, 0);
        vt__disable("cannot start the writer thread", VT_ENOMEM);
        return VT_ENOMEM;
    }
    return 0;
}

/* Waits, a bounded time (about a second), until *flag reads 0. */
static void wait_clear(_Atomic int *flag)
{
    for (int i = 0; i < 20000 && atomic_load(flag); i++) {
        if (i < 1000) {
            sched_yield();
        } else {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
}

/* Stops recording, stops the writer and writes every event. Returns 0 when there is a trace
 * to finish. */
static int stop_and_drain(int in_signal)
{
    int expected = VT_STATE_TRACING;
    if (!atomic_compare_exchange_strong(&vt__state, &expected, VT_STATE_STOPPING))
        return -1;
    /* Every thread now either sees STOPPING or is visibly inside a hook. */
    vt__barrier();
    struct vt_thread *self = vt__self;
    for (struct vt_thread *t = vt__threads(); t; t = t->next_all)
        if (t != self)
            wait_clear(&t->in_hook);
    int on_writer = atomic_load(&writer_started) && pthread_equal(pthread_self(), writer_tid);
    if (on_writer) {
        /* The writer itself crashed: its state cannot be trusted to merge more. */
        return atomic_load(&file_opened) ? 0 : -1;
    }
    if (atomic_load(&writer_started)) {
        if (in_signal) {
            atomic_store(&writer_abort, 1);
            vt__writer_wake();
            wait_clear(&writer_busy);
        } else {
            atomic_store(&writer_quit, 1);
            vt__writer_wake();
            pthread_join(writer_tid, NULL);
        }
        atomic_store(&writer_started, 0);
        atomic_store(&writer_quit, 0);
        atomic_store(&writer_abort, 0);
    }
    int guard = vt__guard;
    vt__guard = 1;
    vt__zagg_publish_all();
    int have_events = 0;
    for (struct vt_thread *t = vt__threads(); t && !have_events; t = t->next_all)
        have_events = (t->buf && t->buf->len) || t->pend;
    int err = 0;
    /* A forked child that recorded nothing before exec or exit leaves no file behind. */
    if (atomic_load(&file_opened) || have_events)
        err = ensure_open(in_signal);
    if (!err && atomic_load(&file_opened))
        vt__merge_round(1, !in_signal);
    vt__guard = guard;
    return !err && atomic_load(&file_opened) ? 0 : -1;
}

void vt__final_flush(int reason, int status, int in_signal)
{
    static _Atomic int once;
    /* A vfork child shares its parent's memory: the trace is the parent's to finish. */
    if (!vt__own_process())
        return;
    if (atomic_exchange(&once, 1))
        return;
    int guard = vt__guard;
    vt__guard = 1;
    int drained = stop_and_drain(in_signal);
    /* The writer has stopped: nobody publishes any more. */
    vt__live_remove();
    if (drained == 0) {
        /* A last memory sample, unless this thread may be inside the allocator (a signal
         * handler, or a hook it interrupted): mallinfo2() would wait for a lock it holds. */
        if (!in_signal && !guard) {
            vt__emit_meminfo();
            vt__emit_lib_stats();
        }
        vt__emit_stack_usages();
        /* The trace ends here: what other threads do during the leak check comes after its
         * end, like what runs after this destructor, and is not counted as dropped. */
        uint64_t dropped = atomic_load(&vt__dropped), end_tsc = vt__now();
        atomic_store(&vt__state, VT_STATE_OFF);
        if (!in_signal && vt__config.leak_check)
            vt__scan_at_exit();
        vt__emit_clock();
        vt__emit_end(reason, status, dropped, end_tsc);
        vt__merge_flush_block(!in_signal);
        if (!in_signal)
            vt_trace_writer_close(&vt__writer);
    }
    atomic_store(&vt__state, VT_STATE_OFF);
    vt__unwind_report();
    vt__guard = guard;
}

void vt__flush_before_exec(const char *path)
{
    if (!vt__own_process())
        return; /* a vfork child about to exec: the parent's trace goes on */
    int guard = vt__guard;
    vt__guard = 1;
    int drained = stop_and_drain(0);
    vt__live_remove();
    if (drained == 0) {
        vt__emit_clock();
        vt__emit_exec(path);
        vt__merge_flush_block(1);
    }
    vt__guard = guard;
}

void vt__resume_after_exec_failure(void)
{
    int expected = VT_STATE_STOPPING;
    if (atomic_compare_exchange_strong(&vt__state, &expected, VT_STATE_TRACING)) {
        int guard = vt__guard;
        vt__guard = 1;
        vt__writer_start();
        vt__guard = guard;
    }
}

void vt__flush_after_fork_child(void)
{
    /* The parent's file, writer thread and compression state are the parent's. */
    vt_trace_writer_abandon(&vt__writer);
    atomic_store(&file_opened, 0);
    atomic_store(&writer_started, 0);
    atomic_store(&writer_busy, 0);
    atomic_store(&writer_quit, 0);
    atomic_store(&writer_abort, 0);
    vt__stacks_after_fork();
    vt__threads_after_fork();
    vt__merge_after_fork();
    vt__live_after_fork();
    is_forked_child = 1;
    vt__sampler_after_fork();
}

/* The writer thread and everything that ends up in the file: meta records (process info,
 * module map, stack definitions, clock pairs), event blocks handed off by the threads, and the
 * final flush at exit, before exec and on fatal signals. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
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
#include "util/error.h"
#include "util/varint.h"

vt_trace_writer vt__writer = {.fd = -1};
_Atomic uint64_t vt__dropped;

static _Atomic uint32_t wake_seq;
static _Atomic int writer_started, writer_busy, writer_quit, writer_abort;
static pthread_t writer_tid;
static _Atomic int modules_dirty = 1;
static uint32_t stacks_emitted;
static _Atomic int file_opened;
static _Atomic int membarrier_ok;

/* The meta buffer: one at a time (the writer thread, or the final flush once the writer has
 * stopped). */
static uint8_t *meta;
static size_t meta_len;
static uint64_t meta_first_tsc;
static int meta_compress;

static int futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
    return (int)syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

void vt__writer_wake(void)
{
    atomic_fetch_add_explicit(&wake_seq, 1, memory_order_release);
    futex(&wake_seq, FUTEX_WAKE_PRIVATE, 1, NULL);
}

void vt__modules_dirty(void)
{
    atomic_store_explicit(&modules_dirty, 1, memory_order_release);
}

void vt__say(const char *msg)
{
    static const char prefix[] = "vitals: ";
    const char *parts[3] = {prefix, msg, "\n"};
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
    const char *parts[] = {"tracing stopped: ", why, err ? " (" : "", err ? vt_strerror(err) : "",
                           err ? ")" : "", "; the program continues untraced; the trace '",
                           vt__config.output, "' is readable up to this point"};
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

static int meta_reserve(size_t need);

static void meta_put_u(uint64_t v)
{
    meta_len = (size_t)(vt_varint_put(meta + meta_len, v) - meta);
}

static void meta_put_bytes(const void *p, size_t n)
{
    meta_put_u(n);
    memcpy(meta + meta_len, p, n);
    meta_len += n;
}

static void meta_put_str(const char *s)
{
    meta_put_bytes(s, strlen(s));
}

static int meta_flush(void)
{
    if (!meta_len)
        return 0;
    uint64_t now = vt__now();
    int err = vt_trace_write_block(&vt__writer, VT_BLOCK_META, 0, meta_first_tsc, now, meta,
                                   meta_len, meta_compress);
    meta_len = 0;
    if (err) {
        vt__disable("cannot write the trace", err);
        return err;
    }
    return 0;
}

/* Makes room for need more bytes, writing the current block out when it is full. */
static int meta_reserve(size_t need)
{
    if (!meta) {
        meta = mmap(NULL, VT_BLOCK_MAX_RAW, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
        if (meta == MAP_FAILED) {
            meta = NULL;
            return VT_ENOMEM;
        }
    }
    if (meta_len + need > VT_BLOCK_MAX_RAW) {
        int err = meta_flush();
        if (err)
            return err;
    }
    if (!meta_len)
        meta_first_tsc = vt__now();
    return 0;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void emit_clock(void)
{
    if (meta_reserve(32))
        return;
    uint64_t a = vt__now();
    uint64_t ns = mono_ns();
    uint64_t b = vt__now();
    meta[meta_len++] = VT_META_CLOCK;
    meta_put_u(a + (b - a) / 2);
    meta_put_u(ns);
}

/* Reads a whole small file (/proc) into buf without stdio; returns its length. */
static size_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t n = 0;
    if (fd < 0)
        return 0;
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    return n;
}

static uint64_t tsc_hz;
static uint64_t start_tsc, start_ns;

/* Estimates the TSC frequency over a short spin, for traces too short to fit it from their
 * clock pairs. */
static void calibrate(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t t0 = vt__now(), n0 = mono_ns(), t1, n1;
    do {
        t1 = vt__now();
        n1 = mono_ns();
    } while (n1 - n0 < 200000);
    tsc_hz = (t1 - t0) * 1000000000ull / (n1 - n0);
    start_tsc = t0;
    start_ns = n0;
}

static void emit_info(int forked)
{
    static char exe[4096], cmdline[32768];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = 0;
    size_t clen = read_small("/proc/self/cmdline", cmdline, sizeof(cmdline));
    if (meta_reserve(sizeof(exe) + sizeof(cmdline) + 256))
        return;
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    uint64_t now_tsc = vt__now(), now_ns = mono_ns();
    meta[meta_len++] = VT_META_INFO;
    meta_put_u((uint64_t)getpid());
    meta_put_u((uint64_t)getppid());
    meta_put_u(tsc_hz);
    meta_put_u(forked ? now_tsc : start_tsc);
    meta_put_u(forked ? now_ns : start_ns);
    meta_put_u((uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec -
               (forked ? 0 : now_ns - start_ns));
    meta_put_u((uint64_t)vt__config.depth);
    meta_put_u(forked ? VT_INFO_FORKED : 0);
    meta_put_str(exe);
    size_t argc = 0;
    for (size_t i = 0; i < clen; i++)
        argc += cmdline[i] == 0;
    meta_put_u(argc);
    for (size_t i = 0; i < clen;) {
        size_t l = strnlen(cmdline + i, clen - i);
        meta_put_bytes(cmdline + i, l);
        i += l + 1;
    }
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    static char exe[4096];
    const char *path = info->dlpi_name;
    if (!path || !*path) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        exe[n > 0 ? n : 0] = 0;
        path = exe;
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    const uint8_t *build_id = NULL;
    size_t build_id_len = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD) {
            uint64_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
            lo = s < lo ? s : lo;
            hi = e > hi ? e : hi;
        } else if (ph->p_type == PT_NOTE && !build_id) {
            const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
            const uint8_t *end = p + ph->p_memsz;
            while (p + sizeof(ElfW(Nhdr)) <= end) {
                const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
                const uint8_t *name = p + sizeof(*nh);
                const uint8_t *desc = name + ((nh->n_namesz + 3) & ~3u);
                if (desc + nh->n_descsz > end)
                    break;
                if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                    memcmp(name, "GNU", 4) == 0) {
                    build_id = desc;
                    build_id_len = nh->n_descsz;
                    break;
                }
                p = desc + ((nh->n_descsz + 3) & ~3u);
            }
        }
    }
    if (lo >= hi)
        return 0;
    size_t plen = strlen(path);
    if (build_id_len > 64)
        build_id_len = 64;
    if (meta_reserve(plen + build_id_len + 64))
        return 1;
    meta[meta_len++] = VT_META_MODULE;
    meta_put_bytes(path, plen);
    meta_put_u(info->dlpi_addr);
    meta_put_u(lo);
    meta_put_u(hi);
    meta_put_bytes(build_id, build_id_len);
    return 0;
}

/* Writes what the event blocks about to be written may refer to: the module map when it
 * changed, and the stacks interned since last time. */
static void emit_definitions(int in_signal)
{
    uint32_t end = vt__stack_count_ready();
    uint32_t ready = stacks_emitted;
    uint32_t depth;
    while (ready < end) {
        vt__stack_frames(ready, &depth);
        if (depth == UINT32_MAX)
            break;
        ready++;
    }
    /* Stacks that were ready above were interned after any dlopen they depend on marked the
     * module map dirty, so checking the flag now sees it. */
    if (!in_signal && atomic_exchange_explicit(&modules_dirty, 0, memory_order_acq_rel))
        dl_iterate_phdr(module_cb, NULL);
    for (uint32_t id = stacks_emitted; id < ready; id++) {
        const uint64_t *f = vt__stack_frames(id, &depth);
        if (meta_reserve((size_t)depth * VT_VARINT_MAX + 32))
            return;
        meta[meta_len++] = VT_META_STACK;
        meta_put_u(id);
        meta_put_u(depth);
        uint64_t prev = 0;
        for (uint32_t i = 0; i < depth; i++) {
            meta_put_u(vt_zigzag((int64_t)(f[i] - prev)));
            prev = f[i];
        }
    }
    stacks_emitted = ready;
}

static int is_forked_child;

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
    meta_compress = !in_signal;
    emit_info(is_forked_child);
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

/* Writes the queued buffers (and the definitions they need). Returns how many were written. */
static int drain(int compress)
{
    struct vt_buf *list = vt__queue_take();
    int n = 0;
    meta_compress = compress;
    if (!list && !meta_len && stacks_emitted == vt__stack_count_ready() &&
        !atomic_load(&modules_dirty))
        return 0;
    if (ensure_open(!compress))
        goto discard;
    emit_definitions(!compress);
    if (list)
        emit_clock();
    if (meta_flush())
        goto discard;
    for (; list; n++) {
        struct vt_buf *b = list;
        list = b->next;
        int err = vt_trace_write_block(&vt__writer, VT_BLOCK_EVENTS, b->tid, b->first_tsc,
                                       b->last_tsc, b->data, b->len, compress);
        vt__buf_put(b);
        if (err) {
            vt__disable("cannot write the trace", err);
            goto discard;
        }
    }
    return n;
discard:
    while (list) {
        struct vt_buf *b = list;
        list = b->next;
        vt__buf_put(b);
    }
    return n;
}

static void *writer_main(void *arg)
{
    (void)arg;
    vt__guard = 1; /* whatever this thread allocates (zstd) is the agent's own */
    for (;;) {
        uint32_t seq = atomic_load_explicit(&wake_seq, memory_order_acquire);
        if (atomic_load(&writer_abort))
            break;
        atomic_store(&writer_busy, 1);
        int quit = atomic_load(&writer_quit);
        int n = atomic_load(&vt__state) == VT_STATE_OFF ? 0 : drain(1);
        atomic_store(&writer_busy, 0);
        if (quit)
            break;
        if (!n) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            futex(&wake_seq, FUTEX_WAIT_PRIVATE, seq, &ts);
        }
    }
    return NULL;
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
    err = pthread_create(&writer_tid, NULL, writer_main, NULL);
    vt__guard = guard;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        atomic_store(&writer_started, 0);
        vt__disable("cannot start the writer thread", VT_ENOMEM);
        return VT_ENOMEM;
    }
    return 0;
}

void vt__clock_init(void)
{
    calibrate();
}

/* Waits, a bounded time, until *flag reads 0. */
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

/* Stops recording and writes every buffer. Returns 0 when there was a trace to finish. */
static int stop_and_drain(int in_signal)
{
    int expected = VT_STATE_TRACING;
    if (!atomic_compare_exchange_strong(&vt__state, &expected, VT_STATE_STOPPING))
        return -1;
    /* Every thread now either sees STOPPING or is visibly inside a hook. */
    if (!atomic_load(&membarrier_ok) ||
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    struct vt_thread *self = vt__self;
    int self_busy = vt__guard; /* a signal may have interrupted one of our own hooks */
    for (struct vt_thread *t = vt__threads(); t; t = t->next_all) {
        if (t != self)
            wait_clear(&t->in_hook);
    }
    int on_writer = atomic_load(&writer_started) && pthread_equal(pthread_self(), writer_tid);
    if (in_signal || on_writer) {
        atomic_store(&writer_abort, 1);
        if (atomic_load(&writer_started))
            vt__writer_wake();
        if (!on_writer)
            wait_clear(&writer_busy);
    }
    /* Thread buffers go after whatever the writer already holds, so each thread's blocks
     * stay in order. */
    for (struct vt_thread *t = vt__threads(); t; t = t->next_all) {
        if (atomic_load(&t->in_hook) && t != self)
            continue;
        if (t->buf && t->buf->len)
            vt__queue_push_quiet(t->buf);
        else if (t->buf)
            vt__buf_put(t->buf);
        t->buf = NULL;
    }
    (void)self_busy;
    if (!in_signal && !on_writer && atomic_load(&writer_started)) {
        atomic_store(&writer_quit, 1);
        vt__writer_wake();
        pthread_join(writer_tid, NULL);
        atomic_store(&writer_started, 0);
        atomic_store(&writer_quit, 0);
    }
    int guard = vt__guard;
    vt__guard = 1;
    drain(!in_signal && !on_writer);
    vt__guard = guard;
    return atomic_load(&file_opened) ? 0 : -1;
}

void vt__final_flush(int reason, int status, int in_signal)
{
    static _Atomic int once;
    if (atomic_exchange(&once, 1))
        return;
    int guard = vt__guard;
    vt__guard = 1;
    if (stop_and_drain(in_signal) == 0) {
        meta_compress = 0;
        if (meta_reserve(64) == 0) {
            emit_clock();
            meta[meta_len++] = VT_META_END;
            meta_put_u((uint64_t)reason);
            meta_put_u((uint64_t)status);
            meta_put_u(atomic_load(&vt__dropped));
            meta_put_u(vt__now());
            meta_flush();
        }
        if (!in_signal)
            vt_trace_writer_close(&vt__writer);
    }
    atomic_store(&vt__state, VT_STATE_OFF);
    vt__guard = guard;
}

void vt__flush_before_exec(const char *path)
{
    int guard = vt__guard;
    vt__guard = 1;
    if (stop_and_drain(0) == 0) {
        meta_compress = 0;
        if (meta_reserve(strlen(path) + 32) == 0) {
            meta[meta_len++] = VT_META_EXEC;
            meta_put_u(vt__now());
            meta_put_str(path);
            meta_flush();
        }
    }
    vt__guard = guard;
}

void vt__resume_after_exec_failure(void)
{
    if (!atomic_load(&file_opened))
        return;
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
    atomic_store(&modules_dirty, 1);
    stacks_emitted = 0;
    meta_len = 0;
    vt__stacks_after_fork();
    vt__threads_after_fork();
    is_forked_child = 1;
}

void vt__membarrier_init(void)
{
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
        atomic_store(&membarrier_ok, 1);
}

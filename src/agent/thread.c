/* Per-thread state and buffers, event encoding, and the queue of full buffers that the writer
 * thread drains. Nothing here takes a lock or makes a system call in the common case: a
 * record is a few varints appended to the calling thread's own buffer. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/zone_agg.h"
#include "agent/zone_counters.h"
#include "util/varint.h"

__thread int vt__guard;
__thread struct vt_thread *vt__self;

static _Atomic(struct vt_buf *) queue_head;
static _Atomic int queue_len;
static _Atomic(struct vt_thread *) all_threads;

/* Buffers and thread states come from agent-owned mmap'd slabs; a tiny spinlock guards the
 * free list (taken once per 64 KiB of events) and is reset in a forked child. */
static atomic_flag pool_lock = ATOMIC_FLAG_INIT;
static struct vt_buf *free_bufs;
static struct vt_thread *spare_threads;
static size_t n_spare_threads;
static pthread_key_t thread_key;

static void pool_lock_take(void)
{
    while (atomic_flag_test_and_set_explicit(&pool_lock, memory_order_acquire))
        sched_yield();
}

static void pool_lock_give(void)
{
    atomic_flag_clear_explicit(&pool_lock, memory_order_release);
}

static void *map_pages(size_t n)
{
    return vt__map(n, 0);
}

struct vt_buf *vt__buf_get(struct vt_thread *owner)
{
    struct vt_buf *b;
    pool_lock_take();
    b = free_bufs;
    if (b)
        free_bufs = b->next;
    pool_lock_give();
    if (!b) {
        enum { SLAB = 16 };
        uint8_t *slab = map_pages((size_t)VT_BUF_SIZE * SLAB);
        if (!slab)
            return NULL;
        pool_lock_take();
        for (int i = 1; i < SLAB; i++) {
            struct vt_buf *x = (struct vt_buf *)(slab + (size_t)i * VT_BUF_SIZE);
            x->next = free_bufs;
            free_bufs = x;
        }
        pool_lock_give();
        b = (struct vt_buf *)slab;
    }
    b->next = NULL;
    b->owner = owner;
    b->len = 0;
    return b;
}

void vt__buf_put(struct vt_buf *b)
{
    pool_lock_take();
    b->next = free_bufs;
    free_bufs = b;
    pool_lock_give();
}

void vt__queue_push_quiet(struct vt_buf *b)
{
    struct vt_buf *head = atomic_load_explicit(&queue_head, memory_order_relaxed);
    do
        b->next = head;
    while (!atomic_compare_exchange_weak_explicit(&queue_head, &head, b, memory_order_release,
                                                  memory_order_relaxed));
    atomic_fetch_add_explicit(&queue_len, 1, memory_order_relaxed);
}

void vt__queue_push(struct vt_buf *b)
{
    vt__queue_push_quiet(b);
    vt__writer_start();
    /* The writer runs every VT_ROUND_MS anyway; wake it early only when work piles up. */
    if (atomic_load_explicit(&queue_len, memory_order_relaxed) > 32)
        vt__writer_wake();
}

struct vt_buf *vt__queue_take(void)
{
    struct vt_buf *list = atomic_exchange_explicit(&queue_head, NULL, memory_order_acquire);
    struct vt_buf *ordered = NULL;
    /* The queue is a stack; reverse it so each thread's buffers come out in order. */
    while (list) {
        struct vt_buf *next = list->next;
        list->next = ordered;
        ordered = list;
        list = next;
        atomic_fetch_sub_explicit(&queue_len, 1, memory_order_relaxed);
    }
    return ordered;
}

struct vt_thread *vt__threads(void)
{
    return atomic_load_explicit(&all_threads, memory_order_acquire);
}

/* Hands the thread's buffer, if any, to the writer, and raises the thread's cover: nothing
 * this thread records from now on is older than cover. */
static void handoff(struct vt_thread *t, uint64_t cover)
{
    if (t->buf) {
        if (t->buf->len)
            vt__queue_push(t->buf);
        else
            vt__buf_put(t->buf);
        t->buf = NULL;
    }
    atomic_store_explicit(&t->cover, cover, memory_order_release);
}

void vt__thread_sync(struct vt_thread *t)
{
    while (unlikely(atomic_load_explicit(&vt__forking, memory_order_acquire))) {
        /* Another thread is forking: stay out of the hooks (and of the loader's lock, which
         * unwinding may take) until it is done. */
        atomic_store_explicit(&t->in_hook, 0, memory_order_relaxed);
        while (atomic_load_explicit(&vt__forking, memory_order_acquire))
            sched_yield();
        atomic_store_explicit(&t->in_hook, 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_seq_cst);
    }
    while (atomic_load_explicit(&t->steal, memory_order_acquire))
        sched_yield();
    if (unlikely(atomic_load_explicit(&t->retired, memory_order_acquire))) {
        /* The writer has let this state go (its thread had exited): start a new one. */
        atomic_store_explicit(&t->in_hook, 0, memory_order_relaxed);
        vt__self = NULL;
        t = vt__thread_attach();
        if (!t)
            return;
        atomic_store_explicit(&t->in_hook, 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_seq_cst);
        return;
    }
    uint32_t epoch = atomic_load_explicit(&vt__epoch, memory_order_relaxed);
    if (t->seen_epoch != epoch) {
        t->seen_epoch = epoch;
        int saved_errno = errno;
        uint64_t now = vt__now();
        handoff(t, now > t->last_tsc ? now : t->last_tsc);
        errno = saved_errno;
    }
}

/* Hands the thread's buffer to the writer and starts a new one based at its last time. */
static struct vt_buf *rotate(struct vt_thread *t)
{
    if (t->buf) {
        int saved_errno = errno;
        handoff(t, t->last_tsc);
        /* Backpressure: when the writer falls far behind, wait for it rather than let
         * buffers grow without bound. */
        while (atomic_load_explicit(&queue_len, memory_order_relaxed) > VT_QUEUE_LIMIT &&
               atomic_load_explicit(&vt__state, memory_order_relaxed) == VT_STATE_TRACING) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
        errno = saved_errno;
    }
    struct vt_buf *b = vt__buf_get(t);
    if (!b) {
        vt__disable("out of memory for event buffers", 0);
        return NULL;
    }
    b->first_tsc = t->last_tsc;
    t->prev_ptr = 0;
    t->buf = b;
    return b;
}

static inline uint8_t *reserve(struct vt_thread *t)
{
    struct vt_buf *b = t->buf;
    if (unlikely(!b || b->len > VT_BUF_CAP - VT_BUF_SLACK)) {
        b = rotate(t);
        if (!b)
            return NULL;
    }
    return b->data + b->len;
}

/* Returns the time delta of a record at tsc and advances the thread's clock; the clock never
 * runs backwards within a thread. */
static inline uint64_t tick(struct vt_thread *t, uint64_t tsc)
{
    if (unlikely(tsc < t->last_tsc))
        tsc = t->last_tsc;
    uint64_t dt = tsc - t->last_tsc;
    t->last_tsc = tsc;
    return dt;
}

static inline uint8_t *put_ptr(struct vt_thread *t, uint8_t *p, const void *ptr)
{
    uint64_t v = (uint64_t)(uintptr_t)ptr;
    p = vt_varint_put(p, vt_zigzag((int64_t)(v - t->prev_ptr)));
    t->prev_ptr = v;
    return p;
}

static inline void commit(struct vt_thread *t, uint8_t *end)
{
    struct vt_buf *b = t->buf;
    /* A fatal signal handler on this thread may flush the buffer: publish the length only
     * once the bytes are in place. */
    atomic_signal_fence(memory_order_release);
    b->len = (uint32_t)(end - b->data);
    if (unlikely(t->exiting))
        handoff(t, t->last_tsc);
}

/* A row that made memory: tag, time, size, stack, address, and for heap blocks the usable
 * size minus size. */
static inline void track_made(struct vt_thread *t, uint8_t tag, const void *ptr, size_t size,
                              size_t waste)
{
    uint64_t tsc = vt__now();
    uint32_t stack = vt__stack_capture(t);
    uint8_t *p = reserve(t);
    if (!p)
        return;
    *p++ = tag;
    p = vt_varint_put(p, tick(t, tsc));
    p = vt_varint_put(p, size);
    p = vt_varint_put(p, stack);
    p = put_ptr(t, p, ptr);
    if (tag != VT_TAG_MMAP)
        p = vt_varint_put(p, waste);
    commit(t, p);
}

void vt__track_alloc(struct vt_thread *t, int fn, const void *ptr, size_t size, size_t usable)
{
    vt__zagg_alloc(t, size);
    track_made(t, (uint8_t)(VT_TAG_ALLOC | fn), ptr, size, usable > size ? usable - size : 0);
}

void vt__track_free(struct vt_thread *t, int fn, const void *ptr, uint64_t tsc)
{
    uint8_t *p = reserve(t);
    if (!p)
        return;
    *p++ = (uint8_t)(VT_TAG_FREE | fn);
    p = vt_varint_put(p, tick(t, tsc));
    p = put_ptr(t, p, ptr);
    commit(t, p);
}

void vt__track_realloc(struct vt_thread *t, int fn, const void *old, uint64_t free_tsc,
                       const void *ptr, size_t size, size_t usable)
{
    if (old)
        vt__track_free(t, fn, old, free_tsc);
    if (ptr)
        vt__track_alloc(t, fn, ptr, size, usable);
}

void vt__track_mmap(struct vt_thread *t, const void *ptr, size_t size)
{
    track_made(t, VT_TAG_MMAP, ptr, size, 0);
}

void vt__track_munmap(struct vt_thread *t, const void *ptr, size_t size)
{
    uint64_t tsc = vt__now();
    uint8_t *p = reserve(t);
    if (!p)
        return;
    *p++ = VT_TAG_MUNMAP;
    p = vt_varint_put(p, tick(t, tsc));
    p = put_ptr(t, p, ptr);
    p = vt_varint_put(p, size);
    commit(t, p);
}

void vt__track_stack_usage(struct vt_thread *t)
{
    if (!t->stack_hi)
        return;
    uint64_t used = vt__stack_used(t);
    if (!used)
        return; /* cannot be measured */
    uint8_t *p = reserve(t);
    if (!p)
        return;
    *p++ = VT_TAG_STACK_USAGE;
    p = vt_varint_put(p, tick(t, vt__now()));
    p = vt_varint_put(p, t->stack_size);
    p = vt_varint_put(p, used);
    commit(t, p);
    t->stack_hi = 0; /* measured */
}

static void track_marker(struct vt_thread *t, int tag)
{
    uint8_t *p = reserve(t);
    if (!p)
        return;
    *p++ = (uint8_t)tag;
    p = vt_varint_put(p, tick(t, vt__now()));
    commit(t, p);
}

/* Runs when a thread exits (pthread key destructor): its events so far go to the writer.
 * Later events of the same thread (its TLS being torn down) are handed off one by one. */
static void thread_exit(void *arg)
{
    struct vt_thread *t = arg;
    if (vt__guard || atomic_load(&vt__state) != VT_STATE_TRACING)
        return;
    vt__stack_learn(t, 1);
    /* Its stack may go to the C library's cache, where the scan at exit would read it. */
    vt__scrub_stack();
    vt__guard = 1;
    atomic_store_explicit(&t->in_hook, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&vt__state, memory_order_relaxed) == VT_STATE_TRACING) {
        /* Before exiting is set: the rows share buffers rather than being handed off one by
         * one. */
        vt__zagg_detach(t);
        t->exiting = 1;
        vt__track_stack_usage(t);
        track_marker(t, VT_TAG_THREAD_EXIT);
        handoff(t, t->last_tsc);
    }
    vt__leave(t);
}

void vt__thread_key_init(void)
{
    pthread_key_create(&thread_key, thread_exit);
}

struct vt_thread *vt__thread_attach(void)
{
    struct vt_thread *t;
    pool_lock_take();
    if (!n_spare_threads) {
        spare_threads = map_pages(64 * 1024);
        if (spare_threads)
            n_spare_threads = 64 * 1024 / sizeof(struct vt_thread);
    }
    t = n_spare_threads ? &spare_threads[--n_spare_threads] : NULL;
    pool_lock_give();
    if (!t) {
        vt__disable("out of memory for thread state", 0);
        return NULL;
    }
    memset(t, 0, sizeof(*t));
    t->tid = (uint32_t)syscall(SYS_gettid);
    t->last_tsc = vt__now();
    t->seen_epoch = atomic_load(&vt__epoch);
    atomic_store(&t->cover, t->last_tsc);
    struct vt_thread *head = atomic_load(&all_threads);
    do
        t->next_all = head;
    while (!atomic_compare_exchange_weak(&all_threads, &head, t));
    vt__stack_attach(t);
    vt__self = t;
    pthread_setspecific(thread_key, t);
    track_marker(t, VT_TAG_THREAD_START);
    return t;
}

void vt__threads_after_fork(void)
{
    atomic_flag_clear(&pool_lock);
    vt__zagg_after_fork();
    /* Buffers queued or held by the parent's threads hold the parent's events: recycle them,
     * and forget the parent's threads: the child starts with only the one that forked. */
    struct vt_buf *b = atomic_exchange(&queue_head, NULL);
    atomic_store(&queue_len, 0);
    while (b) {
        struct vt_buf *next = b->next;
        vt__buf_put(b);
        b = next;
    }
    for (struct vt_thread *t = vt__threads(); t; t = t->next_all) {
        for (struct vt_buf *p = t->pend; p;) {
            struct vt_buf *next = p->next;
            vt__buf_put(p);
            p = next;
        }
        t->pend = t->pend_tail = NULL;
        t->has_ev = 0;
        t->rp = t->rend = NULL;
        if (t->buf && t != vt__self)
            vt__buf_put(t->buf);
        if (t != vt__self)
            t->buf = NULL;
        atomic_store(&t->in_hook, 0);
        atomic_store(&t->steal, 0);
        atomic_store(&t->retired, 1);
    }
    atomic_store(&all_threads, NULL);
    struct vt_thread *self = vt__self;
    if (self && self->buf)
        vt__buf_put(self->buf);
    if (self)
        self->buf = NULL;
    vt__self = NULL; /* the next event attaches a fresh state with the child's tid */
}

/* Rows of libvitals' events (zones.c). They carry the addresses of the program's static names
 * and source locations raw (8 bytes): the writer turns them into LOCATION ids. */
static inline uint8_t *reserve_n(struct vt_thread *t, size_t need)
{
    struct vt_buf *b = t->buf;
    if (unlikely(!b || b->len + need > VT_BUF_CAP)) {
        b = rotate(t);
        if (!b)
            return NULL;
    }
    return b->data + b->len;
}

static inline uint8_t *put_raw_ptr(uint8_t *p, const void *ptr)
{
    memcpy(p, &ptr, sizeof(ptr));
    return p + sizeof(ptr);
}

uint8_t *vt__row_reserve(struct vt_thread *t, size_t need, int quiet)
{
    struct vt_buf *b = t->buf;
    if (likely(b && b->len + need <= VT_BUF_CAP))
        return b->data + b->len;
    if (!quiet)
        return reserve_n(t, need);
    if (b && b->len)
        vt__queue_push_quiet(b);
    else if (b)
        vt__buf_put(b);
    t->buf = NULL;
    if (!(b = vt__buf_get(t)))
        return NULL;
    b->first_tsc = t->last_tsc;
    t->prev_ptr = 0;
    t->buf = b;
    return b->data;
}

uint64_t vt__row_tick(struct vt_thread *t, uint64_t tsc)
{
    return tick(t, tsc);
}

void vt__row_commit(struct vt_thread *t, uint8_t *end, int quiet)
{
    if (!quiet) {
        commit(t, end);
        return;
    }
    atomic_signal_fence(memory_order_release);
    t->buf->len = (uint32_t)(end - t->buf->data);
}

/* The cold parts of a zone's begin and end (z->slow set): the first calls are written as
 * spans too, ZONE_BEGIN and ZONE_END rows (zone_agg.h). */
static __attribute__((noinline)) void zone_begin_slow(struct vt_thread *t, struct vt_zthread *z,
                                                      uint32_t d,
                                                      const struct vt_source_location *loc,
                                                      uint64_t tsc)
{
    if (z->slow & VT_ZSLOW_SPANS) {
        if (!z->spans_left && (z->spans_left = vt__zagg_take_spans()) == 0) {
            if (!z->raw)
                z->slow &= ~(uint32_t)VT_ZSLOW_SPANS;
            return;
        }
        uint8_t *p = reserve_n(t, 24);
        if (likely(p != NULL)) {
            *p++ = VT_TAG_ZONE_BEGIN;
            p = vt_varint_put(p, tick(t, tsc));
            p = put_raw_ptr(p, loc);
            commit(t, p);
            z->raw |= 1ull << d;
            z->spans_left--;
        }
    }
}

static __attribute__((noinline)) void zone_end_slow(struct vt_thread *t, struct vt_zthread *z,
                                                    uint32_t d, uint64_t tsc, uint64_t dur,
                                                    int failed)
{
    if ((z->slow & VT_ZSLOW_SPANS) && (z->raw & (1ull << d))) {
        z->raw &= ~(1ull << d);
        uint8_t *p = reserve_n(t, 24);
        if (likely(p != NULL)) {
            *p++ = VT_TAG_ZONE_END;
            p = vt_varint_put(p, tick(t, tsc));
            p = vt_varint_put(p, dur);
            *p++ = failed ? VT_ZONE_FAILED : 0;
            commit(t, p);
        }
        if (!z->spans_left && !z->raw && !(z->spans_left = vt__zagg_take_spans()))
            z->slow &= ~(uint32_t)VT_ZSLOW_SPANS;
    }
}

/* A zone's begin and end: the whole of libvitals' hot path, in one function each
 * (lib-api.h). The figures stay in the thread (zone_agg.h); z->slow leads to what is rarely
 * done (spans). */
uint64_t vt__zone_begin_now(const struct vt_source_location *loc)
{
    struct vt_thread *t = vt__enter();
    if (!t)
        return 0;
    uint64_t tsc = vt__now();
    struct vt_zthread *z = t->zones;
    if (unlikely(!z) && !(z = vt__zagg_attach(t))) {
        vt__leave(t);
        return 0;
    }
    uint32_t d = z->depth++;
    if (likely(d < VT_ZONE_DEPTH)) {
        struct vt_zsite *s = vt__zagg_site(z, loc);
        z->stack[d] = s;
        if (unlikely(z->slow) && s)
            zone_begin_slow(t, z, d, loc, tsc);
    }
    if (unlikely(vt__zc_on))
        vt__zc_begin(tsc);
    vt__leave(t);
    return tsc;
}

/* --zone-counters: the counts of the zone that ends, named by its call site (NULL when it was
 * nested too deep to have one). */
static __attribute__((noinline, cold)) void zone_counters_end(struct vt_thread *t, uint64_t start)
{
    const struct vt_zthread *z = t->zones;
    const struct vt_zsite *s =
        z && z->depth && z->depth <= VT_ZONE_DEPTH ? z->stack[z->depth - 1] : NULL;
    vt__zc_end(t, start, s ? s->loc : NULL);
}

void vt__zone_end_now(uint64_t start, int failed)
{
    struct vt_thread *t = vt__enter();
    if (!t)
        return;
    if (unlikely(vt__zc_on))
        zone_counters_end(t, start);
    uint64_t tsc = vt__now();
    struct vt_zthread *z = t->zones;
    if (unlikely(!z || !z->depth)) {
        if (z)
            z->unmatched++;
        vt__leave(t);
        return;
    }
    uint32_t d = --z->depth;
    if (likely(d < VT_ZONE_DEPTH)) {
        uint64_t dur = tsc > start ? tsc - start : 0;
        struct vt_zsite *s = z->stack[d];
        if (likely(s != NULL))
            vt__zagg_add(s, start, dur, failed);
        else
            z->lost++;
        if (unlikely(z->slow))
            zone_end_slow(t, z, d, tsc, dur, failed);
        if (unlikely(tsc >= z->deadline))
            vt__zagg_publish(t, z, tsc, 0);
    } else {
        z->lost++;
    }
    vt__leave(t);
}

void vt__track_named(struct vt_thread *t, int tag, const void *name, uint64_t value)
{
    uint64_t tsc = vt__now();
    uint8_t *p = reserve_n(t, 32);
    if (!p)
        return;
    *p++ = (uint8_t)tag;
    p = vt_varint_put(p, tick(t, tsc));
    p = put_raw_ptr(p, name);
    if (tag != VT_TAG_FRAME)
        p = vt_varint_put(p, value);
    commit(t, p);
}

void vt__track_task(struct vt_thread *t, const char *name, const char *kind, uint64_t *usage)
{
    uint64_t tsc = vt__now();
    uint8_t *p = reserve_n(t, 32 + VT_TASK_FIELDS * VT_VARINT_MAX);
    if (!p)
        return;
    usage[VT_TASK_TSC] = tsc;
    *p++ = name ? VT_TAG_TASK_BEGIN : VT_TAG_TASK_END;
    p = vt_varint_put(p, tick(t, tsc));
    if (name) {
        p = put_raw_ptr(p, name);
        p = put_raw_ptr(p, kind);
    }
    for (int i = 0; i < VT_TASK_FIELDS; i++)
        p = vt_varint_put(p, usage[i]);
    commit(t, p);
}

void vt__track_fields(struct vt_thread *t, uint8_t tag, uint64_t tsc, const uint8_t *body,
                      size_t len)
{
    uint8_t *p = reserve_n(t, 1 + 2 * VT_VARINT_MAX + len);
    if (!p)
        return;
    *p++ = tag;
    p = vt_varint_put(p, tick(t, tsc));
    p = vt_varint_put(p, len);
    memcpy(p, body, len);
    commit(t, p + len);
}

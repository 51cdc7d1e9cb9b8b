/* The writer's work: merging every thread's rows into one stream in time order, and encoding
 * that stream into blocks.
 *
 * Each round the writer bumps the epoch (active threads hand their buffers over at their next
 * event), takes the buffers of idle threads itself, and then writes every row older than all
 * threads' covers. Because the stream is in time order, a free can name the block it releases
 * by allocation ordinal instead of by address: the writer keeps the address -> ordinal map of
 * live blocks, so the trace holds no heap addresses at all. Everything here runs on one thread
 * at a time (the writer, or the final flush once the writer has stopped) and allocates only
 * with mmap, so the final flush can run it from a signal handler. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/sampler.h"
#include "agent/zone_counters.h"
#include "agent/lib-api.h"
#include "agent/live-int.h"
#include "collect/proc.h"
#include "trace/stream.h"
#include "util/error.h"
#include "util/hash.h"

_Atomic uint32_t vt__epoch;

static vt_stream_enc enc;
static uint8_t *enc_out;
static size_t enc_out_cap;
static uint64_t block_base_q, last_q;
static uint64_t block_base_ord, ordinal;
static struct vt_thread *cur_thread;
static uint32_t n_announced;
static uint64_t last_map_addr;
static uint64_t prev_target;
static struct timespec last_block_time;
static _Atomic int modules_dirty = 1;
static _Atomic uint32_t modules_walks; /* how many times the writer has written the map */
static int module_cb(struct dl_phdr_info *info, size_t size, void *arg);

/* A memory sample waits until every event older than it is written, so that the stream stays
 * in time order. */
struct mem_sample {
    uint64_t tsc;
    uint64_t cpu_ns; /* the writer's CPU time mallinfo2() took */
    uint64_t v[6];   /* rss, arena, hblkhd, uordblks, fordblks, keepcost */
};
static struct mem_sample pending_sample;
static void collect_lib_stats(void);
static void put_lib_stats(uint64_t tsc);
static void lib_after_fork(void);
static int sample_pending;
static struct timespec last_sample_time;
/* Samples are VT_SAMPLE_MS apart, or further when taking one is slow: mallinfo2() walks every
 * free list with the arena locked, and the program's threads wait meanwhile. The interval is
 * kept at least 100 times the CPU time the last sample took, so that sampling holds the
 * allocator's locks less than 1% of the time. CPU time, not elapsed time: on a busy machine the
 * writer may be preempted inside mallinfo2(), and a long interval would then miss the moment
 * after the heap peak that the report shows the allocator at. */
#define VT_SAMPLE_MS 100
static int64_t sample_interval_ms = VT_SAMPLE_MS;

/* Which stack ids the stream has defined, one bit each. */
static uint64_t *stack_bits;
static size_t stack_bits_words;

/* Live blocks: address -> ordinal and size, open addressing with backward-shift deletion. */
struct pslot {
    uint64_t ptr, ord, size;
};
static struct pslot *pmap;
static size_t pmask, pcount;
/* The heap as the stream has it so far, for the live figures (live.c). */
static struct vt_live_figures live;
static uint64_t info_start_tsc;

static void *map_zeroed(size_t n)
{
    return vt__map(n, 1);
}

int vt__merge_init(void)
{
    enc_out_cap = VT_STREAM_BLOCK_TARGET + 128 * 1024;
    uint8_t *mem = map_zeroed(VT_STREAM_ENC_MEM);
    enc_out = map_zeroed(enc_out_cap);
    stack_bits_words = (1u << 24) / 64;
    stack_bits = map_zeroed(stack_bits_words * 8);
    pmask = (1u << 12) - 1;
    pmap = map_zeroed((pmask + 1) * sizeof(*pmap));
    if (!mem || !enc_out || !stack_bits || !pmap)
        return VT_ENOMEM;
    vt_stream_enc_init(&enc, mem);
    clock_gettime(CLOCK_MONOTONIC, &last_block_time);
    return 0;
}

static int pmap_grow(void)
{
    size_t cap = (pmask + 1) * 2;
    struct pslot *n = map_zeroed(cap * sizeof(*n));
    if (!n)
        return VT_ENOMEM;
    for (size_t i = 0; i <= pmask; i++) {
        if (!pmap[i].ptr)
            continue;
        size_t j = vt_hash64(pmap[i].ptr) & (cap - 1);
        while (n[j].ptr)
            j = (j + 1) & (cap - 1);
        n[j] = pmap[i];
    }
    vt__unmap(pmap, (pmask + 1) * sizeof(*pmap));
    pmap = n;
    pmask = cap - 1;
    return 0;
}

/* Records ptr -> (ord, size) (h is vt_hash64(ptr)); returns 1 and the previous ordinal in *old
 * and size in *old_size if ptr was live. */
static int pmap_put(uint64_t ptr, uint64_t h, uint64_t ord, uint64_t size, uint64_t *old,
                    uint64_t *old_size)
{
    if ((pcount + 1) * 2 > pmask + 1 && pmap_grow() != 0)
        return -1;
    size_t i = h & pmask;
    for (; pmap[i].ptr; i = (i + 1) & pmask) {
        if (pmap[i].ptr == ptr) {
            *old = pmap[i].ord;
            *old_size = pmap[i].size;
            pmap[i].ord = ord;
            pmap[i].size = size;
            return 1;
        }
    }
    pmap[i].ptr = ptr;
    pmap[i].ord = ord;
    pmap[i].size = size;
    pcount++;
    return 0;
}

/* Removes ptr (h is vt_hash64(ptr)); returns 1 and its ordinal in *ord and size in *size, or
 * 0 if it was not live. */
static int pmap_take(uint64_t ptr, uint64_t h, uint64_t *ord, uint64_t *size)
{
    size_t i = h & pmask;
    for (; pmap[i].ptr != ptr; i = (i + 1) & pmask)
        if (!pmap[i].ptr)
            return 0;
    *ord = pmap[i].ord;
    *size = pmap[i].size;
    pcount--;
    for (size_t j = i;;) {
        j = (j + 1) & pmask;
        if (!pmap[j].ptr)
            break;
        size_t home = vt_hash64(pmap[j].ptr) & pmask;
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            pmap[i] = pmap[j];
            i = j;
        }
    }
    pmap[i].ptr = 0;
    return 1;
}

int vt__merge_flush_block(int compress)
{
    if (!enc.total)
        return 0;
    size_t n = vt_stream_enc_finish(&enc, enc_out, enc_out_cap);
    int err = n ? vt_trace_write_block(&vt__writer, VT_BLOCK_STREAM, block_base_q, block_base_ord,
                                       enc_out, n, compress)
                : VT_EINVAL;
    vt_stream_enc_reset(&enc);
    block_base_q = last_q;
    block_base_ord = ordinal;
    cur_thread = NULL;
    last_map_addr = 0;
    clock_gettime(CLOCK_MONOTONIC, &last_block_time);
    if (err)
        vt__disable("cannot write the trace", err);
    return err;
}

static int compress_blocks = 1;

/* Makes room for a record of need bytes, writing the block out when it is full. */
static int room(size_t need)
{
    if (vt_stream_room(&enc, need))
        return 0;
    return vt__merge_flush_block(compress_blocks);
}

static void put_time(uint64_t tsc)
{
    uint64_t q = tsc >> VT_TIME_SHIFT;
    if (q < last_q)
        q = last_q;
    vt_stream_put(&enc, VT_COL_TIME, q - last_q);
    last_q = q;
}

static void put_str(const char *s, size_t n)
{
    vt_stream_put_bytes(&enc, s, n);
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

/* The resident set size (/proc/self/stat through the collectors' parser), or 0. */
static uint64_t read_rss(void)
{
    struct vt_proc_sample s;
    return vt__self_stat(&s) ? 0 : s.rss;
}

/* Takes a sample now. mallinfo2() takes every arena's lock: never from a signal handler. */
static void take_sample(struct mem_sample *s)
{
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    struct mallinfo2 mi = mallinfo2();
    s->tsc = vt__now();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    s->v[0] = read_rss();
    s->v[1] = mi.arena;
    s->v[2] = mi.hblkhd;
    s->v[3] = mi.uordblks;
    s->v[4] = mi.fordblks;
    s->v[5] = mi.keepcost;
    s->cpu_ns = (uint64_t)((c1.tv_sec - c0.tv_sec) * 1000000000LL + (c1.tv_nsec - c0.tv_nsec));
}

static void put_sample(const struct mem_sample *s)
{
    if (room(96))
        return;
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_MEMINFO);
    put_time(s->tsc);
    for (int i = 0; i < 6; i++)
        vt_stream_put(&enc, VT_COL_MISC, s->v[i]);
}

void vt__emit_meminfo(void)
{
    struct mem_sample s;
    take_sample(&s);
    put_sample(&s);
}

void vt__emit_info(int forked, uint64_t start_tsc, uint64_t start_ns, uint64_t tsc_hz)
{
    static char cmdline[32768];
    const char *exe = vt__config.exe;
    size_t clen = read_small("/proc/self/cmdline", cmdline, sizeof(cmdline));
    if (room(sizeof(vt__config.exe) + clen * 2 + 256))
        return;
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    uint64_t now_ns = (uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec;
    uint64_t real_ns = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_INFO);
    vt_stream_put(&enc, VT_COL_MISC, (uint64_t)getpid());
    vt_stream_put(&enc, VT_COL_MISC, (uint64_t)getppid());
    vt_stream_put(&enc, VT_COL_MISC, tsc_hz);
    vt_stream_put(&enc, VT_COL_MISC, start_tsc);
    vt_stream_put(&enc, VT_COL_MISC, start_ns);
    vt_stream_put(&enc, VT_COL_MISC, real_ns - (now_ns - start_ns));
    vt_stream_put(&enc, VT_COL_MISC, (uint64_t)vt__config.depth);
    vt_stream_put(&enc, VT_COL_MISC,
                  (forked ? VT_INFO_FORKED : 0) | (vt__zones_only ? VT_INFO_ZONES_ONLY : 0));
    vt_stream_put(&enc, VT_COL_MISC, VT_TIME_SHIFT);
    put_str(exe, strlen(exe));
    size_t argc = 0;
    for (size_t i = 0; i < clen; i++)
        argc += cmdline[i] == 0;
    vt_stream_put(&enc, VT_COL_MISC, argc);
    for (size_t i = 0; i < clen;) {
        size_t l = strnlen(cmdline + i, clen - i);
        put_str(cmdline + i, l);
        i += l + 1;
    }
    if (last_q == 0)
        last_q = block_base_q = start_tsc >> VT_TIME_SHIFT;
    info_start_tsc = start_tsc;
    /* From version 1.4: zone figures come from the threads' ZONE_STATS (zone_agg.c). */
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_ZONE_AGG);
    put_time(start_tsc);
    vt_stream_put(&enc, VT_COL_MISC, (uint64_t)vt__config.zone_spans);
    for (int i = 1; i < VT_ZAGG_FIELDS; i++)
        vt_stream_put(&enc, VT_COL_MISC, 0);
}

void vt__emit_clock(void)
{
    if (room(32))
        return;
    struct timespec ts;
    uint64_t a = vt__now();
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t b = vt__now();
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_CLOCK);
    vt_stream_put(&enc, VT_COL_MISC, a + (b - a) / 2);
    vt_stream_put(&enc, VT_COL_MISC, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

void vt__emit_end(int reason, int status, uint64_t dropped, uint64_t tsc)
{
    if (room(64))
        return;
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_END);
    vt_stream_put(&enc, VT_COL_MISC, (uint64_t)reason);
    vt_stream_put(&enc, VT_COL_MISC, (uint64_t)status);
    vt_stream_put(&enc, VT_COL_MISC, dropped);
    vt_stream_put(&enc, VT_COL_MISC, tsc);
}

void vt__emit_exec(const char *path)
{
    size_t n = strnlen(path, 4096);
    if (room(n + 32))
        return;
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_EXEC);
    vt_stream_put(&enc, VT_COL_MISC, vt__now());
    put_str(path, n);
}

void vt__modules_dirty(void)
{
    atomic_store_explicit(&modules_dirty, 1, memory_order_release);
}

/* Held by the writer while it walks the loader's list, and by fork's prepare handler: a child
 * must not inherit the loader's lock from a thread that does not exist in it. */
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;

static void walk_modules(void)
{
    pthread_mutex_lock(&modules_lock);
    /* The map that follows is the one of this code generation. */
    if (room(32) == 0) {
        vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_MODMAP);
        vt_stream_put(&enc, VT_COL_MISC, vt__code_gen());
    }
    dl_iterate_phdr(module_cb, NULL);
    pthread_mutex_unlock(&modules_lock);
}

void vt__modules_lock(int take)
{
    if (take)
        pthread_mutex_lock(&modules_lock);
    else
        pthread_mutex_unlock(&modules_lock);
}

void vt__modules_lock_reset(void)
{
    pthread_mutex_init(&modules_lock, NULL);
}

void vt__modules_sync(void)
{
    if (!atomic_load_explicit(&modules_dirty, memory_order_acquire) || !vt__writer_running())
        return;
    uint32_t walks = atomic_load_explicit(&modules_walks, memory_order_acquire);
    vt__writer_wake();
    for (int i = 0;
         i < 4000 && atomic_load_explicit(&modules_walks, memory_order_acquire) == walks &&
         atomic_load_explicit(&vt__state, memory_order_relaxed) == VT_STATE_TRACING;
         i++) {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
}

void vt__emit_modules(void)
{
    atomic_store_explicit(&modules_dirty, 0, memory_order_release);
    walk_modules();
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    const char *path = info->dlpi_name;
    if (!path || !*path)
        path = vt__config.exe; /* the main program */
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
    size_t plen = strnlen(path, 4096);
    if (build_id_len > 64)
        build_id_len = 64;
    if (room(plen + build_id_len + 64))
        return 1;
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_MODULE);
    put_str(path, plen);
    vt_stream_put(&enc, VT_COL_MISC, info->dlpi_addr);
    vt_stream_put(&enc, VT_COL_MISC, lo);
    vt_stream_put(&enc, VT_COL_MISC, hi);
    vt_stream_put_bytes(&enc, build_id, build_id_len);
    return 0;
}

/* Defines stack id in the stream before its first use. */
static void ensure_stack(uint32_t id)
{
    if (id / 64 >= stack_bits_words || (stack_bits[id / 64] >> (id % 64) & 1))
        return;
    uint32_t depth, gen;
    const uint64_t *f = vt__stack_frames(id, &depth, &gen);
    if (depth == UINT32_MAX)
        depth = 0; /* cannot happen: a stack is ready before any row names it */
    if (room((size_t)depth * VT_VARINT_MAX + 32))
        return;
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_STACK);
    vt_stream_put(&enc, VT_COL_MISC, id);
    vt_stream_put(&enc, VT_COL_MISC, depth);
    vt_stream_put(&enc, VT_COL_MISC, gen);
    uint64_t prev = 0;
    for (uint32_t i = 0; i < depth; i++) {
        vt_stream_put(&enc, VT_COL_MISC, vt_zigzag((int64_t)(f[i] - prev)));
        prev = f[i];
    }
    stack_bits[id / 64] |= 1ull << (id % 64);
}

static int decode_lib_row(const uint8_t **pp, const uint8_t *end, struct vt_event *ev);
static void resolve_lib_ids(const struct vt_event *ev);
static uint32_t lib_ids[2]; /* the ids of the record being written (resolve_lib_ids) */
static void put_lib_record(const struct vt_event *ev);

/* Decodes the thread's next row into *ev; 0 when its handed-over buffers are used up. */
static int next_event_into(struct vt_thread *t, struct vt_event *ev)
{
    for (;;) {
        if (t->rp && t->rp < t->rend) {
            const uint8_t *p = t->rp, *end = t->rend;
            uint64_t dt, v;
            ev->tag = *p++;
            if (vt_varint_get(&p, end, &dt))
                goto bad;
            t->rtsc += dt;
            ev->tsc = t->rtsc;
            switch (ev->tag & 0xf0) {
            case VT_TAG_ALLOC:
            case VT_TAG_MMAP & 0xf0:
                if ((ev->tag & 0xf0) == (VT_TAG_MMAP & 0xf0) && ev->tag != VT_TAG_MMAP) {
                    /* MUNMAP: address, size */
                    if (vt_varint_get(&p, end, &v))
                        goto bad;
                    t->rptr += (uint64_t)vt_unzigzag(v);
                    ev->ptr = t->rptr;
                    if (vt_varint_get(&p, end, &ev->size))
                        goto bad;
                    break;
                }
                if (vt_varint_get(&p, end, &ev->size) || vt_varint_get(&p, end, &v))
                    goto bad;
                ev->stack = (uint32_t)v;
                if (vt_varint_get(&p, end, &v))
                    goto bad;
                t->rptr += (uint64_t)vt_unzigzag(v);
                ev->ptr = t->rptr;
                if (ev->tag != VT_TAG_MMAP && vt_varint_get(&p, end, &ev->waste))
                    goto bad;
                break;
            case VT_TAG_FREE:
                if (vt_varint_get(&p, end, &v))
                    goto bad;
                t->rptr += (uint64_t)vt_unzigzag(v);
                ev->ptr = t->rptr;
                break;
            case 0x80: /* libvitals' events */
                if (decode_lib_row(&p, end, ev))
                    goto bad;
                break;
            default: /* THREAD_START, THREAD_EXIT, STACK_USAGE, ZONE_COUNTERS */
                if (ev->tag == VT_TAG_STACK_USAGE &&
                    (vt_varint_get(&p, end, &ev->size) || vt_varint_get(&p, end, &ev->ptr)))
                    goto bad;
                if (ev->tag == VT_TAG_ZONE_COUNTERS) {
                    /* the fields' length, then the fields: emit() copies them from here */
                    if (vt_varint_get(&p, end, &ev->size) || ev->size > (uint64_t)(end - p))
                        goto bad;
                    ev->ptr = (uint64_t)(uintptr_t)p;
                    p += ev->size;
                }
                break;
            }
            t->rp = p;
            return 1;
        bad:
            t->rp = t->rend; /* cannot happen: the rows are our own */
            continue;
        }
        if (t->rp) {
            struct vt_buf *done = t->pend;
            t->pend = done->next;
            if (!t->pend)
                t->pend_tail = NULL;
            vt__buf_put(done);
            t->rp = t->rend = NULL;
        }
        if (!t->pend)
            return 0;
        t->rp = t->pend->data;
        t->rend = t->pend->data + t->pend->len;
        t->rtsc = t->pend->first_tsc;
        t->rptr = 0;
    }
}

static inline int next_event(struct vt_thread *t)
{
    return next_event_into(t, &t->ev);
}

static void append_pending(struct vt_buf *b)
{
    struct vt_thread *t = b->owner;
    b->next = NULL;
    if (t->pend_tail)
        t->pend_tail->next = b;
    else
        t->pend = b;
    t->pend_tail = b;
}

static void take_queue(void)
{
    struct vt_buf *b = vt__queue_take();
    while (b) {
        struct vt_buf *next = b->next;
        append_pending(b);
        b = next;
    }
}

static void put_stack_usage(uint32_t index, uint64_t size, uint64_t used)
{
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_STACK_USAGE);
    vt_stream_put(&enc, VT_COL_MISC, index);
    vt_stream_put(&enc, VT_COL_MISC, size);
    vt_stream_put(&enc, VT_COL_MISC, used);
}

void vt__emit_stack_usages(void)
{
    for (struct vt_thread *t = vt__threads(); t; t = t->next_all) {
        if (!t->exiting && t->announced)
            vt__stack_learn(t, 0);
        if (t->exiting || !t->announced || !t->stack_hi ||
            atomic_load_explicit(&t->retired, memory_order_relaxed) || room(48))
            continue;
        uint64_t used = vt__stack_used(t);
        if (used)
            put_stack_usage(t->index, t->stack_size, used);
        t->stack_hi = 0;
    }
}

static void emit(struct vt_thread *t, const struct vt_event *ev, uint64_t h)
{
    int kind = ev->tag & 0xf0;
    if (kind == VT_TAG_ALLOC || ev->tag == VT_TAG_MMAP)
        ensure_stack(ev->stack);
    if (kind == 0x80 || ev->tag == VT_TAG_ZONE_COUNTERS)
        resolve_lib_ids(ev);
    if (room(kind == 0x80 ? 320 : 128 + (ev->tag == VT_TAG_ZONE_COUNTERS ? ev->size : 0)))
        return;
    if (cur_thread != t) {
        if (!t->announced) {
            vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_THREAD_START);
            put_time(ev->tsc);
            t->index = n_announced++;
            t->announced = 1;
            vt_stream_put(&enc, VT_COL_MISC, t->tid);
            vt_stream_put(&enc, VT_COL_MISC, t->index);
        } else {
            vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_THREAD);
            vt_stream_put(&enc, VT_COL_THREAD, t->index);
        }
        cur_thread = t;
    }
    uint64_t old, old_size;
    switch (kind) {
    case VT_TAG_ALLOC: {
        int r = pmap_put(ev->ptr, h, ordinal, ev->size, &old, &old_size);
        live.alloc_calls++;
        live.alloc_bytes += ev->size;
        live.heap_bytes += ev->size;
        if (r == 1) {
            live.free_calls++;
            live.free_bytes += old_size;
            live.heap_bytes -= old_size;
            vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_FREE_IMPLIED);
            put_time(ev->tsc);
            vt_stream_put(&enc, VT_COL_ORDINAL, ordinal - old);
        }
        vt_stream_put_byte(&enc, VT_COL_TAG, ev->tag);
        put_time(ev->tsc);
        vt_stream_put(&enc, VT_COL_SIZE, ev->size);
        vt_stream_put(&enc, VT_COL_STACK, ev->stack);
        vt_stream_put(&enc, VT_COL_MISC, ev->waste);
        ordinal++;
        if (live.heap_bytes > live.heap_peak) {
            live.heap_peak = live.heap_bytes;
            live.heap_peak_tsc = ev->tsc;
        }
        if (r < 0)
            vt__disable("out of memory for the map of live blocks", VT_ENOMEM);
        break;
    }
    case VT_TAG_FREE:
        if (pmap_take(ev->ptr, h, &old, &old_size)) {
            live.free_calls++;
            live.free_bytes += old_size;
            live.heap_bytes -= old_size;
            vt_stream_put_byte(&enc, VT_COL_TAG, ev->tag);
            put_time(ev->tsc);
            vt_stream_put(&enc, VT_COL_ORDINAL, ordinal - old);
        } else {
            vt_stream_put_byte(&enc, VT_COL_TAG, (uint8_t)(VT_TAG_FREE_UNKNOWN | (ev->tag & 0xf)));
            put_time(ev->tsc);
        }
        break;
    case VT_TAG_MMAP & 0xf0:
        if (ev->tag == VT_TAG_MMAP) {
            vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_MMAP);
            put_time(ev->tsc);
            vt_stream_put(&enc, VT_COL_SIZE, ev->size);
            vt_stream_put(&enc, VT_COL_STACK, ev->stack);
        } else {
            vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_MUNMAP);
            put_time(ev->tsc);
            vt_stream_put(&enc, VT_COL_SIZE, ev->size);
        }
        vt_stream_put(&enc, VT_COL_MISC, vt_zigzag((int64_t)(ev->ptr - last_map_addr)));
        last_map_addr = ev->ptr;
        break;
    case 0x80:
        put_lib_record(ev);
        break;
    default:
        if (ev->tag == VT_TAG_THREAD_EXIT) {
            vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_THREAD_EXIT);
            put_time(ev->tsc);
        } else if (ev->tag == VT_TAG_STACK_USAGE) {
            put_stack_usage(t->index, ev->size, ev->ptr);
        } else if (ev->tag == VT_TAG_ZONE_COUNTERS) {
            const uint8_t *f = (const uint8_t *)(uintptr_t)ev->ptr, *f_end = f + ev->size;
            uint64_t v;
            /* The zone's call site comes first: resolve_lib_ids made it a LOCATION id. */
            if (vt_varint_get(&f, f_end, &v))
                break;
            vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_ZONE_COUNTERS);
            put_time(ev->tsc);
            vt_stream_put(&enc, VT_COL_MISC, lib_ids[0]);
            while (f < f_end && !vt_varint_get(&f, f_end, &v))
                vt_stream_put(&enc, VT_COL_MISC, v);
        }
        /* THREAD_START rows are implied by the thread's announcement above. */
        break;
    }
}

static void heap_down(struct vt_thread **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i;
        if (l < n && h[l]->ev.tsc < h[s]->ev.tsc)
            s = l;
        if (r < n && h[r]->ev.tsc < h[s]->ev.tsc)
            s = r;
        if (s == i)
            return;
        struct vt_thread *x = h[i];
        h[i] = h[s];
        h[s] = x;
        i = s;
    }
}

/* Writes, in time order, every pending row older than watermark. */
static long merge(uint64_t watermark)
{
    static struct vt_thread **heap;
    static size_t heap_cap;
    size_t n = 0;
    long written = 0;
    for (struct vt_thread *t = vt__threads(); t; t = t->next_all) {
        if (!t->has_ev)
            t->has_ev = next_event(t);
        if (!t->has_ev)
            continue;
        if (n == heap_cap) {
            size_t cap = heap_cap ? heap_cap * 2 : 1024;
            struct vt_thread **nh = map_zeroed(cap * sizeof(*nh));
            if (!nh)
                return VT_ENOMEM;
            if (heap) {
                memcpy(nh, heap, n * sizeof(*nh));
                vt__unmap(heap, heap_cap * sizeof(*heap));
            }
            heap = nh;
            heap_cap = cap;
        }
        heap[n++] = t;
    }
    for (size_t i = n / 2; i-- > 0;)
        heap_down(heap, n, i);
    while (n && heap[0]->ev.tsc < watermark) {
        struct vt_thread *t = heap[0];
        /* Run this thread's rows up to the next thread's first pending one. */
        uint64_t limit = watermark;
        if (n > 1 && heap[1]->ev.tsc < limit)
            limit = heap[1]->ev.tsc + 1;
        if (n > 2 && heap[2]->ev.tsc < limit)
            limit = heap[2]->ev.tsc + 1;
        /* Decode a batch first and prefetch the map slots it will touch: the map is cold
         * by the time the writer comes back to it. */
        for (;;) {
            struct vt_event batch[32];
            uint64_t hash[32];
            int nb = 1;
            batch[0] = t->ev;
            for (;;) {
                if (nb == 32) {
                    t->has_ev = next_event(t);
                    break;
                }
                if (!next_event_into(t, &batch[nb])) {
                    t->has_ev = 0;
                    break;
                }
                if (batch[nb].tsc >= limit) {
                    t->ev = batch[nb];
                    t->has_ev = 1;
                    break;
                }
                nb++;
            }
            for (int i = 0; i < nb; i++) {
                int kind = batch[i].tag & 0xf0;
                if (kind == VT_TAG_ALLOC || kind == VT_TAG_FREE) {
                    hash[i] = vt_hash64(batch[i].ptr);
                    __builtin_prefetch(&pmap[hash[i] & pmask]);
                }
            }
            for (int i = 0; i < nb; i++)
                emit(t, &batch[i], hash[i]);
            written += nb;
            if (!t->has_ev || t->ev.tsc >= limit)
                break;
        }
        if (!t->has_ev)
            heap[0] = heap[--n];
        heap_down(heap, n, 0);
    }
    return written;
}

/* Takes the buffers of threads that did not answer the last epoch: they are idle (or blocked
 * outside the hooks), and only the writer can move their cover on. */
static void steal_idle(uint64_t before)
{
    int any = 0;
    uint64_t now = vt__now();
    for (struct vt_thread *t = vt__threads(); t; t = t->next_all) {
        if (atomic_load_explicit(&t->retired, memory_order_relaxed) ||
            atomic_load_explicit(&t->cover, memory_order_acquire) >= before)
            continue;
        atomic_store_explicit(&t->steal, 1, memory_order_relaxed);
        any = 1;
    }
    if (!any)
        return;
    vt__barrier();
    for (struct vt_thread *t = vt__threads(); t; t = t->next_all) {
        if (!atomic_load_explicit(&t->steal, memory_order_relaxed))
            continue;
        if (!atomic_load_explicit(&t->in_hook, memory_order_relaxed)) {
            struct vt_buf *b = t->buf;
            t->buf = NULL;
            if (b && b->len)
                append_pending(b);
            else if (b)
                vt__buf_put(b);
            atomic_store_explicit(&t->cover, now, memory_order_relaxed);
            /* A thread whose key destructor ran and that stays idle has ended. */
            if (t->exiting && ++t->idle_rounds > 100 && !t->pend && !t->has_ev)
                atomic_store_explicit(&t->retired, 1, memory_order_relaxed);
        }
        atomic_store_explicit(&t->steal, 0, memory_order_release);
    }
}

long vt__merge_round(int final, int compress)
{
    compress_blocks = compress;
    if (!final && !sample_pending && !vt__config.no_alloc) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ms = (ts.tv_sec - last_sample_time.tv_sec) * 1000 +
                     (ts.tv_nsec - last_sample_time.tv_nsec) / 1000000;
        if (ms >= sample_interval_ms) {
            take_sample(&pending_sample);
            collect_lib_stats();
            sample_pending = 1;
            last_sample_time = ts;
            int64_t took_ms = (int64_t)(pending_sample.cpu_ns / 1000000);
            sample_interval_ms = took_ms * 100 > VT_SAMPLE_MS ? took_ms * 100 : VT_SAMPLE_MS;
        }
    }
    uint64_t target = vt__now();
    if (final) {
        /* The threads are stopped: take everything they hold, after what they handed over. */
        take_queue();
        for (struct vt_thread *t = vt__threads(); t; t = t->next_all) {
            if (t->buf && t->buf->len)
                append_pending(t->buf);
            else if (t->buf)
                vt__buf_put(t->buf);
            t->buf = NULL;
        }
    } else {
        atomic_fetch_add_explicit(&vt__epoch, 1, memory_order_relaxed);
        steal_idle(prev_target);
    }
    uint64_t watermark = UINT64_MAX;
    if (!final) {
        /* A thread that registers after this moment records nothing older than it. */
        watermark = vt__now();
        for (struct vt_thread *t = vt__threads(); t; t = t->next_all) {
            if (atomic_load_explicit(&t->retired, memory_order_relaxed))
                continue;
            uint64_t c = atomic_load_explicit(&t->cover, memory_order_acquire);
            if (c < watermark)
                watermark = c;
        }
    }
    if (!final)
        take_queue();
    /* Rows taken above may name stacks from a library loaded since the last round. */
    if (compress && atomic_exchange_explicit(&modules_dirty, 0, memory_order_acq_rel)) {
        walk_modules();
        atomic_fetch_add_explicit(&modules_walks, 1, memory_order_release);
    }
    vt__zc_round(); /* the zone counters' events, before the rows that name them */
    /* CPU samples older than the watermark, each after the events older than it. */
    long cpu = vt__sampler_round(watermark, final, final && !compress);
    long n;
    if (sample_pending && pending_sample.tsc <= watermark) {
        /* The events before the sample, the sample, then the rest. */
        n = merge(pending_sample.tsc);
        put_sample(&pending_sample);
        put_lib_stats(pending_sample.tsc);
        sample_pending = 0;
        if (n >= 0) {
            long more = merge(watermark);
            n = more < 0 ? more : n + more;
        }
    } else {
        n = merge(watermark);
    }
    if (n >= 0 && cpu > 0)
        n += cpu;
    prev_target = target;
    if (n > 0)
        vt__emit_clock();
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* Write at least once a second, so that a killed program loses little. */
    if (final || now.tv_sec > last_block_time.tv_sec + 1)
        vt__merge_flush_block(compress);
    if (!final) {
        live.live_blocks = pcount;
        vt__live_publish(&live, info_start_tsc,
                         (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
    }
    return n;
}

void vt__merge_after_fork(void)
{
    /* The child's trace starts afresh: no stacks defined, no live blocks known. */
    memset(stack_bits, 0, stack_bits_words * 8);
    vt__unmap(pmap, (pmask + 1) * sizeof(*pmap));
    pmask = (1u << 12) - 1;
    pmap = map_zeroed((pmask + 1) * sizeof(*pmap));
    pcount = 0;
    memset(&live, 0, sizeof(live));
    vt_stream_enc_reset(&enc);
    ordinal = block_base_ord = 0;
    last_q = block_base_q = 0;
    cur_thread = NULL;
    n_announced = 0;
    last_map_addr = 0;
    prev_target = 0;
    sample_pending = 0;
    sample_interval_ms = VT_SAMPLE_MS;
    atomic_store(&modules_dirty, 1);
    lib_after_fork();
}

size_t vt__merge_live(void (*fn)(uint64_t ptr, uint64_t ord, uint64_t size, void *arg), void *arg)
{
    for (size_t i = 0; fn && i <= pmask; i++)
        if (pmap[i].ptr)
            fn(pmap[i].ptr, pmap[i].ord, pmap[i].size, arg);
    return pcount;
}

void vt__emit_scan(const uint64_t *fields, size_t n)
{
    if (room(16 + n * 10))
        return;
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_SCAN);
    for (size_t i = 0; i < n; i++)
        vt_stream_put(&enc, VT_COL_MISC, fields[i]);
}

void vt__emit_leak(uint64_t ord_delta, int cls)
{
    if (room(32))
        return;
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_LEAK);
    vt_stream_put(&enc, VT_COL_ORDINAL, ord_delta);
    vt_stream_put(&enc, VT_COL_MISC, (uint64_t)cls);
}

long vt__merge_until(uint64_t tsc)
{
    return merge(tsc);
}

void vt__merge_put_cpu(const struct vt_cpu_rec *r)
{
    if (r->stack)
        ensure_stack(r->stack);
    if (room(64 + r->n * VT_VARINT_MAX + r->str_len))
        return;
    vt_stream_put_byte(&enc, VT_COL_TAG, r->tag);
    if (r->timed)
        put_time(r->tsc);
    if (r->tag == VT_TAG_CPU_SAMPLE) {
        live.cpu_samples++;
        vt_stream_put(&enc, VT_COL_STACK, r->stack);
        vt_stream_put(&enc, VT_COL_THREAD, r->tid);
    }
    for (size_t i = 0; i < r->n; i++)
        vt_stream_put(&enc, VT_COL_MISC, r->v[i]);
    if (r->str)
        put_str(r->str, r->str_len);
}

/* libvitals' events: the rows of thread.c become ZONE_*, COUNTER, GAUGE, FRAME and TASK_*
 * records, and the program's names (addresses of its static strings and source locations)
 * become LOCATION ids, each defined once in the stream. */
struct lslot {
    uint64_t key; /* the address; 0: empty */
    uint32_t kind, id;
};
static struct lslot *lmap;
static size_t lmask, lcount;
static uint32_t next_loc_id = 1;
#define VT_LOC_DEAD 0x80 /* a slot of a pool or cache that was freed */

static int lmap_grow(void)
{
    size_t cap = lmap ? (lmask + 1) * 2 : 1024;
    struct lslot *n = map_zeroed(cap * sizeof(*n));
    if (!n)
        return VT_ENOMEM;
    for (size_t i = 0; lmap && i <= lmask; i++) {
        if (!lmap[i].key)
            continue;
        size_t j = vt_hash64(lmap[i].key ^ lmap[i].kind) & (cap - 1);
        while (n[j].key)
            j = (j + 1) & (cap - 1);
        n[j] = lmap[i];
    }
    if (lmap)
        vt__unmap(lmap, (lmask + 1) * sizeof(*lmap));
    lmap = n;
    lmask = cap - 1;
    return 0;
}

static void put_cstr(const char *s)
{
    put_str(s ? s : "", s ? strnlen(s, 1024) : 0);
}

/* The id of (address, kind), defining it in the stream at its first use; name is what a
 * pool or cache is called (other names are read at the address). 0 when out of memory. */
static uint32_t location_id(const void *addr, uint32_t kind, const char *name)
{
    uint64_t key = (uint64_t)(uintptr_t)addr;
    if (!key)
        return 0;
    if ((!lmap || (lcount + 1) * 2 > lmask + 1) && lmap_grow() != 0)
        return 0;
    size_t i = vt_hash64(key ^ kind) & lmask;
    for (; lmap[i].key; i = (i + 1) & lmask)
        if (lmap[i].key == key && lmap[i].kind == kind)
            return lmap[i].id;
    if (room(3200))
        return 0;
    lmap[i].key = key;
    lmap[i].kind = kind;
    lmap[i].id = next_loc_id++;
    lcount++;
    vt_stream_put_byte(&enc, VT_COL_TAG, VT_TAG_LOCATION);
    vt_stream_put(&enc, VT_COL_MISC, lmap[i].id);
    vt_stream_put(&enc, VT_COL_MISC, kind);
    if (kind == VT_LOC_ZONE) {
        const struct vt_source_location *loc = addr;
        put_cstr(loc->name);
        put_cstr(loc->function);
        put_cstr(loc->file);
        vt_stream_put(&enc, VT_COL_MISC, loc->line);
    } else {
        put_cstr(name ? name : addr);
        put_cstr(NULL);
        put_cstr(NULL);
        vt_stream_put(&enc, VT_COL_MISC, 0);
    }
    return lmap[i].id;
}

/* Forgets a pool or cache that was freed: another may be made at its address. */
static void location_forget(const void *addr, uint32_t kind)
{
    uint64_t key = (uint64_t)(uintptr_t)addr;
    for (size_t i = vt_hash64(key ^ kind) & lmask; lmap && lmap[i].key; i = (i + 1) & lmask)
        if (lmap[i].key == key && lmap[i].kind == kind)
            lmap[i].kind |= VT_LOC_DEAD;
}

static int get_raw_ptr(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    if (end - *pp < 8)
        return -1;
    memcpy(v, *pp, 8);
    *pp += 8;
    return 0;
}

static int decode_lib_row(const uint8_t **pp, const uint8_t *end, struct vt_event *ev)
{
    const uint8_t *p = *pp;
    switch (ev->tag) {
    case VT_TAG_ZONE_BEGIN:
    case VT_TAG_FRAME:
        if (get_raw_ptr(&p, end, &ev->ptr))
            return -1;
        break;
    case VT_TAG_ZONE_END:
        if (vt_varint_get(&p, end, &ev->size) || p >= end)
            return -1;
        ev->waste = *p++;
        break;
    case VT_TAG_COUNTER:
    case VT_TAG_GAUGE:
        if (get_raw_ptr(&p, end, &ev->ptr) || vt_varint_get(&p, end, &ev->size))
            return -1;
        break;
    case VT_TAG_TASK_BEGIN:
    case VT_TAG_TASK_END:
        if (ev->tag == VT_TAG_TASK_BEGIN &&
            (get_raw_ptr(&p, end, &ev->ptr) || get_raw_ptr(&p, end, &ev->waste)))
            return -1;
        for (int i = 0; i < VT_TASK_FIELDS; i++)
            if (vt_varint_get(&p, end, &ev->aux[i]))
                return -1;
        break;
    case VT_TAG_ZONE_STATS: /* zone_agg.c: the site, then VT_ZSTATS_FIELDS values */
    case VT_TAG_ZONE_HIST:  /* n, then n pairs */
    case VT_TAG_ZONE_AGG:   /* VT_ZAGG_FIELDS values */
        if (ev->tag == VT_TAG_ZONE_STATS && get_raw_ptr(&p, end, &ev->ptr))
            return -1;
        ev->size = ev->tag == VT_TAG_ZONE_STATS ? VT_ZSTATS_FIELDS : VT_ZAGG_FIELDS;
        if (ev->tag == VT_TAG_ZONE_HIST) {
            if (vt_varint_get(&p, end, &ev->size) || ev->size > VT_TASK_FIELDS / 2)
                return -1;
            ev->size *= 2;
        }
        for (uint64_t i = 0; i < ev->size; i++)
            if (vt_varint_get(&p, end, &ev->aux[i]))
                return -1;
        break;
    default:
        return -1;
    }
    *pp = p;
    return 0;
}

static void resolve_lib_ids(const struct vt_event *ev)
{
    const void *a = (const void *)(uintptr_t)ev->ptr;
    lib_ids[0] = lib_ids[1] = 0;
    switch (ev->tag) {
    case VT_TAG_ZONE_BEGIN:
    case VT_TAG_ZONE_STATS:
        lib_ids[0] = location_id(a, VT_LOC_ZONE, NULL);
        break;
    case VT_TAG_COUNTER:
        lib_ids[0] = location_id(a, VT_LOC_COUNTER, NULL);
        break;
    case VT_TAG_GAUGE:
        lib_ids[0] = location_id(a, VT_LOC_GAUGE, NULL);
        break;
    case VT_TAG_FRAME:
        lib_ids[0] = location_id(a, VT_LOC_FRAME, NULL);
        break;
    case VT_TAG_TASK_BEGIN:
        lib_ids[0] = location_id(a, VT_LOC_TASK, NULL);
        lib_ids[1] = location_id((const void *)(uintptr_t)ev->waste, VT_LOC_TASK_KIND, NULL);
        break;
    case VT_TAG_ZONE_COUNTERS: { /* its fields start with the zone's call site */
        const uint8_t *f = a, *f_end = f + ev->size;
        uint64_t site;
        if (!vt_varint_get(&f, f_end, &site) && site)
            lib_ids[0] = location_id((const void *)(uintptr_t)site, VT_LOC_ZONE, NULL);
        break;
    }
    }
}

static void put_lib_record(const struct vt_event *ev)
{
    vt_stream_put_byte(&enc, VT_COL_TAG, ev->tag);
    put_time(ev->tsc);
    switch (ev->tag) {
    case VT_TAG_ZONE_BEGIN:
    case VT_TAG_FRAME:
        vt_stream_put(&enc, VT_COL_MISC, lib_ids[0]);
        break;
    case VT_TAG_ZONE_END:
        vt_stream_put(&enc, VT_COL_MISC, ev->size);
        vt_stream_put(&enc, VT_COL_MISC, ev->waste);
        break;
    case VT_TAG_COUNTER:
    case VT_TAG_GAUGE:
        vt_stream_put(&enc, VT_COL_MISC, lib_ids[0]);
        vt_stream_put(&enc, VT_COL_MISC, ev->size);
        break;
    case VT_TAG_TASK_BEGIN:
    case VT_TAG_TASK_END:
        if (ev->tag == VT_TAG_TASK_BEGIN) {
            vt_stream_put(&enc, VT_COL_MISC, lib_ids[0]);
            vt_stream_put(&enc, VT_COL_MISC, lib_ids[1]);
        }
        for (int i = 0; i < VT_TASK_FIELDS; i++)
            vt_stream_put(&enc, VT_COL_MISC, ev->aux[i]);
        break;
    case VT_TAG_ZONE_STATS:
    case VT_TAG_ZONE_HIST:
    case VT_TAG_ZONE_AGG:
        if (ev->tag == VT_TAG_ZONE_STATS)
            vt_stream_put(&enc, VT_COL_MISC, lib_ids[0]);
        if (ev->tag == VT_TAG_ZONE_HIST)
            vt_stream_put(&enc, VT_COL_MISC, ev->size / 2);
        for (uint64_t i = 0; i < ev->size; i++)
            vt_stream_put(&enc, VT_COL_MISC, ev->aux[i]);
        break;
    }
}

/* Figures of pools and caches waiting for their place in the stream (after a memory sample,
 * so that the stream stays in time order). */
struct lib_stats {
    const void *id;
    int cache, final;
    char name[128];
    uint64_t v[VT_CACHE_FIELDS];
};
#define VT_LIB_STATS_MAX 256
static struct lib_stats lib_pending[VT_LIB_STATS_MAX];
static size_t n_lib_pending;

static struct lib_stats *lib_slot(const void *id, const char *name, int cache, int final)
{
    if (n_lib_pending == VT_LIB_STATS_MAX)
        return NULL;
    struct lib_stats *s = &lib_pending[n_lib_pending++];
    memset(s, 0, sizeof(*s));
    s->id = id;
    s->cache = cache;
    s->final = final;
    size_t n = name ? strnlen(name, sizeof(s->name) - 1) : 0;
    memcpy(s->name, name ? name : "", n);
    return s;
}

static uint64_t ps_of(double ns)
{
    return ns > 0 && ns < 1e9 ? (uint64_t)(ns * 1000.0 + 0.5) : 0;
}

static void fill_pool(struct lib_stats *s, const struct vt_pool_stats *p)
{
    s->v[VT_POOL_OBJECT_SIZE] = p->object_size;
    s->v[VT_POOL_MAX] = p->max;
    s->v[VT_POOL_CREATED] = p->created;
    s->v[VT_POOL_IN_USE] = p->in_use;
    s->v[VT_POOL_HIGH_WATER] = p->high_water;
    s->v[VT_POOL_ACQUIRES] = p->acquires;
    s->v[VT_POOL_SERVED_POOL] = p->served_pool;
    s->v[VT_POOL_SERVED_MALLOC] = p->served_malloc;
    s->v[VT_POOL_REUSED] = p->reused;
    s->v[VT_POOL_RELEASES] = p->releases;
}

static void fill_cache(struct lib_stats *s, const struct vt_cache_stats *c)
{
    s->v[VT_CACHE_GETS] = c->gets;
    s->v[VT_CACHE_HITS] = c->hits;
    s->v[VT_CACHE_HITS_COMPRESSED] = c->hits_compressed;
    s->v[VT_CACHE_MISSES] = c->misses;
    s->v[VT_CACHE_PUTS] = c->puts;
    s->v[VT_CACHE_EVICTIONS] = c->evictions;
    s->v[VT_CACHE_DEMOTIONS] = c->demotions;
    s->v[VT_CACHE_EXPIRATIONS] = c->expirations;
    s->v[VT_CACHE_ENTRIES] = c->entries;
    s->v[VT_CACHE_ENTRIES_COMPRESSED] = c->entries_compressed;
    s->v[VT_CACHE_BYTES] = c->bytes;
    s->v[VT_CACHE_BYTES_COMPRESSED] = c->bytes_compressed;
    s->v[VT_CACHE_RAW_BYTES_COMPRESSED] = c->raw_bytes_compressed;
    s->v[VT_CACHE_TIMED_GETS] = c->timed_gets;
    s->v[VT_CACHE_LOOKUP_AVG_PS] = ps_of(c->lookup_avg_ns);
    s->v[VT_CACHE_LOOKUP_P99_PS] = ps_of(c->lookup_p99_ns);
}

static void take_final(const void *id, const struct vt_pool_stats *pool,
                       const struct vt_cache_stats *cache)
{
    struct lib_stats *s = lib_slot(id, pool ? pool->name : cache->name, !pool, 1);
    if (s && pool)
        fill_pool(s, pool);
    else if (s)
        fill_cache(s, cache);
}

static void sink_pool(struct vt_lib_stats_sink *sink, const void *id, const struct vt_pool_stats *p)
{
    (void)sink;
    struct lib_stats *s = lib_slot(id, p->name, 0, 0);
    if (s)
        fill_pool(s, p);
}

static void sink_cache(struct vt_lib_stats_sink *sink, const void *id,
                       const struct vt_cache_stats *c)
{
    (void)sink;
    struct lib_stats *s = lib_slot(id, c->name, 1, 0);
    if (s)
        fill_cache(s, c);
}

static void collect_lib_stats(void)
{
    struct vt_lib_stats_sink sink = {sink_pool, sink_cache};
    n_lib_pending = 0;
    vt__lib_stats_take_final(take_final);
    vt__lib_stats_collect(&sink);
}

static void put_lib_stats(uint64_t tsc)
{
    for (size_t i = 0; i < n_lib_pending; i++) {
        const struct lib_stats *s = &lib_pending[i];
        uint32_t kind = s->cache ? VT_LOC_CACHE : VT_LOC_POOL;
        int gone = 0; /* freed meanwhile: its final figures come first in the batch */
        for (size_t j = 0; j < i && !s->final; j++)
            gone |= lib_pending[j].final && lib_pending[j].id == s->id;
        if (gone)
            continue;
        uint32_t id = location_id(s->id, kind, s->name);
        if (!id || room(64 + VT_CACHE_FIELDS * VT_VARINT_MAX))
            continue;
        vt_stream_put_byte(&enc, VT_COL_TAG, s->cache ? VT_TAG_CACHE_STATS : VT_TAG_POOL_STATS);
        put_time(tsc);
        vt_stream_put(&enc, VT_COL_MISC, id);
        vt_stream_put(&enc, VT_COL_MISC, s->final ? VT_STATS_FINAL : 0);
        int n = s->cache ? VT_CACHE_FIELDS : VT_POOL_FIELDS;
        for (int f = 0; f < n; f++)
            vt_stream_put(&enc, VT_COL_MISC, s->v[f]);
        if (s->final)
            location_forget(s->id, kind);
    }
    n_lib_pending = 0;
}

void vt__emit_lib_stats(void)
{
    collect_lib_stats();
    put_lib_stats(vt__now());
}

static void lib_after_fork(void)
{
    if (lmap)
        memset(lmap, 0, (lmask + 1) * sizeof(*lmap));
    lcount = 0;
    next_loc_id = 1;
    n_lib_pending = 0;
}

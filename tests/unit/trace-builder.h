/* A trace builder for unit tests: writes .vtr files record by record with the real writer and
 * the stream encoder, the way the agent's writer does (src/agent/merge.c), so that a test
 * knows by construction what the trace holds.
 *
 * Times are given in TSC ticks and written as deltas in quanta of 2^time_shift ticks; each
 * block starts from its base time and base ordinal, with no current thread and a mapping
 * address of 0. Threads are named by the index tb_thread_start() returns; an event on another
 * thread than the current one is preceded by a THREAD record, as merge.c does. */
#ifndef VT_TESTS_TRACE_BUILDER_H
#define VT_TESTS_TRACE_BUILDER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace/format.h"
#include "trace/stream.h"
#include "trace/writer.h"
#include "util/varint.h"

#define TB_MAX_BLOCKS 4096

typedef struct tb {
    vt_trace_writer w;
    vt_stream_enc e;
    uint8_t *mem, *out;
    size_t out_cap;
    int compress;
    int shift;
    uint64_t base_q, last_q;   /* time in quanta: the block's base and the last record's */
    uint64_t base_ord, ord;    /* allocation ordinals: the block's base and the next one */
    uint64_t last_map;         /* the previous mapping record's address */
    int cur_thread, n_threads; /* -1: none yet in this block */
    /* where the blocks went */
    size_t n_blocks;
    uint64_t block_off[TB_MAX_BLOCKS];
    uint64_t end_off;
} tb;

/* Creates path (which must not exist); compress selects zstd blocks. */
static inline void tb_open(tb *b, const char *path, int compress)
{
    memset(b, 0, sizeof(*b));
    assert_int_equal(vt_trace_writer_open(&b->w, path), 0);
    if (compress)
        assert_int_equal(vt_trace_writer_enable_zstd(&b->w, 3), 0);
    b->compress = compress;
    b->mem = malloc(VT_STREAM_ENC_MEM);
    b->out_cap = VT_STREAM_BLOCK_TARGET + 128 * 1024;
    b->out = malloc(b->out_cap);
    assert_non_null(b->mem);
    assert_non_null(b->out);
    vt_stream_enc_init(&b->e, b->mem);
    b->cur_thread = -1;
    b->end_off = VT_TRACE_HEADER_SIZE;
}

/* Writes the records so far as one block. */
static inline void tb_flush(tb *b)
{
    if (!b->e.total)
        return;
    size_t n = vt_stream_enc_finish(&b->e, b->out, b->out_cap);
    assert_true(n > 0);
    assert_true(b->n_blocks < TB_MAX_BLOCKS);
    b->block_off[b->n_blocks++] = atomic_load(&b->w.offset);
    assert_int_equal(vt_trace_write_block(&b->w, VT_BLOCK_STREAM, b->base_q, b->base_ord, b->out, n,
                                          b->compress),
                     0);
    b->end_off = atomic_load(&b->w.offset);
    vt_stream_enc_reset(&b->e);
    b->base_q = b->last_q;
    b->base_ord = b->ord;
    b->cur_thread = -1;
    b->last_map = 0;
}

/* Flushes the block first when a record of need bytes would not fit (merge.c's room()). */
static inline void tb_room(tb *b, size_t need)
{
    if (!vt_stream_room(&b->e, need))
        tb_flush(b);
}

static inline void tb_close(tb *b)
{
    tb_flush(b);
    vt_trace_writer_close(&b->w);
    free(b->mem);
    free(b->out);
    b->mem = b->out = NULL;
}

static inline void tb_time(tb *b, uint64_t tsc)
{
    uint64_t q = tsc >> b->shift;
    if (q < b->last_q)
        q = b->last_q;
    vt_stream_put(&b->e, VT_COL_TIME, q - b->last_q);
    b->last_q = q;
}

static inline void tb_str(tb *b, const char *s)
{
    vt_stream_put_bytes(&b->e, s, strlen(s));
}

typedef struct tb_info_args {
    uint64_t pid, ppid, tsc_hz, start_tsc, start_ns, start_realtime_ns, depth, flags;
    int time_shift;
    const char *exe;
    const char *const *argv; /* NULL-terminated, may be NULL */
} tb_info_args;

static inline void tb_info(tb *b, const tb_info_args *a)
{
    tb_room(b, 4096);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_INFO);
    vt_stream_put(&b->e, VT_COL_MISC, a->pid);
    vt_stream_put(&b->e, VT_COL_MISC, a->ppid);
    vt_stream_put(&b->e, VT_COL_MISC, a->tsc_hz);
    vt_stream_put(&b->e, VT_COL_MISC, a->start_tsc);
    vt_stream_put(&b->e, VT_COL_MISC, a->start_ns);
    vt_stream_put(&b->e, VT_COL_MISC, a->start_realtime_ns);
    vt_stream_put(&b->e, VT_COL_MISC, a->depth);
    vt_stream_put(&b->e, VT_COL_MISC, a->flags);
    vt_stream_put(&b->e, VT_COL_MISC, (uint64_t)a->time_shift);
    tb_str(b, a->exe ? a->exe : "");
    size_t argc = 0;
    while (a->argv && a->argv[argc])
        argc++;
    vt_stream_put(&b->e, VT_COL_MISC, argc);
    for (size_t i = 0; i < argc; i++)
        tb_str(b, a->argv[i]);
    b->shift = a->time_shift;
    if (b->last_q == 0)
        b->last_q = b->base_q = a->start_tsc >> a->time_shift;
}

static inline void tb_module(tb *b, const char *path, uint64_t bias, uint64_t start, uint64_t end,
                             const uint8_t *build_id, size_t build_id_len)
{
    tb_room(b, strlen(path) + build_id_len + 64);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_MODULE);
    tb_str(b, path);
    vt_stream_put(&b->e, VT_COL_MISC, bias);
    vt_stream_put(&b->e, VT_COL_MISC, start);
    vt_stream_put(&b->e, VT_COL_MISC, end);
    vt_stream_put_bytes(&b->e, build_id, build_id_len);
}

/* Defines stack id with depth frames, innermost first. */
static inline void tb_stack(tb *b, uint32_t id, const uint64_t *frames, uint32_t depth)
{
    tb_room(b, (size_t)depth * VT_VARINT_MAX + 32);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_STACK);
    vt_stream_put(&b->e, VT_COL_MISC, id);
    vt_stream_put(&b->e, VT_COL_MISC, depth);
    vt_stream_put(&b->e, VT_COL_MISC, 1); /* code generation (format 1.1) */
    uint64_t prev = 0;
    for (uint32_t i = 0; i < depth; i++) {
        vt_stream_put(&b->e, VT_COL_MISC, vt_zigzag((int64_t)(frames[i] - prev)));
        prev = frames[i];
    }
}

static inline void tb_clock(tb *b, uint64_t tsc, uint64_t ns)
{
    tb_room(b, 32);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_CLOCK);
    vt_stream_put(&b->e, VT_COL_MISC, tsc);
    vt_stream_put(&b->e, VT_COL_MISC, ns);
}

static inline void tb_end(tb *b, int reason, int status, uint64_t dropped, uint64_t tsc)
{
    tb_room(b, 64);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_END);
    vt_stream_put(&b->e, VT_COL_MISC, (uint64_t)reason);
    vt_stream_put(&b->e, VT_COL_MISC, (uint64_t)status);
    vt_stream_put(&b->e, VT_COL_MISC, dropped);
    vt_stream_put(&b->e, VT_COL_MISC, tsc);
}

static inline void tb_stopped(tb *b, const char *msg)
{
    tb_room(b, strlen(msg) + 16);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_STOPPED);
    tb_str(b, msg);
}

static inline void tb_exec(tb *b, uint64_t tsc, const char *path)
{
    tb_room(b, strlen(path) + 32);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_EXEC);
    vt_stream_put(&b->e, VT_COL_MISC, tsc);
    tb_str(b, path);
}

/* Makes thread th current for the next record, as merge.c's emit() does. */
static inline void tb_switch(tb *b, int th)
{
    tb_room(b, 96);
    if (th < 0 || th == b->cur_thread)
        return;
    assert_true(th < b->n_threads);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_THREAD);
    vt_stream_put(&b->e, VT_COL_THREAD, (uint64_t)th);
    b->cur_thread = th;
}

/* Announces a thread; returns its index, and it becomes the current one. */
static inline int tb_thread_start(tb *b, uint64_t tsc, uint64_t tid)
{
    tb_room(b, 96);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_THREAD_START);
    tb_time(b, tsc);
    vt_stream_put(&b->e, VT_COL_MISC, tid);
    vt_stream_put(&b->e, VT_COL_MISC, (uint64_t)b->n_threads);
    b->cur_thread = b->n_threads++;
    return b->cur_thread;
}

static inline void tb_thread_exit(tb *b, int th, uint64_t tsc)
{
    tb_switch(b, th);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_THREAD_EXIT);
    tb_time(b, tsc);
}

/* Records an allocation by fn whose usable size is size + waste; returns its ordinal. */
static inline uint64_t tb_alloc_waste(tb *b, int th, uint64_t tsc, int fn, uint64_t size,
                                      uint32_t stack, uint64_t waste)
{
    tb_switch(b, th);
    vt_stream_put_byte(&b->e, VT_COL_TAG, (uint8_t)(VT_TAG_ALLOC | fn));
    tb_time(b, tsc);
    vt_stream_put(&b->e, VT_COL_SIZE, size);
    vt_stream_put(&b->e, VT_COL_STACK, stack);
    vt_stream_put(&b->e, VT_COL_MISC, waste); /* format 1.2 */
    return b->ord++;
}

/* Records an allocation by fn with no waste; returns its ordinal. */
static inline uint64_t tb_alloc(tb *b, int th, uint64_t tsc, int fn, uint64_t size, uint32_t stack)
{
    return tb_alloc_waste(b, th, tsc, fn, size, stack, 0);
}

/* A memory sample (MEMINFO): rss, then mallinfo2's arena, hblkhd, uordblks, fordblks and
 * keepcost. */
static inline void tb_meminfo(tb *b, uint64_t tsc, const uint64_t v[6])
{
    tb_room(b, 96);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_MEMINFO);
    tb_time(b, tsc);
    for (int i = 0; i < 6; i++)
        vt_stream_put(&b->e, VT_COL_MISC, v[i]);
}

static inline void tb_stack_usage(tb *b, int th, uint64_t size, uint64_t used)
{
    tb_room(b, 48);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_STACK_USAGE);
    vt_stream_put(&b->e, VT_COL_MISC, (uint64_t)th);
    vt_stream_put(&b->e, VT_COL_MISC, size);
    vt_stream_put(&b->e, VT_COL_MISC, used);
}

/* Records the release by fn of the allocation with ordinal ord. */
static inline void tb_free(tb *b, int th, uint64_t tsc, int fn, uint64_t ord)
{
    assert_true(ord < b->ord);
    tb_switch(b, th);
    vt_stream_put_byte(&b->e, VT_COL_TAG, (uint8_t)(VT_TAG_FREE | fn));
    tb_time(b, tsc);
    vt_stream_put(&b->e, VT_COL_ORDINAL, b->ord - ord);
}

static inline void tb_free_unknown(tb *b, int th, uint64_t tsc, int fn)
{
    tb_switch(b, th);
    vt_stream_put_byte(&b->e, VT_COL_TAG, (uint8_t)(VT_TAG_FREE_UNKNOWN | fn));
    tb_time(b, tsc);
}

static inline void tb_free_implied(tb *b, int th, uint64_t tsc, uint64_t ord)
{
    assert_true(ord < b->ord);
    tb_switch(b, th);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_FREE_IMPLIED);
    tb_time(b, tsc);
    vt_stream_put(&b->e, VT_COL_ORDINAL, b->ord - ord);
}

/* realloc as the agent records it: the old block's release, then the new allocation. */
static inline uint64_t tb_realloc(tb *b, int th, uint64_t tsc, uint64_t old_ord, uint64_t size,
                                  uint32_t stack)
{
    tb_free(b, th, tsc, VT_FN_REALLOC, old_ord);
    return tb_alloc(b, th, tsc, VT_FN_REALLOC, size, stack);
}

static inline void tb_map_addr(tb *b, uint64_t addr)
{
    vt_stream_put(&b->e, VT_COL_MISC, vt_zigzag((int64_t)(addr - b->last_map)));
    b->last_map = addr;
}

static inline void tb_mmap(tb *b, int th, uint64_t tsc, uint64_t addr, uint64_t size,
                           uint32_t stack)
{
    tb_switch(b, th);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_MMAP);
    tb_time(b, tsc);
    vt_stream_put(&b->e, VT_COL_SIZE, size);
    vt_stream_put(&b->e, VT_COL_STACK, stack);
    tb_map_addr(b, addr);
}

static inline void tb_munmap(tb *b, int th, uint64_t tsc, uint64_t addr, uint64_t size)
{
    tb_switch(b, th);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_MUNMAP);
    tb_time(b, tsc);
    vt_stream_put(&b->e, VT_COL_SIZE, size);
    tb_map_addr(b, addr);
}

/* A SCAN record: status, then blocks and per class (definite, indirect, possible, reachable)
 * count and bytes, as the agent writes it; the other figures are fixed test values. */
static inline void tb_scan(tb *b, int status, uint64_t blocks, const uint64_t counts[8])
{
    tb_room(b, 200);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_SCAN);
    vt_stream_put(&b->e, VT_COL_MISC, (uint64_t)status);
    vt_stream_put(&b->e, VT_COL_MISC, blocks);
    for (int i = 0; i < 8; i++)
        vt_stream_put(&b->e, VT_COL_MISC, counts[i]);
    static const uint64_t rest[8] = {4096, 8192, 1234567, 2, 1, 0, 1, 24};
    for (int i = 0; i < 8; i++)
        vt_stream_put(&b->e, VT_COL_MISC, rest[i]);
}

/* A LEAK record for ordinal ord (prev: the previous LEAK's ordinal, UINT64_MAX for the first). */
static inline void tb_leak(tb *b, uint64_t prev, uint64_t ord, int cls)
{
    tb_room(b, 32);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_LEAK);
    vt_stream_put(&b->e, VT_COL_ORDINAL, ord - prev);
    vt_stream_put(&b->e, VT_COL_MISC, (uint64_t)cls);
}

/* Appends a raw record byte to the tag column (for malformed-record tests). */
static inline void tb_raw_tag(tb *b, uint8_t tag)
{
    tb_room(b, 16);
    vt_stream_put_byte(&b->e, VT_COL_TAG, tag);
}

#endif

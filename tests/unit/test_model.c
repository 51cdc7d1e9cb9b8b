/* Unit tests for analyze/model.c: synthetic traces, written record by record with the real
 * writer and stream encoder (trace-builder.h), whose numbers are known by construction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analyze/model.h"
#include "trace/format.h"
#include "trace/reader.h"
#include "util/error.h"
#include "trace-builder.h"
#include "unit-util.h"

/* The clock of most tests: 1 GHz, quanta of 128 ticks, so that T(k) is k * 128 ns after the
 * start. */
#define SHIFT 7
#define START_TSC ((uint64_t)1 << 40)
#define START_NS 3000000000ULL
#define T(k) (START_TSC + ((uint64_t)(k) << SHIFT))
#define PAGE 4096ULL

static const char *const test_argv[] = {"prog", "--run", "x y", NULL};

static tb_info_args default_info(void)
{
    return (tb_info_args){
        .pid = 4242,
        .ppid = 4241,
        .tsc_hz = 1000000000,
        .start_tsc = START_TSC,
        .start_ns = START_NS,
        .start_realtime_ns = 1700000000123456789ULL,
        .depth = 64,
        .flags = 0,
        .time_shift = SHIFT,
        .exe = "/usr/bin/prog",
        .argv = test_argv,
    };
}

/* Stack id's frames: three return addresses, the second above the others so that the zigzag
 * deltas go both ways. */
static void stack_frames(uint32_t id, uint64_t out[3])
{
    out[0] = 0x400000 + (uint64_t)id * 0x10;
    out[1] = 0x7fff00000000 + (uint64_t)id * 8;
    out[2] = 0x401000;
}

static void def_stack(tb *b, uint32_t id)
{
    uint64_t f[3];
    stack_frames(id, f);
    tb_stack(b, id, f, 3);
}

/* Starts a trace at name (replacing any earlier one) with INFO. */
static const char *begin(tb *b, const char *name, int compress)
{
    const char *path = ut_path(ut_tmp_dir, name);
    unlink(path);
    tb_open(b, path, compress);
    tb_info_args info = default_info();
    tb_info(b, &info);
    return path;
}

static vt_model *load(const char *path)
{
    int err = 0;
    char msg[512] = "";
    vt_model *m = vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg));
    if (!m)
        fail_msg("cannot load %s: %d %s", path, err, msg);
    return m;
}

/* The site whose stack is stack_frames(id), or NULL. */
static const vt_site *find_site(const vt_model *m, uint32_t id)
{
    uint64_t f[3];
    stack_frames(id, f);
    for (size_t i = 0; i < m->n_sites; i++) {
        const vt_stack *st = &m->stacks[m->sites[i].stack];
        if (st->depth == 3 && !memcmp(st->frames, f, sizeof(f)))
            return &m->sites[i];
    }
    return NULL;
}

static const vt_site *site(const vt_model *m, uint32_t id)
{
    const vt_site *s = find_site(m, id);
    if (!s)
        fail_msg("no site for stack %u", id);
    return s;
}

#define FN(x) (1ull << VT_FN_##x)

/* Counts, bytes, per-function calls, the process description, stacks and modules. */
static void test_basic(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "basic.vtr", 1);
    static const uint8_t bid[20] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3};
    tb_module(&b, "/usr/bin/prog", 0, 0x400000, 0x500000, bid, sizeof(bid));
    tb_module(&b, "/lib/x86_64-linux-gnu/libc.so.6", 0x7f1234000000, 0x7f1234028000, 0x7f1234200000,
              (const uint8_t *)"", 0);
    /* After a dlopen the whole map is written again: one copy is kept. */
    tb_module(&b, "/usr/bin/prog", 0, 0x400000, 0x500000, bid, sizeof(bid));
    def_stack(&b, 1);
    def_stack(&b, 2);
    int th = tb_thread_start(&b, T(1), 1000);
    uint64_t a = tb_alloc(&b, th, T(2), VT_FN_MALLOC, 100, 1);
    tb_alloc(&b, th, T(3), VT_FN_CALLOC, 200, 1);
    uint64_t c = tb_alloc(&b, th, T(4), VT_FN_NEW, 50, 2);
    uint64_t d = tb_alloc(&b, th, T(5), VT_FN_NEW_ARRAY, 7, 2);
    tb_free(&b, th, T(6), VT_FN_FREE, a);
    tb_free(&b, th, T(7), VT_FN_DELETE, c);
    tb_free(&b, th, T(8), VT_FN_DELETE_ARRAY, d); /* its thread's latest: a temporary */
    tb_end(&b, VT_END__EXIT, 3, 5, T(10));
    tb_close(&b);

    vt_model *m = load(path);
    assert_null(m->warnings);
    assert_int_equal(m->pid, 4242);
    assert_int_equal(m->ppid, 4241);
    assert_string_equal(m->exe, "/usr/bin/prog");
    assert_int_equal(m->argc, 3);
    assert_string_equal(m->argv[0], "prog");
    assert_string_equal(m->argv[1], "--run");
    assert_string_equal(m->argv[2], "x y");
    assert_int_equal(m->forked, 0);
    assert_int_equal(m->start_realtime_ns, 1700000000123456789ULL);
    assert_int_equal(m->depth, 64);
    assert_int_equal(m->has_end, 1);
    assert_int_equal(m->end_reason, VT_END__EXIT);
    assert_int_equal(m->end_status, 3);
    assert_int_equal(m->dropped, 5);
    assert_null(m->exec_path);
    assert_null(m->stopped);
    assert_int_equal(m->events, 15);

    assert_int_equal(m->alloc_calls, 4);
    assert_int_equal(m->alloc_bytes, 357);
    assert_int_equal(m->free_calls, 3);
    assert_int_equal(m->realloc_calls, 0);
    assert_int_equal(m->unmatched_frees, 0);
    assert_int_equal(m->fn_calls[VT_FN_MALLOC], 1);
    assert_int_equal(m->fn_calls[VT_FN_CALLOC], 1);
    assert_int_equal(m->fn_calls[VT_FN_NEW], 1);
    assert_int_equal(m->fn_calls[VT_FN_NEW_ARRAY], 1);
    assert_int_equal(m->fn_calls[VT_FN_FREE], 1);
    assert_int_equal(m->fn_calls[VT_FN_DELETE], 1);
    assert_int_equal(m->fn_calls[VT_FN_DELETE_ARRAY], 1);
    assert_int_equal(m->fn_calls[VT_FN_REALLOC], 0);
    assert_int_equal(m->temporary, 1);
    assert_int_equal(m->peak_bytes, 357);
    assert_int_equal(m->peak_blocks, 4);
    assert_int_equal(m->peak_ns, 5 * 128);
    assert_int_equal(m->duration_ns, 10 * 128);
    assert_int_equal(m->live_bytes, 200);
    assert_int_equal(m->live_blocks, 1);
    assert_int_equal(m->mmap_calls, 0);

    assert_int_equal(m->n_sites, 2);
    assert_int_equal(m->n_stacks, 2);
    const vt_site *s1 = site(m, 1), *s2 = site(m, 2);
    assert_int_equal(s1->alloc_calls, 2);
    assert_int_equal(s1->alloc_bytes, 300);
    assert_int_equal(s1->live_blocks, 1);
    assert_int_equal(s1->live_bytes, 200);
    assert_int_equal(s1->peak_bytes, 300);
    assert_int_equal(s1->peak_blocks, 2);
    assert_int_equal(s1->temporary, 0);
    assert_int_equal(s1->fn_mask, FN(MALLOC) | FN(CALLOC));
    assert_int_equal(s2->alloc_calls, 2);
    assert_int_equal(s2->alloc_bytes, 57);
    assert_int_equal(s2->live_blocks, 0);
    assert_int_equal(s2->live_bytes, 0);
    assert_int_equal(s2->peak_bytes, 57);
    assert_int_equal(s2->peak_blocks, 2);
    assert_int_equal(s2->temporary, 1);
    assert_int_equal(s2->fn_mask, FN(NEW) | FN(NEW_ARRAY));
    uint64_t f[3];
    stack_frames(2, f);
    assert_int_equal(m->stacks[s2->stack].depth, 3);
    assert_memory_equal(m->stacks[s2->stack].frames, f, sizeof(f));

    assert_int_equal(m->n_modules, 2);
    assert_string_equal(m->modules[0].path, "/usr/bin/prog");
    assert_int_equal(m->modules[0].start, 0x400000);
    assert_int_equal(m->modules[0].end, 0x500000);
    assert_int_equal(m->modules[0].build_id_len, 20);
    assert_memory_equal(m->modules[0].build_id, bid, 20);
    assert_string_equal(m->modules[1].path, "/lib/x86_64-linux-gnu/libc.so.6");
    assert_int_equal(m->modules[1].bias, 0x7f1234000000);
    assert_int_equal(m->modules[1].build_id_len, 0);

    assert_int_equal(m->n_threads, 1);
    assert_int_equal(m->threads[0].tid, 1000);
    assert_int_equal(m->threads[0].alloc_calls, 4);
    assert_int_equal(m->threads[0].alloc_bytes, 357);
    assert_int_equal(m->threads[0].frees, 3);
    assert_int_equal(m->threads[0].first_ns, 128);
    assert_int_equal(m->threads[0].last_ns, 10 * 128);
    assert_string_equal(vt_fn_name(VT_FN_NEW_ARRAY), "operator new[]");
    assert_string_equal(vt_fn_name(VT_FN_COUNT), "?");
    assert_string_equal(vt_fn_name(-1), "?");
    vt_model_free(m);
    vt_model_free(NULL);
}

/* The peak is reached early and the sites change afterwards: each site must report what it
 * held at the peak, whether it was touched after it (saved lazily), was never touched again
 * (its live value still is its peak value), or did not exist yet. */
static void test_peak_attribution(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "peak.vtr", 1);
    for (uint32_t id = 1; id <= 5; id++)
        def_stack(&b, id);
    int th = tb_thread_start(&b, T(1), 7);
    /* A = 1, B = 2, C = 3 (only after the peak), D = 4 (untouched after the peak). */
    tb_alloc(&b, th, T(2), VT_FN_MALLOC, 7, 4);
    uint64_t a1 = tb_alloc(&b, th, T(3), VT_FN_MALLOC, 100, 1);
    uint64_t b1 = tb_alloc(&b, th, T(4), VT_FN_MALLOC, 200, 2);
    uint64_t a2 = tb_alloc(&b, th, T(5), VT_FN_MALLOC, 50, 1); /* the peak: 357 in 4 */
    tb_free(&b, th, T(6), VT_FN_FREE, b1);
    tb_free(&b, th, T(7), VT_FN_FREE, a1);
    tb_alloc(&b, th, T(8), VT_FN_MALLOC, 300, 3); /* back to 357: not a new peak */
    tb_flush(&b);                                 /* the epochs live across blocks */
    tb_free(&b, th, T(9), VT_FN_FREE, a2);
    tb_alloc(&b, th, T(10), VT_FN_MALLOC, 10, 2);
    tb_alloc(&b, th, T(11), VT_FN_MALLOC, 0, 5); /* a new site, empty */
    tb_end(&b, VT_END_EXIT, 0, 0, T(12));
    tb_close(&b);

    vt_model *m = load(path);
    assert_null(m->warnings);
    assert_int_equal(m->peak_bytes, 357);
    assert_int_equal(m->peak_blocks, 4);
    assert_int_equal(m->peak_ns, 5 * 128);
    assert_int_equal(m->live_bytes, 317);
    assert_int_equal(m->live_blocks, 4);
    const vt_site *A = site(m, 1), *B = site(m, 2), *C = site(m, 3), *D = site(m, 4),
                  *E = site(m, 5);
    assert_int_equal(A->peak_bytes, 150);
    assert_int_equal(A->peak_blocks, 2);
    assert_int_equal(B->peak_bytes, 200);
    assert_int_equal(B->peak_blocks, 1);
    assert_int_equal(C->peak_bytes, 0);
    assert_int_equal(C->peak_blocks, 0);
    assert_int_equal(D->peak_bytes, 7);
    assert_int_equal(D->peak_blocks, 1);
    assert_int_equal(E->peak_bytes, 0);
    assert_int_equal(E->peak_blocks, 0);
    assert_int_equal(A->live_bytes, 0);
    assert_int_equal(B->live_bytes, 10);
    assert_int_equal(C->live_bytes, 300);
    assert_int_equal(D->live_bytes, 7);
    assert_int_equal(E->live_blocks, 1);
    vt_model_free(m);
}

/* A second, higher peak after the sites moved: the holders are those of the later one. */
static void test_peak_moves_later(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "peak2.vtr", 0);
    for (uint32_t id = 1; id <= 3; id++)
        def_stack(&b, id);
    int th = tb_thread_start(&b, T(1), 7);
    uint64_t a1 = tb_alloc(&b, th, T(2), VT_FN_MALLOC, 1000, 1);
    tb_alloc(&b, th, T(3), VT_FN_MALLOC, 500, 2); /* first peak: 1500 (A 1000, B 500) */
    tb_free(&b, th, T(4), VT_FN_FREE, a1);
    tb_alloc(&b, th, T(5), VT_FN_MALLOC, 400, 3);
    tb_alloc(&b, th, T(6), VT_FN_MALLOC, 700, 3); /* second peak: 1600 (B 500, C 1100) */
    tb_flush(&b);
    uint64_t c3 = tb_alloc(&b, th, T(7), VT_FN_MALLOC, 1, 1);
    tb_free(&b, th, T(8), VT_FN_FREE, c3);
    tb_alloc(&b, th, T(9), VT_FN_MALLOC, 99, 1); /* 1699: third peak (A 99) */
    tb_end(&b, VT_END_EXIT, 0, 0, T(10));
    tb_close(&b);

    vt_model *m = load(path);
    assert_int_equal(m->peak_bytes, 1699);
    assert_int_equal(m->peak_blocks, 4);
    assert_int_equal(m->peak_ns, 9 * 128);
    assert_int_equal(site(m, 1)->peak_bytes, 99);
    assert_int_equal(site(m, 1)->peak_blocks, 1);
    assert_int_equal(site(m, 2)->peak_bytes, 500);
    assert_int_equal(site(m, 3)->peak_bytes, 1100);
    assert_int_equal(site(m, 3)->peak_blocks, 2);
    vt_model_free(m);
}

/* Blocks still live at the end are leaks, per site. */
static void test_leaks(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "leaks.vtr", 1);
    for (uint32_t id = 1; id <= 3; id++)
        def_stack(&b, id);
    int th = tb_thread_start(&b, T(1), 7);
    uint64_t o[3];
    for (int i = 0; i < 3; i++)
        o[i] = tb_alloc(&b, th, T(2 + i), VT_FN_MALLOC, 16, 1);
    uint64_t x = tb_alloc(&b, th, T(5), VT_FN_NEW, 24, 2);
    uint64_t y = tb_alloc(&b, th, T(6), VT_FN_NEW, 24, 2);
    tb_alloc(&b, th, T(7), VT_FN_MALLOC, 1 << 20, 3);
    tb_free(&b, th, T(8), VT_FN_FREE, o[1]);
    tb_free(&b, th, T(9), VT_FN_DELETE, y);
    tb_free(&b, th, T(10), VT_FN_DELETE, x);
    tb_end(&b, VT_END_EXIT, 0, 0, T(11));
    tb_close(&b);

    vt_model *m = load(path);
    assert_int_equal(m->live_blocks, 3);
    assert_int_equal(m->live_bytes, 32 + (1 << 20));
    assert_int_equal(site(m, 1)->live_blocks, 2);
    assert_int_equal(site(m, 1)->live_bytes, 32);
    assert_int_equal(site(m, 2)->live_blocks, 0);
    assert_int_equal(site(m, 2)->live_bytes, 0);
    assert_int_equal(site(m, 3)->live_blocks, 1);
    assert_int_equal(site(m, 3)->live_bytes, 1 << 20);
    (void)o[0];
    (void)o[2];
    vt_model_free(m);
}

/* The leak classes: LEAK records name the blocks that are not reachable; the rest of the
 * live blocks are still reachable. A LEAK naming a freed block is counted as unmatched. */
static void test_leak_classes(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "leak-classes.vtr", 1);
    for (uint32_t id = 1; id <= 3; id++)
        def_stack(&b, id);
    int th = tb_thread_start(&b, T(1), 7);
    uint64_t o[10];
    for (int i = 0; i < 4; i++)
        o[i] = tb_alloc(&b, th, T(2 + i), VT_FN_MALLOC, 48, 1); /* 1 definite, 3 indirect */
    for (int i = 4; i < 7; i++)
        o[i] = tb_alloc(&b, th, T(2 + i), VT_FN_CALLOC, 100, 2); /* 1 possible, 2 reachable */
    o[7] = tb_alloc(&b, th, T(9), VT_FN_MALLOC, 7, 3);           /* definite */
    o[8] = tb_alloc(&b, th, T(10), VT_FN_MALLOC, 9, 3);          /* freed */
    o[9] = tb_alloc(&b, th, T(11), VT_FN_MALLOC, 11, 3);         /* reachable */
    tb_free(&b, th, T(12), VT_FN_FREE, o[8]);
    const uint64_t counts[8] = {2, 55, 3, 144, 1, 100, 3, 211};
    tb_scan(&b, VT_SCAN_DONE, 9, counts);
    tb_leak(&b, UINT64_MAX, o[0], VT_LEAK_DEFINITE);
    tb_leak(&b, o[0], o[1], VT_LEAK_INDIRECT);
    tb_leak(&b, o[1], o[2], VT_LEAK_INDIRECT);
    tb_leak(&b, o[2], o[3], VT_LEAK_INDIRECT);
    tb_leak(&b, o[3], o[5], VT_LEAK_POSSIBLE);
    tb_leak(&b, o[5], o[7], VT_LEAK_DEFINITE);
    tb_leak(&b, o[7], o[8], VT_LEAK_DEFINITE); /* freed: unmatched */
    tb_end(&b, VT_END_EXIT, 0, 0, T(13));
    tb_close(&b);

    vt_model *m = load(path);
    assert_true(m->scan.present);
    assert_int_equal(m->scan.status, VT_SCAN_DONE);
    assert_string_equal(vt_leak_check_status(m), "done");
    assert_int_equal(m->scan.blocks, 9);
    assert_int_equal(m->scan.count[VT_LEAK_DEFINITE], 2);
    assert_int_equal(m->scan.bytes[VT_LEAK_REACHABLE], 211);
    assert_int_equal(m->scan.ns, 1234567);
    assert_int_equal(m->scan.threads, 2);
    assert_int_equal(m->scan.threads_sp, 1);
    assert_int_equal(m->scan.heuristic_blocks, 1);
    assert_int_equal(m->scan.heuristic_bytes, 24);
    assert_int_equal(m->scan.unmatched, 1);
    assert_int_equal(m->leak_blocks[VT_LEAK_DEFINITE], 2);
    assert_int_equal(m->leak_bytes[VT_LEAK_DEFINITE], 48 + 7);
    assert_int_equal(m->leak_blocks[VT_LEAK_INDIRECT], 3);
    assert_int_equal(m->leak_bytes[VT_LEAK_INDIRECT], 144);
    assert_int_equal(m->leak_blocks[VT_LEAK_POSSIBLE], 1);
    assert_int_equal(m->leak_bytes[VT_LEAK_POSSIBLE], 100);
    assert_int_equal(m->leak_blocks[VT_LEAK_REACHABLE], 3);
    assert_int_equal(m->leak_bytes[VT_LEAK_REACHABLE], 211);
    assert_int_equal(site(m, 1)->leak_blocks[VT_LEAK_DEFINITE], 1);
    assert_int_equal(site(m, 1)->leak_blocks[VT_LEAK_INDIRECT], 3);
    assert_int_equal(site(m, 1)->leak_blocks[VT_LEAK_REACHABLE], 0);
    assert_int_equal(site(m, 2)->leak_blocks[VT_LEAK_POSSIBLE], 1);
    assert_int_equal(site(m, 2)->leak_bytes[VT_LEAK_REACHABLE], 200);
    assert_int_equal(site(m, 3)->leak_bytes[VT_LEAK_DEFINITE], 7);
    assert_int_equal(site(m, 3)->leak_bytes[VT_LEAK_REACHABLE], 11);
    assert_null(m->warnings);
    vt_model_free(m);

    /* Without a SCAN record nothing is classified; a LEAK before a SCAN is malformed. */
    path = begin(&b, "leak-no-scan.vtr", 1);
    def_stack(&b, 1);
    th = tb_thread_start(&b, T(1), 7);
    uint64_t x = tb_alloc(&b, th, T(2), VT_FN_MALLOC, 48, 1);
    tb_leak(&b, UINT64_MAX, x, VT_LEAK_DEFINITE);
    tb_end(&b, VT_END_EXIT, 0, 0, T(3));
    tb_close(&b);
    m = load(path);
    assert_false(m->scan.present);
    assert_string_equal(vt_leak_check_status(m), "not run");
    assert_int_equal(m->leak_blocks[VT_LEAK_DEFINITE], 0);
    assert_non_null(m->warnings);
    assert_non_null(strstr(m->warnings, "tag 0x70"));
    vt_model_free(m);

    /* A scan that ran out of memory classifies nothing. */
    path = begin(&b, "leak-nomem.vtr", 1);
    const uint64_t zero[8] = {0};
    tb_scan(&b, VT_SCAN_NOMEM, 0, zero);
    tb_end(&b, VT_END_EXIT, 0, 0, T(3));
    tb_close(&b);
    m = load(path);
    assert_string_equal(vt_leak_check_status(m), "out of memory");
    vt_model_free(m);
}

/* A temporary is a free, by the thread that made it, of that thread's latest allocation. */
static void test_temporaries(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "temp.vtr", 1);
    for (uint32_t id = 1; id <= 3; id++)
        def_stack(&b, id);
    int t0 = tb_thread_start(&b, T(1), 10);
    int t1 = tb_thread_start(&b, T(2), 11);
    uint64_t t = 10;

    uint64_t a = tb_alloc(&b, t0, T(t++), VT_FN_MALLOC, 10, 1);
    tb_free(&b, t0, T(t++), VT_FN_FREE, a); /* temporary (site 1) */

    uint64_t bb = tb_alloc(&b, t0, T(t++), VT_FN_MALLOC, 20, 1);
    uint64_t c = tb_alloc(&b, t0, T(t++), VT_FN_MALLOC, 30, 2);
    tb_free(&b, t0, T(t++), VT_FN_FREE, bb); /* not: c came in between */
    tb_free(&b, t0, T(t++), VT_FN_FREE, c);  /* temporary (site 2) */

    uint64_t d = tb_alloc(&b, t0, T(t++), VT_FN_MALLOC, 40, 1);
    uint64_t e = tb_alloc(&b, t1, T(t++), VT_FN_MALLOC, 50, 2);
    tb_free(&b, t0, T(t++), VT_FN_FREE, d); /* temporary: the other thread's does not count */

    uint64_t f = tb_alloc(&b, t0, T(t++), VT_FN_MALLOC, 60, 1);
    tb_free(&b, t1, T(t++), VT_FN_FREE, f); /* not: freed by another thread */
    tb_free(&b, t1, T(t++), VT_FN_FREE, e); /* temporary (site 2): still t1's latest */

    uint64_t g = tb_alloc(&b, t0, T(t++), VT_FN_MALLOC, 70, 3);
    uint64_t h = tb_realloc(&b, t0, T(t++), g, 80, 3); /* not: a realloc is no free */
    tb_free(&b, t0, T(t++), VT_FN_FREE, h);            /* temporary (site 3) */

    uint64_t i = tb_alloc(&b, t0, T(t++), VT_FN_MALLOC, 90, 3);
    tb_free_implied(&b, t0, T(t++), i); /* not: no free was seen */

    uint64_t j = tb_alloc(&b, t0, T(t++), VT_FN_MALLOC, 5, 1);
    tb_flush(&b);
    tb_free(&b, t0, T(t++), VT_FN_FREE, j); /* temporary across blocks (site 1) */

    uint64_t k = tb_alloc(&b, t0, T(t++), VT_FN_MALLOC, 5, 1);
    tb_free_unknown(&b, t0, T(t++), VT_FN_FREE);
    tb_free(&b, t0, T(t++), VT_FN_FREE, k); /* temporary: the unknown free allocated nothing */

    uint64_t l = tb_alloc(&b, t0, T(t++), VT_FN_NEW, 8, 2);
    tb_alloc(&b, t0, T(t++), VT_FN_NEW, 8, 2);
    tb_free(&b, t0, T(t++), VT_FN_DELETE, l); /* not */
    tb_end(&b, VT_END_EXIT, 0, 0, T(t++));
    tb_close(&b);

    vt_model *m = load(path);
    assert_null(m->warnings);
    assert_int_equal(m->temporary, 7);
    assert_int_equal(site(m, 1)->temporary, 4);
    assert_int_equal(site(m, 2)->temporary, 2);
    assert_int_equal(site(m, 3)->temporary, 1);
    assert_int_equal(m->alloc_calls, 13);
    assert_int_equal(m->free_calls, 11);
    assert_int_equal(m->realloc_calls, 1);
    assert_int_equal(m->fn_calls[VT_FN_REALLOC], 1);
    assert_int_equal(m->unmatched_frees, 1);
    assert_int_equal(m->live_blocks, 1);
    assert_int_equal(m->live_bytes, 8);
    assert_int_equal(m->threads[t0].alloc_calls, 12);
    assert_int_equal(m->threads[t1].alloc_calls, 1);
    assert_int_equal(m->threads[t0].frees, 9);
    assert_int_equal(m->threads[t1].frees, 2);
    vt_model_free(m);
}

/* Two threads taking turns, a third one starting in a later block, and exits. */
static void test_threads(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "threads.vtr", 1);
    def_stack(&b, 1);
    int t0 = tb_thread_start(&b, T(1), 500);
    uint64_t a0 = tb_alloc(&b, t0, T(2), VT_FN_MALLOC, 100, 1);
    int t1 = tb_thread_start(&b, T(3), 501);
    uint64_t a1 = tb_alloc(&b, t1, T(4), VT_FN_MALLOC, 10, 1);
    tb_alloc(&b, t0, T(5), VT_FN_MALLOC, 100, 1);
    tb_alloc(&b, t1, T(6), VT_FN_CALLOC, 10, 1);
    tb_free(&b, t0, T(7), VT_FN_FREE, a1); /* a free of the other thread's block */
    tb_free(&b, t1, T(8), VT_FN_FREE, a0);
    tb_thread_exit(&b, t1, T(20));
    tb_flush(&b);
    tb_alloc(&b, t0, T(21), VT_FN_MALLOC, 1000, 1);
    int t2 = tb_thread_start(&b, T(30), 502);
    tb_alloc(&b, t2, T(31), VT_FN_MALLOC, 1, 1);
    tb_flush(&b);
    tb_alloc(&b, t2, T(32), VT_FN_MALLOC, 2, 1);
    tb_free(&b, t0, T(33), VT_FN_FREE, a0 + 2);
    tb_thread_exit(&b, t2, T(35));
    tb_end(&b, VT_END_EXIT, 0, 0, T(40));
    tb_close(&b);

    vt_model *m = load(path);
    assert_null(m->warnings);
    assert_int_equal(m->n_threads, 3);
    assert_int_equal(m->threads[0].tid, 500);
    assert_int_equal(m->threads[1].tid, 501);
    assert_int_equal(m->threads[2].tid, 502);
    assert_int_equal(m->threads[0].alloc_calls, 2 + 1);
    assert_int_equal(m->threads[0].alloc_bytes, 1200);
    assert_int_equal(m->threads[0].frees, 2);
    assert_int_equal(m->threads[1].alloc_calls, 2);
    assert_int_equal(m->threads[1].alloc_bytes, 20);
    assert_int_equal(m->threads[1].frees, 1);
    assert_int_equal(m->threads[2].alloc_calls, 2);
    assert_int_equal(m->threads[2].alloc_bytes, 3);
    assert_int_equal(m->threads[2].frees, 0);
    assert_int_equal(m->threads[0].first_ns, 1 * 128);
    assert_int_equal(m->threads[0].last_ns, 40 * 128); /* never exited: the end */
    assert_int_equal(m->threads[1].first_ns, 3 * 128);
    assert_int_equal(m->threads[1].last_ns, 20 * 128);
    assert_int_equal(m->threads[2].first_ns, 30 * 128);
    assert_int_equal(m->threads[2].last_ns, 35 * 128);
    assert_int_equal(m->alloc_calls, 7);
    assert_int_equal(m->free_calls, 3);
    assert_int_equal(m->live_blocks, 4);
    assert_int_equal(m->live_bytes, 10 + 1000 + 1 + 2);
    vt_model_free(m);
}

/* Frees of blocks allocated before tracing began are counted as calls and as unmatched. */
static void test_free_unknown(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "unknown.vtr", 0);
    def_stack(&b, 1);
    int th = tb_thread_start(&b, T(1), 9);
    tb_alloc(&b, th, T(2), VT_FN_MALLOC, 100, 1);
    tb_free_unknown(&b, th, T(3), VT_FN_FREE);
    tb_free_unknown(&b, th, T(4), VT_FN_DELETE);
    tb_free_unknown(&b, th, T(5), VT_FN_REALLOC);
    tb_end(&b, VT_END_EXIT, 0, 0, T(6));
    tb_close(&b);

    vt_model *m = load(path);
    assert_int_equal(m->free_calls, 2);
    assert_int_equal(m->realloc_calls, 1);
    assert_int_equal(m->fn_calls[VT_FN_FREE], 1);
    assert_int_equal(m->fn_calls[VT_FN_DELETE], 1);
    assert_int_equal(m->unmatched_frees, 3);
    assert_int_equal(m->live_blocks, 1);
    assert_int_equal(m->live_bytes, 100);
    assert_int_equal(site(m, 1)->live_bytes, 100);
    assert_int_equal(m->temporary, 0);
    assert_int_equal(m->threads[0].frees, 2);
    vt_model_free(m);
}

/* An implied release frees the block without counting a free call. */
static void test_free_implied(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "implied.vtr", 1);
    def_stack(&b, 1);
    int th = tb_thread_start(&b, T(1), 9);
    uint64_t a = tb_alloc(&b, th, T(2), VT_FN_MALLOC, 100, 1);
    tb_free_implied(&b, th, T(3), a);
    uint64_t a2 = tb_alloc(&b, th, T(3), VT_FN_MALLOC, 100, 1); /* the address again */
    tb_alloc(&b, th, T(4), VT_FN_MALLOC, 8, 1);
    tb_free_implied(&b, th, T(5), a2);
    tb_end(&b, VT_END_EXIT, 0, 0, T(6));
    tb_close(&b);

    vt_model *m = load(path);
    assert_int_equal(m->alloc_calls, 3);
    assert_int_equal(m->free_calls, 0);
    assert_int_equal(m->fn_calls[VT_FN_FREE], 0);
    assert_int_equal(m->unmatched_frees, 0);
    assert_int_equal(m->temporary, 0);
    assert_int_equal(m->live_blocks, 1);
    assert_int_equal(m->live_bytes, 8);
    assert_int_equal(m->peak_bytes, 108);
    assert_int_equal(m->peak_blocks, 2);
    assert_int_equal(site(m, 1)->live_blocks, 1);
    assert_int_equal(m->threads[0].frees, 0);
    vt_model_free(m);
}

/* Anonymous mappings: address deltas both ways, a partial unmap that splits a region, unmaps
 * that trim either end or span two regions (one call), and one that matches no recorded
 * mapping (a file mapping, say: not counted). */
static void test_mmap(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "mmap.vtr", 1);
    def_stack(&b, 1);
    def_stack(&b, 2);
    int th = tb_thread_start(&b, T(1), 9);
    const uint64_t A = 0x7f0000100000, B = 0x7f0000000000, C = 0x7f0010000000, M = 0x7f0020000000;
    tb_mmap(&b, th, T(2), A, 4 * PAGE, 1);
    tb_mmap(&b, th, T(3), B, 2 * PAGE, 2);   /* below A: a negative delta */
    tb_munmap(&b, th, T(4), A + PAGE, PAGE); /* A splits: [A, A+P) and [A+2P, A+4P) */
    tb_munmap(&b, th, T(5), A, PAGE);        /* the left piece */
    tb_mmap(&b, th, T(6), C, 3 * PAGE, 1);   /* 7 pages mapped: the peak */
    tb_munmap(&b, th, T(7), B, 2 * PAGE);    /* all of B */
    tb_munmap(&b, th, T(8), 0x1000, PAGE);   /* nothing recorded there: not counted */
    tb_mmap(&b, th, T(9), M, PAGE, 1);       /* two neighbours from two sites */
    tb_mmap(&b, th, T(10), M + PAGE, PAGE, 2);
    tb_munmap(&b, th, T(11), M, 2 * PAGE);        /* both at once */
    tb_flush(&b);                                 /* the address deltas restart from 0 */
    tb_munmap(&b, th, T(12), A + 3 * PAGE, PAGE); /* the right end of A's right piece */
    tb_munmap(&b, th, T(13), C - PAGE, 2 * PAGE); /* overlaps C's start */
    tb_end(&b, VT_END_EXIT, 0, 0, T(14));
    tb_close(&b);

    vt_model *m = load(path);
    assert_null(m->warnings);
    assert_int_equal(m->mmap_calls, 5);
    assert_int_equal(m->munmap_calls, 6);
    assert_int_equal(m->mapped_bytes, 11 * PAGE);
    assert_int_equal(m->mapped_peak, 7 * PAGE);
    assert_int_equal(m->mapped_live, 3 * PAGE); /* [A+2P, A+3P) and [C+P, C+3P) */
    const vt_site *s1 = site(m, 1), *s2 = site(m, 2);
    assert_int_equal(s1->mapped_calls, 3);
    assert_int_equal(s1->mapped_bytes, 8 * PAGE);
    assert_int_equal(s1->mapped_live, 3 * PAGE);
    assert_int_equal(s2->mapped_calls, 2);
    assert_int_equal(s2->mapped_bytes, 3 * PAGE);
    assert_int_equal(s2->mapped_live, 0);
    assert_true(s1->fn_mask & (1ull << 63));
    assert_true(s2->fn_mask & (1ull << 63));
    assert_int_equal(s1->alloc_calls, 0);
    assert_int_equal(m->alloc_calls, 0);
    assert_int_equal(m->peak_bytes, 0);
    vt_model_free(m);
}

/* Stacks with the same frames are one site, whatever their ids and wherever defined; a stack
 * id never defined is the empty stack. */
static void test_duplicate_stacks(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "dupstack.vtr", 1);
    uint64_t f[3];
    stack_frames(1, f);
    tb_stack(&b, 1, f, 3);
    tb_stack(&b, 2, f, 3); /* the same frames under another id */
    tb_stack(&b, 3, f, 2); /* a prefix: another stack */
    int th = tb_thread_start(&b, T(1), 9);
    tb_alloc(&b, th, T(2), VT_FN_MALLOC, 10, 1);
    tb_alloc(&b, th, T(3), VT_FN_MALLOC, 20, 2);
    tb_alloc(&b, th, T(4), VT_FN_MALLOC, 40, 3);
    tb_flush(&b);
    tb_stack(&b, 1, f, 3); /* defined again in a later block */
    tb_stack(&b, 5, f, 3);
    tb_alloc(&b, th, T(5), VT_FN_CALLOC, 80, 5);
    tb_alloc(&b, th, T(6), VT_FN_MALLOC, 160, 1);
    tb_alloc(&b, th, T(7), VT_FN_MALLOC, 1, 77); /* never defined */
    tb_end(&b, VT_END_EXIT, 0, 0, T(8));
    tb_close(&b);

    vt_model *m = load(path);
    assert_null(m->warnings);
    assert_int_equal(m->n_sites, 3);
    assert_int_equal(m->n_stacks, 3);
    const vt_site *s = site(m, 1);
    assert_int_equal(s->alloc_calls, 4);
    assert_int_equal(s->alloc_bytes, 270);
    assert_int_equal(s->fn_mask, FN(MALLOC) | FN(CALLOC));
    const vt_site *prefix = NULL, *empty = NULL;
    for (size_t i = 0; i < m->n_sites; i++) {
        if (m->stacks[m->sites[i].stack].depth == 2)
            prefix = &m->sites[i];
        if (m->stacks[m->sites[i].stack].depth == 0)
            empty = &m->sites[i];
    }
    assert_non_null(prefix);
    assert_int_equal(prefix->alloc_calls, 1);
    assert_int_equal(prefix->alloc_bytes, 40);
    assert_memory_equal(m->stacks[prefix->stack].frames, f, 2 * sizeof(uint64_t));
    assert_non_null(empty);
    assert_int_equal(empty->alloc_calls, 1);
    assert_int_equal(empty->alloc_bytes, 1);
    vt_model_free(m);
}

/* Three blocks; stacks 1 and 2, threads 0 and 1 are defined in the first.
 *   block 0: a[0..4] (t0, stack 1, 100 each), b0 (t1, stack 2, 1000)
 *   block 1: c[0..2] (t0, stack 1, 10 each), frees of a[0] and c[0]
 *   block 2: frees of a[1] (t1) and c[1] (t0), d (t0, stack 2, 5) and its free, e (t1,
 *            stack 1, 7), END
 * Block offsets land in b->block_off. */
static const char *three_blocks(tb *b, const char *name, int compress)
{
    const char *path = begin(b, name, compress);
    def_stack(b, 1);
    def_stack(b, 2);
    int t0 = tb_thread_start(b, T(1), 100);
    int t1 = tb_thread_start(b, T(2), 101);
    uint64_t a[5], c[3];
    for (int i = 0; i < 5; i++)
        a[i] = tb_alloc(b, t0, T(10 + i), VT_FN_MALLOC, 100, 1);
    tb_alloc(b, t1, T(15), VT_FN_MALLOC, 1000, 2); /* the peak: 1500 in 6 */
    tb_flush(b);
    for (int i = 0; i < 3; i++)
        c[i] = tb_alloc(b, t0, T(20 + i), VT_FN_MALLOC, 10, 1);
    tb_free(b, t0, T(23), VT_FN_FREE, a[0]);
    tb_free(b, t0, T(24), VT_FN_FREE, c[0]);
    tb_flush(b);
    tb_free(b, t1, T(30), VT_FN_FREE, a[1]);
    tb_free(b, t0, T(31), VT_FN_FREE, c[1]);
    uint64_t d = tb_alloc(b, t0, T(32), VT_FN_MALLOC, 5, 2);
    tb_free(b, t0, T(33), VT_FN_FREE, d);
    tb_alloc(b, t1, T(34), VT_FN_MALLOC, 7, 1);
    tb_end(b, VT_END_EXIT, 0, 0, T(40));
    tb_close(b);
    assert_int_equal(b->n_blocks, 3);
    return path;
}

static void test_three_blocks_intact(void **state)
{
    (void)state;
    tb b;
    vt_model *m = load(three_blocks(&b, "three.vtr", 1));
    assert_null(m->warnings);
    assert_int_equal(m->alloc_calls, 11);
    assert_int_equal(m->free_calls, 5);
    assert_int_equal(m->unmatched_frees, 0);
    assert_int_equal(m->temporary, 1);
    assert_int_equal(m->live_blocks, 6);
    assert_int_equal(m->live_bytes, 300 + 1000 + 10 + 7);
    assert_int_equal(m->peak_bytes, 1530);
    assert_int_equal(m->peak_ns, 22 * 128);
    assert_int_equal(m->duration_ns, 40 * 128);
    vt_model_free(m);
}

/* The middle block's payload is damaged (zstd's checksum or the raw block's check catches
 * it): the reader skips it, and the last block still decodes in full because its header
 * carries the base ordinal and time. */
static void corrupted_middle_block(int compress)
{
    tb b;
    const char *path = three_blocks(&b, "midbad.vtr", compress);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    uint64_t at = b.block_off[1] + VT_BLOCK_HEADER_SIZE + 10;
    assert_true(at < b.block_off[2]);
    data[at] ^= 0x21;
    ut_write_file(path, data, n);
    free(data);

    vt_model *m = load(path);
    ut_assert_contains(m->warnings, "block at byte %llu", (unsigned long long)b.block_off[1]);
    assert_int_equal(m->has_end, 1);
    /* Blocks 0 and 2: the allocations of a[], b0, d and e. */
    assert_int_equal(m->alloc_calls, 8);
    assert_int_equal(m->alloc_bytes, 500 + 1000 + 5 + 7);
    /* a[1] and d are found; c[1] was allocated in the lost block. */
    assert_int_equal(m->free_calls, 3);
    assert_int_equal(m->unmatched_frees, 1);
    assert_int_equal(m->temporary, 1);
    /* a[0] stays live: its free was lost with the block. */
    assert_int_equal(m->live_blocks, 6);
    assert_int_equal(m->live_bytes, 400 + 1000 + 7);
    assert_int_equal(m->peak_bytes, 1500);
    assert_int_equal(m->peak_blocks, 6);
    assert_int_equal(m->peak_ns, 15 * 128);
    assert_int_equal(m->duration_ns, 40 * 128);
    assert_int_equal(site(m, 1)->live_blocks, 5);
    assert_int_equal(site(m, 1)->live_bytes, 407);
    assert_int_equal(site(m, 2)->live_blocks, 1);
    assert_int_equal(site(m, 2)->temporary, 1);
    assert_int_equal(m->threads[1].frees, 1);
    assert_int_equal(m->threads[1].alloc_calls, 2);
    vt_model_free(m);
}

static void test_corrupted_middle_block(void **state)
{
    (void)state;
    corrupted_middle_block(1);
    corrupted_middle_block(0);
}

/* Cut anywhere inside the last block: the model holds the first two blocks exactly. */
static void test_truncated_mid_block(void **state)
{
    (void)state;
    tb b;
    const char *path = three_blocks(&b, "cut.vtr", 1);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    assert_int_equal(n, b.end_off);
    for (uint64_t cut = b.block_off[2] + 1; cut < n; cut++) {
        ut_write_file(path, data, cut);
        vt_model *m = load(path);
        ut_assert_contains(m->warnings, "truncated");
        ut_assert_contains(m->warnings, "byte %llu", (unsigned long long)b.block_off[2]);
        assert_int_equal(m->has_end, 0);
        assert_int_equal(m->alloc_calls, 9);
        assert_int_equal(m->free_calls, 2);
        assert_int_equal(m->unmatched_frees, 0);
        assert_int_equal(m->temporary, 0);
        assert_int_equal(m->live_blocks, 7);
        assert_int_equal(m->live_bytes, 400 + 1000 + 20);
        assert_int_equal(m->peak_bytes, 1530);
        assert_int_equal(m->duration_ns, 24 * 128);
        assert_int_equal(m->trace_bytes, cut);
        vt_model_free(m);
    }
    free(data);
}

/* Without END, and with nothing else wrong, the model says the end is missing. */
static void test_no_end(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "noend.vtr", 1);
    def_stack(&b, 1);
    int th = tb_thread_start(&b, T(1), 9);
    tb_alloc(&b, th, T(2), VT_FN_MALLOC, 1, 1);
    tb_close(&b);
    vt_model *m = load(path);
    assert_int_equal(m->has_end, 0);
    ut_assert_contains(m->warnings, "without an end record");
    ut_assert_contains(m->warnings, "byte %llu", (unsigned long long)b.end_off);
    assert_int_equal(m->duration_ns, 2 * 128);
    vt_model_free(m);
}

/* EXEC and STOPPED records, and a forked child's INFO. */
static void test_exec_stopped_forked(void **state)
{
    (void)state;
    tb b;
    const char *path = ut_path(ut_tmp_dir, "exec.vtr");
    unlink(path);
    tb_open(&b, path, 0);
    tb_info_args info = default_info();
    info.flags = VT_INFO_FORKED;
    info.argv = NULL;
    tb_info(&b, &info);
    def_stack(&b, 1);
    int th = tb_thread_start(&b, T(1), 9);
    tb_alloc(&b, th, T(2), VT_FN_MALLOC, 1, 1);
    tb_stopped(&b, "disk full");
    tb_exec(&b, T(50), "/bin/true");
    tb_close(&b);
    vt_model *m = load(path);
    assert_int_equal(m->forked, 1);
    assert_int_equal(m->argc, 0);
    assert_string_equal(m->stopped, "disk full");
    assert_string_equal(m->exec_path, "/bin/true");
    assert_null(m->warnings); /* an exec is a proper end */
    assert_int_equal(m->duration_ns, 50 * 128);
    vt_model_free(m);
}

/* Writes a small trace with the given clock and returns the model. */
static vt_model *clock_trace(const char *name, uint64_t tsc_hz, int shift, uint64_t clock_dtsc,
                             uint64_t clock_dns)
{
    tb b;
    const char *path = ut_path(ut_tmp_dir, name);
    unlink(path);
    tb_open(&b, path, 1);
    tb_info_args info = default_info();
    info.tsc_hz = tsc_hz;
    info.time_shift = shift;
    tb_info(&b, &info);
    def_stack(&b, 1);
    const uint64_t q = (uint64_t)1 << shift;
    int th = tb_thread_start(&b, START_TSC + 10 * q, 9);
    uint64_t a = tb_alloc(&b, th, START_TSC + 1000 * q, VT_FN_MALLOC, 100, 1);
    tb_clock(&b, START_TSC + clock_dtsc / 2, START_NS + clock_dns / 2);
    tb_free(&b, th, START_TSC + 2000 * q, VT_FN_FREE, a);
    tb_alloc(&b, th, START_TSC + 3000 * q, VT_FN_MALLOC, 50, 1);
    tb_flush(&b);
    tb_thread_exit(&b, th, START_TSC + 50000 * q);
    tb_clock(&b, START_TSC + clock_dtsc, START_NS + clock_dns);
    tb_end(&b, VT_END_EXIT, 0, 0, START_TSC + 100000 * q);
    tb_close(&b);
    return load(path);
}

/* Ticks become nanoseconds through the clock pairs when they span more than 10 ms, through
 * tsc_hz otherwise; times are exact when the rates are. */
static void test_duration_and_peak_time(void **state)
{
    (void)state;
    /* 1 GHz both ways. */
    vt_model *m = clock_trace("clk1.vtr", 1000000000, SHIFT, (uint64_t)1 << 31, (uint64_t)1 << 31);
    assert_int_equal(m->peak_ns, 1000 * 128);
    assert_int_equal(m->duration_ns, 100000 * 128);
    assert_int_equal(m->threads[0].first_ns, 10 * 128);
    assert_int_equal(m->threads[0].last_ns, 50000 * 128);
    vt_model_free(m);

    /* The clock pairs say 2 ticks per ns; tsc_hz (1 GHz) is only a start-up estimate. */
    m = clock_trace("clk2.vtr", 1000000000, SHIFT, 4000000000ULL, 2000000000ULL);
    assert_int_equal(m->peak_ns, 1000 * 64);
    assert_int_equal(m->duration_ns, 100000 * 64);
    assert_int_equal(m->threads[0].first_ns, 10 * 64);
    assert_int_equal(m->threads[0].last_ns, 50000 * 64);
    vt_model_free(m);

    /* Clock pairs only 5 ms apart are not trusted: tsc_hz (4 GHz) is used. */
    m = clock_trace("clk3.vtr", 4000000000ULL, SHIFT, 1000000, 5000000);
    assert_int_equal(m->peak_ns, 1000 * 32);
    assert_int_equal(m->duration_ns, 100000 * 32);
    vt_model_free(m);

    /* No time shift: one quantum is one tick. */
    m = clock_trace("clk4.vtr", 1000000000, 0, (uint64_t)1 << 31, (uint64_t)1 << 31);
    assert_int_equal(m->peak_ns, 1000);
    assert_int_equal(m->duration_ns, 100000);
    vt_model_free(m);
}

/* Records the model cannot read: the rest of their block is skipped with a warning, and the
 * blocks after it are read. */
static void test_malformed_records(void **state)
{
    (void)state;
    static const uint8_t bad_tags[] = {0x08, 0x0f, 0x1e, 0x32, 0x43, 0x61, 0x70, 0xff};
    for (size_t k = 0; k < sizeof(bad_tags) + 3; k++) {
        tb b;
        const char *path = begin(&b, "malformed.vtr", 1);
        def_stack(&b, 1);
        int th = tb_thread_start(&b, T(1), 9);
        tb_alloc(&b, th, T(2), VT_FN_MALLOC, 1, 1);
        tb_flush(&b);
        tb_alloc(&b, th, T(3), VT_FN_MALLOC, 2, 1);
        if (k < sizeof(bad_tags)) {
            tb_raw_tag(&b, bad_tags[k]);
        } else if (k == sizeof(bad_tags)) {
            /* A free naming an allocation that is not there yet. */
            vt_stream_put_byte(&b.e, VT_COL_TAG, VT_TAG_FREE | VT_FN_FREE);
            vt_stream_put(&b.e, VT_COL_TIME, 0);
            vt_stream_put(&b.e, VT_COL_ORDINAL, b.ord + 1);
        } else if (k == sizeof(bad_tags) + 1) {
            /* A free naming the next allocation (distance 0). */
            vt_stream_put_byte(&b.e, VT_COL_TAG, VT_TAG_FREE | VT_FN_FREE);
            vt_stream_put(&b.e, VT_COL_TIME, 0);
            vt_stream_put(&b.e, VT_COL_ORDINAL, 0);
        } else {
            /* A thread index far beyond any the agent writes. */
            vt_stream_put_byte(&b.e, VT_COL_TAG, VT_TAG_THREAD);
            vt_stream_put(&b.e, VT_COL_THREAD, 1u << 23);
        }
        tb_alloc(&b, th, T(4), VT_FN_MALLOC, 4, 1); /* skipped */
        tb_flush(&b);
        tb_alloc(&b, th, T(5), VT_FN_MALLOC, 8, 1);
        tb_end(&b, VT_END_EXIT, 0, 0, T(6));
        tb_close(&b);
        vt_model *m = load(path);
        ut_assert_contains(m->warnings, "malformed record");
        ut_assert_contains(m->warnings, "block at byte %llu", (unsigned long long)b.block_off[1]);
        assert_int_equal(m->alloc_calls, 3);
        assert_int_equal(m->alloc_bytes, 11);
        assert_int_equal(m->has_end, 1);
        vt_model_free(m);
    }
}

static void test_load_errors(void **state)
{
    (void)state;
    int err = 0;
    char msg[256];
    assert_null(
        vt_model_load(ut_path(ut_tmp_dir, "missing.vtr"), NULL, NULL, &err, msg, sizeof(msg)));
    assert_int_equal(err, VT_ENOENT);

    const char *path = ut_path(ut_tmp_dir, "text.vtr");
    static const char text[] = "hello, this is not a trace at all, not even close\n";
    ut_write_file(path, text, sizeof(text) - 1);
    assert_null(vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg)));
    assert_int_equal(err, VT_EBADMAGIC);
    ut_assert_contains(msg, "byte 0");

    /* A trace with no blocks, and one whose records come before any INFO. */
    tb b;
    path = ut_path(ut_tmp_dir, "noinfo.vtr");
    unlink(path);
    tb_open(&b, path, 0);
    tb_close(&b);
    err = 0;
    assert_null(vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg)));
    assert_int_equal(err, VT_ECORRUPT);
    ut_assert_contains(msg, "no INFO");

    unlink(path);
    tb_open(&b, path, 1);
    def_stack(&b, 1);
    b.n_threads = 1;
    tb_alloc(&b, 0, T(1), VT_FN_MALLOC, 1, 1);
    tb_close(&b);
    err = 0;
    assert_null(vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg)));
    assert_int_equal(err, VT_ECORRUPT);
    ut_assert_contains(msg, "no INFO");
    ut_assert_contains(msg, "malformed record");
}

static void count_progress(uint64_t done, uint64_t total, void *arg)
{
    uint64_t *calls = arg;
    assert_true(done <= total);
    (*calls)++;
}

static void test_progress(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "progress.vtr", 1);
    def_stack(&b, 1);
    int th = tb_thread_start(&b, T(1), 9);
    for (int i = 0; i < 40; i++) {
        tb_alloc(&b, th, T(2 + i), VT_FN_MALLOC, 1, 1);
        tb_flush(&b);
    }
    tb_end(&b, VT_END_EXIT, 0, 0, T(100));
    tb_close(&b);
    uint64_t calls = 0;
    int err = 0;
    char msg[256];
    vt_model *m = vt_model_load(path, count_progress, &calls, &err, msg, sizeof(msg));
    assert_non_null(m);
    assert_int_equal(m->alloc_calls, 40);
    assert_true(calls >= 1);
    assert_true(calls <= 41);
    vt_model_free(m);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Rewrites the payload check and the header check of the raw block at off, as a writer would
 * have for that payload. */
static void resign_raw_block(uint8_t *data, uint64_t off)
{
    uint8_t *h = data + off;
    put_u32(h + 8, vt__fnv1a(h + VT_BLOCK_HEADER_SIZE, get_u32(h + 16)));
    put_u32(h + 36, vt__fnv1a(h, 36));
}

/* Every single-byte change to the payload of a raw block, with its checks recomputed so that
 * the reader hands the damaged records to the model (as a faulty writer's would be): the
 * model reads what it can and never misbehaves (the sanitizers watch). */
static void test_raw_block_bit_flips(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "flips.vtr", 0);
    static const uint8_t bid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    tb_module(&b, "/usr/bin/prog", 0, 0x400000, 0x500000, bid, sizeof(bid));
    def_stack(&b, 1);
    def_stack(&b, 2);
    int t0 = tb_thread_start(&b, T(1), 9);
    uint64_t a = tb_alloc(&b, t0, T(2), VT_FN_MALLOC, 100, 1);
    tb_flush(&b);
    int t1 = tb_thread_start(&b, T(3), 10);
    uint64_t c = tb_alloc(&b, t1, T(4), VT_FN_NEW, 300, 2);
    tb_realloc(&b, t0, T(5), a, 200, 1);
    tb_mmap(&b, t1, T(6), 0x7f0000000000, PAGE, 2);
    tb_munmap(&b, t1, T(7), 0x7f0000000000, PAGE);
    tb_free(&b, t0, T(8), VT_FN_DELETE, c);
    tb_free_unknown(&b, t1, T(9), VT_FN_FREE);
    tb_clock(&b, T(10), START_NS + 1280);
    tb_end(&b, VT_END_SIGNAL, 9, 0, T(11));
    tb_close(&b);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    static const uint8_t flips[] = {0x01, 0x80, 0xff};
    for (uint64_t i = b.block_off[0] + VT_BLOCK_HEADER_SIZE; i < n; i++) {
        if (i >= b.block_off[1] && i < b.block_off[1] + VT_BLOCK_HEADER_SIZE)
            continue;
        uint64_t blk = i >= b.block_off[1] ? b.block_off[1] : b.block_off[0];
        for (size_t f = 0; f < sizeof(flips); f++) {
            data[i] ^= flips[f];
            resign_raw_block(data, blk);
            ut_write_file(path, data, n);
            data[i] ^= flips[f];
            resign_raw_block(data, blk);
            int err = 0;
            char msg[512];
            vt_model *m = vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg));
            if (!m) {
                assert_int_equal(err, VT_ECORRUPT);
                continue;
            }
            assert_true(m->live_blocks <= m->alloc_calls);
            vt_model_free(m);
        }
    }
    free(data);
}

/* A random workload, checked against a plain re-computation of what the model should say.
 * The reference keeps every site's value at the peak by copying them all at each new peak,
 * which is what the model's lazy epochs must amount to. */
#define R_SITES 12
#define R_THREADS 6

struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

struct ref_site {
    uint64_t alloc_calls, alloc_bytes, temporary, live_blocks, live_bytes, peak_bytes, peak_blocks,
        fn_mask;
};

struct ref_thread {
    uint64_t tid, alloc_calls, alloc_bytes, frees, last_alloc, first_tsc;
};

struct ref {
    struct ref_site site[R_SITES + 1];
    struct ref_thread thread[R_THREADS];
    int n_threads;
    uint64_t *size; /* per ordinal */
    int *site_of;   /* per ordinal */
    uint64_t *live; /* ordinals of live blocks */
    size_t n_live;
    size_t *live_at; /* per ordinal: index in live, or SIZE_MAX */
    uint64_t alloc_calls, free_calls, realloc_calls, alloc_bytes, fn_calls[VT_FN_COUNT];
    uint64_t temporary, heap, blocks, peak_bytes, peak_blocks, peak_tsc, unmatched;
};

static void ref_alloc(struct ref *R, tb *b, int th, uint64_t tsc, int fn, uint64_t size, int site)
{
    uint64_t o = tb_alloc(b, th, tsc, fn, size, (uint32_t)site);
    R->size[o] = size;
    R->site_of[o] = site;
    R->live_at[o] = R->n_live;
    R->live[R->n_live++] = o;
    struct ref_site *s = &R->site[site];
    s->alloc_calls++;
    s->alloc_bytes += size;
    s->live_blocks++;
    s->live_bytes += size;
    s->fn_mask |= 1ull << fn;
    R->alloc_calls++;
    R->alloc_bytes += size;
    R->fn_calls[fn]++;
    R->thread[th].alloc_calls++;
    R->thread[th].alloc_bytes += size;
    R->thread[th].last_alloc = o + 1;
    R->heap += size;
    R->blocks++;
    if (R->heap > R->peak_bytes) {
        R->peak_bytes = R->heap;
        R->peak_blocks = R->blocks;
        R->peak_tsc = tsc;
        for (int i = 0; i <= R_SITES; i++) {
            R->site[i].peak_bytes = R->site[i].live_bytes;
            R->site[i].peak_blocks = R->site[i].live_blocks;
        }
    }
}

static void ref_release(struct ref *R, uint64_t o)
{
    size_t at = R->live_at[o];
    R->live[at] = R->live[--R->n_live];
    R->live_at[R->live[at]] = at;
    R->live_at[o] = SIZE_MAX;
    struct ref_site *s = &R->site[R->site_of[o]];
    s->live_blocks--;
    s->live_bytes -= R->size[o];
    R->heap -= R->size[o];
    R->blocks--;
}

/* fn -1: an implied release. */
static void ref_free(struct ref *R, tb *b, int th, uint64_t tsc, int fn, uint64_t o)
{
    int is_realloc = fn == VT_FN_REALLOC || fn == VT_FN_REALLOCARRAY;
    if (fn < 0)
        tb_free_implied(b, th, tsc, o);
    else
        tb_free(b, th, tsc, fn, o);
    if (is_realloc) {
        R->realloc_calls++;
    } else if (fn >= 0) {
        R->free_calls++;
        R->fn_calls[fn]++;
        R->thread[th].frees++;
        if (R->thread[th].last_alloc == o + 1) {
            R->temporary++;
            R->site[R->site_of[o]].temporary++;
        }
    }
    ref_release(R, o);
}

static void random_workload(int compress, uint64_t seed, int n_ops)
{
    static const int alloc_fns[] = {VT_FN_MALLOC,        VT_FN_CALLOC,   VT_FN_POSIX_MEMALIGN,
                                    VT_FN_ALIGNED_ALLOC, VT_FN_MEMALIGN, VT_FN_VALLOC,
                                    VT_FN_PVALLOC,       VT_FN_NEW,      VT_FN_NEW_ARRAY,
                                    VT_FN_REALLOC};
    static const int free_fns[] = {VT_FN_FREE, VT_FN_DELETE, VT_FN_DELETE_ARRAY};
    struct rng rng = {seed};
    struct ref *R = calloc(1, sizeof(*R));
    assert_non_null(R);
    size_t max_ord = (size_t)n_ops * 2 + 16;
    R->size = calloc(max_ord, sizeof(*R->size));
    R->site_of = calloc(max_ord, sizeof(*R->site_of));
    R->live = calloc(max_ord, sizeof(*R->live));
    R->live_at = calloc(max_ord, sizeof(*R->live_at));
    assert_true(R->size && R->site_of && R->live && R->live_at);

    tb b;
    char name[64];
    snprintf(name, sizeof(name), "random-%d-%llu.vtr", compress, (unsigned long long)seed);
    const char *path = begin(&b, name, compress);
    for (uint32_t id = 1; id <= R_SITES; id++)
        def_stack(&b, id);
    uint64_t tsc = T(1);
    R->thread[0].tid = 1000;
    R->thread[0].first_tsc = tsc;
    tb_thread_start(&b, tsc, 1000);
    R->n_threads = 1;
    int th = 0;
    for (int op = 0; op < n_ops; op++) {
        tsc += (rnd(&rng) % 4) << SHIFT;
        int k = (int)(rnd(&rng) % 100);
        /* The heap grows for the first half and shrinks in the second, so that the peak is in
         * the middle and the sites keep changing after it. */
        if (op >= n_ops / 2 && k < 40 && rnd(&rng) % 3)
            k = 40 + (int)(rnd(&rng) % 25);
        if (k < 5)
            th = (int)(rnd(&rng) % (uint64_t)R->n_threads);
        if (k < 40 || R->n_live == 0) {
            uint64_t r = rnd(&rng);
            uint64_t size = r % 16 == 0 ? 0 : r % 256 == 1 ? (uint64_t)1 << 30 : r % 5000;
            int fn = alloc_fns[rnd(&rng) % (sizeof(alloc_fns) / sizeof(alloc_fns[0]))];
            /* Skewed so that a few sites hold most of the heap. */
            int site = 1 + (int)(rnd(&rng) % R_SITES) * (int)(rnd(&rng) % 2);
            ref_alloc(R, &b, th, tsc, fn, size, site);
        } else if (k < 65) {
            uint64_t o = R->live[rnd(&rng) % R->n_live];
            int fn = free_fns[rnd(&rng) % 3];
            ref_free(R, &b, th, tsc, fn, o);
        } else if (k < 75) {
            /* Free this thread's latest allocation when it is still live: a temporary. */
            uint64_t la = R->thread[th].last_alloc;
            if (la && R->live_at[la - 1] != SIZE_MAX)
                ref_free(R, &b, th, tsc, VT_FN_FREE, la - 1);
        } else if (k < 83) {
            uint64_t o = R->live[rnd(&rng) % R->n_live];
            int fn = rnd(&rng) % 4 ? VT_FN_REALLOC : VT_FN_REALLOCARRAY;
            int site = R->site_of[o];
            ref_free(R, &b, th, tsc, fn, o);
            ref_alloc(R, &b, th, tsc, fn, rnd(&rng) % 10000, site);
        } else if (k < 86) {
            int fn = free_fns[rnd(&rng) % 3];
            tb_free_unknown(&b, th, tsc, fn);
            R->free_calls++;
            R->fn_calls[fn]++;
            R->thread[th].frees++;
            R->unmatched++;
        } else if (k < 89) {
            uint64_t o = R->live[rnd(&rng) % R->n_live];
            ref_free(R, &b, th, tsc, -1, o);
        } else if (k < 91 && R->n_threads < R_THREADS) {
            th = R->n_threads++;
            R->thread[th].tid = 2000 + (uint64_t)th;
            R->thread[th].first_tsc = tsc;
            assert_int_equal(tb_thread_start(&b, tsc, 2000 + (uint64_t)th), th);
        } else if (k < 93) {
            tb_flush(&b);
        } else if (k < 94) {
            tb_clock(&b, tsc, START_NS + (tsc - START_TSC));
        }
    }
    tsc += 128;
    tb_end(&b, VT_END_EXIT, 0, 0, tsc);
    tb_close(&b);
    assert_true(b.n_blocks > 10);

    vt_model *m = load(path);
    assert_null(m->warnings);
    assert_int_equal(m->alloc_calls, R->alloc_calls);
    assert_int_equal(m->alloc_bytes, R->alloc_bytes);
    assert_int_equal(m->free_calls, R->free_calls);
    assert_int_equal(m->realloc_calls, R->realloc_calls);
    for (int fn = 0; fn < VT_FN_COUNT; fn++)
        assert_int_equal(m->fn_calls[fn], R->fn_calls[fn]);
    assert_int_equal(m->temporary, R->temporary);
    assert_int_equal(m->unmatched_frees, R->unmatched);
    assert_int_equal(m->live_bytes, R->heap);
    assert_int_equal(m->live_blocks, R->blocks);
    assert_int_equal(m->peak_bytes, R->peak_bytes);
    assert_int_equal(m->peak_blocks, R->peak_blocks);
    assert_int_equal(m->peak_ns, R->peak_tsc - START_TSC);
    /* The workload did what it is for: a peak well before the end. */
    assert_true(m->peak_ns < m->duration_ns * 3 / 4);
    assert_int_equal(m->duration_ns, tsc - START_TSC);
    for (uint32_t id = 1; id <= R_SITES; id++) {
        const struct ref_site *rs = &R->site[id];
        const vt_site *s = find_site(m, id);
        if (!rs->alloc_calls) {
            assert_null(s);
            continue;
        }
        assert_non_null(s);
        assert_int_equal(s->alloc_calls, rs->alloc_calls);
        assert_int_equal(s->alloc_bytes, rs->alloc_bytes);
        assert_int_equal(s->temporary, rs->temporary);
        assert_int_equal(s->live_blocks, rs->live_blocks);
        assert_int_equal(s->live_bytes, rs->live_bytes);
        assert_int_equal(s->peak_bytes, rs->peak_bytes);
        assert_int_equal(s->peak_blocks, rs->peak_blocks);
        assert_int_equal(s->fn_mask, rs->fn_mask);
    }
    assert_int_equal(m->n_threads, R->n_threads);
    for (int i = 0; i < R->n_threads; i++) {
        assert_int_equal(m->threads[i].tid, R->thread[i].tid);
        assert_int_equal(m->threads[i].alloc_calls, R->thread[i].alloc_calls);
        assert_int_equal(m->threads[i].alloc_bytes, R->thread[i].alloc_bytes);
        assert_int_equal(m->threads[i].frees, R->thread[i].frees);
        assert_int_equal(m->threads[i].first_ns, R->thread[i].first_tsc - START_TSC);
    }
    vt_model_free(m);
    free(R->size);
    free(R->site_of);
    free(R->live);
    free(R->live_at);
    free(R);
}

static void test_random_against_reference(void **state)
{
    (void)state;
    random_workload(1, 0x9e3779b97f4a7c15ULL, 40000);
    random_workload(0, 12345, 20000);
    random_workload(1, 777, 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_peak_attribution),
        cmocka_unit_test(test_peak_moves_later),
        cmocka_unit_test(test_leaks),
        cmocka_unit_test(test_leak_classes),
        cmocka_unit_test(test_temporaries),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_free_unknown),
        cmocka_unit_test(test_free_implied),
        cmocka_unit_test(test_mmap),
        cmocka_unit_test(test_duplicate_stacks),
        cmocka_unit_test(test_three_blocks_intact),
        cmocka_unit_test(test_corrupted_middle_block),
        cmocka_unit_test(test_truncated_mid_block),
        cmocka_unit_test(test_no_end),
        cmocka_unit_test(test_exec_stopped_forked),
        cmocka_unit_test(test_duration_and_peak_time),
        cmocka_unit_test(test_malformed_records),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_raw_block_bit_flips),
        cmocka_unit_test(test_random_against_reference),
    };
    /* UT_FILTER=test_mmap runs the tests whose names match (cmocka's wildcards). */
    if (getenv("UT_FILTER"))
        cmocka_set_test_filter(getenv("UT_FILTER"));
    return cmocka_run_group_tests(tests, ut_setup_tmp_dir, ut_teardown_tmp_dir);
}

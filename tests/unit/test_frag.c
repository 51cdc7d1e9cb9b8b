/* Unit tests for analyze/frag.c and what the model reads for it: internal waste per site and
 * at the peak, the bounded memory series, the samples at the peak and at exit, stack usage and
 * the figures derived from them. Synthetic traces (trace-builder.h) whose numbers are known by
 * construction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analyze/frag.h"
#include "analyze/model.h"
#include "analyze/sites.h"
#include "trace/format.h"
#include "trace-builder.h"
#include "unit-util.h"

/* 1 GHz, quanta of 128 ticks: T(k) is k * 128 ns after the start. */
#define SHIFT 7
#define START_TSC ((uint64_t)1 << 40)
#define T(k) (START_TSC + ((uint64_t)(k) << SHIFT))

static const char *begin(tb *b, const char *name)
{
    const char *path = ut_path(ut_tmp_dir, name);
    unlink(path);
    tb_open(b, path, 1);
    tb_info_args info = {.pid = 7,
                         .ppid = 6,
                         .tsc_hz = 1000000000,
                         .start_tsc = START_TSC,
                         .start_ns = 1000000000,
                         .depth = 64,
                         .time_shift = SHIFT,
                         .exe = "/bin/frag"};
    tb_info(b, &info);
    for (uint32_t id = 1; id <= 3; id++) {
        uint64_t f[2] = {0x400000 + id * 16, 0x401000};
        tb_stack(b, id, f, 2);
    }
    return path;
}

static vt_model *load(const char *path)
{
    int err = 0;
    char msg[512] = "";
    vt_model *m = vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg));
    if (!m)
        fail_msg("cannot load %s: %d %s", path, err, msg);
    assert_null(m->warnings);
    return m;
}

static const vt_site *site(const vt_model *m, uint32_t id)
{
    for (size_t i = 0; i < m->n_sites; i++) {
        const vt_stack *st = &m->stacks[m->sites[i].stack];
        if (st->depth == 2 && st->frames[0] == 0x400000 + id * 16)
            return &m->sites[i];
    }
    fail_msg("no site for stack %u", id);
    return NULL;
}

/* Waste over all allocations, at the peak and at the end, per site and overall. */
static void test_waste(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "waste.vtr");
    int th = tb_thread_start(&b, T(1), 100);
    uint64_t a = tb_alloc_waste(&b, th, T(2), VT_FN_MALLOC, 1, 1, 23);   /* kept */
    uint64_t c = tb_alloc_waste(&b, th, T(3), VT_FN_MALLOC, 100, 2, 4);  /* freed after peak */
    uint64_t d = tb_alloc_waste(&b, th, T(4), VT_FN_MALLOC, 1000, 3, 8); /* the peak: 1101 */
    tb_free(&b, th, T(5), VT_FN_FREE, d);
    tb_free(&b, th, T(6), VT_FN_FREE, c);
    tb_alloc_waste(&b, th, T(7), VT_FN_MALLOC, 24, 1, 0); /* kept, no waste */
    tb_end(&b, VT_END_EXIT, 0, 0, T(8));
    tb_close(&b);
    (void)a;

    vt_model *m = load(path);
    assert_true(m->has_waste);
    assert_int_equal(m->peak_bytes, 1101);
    assert_int_equal(m->waste_bytes, 35);
    assert_int_equal(m->peak_waste, 35);
    assert_int_equal(m->live_waste, 23);
    const vt_site *s1 = site(m, 1), *s2 = site(m, 2), *s3 = site(m, 3);
    assert_int_equal(s1->waste_bytes, 23);
    assert_int_equal(s1->peak_waste, 23);
    assert_int_equal(s1->live_waste, 23);
    assert_int_equal(s2->waste_bytes, 4);
    assert_int_equal(s2->peak_waste, 4);
    assert_int_equal(s2->live_waste, 0);
    assert_int_equal(s3->peak_waste, 8);
    assert_int_equal(s3->live_waste, 0);

    vt_waste w;
    vt_frag_waste(m, 0, &w);
    assert_int_equal(w.requested, 1 + 100 + 1000 + 24);
    assert_int_equal(w.usable, 1125 + 35);
    assert_true(w.pct > 3.0172 && w.pct < 3.0173); /* 35 / 1160 */
    vt_frag_waste(m, 2, &w);
    assert_int_equal(w.requested, 25);
    assert_int_equal(w.usable, 48);
    vt_frag_site_waste(s2, 1, &w);
    assert_int_equal(w.usable, 104);

    size_t idx[4], total = 0;
    assert_int_equal(vt_sites_rank(m, VT_BY_WASTE, idx, 4, &total), 3);
    assert_int_equal(total, 3);
    assert_ptr_equal(&m->sites[idx[0]], s1);
    assert_ptr_equal(&m->sites[idx[1]], s3);
    vt_model_free(m);
}

/* A long run: the series never holds more than VT_MEM_POINTS_MAX points, every sample is in
 * one of them, and each point keeps the least and greatest value of what it merges. */
static void test_series_bounded(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "series.vtr");
    int th = tb_thread_start(&b, T(1), 100);
    enum { N = 3000 };
    uint64_t peak_ord = 0;
    for (uint64_t i = 0; i < N; i++) {
        if (i == 1000)
            peak_ord = tb_alloc_waste(&b, th, T(10 + 10 * i), VT_FN_MALLOC, 5000, 1, 8);
        if (i == 1500)
            tb_free(&b, th, T(11 + 10 * i), VT_FN_FREE, peak_ord);
        /* rss goes up and down: 1000 + i, or + 7 on odd samples */
        uint64_t v[6] = {1000 + i + (i % 2) * 7, 200 + i, 0, 100 + i, 100, 50};
        tb_meminfo(&b, T(12 + 10 * i), v);
    }
    tb_end(&b, VT_END_EXIT, 0, 0, T(20 + 10 * N));
    tb_close(&b);

    vt_model *m = load(path);
    assert_int_equal(m->mem_samples, N);
    assert_true(m->n_mem <= VT_MEM_POINTS_MAX);
    assert_true(m->n_mem > VT_MEM_POINTS_MAX / 4);
    uint64_t samples = 0, prev_end = 0;
    for (size_t i = 0; i < m->n_mem; i++) {
        const vt_mem_point *p = &m->mem[i];
        assert_true(p->ns <= p->ns_end);
        assert_true(i == 0 || p->ns > prev_end);
        prev_end = p->ns_end;
        /* Point i holds samples [first, first + n): rss min is the first (even) one's. */
        uint64_t first = samples;
        samples += p->samples;
        uint64_t last = samples - 1;
        assert_int_equal(p->min[VT_MEM_ARENA], 200 + first);
        assert_int_equal(p->max[VT_MEM_ARENA], 200 + last);
        if (p->samples > 1) {
            uint64_t odd_last = last % 2 ? last : last - 1;
            assert_int_equal(p->max[VT_MEM_RSS], 1000 + odd_last + 7);
            assert_int_equal(p->min[VT_MEM_RSS], 1000 + first + first % 2);
        }
        assert_int_equal(p->min[VT_MEM_HEAP], first >= 1000 && last < 1500 ? 5000 : 0);
    }
    assert_int_equal(samples, N);
    /* The sample after the peak is sample 1000 (taken 2 quanta after the allocation). */
    assert_true(m->has_mem_at_peak);
    assert_int_equal(m->mem_at_peak.samples, 1);
    assert_int_equal(m->mem_at_peak.max[VT_MEM_ARENA], 1200);
    assert_int_equal(m->mem_at_peak.max[VT_MEM_HEAP], 5000);
    assert_int_equal(m->mem_at_peak.ns, (uint64_t)(12 + 10 * 1000) * 128);
    assert_true(m->has_mem_at_exit);
    assert_int_equal(m->mem_at_exit.max[VT_MEM_ARENA], 200 + N - 1);
    assert_int_equal(m->mem_at_exit.max[VT_MEM_HEAP], 0);
    vt_model_free(m);
}

/* A peak after the last sample: no sample stands for it. */
static void test_no_sample_after_peak(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "late_peak.vtr");
    int th = tb_thread_start(&b, T(1), 100);
    uint64_t v[6] = {4096, 0, 0, 0, 0, 0};
    tb_alloc_waste(&b, th, T(2), VT_FN_MALLOC, 10, 1, 6);
    tb_meminfo(&b, T(3), v);
    tb_alloc_waste(&b, th, T(4), VT_FN_MALLOC, 10, 1, 6);
    tb_end(&b, VT_END_EXIT, 0, 0, T(5));
    tb_close(&b);
    vt_model *m = load(path);
    assert_int_equal(m->mem_samples, 1);
    assert_false(m->has_mem_at_peak);
    assert_true(m->has_mem_at_exit);
    assert_int_equal(m->mem_at_exit.max[VT_MEM_HEAP], 10);
    vt_model_free(m);
}

/* The derived figures of one sample. */
static void test_figures(void **state)
{
    (void)state;
    vt_mem_point p;
    uint64_t v[VT_MEM_FIELDS] = {0};
    v[VT_MEM_RSS] = 8000;
    v[VT_MEM_ARENA] = 3000;
    v[VT_MEM_HBLKHD] = 1000;
    v[VT_MEM_UORDBLKS] = 2000;
    v[VT_MEM_FORDBLKS] = 1000;
    v[VT_MEM_KEEPCOST] = 400;
    v[VT_MEM_HEAP] = 2000;
    vt__mem_point_set(&p, v, 5);
    vt_mem_figures f;
    vt_mem_figures_of(&p, &f);
    assert_int_equal(f.footprint, 4000);
    assert_int_equal(f.in_use, 3000);
    assert_int_equal(f.free_held, 1000);
    assert_int_equal(f.releasable, 400);
    assert_true(f.free_pct > 33.33 && f.free_pct < 33.34);
    assert_true(f.chunk_pct > 33.33 && f.chunk_pct < 33.34);
    assert_true(f.overhead_pct == 50.0);
    assert_true(f.rss_per_heap == 4.0);
    /* No heap: no ratio to it, and no negative share when the trace counts more. */
    v[VT_MEM_HEAP] = 0;
    vt__mem_point_set(&p, v, 5);
    vt_mem_figures_of(&p, &f);
    assert_true(f.rss_per_heap == 0.0);
    v[VT_MEM_HEAP] = 10000;
    vt__mem_point_set(&p, v, 5);
    vt_mem_figures_of(&p, &f);
    assert_true(f.chunk_pct == 0.0 && f.overhead_pct == 0.0);
}

/* STACK_USAGE names a thread by index; 90% of the size is near the limit. */
static void test_stack_usage(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "stacks.vtr");
    int t0 = tb_thread_start(&b, T(1), 100);
    int t1 = tb_thread_start(&b, T(2), 101);
    int t2 = tb_thread_start(&b, T(3), 102);
    tb_stack_usage(&b, t1, 65536, 58982); /* just under 90% */
    tb_thread_exit(&b, t1, T(4));
    tb_stack_usage(&b, t2, 65536, 58983); /* just over */
    tb_stack_usage(&b, t0, 8 << 20, 16384);
    tb_end(&b, VT_END_EXIT, 0, 0, T(5));
    tb_close(&b);
    vt_model *m = load(path);
    assert_int_equal(m->n_threads, 3);
    assert_true(m->threads[0].has_stack);
    assert_int_equal(m->threads[0].stack_size, 8 << 20);
    assert_int_equal(m->threads[0].stack_used, 16384);
    assert_int_equal(m->threads[1].stack_used, 58982);
    assert_false(vt_stack_near_limit(&m->threads[0]));
    assert_false(vt_stack_near_limit(&m->threads[1]));
    assert_true(vt_stack_near_limit(&m->threads[2]));
    vt_model_free(m);
    vt_thread_stats none = {0};
    assert_false(vt_stack_near_limit(&none));
}

/* A 1.1 trace: ALLOC has no waste field, and the model says it does not know. */
static void test_minor_1_has_no_waste(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "v1_1.vtr");
    int th = tb_thread_start(&b, T(1), 100);
    tb_switch(&b, th);
    for (int i = 0; i < 3; i++) {
        vt_stream_put_byte(&b.e, VT_COL_TAG, (uint8_t)(VT_TAG_ALLOC | VT_FN_MALLOC));
        tb_time(&b, T(2 + i));
        vt_stream_put(&b.e, VT_COL_SIZE, 10);
        vt_stream_put(&b.e, VT_COL_STACK, 1);
        b.ord++;
    }
    tb_end(&b, VT_END_EXIT, 0, 0, T(9));
    tb_close(&b);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    data[10] = 1; /* minor version */
    ut_write_file(path, data, n);
    free(data);
    vt_model *m = load(path);
    assert_false(m->has_waste);
    assert_int_equal(m->alloc_calls, 3);
    assert_int_equal(m->live_bytes, 30);
    assert_int_equal(m->waste_bytes, 0);
    assert_int_equal(m->mem_samples, 0);
    vt_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waste),
        cmocka_unit_test(test_series_bounded),
        cmocka_unit_test(test_no_sample_after_peak),
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_stack_usage),
        cmocka_unit_test(test_minor_1_has_no_waste),
    };
    return cmocka_run_group_tests(tests, ut_setup_tmp_dir, ut_teardown_tmp_dir);
}

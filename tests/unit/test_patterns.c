/* Unit tests for analyze/timeline.c, lifetime.c and patterns.c: synthetic traces
 * (trace-builder.h) whose times, sizes, chains and threads are known by construction, including
 * runs of hours that a test program could not make. */
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
#include "analyze/sites.h"
#include "trace/format.h"
#include "trace-builder.h"
#include "unit-util.h"

/* A 1 GHz clock, so that a tick is a nanosecond; quanta of 128 ticks. Times that must come out
 * exact are multiples of 128 ns. */
#define SHIFT 7
#define START_TSC ((uint64_t)1 << 40)
#define AT(ns) (START_TSC + (uint64_t)(ns))
#define MS 1000000ull
#define SEC 1000000000ull

static tb_info_args info(void)
{
    static const char *const argv[] = {"prog", NULL};
    return (tb_info_args){
        .pid = 1,
        .ppid = 0,
        .tsc_hz = 1000000000,
        .start_tsc = START_TSC,
        .start_ns = 5 * SEC,
        .depth = 64,
        .time_shift = SHIFT,
        .exe = "/usr/bin/prog",
        .argv = argv,
    };
}

static const char *begin(tb *b, const char *name, uint32_t n_stacks)
{
    const char *path = ut_path(ut_tmp_dir, name);
    unlink(path);
    tb_open(b, path, 1);
    tb_info_args a = info();
    tb_info(b, &a);
    for (uint32_t id = 1; id <= n_stacks; id++) {
        uint64_t f[2] = {0x400000 + id * 0x10, 0x401000};
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

/* The index of the site of stack id. */
static size_t site_of(const vt_model *m, uint32_t id)
{
    for (size_t i = 0; i < m->n_sites; i++) {
        const vt_stack *st = &m->stacks[m->sites[i].stack];
        if (st->depth == 2 && st->frames[0] == 0x400000 + id * 0x10)
            return i;
    }
    fail_msg("no site for stack %u", id);
    return 0;
}

/* The sums that hold for any trace: buckets account for every allocation, the highest bucket
 * is the peak, the last ends at what is live at the end. */
static void check_timeline_totals(const vt_model *m)
{
    const vt_timeline *t = &m->timeline;
    uint64_t calls = 0, bytes = 0, max = 0;
    assert_true(t->n_buckets >= 1 && t->n_buckets <= VT_TIMELINE_BUCKETS);
    for (size_t i = 0; i < t->n_buckets; i++) {
        const vt_heap_bucket *b = &t->buckets[i];
        calls += b->alloc_calls;
        bytes += b->alloc_bytes;
        max = b->max_bytes > max ? b->max_bytes : max;
        assert_true(b->min_bytes <= b->end_bytes && b->end_bytes <= b->max_bytes);
        if (i)
            assert_true(b->end_ns >= t->buckets[i - 1].end_ns);
    }
    assert_int_equal(calls, m->alloc_calls);
    assert_int_equal(bytes, m->alloc_bytes);
    assert_int_equal(max, m->peak_bytes);
    assert_int_equal(t->buckets[t->n_buckets - 1].end_bytes, m->live_bytes);
    assert_int_equal(t->buckets[t->n_buckets - 1].end_ns, m->duration_ns);
    /* Every allocation is released once or is still live. */
    uint64_t lives = 0;
    for (int k = 0; k < VT_LIFE_CLASSES; k++)
        lives += m->lifetimes.freed_class[k] + m->lifetimes.live_class[k];
    assert_int_equal(lives, m->alloc_calls);
    assert_int_equal(m->lifetimes.live_blocks, m->live_blocks);
}

/* Site 1 keeps one more 1000 B block every 5 ms for a second and frees them all at the end;
 * site 2 holds one block at a time; site 3 grows only in the first 50 ms. Only site 1 is a
 * growth suspect, although nothing leaks. */
static void test_growth(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "growth.vtr", 3);
    int th = tb_thread_start(&b, AT(0), 10);
    uint64_t kept[200], flat = 0;
    for (int i = 0; i < 200; i++) {
        uint64_t t = (uint64_t)i * 5 * MS;
        kept[i] = tb_alloc(&b, th, AT(t), VT_FN_MALLOC, 1000, 1);
        uint64_t f = tb_alloc(&b, th, AT(t), VT_FN_MALLOC, 1000, 2);
        if (i)
            tb_free(&b, th, AT(t), VT_FN_FREE, flat);
        flat = f;
        if (i < 10)
            tb_alloc(&b, th, AT(t), VT_FN_MALLOC, 10000, 3);
    }
    for (int i = 0; i < 200; i++)
        tb_free(&b, th, AT(SEC), VT_FN_FREE, kept[i]);
    tb_end(&b, VT_END_EXIT, 0, 0, AT(SEC));
    tb_close(&b);

    vt_model *m = load(path);
    const vt_timeline *t = &m->timeline;
    check_timeline_totals(m);
    /* Buckets of 128 ticks doubled until 1024 of them hold a second: 2^20 ticks each. */
    assert_int_equal(t->n_buckets, SEC / (1 << 20) + 1);
    assert_int_equal(t->buckets[0].end_ns, 1 << 20);
    assert_int_equal(t->n_windows, t->n_buckets / 32 + 1);
    assert_int_equal(t->window_end_ns[0], 32 << 20);
    /* The first bucket starts empty and ends holding the first three blocks. */
    assert_int_equal(t->buckets[0].min_bytes, 0);
    assert_int_equal(t->buckets[0].max_bytes, 12000);
    assert_int_equal(t->buckets[0].end_bytes, 12000);
    assert_int_equal(t->buckets[0].alloc_calls, 3);
    assert_int_equal(t->n_suspects, 1);

    const vt_site_growth *g1 = &t->sites[site_of(m, 1)];
    assert_true(g1->suspect);
    assert_int_equal(g1->windows, t->n_windows * 9 / 10);
    assert_int_equal(g1->rises, g1->windows - 1);
    /* Window 0 ends at 33.5 ms (7 blocks made by then), window 26 at 906 ms (182 blocks). */
    assert_int_equal(g1->windows, 27);
    assert_int_equal(g1->from_bytes, 7 * 1000);
    assert_int_equal(g1->to_bytes, 182 * 1000);
    assert_int_equal(g1->points[t->n_windows - 1], 0); /* all freed at the end */
    const vt_site_growth *g2 = &t->sites[site_of(m, 2)];
    assert_false(g2->suspect);
    assert_int_equal(g2->rises, 0);
    assert_int_equal(g2->from_bytes, 1000);
    assert_int_equal(g2->to_bytes, 1000);
    const vt_site_growth *g3 = &t->sites[site_of(m, 3)];
    assert_false(g3->suspect);
    assert_int_equal(g3->rises, 1);
    assert_int_equal(g3->to_bytes, 100000);

    size_t idx[4], total = 0;
    assert_int_equal(vt_sites_rank_pattern(m, VT_BY_GROWTH, idx, 4, &total), 1);
    assert_int_equal(total, 1);
    assert_int_equal(idx[0], site_of(m, 1));
    assert_int_equal(vt_site_pattern_value(m, idx[0], VT_BY_GROWTH), 175000);
    vt_model_free(m);
}

/* Lifetimes in each class, ages of blocks live at the end, over a run of two hours. */
static void test_lifetime_classes(void **state)
{
    (void)state;
    assert_int_equal(vt_lifetime_bucket(0), 0);
    assert_int_equal(vt_lifetime_bucket(1023), 0);
    assert_int_equal(vt_lifetime_bucket(1024), 1);
    assert_int_equal(vt_lifetime_bucket(2047), 1);
    assert_int_equal(vt_lifetime_bucket(2048), 2);
    assert_int_equal(vt_lifetime_bucket(SEC / 2), 19); /* [2^28, 2^29) ns */
    assert_int_equal(vt_lifetime_bucket((1ull << 42) - 1), VT_LIFETIME_BUCKETS - 2);
    assert_int_equal(vt_lifetime_bucket(1ull << 42), VT_LIFETIME_BUCKETS - 1);
    assert_int_equal(vt_lifetime_bucket(UINT64_MAX), VT_LIFETIME_BUCKETS - 1);
    assert_int_equal(vt_lifetime_bucket_floor(19), 1ull << 28);
    assert_int_equal(vt_life_class_of(SEC - 1), VT_LIFE_SHORT);
    assert_int_equal(vt_life_class_of(SEC), VT_LIFE_MEDIUM);
    assert_int_equal(vt_life_class_of(60 * SEC), VT_LIFE_LONG);
    assert_int_equal(vt_life_class_of(3600 * SEC), VT_LIFE_PERMANENT);

    tb b;
    const char *path = begin(&b, "lifetimes.vtr", 2);
    int th = tb_thread_start(&b, AT(0), 10);
    const uint64_t end = 7210 * SEC;
    /* Released after 0.5 s, 2 s, 90 s and 2 h. */
    uint64_t a = tb_alloc(&b, th, AT(0), VT_FN_MALLOC, 10, 1);
    uint64_t c = tb_alloc(&b, th, AT(0), VT_FN_MALLOC, 10, 1);
    uint64_t d = tb_alloc(&b, th, AT(0), VT_FN_MALLOC, 10, 1);
    uint64_t e = tb_alloc(&b, th, AT(0), VT_FN_MALLOC, 10, 1);
    tb_alloc(&b, th, AT(0), VT_FN_MALLOC, 20, 2); /* 7210 s old at the end */
    tb_free(&b, th, AT(SEC / 2), VT_FN_FREE, a);
    tb_free(&b, th, AT(2 * SEC), VT_FN_FREE, c);
    tb_free(&b, th, AT(90 * SEC), VT_FN_FREE, d);
    tb_alloc(&b, th, AT(end - 300 * SEC), VT_FN_MALLOC, 20, 2); /* 5 min: long */
    tb_alloc(&b, th, AT(end - 30 * SEC), VT_FN_MALLOC, 20, 2);  /* medium */
    tb_free(&b, th, AT(7200 * SEC), VT_FN_FREE, e);
    tb_alloc(&b, th, AT(end - SEC / 10), VT_FN_MALLOC, 20, 2); /* short */
    tb_end(&b, VT_END_EXIT, 0, 0, AT(end));
    tb_close(&b);

    vt_model *m = load(path);
    const vt_lifetimes *lt = &m->lifetimes;
    check_timeline_totals(m);
    for (int k = 0; k < VT_LIFE_CLASSES; k++) {
        assert_int_equal(lt->freed_class[k], 1);
        assert_int_equal(lt->live_class[k], 1);
    }
    assert_int_equal(lt->freed[19], 1); /* 0.5 s */
    assert_int_equal(lt->freed[vt_lifetime_bucket(2 * SEC)], 1);
    assert_int_equal(lt->freed[vt_lifetime_bucket(90 * SEC)], 1);
    assert_int_equal(lt->freed[VT_LIFETIME_BUCKETS - 1], 1); /* 2 h */
    assert_int_equal(lt->live_age[VT_LIFETIME_BUCKETS - 1], 1);
    assert_int_equal(lt->live_age[vt_lifetime_bucket(SEC / 10)], 1);
    assert_int_equal(lt->live_blocks, 4);
    assert_int_equal(lt->oldest_ns, end);
    assert_int_equal(lt->oldest_site, site_of(m, 2));
    const vt_site_lifetimes *s1 = &lt->sites[site_of(m, 1)], *s2 = &lt->sites[site_of(m, 2)];
    assert_int_equal(s1->freed_class[VT_LIFE_PERMANENT], 1);
    assert_int_equal(s1->live_class[VT_LIFE_SHORT], 0);
    assert_int_equal(s2->live_class[VT_LIFE_LONG], 1);
    assert_int_equal(s2->oldest_ns, end);
    assert_int_equal(vt_lifetime_percentile(lt->freed, 25), 1ull << 29);
    assert_int_equal(vt_lifetime_percentile(lt->freed, 100), UINT64_MAX);
    /* Two hours in at most 1024 buckets. */
    assert_true(m->timeline.n_buckets <= VT_TIMELINE_BUCKETS);
    assert_true(m->timeline.n_buckets > VT_TIMELINE_BUCKETS / 2);
    vt_model_free(m);
}

/* INFO's frequency is ten times too low (the agent was preempted while measuring it); the clock
 * pairs say 1 GHz. Lifetimes follow the clock pairs, as every other time does. */
static void test_lifetime_clock_fit(void **state)
{
    (void)state;
    tb b;
    const char *path = ut_path(ut_tmp_dir, "clockfit.vtr");
    unlink(path);
    tb_open(&b, path, 1);
    tb_info_args a = info();
    a.tsc_hz = 100000000;
    tb_info(&b, &a);
    uint64_t f[2] = {0x400010, 0x401000};
    tb_stack(&b, 1, f, 2);
    int th = tb_thread_start(&b, AT(0), 10);
    uint64_t o = tb_alloc(&b, th, AT(0), VT_FN_MALLOC, 10, 1);
    tb_clock(&b, AT(SEC / 10), a.start_ns + SEC / 10);
    tb_free(&b, th, AT(SEC / 2), VT_FN_FREE, o);
    tb_flush(&b);
    tb_alloc(&b, th, AT(SEC), VT_FN_MALLOC, 10, 1);
    tb_clock(&b, AT(2 * SEC), a.start_ns + 2 * SEC);
    tb_end(&b, VT_END_EXIT, 0, 0, AT(2 * SEC));
    tb_close(&b);

    vt_model *m = load(path);
    assert_int_equal(m->duration_ns, 2 * SEC);
    assert_int_equal(m->lifetimes.freed_class[VT_LIFE_SHORT], 1);
    assert_int_equal(m->lifetimes.freed[19], 1); /* 0.5 s, not 5 s */
    assert_int_equal(m->lifetimes.live_class[VT_LIFE_MEDIUM], 1);
    assert_int_equal(m->lifetimes.oldest_ns, SEC);
    vt_model_free(m);
}

/* A chain of five reallocs, with another thread's allocation between the two halves of one;
 * realloc(NULL) starts a chain; realloc(p, 0) followed by malloc continues none. */
static void test_realloc_chains(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "chains.vtr", 3);
    int t0 = tb_thread_start(&b, AT(0), 10);
    int t1 = tb_thread_start(&b, AT(0), 11);
    uint64_t o = tb_alloc(&b, t0, AT(128), VT_FN_MALLOC, 16, 1);
    for (int k = 1; k <= 5; k++) {
        tb_free(&b, t0, AT(k * 1024), VT_FN_REALLOC, o);
        if (k == 3)
            tb_alloc(&b, t1, AT(k * 1024), VT_FN_MALLOC, 8, 2);
        o = tb_alloc(&b, t0, AT(k * 1024 + 128), VT_FN_REALLOC, 16u << k, 3);
    }
    uint64_t r = tb_alloc(&b, t1, AT(8192), VT_FN_REALLOC, 100, 3); /* realloc(NULL, 100) */
    r = tb_realloc(&b, t1, AT(8320), r, 50, 3);
    tb_free(&b, t1, AT(8448), VT_FN_REALLOC, r); /* realloc(r, 0) */
    tb_alloc(&b, t1, AT(8576), VT_FN_MALLOC, 8, 2);
    tb_free(&b, t0, AT(9000), VT_FN_FREE, o);
    tb_end(&b, VT_END_EXIT, 0, 0, AT(10000));
    tb_close(&b);

    vt_model *m = load(path);
    const vt_patterns *p = &m->patterns;
    check_timeline_totals(m);
    assert_int_equal(p->chains, 2);
    assert_int_equal(p->reallocs, 6);
    assert_int_equal(p->longest_chain, 5);
    assert_int_equal(p->copied_bytes, 16 + 32 + 64 + 128 + 256 + 50);
    const vt_site_patterns *s1 = &p->sites[site_of(m, 1)], *s3 = &p->sites[site_of(m, 3)];
    assert_int_equal(s1->chains, 1);
    assert_int_equal(s1->reallocs, 5);
    assert_int_equal(s1->longest_chain, 5);
    assert_int_equal(s1->copied_bytes, 496);
    assert_int_equal(s3->chains, 1);
    assert_int_equal(s3->reallocs, 1);
    assert_int_equal(s3->longest_chain, 1);
    assert_int_equal(s3->copied_bytes, 50);
    assert_int_equal(p->sites[site_of(m, 2)].chains, 0);
    size_t idx[4];
    assert_int_equal(vt_sites_rank_pattern(m, VT_BY_REALLOCS, idx, 4, NULL), 2);
    assert_int_equal(idx[0], site_of(m, 1));
    assert_int_equal(idx[1], site_of(m, 3));
    assert_int_equal(p->cross_frees, 0);
    vt_model_free(m);
}

/* Blocks made by one thread and released by another, per site and per pair of threads;
 * implied releases and a thread's own frees do not count. */
static void test_cross_thread(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "cross.vtr", 2);
    int t0 = tb_thread_start(&b, AT(0), 100);
    int t1 = tb_thread_start(&b, AT(0), 101);
    int t2 = tb_thread_start(&b, AT(0), 102);
    uint64_t o[30], q[5];
    for (int i = 0; i < 30; i++)
        o[i] = tb_alloc(&b, t0, AT(1000 + i * 128), VT_FN_MALLOC, 64, 1);
    for (int i = 0; i < 5; i++)
        q[i] = tb_alloc(&b, t2, AT(5000 + i * 128), VT_FN_MALLOC, 8, 2);
    for (int i = 0; i < 20; i++)
        tb_free(&b, t1, AT(10000 + i * 128), VT_FN_FREE, o[i]);
    for (int i = 20; i < 29; i++)
        tb_free(&b, t0, AT(20000 + i * 128), VT_FN_FREE, o[i]);
    tb_free_implied(&b, t1, AT(30000), o[29]);
    for (int i = 0; i < 5; i++)
        tb_free(&b, t1, AT(40000 + i * 128), VT_FN_DELETE, q[i]);
    tb_end(&b, VT_END_EXIT, 0, 0, AT(50000));
    tb_close(&b);

    vt_model *m = load(path);
    const vt_patterns *p = &m->patterns;
    check_timeline_totals(m);
    assert_int_equal(p->cross_frees, 25);
    assert_int_equal(p->cross_bytes, 20 * 64 + 5 * 8);
    assert_int_equal(p->n_pairs, 2);
    assert_int_equal(p->pairs[0].alloc_thread, t0);
    assert_int_equal(p->pairs[0].free_thread, t1);
    assert_int_equal(p->pairs[0].frees, 20);
    assert_int_equal(p->pairs[0].bytes, 1280);
    assert_int_equal(p->pairs[1].alloc_thread, t2);
    assert_int_equal(p->pairs[1].free_thread, t1);
    assert_int_equal(p->pairs[1].frees, 5);
    assert_int_equal(p->sites[site_of(m, 1)].cross_frees, 20);
    assert_int_equal(p->sites[site_of(m, 2)].cross_frees, 5);
    assert_int_equal(p->sites[site_of(m, 2)].cross_bytes, 40);
    size_t idx[4];
    assert_int_equal(vt_sites_rank_pattern(m, VT_BY_CROSS_FREES, idx, 4, NULL), 2);
    assert_int_equal(idx[0], site_of(m, 1));
    vt_model_free(m);
}

/* Size classes and their coarse buckets; one-size sites. */
static void test_sizes(void **state)
{
    (void)state;
    static const struct {
        uint64_t size;
        int k;
    } cls[] = {{0, 0},           {1, 0},
               {2, 1},           {3, 2},
               {4, 2},           {5, 3},
               {1024, 10},       {1025, 11},
               {65536, 16},      {65537, 17},
               {1 << 20, 20},    {(1 << 20) + 1, 21},
               {1ull << 39, 39}, {(1ull << 39) + 1, 40},
               {UINT64_MAX, 40}};
    for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++)
        assert_int_equal(vt_size_class(cls[i].size), cls[i].k);
    assert_int_equal(vt_size_class_max(10), 1024);
    assert_int_equal(vt_size_class_max(VT_SIZE_CLASSES - 1), UINT64_MAX);
    assert_int_equal(vt_size_coarse_of(10), VT_SIZE_SMALL);
    assert_int_equal(vt_size_coarse_of(11), VT_SIZE_MEDIUM);
    assert_int_equal(vt_size_coarse_of(16), VT_SIZE_MEDIUM);
    assert_int_equal(vt_size_coarse_of(17), VT_SIZE_LARGE);
    assert_int_equal(vt_size_coarse_of(20), VT_SIZE_LARGE);
    assert_int_equal(vt_size_coarse_of(21), VT_SIZE_HUGE);

    tb b;
    const char *path = begin(&b, "sizes.vtr", 3);
    int th = tb_thread_start(&b, AT(0), 10);
    uint64_t t = 128;
    for (int i = 0; i < 120; i++) /* one size, enough calls */
        tb_alloc(&b, th, AT(t += 128), VT_FN_MALLOC, 48, 1);
    for (int i = 0; i < 99; i++) /* one size, too few calls */
        tb_alloc(&b, th, AT(t += 128), VT_FN_MALLOC, 16, 2);
    for (int i = 0; i < 200; i++) /* two sizes */
        tb_alloc(&b, th, AT(t += 128), VT_FN_MALLOC, i % 2 ? 3000 : 200000, 3);
    tb_end(&b, VT_END_EXIT, 0, 0, AT(t + 128));
    tb_close(&b);

    vt_model *m = load(path);
    const vt_patterns *p = &m->patterns;
    check_timeline_totals(m);
    assert_int_equal(p->size_calls[6], 120);
    assert_int_equal(p->size_bytes[6], 120 * 48);
    assert_int_equal(p->size_calls[4], 99);
    assert_int_equal(p->size_calls[12], 100);
    assert_int_equal(p->size_calls[18], 100);
    assert_int_equal(p->size_bytes[18], 100 * 200000);
    const vt_site_patterns *s1 = &p->sites[site_of(m, 1)], *s3 = &p->sites[site_of(m, 3)];
    assert_int_equal(s1->sizes, 1);
    assert_int_equal(s1->first_size, 48);
    assert_int_equal(vt_hist_get(&s1->size_calls, 6), 120);
    assert_int_equal(p->sites[site_of(m, 2)].sizes, 1);
    assert_int_equal(s3->sizes, 2);
    assert_int_equal(vt_hist_get(&s3->size_calls, 12), 100);
    assert_int_equal(vt_hist_get(&s3->size_calls, 18), 100);
    size_t idx[4], total = 0;
    assert_int_equal(vt_sites_rank_pattern(m, VT_BY_ONE_SIZE, idx, 4, &total), 1);
    assert_int_equal(idx[0], site_of(m, 1));
    vt_model_free(m);
}

/* A random workload of four threads and eight sites (allocations, frees, reallocs whose halves
 * other threads' events separate, implied releases, time jumps that make the timeline merge)
 * against a reference kept here, block by block. */
struct ref_block {
    uint64_t ord, size;
    int thread, site;
    uint32_t chain, origin;
    int live;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_random(void **state)
{
    (void)state;
    enum { N_OPS = 20000, N_SITES = 8, N_THREADS = 4 };
    static struct ref_block blocks[N_OPS * 2];
    size_t n_blocks = 0;
    uint64_t chains = 0, reallocs = 0, longest = 0, copied = 0, cross = 0, cross_bytes = 0;
    uint64_t size_calls[VT_SIZE_CLASSES] = {0}, released = 0;
    uint64_t site_chains[N_SITES + 1] = {0};
    rng_state = 0x2545f4914f6cdd1dULL;
    tb b;
    const char *path = begin(&b, "random.vtr", N_SITES);
    int th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        th[i] = tb_thread_start(&b, AT(0), 200 + (uint64_t)i);
    uint64_t now = 0;
    for (int op = 0; op < N_OPS; op++) {
        now += rnd() % 4 == 0 ? rnd() % (50 * MS) : rnd() % 100000;
        int t = (int)(rnd() % N_THREADS);
        size_t live_pick = n_blocks ? rnd() % n_blocks : 0;
        struct ref_block *old = n_blocks && blocks[live_pick].live ? &blocks[live_pick] : NULL;
        uint64_t r = rnd() % 10;
        if (!old || r < 4) {
            uint64_t size = rnd() % 3 ? rnd() % 200 : rnd() % 300000;
            int site = 1 + (int)(rnd() % N_SITES);
            int fn = r == 0 ? VT_FN_REALLOC : VT_FN_MALLOC; /* realloc(NULL, n) */
            struct ref_block *nb = &blocks[n_blocks++];
            *nb = (struct ref_block){tb_alloc(&b, th[t], AT(now), fn, size, (uint32_t)site),
                                     size,
                                     t,
                                     site,
                                     0,
                                     (uint32_t)site,
                                     1};
            size_calls[vt_size_class(size)]++;
        } else if (r < 7) {
            tb_free(&b, th[t], AT(now), VT_FN_FREE, old->ord);
            old->live = 0;
            released++;
            if (old->thread != t) {
                cross++;
                cross_bytes += old->size;
            }
        } else if (r < 9) {
            uint64_t size = rnd() % 5000;
            int site = 1 + (int)(rnd() % N_SITES);
            tb_free(&b, th[t], AT(now), VT_FN_REALLOC, old->ord);
            /* Another thread's allocation between the two halves. */
            int u = (t + 1) % N_THREADS;
            if (rnd() % 2) {
                struct ref_block *nb = &blocks[n_blocks++];
                *nb = (struct ref_block){
                    tb_alloc(&b, th[u], AT(now), VT_FN_MALLOC, 8, 1), 8, u, 1, 0, 1, 1};
                size_calls[vt_size_class(8)]++;
            }
            struct ref_block *nb = &blocks[n_blocks++];
            *nb = (struct ref_block){
                tb_alloc(&b, th[t], AT(now), VT_FN_REALLOC, size, (uint32_t)site),
                size,
                t,
                site,
                old->chain + 1,
                old->origin,
                1};
            size_calls[vt_size_class(size)]++;
            old->live = 0;
            released++;
            if (old->thread != t) {
                cross++;
                cross_bytes += old->size;
            }
            if (nb->chain == 1) {
                chains++;
                site_chains[nb->origin]++;
            }
            reallocs++;
            copied += old->size < size ? old->size : size;
            longest = nb->chain > longest ? nb->chain : longest;
        } else {
            tb_free_implied(&b, th[t], AT(now), old->ord);
            old->live = 0;
            released++;
        }
    }
    tb_end(&b, VT_END_EXIT, 0, 0, AT(now + 1));
    tb_close(&b);

    vt_model *m = load(path);
    const vt_patterns *p = &m->patterns;
    check_timeline_totals(m);
    assert_int_equal(m->alloc_calls, n_blocks);
    assert_int_equal(p->chains, chains);
    assert_int_equal(p->reallocs, reallocs);
    assert_int_equal(p->longest_chain, longest);
    assert_int_equal(p->copied_bytes, copied);
    assert_int_equal(p->cross_frees, cross);
    assert_int_equal(p->cross_bytes, cross_bytes);
    uint64_t pair_frees = p->other_pair_frees;
    for (size_t i = 0; i < p->n_pairs; i++)
        pair_frees += p->pairs[i].frees;
    assert_int_equal(pair_frees, cross);
    for (int k = 0; k < VT_SIZE_CLASSES; k++)
        assert_int_equal(p->size_calls[k], size_calls[k]);
    for (int id = 1; id <= N_SITES; id++)
        assert_int_equal(p->sites[site_of(m, (uint32_t)id)].chains, site_chains[id]);
    /* The per-site histograms (inline while a site uses few buckets) add up to the totals. */
    for (int k = 0; k < VT_SIZE_CLASSES; k++) {
        uint64_t sum = 0;
        for (size_t i = 0; i < p->n_sites; i++)
            sum += vt_hist_get(&p->sites[i].size_calls, k);
        assert_int_equal(sum, size_calls[k]);
    }
    for (int k = 0; k < VT_LIFETIME_BUCKETS; k++) {
        uint64_t sum = 0;
        for (size_t i = 0; i < m->lifetimes.n_sites; i++)
            sum += vt_hist_get(&m->lifetimes.sites[i].freed, k);
        assert_int_equal(sum, m->lifetimes.freed[k]);
    }
    uint64_t freed = 0;
    for (int k = 0; k < VT_LIFE_CLASSES; k++)
        freed += m->lifetimes.freed_class[k];
    assert_int_equal(freed, released);
    assert_true(m->timeline.n_buckets > VT_TIMELINE_BUCKETS / 2);
    vt_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_lifetime_classes),
        cmocka_unit_test(test_realloc_chains),
        cmocka_unit_test(test_cross_thread),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_lifetime_clock_fit),
    };
    if (getenv("UT_FILTER"))
        cmocka_set_test_filter(getenv("UT_FILTER"));
    return cmocka_run_group_tests(tests, ut_setup_tmp_dir, ut_teardown_tmp_dir);
}

/* Unit tests for util/loghist.h (the percentiles' error bound, against exact sorted values)
 * and analyze/zones.c (synthetic traces of zones, counters, gauges, frames, tasks and pool and
 * cache figures, written with the real writer: trace-builder.h). */
#include <math.h>
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
#include "util/loghist.h"
#include "trace-builder.h"
#include "unit-util.h"

/* 1 GHz: one tick is one ns; quanta of 128 ticks. */
#define SHIFT 7
#define START_TSC ((uint64_t)1 << 40)
#define T(k) (START_TSC + ((uint64_t)(k) << SHIFT))

static uint64_t rng = 88172645463325252ull;

static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Every quantile the histogram gives is within 1/64 of the exact nearest-rank value. */
static void check_distribution(uint64_t *v, size_t n)
{
    vt_loghist h = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(vt_loghist_add(&h, v[i]), 0);
    qsort(v, n, sizeof(*v), cmp_u64);
    const double qs[] = {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0};
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        size_t rank = (size_t)ceil(qs[k] * (double)n);
        rank = rank < 1 ? 1 : rank;
        double exact = (double)v[rank - 1], est = vt_loghist_quantile(&h, qs[k]);
        if (fabs(est - exact) > exact / 64.0) {
            fail_msg("q %.4f: histogram %.1f, exact %.1f (error %.3f%%)", qs[k], est, exact,
                     100 * fabs(est - exact) / exact);
        }
        if (exact < VT_LOGHIST_SUB)
            assert_true(est == exact);
    }
    vt_loghist_release(&h);
}

static void test_histogram_accuracy(void **state)
{
    (void)state;
    enum { N = 200000 };
    uint64_t *v = malloc(N * sizeof(*v));
    assert_non_null(v);
    for (int dist = 0; dist < 6; dist++) {
        for (size_t i = 0; i < N; i++) {
            uint64_t r = xorshift();
            switch (dist) {
            case 0: /* uniform over 1..1e6 */
                v[i] = 1 + r % 1000000;
                break;
            case 1: /* log-uniform over 1..2^50 */
                v[i] = (uint64_t)exp2((double)(r % 50000) / 1000.0);
                break;
            case 2: /* exponential, mean 10 us */
                v[i] = (uint64_t)(-log(((double)(r >> 11) + 1) / 9007199254740993.0) * 10000);
                break;
            case 3: /* small values, exact */
                v[i] = r % 40;
                break;
            case 4: /* two modes: 2 ms and 120 ms */
                v[i] = (r & 1 ? 2000000 : 120000000) + (r >> 40) % 1000;
                break;
            default: /* powers of two and their neighbours, the buckets' edges */
                v[i] = (1ull << (r % 60)) + (uint64_t)((int)(r >> 60) - 8);
                break;
            }
        }
        check_distribution(v, N);
    }
    free(v);
}

static void test_histogram_buckets(void **state)
{
    (void)state;
    /* Each value lands in the bucket that holds it, and buckets tile the line. */
    uint64_t prev_end = 0;
    for (unsigned i = 0; i < VT_LOGHIST_BUCKETS; i++) {
        uint64_t lo, w;
        vt_loghist_bucket(i, &lo, &w);
        assert_true(lo == prev_end);
        assert_int_equal(vt_loghist_index(lo), i);
        assert_int_equal(vt_loghist_index(lo + w - 1), i);
        assert_true(w == 1 || w * 32 <= lo);
        prev_end = lo + w;
        if (prev_end == 0)
            break; /* the last bucket ends at 2^64 */
    }
    vt_loghist h = {0};
    assert_true(vt_loghist_quantile(&h, 0.5) == 0);
}

/* Records of libvitals, as the agent's writer makes them (src/agent/merge.c). */
static void loc(tb *b, uint64_t id, int kind, const char *name, const char *fn, const char *file,
                uint32_t line)
{
    tb_room(b, 256);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_LOCATION);
    vt_stream_put(&b->e, VT_COL_MISC, id);
    vt_stream_put(&b->e, VT_COL_MISC, (uint64_t)kind);
    tb_str(b, name);
    tb_str(b, fn);
    tb_str(b, file);
    vt_stream_put(&b->e, VT_COL_MISC, line);
}

static void rec(tb *b, int th, uint8_t tag, uint64_t tsc, int n, ...)
{
    va_list ap;
    tb_switch(b, th);
    tb_room(b, 256);
    vt_stream_put_byte(&b->e, VT_COL_TAG, tag);
    tb_time(b, tsc);
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        vt_stream_put(&b->e, VT_COL_MISC, va_arg(ap, uint64_t));
    va_end(ap);
}

static void usage(tb *b, int th, uint8_t tag, uint64_t tsc, uint64_t name, uint64_t kind,
                  const uint64_t u[VT_TASK_FIELDS])
{
    tb_switch(b, th);
    tb_room(b, 256);
    vt_stream_put_byte(&b->e, VT_COL_TAG, tag);
    tb_time(b, tsc);
    if (tag == VT_TAG_TASK_BEGIN) {
        vt_stream_put(&b->e, VT_COL_MISC, name);
        vt_stream_put(&b->e, VT_COL_MISC, kind);
    }
    for (int i = 0; i < VT_TASK_FIELDS; i++)
        vt_stream_put(&b->e, VT_COL_MISC, u[i]);
}

static vt_model *load(const char *path)
{
    int err = 0;
    char msg[512] = "";
    vt_model *m = vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg));
    if (!m)
        fail_msg("cannot load %s: %s", path, msg);
    if (m->warnings)
        fprintf(stderr, "%s: %s\n", path, m->warnings);
    return m;
}

static const char *begin(tb *b, const char *name)
{
    static const char *const argv[] = {"prog", NULL};
    const char *path = ut_path(ut_tmp_dir, name);
    unlink(path);
    tb_open(b, path, 1);
    tb_info_args info = {.pid = 1,
                         .ppid = 1,
                         .tsc_hz = 1000000000,
                         .start_tsc = START_TSC,
                         .start_ns = 1000000000,
                         .depth = 64,
                         .time_shift = SHIFT,
                         .exe = "/bin/prog",
                         .argv = argv};
    tb_info(b, &info);
    return path;
}

static const vt_zone_stats *zone_named(const vt_model *m, const char *name)
{
    for (size_t i = 0; i < m->zones.n_zones; i++)
        if (!strcmp(m->zones.locs[m->zones.zones[i].loc].name, name))
            return &m->zones.zones[i];
    fail_msg("no zone %s", name);
    return NULL;
}

/* The figures of the "outer" zone the tests record: 1000 calls of 1000 to 1999 ns, every tenth
 * an error, whose durations sum to sum and their squares to sq. */
static void check_outer(const vt_zone_stats *o, double sum, double sq)
{
    assert_int_equal(o->calls, 1000);
    assert_int_equal(o->errors, 100);
    assert_true(o->min_ns == 1000 && o->max_ns == 1999 && o->total_ns == sum);
    assert_true(fabs(o->mean_ns - 1499.5) < 1e-9);
    double sd = sqrt((sq - sum * sum / 1000) / 999);
    assert_true(fabs(o->stddev_ns - sd) < 1e-6);
}

static void test_zone_figures(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "zones.vtr");
    int th = tb_thread_start(&b, T(1), 100);
    uint64_t f[1] = {0x401000};
    tb_stack(&b, 1, f, 1);
    loc(&b, 1, VT_LOC_ZONE, "outer", "run", "/src/a.c", 10);
    loc(&b, 2, VT_LOC_ZONE, "", "helper", "/src/a.c", 20); /* VT_ZONE_FN */
    loc(&b, 3, VT_LOC_COUNTER, "items", "", "", 0);
    loc(&b, 4, VT_LOC_GAUGE, "depth", "", "", 0);
    /* outer: 1000 calls of 1000 + i ns (i = 0..999), every 10th an error; inside each, helper
     * runs 2 ns... with one allocation of 16 bytes, and outer itself allocates 100 bytes. */
    uint64_t t = 10;
    double sum = 0, sq = 0;
    for (int i = 0; i < 1000; i++) {
        rec(&b, th, VT_TAG_ZONE_BEGIN, T(t), 1, (uint64_t)1);
        tb_alloc(&b, th, T(t), VT_FN_MALLOC, 100, 1);
        rec(&b, th, VT_TAG_ZONE_BEGIN, T(t + 1), 1, (uint64_t)2);
        tb_alloc(&b, th, T(t + 1), VT_FN_MALLOC, 16, 1);
        rec(&b, th, VT_TAG_ZONE_END, T(t + 2), 2, (uint64_t)50, (uint64_t)0);
        rec(&b, th, VT_TAG_ZONE_END, T(t + 10), 2, (uint64_t)(1000 + i),
            (uint64_t)(i % 10 == 9 ? VT_ZONE_FAILED : 0));
        rec(&b, th, VT_TAG_COUNTER, T(t + 10), 2, (uint64_t)3, vt_zigzag(i % 2 ? 5 : -2));
        double g = (double)(i % 37);
        uint64_t bits;
        memcpy(&bits, &g, sizeof(bits));
        rec(&b, th, VT_TAG_GAUGE, T(t + 10), 2, (uint64_t)4, bits);
        rec(&b, th, VT_TAG_FRAME, T(t + 10), 1, (uint64_t)0);
        sum += 1000 + i;
        sq += (1000.0 + i) * (1000.0 + i);
        t += 20;
    }
    rec(&b, th, VT_TAG_ZONE_END, T(t), 2, (uint64_t)5, (uint64_t)0); /* nothing open */
    rec(&b, th, VT_TAG_ZONE_BEGIN, T(t + 1), 1, (uint64_t)9);        /* never defined */
    rec(&b, th, VT_TAG_ZONE_BEGIN, T(t + 2), 1, (uint64_t)1);        /* open at the end */
    tb_end(&b, VT_END_EXIT, 0, 0, T(t + 3));
    tb_close(&b);

    vt_model *m = load(path);
    const vt_zones *z = &m->zones;
    assert_true(z->present);
    assert_int_equal(z->n_zones, 2);
    const vt_zone_stats *o = zone_named(m, "outer"), *h = zone_named(m, "helper");
    assert_ptr_equal(o, &z->zones[0]); /* the most total time first */
    check_outer(o, sum, sq);
    /* nearest rank: p50 is 1499, p90 1899, p99 1989, p99.9 1998 */
    const double exact[] = {1499, 1899, 1949, 1989, 1998};
    const double est[] = {o->p50_ns, o->p90_ns, o->p95_ns, o->p99_ns, o->p999_ns};
    for (int i = 0; i < 5; i++)
        assert_true(fabs(est[i] - exact[i]) <= exact[i] / 64);
    assert_int_equal(o->alloc_calls, 1000);
    assert_int_equal(o->alloc_bytes, 100000);
    assert_int_equal(h->calls, 1000);
    assert_int_equal(h->alloc_calls, 1000);
    assert_int_equal(h->alloc_bytes, 16000);
    assert_true(h->min_ns == 50 && h->max_ns == 50 && h->p99_ns == 50 && h->stddev_ns == 0);
    assert_string_equal(z->locs[h->loc].function, "helper");
    assert_int_equal(z->locs[o->loc].line, 10);
    /* outer grows 1 ns per call, one call every 20 quanta of 128 ns: +390.6 ns per ms */
    assert_true(fabs(o->trend_ns_per_s - 1e9 / (20 * 128.0)) < 0.05 * 1e9 / (20 * 128.0));
    assert_true(o->trend_pct > 0);
    uint64_t wn = 0;
    for (size_t i = 0; i < o->n_windows; i++)
        wn += o->windows[i].n;
    assert_int_equal(wn, 1000);
    assert_int_equal(z->unmatched_ends, 1);
    assert_int_equal(z->unknown_ids, 1);
    assert_int_equal(z->open_at_end, 1);
    assert_int_equal(z->n_counters, 2);
    const vt_counter_stats *c = &z->counters[0], *g = &z->counters[1];
    assert_false(c->gauge);
    assert_true(g->gauge);
    assert_int_equal(c->total, 500 * 5 - 500 * 2);
    assert_int_equal(c->updates, 1000);
    assert_true(c->windows[c->n_windows - 1].last == 1500);
    assert_true(g->min == 0 && g->max == 36 && g->last == 999 % 37);
    assert_int_equal(z->n_frames, 1);
    assert_int_equal(z->frames[0].marks, 1000);
    assert_true(fabs(z->frames[0].mean_ns - 20 * 128) < 1e-6);
    vt_model_free(m);
}

/* A ZONE_STATS record and its ZONE_HIST records, as the agent publishes n calls of durations
 * dur[0..n) (ticks) that started from first on, with errors, allocations and bytes. */
static void publish(tb *b, int th, uint64_t tsc, uint64_t id, const uint64_t *dur, int n,
                    uint64_t first, uint64_t errors, uint64_t alloc_calls, uint64_t alloc_bytes)
{
    uint64_t total = 0, lo = UINT64_MAX, hi = 0;
    int64_t dsum = 0;
    double dsq = 0;
    uint32_t counts[VT_LOGHIST_BUCKETS] = {0};
    for (int i = 0; i < n; i++) {
        int64_t x = (int64_t)(dur[i] - dur[0]);
        total += dur[i];
        lo = dur[i] < lo ? dur[i] : lo;
        hi = dur[i] > hi ? dur[i] : hi;
        dsum += x;
        dsq += (double)x * (double)x;
        counts[vt_loghist_index(dur[i])]++;
    }
    double m2 = dsq - (double)dsum * (double)dsum / n;
    uint64_t bits;
    memcpy(&bits, &m2, sizeof(bits));
    rec(b, th, VT_TAG_ZONE_STATS, tsc, 10, id, (uint64_t)n, errors, total, lo, hi, bits,
        tsc - first, alloc_calls, alloc_bytes);
    for (unsigned i = 0; i < VT_LOGHIST_BUCKETS; i++)
        if (counts[i])
            rec(b, th, VT_TAG_ZONE_HIST, tsc, 3, (uint64_t)1, (uint64_t)i, (uint64_t)counts[i]);
}

/* The same zone as test_zone_figures, recorded as from version 1.4: the figures aggregated by
 * the thread (ZONE_STATS, ZONE_HIST every 100 calls), the first 5 calls also as spans. Every
 * figure is the one the rows gave; allocations are the agent's count, not the rows'. */
static void test_zone_aggregates(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "zones-agg.vtr");
    int th = tb_thread_start(&b, T(1), 100);
    uint64_t f[1] = {0x401000};
    tb_stack(&b, 1, f, 1);
    rec(&b, th, VT_TAG_ZONE_AGG, T(1), 4, (uint64_t)5, (uint64_t)0, (uint64_t)0, (uint64_t)0);
    loc(&b, 1, VT_LOC_ZONE, "outer", "run", "/src/a.c", 10);
    uint64_t t = 10, dur[100], first = 0;
    double sum = 0, sq = 0;
    vt_loghist exact = {0};
    for (int i = 0; i < 1000; i++) {
        if (i % 100 == 0)
            first = T(t);
        if (i < 5)
            rec(&b, th, VT_TAG_ZONE_BEGIN, T(t), 1, (uint64_t)1);
        tb_alloc(&b, th, T(t), VT_FN_MALLOC, 100, 1);
        if (i < 5)
            rec(&b, th, VT_TAG_ZONE_END, T(t + 10), 2, (uint64_t)(1000 + i), (uint64_t)0);
        dur[i % 100] = 1000 + (uint64_t)i;
        assert_int_equal(vt_loghist_add(&exact, 1000 + (uint64_t)i), 0);
        sum += 1000 + i;
        sq += (1000.0 + i) * (1000.0 + i);
        t += 20;
        if (i % 100 == 99)
            publish(&b, th, T(t), 1, dur, 100, first, 10, 100, 10000);
    }
    rec(&b, th, VT_TAG_ZONE_AGG, T(t + 1), 4, (uint64_t)5, (uint64_t)1, (uint64_t)1, (uint64_t)2);
    tb_end(&b, VT_END_EXIT, 0, 0, T(t + 3));
    tb_close(&b);

    vt_model *m = load(path);
    const vt_zones *z = &m->zones;
    assert_true(z->present && z->aggregated);
    assert_int_equal(z->spans_limit, 5);
    assert_int_equal(z->n_zones, 1);
    const vt_zone_stats *o = zone_named(m, "outer");
    check_outer(o, sum, sq);
    /* the histogram of every call, as the rows would have made it (within min and max) */
    const double q[] = {0.5, 0.9, 0.95, 0.99, 0.999};
    const double est[] = {o->p50_ns, o->p90_ns, o->p95_ns, o->p99_ns, o->p999_ns};
    for (int i = 0; i < 5; i++)
        assert_true(est[i] == fmin(fmax(vt_loghist_quantile(&exact, q[i]), 1000), 1999));
    vt_loghist_release(&exact);
    assert_int_equal(o->alloc_calls, 1000);
    assert_int_equal(o->alloc_bytes, 100000);
    assert_true(fabs(o->trend_ns_per_s - 1e9 / (20 * 128.0)) < 0.05 * 1e9 / (20 * 128.0));
    uint64_t wn = 0;
    for (size_t i = 0; i < o->n_windows; i++)
        wn += o->windows[i].n;
    assert_int_equal(wn, 1000);
    assert_int_equal(z->n_spans, 5);
    assert_int_equal(z->spans[4].dur_ns, 1004);
    assert_int_equal(z->unmatched_ends, 1);
    assert_int_equal(z->open_at_end, 1);
    assert_int_equal(z->zones_lost, 2);
    vt_model_free(m);
}

static void test_tasks_and_objects(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "tasks.vtr");
    int th = tb_thread_start(&b, T(1), 100);
    uint64_t f[1] = {0x401000};
    tb_stack(&b, 1, f, 1);
    loc(&b, 1, VT_LOC_TASK, "job", "", "", 0);
    loc(&b, 2, VT_LOC_TASK_KIND, "cpu", "", "", 0);
    loc(&b, 3, VT_LOC_TASK_KIND, "sleep", "", "", 0);
    loc(&b, 4, VT_LOC_TASK_KIND, "io", "", "", 0);
    loc(&b, 5, VT_LOC_TASK_KIND, "mem", "", "", 0);
    loc(&b, 6, VT_LOC_POOL, "messages", "", "", 0);
    loc(&b, 7, VT_LOC_CACHE, "pages", "", "", 0);
    uint64_t t = 100, tsc = START_TSC + 100000;
    const uint64_t all = VT_TASK_HAS_RUSAGE | VT_TASK_HAS_IO | VT_TASK_HAS_SCHED;
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < 3; i++) {
            /* wall 10 ms (the third of each kind 30 ms: 3x its kind's median) */
            uint64_t wall = (i == 2 ? 30 : 10) * 1000000ull;
            uint64_t u0[VT_TASK_FIELDS] = {all, tsc, 5000, 1000, 3, 1, 100, 200, 0, 0, 0};
            uint64_t u1[VT_TASK_FIELDS] = {all, tsc + wall, 5000, 1000, 3, 1, 100, 200, 0, 0, 0};
            if (k == 0 && i == 0)
                u1[VT_TASK_USER_NS] += wall * 9 / 10; /* 90% on a CPU */
            else if (k == 0) /* 40% on a CPU, 40% waiting for one: still CPU-bound */
                u1[VT_TASK_USER_NS] += wall * 4 / 10, u1[VT_TASK_RUN_DELAY_NS] += wall * 4 / 10;
            else if (k == 1)
                u1[VT_TASK_VCSW] += 1; /* a sleep */
            else if (k == 2)
                u1[VT_TASK_WCHAR] += 1 << 20, u1[VT_TASK_WRITE_BYTES] += 1 << 20;
            usage(&b, th, VT_TAG_TASK_BEGIN, T(t), 1, 2 + (uint64_t)k, u0);
            if (k == 3)
                for (int a = 0; a < 3; a++)
                    tb_alloc(&b, th, T(t), VT_FN_MALLOC, 4 << 20, 1);
            usage(&b, th, VT_TAG_TASK_END, T(t + 1), 0, 0, u1);
            t += 2;
            tsc += wall;
        }
    }
    uint64_t pool[VT_POOL_FIELDS] = {64, 0, 128, 3, 100, 5000, 5000, 0, 4872, 4997};
    rec(&b, th, VT_TAG_POOL_STATS, T(t), 2, (uint64_t)6, (uint64_t)0);
    for (int i = 0; i < VT_POOL_FIELDS; i++)
        vt_stream_put(&b.e, VT_COL_MISC, pool[i] / 2);
    rec(&b, th, VT_TAG_POOL_STATS, T(t + 1), 2, (uint64_t)6, (uint64_t)VT_STATS_FINAL);
    for (int i = 0; i < VT_POOL_FIELDS; i++)
        vt_stream_put(&b.e, VT_COL_MISC, pool[i]);
    rec(&b, th, VT_TAG_CACHE_STATS, T(t + 2), 2, (uint64_t)7, (uint64_t)0);
    for (int i = 0; i < VT_CACHE_FIELDS; i++)
        vt_stream_put(&b.e, VT_COL_MISC, (uint64_t)i + 1);
    tb_end(&b, VT_END_EXIT, 0, 0, T(t + 3));
    tb_close(&b);

    vt_model *m = load(path);
    const vt_zones *z = &m->zones;
    assert_int_equal(z->n_tasks, 12);
    assert_int_equal(z->n_kinds, 4);
    const int want[] = {VT_TASK_CPU, VT_TASK_WAIT, VT_TASK_IO, VT_TASK_MEMORY};
    for (int k = 0; k < 4; k++) {
        const vt_task_kind *kd = &z->kinds[k];
        assert_int_equal(kd->tasks, 3);
        assert_int_equal(kd->wall_ns, 10000000);
        if (kd->cls != want[k])
            fail_msg("kind %d: %s (%s)", k, vt_task_class_name(kd->cls), kd->evidence);
    }
    /* (9 + 4 + 12) ms on a CPU of 50 ms; (4 + 12) ms waiting for one */
    assert_true(fabs(z->kinds[0].efficiency - 25.0 / 50) < 1e-3);
    assert_true(fabs(z->kinds[0].demand - 41.0 / 50) < 1e-3);
    assert_int_equal(z->kinds[3].alloc_bytes, 12 << 20);
    assert_int_equal(z->kinds[2].io_bytes, 1 << 20);
    for (size_t i = 0; i < z->n_tasks; i++) {
        assert_true(fabs(z->tasks[i].vs_baseline - (i % 3 == 2 ? 3.0 : 1.0)) < 1e-9);
        assert_int_equal(z->tasks[i].alloc_calls, i >= 9 ? 3 : 0);
    }
    assert_int_equal(z->tasks[0].user_ns, 9000000);
    assert_int_equal(z->tasks[1].run_delay_ns, 4000000);
    assert_int_equal(z->tasks[3].vcsw, 1);
    assert_int_equal(z->n_objects, 2);
    const vt_lib_object *p = &z->objects[0], *c = &z->objects[1];
    assert_false(p->cache);
    assert_true(p->final);
    assert_int_equal(p->samples, 2);
    assert_memory_equal(p->v, pool, sizeof(pool));
    assert_true(c->cache);
    assert_false(c->final);
    assert_int_equal(c->v[VT_CACHE_LOOKUP_P99_PS], VT_CACHE_FIELDS);
    vt_model_free(m);
}

static void test_malformed(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "bad.vtr");
    int th = tb_thread_start(&b, T(1), 100);
    loc(&b, 1, VT_LOC_ZONE, "z", "f", "a.c", 1);
    rec(&b, th, VT_TAG_ZONE_BEGIN, T(2), 1, (uint64_t)1);
    tb_raw_tag(&b, 0x8f); /* a tag of the range nobody defined */
    tb_end(&b, VT_END_EXIT, 0, 0, T(3));
    tb_close(&b);
    vt_model *m = load(path);
    assert_non_null(m->warnings);
    assert_non_null(strstr(m->warnings, "tag 0x8f"));
    vt_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram_accuracy), cmocka_unit_test(test_histogram_buckets),
        cmocka_unit_test(test_zone_figures),       cmocka_unit_test(test_zone_aggregates),
        cmocka_unit_test(test_tasks_and_objects),  cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, ut_setup_tmp_dir, ut_teardown_tmp_dir);
}

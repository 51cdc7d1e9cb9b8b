/* The alert grammar (expr.c) with good and bad conditions, the rules bound to a series
 * (alert.c), the detectors without thresholds on series built by hand, and the bottleneck
 * classes. */
#include <math.h>

#include "unit-util.h"

#include "analyze/alert.h"
#include "analyze/bottleneck.h"
#include "analyze/expr.h"
#include "analyze/series.h"
#include "collect/numa.h"
#include "trace/format.h"
#include "util/error.h"

static vt_expr parse_ok(const char *text)
{
    vt_expr e;
    vt_expr_error err;
    int r = vt_expr_parse(text, &e, &err);
    if (r)
        fail_msg("'%s' did not parse: %s at %zu", text, err.msg, err.pos);
    return e;
}

static void test_good(void **state)
{
    (void)state;
    vt_expr e = parse_ok("rss > 2GiB");
    assert_string_equal(e.metric, "rss");
    assert_int_equal(e.op, VT_CMP_GT);
    assert_true(e.value == 2.0 * 1024 * 1024 * 1024);
    assert_int_equal(e.unit, VT_QTY_BYTES);
    assert_int_equal(e.severity, 1);
    assert_int_equal(e.for_ns, 0);
    assert_int_equal(e.rate, 0);

    e = parse_ok("cpu > 90% for 10s");
    assert_string_equal(e.metric, "cpu");
    assert_true(e.value == 90);
    assert_int_equal(e.unit, VT_QTY_PERCENT);
    assert_int_equal(e.for_ns, 10000000000ull);

    e = parse_ok("major_faults/s > 100");
    assert_string_equal(e.metric, "major_faults");
    assert_int_equal(e.rate, 1);
    assert_true(e.value == 100);
    assert_int_equal(e.unit, VT_QTY_PLAIN);

    e = parse_ok("  critical :  sys.mem_available<=512MB for 1.5m ");
    assert_int_equal(e.severity, 2);
    assert_string_equal(e.metric, "sys.mem_available");
    assert_int_equal(e.op, VT_CMP_LE);
    assert_true(e.value == 512e6);
    assert_int_equal(e.for_ns, 90000000000ull);

    e = parse_ok("info: fds >= 1.5k");
    assert_int_equal(e.severity, 0);
    assert_true(e.value == 1500);
    assert_int_equal(e.unit, VT_QTY_COUNT);
    e = parse_ok("threads != 4");
    assert_int_equal(e.op, VT_CMP_NE);
    assert_true(vt_cmp_holds(e.op, 5, e.value) && !vt_cmp_holds(e.op, 4, e.value));
    e = parse_ok("threads==4");
    assert_int_equal(e.op, VT_CMP_EQ);
    e = parse_ok("cpu < 5 for 500ms");
    assert_int_equal(e.for_ns, 500000000ull);
    assert_true(vt_cmp_holds(e.op, 4.9, e.value) && !vt_cmp_holds(e.op, 5, e.value));
    e = parse_ok("cpu_user > 2s");
    assert_int_equal(e.unit, VT_QTY_TIME);
    assert_true(e.value == 2e9);
}

static void bad(const char *text, size_t pos, const char *what)
{
    vt_expr e;
    vt_expr_error err;
    int r = vt_expr_parse(text, &e, &err);
    if (r != VT_EINVAL)
        fail_msg("'%s' parsed, expected an error at %zu", text, pos);
    if (err.pos != pos || !strstr(err.msg, what))
        fail_msg("'%s': error at %zu '%s', expected at %zu with '%s'", text, err.pos, err.msg, pos,
                 what);
}

static void test_bad(void **state)
{
    (void)state;
    bad("", 0, "found the end");
    bad("rss", 3, "expected a comparison");
    bad("rss >", 5, "expected a number, found the end");
    bad("rss > 2GX", 7, "unknown unit 'GX'");
    bad("rss > lots", 6, "expected a number");
    bad("rss => 5", 4, "expected a comparison");
    bad("rss = 5", 4, "expected a comparison");
    bad("warn: rss > 1", 0, "unknown severity");
    bad("critical: > 1", 10, "expected a metric name after the severity");
    bad("cpu > 90% for", 13, "expected a duration");
    bad("cpu > 90% for 10", 16, "duration unit");
    bad("cpu > 90% for 10GiB", 16, "duration unit");
    bad("cpu > 90% always", 10, "unexpected text");
    bad("cpu > 90 always", 9, "unknown unit 'always'");
    bad("cpu > 90% for 1s extra", 17, "unexpected text");
    bad("major_faults/x > 1", 13, "expected 's' after '/'");
    bad("Rss > 1", 0, "expected a metric name");
    bad("rss > 1 2", 8, "unexpected text");
}

static void define_all(vt_series *s)
{
    assert_int_equal(vt_series_define(s, 0, "cpu", VT_METRIC_COUNTER, VT_UNIT_NS), 0);
    assert_int_equal(vt_series_define(s, 1, "rss", VT_METRIC_GAUGE, VT_UNIT_BYTES), 0);
    assert_int_equal(vt_series_define(s, 2, "major_faults", VT_METRIC_COUNTER, VT_UNIT_COUNT), 0);
    assert_int_equal(vt_series_define(s, 3, "threads", VT_METRIC_GAUGE, VT_UNIT_COUNT), 0);
    assert_int_equal(vt_series_define(s, 4, "read_bytes", VT_METRIC_COUNTER, VT_UNIT_BYTES), 0);
}

static void bind_bad(const vt_series *s, const char *text, size_t pos, const char *what)
{
    vt_alerts a;
    vt_expr_error err;
    vt_alerts_init(&a);
    int r = vt_alerts_add_rule(&a, s, text, &err);
    vt_alerts_release(&a);
    if (r != VT_EINVAL || err.pos != pos || !strstr(err.msg, what))
        fail_msg("'%s': %d at %zu '%s', expected an error at %zu with '%s'", text, r, err.pos,
                 err.msg, pos, what);
}

static void test_bind(void **state)
{
    (void)state;
    vt_series s;
    vt_series_init(&s);
    define_all(&s);
    bind_bad(&s, "rsz > 1GiB", 0, "unknown metric 'rsz'");
    bind_bad(&s, "rss > 90%", 8, "'rss' is in bytes");
    bind_bad(&s, "cpu/s > 1", 3, "'cpu' is a time");
    bind_bad(&s, "cpu > 1GiB", 7, "'cpu' is a time");
    bind_bad(&s, "major_faults/s > 1MiB", 18, "'major_faults' is a count");
    bind_bad(&s, "threads > 4s", 11, "plain number");
    bind_bad(&s, "read_bytes/s > 5%", 16, "counts bytes");
    vt_series_release(&s);
}

struct fired {
    int n;
    vt_series_alert last;
    char rule[256], message[384];
    int kinds[VT_ALERT_KINDS];
};

static void on_fire(void *arg, const vt_series_alert *a)
{
    struct fired *f = arg;
    f->n++;
    f->last = *a;
    f->kinds[a->kind]++;
    snprintf(f->rule, sizeof(f->rule), "%s", a->rule);
    snprintf(f->message, sizeof(f->message), "%s", a->message);
}

/* Snapshot k of a synthetic process: 10 ms apart. */
static void add(vt_series *s, uint64_t k, uint64_t cpu_ns, uint64_t rss, uint64_t majflt,
                uint64_t threads, uint64_t rd)
{
    uint64_t v[5] = {cpu_ns, rss, majflt, threads, rd};
    uint8_t p[5] = {1, 1, 1, 1, 1};
    assert_int_equal(vt_series_add(s, k * 10000000ull, v, p, 5), 0);
}

static void test_rules(void **state)
{
    (void)state;
    vt_series s;
    vt_series_init(&s);
    define_all(&s);
    vt_alerts a;
    vt_alerts_init(&a);
    vt_expr_error err;
    assert_int_equal(vt_alerts_add_rule(&a, &s, "critical: cpu > 90% for 50ms", &err), 0);
    assert_int_equal(vt_alerts_add_rule(&a, &s, "rss > 1MiB", &err), 0);
    assert_int_equal(vt_alerts_add_rule(&a, &s, "major_faults/s >= 1000", &err), 0);
    assert_int_equal(vt_alerts_add_rule(&a, &s, "read_bytes > 1000", &err), 0);
    assert_int_equal(vt_alerts_add_rule(&a, &s, "rss/s > 50MiB", &err), 0);
    struct fired f = {0};
    /* 10 ms apart, CPU 95% of a core from the start: the rule holds from snapshot 1 (the
     * first rate) and fires once it has held 50 ms, at snapshot 6; once only. */
    uint64_t cpu = 0;
    for (uint64_t k = 0; k <= 10; k++) {
        add(&s, k, cpu, 1048576, 0, 1, 0);
        cpu += 9500000;
        vt_alerts_step(&a, &s, on_fire, &f);
        if (k < 6)
            assert_int_equal(f.n, 0);
    }
    assert_int_equal(f.n, 1);
    assert_int_equal(f.last.severity, VT_LEVEL_CRITICAL);
    assert_int_equal(f.last.kind, VT_ALERT_THRESHOLD);
    assert_int_equal(f.last.ns, 60000000ull);
    assert_true(fabs(f.last.value - 95.0) < 1e-9);
    assert_string_equal(f.rule, "critical: cpu > 90% for 50ms");
    assert_string_equal(f.message, "cpu is 95.0% (> 90.0% for 50 ms)");
    /* rss: exactly 1 MiB never fires (>), 1 MiB + 1 does, at once. */
    add(&s, 11, cpu, 1048577, 0, 1, 0);
    vt_alerts_step(&a, &s, on_fire, &f);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.rule, "rss > 1MiB");
    /* major faults: 10 in 10 ms is 1000/s. */
    add(&s, 12, cpu, 1048577, 10, 1, 0);
    vt_alerts_step(&a, &s, on_fire, &f);
    assert_int_equal(f.n, 3);
    assert_string_equal(f.rule, "major_faults/s >= 1000");
    assert_true(fabs(f.last.value - 1000) < 1e-6);
    /* read_bytes: the total since the start, 1001 bytes. */
    add(&s, 13, cpu, 1048577, 10, 1, 1001);
    vt_alerts_step(&a, &s, on_fire, &f);
    assert_int_equal(f.n, 4);
    assert_string_equal(f.rule, "read_bytes > 1000");
    /* rss/s: 1 MiB more in 10 ms is 100 MiB/s. */
    add(&s, 14, cpu, 2 * 1048576 + 1, 10, 1, 1001);
    vt_alerts_step(&a, &s, on_fire, &f);
    assert_int_equal(f.n, 5);
    assert_string_equal(f.rule, "rss/s > 50MiB");
    assert_true(fabs(f.last.value - 100.0 * 1048576) < 1);
    vt_alerts_release(&a);
    vt_series_release(&s);
}

static void test_anomaly_once(void **state)
{
    (void)state;
    vt_series s;
    vt_series_init(&s);
    define_all(&s);
    vt_alerts a;
    vt_alerts_init(&a);
    assert_int_equal(vt_alerts_enable_anomalies(&a, &s, 1000000000ull), 0);
    struct fired f = {0};
    uint64_t cpu = 0, k = 0;
    /* A baseline of 20% of a core (with a little noise), then 100%: one anomaly at the jump,
     * none while it stays high within the 1 s cooldown. */
    for (; k < 40; k++) {
        add(&s, k, cpu, 8 << 20, 0, 2, 0);
        cpu += 2000000 + (k % 3) * 100000;
        vt_alerts_step(&a, &s, on_fire, &f);
    }
    assert_int_equal(f.n, 0);
    for (; k < 60; k++) {
        add(&s, k, cpu, 8 << 20, 0, 2, 0);
        cpu += 10000000;
        vt_alerts_step(&a, &s, on_fire, &f);
    }
    assert_int_equal(f.n, 1);
    assert_int_equal(f.kinds[VT_ALERT_ANOMALY], 1);
    assert_string_equal(f.rule, "anomaly: cpu");
    assert_int_equal(f.last.ns, 410000000ull); /* the first rate at 100%: snapshot 41 */
    assert_non_null(strstr(f.message, "standard deviations above its baseline"));
    vt_alerts_release(&a);
    vt_series_release(&s);
}

static void test_trend(void **state)
{
    (void)state;
    vt_series s;
    vt_series_init(&s);
    define_all(&s);
    vt_alerts a;
    vt_alerts_init(&a);
    assert_int_equal(vt_alerts_enable_anomalies(&a, &s, 60000000000ull), 0);
    struct fired f = {0};
    /* rss flat at 100 MiB: nothing; then +256 KiB every 10 ms (25 MiB/s) with a wobble of
     * 4 KiB: one trend alert, once the window shows at least 10% growth. */
    uint64_t k = 0;
    for (; k < 50; k++) {
        add(&s, k, 0, 100ull << 20, 0, 1, 0);
        vt_alerts_step(&a, &s, on_fire, &f);
    }
    assert_int_equal(f.kinds[VT_ALERT_TREND], 0);
    for (uint64_t j = 0; j < 200; j++, k++) {
        add(&s, k, 0, (100ull << 20) + j * 262144 + (j % 2) * 4096, 0, 1, 0);
        vt_alerts_step(&a, &s, on_fire, &f);
    }
    assert_int_equal(f.kinds[VT_ALERT_TREND], 1);
    assert_string_equal(f.rule, "trend: rss");
    if (f.last.value < 10.0 * 1048576 || f.last.value > 25.5 * 1048576)
        fail_msg("slope %.0f bytes/s, expected 10 to 25.5 MiB/s: %s", f.last.value, f.message);
    assert_non_null(strstr(f.message, "rss grows steadily"));
    vt_alerts_release(&a);
    vt_series_release(&s);
}

static void test_fit_line(void **state)
{
    (void)state;
    double t[5] = {0, 1, 2, 3, 4}, v[5] = {1, 3, 5, 7, 9}, slope, se, r2;
    assert_int_equal(vt__fit_line(t, v, 5, &slope, &se, &r2), 0);
    assert_true(fabs(slope - 2) < 1e-12 && se < 1e-9 && fabs(r2 - 1) < 1e-12);
    double w[5] = {1, 3, 5, 7, 10};
    assert_int_equal(vt__fit_line(t, w, 5, &slope, &se, &r2), 0);
    assert_true(fabs(slope - 2.2) < 1e-12); /* (sum (t-2)(w-5.2)) / 10 = 22/10 */
    assert_true(r2 < 1 && r2 > 0.98 && se > 0);
    assert_int_equal(vt__fit_line(t, w, 2, &slope, &se, &r2), -1);
    double same[3] = {1, 1, 1};
    assert_int_equal(vt__fit_line(same, w, 3, &slope, &se, &r2), -1);
}

static void test_series_summary(void **state)
{
    (void)state;
    vt_series s;
    vt_series_init(&s);
    define_all(&s);
    /* cpu: 50% of a core for 1 s (10 ms steps), then absent once; rss 1, 2, 3 MiB... */
    for (uint64_t k = 0; k <= 100; k++)
        add(&s, k, k * 5000000, (k + 1) << 20, k, 3, 0);
    int c = vt_series_find(&s, "cpu");
    assert_int_equal(c, 0);
    assert_int_equal(vt_series_find(&s, "nope"), -1);
    assert_true(fabs(vt_series_mean(&s, 0) - 50.0) < 1e-9);
    assert_int_equal(vt_series_total(&s, 0), 500000000ull);
    assert_int_equal(s.metrics[0].n, 100); /* rates: one per interval */
    assert_int_equal(s.metrics[1].n, 101);
    assert_true(s.metrics[1].min == 1 << 20 && s.metrics[1].max == 101ull << 20);
    assert_true(fabs(vt_series_mean(&s, 2) - 100.0) < 1e-9); /* 1 fault per 10 ms */
    assert_string_equal(vt_series_value_unit(&s, 0), "%");
    assert_string_equal(vt_series_value_unit(&s, 1), "bytes");
    assert_string_equal(vt_series_value_unit(&s, 2), "/s");
    assert_string_equal(vt_series_value_unit(&s, 4), "bytes/s");
    assert_int_equal(s.n_points, 101);
    assert_true(isnan(s.metrics[0].points[0]) && s.metrics[0].points[1] == 50.0);
    vt_series_release(&s);
}

static void test_series_bounded(void **state)
{
    (void)state;
    vt_series s;
    vt_series_init(&s);
    define_all(&s);
    for (uint64_t k = 0; k < 3 * VT_SERIES_POINTS_MAX + 7; k++)
        add(&s, k, k, k, 0, 1, 0);
    assert_true(s.n_points <= VT_SERIES_POINTS_MAX);
    assert_true(s.n_points > VT_SERIES_POINTS_MAX / 4);
    assert_int_equal(s.stride, 4);
    assert_int_equal(s.snapshots, 3 * VT_SERIES_POINTS_MAX + 7);
    for (size_t p = 1; p < s.n_points; p++)
        assert_int_equal(s.t[p] - s.t[p - 1], s.stride * 10000000ull);
    vt_series_release(&s);
}

static void classify(uint64_t cpu_step, uint64_t blkio_step, uint64_t majflt_step, int running,
                     int disk, int expect)
{
    vt_series s;
    vt_series_init(&s);
    vt_series_define(&s, 0, "cpu", VT_METRIC_COUNTER, VT_UNIT_NS);
    vt_series_define(&s, 1, "blkio_wait", VT_METRIC_COUNTER, VT_UNIT_NS);
    vt_series_define(&s, 2, "major_faults", VT_METRIC_COUNTER, VT_UNIT_COUNT);
    vt_series_define(&s, 3, "threads_running", VT_METRIC_GAUGE, VT_UNIT_COUNT);
    vt_series_define(&s, 4, "threads_disk", VT_METRIC_GAUGE, VT_UNIT_COUNT);
    vt_series_define(&s, 5, "threads_sleeping", VT_METRIC_GAUGE, VT_UNIT_COUNT);
    for (uint64_t k = 0; k <= 100; k++) {
        uint64_t v[6] = {k * cpu_step,      k * blkio_step, k * majflt_step,
                         (uint64_t)running, (uint64_t)disk, (uint64_t)(4 - running - disk)};
        uint8_t p[6] = {1, 1, 1, 1, 1, 1};
        vt_series_add(&s, k * 10000000ull, v, p, 6);
    }
    vt_bottleneck b;
    vt_bottleneck_classify(&s, &b);
    if (b.cls != expect)
        fail_msg("expected %s, got %s: %s", vt_bottleneck_name(expect), vt_bottleneck_name(b.cls),
                 b.reason);
    assert_true(fabs(b.seconds - 1.0) < 1e-9);
    vt_series_release(&s);
}

static void test_bottleneck(void **state)
{
    (void)state;
    classify(9000000, 0, 0, 1, 0, VT_BOUND_CPU);      /* 90% of a core */
    classify(1000000, 5000000, 0, 0, 1, VT_BOUND_IO); /* 50% waiting for block I/O */
    classify(1000000, 0, 0, 0, 2, VT_BOUND_IO);       /* half the threads in D */
    classify(2000000, 0, 5, 0, 0, VT_BOUND_MEMORY);   /* 500 major faults/s */
    classify(500000, 0, 0, 0, 0, VT_BOUND_WAITING);   /* 5%: asleep */
    classify(6900000, 0, 0, 1, 0, VT_BOUND_WAITING);  /* 69%: under the line */
    classify(3000000, 0, 0, 4, 0, VT_BOUND_CPU);      /* 30%, but runnable all along */
    vt_series s;
    vt_series_init(&s);
    vt_bottleneck b;
    vt_bottleneck_classify(&s, &b);
    assert_int_equal(b.cls, VT_BOUND_UNKNOWN);
    vt_series_release(&s);
}

static void test_numa(void **state)
{
    (void)state;
    const char *maps = "00400000 default file=/bin/x mapped=3 N0=3 kernelpagesize_kB=4\n"
                       "7f0000000000 interleave:0-1 anon=10 dirty=10 N0=4 N1=6 "
                       "kernelpagesize_kB=4\n"
                       "7f1000000000 bind:1 anon=2 N1=2 kernelpagesize_kB=2048\n";
    uint64_t bytes[4] = {0};
    vt__numa_parse_maps(maps, bytes, 4, 4096);
    assert_int_equal(bytes[0], 7 * 4096);
    assert_int_equal(bytes[1], 6 * 4096 + 2 * 2048 * 1024);
    assert_int_equal(bytes[2], 0);
    /* A thread on node 0 while node 1 holds most: warned; on node 1: not. */
    assert_int_equal(vt_numa_remote_node(bytes, 2, 0), 1);
    assert_int_equal(vt_numa_remote_node(bytes, 2, 1), -1);
    uint64_t even[2] = {100, 100};
    assert_int_equal(vt_numa_remote_node(even, 2, 0), -1);
    uint64_t none[2] = {0, 0};
    assert_int_equal(vt_numa_remote_node(none, 2, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),           cmocka_unit_test(test_bad),
        cmocka_unit_test(test_bind),           cmocka_unit_test(test_rules),
        cmocka_unit_test(test_anomaly_once),   cmocka_unit_test(test_trend),
        cmocka_unit_test(test_fit_line),       cmocka_unit_test(test_series_summary),
        cmocka_unit_test(test_series_bounded), cmocka_unit_test(test_bottleneck),
        cmocka_unit_test(test_numa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

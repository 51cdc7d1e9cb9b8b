/* Unit tests for the budget grammar (analyze/budget.c), the figure table's checks of a rule
 * (analyze/figures.c), the two-sample tests (analyze/stats.c) and the sudden-change rule of
 * the run history (store/history.c). Good and bad inputs, with the offset each error names. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/budget.h"
#include "analyze/figures.h"
#include "analyze/stats.h"
#include "store/history.h"
#include "util/error.h"

static vt_budget_expr parse_ok(const char *text)
{
    vt_budget_expr e;
    size_t at = 999;
    char msg[256] = "";
    int rc = vt_budget_parse(text, &e, &at, msg, sizeof(msg));
    if (rc)
        fail_msg("'%s' did not parse: %s (at %zu)", text, msg, at);
    return e;
}

static void parse_bad(const char *text, size_t want_at, const char *want_msg)
{
    vt_budget_expr e;
    size_t at = 999;
    char msg[256] = "";
    assert_int_equal(vt_budget_parse(text, &e, &at, msg, sizeof(msg)), VT_EINVAL);
    if (at != want_at || !strstr(msg, want_msg))
        fail_msg("'%s': error at %zu '%s', expected at %zu with '%s'", text, at, msg, want_at,
                 want_msg);
}

static void test_good_rules(void **state)
{
    (void)state;
    vt_budget_expr e = parse_ok("peak > +10%");
    assert_string_equal(e.figure, "peak");
    assert_string_equal(e.qualifier, "");
    assert_string_equal(e.stat, "");
    assert_int_equal(e.cmp, VT_CMP_GT);
    assert_int_equal(e.kind, VT_LIMIT_RELATIVE);
    assert_int_equal(e.unit, VT_QTY_PERCENT);
    assert_true(e.limit == 10);

    e = parse_ok("leaked > 0");
    assert_int_equal(e.kind, VT_LIMIT_VALUE);
    assert_true(e.limit == 0);

    e = parse_ok("  allocs >= +20% ");
    assert_string_equal(e.text, "allocs >= +20%");
    assert_int_equal(e.cmp, VT_CMP_GE);
    assert_int_equal(e.figure_at, 0);
    assert_int_equal(e.limit_at, 10);

    e = parse_ok("zone:parse p99 > +15%");
    assert_string_equal(e.figure, "zone");
    assert_string_equal(e.qualifier, "parse");
    assert_string_equal(e.stat, "p99");
    assert_true(e.limit == 15);

    e = parse_ok("peak>1.5MiB");
    assert_int_equal(e.kind, VT_LIMIT_VALUE);
    assert_int_equal(e.unit, VT_QTY_BYTES);
    assert_true(e.limit == 1.5 * 1024 * 1024);

    e = parse_ok("peak < -2 KB");
    assert_int_equal(e.kind, VT_LIMIT_CHANGE);
    assert_true(e.limit == -2000);

    e = parse_ok("duration <= 250ms");
    assert_int_equal(e.unit, VT_QTY_TIME);
    assert_true(e.limit == 250e6);

    e = parse_ok("allocs != 3k");
    assert_int_equal(e.cmp, VT_CMP_NE);
    assert_int_equal(e.unit, VT_QTY_COUNT);
    assert_true(e.limit == 3000);

    e = parse_ok("counter:cache.hits == 1G");
    assert_string_equal(e.qualifier, "cache.hits");
    assert_int_equal(e.cmp, VT_CMP_EQ);
    assert_true(e.limit == 1e9);

    e = parse_ok("peak > 1GiB");
    assert_true(e.limit == 1073741824.0);
    e = parse_ok("peak > 2TiB");
    assert_true(e.limit == 2199023255552.0);
}

static void test_bad_rules(void **state)
{
    (void)state;
    parse_bad("", 0, "empty rule");
    parse_bad("   ", 3, "empty rule");
    parse_bad("Peak > 1", 0, "figure name");
    parse_bad("peak", 4, "the rule ends here");
    parse_bad("peak 1", 5, "expected a comparison");
    parse_bad("peak >", 6, "expected a number");
    parse_bad("peak >> 3", 6, "expected a number at '>'");
    parse_bad("peak = 3", 6, "'=='");
    parse_bad("peak ! 3", 6, "'!='");
    parse_bad("peak > +10x", 10, "unknown unit 'x'");
    parse_bad("peak > 3XB", 8, "unknown unit 'XB'");
    parse_bad("peak > 10%", 7, "a percentage is a change");
    parse_bad("peak > 1.", 9, "digit after '.'");
    parse_bad("peak > 1 MiB extra", 13, "unexpected 'e'");
    parse_bad("zone: > 1", 5, "name after ':'");
    parse_bad("peak > +10%%", 11, "unexpected '%'");
    parse_bad("peak > x", 7, "expected a number at 'x'");
    char long_rule[400];
    memset(long_rule, 'a', sizeof(long_rule) - 1);
    long_rule[sizeof(long_rule) - 1] = 0;
    parse_bad(long_rule, VT_BUDGET_TEXT_MAX - 1, "too long");
}

/* A rule followed by another grammar's words, as in an alert. */
static void test_prefix(void **state)
{
    (void)state;
    vt_budget_expr e;
    size_t rest = 0, at = 0;
    char msg[256];
    assert_int_equal(vt_budget_parse_prefix("rss > 2GiB for 10s", &e, &rest, &at, msg, sizeof(msg)),
                     0);
    assert_string_equal(e.figure, "rss");
    assert_true(e.limit == 2.0 * 1024 * 1024 * 1024);
    assert_int_equal(rest, 11);
    assert_string_equal(e.text, "rss > 2GiB");
    assert_int_equal(vt_budget_parse_prefix("allocs > 2 for 10s", &e, &rest, &at, msg, sizeof(msg)),
                     0);
    assert_int_equal(e.unit, VT_QTY_PLAIN);
    assert_int_equal(rest, 11);
    assert_int_equal(vt_budget_parse_prefix("peak > +10%", &e, &rest, &at, msg, sizeof(msg)), 0);
    assert_int_equal(rest, 11);
    assert_int_equal(vt_budget_parse_prefix("peak > 2xx for 1s", &e, &rest, &at, msg, sizeof(msg)),
                     VT_EINVAL);
    assert_int_equal(at, 8);
    parse_bad("allocs > 2 for 10s", 11, "unknown unit 'for'");
}

static const vt_figure *for_rule(const char *text, size_t *at, char *msg, size_t n)
{
    vt_budget_expr e = parse_ok(text);
    return vt_figure_for_rule(&e, at, msg, n);
}

static void test_figures(void **state)
{
    (void)state;
    char msg[256];
    size_t at;
    assert_non_null(for_rule("peak > +10%", &at, msg, sizeof(msg)));
    assert_non_null(for_rule("leaked > 0", &at, msg, sizeof(msg)));
    assert_non_null(for_rule("allocs > +20%", &at, msg, sizeof(msg)));
    assert_non_null(for_rule("duration > 2s", &at, msg, sizeof(msg)));
    assert_null(for_rule("zonk:parse p99 > +15%", &at, msg, sizeof(msg)));
    assert_int_equal(at, 0);
    assert_non_null(strstr(msg, "unknown figure 'zonk'"));
    assert_null(for_rule("peak:x > 1", &at, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "takes no ':x'"));
    assert_null(for_rule("peak p99 > 1", &at, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "no statistic"));
    assert_null(for_rule("allocs > 1MiB", &at, msg, sizeof(msg)));
    assert_int_equal(at, 9);
    assert_non_null(strstr(msg, "a count"));
    assert_null(for_rule("peak > 10ms", &at, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "in bytes"));
    for (const vt_figure *f = vt_figures; f->name; f++)
        if (!f->qualified)
            assert_ptr_equal(vt_figure_find(f->name), f);
    assert_null(vt_figure_find("nope"));
}

/* The figures of zones, counters, tasks and the CPU profile: which statistics each takes, and
 * the unit each statistic has. */
static void test_named_figures(void **state)
{
    (void)state;
    char msg[256];
    size_t at;
    const vt_figure *f = for_rule("zone:parse p99 > +15%", &at, msg, sizeof(msg));
    assert_non_null(f);
    assert_string_equal(f->name, "zone");
    assert_int_equal(f->unit, VT_FIG_NS);
    static const char *const ns_stats[] = {"p50",   "p90",  "p95", "p99",
                                           "p99.9", "mean", "max", "total"};
    for (size_t i = 0; i < sizeof(ns_stats) / sizeof(*ns_stats); i++) {
        char rule[64];
        snprintf(rule, sizeof(rule), "zone:a.b %s > 2ms", ns_stats[i]);
        f = for_rule(rule, &at, msg, sizeof(msg));
        assert_non_null(f);
        assert_int_equal(f->unit, VT_FIG_NS);
    }
    assert_non_null(f = for_rule("zone:parse > +1ms", &at, msg, sizeof(msg))); /* total */
    assert_int_equal(f->unit, VT_FIG_NS);
    assert_non_null(f = for_rule("zone:parse calls > +10%", &at, msg, sizeof(msg)));
    assert_int_equal(f->unit, VT_FIG_COUNT);
    assert_non_null(f = for_rule("zone:parse errors > 0", &at, msg, sizeof(msg)));
    assert_int_equal(f->unit, VT_FIG_COUNT);
    assert_null(for_rule("zone:parse calls > 1ms", &at, msg, sizeof(msg)));
    assert_int_equal(at, 19);
    assert_non_null(strstr(msg, "a count"));
    assert_null(for_rule("zone:parse p42 > 1ms", &at, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "no statistic 'p42'"));
    assert_null(for_rule("zone p99 > 1ms", &at, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "needs a name"));
    assert_non_null(f = for_rule("counter:items > +5%", &at, msg, sizeof(msg)));
    assert_int_equal(f->unit, VT_FIG_COUNT);
    assert_non_null(for_rule("counter:depth last > 40", &at, msg, sizeof(msg)));
    assert_null(for_rule("counter:items p99 > 1", &at, msg, sizeof(msg)));
    /* "cpu" is the CPU time, and with a name a function's share of it */
    assert_non_null(f = for_rule("cpu > +10%", &at, msg, sizeof(msg)));
    assert_false(f->qualified);
    assert_int_equal(f->unit, VT_FIG_NS);
    assert_non_null(f = for_rule("cpu:parse_line > +2ms", &at, msg, sizeof(msg)));
    assert_true(f->qualified);
    assert_int_equal(f->unit, VT_FIG_NS);
    assert_non_null(f = for_rule("cpu:parse_line share > 30", &at, msg, sizeof(msg)));
    assert_int_equal(f->unit, VT_FIG_PCT);
    assert_null(for_rule("cpu:parse_line share > 1ms", &at, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "percentage"));
    assert_null(for_rule("cpu p99 > 1ms", &at, msg, sizeof(msg)));
    assert_non_null(f = for_rule("samples_lost > 0", &at, msg, sizeof(msg)));
    assert_non_null(f = for_rule("task:request wall > +10%", &at, msg, sizeof(msg)));
    assert_int_equal(f->unit, VT_FIG_NS);
    assert_non_null(f = for_rule("task:request tasks < 10", &at, msg, sizeof(msg)));
    assert_int_equal(f->unit, VT_FIG_COUNT);
    /* the history's names resolve to the same rows */
    assert_ptr_equal(vt_figure_resolve("zone", "parse", "calls"),
                     for_rule("zone:parse calls > 1", &at, msg, sizeof(msg)));
    assert_ptr_equal(vt_figure_resolve("cpu", "", ""), vt_figure_find("cpu"));
    assert_null(vt_figure_resolve("zonk", "x", ""));
    char buf[64];
    assert_string_equal(
        vt_figure_fmt(vt_figure_resolve("cpu", "f", "share"), 12.34, 0, buf, sizeof(buf)), "12.3%");
}

static void test_evaluate(void **state)
{
    (void)state;
    double q;
    vt_budget_expr e = parse_ok("peak > +10%");
    assert_int_equal(vt_budget_broken(&e, 1000, 1100, 1, &q), 0); /* exactly +10% */
    assert_true(fabs(q - 10) < 1e-9);
    assert_int_equal(vt_budget_broken(&e, 1000, 1101, 1, &q), 1);
    assert_int_equal(vt_budget_broken(&e, 0, 1, 1, &q), 1);
    assert_true(isinf(q));
    assert_int_equal(vt_budget_broken(&e, 0, 0, 1, &q), 0);
    assert_int_equal(vt_budget_broken(&e, 1000, 2000, 0, &q), VT_EINVAL); /* needs a base */
    e = parse_ok("leaked > 0");
    assert_int_equal(vt_budget_broken(&e, 0, 0, 0, NULL), 0);
    assert_int_equal(vt_budget_broken(&e, 0, 1, 0, NULL), 1);
    e = parse_ok("peak > +1KiB");
    assert_int_equal(vt_budget_broken(&e, 5000, 6024, 1, &q), 0);
    assert_int_equal(vt_budget_broken(&e, 5000, 6025, 1, &q), 1);
    assert_true(q == 1025);
    e = parse_ok("allocs < -5%");
    assert_int_equal(vt_budget_broken(&e, 100, 94, 1, NULL), 1);
    assert_int_equal(vt_budget_broken(&e, 100, 95, 1, NULL), 0);
    char buf[64];
    assert_string_equal(vt_budget_limit_str(&e, buf, sizeof(buf)), "-5%");
    e = parse_ok("peak > 1KiB");
    assert_string_equal(vt_budget_limit_str(&e, buf, sizeof(buf)), "1024 B");
}

static void test_stats(void **state)
{
    (void)state;
    /* Student's t in closed form: df 1 is Cauchy, df 2 has p = 1 - |t| / sqrt(2 + t^2). */
    assert_true(fabs(vt_student_p(1.0, 1) - 0.5) < 1e-9);
    assert_true(fabs(vt_student_p(3.0, 1) - (1 - 2 * atan(3.0) / M_PI)) < 1e-9);
    assert_true(fabs(vt_student_p(2.0, 2) - (1 - 2 / sqrt(6.0))) < 1e-9);
    assert_true(fabs(vt_student_p(0, 7) - 1) < 1e-12);

    /* Welch: means 3 and 6, variances 2.5 and 10, 5 runs each: t = 3 / sqrt(2.5), df =
     * 6.25 / (0.25 / 4 + 4 / 4). */
    double a[] = {1, 2, 3, 4, 5}, b[] = {2, 4, 6, 8, 10};
    vt_test_result r = vt_stat_test(VT_TEST_WELCH, a, 5, b, 5);
    assert_true(r.valid);
    assert_true(fabs(r.statistic - 3 / sqrt(2.5)) < 1e-9);
    assert_true(fabs(r.df - 6.25 / 1.0625) < 1e-9);
    assert_true(fabs(r.p - vt_student_p(3 / sqrt(2.5), 6.25 / 1.0625)) < 1e-12);
    assert_true(r.p > 0.05 && r.p < 0.2);

    /* Constant sides: no noise at all. */
    double c1[] = {15, 15, 15}, c2[] = {16, 16, 16};
    r = vt_stat_test(VT_TEST_WELCH, c1, 3, c2, 3);
    assert_true(r.valid && r.p == 0);
    r = vt_stat_test(VT_TEST_WELCH, c1, 3, c1, 3);
    assert_true(r.valid && r.p == 1);

    /* Mann-Whitney, exact: complete separation of 3 and 3 has p = 2 / C(6, 3) = 0.1, of 4
     * and 4 p = 2 / C(8, 4). */
    double m1[] = {1, 2, 3}, m2[] = {4, 5, 6};
    r = vt_stat_test(VT_TEST_MANN_WHITNEY, m1, 3, m2, 3);
    assert_true(r.valid && r.exact);
    assert_true(r.statistic == 0);
    assert_true(fabs(r.p - 0.1) < 1e-12);
    double m3[] = {1, 2, 3, 4}, m4[] = {5, 6, 7, 8};
    r = vt_stat_test(VT_TEST_MANN_WHITNEY, m4, 4, m3, 4);
    assert_true(r.statistic == 16);
    assert_true(fabs(r.p - 2.0 / 70) < 1e-12);
    /* Interleaved: U of the first sample counts its wins, 3 (3 > 2, 5 > 2, 5 > 4). */
    double i1[] = {1, 3, 5}, i2[] = {2, 4, 6};
    r = vt_stat_test(VT_TEST_MANN_WHITNEY, i1, 3, i2, 3);
    assert_true(r.statistic == 3);
    assert_true(fabs(r.p - 0.7) < 1e-12); /* P(U <= 3) = 7 / 20, two-sided 0.7 */
    /* Ties: the normal approximation; all equal gives p = 1. */
    r = vt_stat_test(VT_TEST_MANN_WHITNEY, c1, 3, c1, 3);
    assert_true(r.valid && !r.exact && r.p == 1);
    /* Too few runs. */
    r = vt_stat_test(VT_TEST_WELCH, a, 1, b, 5);
    assert_false(r.valid);
}

static void test_sudden_change(void **state)
{
    (void)state;
    double v[] = {100, 102, 98, 101, 99, 100, 150, 100, 100, 0};
    vt_history_point p[10];
    memset(p, 0, sizeof(p));
    for (int i = 0; i < 10; i++)
        p[i].value = v[i];
    vt_history_flag(p, 10);
    int want[] = {0, 0, 0, 0, 0, 0, 1, 0, 0, 1};
    for (int i = 0; i < 10; i++)
        if (p[i].flagged != want[i])
            fail_msg("point %d (%g): flagged %d, expected %d (baseline %g)", i, v[i], p[i].flagged,
                     want[i], p[i].baseline);
    assert_true(isnan(p[2].baseline));
    assert_true(p[3].baseline == 100); /* median of 100, 102, 98 */
    /* Constant runs: a change above 10% of the median is sudden, up to it is not. */
    double w[] = {50, 50, 50, 55, 56};
    for (int i = 0; i < 5; i++)
        p[i].value = w[i];
    vt_history_flag(p, 5);
    assert_int_equal(p[3].flagged, 0); /* +10% exactly */
    assert_int_equal(p[4].flagged, 1); /* median 50 of 50,50,50,55; +12% */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_rules),    cmocka_unit_test(test_bad_rules),
        cmocka_unit_test(test_figures),       cmocka_unit_test(test_named_figures),
        cmocka_unit_test(test_evaluate),      cmocka_unit_test(test_stats),
        cmocka_unit_test(test_sudden_change), cmocka_unit_test(test_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

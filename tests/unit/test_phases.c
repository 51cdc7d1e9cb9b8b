/* The bottleneck over sliding windows (analyze/bottleneck.c: vt_phases): windows classified
 * by the rules of the whole-recording class, equal neighbours joined into phases, the figures
 * of a phase over all its snapshots, a change reported once; fed point by point and from a
 * series built by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "analyze/bottleneck.h"
#include "trace/format.h"

/* cpu, blkio, major faults, psi memory, psi io, steal, running, D, sleeping */
static void point(double *v, double cpu, double running, double disk, double sleeping)
{
    for (int i = 0; i < 9; i++)
        v[i] = NAN;
    v[0] = cpu;
    v[1] = 0;
    v[2] = 0;
    v[6] = running;
    v[7] = disk;
    v[8] = sleeping;
}

static void test_phases_add(void **state)
{
    (void)state;
    vt_phases ph;
    vt_phases_init(&ph, 1000000000ull);
    double v[9];
    const uint64_t ms = 1000000;
    int changes = 0, r;
    /* 3 s busy, 2 s in D, 2 s asleep, a snapshot every 100 ms; the first has no rates. */
    for (uint64_t k = 0; k <= 70; k++) {
        uint64_t t = k * 100 * ms;
        if (k == 0)
            point(v, NAN, NAN, NAN, NAN);
        else if (t <= 3000 * ms)
            point(v, 95, 1, 0, 0);
        else if (t <= 5000 * ms)
            point(v, 5, 0, 1, 0);
        else
            point(v, 0, 0, 0, 1);
        r = vt_phases_add(&ph, t, k ? 100 * ms : 0, v);
        assert_true(r >= 0);
        changes += r;
        /* announced once, when the first window of the class closes */
        if (r)
            assert_int_equal(t % (1000 * ms), 0);
    }
    r = vt_phases_finish(&ph);
    changes += r;
    assert_int_equal(ph.n, 3);
    assert_int_equal(changes, 3);
    assert_int_equal(ph.v[0].b.cls, VT_BOUND_CPU);
    assert_int_equal(ph.v[1].b.cls, VT_BOUND_IO);
    assert_int_equal(ph.v[2].b.cls, VT_BOUND_WAITING);
    /* windows [0,1) [1,2) [2,3) are busy; the snapshot at 3.0 s (busy) opens [3,4), whose
     * other nine are in D: that window is I/O */
    assert_int_equal(ph.v[0].from_ns, 0);
    assert_int_equal(ph.v[0].to_ns, 2900 * ms);
    assert_int_equal(ph.v[1].from_ns, 2900 * ms);
    assert_int_equal(ph.v[1].to_ns, 4900 * ms);
    assert_int_equal(ph.v[2].to_ns, 7000 * ms);
    /* the phase's figures are its mean over every snapshot it holds */
    assert_true(fabs(ph.v[0].b.cpu_pct - 95) < 1e-9);
    assert_int_equal(ph.v[0].snapshots, 30);
    assert_true(fabs(ph.v[1].b.disk_state_pct - 95) < 1e-9); /* 19 of its 20 in D */
    assert_int_equal(ph.v[2].snapshots, 21);
    vt_phases_release(&ph);
}

static void test_phases_collapse(void **state)
{
    (void)state;
    vt_phases ph;
    vt_phases_init(&ph, 0);
    assert_int_equal(ph.window_ns, VT_PHASE_WINDOW_NS);
    vt_phases_release(&ph);
    /* One class throughout: one phase however many windows. */
    vt_phases_init(&ph, 10000000ull);
    double v[9];
    for (uint64_t k = 1; k <= 1000; k++) {
        point(v, 80, 1, 0, 0);
        assert_true(vt_phases_add(&ph, k * 1000000ull, 1000000ull, v) <= (k == 11));
    }
    vt_phases_finish(&ph);
    assert_int_equal(ph.n, 1);
    assert_int_equal(ph.v[0].snapshots, 1000);
    vt_phases_release(&ph);
    /* Nothing measured: no phase at all. */
    vt_phases_init(&ph, 10000000ull);
    point(v, NAN, NAN, NAN, NAN);
    vt_phases_add(&ph, 0, 0, v);
    assert_int_equal(vt_phases_finish(&ph), 0);
    assert_int_equal(ph.n, 0);
    vt_phases_release(&ph);
}

static void test_phases_of_series(void **state)
{
    (void)state;
    vt_series s;
    vt_series_init(&s);
    vt_series_define(&s, 0, "cpu", VT_METRIC_COUNTER, VT_UNIT_NS);
    vt_series_define(&s, 1, "threads_running", VT_METRIC_GAUGE, VT_UNIT_COUNT);
    vt_series_define(&s, 2, "threads_sleeping", VT_METRIC_GAUGE, VT_UNIT_COUNT);
    uint64_t cpu = 0;
    const uint64_t ms = 1000000;
    /* 2 s at 90% of a core, then 2 s at 1%, every 50 ms */
    for (uint64_t k = 0; k <= 80; k++) {
        int busy = k <= 40;
        if (k)
            cpu += busy ? 45 * ms : ms / 2;
        uint64_t v[3] = {cpu, (uint64_t)busy, (uint64_t)!busy};
        uint8_t p[3] = {1, 1, 1};
        assert_int_equal(vt_series_add(&s, k * 50 * ms, v, p, 3), 0);
    }
    vt_phases ph;
    vt_phases_init(&ph, 500 * ms);
    assert_int_equal(vt_phases_of_series(&ph, &s), 0);
    assert_int_equal(ph.n, 2);
    assert_int_equal(ph.v[0].b.cls, VT_BOUND_CPU);
    assert_int_equal(ph.v[1].b.cls, VT_BOUND_WAITING);
    assert_int_equal(ph.v[1].from_ns, 1950 * ms);
    assert_int_equal(ph.v[1].to_ns, 4000 * ms);
    assert_true(fabs(ph.v[0].b.cpu_pct - 90) < 1e-6);
    vt_phases_release(&ph);
    vt_series_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phases_add),
        cmocka_unit_test(test_phases_collapse),
        cmocka_unit_test(test_phases_of_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

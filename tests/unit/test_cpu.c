/* The CPU profile (src/analyze/cpu.c) on traces built record by record: sample shares, the
 * call tree, callers and callees, per-thread figures, counters scaled for multiplexing, and the
 * derived ratios that a machine with a PMU would show (this one has none, so the e2e tests
 * cannot reach them). Also src/collect/perf.c's scaling and its arena of rings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "analyze/cpu.h"
#include "analyze/model.h"
#include "analyze/symbols.h"
#include "collect/perf.h"
#include "trace-builder.h"
#include "unit-util.h"

#define START_TSC 1000000000ULL
#define HZ_TSC 1000000000ULL /* 1 tick = 1 ns */

static const char *begin(tb *b, const char *name)
{
    const char *path = ut_path(ut_tmp_dir, name);
    unlink(path);
    tb_open(b, path, 1);
    tb_info_args info = {.pid = 7,
                         .ppid = 6,
                         .tsc_hz = HZ_TSC,
                         .start_tsc = START_TSC,
                         .start_ns = 5000,
                         .depth = 64,
                         .time_shift = 0,
                         .exe = "/usr/bin/prog"};
    tb_info(b, &info);
    return path;
}

static void put_misc(tb *b, uint8_t tag, const uint64_t *v, size_t n, const char *str)
{
    tb_room(b, 512);
    vt_stream_put_byte(&b->e, VT_COL_TAG, tag);
    for (size_t i = 0; i < n; i++)
        vt_stream_put(&b->e, VT_COL_MISC, v[i]);
    if (str)
        tb_str(b, str);
}

static void sampler(tb *b, uint64_t flags)
{
    uint64_t v[4] = {VT_SAMPLER_PERF, 1000, flags, 1000000};
    put_misc(b, VT_TAG_CPU_SAMPLER, v, 4, "");
}

static void sample(tb *b, uint64_t tsc, uint32_t stack, uint32_t tid, int kind, uint64_t w)
{
    tb_room(b, 64);
    vt_stream_put_byte(&b->e, VT_COL_TAG, VT_TAG_CPU_SAMPLE);
    tb_time(b, tsc);
    vt_stream_put(&b->e, VT_COL_STACK, stack);
    vt_stream_put(&b->e, VT_COL_THREAD, tid);
    vt_stream_put(&b->e, VT_COL_MISC, (uint64_t)kind);
    vt_stream_put(&b->e, VT_COL_MISC, w);
}

static void thread_rec(tb *b, uint32_t tid, uint64_t start, uint64_t end, uint64_t cpu,
                       const char *name)
{
    uint64_t v[9] = {tid, start, end, cpu, 0, 0, 3, 40, VT_CPU_T_CPU_EXACT | VT_CPU_T_SWITCHES};
    put_misc(b, VT_TAG_CPU_THREAD, v, 9, name);
}

static vt_model *finish(tb *b, const char *path)
{
    tb_end(b, VT_END_EXIT_STATUS, 0, 0, START_TSC + 2000000000ULL);
    tb_close(b);
    int err = 0;
    char msg[256];
    vt_model *m = vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg));
    if (!m)
        fail_msg("load: %s", msg);
    assert_null(m->warnings);
    return m;
}

static const vt_cpu_fn *fn_named(const vt_cpu_profile *p, const char *name)
{
    long i = vt_cpu_profile_find(p, name);
    if (i < 0)
        fail_msg("no function %s", name);
    size_t n;
    return &vt_cpu_profile_fns(p, &n)[i];
}

/* Frames without modules are named by address: 0x100 is main, 0x200 hot, 0x300 cold. */
static void test_profile(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "profile.vtr");
    sampler(&b, VT_CPU_F_NO_ALLOC);
    uint64_t hot[] = {0x200, 0x101}, cold[] = {0x300, 0x101}, rec[] = {0x200, 0x200, 0x101};
    tb_stack(&b, 1, hot, 2);
    tb_stack(&b, 2, cold, 2);
    tb_stack(&b, 3, rec, 3); /* recursion: hot calls itself */
    for (int i = 0; i < 60; i++)
        sample(&b, START_TSC + 1000 + (uint64_t)i, 1, 11, VT_CPU_ON, 1000000);
    for (int i = 0; i < 10; i++)
        sample(&b, START_TSC + 2000 + (uint64_t)i, 3, 11, VT_CPU_ON, 1000000);
    for (int i = 0; i < 30; i++)
        sample(&b, START_TSC + 3000 + (uint64_t)i, 2, 12, VT_CPU_ON, 1000000);
    sample(&b, START_TSC + 4000, 2, 12, VT_CPU_OFF, 500000000);
    thread_rec(&b, 11, START_TSC, START_TSC + 1000000000, 70000000, "main");
    thread_rec(&b, 12, START_TSC + 500000000, START_TSC + 1000000000, 30000000, "worker");
    vt_model *m = finish(&b, path);
    assert_true(vt_model_cpu_only(m));
    const vt_cpu *cpu = m->cpu;
    assert_non_null(cpu);
    assert_int_equal(cpu->samples, 100);
    assert_int_equal(cpu->on_ns, 100000000);
    assert_int_equal(cpu->off_ns, 500000000);
    assert_int_equal(cpu->n_threads, 2);
    assert_int_equal(cpu->threads[0].tid, 11);
    assert_string_equal(cpu->threads[0].name, "main");
    assert_int_equal(cpu->threads[0].cpu_ns, 70000000);
    assert_int_equal(cpu->threads[1].start_ns, 500000000);
    assert_int_equal(cpu->threads[1].end_ns, 1000000000);
    assert_int_equal(cpu->threads[1].migrations, 3);

    vt_symbols *syms = vt_symbols_new();
    vt_cpu_profile *p = vt_cpu_profile_new(m, syms, -1);
    assert_non_null(p);
    assert_int_equal(vt_cpu_profile_ns(p), 100000000);
    size_t n;
    const vt_cpu_fn *fns = vt_cpu_profile_fns(p, &n);
    assert_int_equal(n, 3);
    assert_string_equal(fns[0].name, "0x200"); /* hot: 70 self */
    assert_int_equal(fns[0].self_ns, 70000000);
    assert_int_equal(fns[0].total_ns, 70000000); /* recursion counts once */
    assert_string_equal(fns[1].name, "0x300");
    assert_int_equal(fns[1].self_ns, 30000000);
    assert_int_equal(fns[1].off_ns, 500000000);
    assert_int_equal(fn_named(p, "0x101")->total_ns, 100000000);
    assert_int_equal(fn_named(p, "0x101")->self_ns, 0);
    /* The tree: root -> 0x101 -> (0x200 -> 0x200, 0x300), children by total. */
    const vt_cpu_node *t = vt_cpu_profile_tree(p, &n);
    assert_int_equal(t[0].total_ns, 100000000);
    uint32_t main_node = t[0].first_child;
    assert_string_equal(fns[t[main_node].fn].name, "0x101");
    assert_int_equal(t[main_node].next_sibling, UINT32_MAX);
    uint32_t c1 = t[main_node].first_child, c2 = t[c1].next_sibling;
    assert_string_equal(fns[t[c1].fn].name, "0x200");
    assert_int_equal(t[c1].total_ns, 70000000);
    assert_int_equal(t[c1].self_ns, 60000000);
    assert_string_equal(fns[t[c2].fn].name, "0x300");
    assert_int_equal(t[t[c1].first_child].self_ns, 10000000);
    /* Callers and callees. */
    long hot_i = vt_cpu_profile_find(p, "0x200");
    vt_cpu_edge *e = vt_cpu_profile_edges(p, (uint32_t)hot_i, 0, &n);
    assert_int_equal(n, 1);
    assert_string_equal(fns[e[0].fn].name, "0x101");
    assert_int_equal(e[0].ns, 70000000);
    free(e);
    e = vt_cpu_profile_edges(p, (uint32_t)vt_cpu_profile_find(p, "0x101"), 1, &n);
    assert_int_equal(n, 2);
    assert_string_equal(fns[e[0].fn].name, "0x200");
    assert_int_equal(e[0].ns, 70000000);
    assert_int_equal(e[1].ns, 30000000);
    free(e);
    /* Hot spots: both leaves cross the self threshold; main is an entry point. */
    vt_cpu_hot *h = vt_cpu_hot_spots(m, p, &n);
    assert_int_equal(n, 2);
    assert_int_equal(h[0].kind, VT_HOT_SELF);
    assert_string_equal(fns[h[0].fn].name, "0x200");
    ut_assert_contains(h[0].advice, "%s", "70.0% of the sampled CPU time");
    free(h);
    vt_cpu_profile_free(p);
    /* One thread's profile. */
    p = vt_cpu_profile_new(m, syms, 1);
    fns = vt_cpu_profile_fns(p, &n);
    assert_int_equal(vt_cpu_profile_ns(p), 30000000);
    assert_string_equal(fns[0].name, "0x300");
    vt_cpu_profile_free(p);
    vt_symbols_free(syms);
    vt_model_free(m);
}

static void event(tb *b, uint64_t idx, const char *name, int status, int sw)
{
    uint64_t v[5] = {idx, (uint64_t)status, sw ? 1 : 0, 0, sw ? VT_CPU_EV_SOFTWARE : 0};
    put_misc(b, VT_TAG_CPU_EVENT, v, 5, name);
}

static const char *const names[] = {"cycles",           "instructions",    "branches",
                                    "branch-misses",    "L1-dcache-loads", "L1-dcache-load-misses",
                                    "LLC-loads",        "LLC-load-misses", "dTLB-load-misses",
                                    "iTLB-load-misses", "task-clock"};

/* Counters of two threads; cycles multiplexed (running half the time it was enabled). */
static vt_model *counters_trace(const char *name, const uint64_t *values, int cycles_status)
{
    tb b;
    const char *path = begin(&b, name);
    sampler(&b, VT_CPU_F_COUNTERS);
    for (int t = 0; t < 2; t++) {
        uint64_t v[2 + 4 * 11];
        size_t n = 2;
        v[0] = 100 + (uint64_t)t;
        for (uint64_t i = 0; i < 11; i++) {
            if (i == 0 && cycles_status)
                continue;
            v[n++] = i;
            v[n++] = values[i] / 2;
            v[n++] = 1000;
            v[n++] = i == 0 ? 500 : 1000;
        }
        v[1] = (n - 2) / 4;
        put_misc(&b, VT_TAG_CPU_COUNTERS, v, n, NULL);
        thread_rec(&b, 100 + (uint32_t)t, START_TSC, START_TSC + 1000, 1000, "t");
    }
    for (uint64_t i = 0; i < 11; i++)
        event(&b, i, names[i], i == 0 ? cycles_status : 0, i == 10);
    return finish(&b, path);
}

static void test_ratios(void **state)
{
    (void)state;
    /* cycles are read at half their enabled time: the scaled total doubles them. */
    uint64_t v[11] = {500000000, 2500000000, 500000000, 10000000, 1000000000, 50000000,
                      10000000,  5000000,    1000000,   500000,   7};
    vt_model *m = counters_trace("ratios.vtr", v, 0);
    const vt_cpu *cpu = m->cpu;
    assert_int_equal(cpu->n_events, 11);
    assert_int_equal(cpu->events[0].total.value, 500000000);
    assert_true(cpu->events[0].scaled == 1e9);
    assert_true(vt_cpu_event_total(cpu, "instructions") == 2.5e9);
    vt_cpu_ratio r[VT_RATIOS];
    assert_int_equal(vt_cpu_ratios(cpu, r), VT_RATIOS);
    assert_true(r[VT_RATIO_IPC].value == 2.5);
    assert_string_equal(r[VT_RATIO_IPC].formula, "instructions / cycles");
    assert_true(r[VT_RATIO_BRANCH_MISS].value == 2.0);
    assert_true(r[VT_RATIO_L1_MISS].value == 5.0);
    assert_true(r[VT_RATIO_LLC_MISS].value == 50.0);
    assert_true(r[VT_RATIO_BRANCH_MPKI].value == 4.0);
    assert_true(r[VT_RATIO_L1_MPKI].value == 20.0);
    assert_true(r[VT_RATIO_LLC_MPKI].value == 2.0);
    assert_true(r[VT_RATIO_TLB_MPKI].value == 0.6);
    char buf[512];
    ut_assert_contains(vt_cpu_interpret(r, buf, sizeof(buf)), "compute-bound: IPC 2.50");
    vt_model_free(m);

    /* Low IPC with many LLC misses reads as memory-bound. */
    uint64_t w[11] = {4000000000, 2000000000, 500000000, 1000000, 1000000000, 50000000,
                      10000000,   8000000,    1000000,   500000,  7};
    m = counters_trace("memory.vtr", w, 0);
    vt_cpu_ratios(m->cpu, r);
    assert_true(r[VT_RATIO_IPC].value == 0.25);
    ut_assert_contains(vt_cpu_interpret(r, buf, sizeof(buf)), "memory-bound");
    vt_model_free(m);

    /* No cycles (ENOENT: no PMU): no IPC, no reading; the others still stand. */
    m = counters_trace("nopmu.vtr", v, 2);
    assert_int_equal(m->cpu->events[0].status, 2);
    assert_true(vt_cpu_event_total(m->cpu, "cycles") < 0);
    assert_int_equal(vt_cpu_ratios(m->cpu, r), VT_RATIOS - 1);
    assert_false(r[VT_RATIO_IPC].have);
    assert_null(vt_cpu_interpret(r, buf, sizeof(buf)));
    vt_model_free(m);
}

static void test_perf_scaling(void **state)
{
    (void)state;
    vt_perf_count c = {.value = 300, .enabled = 1000, .running = 250};
    assert_int_equal(vt_perf_scaled(&c), 1200);
    assert_true(vt_perf_scale_factor(&c) == 4.0);
    c = (vt_perf_count){.value = 300, .enabled = 1000, .running = 1000};
    assert_int_equal(vt_perf_scaled(&c), 300);
    assert_true(vt_perf_scale_factor(&c) == 1.0);
    c = (vt_perf_count){.value = 0, .enabled = 1000, .running = 0};
    assert_int_equal(vt_perf_scaled(&c), 0);
    assert_true(vt_perf_scale_factor(&c) == 0);
}

/* Whether anything is mapped at p: a mapping that may not replace one fails there. */
static int mapped_at(void *p, size_t len)
{
    void *q = mmap(p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (q == MAP_FAILED)
        return 1;
    munmap(q, len);
    return 0;
}

/* The arena of rings (collect/perf.h) on counting events of this thread (their first page is
 * mapped like a sampling event's): rings side by side; one without a free slot mapped alone;
 * a sweep frees the dead ones, a run at once, and leaves the range reserved; the lowest free
 * slot is taken first; after a fork the slots in use are never touched again. Fails where perf
 * events are refused: the agent's CPU sampler needs them as much. */
static void test_perf_arena(void **state)
{
    (void)state;
    static _Atomic uint8_t st[4];
    vt_perf_arena a;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    assert_int_equal(vt_perf_arena_init(&a, 1, 4, st), 0);
    assert_int_equal(a.slot_len, 2 * page);
    int fd[6];
    vt_perf_ring r[6];
    for (int i = 0; i < 6; i++) {
        struct perf_event_attr attr;
        vt_perf_attr_count(&attr, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
        fd[i] = vt_perf_open(&attr, 0, -1);
        assert_true(fd[i] >= 0);
    }
    uint8_t *end = a.base + 4 * a.slot_len;
    for (int i = 0; i < 5; i++)
        assert_int_equal(vt_perf_ring_map_in(&a, fd[i], 1, &r[i]), 0);
    for (int i = 0; i < 4; i++)
        assert_ptr_equal(r[i].meta, a.base + (size_t)i * a.slot_len);
    uint8_t *alone = (uint8_t *)r[4].meta;
    assert_true(alone + r[4].map_len <= a.base || alone >= end);
    /* A ring of another size is mapped alone too. */
    assert_int_equal(vt_perf_ring_map_in(&a, fd[5], 2, &r[5]), 0);
    assert_true((uint8_t *)r[5].meta >= end || (uint8_t *)r[5].meta < a.base);
    vt_perf_ring_release(&a, &r[5]);
    assert_null(r[5].meta);

    vt_perf_ring_release(&a, &r[1]);
    vt_perf_ring_release(&a, &r[2]);
    vt_perf_ring_release(&a, &r[4]); /* alone: unmapped at once */
    assert_false(mapped_at(alone, 2 * page));
    assert_true(mapped_at(a.base + a.slot_len, 2 * a.slot_len)); /* dead, still mapped */
    assert_int_equal(vt_perf_arena_sweep(&a), 2);
    assert_int_equal(vt_perf_arena_sweep(&a), 0);
    assert_true(mapped_at(a.base + a.slot_len, 2 * a.slot_len)); /* reserved again */
    assert_int_equal(vt_perf_ring_map_in(&a, fd[1], 1, &r[1]), 0);
    assert_ptr_equal(r[1].meta, a.base + a.slot_len);
    assert_int_equal(r[1].data_size, page);

    /* In a forked child: slots 0, 1 and 3 in use, 2 free. */
    vt_perf_arena_after_fork(&a);
    vt_perf_ring_release(&a, &r[0]);
    assert_int_equal(vt_perf_arena_sweep(&a), 0); /* a broken slot is not dead */
    assert_int_equal(vt_perf_ring_map_in(&a, fd[2], 1, &r[2]), 0);
    assert_ptr_equal(r[2].meta, a.base + 2 * a.slot_len);
    assert_int_equal(vt_perf_ring_map_in(&a, fd[4], 1, &r[4]), 0);
    assert_true((uint8_t *)r[4].meta >= end || (uint8_t *)r[4].meta < a.base);
    vt_perf_ring_release(&a, &r[4]);
    for (int i = 0; i < 6; i++)
        close(fd[i]);
}

/* A malformed CPU record is reported, not trusted. */
static void test_malformed(void **state)
{
    (void)state;
    tb b;
    const char *path = begin(&b, "bad.vtr");
    sampler(&b, 0);
    sample(&b, START_TSC + 10, 0, 5, 7 /* no such kind */, 1);
    tb_end(&b, VT_END_EXIT_STATUS, 0, 0, START_TSC + 100);
    tb_close(&b);
    int err = 0;
    char msg[256];
    vt_model *m = vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg));
    assert_non_null(m);
    ut_assert_contains(m->warnings, "malformed record (tag 0x90");
    vt_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile),      cmocka_unit_test(test_ratios),
        cmocka_unit_test(test_perf_scaling), cmocka_unit_test(test_perf_arena),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, ut_setup_tmp_dir, ut_teardown_tmp_dir);
}

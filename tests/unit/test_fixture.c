/* Reads a trace recorded by an earlier build (tests/fixtures) and checks every figure: old
 * traces must keep reading the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/model.h"
#include "analyze/sites.h"

static const char *fixture_dir;

static vt_model *load(const char *name)
{
    char path[4096], msg[512];
    int err = 0;
    snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
    vt_model *m = vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg));
    if (!m)
        fail_msg("cannot read '%s': %s", path, msg);
    return m;
}

static void test_leaks_c_v1_0(void **state)
{
    (void)state;
    vt_model *m = load("leaks_c-v1.0.vtr");
    assert_null(m->warnings);
    assert_int_equal(m->has_end, 1);
    assert_int_equal(m->end_reason, VT_END_EXIT);
    assert_int_equal(m->n_threads, 1);
    assert_int_equal(m->events, 126);
    assert_int_equal(m->alloc_calls, 75);
    assert_int_equal(m->free_calls, 22);
    assert_int_equal(m->realloc_calls, 3);
    assert_int_equal(m->alloc_bytes, 8987);
    assert_int_equal(m->peak_bytes, 7560);
    assert_int_equal(m->peak_blocks, 51);
    assert_int_equal(m->live_blocks, 50);
    assert_int_equal(m->live_bytes, 3560);
    assert_int_equal(m->temporary, 3);
    assert_int_equal(m->unmatched_frees, 0);
    assert_int_equal(m->fn_calls[VT_FN_MALLOC], 59);
    assert_int_equal(m->fn_calls[VT_FN_CALLOC], 6);
    assert_int_equal(m->fn_calls[VT_FN_REALLOC], 3);
    assert_int_equal(m->fn_calls[VT_FN_POSIX_MEMALIGN], 4);
    assert_int_equal(m->fn_calls[VT_FN_ALIGNED_ALLOC], 1);
    assert_int_equal(m->fn_calls[VT_FN_MEMALIGN], 1);
    assert_int_equal(m->fn_calls[VT_FN_VALLOC], 1);
    assert_int_equal(m->fn_calls[VT_FN_FREE], 22);
    /* Before 1.2: no usable sizes, memory samples or stack records. */
    assert_int_equal(m->has_waste, 0);
    assert_int_equal(m->waste_bytes, 0);
    assert_int_equal(m->mem_samples, 0);
    assert_int_equal(m->has_mem_at_exit, 0);
    assert_int_equal(m->threads[0].has_stack, 0);

    /* Leaks by site, largest first: (blocks, bytes). */
    static const uint64_t want[][2] = {{37, 1776}, {5, 600}, {1, 300}, {1, 300},
                                       {4, 256},   {1, 200}, {1, 128}};
    size_t idx[16], total = 0;
    size_t n = vt_sites_rank(m, VT_BY_LEAKED, idx, 16, &total);
    assert_int_equal(total, 7);
    assert_int_equal(n, 7);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(m->sites[idx[i]].live_blocks, want[i][0]);
        assert_int_equal(m->sites[idx[i]].live_bytes, want[i][1]);
    }
    vt_model_free(m);
}

int main(int argc, char **argv)
{
    fixture_dir = argc > 1 ? argv[1] : "tests/fixtures";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaks_c_v1_0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

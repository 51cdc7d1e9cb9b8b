/* Regression tests for decoder bugs found by fuzzing-style unit tests: each case once crashed
 * or misread a trace. Each test runs in a child process, so that a sanitizer abort fails that
 * test instead of ending the run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "analyze/model.h"
#include "trace/format.h"
#include "trace/stream.h"
#include "util/error.h"
#include "trace-builder.h"
#include "unit-util.h"

/* Runs fn in a child; the test passes if the child returns 0 and is not killed or aborted by a
 * sanitizer. */
static void in_child(int (*fn)(void), const char *what)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s (child %s %d)", what, WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/* A payload of one INFO tag whose 7 column lengths are {2, 0, 0, 0, 0, 0, UINT64_MAX}: they
 * sum to 1 modulo 2^64, which equals the bytes left after them, so vt_stream_dec_init()
 * accepts it. The tag column then claims 2 bytes where 1 is left, and the misc column starts
 * past the end of the buffer with its end before its start; vt_varint_get() stops only when
 * the cursor equals the end, so it reads on past the buffer. */
static uint8_t *wrapping_payload(size_t *n)
{
    uint8_t *raw = malloc(64);
    assert_non_null(raw);
    uint8_t *p = vt_varint_put(raw, VT_COLUMNS);
    p = vt_varint_put(p, 2);
    for (int i = 1; i < VT_COLUMNS - 1; i++)
        p = vt_varint_put(p, 0);
    p = vt_varint_put(p, UINT64_MAX);
    *p++ = VT_TAG_INFO;
    *n = (size_t)(p - raw);
    return raw;
}

static int child_dec_wrapping_lengths(void)
{
    size_t n;
    uint8_t *raw = wrapping_payload(&n);
    uint8_t *exact = malloc(n); /* exactly the payload, so ASan sees any over-read */
    memcpy(exact, raw, n);
    free(raw);
    vt_stream_dec d;
    int r = vt_stream_dec_init(&d, exact, n);
    if (r == 0) {
        /* What a decoder does next: read a field of the first record (ASan: over-read). */
        uint64_t v;
        (void)vt_stream_get(&d, VT_COL_MISC, &v);
    }
    free(exact);
    return r == -1 ? 0 : 1;
}

/* Regression 1: vt_stream_dec_init() sums the column lengths in a uint64_t that can wrap, so a
 * payload whose lengths overflow passes the "lengths add up" check and its columns point
 * outside the buffer. */
static void test_dec_rejects_wrapping_lengths(void **state)
{
    (void)state;
    in_child(child_dec_wrapping_lengths,
             "vt_stream_dec_init accepted column lengths whose sum wraps around 2^64");
}

static const char *wrap_path;

static int child_model_wrapping_lengths(void)
{
    int err = 0;
    char msg[256];
    vt_model *m = vt_model_load(wrap_path, NULL, NULL, &err, msg, sizeof(msg));
    vt_model_free(m);
    return m ? 1 : err == VT_ECORRUPT ? 0 : 2;
}

/* BUG 1 through a file: a trace whose only block is raw, written by the real writer (so its
 * payload check matches) with that payload, as a faulty writer or a crafted file would hold.
 * vt_model_load() should refuse it (no INFO) or warn; instead it reads past the block's
 * buffer (ASan: heap-buffer-overflow in vt_varint_get, from decode_info). */
static void test_model_survives_wrapping_lengths(void **state)
{
    (void)state;
    const char *path = ut_path(ut_tmp_dir, "wrap.vtr");
    unlink(path);
    vt_trace_writer w;
    assert_int_equal(vt_trace_writer_open(&w, path), 0);
    size_t n;
    uint8_t *raw = wrapping_payload(&n);
    assert_int_equal(vt_trace_write_block(&w, VT_BLOCK_STREAM, 0, 0, raw, n, 0), 0);
    free(raw);
    vt_trace_writer_close(&w);
    wrap_path = path;
    in_child(child_model_wrapping_lengths,
             "vt_model_load read out of bounds on a block with wrapping column lengths");
}

static int child_put_bytes_null(void)
{
    uint8_t *mem = malloc(VT_STREAM_ENC_MEM);
    vt_stream_enc e;
    vt_stream_enc_init(&e, mem);
    vt_stream_put_bytes(&e, NULL, 0); /* UBSan: memcpy(dst, NULL, 0) */
    int ok = e.total == 1 && e.len[VT_COL_MISC] == 1;
    free(mem);
    return ok ? 0 : 1;
}

/* Regression 2: vt_stream_put_bytes(e, NULL, 0) calls memcpy with a null source, which is undefined
 * behaviour; src/agent/merge.c's module_cb() does exactly that for a module without a GNU
 * build-id note (build_id stays NULL, build_id_len 0). */
static void test_put_bytes_null_empty(void **state)
{
    (void)state;
    in_child(child_put_bytes_null, "vt_stream_put_bytes(e, NULL, 0) is undefined behaviour");
}

/* Regression 3: thread indexes do not survive a lost block. THREAD_START gives "the next thread
 * index", counted by the reader, so when a block holding a THREAD_START is lost, THREAD
 * records in later, intact blocks name indexes the model never assigned (the rest of that
 * block is dropped as malformed) or assigned to another thread (events silently go to the
 * wrong thread). docs/TRACE_FORMAT.md promises that the blocks after a lost one "still decode
 * correctly". */
static const char *lost_thread_trace(const char *name, int start_third)
{
    tb b;
    const char *path = ut_path(ut_tmp_dir, name);
    unlink(path);
    tb_open(&b, path, 1);
    tb_info_args info = {.tsc_hz = 1000000000, .start_tsc = 1 << 20, .time_shift = 7};
    tb_info(&b, &info);
    uint64_t f[1] = {0x401000};
    tb_stack(&b, 1, f, 1);
    int t0 = tb_thread_start(&b, 1 << 21, 100);
    tb_alloc(&b, t0, 1 << 22, VT_FN_MALLOC, 1, 1);
    tb_flush(&b);
    int t1 = tb_thread_start(&b, 1 << 23, 200); /* this block will be lost */
    tb_alloc(&b, t1, 1 << 23, VT_FN_MALLOC, 2, 1);
    tb_flush(&b);
    if (start_third) {
        int t2 = tb_thread_start(&b, 1 << 24, 300);
        tb_alloc(&b, t2, 1 << 24, VT_FN_MALLOC, 3, 1);
    }
    tb_alloc(&b, t1, 1 << 25, VT_FN_MALLOC, 5, 1);
    tb_alloc(&b, t0, 1 << 25, VT_FN_MALLOC, 7, 1);
    tb_end(&b, VT_END_EXIT, 0, 0, 1 << 26);
    tb_close(&b);

    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    data[b.block_off[1] + VT_BLOCK_HEADER_SIZE + 8] ^= 0x11;
    ut_write_file(path, data, n);
    free(data);
    return path;
}

static void test_thread_index_after_lost_block(void **state)
{
    (void)state;
    int err;
    char msg[256];
    vt_model *m =
        vt_model_load(lost_thread_trace("lostthread.vtr", 0), NULL, NULL, &err, msg, sizeof(msg));
    assert_non_null(m);
    /* The last block is intact: its two allocations (5 and 7 bytes) and END should count. */
    uint64_t allocs = m->alloc_calls, bytes = m->alloc_bytes;
    int has_end = m->has_end;
    vt_model_free(m);
    if (allocs != 3 || bytes != 13 || !has_end)
        fail_msg("after a lost block, an intact block was dropped: %llu allocations of %llu "
                 "bytes (want 3 of 13), has_end %d (want 1)",
                 (unsigned long long)allocs, (unsigned long long)bytes, has_end);
}

static void test_thread_misattributed_after_lost_block(void **state)
{
    (void)state;
    int err;
    char msg[256];
    vt_model *m =
        vt_model_load(lost_thread_trace("lostthread3.vtr", 1), NULL, NULL, &err, msg, sizeof(msg));
    assert_non_null(m);
    uint64_t tid300_allocs = 0, tid300_bytes = 0;
    for (size_t i = 0; i < m->n_threads; i++) {
        if (m->threads[i].tid == 300) {
            tid300_allocs = m->threads[i].alloc_calls;
            tid300_bytes = m->threads[i].alloc_bytes;
        }
    }
    vt_model_free(m);
    /* Thread 300 made one allocation of 3 bytes; thread 200's 5 bytes are not its. */
    if (tid300_allocs != 1 || tid300_bytes != 3)
        fail_msg("thread 300 credited with %llu allocations of %llu bytes (want 1 of 3)",
                 (unsigned long long)tid300_allocs, (unsigned long long)tid300_bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dec_rejects_wrapping_lengths),
        cmocka_unit_test(test_model_survives_wrapping_lengths),
        cmocka_unit_test(test_put_bytes_null_empty),
        cmocka_unit_test(test_thread_index_after_lost_block),
        cmocka_unit_test(test_thread_misattributed_after_lost_block),
    };
    return cmocka_run_group_tests(tests, ut_setup_tmp_dir, ut_teardown_tmp_dir);
}

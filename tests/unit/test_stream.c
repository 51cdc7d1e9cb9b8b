/* Unit tests for trace/stream.h: the column encoder and decoder of block payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace/stream.h"

struct fixture {
    uint8_t *mem;
    vt_stream_enc enc;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->mem = malloc(VT_STREAM_ENC_MEM);
    if (!f->mem) {
        free(f);
        return -1;
    }
    vt_stream_enc_init(&f->enc, f->mem);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->mem);
    free(f);
    return 0;
}

static size_t sum_len(const vt_stream_enc *e)
{
    size_t s = 0;
    for (int i = 0; i < VT_COLUMNS; i++)
        s += e->len[i];
    return s;
}

/* Serialises e into a buffer of exactly the payload's size (so ASan sees any over-read) and
 * returns it; *n is its length. */
static uint8_t *finish_exact(const vt_stream_enc *e, size_t *n)
{
    size_t cap = 1 + VT_COLUMNS * VT_VARINT_MAX + e->total;
    uint8_t *tmp = malloc(cap);
    assert_non_null(tmp);
    *n = vt_stream_enc_finish(e, tmp, cap);
    assert_true(*n > 0);
    uint8_t *out = malloc(*n);
    assert_non_null(out);
    memcpy(out, tmp, *n);
    free(tmp);
    return out;
}

/* Builds a payload by hand: n_columns, the given lengths, then body. */
static uint8_t *hand_payload(uint64_t n_columns, const uint64_t *lens, size_t n_lens,
                             const uint8_t *body, size_t body_len, size_t *n)
{
    uint8_t *out = malloc(VT_VARINT_MAX * (n_lens + 1) + body_len + 1);
    assert_non_null(out);
    uint8_t *p = vt_varint_put(out, n_columns);
    for (size_t i = 0; i < n_lens; i++)
        p = vt_varint_put(p, lens[i]);
    if (body_len)
        memcpy(p, body, body_len);
    *n = (size_t)(p - out) + body_len;
    return out;
}

static const char *const strings[] = {"", "a", "/usr/bin/true", "a string with\0a nul inside"};
static const size_t string_lens[] = {0, 1, 13, 26};

/* A mix of records over every column, written and read back in the same order. */
static void test_round_trip_all_columns(void **state)
{
    struct fixture *f = *state;
    vt_stream_enc *e = &f->enc;
    static const uint64_t vals[] = {0,         1, 127, 128, 16384, UINT32_MAX, (uint64_t)1 << 63,
                                    UINT64_MAX};
    const size_t nv = sizeof(vals) / sizeof(vals[0]);
    for (int r = 0; r < 100; r++) {
        vt_stream_put_byte(e, VT_COL_TAG, (uint8_t)r);
        for (int c = VT_COL_TIME; c < VT_COLUMNS; c++)
            vt_stream_put(e, c, vals[(size_t)(r + c) % nv]);
        size_t s = (size_t)r % 4;
        vt_stream_put_bytes(e, strings[s], string_lens[s]);
    }
    assert_int_equal(e->total, sum_len(e));
    assert_int_equal(e->len[VT_COL_TAG], 100);

    size_t n;
    uint8_t *raw = finish_exact(e, &n);
    vt_stream_dec d;
    assert_int_equal(vt_stream_dec_init(&d, raw, n), 0);
    assert_true(d.base == raw);
    for (int c = 0; c < VT_COLUMNS; c++)
        assert_int_equal((size_t)(d.end[c] - d.p[c]), e->len[c]);
    for (int r = 0; r < 100; r++) {
        assert_true(vt_stream_more(&d));
        assert_int_equal(*d.p[VT_COL_TAG]++, (uint8_t)r);
        for (int c = VT_COL_TIME; c < VT_COLUMNS; c++) {
            uint64_t v;
            assert_int_equal(vt_stream_get(&d, c, &v), 0);
            assert_true(v == vals[(size_t)(r + c) % nv]);
        }
        size_t s = (size_t)r % 4;
        uint64_t len;
        assert_int_equal(vt_stream_get(&d, VT_COL_MISC, &len), 0);
        assert_int_equal(len, string_lens[s]);
        assert_true(len <= (uint64_t)(d.end[VT_COL_MISC] - d.p[VT_COL_MISC]));
        if (len)
            assert_memory_equal(d.p[VT_COL_MISC], strings[s], len);
        d.p[VT_COL_MISC] += len;
    }
    assert_false(vt_stream_more(&d));
    for (int c = 0; c < VT_COLUMNS; c++) {
        uint64_t v = 5;
        assert_true(d.p[c] == d.end[c]);
        assert_int_equal(vt_stream_get(&d, c, &v), -1);
        assert_int_equal(v, 5);
    }
    free(raw);
}

/* Columns are independent: reading one to its end does not touch another. */
static void test_columns_are_independent(void **state)
{
    struct fixture *f = *state;
    vt_stream_enc *e = &f->enc;
    vt_stream_put(e, VT_COL_SIZE, 1);
    vt_stream_put(e, VT_COL_SIZE, 2);
    vt_stream_put(e, VT_COL_ORDINAL, 300);
    size_t n;
    uint8_t *raw = finish_exact(e, &n);
    /* n_columns, seven lengths, then 2 + 2 bytes of columns. */
    assert_int_equal(n, 1 + VT_COLUMNS + 4);
    vt_stream_dec d;
    assert_int_equal(vt_stream_dec_init(&d, raw, n), 0);
    assert_false(vt_stream_more(&d));
    uint64_t v;
    assert_int_equal(vt_stream_get(&d, VT_COL_ORDINAL, &v), 0);
    assert_int_equal(v, 300);
    assert_int_equal(vt_stream_get(&d, VT_COL_ORDINAL, &v), -1);
    assert_int_equal(vt_stream_get(&d, VT_COL_SIZE, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(vt_stream_get(&d, VT_COL_SIZE, &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(vt_stream_get(&d, VT_COL_SIZE, &v), -1);
    assert_int_equal(vt_stream_get(&d, VT_COL_TIME, &v), -1);
    free(raw);
}

static void test_empty_encoder(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->enc.total, 0);
    uint8_t out[1 + VT_COLUMNS * VT_VARINT_MAX];
    size_t n = vt_stream_enc_finish(&f->enc, out, sizeof(out));
    assert_int_equal(n, 1 + VT_COLUMNS);
    assert_int_equal(out[0], VT_COLUMNS);
    for (int i = 1; i <= VT_COLUMNS; i++)
        assert_int_equal(out[i], 0);
    vt_stream_dec d;
    assert_int_equal(vt_stream_dec_init(&d, out, n), 0);
    assert_false(vt_stream_more(&d));
}

/* Reset forgets the records but keeps the memory. */
static void test_reset(void **state)
{
    struct fixture *f = *state;
    vt_stream_enc *e = &f->enc;
    vt_stream_put_byte(e, VT_COL_TAG, 1);
    vt_stream_put(e, VT_COL_MISC, UINT64_MAX);
    vt_stream_put_bytes(e, "xyz", 3);
    assert_int_equal(e->total, 1 + 10 + 1 + 3);
    vt_stream_enc_reset(e);
    assert_int_equal(e->total, 0);
    assert_int_equal(sum_len(e), 0);
    vt_stream_put_byte(e, VT_COL_TAG, 9);
    size_t n;
    uint8_t *raw = finish_exact(e, &n);
    vt_stream_dec d;
    assert_int_equal(vt_stream_dec_init(&d, raw, n), 0);
    assert_int_equal(*d.p[VT_COL_TAG]++, 9);
    assert_false(vt_stream_more(&d));
    assert_true(d.p[VT_COL_MISC] == d.end[VT_COL_MISC]);
    free(raw);
}

/* finish refuses a buffer that cannot hold the payload, and never writes past cap. */
static void test_finish_small_buffer(void **state)
{
    struct fixture *f = *state;
    vt_stream_enc *e = &f->enc;
    for (int i = 0; i < 50; i++)
        vt_stream_put(e, i % VT_COLUMNS, (uint64_t)i * 1000);
    size_t full = 1 + VT_COLUMNS * VT_VARINT_MAX + e->total;
    uint8_t *ref = malloc(full);
    assert_non_null(ref);
    size_t n = vt_stream_enc_finish(e, ref, full);
    assert_true(n > 0 && n <= full);
    for (size_t cap = 0; cap <= full; cap++) {
        uint8_t *out = malloc(cap ? cap : 1);
        assert_non_null(out);
        size_t got = vt_stream_enc_finish(e, out, cap);
        if (got) {
            assert_int_equal(got, n);
            assert_true(got <= cap);
            assert_memory_equal(out, ref, n);
        } else {
            assert_true(cap < full);
        }
        free(out);
    }
    free(ref);
}

/* Room is counted against the block target: a record that would take the total past it does
 * not fit, one that reaches it exactly does. */
static void test_room_limits(void **state)
{
    struct fixture *f = *state;
    vt_stream_enc *e = &f->enc;
    assert_true(vt_stream_room(e, 0));
    assert_true(vt_stream_room(e, 1));
    assert_true(vt_stream_room(e, 64 * 1024));
    assert_false(vt_stream_room(e, VT_STREAM_BLOCK_TARGET + 1));
    assert_false(vt_stream_room(e, VT_STREAM_COL_CAP));
    assert_false(vt_stream_room(e, VT_STREAM_COL_CAP + 1));
    /* A huge request must not wrap around the total. */
    assert_false(vt_stream_room(e, SIZE_MAX));
    assert_false(vt_stream_room(e, SIZE_MAX - VT_STREAM_BLOCK_TARGET));

    /* Fill the misc column to 100 bytes short of the target. */
    static uint8_t chunk[1000];
    while (e->total + 1000 + 3 <= VT_STREAM_BLOCK_TARGET - 100)
        vt_stream_put_bytes(e, chunk, sizeof(chunk));
    while (e->total < VT_STREAM_BLOCK_TARGET - 100)
        vt_stream_put_byte(e, VT_COL_MISC, 0);
    assert_int_equal(e->total, VT_STREAM_BLOCK_TARGET - 100);
    assert_true(vt_stream_room(e, 0));
    assert_true(vt_stream_room(e, 99));
    assert_true(vt_stream_room(e, 100));
    assert_false(vt_stream_room(e, 101));
    assert_false(vt_stream_room(e, SIZE_MAX));
    assert_false(vt_stream_room(e, SIZE_MAX - 99));

    vt_stream_put_bytes(e, chunk, 98); /* 1 + 98 bytes */
    assert_int_equal(e->total, VT_STREAM_BLOCK_TARGET - 1);
    assert_true(vt_stream_room(e, 1));
    assert_false(vt_stream_room(e, 2));
    vt_stream_put_byte(e, VT_COL_TAG, 7);
    assert_int_equal(e->total, VT_STREAM_BLOCK_TARGET);
    assert_true(vt_stream_room(e, 0));
    assert_false(vt_stream_room(e, 1));
    assert_true(e->len[VT_COL_MISC] <= VT_STREAM_COL_CAP);

    /* The full block still round-trips. */
    size_t n;
    uint8_t *raw = finish_exact(e, &n);
    vt_stream_dec d;
    assert_int_equal(vt_stream_dec_init(&d, raw, n), 0);
    assert_int_equal((size_t)(d.end[VT_COL_MISC] - d.p[VT_COL_MISC]), VT_STREAM_BLOCK_TARGET - 1);
    free(raw);
}

/* Whatever a writer that checks room before every record does, each column stays inside its
 * capacity: here every record lands in one column (the last, so ASan would see an overflow). */
static void test_room_protects_every_column(void **state)
{
    struct fixture *f = *state;
    static const size_t needs[] = {1, 11, 96, 4096 + 256, 65536};
    for (size_t k = 0; k < sizeof(needs) / sizeof(needs[0]); k++) {
        vt_stream_enc e;
        uint8_t *mem = malloc(VT_STREAM_ENC_MEM);
        assert_non_null(mem);
        vt_stream_enc_init(&e, mem);
        uint8_t *rec = calloc(1, needs[k]);
        assert_non_null(rec);
        size_t records = 0;
        while (vt_stream_room(&e, needs[k])) {
            memcpy(e.col[VT_COL_MISC] + e.len[VT_COL_MISC], rec, needs[k]);
            e.len[VT_COL_MISC] += needs[k];
            e.total += needs[k];
            records++;
        }
        assert_true(records > 0);
        assert_true(e.total <= VT_STREAM_BLOCK_TARGET);
        assert_true(e.total + needs[k] > VT_STREAM_BLOCK_TARGET);
        assert_true(e.len[VT_COL_MISC] <= VT_STREAM_COL_CAP);
        free(rec);
        free(mem);
    }
    (void)f;
}

static void expect_malformed(const uint8_t *raw, size_t n)
{
    vt_stream_dec d;
    assert_int_equal(vt_stream_dec_init(&d, raw, n), -1);
}

static void test_dec_rejects_wrong_column_count(void **state)
{
    (void)state;
    uint64_t lens[VT_COLUMNS + 1] = {0};
    uint8_t body[4] = {1, 2, 3, 4};
    size_t n;
    for (uint64_t nc = 0; nc <= VT_COLUMNS + 1; nc++) {
        if (nc == VT_COLUMNS)
            continue;
        uint8_t *raw = hand_payload(nc, lens, nc, body, 0, &n);
        expect_malformed(raw, n);
        free(raw);
    }
    /* A count that fits the payload's shape but is not ours. */
    lens[0] = 4;
    uint8_t *raw = hand_payload(VT_COLUMNS - 1, lens, VT_COLUMNS - 1, body, 4, &n);
    expect_malformed(raw, n);
    free(raw);
    raw = hand_payload(UINT64_MAX, lens, VT_COLUMNS, body, 4, &n);
    expect_malformed(raw, n);
    free(raw);
    /* The right shape is accepted, as a control. */
    raw = hand_payload(VT_COLUMNS, lens, VT_COLUMNS, body, 4, &n);
    vt_stream_dec d;
    assert_int_equal(vt_stream_dec_init(&d, raw, n), 0);
    assert_int_equal(d.end[0] - d.p[0], 4);
    free(raw);
    /* An empty payload and a lone count. */
    uint8_t one = VT_COLUMNS;
    expect_malformed(&one, 0);
    expect_malformed(&one, 1);
}

static void test_dec_rejects_bad_lengths(void **state)
{
    (void)state;
    uint8_t body[16] = {0};
    uint64_t lens[VT_COLUMNS] = {0};
    size_t n;
    /* Lengths summing to less than the body: trailing bytes. */
    lens[VT_COL_TAG] = 3;
    lens[VT_COL_MISC] = 4;
    uint8_t *raw = hand_payload(VT_COLUMNS, lens, VT_COLUMNS, body, 8, &n);
    expect_malformed(raw, n);
    free(raw);
    /* Summing to more than the body. */
    raw = hand_payload(VT_COLUMNS, lens, VT_COLUMNS, body, 6, &n);
    expect_malformed(raw, n);
    free(raw);
    /* One column claiming more than the whole payload. */
    memset(lens, 0, sizeof(lens));
    lens[VT_COL_SIZE] = 1u << 20;
    raw = hand_payload(VT_COLUMNS, lens, VT_COLUMNS, body, 16, &n);
    expect_malformed(raw, n);
    free(raw);
    raw = hand_payload(VT_COLUMNS, lens, VT_COLUMNS, body, 0, &n);
    expect_malformed(raw, n);
    free(raw);
    /* Exactly right is accepted. */
    lens[VT_COL_SIZE] = 16;
    raw = hand_payload(VT_COLUMNS, lens, VT_COLUMNS, body, 16, &n);
    vt_stream_dec d;
    assert_int_equal(vt_stream_dec_init(&d, raw, n), 0);
    free(raw);
    /* A length that is itself a malformed varint (eleven bytes). */
    uint8_t bad[1 + VT_COLUMNS + 11];
    bad[0] = VT_COLUMNS;
    memset(bad + 1, 0x80, 10);
    bad[11] = 0;
    memset(bad + 12, 0, sizeof(bad) - 12);
    expect_malformed(bad, sizeof(bad));
}

/* A real payload cut at any byte is refused. */
static void test_dec_rejects_truncated(void **state)
{
    struct fixture *f = *state;
    vt_stream_enc *e = &f->enc;
    for (int r = 0; r < 20; r++) {
        vt_stream_put_byte(e, VT_COL_TAG, 0x10);
        vt_stream_put(e, VT_COL_TIME, (uint64_t)r * 77);
        vt_stream_put(e, VT_COL_SIZE, (uint64_t)1 << (r * 3 % 64));
        vt_stream_put(e, VT_COL_STACK, (uint64_t)r);
    }
    vt_stream_put_bytes(e, "/bin/sh", 7);
    size_t n;
    uint8_t *raw = finish_exact(e, &n);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *part = malloc(cut ? cut : 1);
        assert_non_null(part);
        memcpy(part, raw, cut);
        expect_malformed(part, cut);
        free(part);
    }
    /* One byte too many is refused as well. */
    uint8_t *more = malloc(n + 1);
    assert_non_null(more);
    memcpy(more, raw, n);
    more[n] = 0;
    expect_malformed(more, n + 1);
    free(more);
    free(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_all_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_columns_are_independent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_encoder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish_small_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room_protects_every_column, setup, teardown),
        cmocka_unit_test(test_dec_rejects_wrong_column_count),
        cmocka_unit_test(test_dec_rejects_bad_lengths),
        cmocka_unit_test_setup_teardown(test_dec_rejects_truncated, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

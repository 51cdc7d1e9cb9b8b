/* Unit tests for util/varint.h: LEB128 varints and zigzag deltas at the edges of their range,
 * and the decoder refusing input that runs out or is longer than a 64-bit value needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/varint.h"

/* Encodes v, checks the encoding is len bytes long, and decodes it back. */
static void round_trip(uint64_t v, size_t len)
{
    uint8_t buf[VT_VARINT_MAX + 4];
    memset(buf, 0xa5, sizeof(buf));
    uint8_t *end = vt_varint_put(buf, v);
    assert_int_equal((size_t)(end - buf), len);
    assert_int_equal(buf[len], 0xa5); /* nothing written past the encoding */
    for (size_t i = 0; i + 1 < len; i++)
        assert_true(buf[i] & 0x80);
    assert_false(buf[len - 1] & 0x80);

    const uint8_t *p = buf;
    uint64_t out = 0;
    assert_int_equal(vt_varint_get(&p, end, &out), 0);
    assert_true(p == end);
    assert_true(out == v);
}

static void test_varint_round_trip_edges(void **state)
{
    (void)state;
    round_trip(0, 1);
    round_trip(1, 1);
    round_trip(127, 1);
    round_trip(128, 2);
    round_trip(255, 2);
    round_trip(16383, 2);
    round_trip(16384, 3);
    round_trip(UINT32_MAX, 5);
    round_trip((uint64_t)1 << 56, 9);
    round_trip(((uint64_t)1 << 63) - 1, 9);
    round_trip((uint64_t)1 << 63, 10);
    round_trip(UINT64_MAX - 1, 10);
    round_trip(UINT64_MAX, 10);
    /* Every power of two and its neighbours. */
    for (int bit = 0; bit < 64; bit++) {
        uint64_t v = (uint64_t)1 << bit;
        size_t len = (size_t)bit / 7 + 1;
        round_trip(v, len);
        round_trip(v - 1, bit ? (size_t)(bit - 1) / 7 + 1 : 1);
        round_trip(v + 1, len);
    }
}

static void test_varint_exact_bytes(void **state)
{
    (void)state;
    uint8_t buf[VT_VARINT_MAX];
    assert_int_equal(vt_varint_put(buf, 0) - buf, 1);
    assert_int_equal(buf[0], 0x00);
    assert_int_equal(vt_varint_put(buf, 127) - buf, 1);
    assert_int_equal(buf[0], 0x7f);
    assert_int_equal(vt_varint_put(buf, 128) - buf, 2);
    assert_int_equal(buf[0], 0x80);
    assert_int_equal(buf[1], 0x01);
    assert_int_equal(vt_varint_put(buf, 300) - buf, 2);
    assert_int_equal(buf[0], 0xac);
    assert_int_equal(buf[1], 0x02);
    static const uint8_t max[VT_VARINT_MAX] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                               0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(vt_varint_put(buf, UINT64_MAX) - buf, VT_VARINT_MAX);
    assert_memory_equal(buf, max, VT_VARINT_MAX);
    static const uint8_t top[VT_VARINT_MAX] = {0x80, 0x80, 0x80, 0x80, 0x80,
                                               0x80, 0x80, 0x80, 0x80, 0x01};
    assert_int_equal(vt_varint_put(buf, (uint64_t)1 << 63) - buf, VT_VARINT_MAX);
    assert_memory_equal(buf, top, VT_VARINT_MAX);
}

/* Several varints back to back decode in order, each advancing the cursor. */
static void test_varint_sequence(void **state)
{
    (void)state;
    static const uint64_t vals[] = {0, 127, 128, (uint64_t)1 << 63, UINT64_MAX, 42};
    uint8_t buf[sizeof(vals) / sizeof(vals[0]) * VT_VARINT_MAX];
    uint8_t *w = buf;
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        w = vt_varint_put(w, vals[i]);
    const uint8_t *p = buf;
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint64_t v;
        assert_int_equal(vt_varint_get(&p, w, &v), 0);
        assert_true(v == vals[i]);
    }
    assert_true(p == w);
    uint64_t v = 7;
    assert_int_equal(vt_varint_get(&p, w, &v), -1);
    assert_true(v == 7);
}

/* A varint cut short at any byte is refused and leaves the cursor and output untouched. */
static void test_varint_truncated(void **state)
{
    (void)state;
    uint8_t buf[VT_VARINT_MAX];
    static const uint64_t vals[] = {128, 16384, UINT32_MAX, (uint64_t)1 << 63, UINT64_MAX};
    for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
        uint8_t *end = vt_varint_put(buf, vals[k]);
        for (uint8_t *cut = buf; cut < end; cut++) {
            const uint8_t *p = buf;
            uint64_t out = 12345;
            assert_int_equal(vt_varint_get(&p, cut, &out), -1);
            assert_true(p == buf);
            assert_true(out == 12345);
        }
    }
    /* A lone continuation byte. */
    const uint8_t cont[1] = {0x80};
    const uint8_t *p = cont;
    uint64_t out = 0;
    assert_int_equal(vt_varint_get(&p, cont + 1, &out), -1);
    assert_true(p == cont);
}

/* Eleven bytes (ten continuation bytes and a terminator) is longer than any 64-bit value. */
static void test_varint_too_long(void **state)
{
    (void)state;
    uint8_t buf[16];
    memset(buf, 0x80, 10);
    buf[10] = 0x00;
    const uint8_t *p = buf;
    uint64_t out = 99;
    assert_int_equal(vt_varint_get(&p, buf + 11, &out), -1);
    assert_true(p == buf);
    assert_true(out == 99);

    memset(buf, 0xff, sizeof(buf));
    buf[15] = 0x01;
    p = buf;
    assert_int_equal(vt_varint_get(&p, buf + 16, &out), -1);
    assert_true(p == buf);

    /* The longest valid encoding (ten bytes) is still accepted. */
    memset(buf, 0x80, 9);
    buf[9] = 0x01;
    p = buf;
    assert_int_equal(vt_varint_get(&p, buf + 16, &out), 0);
    assert_true(p == buf + 10);
    assert_true(out == (uint64_t)1 << 63);
}

static void test_zigzag_edges(void **state)
{
    (void)state;
    assert_true(vt_zigzag(0) == 0);
    assert_true(vt_zigzag(-1) == 1);
    assert_true(vt_zigzag(1) == 2);
    assert_true(vt_zigzag(-2) == 3);
    assert_true(vt_zigzag(2) == 4);
    assert_true(vt_zigzag(-64) == 127);
    assert_true(vt_zigzag(64) == 128);
    assert_true(vt_zigzag(INT64_MAX) == UINT64_MAX - 1);
    assert_true(vt_zigzag(INT64_MIN) == UINT64_MAX);
    assert_true(vt_unzigzag(UINT64_MAX) == INT64_MIN);
    assert_true(vt_unzigzag(UINT64_MAX - 1) == INT64_MAX);
    assert_true(vt_unzigzag(1) == -1);

    static const int64_t vals[] = {0,         1,         -1,        63,           -64,
                                   64,        -65,       1000000,   -1000000,     INT32_MIN,
                                   INT32_MAX, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        assert_true(vt_unzigzag(vt_zigzag(vals[i])) == vals[i]);
    /* Small magnitudes stay small: one byte for -64..63. */
    uint8_t buf[VT_VARINT_MAX];
    assert_int_equal(vt_varint_put(buf, vt_zigzag(-64)) - buf, 1);
    assert_int_equal(vt_varint_put(buf, vt_zigzag(63)) - buf, 1);
    assert_int_equal(vt_varint_put(buf, vt_zigzag(64)) - buf, 2);
    assert_int_equal(vt_varint_put(buf, vt_zigzag(INT64_MIN)) - buf, VT_VARINT_MAX);
}

/* Address deltas as the trace writes them: unsigned differences taken as signed, summed back
 * with wrap-around, including steps across the whole address space. */
static void test_zigzag_address_deltas(void **state)
{
    (void)state;
    static const uint64_t addrs[] = {0x7f0000001000,     0x1000,   0x7f0000002000,
                                     UINT64_MAX - 4095,  0,        0x8000000000000000,
                                     0x7fffffffffffffff, 0x5555000};
    uint8_t buf[sizeof(addrs) / sizeof(addrs[0]) * VT_VARINT_MAX];
    uint8_t *w = buf;
    uint64_t prev = 0;
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        w = vt_varint_put(w, vt_zigzag((int64_t)(addrs[i] - prev)));
        prev = addrs[i];
    }
    const uint8_t *p = buf;
    uint64_t cur = 0;
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        uint64_t z;
        assert_int_equal(vt_varint_get(&p, w, &z), 0);
        cur += (uint64_t)vt_unzigzag(z);
        assert_true(cur == addrs[i]);
    }
    assert_true(p == w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_round_trip_edges), cmocka_unit_test(test_varint_exact_bytes),
        cmocka_unit_test(test_varint_sequence),         cmocka_unit_test(test_varint_truncated),
        cmocka_unit_test(test_varint_too_long),         cmocka_unit_test(test_zigzag_edges),
        cmocka_unit_test(test_zigzag_address_deltas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

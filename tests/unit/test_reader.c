/* Unit tests for trace/reader.c (with trace/writer.c writing the files): indexing good
 * traces, refusing files that are not traces, and reading damaged ones up to the last whole
 * block with warnings that name the byte where reading stopped. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "trace/format.h"
#include "trace/reader.h"
#include "trace/writer.h"
#include "util/error.h"
#include "unit-util.h"

/* The blocks a test writes, and where the writer put them. */
#define MAX_BLOCKS 8
struct written {
    size_t n_blocks;
    uint64_t offset[MAX_BLOCKS + 1]; /* offset[n_blocks] is the file size */
    uint64_t base_time[MAX_BLOCKS], base_ordinal[MAX_BLOCKS];
    uint8_t *payload[MAX_BLOCKS];
    size_t size[MAX_BLOCKS];
    int compressed[MAX_BLOCKS];
};

static void written_free(struct written *w)
{
    for (size_t i = 0; i < w->n_blocks; i++)
        free(w->payload[i]);
    memset(w, 0, sizeof(*w));
}

/* A deterministic payload: compressible (a repeated phrase) or not (an LCG's bytes). */
static uint8_t *make_payload(size_t n, int compressible, uint32_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    static const char phrase[] = "malloc free malloc free realloc ";
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = compressible ? (uint8_t)phrase[i % (sizeof(phrase) - 1)] : (uint8_t)(x >> 24);
    }
    return p;
}

/* Writes a trace at dir/name with blocks of the given sizes. modes[i] is 0 for a raw block of
 * incompressible bytes, 1 for a zstd block of compressible ones, 2 for a zstd block of
 * incompressible ones (which zstd stores as they are, under its checksum). */
static const char *write_trace(const char *name, const size_t *sizes, const int *modes,
                               size_t n_blocks, struct written *out)
{
    const char *path = ut_path(ut_tmp_dir, name);
    unlink(path);
    vt_trace_writer w;
    assert_int_equal(vt_trace_writer_open(&w, path), 0);
    assert_int_equal(vt_trace_writer_enable_zstd(&w, 3), 0);
    memset(out, 0, sizeof(*out));
    assert_true(n_blocks <= MAX_BLOCKS);
    for (size_t i = 0; i < n_blocks; i++) {
        out->payload[i] = make_payload(sizes[i], modes[i] == 1, (uint32_t)i);
        out->size[i] = sizes[i];
        out->compressed[i] = modes[i] != 0;
        out->base_time[i] = 1000000 + i * 12345;
        out->base_ordinal[i] = i * 1000 + (i == 3 ? ((uint64_t)1 << 40) : 0);
        out->offset[i] = atomic_load(&w.offset);
        assert_int_equal(vt_trace_write_block(&w, VT_BLOCK_STREAM, out->base_time[i],
                                              out->base_ordinal[i], out->payload[i], sizes[i],
                                              modes[i] != 0),
                         0);
        out->n_blocks++;
    }
    out->offset[n_blocks] = atomic_load(&w.offset);
    vt_trace_writer_close(&w);
    return path;
}

static vt_reader *open_ok(const char *path)
{
    int err = 0;
    char msg[256] = "";
    vt_reader *r = vt_reader_open(path, &err, msg, sizeof(msg));
    if (!r)
        fail_msg("cannot open %s: %d %s", path, err, msg);
    return r;
}

/* Opens path expecting failure with code want; msg receives the explanation. */
static void open_fails(const char *path, int want, char *msg, size_t msg_size)
{
    int err = 0;
    msg[0] = 0;
    vt_reader *r = vt_reader_open(path, &err, msg, msg_size);
    assert_null(r);
    assert_int_equal(err, want);
    assert_true(msg[0] != 0);
}

/* Checks the index holds the first n blocks of w, each decoding to what was written. */
static void check_blocks(vt_reader *r, const struct written *w, size_t n)
{
    assert_int_equal(vt_reader_block_count(r), n);
    uint8_t *buf = NULL;
    size_t cap = 0, len;
    for (size_t i = 0; i < n; i++) {
        const vt_block_info *b = vt_reader_block(r, i);
        assert_int_equal(b->offset, w->offset[i]);
        assert_int_equal(b->base_time, w->base_time[i]);
        assert_int_equal(b->base_ordinal, w->base_ordinal[i]);
        assert_int_equal(b->raw_size, w->size[i]);
        assert_int_equal(b->kind, VT_BLOCK_STREAM);
        assert_int_equal(b->encoding, w->compressed[i] ? VT_ENC_ZSTD : VT_ENC_RAW);
        assert_int_equal(b->offset + VT_BLOCK_HEADER_SIZE + b->stored_size, w->offset[i + 1]);
        if (!w->compressed[i]) {
            assert_int_equal(b->stored_size, w->size[i]);
            assert_int_equal(b->payload_check, vt__fnv1a(w->payload[i], w->size[i]));
        } else {
            assert_int_equal(b->payload_check, 0);
        }
        assert_int_equal(vt_reader_load(r, i, &buf, &cap, &len), 0);
        assert_int_equal(len, w->size[i]);
        if (len)
            assert_memory_equal(buf, w->payload[i], len);
    }
    free(buf);
}

static const size_t sizes5[] = {1000, 4096, 0, 70000, 333};

static void test_good_file(void **state)
{
    (void)state;
    static const int modes[][5] = {
        {0, 0, 0, 0, 0}, {1, 1, 1, 1, 1}, {2, 2, 2, 2, 2}, {1, 0, 2, 1, 0}};
    for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        struct written w;
        const char *path = write_trace("good.vtr", sizes5, modes[k], 5, &w);
        vt_reader *r = open_ok(path);
        check_blocks(r, &w, 5);
        assert_null(vt_reader_warnings(r));
        assert_int_equal(vt_reader_file_size(r), w.offset[5]);
        assert_int_equal(vt_reader_end_offset(r), w.offset[5]);
        assert_string_equal(vt_reader_path(r), path);
        /* Blocks load in any order, and again. */
        uint8_t *buf = NULL;
        size_t cap = 0, len;
        for (size_t i = 5; i-- > 0;) {
            assert_int_equal(vt_reader_load(r, i, &buf, &cap, &len), 0);
            assert_int_equal(len, w.size[i]);
            if (len)
                assert_memory_equal(buf, w.payload[i], len);
        }
        free(buf);
        assert_null(vt_reader_warnings(r));
        vt_reader_free(r);
        written_free(&w);
    }
}

/* A file with a header and no blocks is a valid, empty trace. */
static void test_header_only(void **state)
{
    (void)state;
    struct written w;
    const char *path = write_trace("empty.vtr", NULL, NULL, 0, &w);
    vt_reader *r = open_ok(path);
    assert_int_equal(vt_reader_block_count(r), 0);
    assert_null(vt_reader_warnings(r));
    assert_int_equal(vt_reader_file_size(r), VT_TRACE_HEADER_SIZE);
    assert_int_equal(vt_reader_end_offset(r), VT_TRACE_HEADER_SIZE);
    vt_reader_free(r);
    vt_reader_free(NULL);
}

/* The largest block the format allows goes through both encodings. */
static void test_largest_block(void **state)
{
    (void)state;
    static const size_t sizes[] = {VT_BLOCK_MAX_RAW, VT_BLOCK_MAX_RAW};
    static const int modes[] = {0, 1};
    struct written w;
    const char *path = write_trace("large.vtr", sizes, modes, 2, &w);
    vt_reader *r = open_ok(path);
    check_blocks(r, &w, 2);
    assert_null(vt_reader_warnings(r));
    vt_reader_free(r);
    written_free(&w);
}

static void test_not_a_trace(void **state)
{
    (void)state;
    char msg[256];
    const char *path = ut_path(ut_tmp_dir, "text.txt");
    static const char text[] = "This is a plain text file, long enough to hold a trace header.\n";
    ut_write_file(path, text, sizeof(text) - 1);
    open_fails(path, VT_EBADMAGIC, msg, sizeof(msg));
    ut_assert_contains(msg, "byte 0");

    path = ut_path(ut_tmp_dir, "empty");
    ut_write_file(path, "", 0);
    open_fails(path, VT_EBADMAGIC, msg, sizeof(msg));
    ut_assert_contains(msg, "byte 0");
    ut_assert_contains(msg, "shorter than a trace header");

    path = ut_path(ut_tmp_dir, "five");
    ut_write_file(path, "\x89VTR\r", 5);
    open_fails(path, VT_EBADMAGIC, msg, sizeof(msg));
    ut_assert_contains(msg, "byte 0");

    /* A PNG: the same kind of magic, a different name. */
    uint8_t png[64] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    path = ut_path(ut_tmp_dir, "image.png");
    ut_write_file(path, png, sizeof(png));
    open_fails(path, VT_EBADMAGIC, msg, sizeof(msg));
    ut_assert_contains(msg, "byte 0");

    /* The magic mangled by a text-mode copy (\r\n turned into \n). */
    struct written w;
    const char *good = write_trace("mangled.vtr", sizes5, (const int[]){1, 1, 1, 1, 1}, 5, &w);
    size_t n;
    uint8_t *data = ut_read_file(good, &n);
    memmove(data + 4, data + 5, n - 5);
    ut_write_file(good, data, n - 1);
    open_fails(good, VT_EBADMAGIC, msg, sizeof(msg));
    ut_assert_contains(msg, "byte 0");
    free(data);
    written_free(&w);
}

/* A trace cut inside its own file header is not a trace either. */
static void test_truncated_file_header(void **state)
{
    (void)state;
    struct written w;
    const char *path = write_trace("hdr.vtr", sizes5, (const int[]){0, 0, 0, 0, 0}, 5, &w);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    char msg[256];
    for (size_t cut = 0; cut < VT_TRACE_HEADER_SIZE; cut++) {
        ut_write_file(path, data, cut);
        open_fails(path, VT_EBADMAGIC, msg, sizeof(msg));
        ut_assert_contains(msg, "byte 0");
    }
    free(data);
    written_free(&w);
}

static void test_missing_and_not_regular(void **state)
{
    (void)state;
    char msg[256];
    open_fails(ut_path(ut_tmp_dir, "does-not-exist.vtr"), VT_ENOENT, msg, sizeof(msg));
    open_fails(ut_tmp_dir, VT_EIO, msg, sizeof(msg));
}

static void test_wrong_version(void **state)
{
    (void)state;
    struct written w;
    const char *path = write_trace("version.vtr", sizes5, (const int[]){1, 1, 1, 1, 1}, 5, &w);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    char msg[256];
    static const uint16_t majors[] = {0, 2, 0x100, 0xffff};
    for (size_t i = 0; i < sizeof(majors) / sizeof(majors[0]); i++) {
        data[8] = (uint8_t)majors[i];
        data[9] = (uint8_t)(majors[i] >> 8);
        data[10] = 3;
        ut_write_file(path, data, n);
        open_fails(path, VT_EVERSION, msg, sizeof(msg));
        ut_assert_contains(msg, "version %u.3", (unsigned)majors[i]);
        ut_assert_contains(msg, "byte 8");
    }
    /* A newer minor version is read. */
    data[8] = VT_TRACE_MAJOR;
    data[9] = 0;
    data[10] = 9;
    ut_write_file(path, data, n);
    vt_reader *r = open_ok(path);
    check_blocks(r, &w, 5);
    assert_null(vt_reader_warnings(r));
    vt_reader_free(r);
    free(data);
    written_free(&w);
}

/* Cuts the file at every byte inside its last block: the index keeps the blocks before it and
 * the warning names the byte where the lost block starts. */
static void truncate_last_block(const int *modes)
{
    struct written w;
    static const size_t sizes[] = {500, 3000, 2000};
    const char *path = write_trace("cut.vtr", sizes, modes, 3, &w);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    assert_int_equal(n, w.offset[3]);
    uint64_t last = w.offset[2];
    for (size_t cut = last; cut <= n; cut++) {
        ut_write_file(path, data, cut);
        vt_reader *r = open_ok(path);
        assert_int_equal(vt_reader_file_size(r), cut);
        if (cut == last || cut == n) {
            /* On a block boundary: nothing is lost as far as the index can tell. */
            check_blocks(r, &w, cut == n ? 3 : 2);
            assert_null(vt_reader_warnings(r));
            assert_int_equal(vt_reader_end_offset(r), cut);
        } else {
            check_blocks(r, &w, 2);
            assert_int_equal(vt_reader_end_offset(r), last);
            ut_assert_contains(vt_reader_warnings(r), "truncated");
            ut_assert_contains(vt_reader_warnings(r), "at byte %llu", (unsigned long long)last);
            if (cut - last >= VT_BLOCK_HEADER_SIZE)
                ut_assert_contains(vt_reader_warnings(r), "file ends at byte %zu", cut);
            assert_null(strchr(vt_reader_warnings(r), '\n'));
        }
        vt_reader_free(r);
    }
    free(data);
    written_free(&w);
}

static void test_truncated_every_byte_raw(void **state)
{
    (void)state;
    truncate_last_block((const int[]){0, 0, 0});
}

static void test_truncated_every_byte_zstd(void **state)
{
    (void)state;
    truncate_last_block((const int[]){1, 1, 1});
    truncate_last_block((const int[]){2, 2, 2});
}

/* Cut inside a middle block: everything from that block on is gone. */
static void test_truncated_middle(void **state)
{
    (void)state;
    struct written w;
    const char *path = write_trace("mid.vtr", sizes5, (const int[]){1, 0, 1, 0, 1}, 5, &w);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    uint64_t cut = w.offset[3] + VT_BLOCK_HEADER_SIZE + 17;
    ut_write_file(path, data, cut);
    vt_reader *r = open_ok(path);
    check_blocks(r, &w, 3);
    assert_int_equal(vt_reader_end_offset(r), w.offset[3]);
    ut_assert_contains(vt_reader_warnings(r), "the block at byte %llu",
                       (unsigned long long)w.offset[3]);
    vt_reader_free(r);
    free(data);
    written_free(&w);
}

/* Garbage after the last block is reported, not read. */
static void test_stray_tail(void **state)
{
    (void)state;
    struct written w;
    const char *path = write_trace("tail.vtr", sizes5, (const int[]){1, 1, 1, 1, 1}, 5, &w);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    data = realloc(data, n + 100);
    assert_non_null(data);
    memset(data + n, 'x', 100);
    ut_write_file(path, data, n + 100);
    vt_reader *r = open_ok(path);
    check_blocks(r, &w, 5);
    assert_int_equal(vt_reader_end_offset(r), n);
    ut_assert_contains(vt_reader_warnings(r), "byte %zu", n);
    vt_reader_free(r);
    free(data);
    written_free(&w);
}

/* Any one byte of a block header changed: the sync or the check catches it, and the index
 * stops at that block. */
static void test_corrupted_block_header(void **state)
{
    (void)state;
    struct written w;
    const char *path = write_trace("hdrbad.vtr", sizes5, (const int[]){1, 0, 1, 0, 1}, 5, &w);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    uint64_t at = w.offset[2];
    for (size_t i = 0; i < VT_BLOCK_HEADER_SIZE; i++) {
        static const uint8_t flips[] = {0x01, 0x80, 0xff};
        for (size_t f = 0; f < sizeof(flips); f++) {
            data[at + i] ^= flips[f];
            ut_write_file(path, data, n);
            data[at + i] ^= flips[f];
            vt_reader *r = open_ok(path);
            check_blocks(r, &w, 2);
            assert_int_equal(vt_reader_end_offset(r), at);
            ut_assert_contains(vt_reader_warnings(r), "corrupted at byte %llu",
                               (unsigned long long)at);
            vt_reader_free(r);
        }
    }
    /* The first block's header damaged: nothing is indexed, but the file is still a trace. */
    data[VT_TRACE_HEADER_SIZE] ^= 0x40;
    ut_write_file(path, data, n);
    vt_reader *r = open_ok(path);
    assert_int_equal(vt_reader_block_count(r), 0);
    ut_assert_contains(vt_reader_warnings(r), "byte %d", VT_TRACE_HEADER_SIZE);
    vt_reader_free(r);
    free(data);
    written_free(&w);
}

/* A header whose check is right but whose fields cannot be: also a stop. */
static void test_impossible_block_header(void **state)
{
    (void)state;
    struct written w;
    const char *path = write_trace("imposs.vtr", sizes5, (const int[]){0, 0, 0, 0, 0}, 5, &w);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    uint64_t at = w.offset[1];
    struct {
        int kind, encoding;
        uint32_t raw, stored;
    } cases[] = {
        {0, VT_ENC_RAW, 4096, 4096},
        {2, VT_ENC_RAW, 4096, 4096},
        {VT_BLOCK_STREAM, 2, 4096, 4096},
        {VT_BLOCK_STREAM, VT_ENC_RAW, VT_BLOCK_MAX_RAW + 1, 4096},
        {VT_BLOCK_STREAM, VT_ENC_ZSTD, 4096, VT_BLOCK_MAX_RAW * 2 + 1},
        {VT_BLOCK_STREAM, VT_ENC_ZSTD, UINT32_MAX, UINT32_MAX},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t saved[VT_BLOCK_HEADER_SIZE];
        memcpy(saved, data + at, sizeof(saved));
        vt__block_header_encode(data + at, cases[i].kind, cases[i].encoding, 0, cases[i].raw,
                                cases[i].stored, w.base_time[1], w.base_ordinal[1]);
        ut_write_file(path, data, n);
        memcpy(data + at, saved, sizeof(saved));
        vt_reader *r = open_ok(path);
        check_blocks(r, &w, 1);
        assert_int_equal(vt_reader_end_offset(r), at);
        ut_assert_contains(vt_reader_warnings(r), "byte %llu", (unsigned long long)at);
        vt_reader_free(r);
    }
    /* A block claiming more bytes than the file holds reads as a truncation. */
    uint8_t saved[VT_BLOCK_HEADER_SIZE];
    memcpy(saved, data + at, sizeof(saved));
    vt__block_header_encode(data + at, VT_BLOCK_STREAM, VT_ENC_RAW, 0, VT_BLOCK_MAX_RAW,
                            VT_BLOCK_MAX_RAW, 0, 0);
    ut_write_file(path, data, n);
    memcpy(data + at, saved, sizeof(saved));
    vt_reader *r = open_ok(path);
    check_blocks(r, &w, 1);
    ut_assert_contains(vt_reader_warnings(r), "truncated");
    ut_assert_contains(vt_reader_warnings(r), "byte %llu", (unsigned long long)at);
    vt_reader_free(r);
    free(data);
    written_free(&w);
}

/* Any one byte of a compressed payload changed: the header is fine so the block is indexed,
 * but loading it fails (zstd's checksum) with a warning; the other blocks still load. */
static void corrupt_zstd_payload(int mode)
{
    struct written w;
    static const size_t sizes[] = {2000, 3000, 2000};
    const char *path = write_trace("zbad.vtr", sizes, (const int[]){mode, mode, mode}, 3, &w);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    uint64_t lo = w.offset[1] + VT_BLOCK_HEADER_SIZE, hi = w.offset[2];
    uint8_t *buf = NULL;
    size_t cap = 0, len;
    for (uint64_t i = lo; i < hi; i++) {
        data[i] ^= 0x5a;
        ut_write_file(path, data, n);
        data[i] ^= 0x5a;
        vt_reader *r = open_ok(path);
        assert_int_equal(vt_reader_block_count(r), 3);
        assert_null(vt_reader_warnings(r));
        if (vt_reader_load(r, 1, &buf, &cap, &len) != VT_ECORRUPT)
            fail_msg("a change at byte %llu of the payload went unnoticed",
                     (unsigned long long)(i - lo));
        ut_assert_contains(vt_reader_warnings(r), "block at byte %llu",
                           (unsigned long long)w.offset[1]);
        assert_int_equal(vt_reader_load(r, 0, &buf, &cap, &len), 0);
        assert_int_equal(len, sizes[0]);
        assert_memory_equal(buf, w.payload[0], len);
        assert_int_equal(vt_reader_load(r, 2, &buf, &cap, &len), 0);
        assert_int_equal(len, sizes[2]);
        assert_memory_equal(buf, w.payload[2], len);
        /* Failing again adds a second warning line. */
        assert_int_equal(vt_reader_load(r, 1, &buf, &cap, &len), VT_ECORRUPT);
        assert_non_null(strchr(vt_reader_warnings(r), '\n'));
        vt_reader_free(r);
    }
    free(buf);
    free(data);
    written_free(&w);
}

static void test_corrupted_zstd_payload(void **state)
{
    (void)state;
    corrupt_zstd_payload(1);
    corrupt_zstd_payload(2);
}

/* Any one byte of a raw payload changed: the payload check in the header catches it. */
static void test_corrupted_raw_payload(void **state)
{
    (void)state;
    struct written w;
    static const size_t sizes[] = {300, 500, 300};
    const char *path = write_trace("rbad.vtr", sizes, (const int[]){0, 0, 0}, 3, &w);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    uint64_t lo = w.offset[1] + VT_BLOCK_HEADER_SIZE, hi = w.offset[2];
    uint8_t *buf = NULL;
    size_t cap = 0, len;
    for (uint64_t i = lo; i < hi; i++) {
        static const uint8_t flips[] = {0x01, 0x80, 0xff};
        for (size_t f = 0; f < sizeof(flips); f++) {
            data[i] ^= flips[f];
            ut_write_file(path, data, n);
            data[i] ^= flips[f];
            vt_reader *r = open_ok(path);
            assert_int_equal(vt_reader_block_count(r), 3);
            if (vt_reader_load(r, 1, &buf, &cap, &len) != VT_ECORRUPT)
                fail_msg("a change at byte %llu of the raw payload went unnoticed",
                         (unsigned long long)(i - lo));
            ut_assert_contains(vt_reader_warnings(r), "block at byte %llu",
                               (unsigned long long)w.offset[1]);
            assert_int_equal(vt_reader_load(r, 2, &buf, &cap, &len), 0);
            assert_memory_equal(buf, w.payload[2], len);
            vt_reader_free(r);
        }
    }
    free(buf);
    free(data);
    written_free(&w);
}

/* A raw block whose stored size differs from its raw size cannot be read. */
static void test_raw_size_mismatch(void **state)
{
    (void)state;
    struct written w;
    static const size_t sizes[] = {100, 200};
    const char *path = write_trace("rawbad.vtr", sizes, (const int[]){0, 0}, 2, &w);
    size_t n;
    uint8_t *data = ut_read_file(path, &n);
    vt__block_header_encode(data + w.offset[1], VT_BLOCK_STREAM, VT_ENC_RAW,
                            vt__fnv1a(w.payload[1], 150), 150, 200, w.base_time[1],
                            w.base_ordinal[1]);
    ut_write_file(path, data, n);
    vt_reader *r = open_ok(path);
    assert_int_equal(vt_reader_block_count(r), 2);
    uint8_t *buf = NULL;
    size_t cap = 0, len = 77;
    assert_int_equal(vt_reader_load(r, 1, &buf, &cap, &len), VT_ECORRUPT);
    assert_int_equal(len, 0);
    ut_assert_contains(vt_reader_warnings(r), "byte %llu", (unsigned long long)w.offset[1]);
    free(buf);
    vt_reader_free(r);
    free(data);
    written_free(&w);
}

static void test_reader_warn_joins_lines(void **state)
{
    (void)state;
    struct written w;
    const char *path = write_trace("warn.vtr", NULL, NULL, 0, &w);
    vt_reader *r = open_ok(path);
    assert_null(vt_reader_warnings(r));
    vt_reader_warn(r, "first %d", 1);
    assert_string_equal(vt_reader_warnings(r), "first 1");
    vt_reader_warn(r, "second at byte %llu", 123ULL);
    assert_string_equal(vt_reader_warnings(r), "first 1\nsecond at byte 123");
    /* An overlong line is cut, not overflowed. */
    char big[2000];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    vt_reader_warn(r, "%s", big);
    const char *all = vt_reader_warnings(r);
    assert_true(strlen(all) > strlen("first 1\nsecond at byte 123\n"));
    assert_true(strlen(all) < strlen("first 1\nsecond at byte 123\n") + sizeof(big));
    vt_reader_free(r);
}

static void test_writer_refuses_overwrite(void **state)
{
    (void)state;
    struct written w;
    const char *path = write_trace("exists.vtr", sizes5, (const int[]){1, 1, 1, 1, 1}, 5, &w);
    size_t n0;
    uint8_t *before = ut_read_file(path, &n0);
    vt_trace_writer tw;
    errno = 0;
    assert_int_equal(vt_trace_writer_open(&tw, path), VT_EEXIST);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(tw.fd, -1);
    /* Writing through the refused writer fails and touches nothing. */
    assert_int_equal(vt_trace_write_block(&tw, VT_BLOCK_STREAM, 0, 0, "abc", 3, 0), VT_EIO);
    vt_trace_writer_close(&tw);
    size_t n1;
    uint8_t *after = ut_read_file(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);

    /* Nor does it replace a file that is not a trace. */
    const char *other = ut_path(ut_tmp_dir, "notes.txt");
    ut_write_file(other, "keep me", 7);
    assert_int_equal(vt_trace_writer_open(&tw, other), VT_EEXIST);
    after = ut_read_file(other, &n1);
    assert_int_equal(n1, 7);
    assert_memory_equal(after, "keep me", 7);
    free(after);

    /* A directory that does not exist. */
    assert_int_equal(vt_trace_writer_open(&tw, ut_path(ut_tmp_dir, "no/such/dir.vtr")), VT_ENOENT);
    written_free(&w);
}

static void test_writer_rejects_oversized_block(void **state)
{
    (void)state;
    const char *path = ut_path(ut_tmp_dir, "big.vtr");
    unlink(path);
    vt_trace_writer w;
    assert_int_equal(vt_trace_writer_open(&w, path), 0);
    uint8_t *raw = calloc(1, VT_BLOCK_MAX_RAW + 1);
    assert_non_null(raw);
    assert_int_equal(vt_trace_write_block(&w, VT_BLOCK_STREAM, 0, 0, raw, VT_BLOCK_MAX_RAW + 1, 0),
                     VT_EINVAL);
    assert_int_equal(atomic_load(&w.offset), VT_TRACE_HEADER_SIZE);
    /* Compression asked for but never enabled: the block is written raw. */
    assert_int_equal(vt_trace_write_block(&w, VT_BLOCK_STREAM, 5, 6, raw, 10, 1), 0);
    vt_trace_writer_close(&w);
    free(raw);
    vt_reader *r = open_ok(path);
    assert_int_equal(vt_reader_block_count(r), 1);
    assert_int_equal(vt_reader_block(r, 0)->encoding, VT_ENC_RAW);
    assert_int_equal(vt_reader_block(r, 0)->base_time, 5);
    assert_int_equal(vt_reader_block(r, 0)->base_ordinal, 6);
    assert_null(vt_reader_warnings(r));
    vt_reader_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_largest_block),
        cmocka_unit_test(test_not_a_trace),
        cmocka_unit_test(test_truncated_file_header),
        cmocka_unit_test(test_missing_and_not_regular),
        cmocka_unit_test(test_wrong_version),
        cmocka_unit_test(test_truncated_every_byte_raw),
        cmocka_unit_test(test_truncated_every_byte_zstd),
        cmocka_unit_test(test_truncated_middle),
        cmocka_unit_test(test_stray_tail),
        cmocka_unit_test(test_corrupted_block_header),
        cmocka_unit_test(test_impossible_block_header),
        cmocka_unit_test(test_corrupted_zstd_payload),
        cmocka_unit_test(test_corrupted_raw_payload),
        cmocka_unit_test(test_raw_size_mismatch),
        cmocka_unit_test(test_reader_warn_joins_lines),
        cmocka_unit_test(test_writer_refuses_overwrite),
        cmocka_unit_test(test_writer_rejects_oversized_block),
    };
    return cmocka_run_group_tests(tests, ut_setup_tmp_dir, ut_teardown_tmp_dir);
}

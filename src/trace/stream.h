/* The column encoding of trace blocks, shared by the writer (agent) and the reader.
 *
 * A trace is one stream of records in time order. Each block holds a run of it, split into
 * columns so that zstd sees like next to like: record tags, time deltas, sizes, stack ids,
 * ordinal deltas, thread indexes, and everything else. A block's raw payload is
 *   varint n_columns, n_columns varint lengths, then the columns one after another.
 * The encoder never allocates: its columns live in memory the caller provides. */
#ifndef VT_TRACE_STREAM_H
#define VT_TRACE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/varint.h"

enum vt_column {
    VT_COL_TAG,     /* one byte per record */
    VT_COL_TIME,    /* time delta from the previous record, in quanta */
    VT_COL_SIZE,    /* sizes */
    VT_COL_STACK,   /* stack ids */
    VT_COL_ORDINAL, /* for frees: allocations made since the freed one */
    VT_COL_THREAD,  /* thread indexes */
    VT_COL_MISC,    /* all other fields, and meta records */
    VT_COLUMNS
};

/* A block is written when its columns reach this many bytes in all. */
#define VT_STREAM_BLOCK_TARGET (256 * 1024)
/* Each column has room for the target plus the longest record. */
#define VT_STREAM_COL_CAP (VT_STREAM_BLOCK_TARGET + 64 * 1024)
#define VT_STREAM_ENC_MEM ((size_t)VT_STREAM_COL_CAP * VT_COLUMNS)

typedef struct vt_stream_enc {
    uint8_t *col[VT_COLUMNS];
    size_t len[VT_COLUMNS];
    size_t total;
} vt_stream_enc;

/* mem must hold VT_STREAM_ENC_MEM bytes and outlive the encoder. */
static inline void vt_stream_enc_init(vt_stream_enc *e, uint8_t *mem)
{
    for (int i = 0; i < VT_COLUMNS; i++) {
        e->col[i] = mem + (size_t)i * VT_STREAM_COL_CAP;
        e->len[i] = 0;
    }
    e->total = 0;
}

static inline void vt_stream_enc_reset(vt_stream_enc *e)
{
    for (int i = 0; i < VT_COLUMNS; i++)
        e->len[i] = 0;
    e->total = 0;
}

static inline void vt_stream_put_byte(vt_stream_enc *e, int col, uint8_t b)
{
    e->col[col][e->len[col]++] = b;
    e->total++;
}

static inline void vt_stream_put(vt_stream_enc *e, int col, uint64_t v)
{
    uint8_t *p = e->col[col] + e->len[col];
    size_t n = (size_t)(vt_varint_put(p, v) - p);
    e->len[col] += n;
    e->total += n;
}

/* Copies n raw bytes into the misc column (strings). The caller checks room first. */
static inline void vt_stream_put_bytes(vt_stream_enc *e, const void *p, size_t n)
{
    vt_stream_put(e, VT_COL_MISC, n);
    if (n)
        memcpy(e->col[VT_COL_MISC] + e->len[VT_COL_MISC], p, n);
    e->len[VT_COL_MISC] += n;
    e->total += n;
}

/* Whether a record of up to need bytes still fits. Every column has room for the whole target
 * and then some, so checking the total is enough. */
static inline int vt_stream_room(const vt_stream_enc *e, size_t need)
{
    return e->total + need <= VT_STREAM_BLOCK_TARGET && need <= VT_STREAM_COL_CAP / 2;
}

/* Serialises the columns into out (capacity cap); returns the length or 0 if it does not fit. */
static inline size_t vt_stream_enc_finish(const vt_stream_enc *e, uint8_t *out, size_t cap)
{
    uint8_t *p = out;
    size_t need = 1 + VT_COLUMNS * VT_VARINT_MAX + e->total;
    if (need > cap)
        return 0;
    p = vt_varint_put(p, VT_COLUMNS);
    for (int i = 0; i < VT_COLUMNS; i++)
        p = vt_varint_put(p, e->len[i]);
    for (int i = 0; i < VT_COLUMNS; i++) {
        memcpy(p, e->col[i], e->len[i]);
        p += e->len[i];
    }
    return (size_t)(p - out);
}

typedef struct vt_stream_dec {
    const uint8_t *p[VT_COLUMNS];
    const uint8_t *end[VT_COLUMNS];
    const uint8_t *base; /* the block's raw payload, for offsets in messages */
} vt_stream_dec;

/* Splits a block's raw payload into its columns. Returns 0, or -1 when it is malformed. */
static inline int vt_stream_dec_init(vt_stream_dec *d, const uint8_t *raw, size_t n)
{
    const uint8_t *p = raw, *end = raw + n;
    uint64_t nc, len[VT_COLUMNS];
    if (vt_varint_get(&p, end, &nc) || nc != VT_COLUMNS)
        return -1;
    uint64_t sum = 0;
    for (int i = 0; i < VT_COLUMNS; i++) {
        if (vt_varint_get(&p, end, &len[i]) || len[i] > (uint64_t)(end - raw))
            return -1;
        sum += len[i]; /* cannot wrap: each length is at most the payload's size */
    }
    if (sum != (uint64_t)(end - p))
        return -1;
    for (int i = 0; i < VT_COLUMNS; i++) {
        d->p[i] = p;
        d->end[i] = p + len[i];
        p += len[i];
    }
    d->base = raw;
    return 0;
}

static inline int vt_stream_get(vt_stream_dec *d, int col, uint64_t *v)
{
    return vt_varint_get(&d->p[col], d->end[col], v);
}

/* A string of the MISC column (its length, then its bytes) into *out, NUL-terminated; what *out
 * held (NULL or a string from malloc) is freed, and the caller frees the new one. Returns 0, -1
 * when the column does not hold that many bytes, or VT_ENOMEM. */
static inline int vt_stream_get_str(vt_stream_dec *d, char **out)
{
    uint64_t n;
    if (vt_stream_get(d, VT_COL_MISC, &n) ||
        n > (uint64_t)(d->end[VT_COL_MISC] - d->p[VT_COL_MISC]))
        return -1;
    char *s = malloc(n + 1);
    if (!s)
        return VT_ENOMEM;
    memcpy(s, d->p[VT_COL_MISC], n);
    s[n] = 0;
    d->p[VT_COL_MISC] += n;
    free(*out);
    *out = s;
    return 0;
}

/* Whether any records are left (the tag column drives decoding). */
static inline int vt_stream_more(const vt_stream_dec *d)
{
    return d->p[VT_COL_TAG] < d->end[VT_COL_TAG];
}

#endif

#include "trace/monitor_writer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace/format.h"
#include "util/error.h"
#include "util/varint.h"

#define OUT_CAP (VT_STREAM_BLOCK_TARGET + 64 * 1024 + 64)

static int flush_block(vt_monitor_writer *mw)
{
    if (mw->err)
        return mw->err;
    if (!mw->enc.total)
        return 0;
    size_t n = vt_stream_enc_finish(&mw->enc, mw->out, OUT_CAP);
    int err = n ? vt_trace_write_block(&mw->w, VT_BLOCK_STREAM, mw->block_start, 0, mw->out, n, 1)
                : VT_EIO;
    vt_stream_enc_reset(&mw->enc);
    mw->block_start = mw->last;
    if (err)
        mw->err = err;
    return err;
}

/* Makes room for a record of up to need bytes. */
static int room(vt_monitor_writer *mw, size_t need)
{
    if (mw->err)
        return mw->err;
    if (!vt_stream_room(&mw->enc, need))
        return flush_block(mw);
    return 0;
}

static void put_time(vt_monitor_writer *mw, uint64_t ns)
{
    if (ns < mw->last)
        ns = mw->last; /* the stream stays in time order */
    vt_stream_put(&mw->enc, VT_COL_TIME, ns - mw->last);
    mw->last = ns;
}

static void put_str(vt_monitor_writer *mw, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 4096)
        n = 4096;
    vt_stream_put_bytes(&mw->enc, s ? s : "", n);
}

int vt_monitor_writer_open(vt_monitor_writer *mw, const char *path, const vt_monitor_info *in)
{
    memset(mw, 0, sizeof(*mw));
    int err = vt_trace_writer_open(&mw->w, path);
    if (err)
        return err;
    mw->mem = malloc(VT_STREAM_ENC_MEM);
    mw->out = malloc(OUT_CAP);
    if (!mw->mem || !mw->out || vt_trace_writer_enable_zstd(&mw->w, 3)) {
        err = VT_ENOMEM;
        goto fail;
    }
    vt_stream_enc_init(&mw->enc, mw->mem);
    mw->start_ns = mw->last = mw->block_start = mw->last_flush = in->start_ns;
    size_t need = 256 + strlen(in->exe ? in->exe : "");
    for (size_t i = 0; i < in->argc; i++)
        need += 16 + strlen(in->argv[i]);
    if (need > VT_STREAM_COL_CAP / 2) {
        err = VT_ETOOBIG;
        goto fail;
    }
    vt_stream_put_byte(&mw->enc, VT_COL_TAG, VT_TAG_INFO);
    uint64_t info[9] = {(uint64_t)in->pid,
                        (uint64_t)in->ppid,
                        1000000000ull,
                        in->start_ns,
                        in->start_ns,
                        in->start_realtime_ns,
                        0,
                        0,
                        0};
    for (int i = 0; i < 9; i++)
        vt_stream_put(&mw->enc, VT_COL_MISC, info[i]);
    put_str(mw, in->exe);
    vt_stream_put(&mw->enc, VT_COL_MISC, in->argc);
    for (size_t i = 0; i < in->argc; i++)
        put_str(mw, in->argv[i]);
    vt_stream_put_byte(&mw->enc, VT_COL_TAG, VT_TAG_MONITOR);
    vt_stream_put(&mw->enc, VT_COL_MISC, in->interval_ns);
    vt_stream_put(&mw->enc, VT_COL_MISC, in->flags);
    vt_stream_put(&mw->enc, VT_COL_MISC, in->n_cpus);
    vt_stream_put(&mw->enc, VT_COL_MISC, in->mem_total);
    return 0;
fail:
    free(mw->mem);
    free(mw->out);
    vt_trace_writer_close(&mw->w);
    return err;
}

int vt_monitor_writer_def(vt_monitor_writer *mw, uint32_t id, const char *name, int kind, int unit)
{
    int err = room(mw, 64 + strlen(name));
    if (err)
        return err;
    vt_stream_put_byte(&mw->enc, VT_COL_TAG, VT_TAG_METRIC_DEF);
    vt_stream_put(&mw->enc, VT_COL_MISC, id);
    vt_stream_put(&mw->enc, VT_COL_MISC, (uint64_t)kind);
    vt_stream_put(&mw->enc, VT_COL_MISC, (uint64_t)unit);
    put_str(mw, name);
    return 0;
}

int vt_monitor_writer_metrics(vt_monitor_writer *mw, uint64_t ns, const uint64_t *v,
                              const uint8_t *present, size_t n)
{
    int err = room(mw, 32 + n * VT_VARINT_MAX);
    if (err)
        return err;
    vt_stream_put_byte(&mw->enc, VT_COL_TAG, VT_TAG_METRICS);
    put_time(mw, ns);
    vt_stream_put(&mw->enc, VT_COL_MISC, n);
    for (size_t i = 0; i < n; i++)
        vt_stream_put(&mw->enc, VT_COL_MISC, present[i] && v[i] != UINT64_MAX ? v[i] + 1 : 0);
    return vt_monitor_writer_flush(mw, ns, 0);
}

static uint64_t zig_milli(double v)
{
    if (isnan(v))
        v = 0;
    double m = v * 1000.0;
    if (m > 9e18)
        m = 9e18;
    if (m < -9e18)
        m = -9e18;
    return vt_zigzag((int64_t)llround(m));
}

int vt_monitor_writer_alert(vt_monitor_writer *mw, uint64_t ns, int severity, int kind,
                            uint32_t metric, double value, double threshold, const char *rule,
                            const char *message)
{
    int err = room(mw, 128 + strlen(rule) + strlen(message));
    if (err)
        return err;
    vt_stream_put_byte(&mw->enc, VT_COL_TAG, VT_TAG_ALERT);
    put_time(mw, ns);
    vt_stream_put(&mw->enc, VT_COL_MISC, (uint64_t)severity);
    vt_stream_put(&mw->enc, VT_COL_MISC, (uint64_t)kind);
    vt_stream_put(&mw->enc, VT_COL_MISC, metric);
    vt_stream_put(&mw->enc, VT_COL_MISC, zig_milli(value));
    vt_stream_put(&mw->enc, VT_COL_MISC, zig_milli(threshold));
    put_str(mw, rule);
    put_str(mw, message);
    return 0;
}

int vt_monitor_writer_flush(vt_monitor_writer *mw, uint64_t now_ns, int force)
{
    if (!force && now_ns - mw->last_flush < 1000000000ull)
        return mw->err;
    mw->last_flush = now_ns;
    return flush_block(mw);
}

int vt_monitor_writer_close(vt_monitor_writer *mw, uint64_t now_ns, int reason, int status)
{
    if (!room(mw, 64)) {
        if (now_ns < mw->last)
            now_ns = mw->last;
        vt_stream_put_byte(&mw->enc, VT_COL_TAG, VT_TAG_CLOCK);
        vt_stream_put(&mw->enc, VT_COL_MISC, now_ns);
        vt_stream_put(&mw->enc, VT_COL_MISC, now_ns);
        vt_stream_put_byte(&mw->enc, VT_COL_TAG, VT_TAG_END);
        vt_stream_put(&mw->enc, VT_COL_MISC, (uint64_t)reason);
        vt_stream_put(&mw->enc, VT_COL_MISC, (uint64_t)status);
        vt_stream_put(&mw->enc, VT_COL_MISC, 0);
        vt_stream_put(&mw->enc, VT_COL_MISC, now_ns);
    }
    flush_block(mw);
    int err = mw->err;
    vt_trace_writer_close(&mw->w);
    free(mw->mem);
    free(mw->out);
    mw->mem = mw->out = NULL;
    return err;
}

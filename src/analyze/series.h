/* Metric time series: what vitals monitor recorded (METRIC_DEF, METRICS and ALERT records),
 * as the model holds it, and the same structure fed live by vitals monitor so that alerts,
 * anomalies and the bottleneck class are computed one way in both places.
 *
 * Values: a gauge's value is its level (a MILLI unit divided by 1000); a counter's value is its
 * rate between two snapshots: per second, or for a counter of nanoseconds the percentage of
 * the interval (CPU time: % of one core). Summaries cover every snapshot; the points kept for
 * drawing are at most VT_SERIES_POINTS_MAX (every 2nd, 4th... snapshot of a long recording). */
#ifndef VT_ANALYZE_SERIES_H
#define VT_ANALYZE_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "trace/stream.h"

#define VT_SERIES_POINTS_MAX 2048

enum vt_severity_level { VT_LEVEL_INFO = 0, VT_LEVEL_WARNING = 1, VT_LEVEL_CRITICAL = 2 };

enum vt_alert_kind {
    VT_ALERT_THRESHOLD = 0, /* a --alert rule held */
    VT_ALERT_ANOMALY = 1,   /* more than 3 standard deviations from the rolling baseline */
    VT_ALERT_TREND = 2,     /* a steady upward trend in memory */
    VT_ALERT_NUMA = 3,      /* a thread runs on a node other than the one holding the memory */
    VT_ALERT_KINDS
};

typedef struct vt_series_metric {
    char *name;
    int kind, unit; /* VT_METRIC_*, VT_UNIT_* (collect/metrics.h) */
    /* over every snapshot where the value was measured */
    uint64_t n;
    double min, max, sum, last;
    int has_raw;
    uint64_t first_raw, last_raw; /* counters: the total over the recording is the difference */
    double *points;               /* n_points values; NAN where not measured */
} vt_series_metric;

typedef struct vt_series_alert {
    uint64_t ns; /* since the start */
    int severity, kind;
    uint32_t metric; /* index into metrics */
    double value, threshold;
    char *rule;    /* the --alert text, or the detector's name */
    char *message; /* one line, with the numbers */
} vt_series_alert;

typedef struct vt_series {
    /* the recording (MONITOR record) */
    int present;
    uint64_t interval_ns;
    uint64_t flags; /* VT_MONITOR_SPAWNED */
    uint64_t n_cpus, mem_total;
    vt_series_metric *metrics;
    size_t n_metrics, metrics_cap;
    uint64_t *t; /* ns since start of each kept point */
    size_t n_points, points_cap;
    uint64_t stride;    /* snapshots per kept point */
    uint64_t snapshots; /* METRICS records read */
    uint64_t first_ns, last_ns;
    vt_series_alert *alerts;
    size_t n_alerts, alerts_cap;
    /* the latest snapshot: its raw values, and each metric's current value (NAN: none) */
    uint64_t *raw, *prev_raw;
    uint8_t *present_now, *present_prev;
    double *now;
    uint64_t prev_ns, now_ns;
    int have_prev;
    char *error;   /* set when a record could not be applied */
    int no_points; /* keep summaries and the latest values only (a live monitor) */
} vt_series;

#define VT_MONITOR_SPAWNED 0x1 /* the program was started by vitals monitor */

void vt_series_init(vt_series *s);
void vt_series_release(vt_series *s);

/* Adds metric id (ids are 0, 1, 2... in order). Returns 0, VT_EINVAL (out of order), or
 * VT_ENOMEM. */
int vt_series_define(vt_series *s, uint32_t id, const char *name, int kind, int unit);

/* Adds a snapshot taken at ns (since the start): raw[i] for metric i, present[i] 0 when it was
 * not measured; n may be less than n_metrics (the rest are absent). Updates now[] and the
 * summaries. Returns 0 or VT_ENOMEM. */
int vt_series_add(vt_series *s, uint64_t ns, const uint64_t *raw, const uint8_t *present, size_t n);

/* Records an alert (copies rule and message). Returns 0 or VT_ENOMEM. */
int vt_series_alert_add(vt_series *s, const vt_series_alert *a);

/* The index of the metric called name, or -1. */
int vt_series_find(const vt_series *s, const char *name);

/* The mean value of metric i over the recording (NAN if never measured); for a counter, its
 * total rate (first to last snapshot), which is what a mean of its rates is meant to be. */
double vt_series_mean(const vt_series *s, size_t i);

/* The total of a counter over the recording (last minus first raw value), 0 for a gauge. */
uint64_t vt_series_total(const vt_series *s, size_t i);

/* A counter's total between two snapshots... of the latest interval: now minus previous raw
 * value (0 if either is missing). */
uint64_t vt_series_delta(const vt_series *s, size_t i);

/* "bytes", "%", "/s", "bytes/s" or "": the unit of metric i's value. */
const char *vt_series_value_unit(const vt_series *s, size_t i);

const char *vt_severity_level_name(int sev);
const char *vt_alert_kind_name(int kind);

/* Applies one record of tag (VT_TAG_MONITOR...VT_TAG_ALERT) from the stream; ns is the
 * record's time since the start for timed records. Returns 0, or -1 when it is malformed (the
 * model warns), VT_ENOMEM. */
int vt__series_decode(vt_series *s, int tag, vt_stream_dec *d, uint64_t ns);

#endif

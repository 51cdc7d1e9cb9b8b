/* Alerts over a live series: --alert rules (expr.h) bound to the series' metrics, and the
 * detectors that need no threshold: a value more than 3 standard deviations from its rolling
 * baseline, and a steady upward trend in memory. Each flags once, then waits out a cooldown.
 * Used by vitals monitor after every vt_series_add(). */
#ifndef VT_ANALYZE_ALERT_H
#define VT_ANALYZE_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/expr.h"
#include "analyze/series.h"

/* How a rule reads its metric. */
enum vt_rule_mode {
    VT_RULE_VALUE,      /* the metric's value (level, rate, or % for times) */
    VT_RULE_TOTAL,      /* a counter's total since the start */
    VT_RULE_GAUGE_RATE, /* a gauge's change per second (name/s) */
};

typedef struct vt_alert_rule {
    vt_expr e;
    int metric, mode;
    uint64_t since_ns; /* when the condition began to hold */
    int holding, fired;
} vt_alert_rule;

#define VT_ANOMALY_WINDOW 60 /* snapshots in the rolling baseline */
#define VT_ANOMALY_MIN 20    /* snapshots needed before judging */
#define VT_TREND_WINDOW 120  /* snapshots the memory trend is fitted over */
#define VT_TREND_MIN 30

typedef struct vt_anomaly_detector {
    int metric;
    double floor; /* the smallest deviation worth flagging, in the value's unit */
    double ring[VT_ANOMALY_WINDOW];
    size_t n, head;
    uint64_t flagged_ns;
    int ever;
} vt_anomaly_detector;

typedef struct vt_trend_detector {
    int metric;
    double t[VT_TREND_WINDOW], v[VT_TREND_WINDOW]; /* seconds, bytes */
    size_t n, head;
    uint64_t flagged_ns;
    int ever;
} vt_trend_detector;

typedef struct vt_alerts {
    vt_alert_rule *rules;
    size_t n_rules, rules_cap;
    vt_anomaly_detector *det;
    size_t n_det;
    vt_trend_detector trend;
    int anomalies;
    uint64_t cooldown_ns;
} vt_alerts;

/* Called for every alert that fires; a's strings are valid during the call only. */
typedef void (*vt_alert_fn)(void *arg, const vt_series_alert *a);

void vt_alerts_init(vt_alerts *a);
void vt_alerts_release(vt_alerts *a);

/* Parses text and binds it to s's metrics. Returns 0, VT_EINVAL with *err pointing at the
 * offending character (an unknown metric, a unit that does not fit it...), or VT_ENOMEM. */
int vt_alerts_add_rule(vt_alerts *a, const vt_series *s, const char *text, vt_expr_error *err);

/* Turns on the detectors without thresholds (anomalies on cpu, rss, faults, I/O, fds and
 * threads; the memory trend on rss), flagging each at most once per cooldown_ns. Returns 0 or
 * VT_ENOMEM. */
int vt_alerts_enable_anomalies(vt_alerts *a, const vt_series *s, uint64_t cooldown_ns);

/* Evaluates everything on s's latest snapshot and calls fire for each alert. */
void vt_alerts_step(vt_alerts *a, const vt_series *s, vt_alert_fn fire, void *arg);

/* The least-squares fit of v over t: slope, its standard error and r^2. Exposed for tests.
 * Returns 0, or -1 with fewer than 3 points or no spread in t. */
int vt__fit_line(const double *t, const double *v, size_t n, double *slope, double *slope_se,
                 double *r2);

#endif

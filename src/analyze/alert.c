#include "analyze/alert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/format.h"
#include "util/array.h"
#include "util/error.h"
#include "util/fmt.h"

void vt_alerts_init(vt_alerts *a)
{
    memset(a, 0, sizeof(*a));
}

void vt_alerts_release(vt_alerts *a)
{
    free(a->rules);
    free(a->det);
    memset(a, 0, sizeof(*a));
}

static int bad(vt_expr_error *err, size_t pos, const char *fmt, const char *arg)
{
    err->pos = pos;
    snprintf(err->msg, sizeof(err->msg), fmt, arg);
    return VT_EINVAL;
}

int vt_alerts_add_rule(vt_alerts *a, const vt_series *s, const char *text, vt_expr_error *err)
{
    vt_alert_rule r = {0};
    int e = vt_expr_parse(text, &r.e, err);
    if (e)
        return e;
    const char *name = r.e.metric;
    r.metric = vt_series_find(s, name);
    if (r.metric < 0)
        return bad(err, r.e.metric_at,
                   "unknown metric '%s' (vitals monitor --list-metrics lists them)", name);
    const vt_series_metric *m = &s->metrics[r.metric];
    int u = r.e.unit;
    size_t at = r.e.unit_at;
    if (m->kind == VT_METRIC_GAUGE) {
        r.mode = r.e.rate ? VT_RULE_GAUGE_RATE : VT_RULE_VALUE;
        if (m->unit == VT_UNIT_BYTES && u != VT_QTY_PLAIN && u != VT_QTY_BYTES)
            return bad(err, at, "'%s' is in bytes: use B, kB, MB, GB, KiB, MiB or GiB", name);
        if (m->unit != VT_UNIT_BYTES && u != VT_QTY_PLAIN && u != VT_QTY_COUNT)
            return bad(err, at, "'%s' is a plain number: no unit, or k, M, G", name);
    } else if (m->unit == VT_UNIT_NS) {
        if (r.e.rate)
            return bad(err, r.e.metric_at + strlen(name),
                       "'%s' is a time: compare its share with %% (no /s), or its total with a "
                       "duration",
                       name);
        if (u == VT_QTY_TIME)
            r.mode = VT_RULE_TOTAL;
        else if (u == VT_QTY_PLAIN || u == VT_QTY_PERCENT)
            r.mode = VT_RULE_VALUE;
        else
            return bad(err, at, "'%s' is a time: use %% (its share) or a duration (its total)",
                       name);
    } else {
        r.mode = r.e.rate ? VT_RULE_VALUE : VT_RULE_TOTAL;
        if (m->unit == VT_UNIT_BYTES && u != VT_QTY_PLAIN && u != VT_QTY_BYTES)
            return bad(err, at, "'%s' counts bytes: use B, kB, MB, GB, KiB, MiB or GiB", name);
        if (m->unit != VT_UNIT_BYTES && u != VT_QTY_PLAIN && u != VT_QTY_COUNT)
            return bad(err, at, "'%s' is a count: no unit, or k, M, G", name);
    }
    if (vt_grow(&a->rules, &a->rules_cap, a->n_rules + 1, sizeof(*a->rules), 8))
        return VT_ENOMEM;
    a->rules[a->n_rules++] = r;
    return 0;
}

int vt_alerts_enable_anomalies(vt_alerts *a, const vt_series *s, uint64_t cooldown_ns)
{
    static const char *const watched[] = {"cpu", "rss",     "major_faults",    "minor_faults",
                                          "fds", "threads", "disk_read_bytes", "disk_write_bytes"};
    size_t n = sizeof(watched) / sizeof(watched[0]);
    a->det = calloc(n, sizeof(*a->det));
    if (!a->det)
        return VT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int m = vt_series_find(s, watched[i]);
        if (m < 0)
            continue;
        const vt_series_metric *sm = &s->metrics[m];
        vt_anomaly_detector *d = &a->det[a->n_det++];
        d->metric = m;
        /* The least change worth a word: 10 points of a core, 4 MiB, 1 MiB/s, 2 things, 20/s. */
        d->floor = sm->unit == VT_UNIT_NS                                     ? 10.0
                   : sm->unit == VT_UNIT_BYTES && sm->kind == VT_METRIC_GAUGE ? 4.0 * 1048576
                   : sm->unit == VT_UNIT_BYTES                                ? 1048576.0
                   : sm->kind == VT_METRIC_GAUGE                              ? 2.0
                                                                              : 20.0;
    }
    a->trend.metric = vt_series_find(s, "rss");
    a->anomalies = 1;
    a->cooldown_ns = cooldown_ns;
    return 0;
}

int vt__fit_line(const double *t, const double *v, size_t n, double *slope, double *slope_se,
                 double *r2)
{
    if (n < 3)
        return -1;
    double mt = 0, mv = 0;
    for (size_t i = 0; i < n; i++) {
        mt += t[i];
        mv += v[i];
    }
    mt /= (double)n;
    mv /= (double)n;
    double stt = 0, stv = 0, svv = 0;
    for (size_t i = 0; i < n; i++) {
        stt += (t[i] - mt) * (t[i] - mt);
        stv += (t[i] - mt) * (v[i] - mv);
        svv += (v[i] - mv) * (v[i] - mv);
    }
    if (stt <= 0)
        return -1;
    double b = stv / stt;
    double ssr = svv - b * stv; /* residual sum of squares */
    if (ssr < 0)
        ssr = 0;
    *slope = b;
    *slope_se = sqrt(ssr / (double)(n - 2) / stt);
    *r2 = svv > 0 ? 1.0 - ssr / svv : 1.0;
    return 0;
}

static double rule_value(const vt_alert_rule *r, const vt_series *s, int *ok)
{
    size_t i = (size_t)r->metric;
    *ok = 0;
    switch (r->mode) {
    case VT_RULE_VALUE:
        *ok = !isnan(s->now[i]);
        return s->now[i];
    case VT_RULE_TOTAL:
        *ok = s->present_now[i];
        return (double)(s->raw[i] - s->metrics[i].first_raw);
    case VT_RULE_GAUGE_RATE:
        if (!s->have_prev || !s->present_now[i] || !s->present_prev[i] || s->now_ns <= s->prev_ns)
            return 0;
        *ok = 1;
        return ((double)s->raw[i] - (double)s->prev_raw[i]) * 1e9 /
               (double)(s->now_ns - s->prev_ns);
    }
    return 0;
}

/* "1.5 GiB", "93.2%", "120/s"... a value of metric i for messages. */
static const char *fmt_value(const vt_series *s, size_t i, int mode, double v, char *buf, size_t n)
{
    const vt_series_metric *m = &s->metrics[i];
    char b[32];
    int bytes = m->unit == VT_UNIT_BYTES;
    int per_s =
        (m->kind == VT_METRIC_COUNTER && mode == VT_RULE_VALUE) || mode == VT_RULE_GAUGE_RATE;
    if (m->unit == VT_UNIT_NS && mode == VT_RULE_VALUE)
        snprintf(buf, n, "%.1f%%", v);
    else if (m->unit == VT_UNIT_NS)
        snprintf(buf, n, "%.3f s", v / 1e9);
    else if (bytes)
        snprintf(buf, n, "%s%s%s", v < 0 ? "-" : "", vt_fmt_bytes((uint64_t)fabs(v), b, sizeof(b)),
                 per_s ? "/s" : "");
    else
        snprintf(buf, n, "%.*f%s", v == floor(v) ? 0 : 2, v, per_s ? "/s" : "");
    return buf;
}

static void step_rules(vt_alerts *a, const vt_series *s, vt_alert_fn fire, void *arg)
{
    for (size_t k = 0; k < a->n_rules; k++) {
        vt_alert_rule *r = &a->rules[k];
        int ok;
        double v = rule_value(r, s, &ok);
        if (!ok)
            continue;
        if (!vt_cmp_holds(r->e.op, v, r->e.value)) {
            r->holding = r->fired = 0;
            continue;
        }
        if (!r->holding) {
            r->holding = 1;
            r->since_ns = s->now_ns;
        }
        if (r->fired || s->now_ns - r->since_ns < r->e.for_ns)
            continue;
        r->fired = 1;
        char msg[384], vb[48], tb[48];
        fmt_value(s, (size_t)r->metric, r->mode, v, vb, sizeof(vb));
        fmt_value(s, (size_t)r->metric, r->mode, r->e.value, tb, sizeof(tb));
        double held = (double)(s->now_ns - r->since_ns);
        if (r->e.for_ns)
            snprintf(msg, sizeof(msg), "%s%s is %s (%s %s for %.*f %s)", r->e.metric,
                     r->e.rate ? "/s" : "", vb, vt_cmp_str(r->e.op), tb, held < 1e9 ? 0 : 1,
                     held < 1e9 ? held / 1e6 : held / 1e9, held < 1e9 ? "ms" : "s");
        else
            snprintf(msg, sizeof(msg), "%s%s is %s (%s %s)", r->e.metric, r->e.rate ? "/s" : "", vb,
                     vt_cmp_str(r->e.op), tb);
        vt_series_alert al = {.ns = s->now_ns,
                              .severity = r->e.severity,
                              .kind = VT_ALERT_THRESHOLD,
                              .metric = (uint32_t)r->metric,
                              .value = v,
                              .threshold = r->e.value,
                              .rule = r->e.text,
                              .message = msg};
        fire(arg, &al);
    }
}

static int cooled(const vt_alerts *a, int ever, uint64_t flagged, uint64_t now)
{
    return !ever || now - flagged >= a->cooldown_ns;
}

static void step_anomalies(vt_alerts *a, const vt_series *s, vt_alert_fn fire, void *arg)
{
    for (size_t k = 0; k < a->n_det; k++) {
        vt_anomaly_detector *d = &a->det[k];
        double x = s->now[d->metric];
        if (isnan(x))
            continue;
        if (d->n >= VT_ANOMALY_MIN) {
            double mean = 0, var = 0;
            for (size_t i = 0; i < d->n; i++)
                mean += d->ring[i];
            mean /= (double)d->n;
            for (size_t i = 0; i < d->n; i++)
                var += (d->ring[i] - mean) * (d->ring[i] - mean);
            double sd = sqrt(var / (double)(d->n - 1));
            double sd_eff = fmax(sd, fmax(d->floor / 3.0, 0.02 * fabs(mean)));
            double z = (x - mean) / sd_eff;
            if (fabs(z) > 3.0 && cooled(a, d->ever, d->flagged_ns, s->now_ns)) {
                d->ever = 1;
                d->flagged_ns = s->now_ns;
                char msg[384], xb[48], mb[48], sb[48];
                const char *name = s->metrics[d->metric].name;
                int rate = s->metrics[d->metric].kind == VT_METRIC_COUNTER &&
                           s->metrics[d->metric].unit != VT_UNIT_NS;
                fmt_value(s, (size_t)d->metric, VT_RULE_VALUE, x, xb, sizeof(xb));
                fmt_value(s, (size_t)d->metric, VT_RULE_VALUE, mean, mb, sizeof(mb));
                fmt_value(s, (size_t)d->metric, VT_RULE_VALUE, sd, sb, sizeof(sb));
                snprintf(msg, sizeof(msg),
                         "%s%s is %s, %.1f standard deviations %s its baseline %s (sd %s over "
                         "the last %zu snapshots)",
                         name, rate ? "/s" : "", xb, fabs(z), z > 0 ? "above" : "below", mb, sb,
                         d->n);
                char rule[96];
                snprintf(rule, sizeof(rule), "anomaly: %s%s", name, rate ? "/s" : "");
                vt_series_alert al = {.ns = s->now_ns,
                                      .severity = VT_LEVEL_WARNING,
                                      .kind = VT_ALERT_ANOMALY,
                                      .metric = (uint32_t)d->metric,
                                      .value = x,
                                      .threshold = mean + (z > 0 ? 3 : -3) * sd_eff,
                                      .rule = rule,
                                      .message = msg};
                fire(arg, &al);
            }
        }
        d->ring[d->head] = x;
        d->head = (d->head + 1) % VT_ANOMALY_WINDOW;
        if (d->n < VT_ANOMALY_WINDOW)
            d->n++;
    }
}

static void step_trend(vt_alerts *a, const vt_series *s, vt_alert_fn fire, void *arg)
{
    vt_trend_detector *d = &a->trend;
    if (d->metric < 0 || !s->present_now[d->metric])
        return;
    d->t[d->head] = (double)s->now_ns / 1e9;
    d->v[d->head] = (double)s->raw[d->metric];
    d->head = (d->head + 1) % VT_TREND_WINDOW;
    if (d->n < VT_TREND_WINDOW)
        d->n++;
    if (d->n < VT_TREND_MIN || !cooled(a, d->ever, d->flagged_ns, s->now_ns))
        return;
    double slope, se, r2;
    if (vt__fit_line(d->t, d->v, d->n, &slope, &se, &r2))
        return;
    double t0 = INFINITY, t1 = -INFINITY, mean = 0;
    for (size_t i = 0; i < d->n; i++) {
        t0 = fmin(t0, d->t[i]);
        t1 = fmax(t1, d->t[i]);
        mean += d->v[i] / (double)d->n;
    }
    double growth = slope * (t1 - t0);
    /* Steady: a good fit, and clearly more than noise: at least 4 MiB and 10% over the
     * window, the slope's 95% interval above zero. */
    if (slope <= 0 || r2 < 0.9 || growth < 4.0 * 1048576 || growth < 0.1 * mean ||
        slope - 1.96 * se <= 0)
        return;
    d->ever = 1;
    d->flagged_ns = s->now_ns;
    char msg[384], b1[32], b2[32], b3[32];
    snprintf(msg, sizeof(msg),
             "%s grows steadily: %s/s over the last %.1f s (r^2 %.3f, 95%% interval %s/s to "
             "%s/s)",
             s->metrics[d->metric].name, vt_fmt_bytes((uint64_t)slope, b1, sizeof(b1)), t1 - t0, r2,
             vt_fmt_bytes((uint64_t)fmax(0, slope - 1.96 * se), b2, sizeof(b2)),
             vt_fmt_bytes((uint64_t)(slope + 1.96 * se), b3, sizeof(b3)));
    char rule[64];
    snprintf(rule, sizeof(rule), "trend: %s", s->metrics[d->metric].name);
    vt_series_alert al = {.ns = s->now_ns,
                          .severity = VT_LEVEL_WARNING,
                          .kind = VT_ALERT_TREND,
                          .metric = (uint32_t)d->metric,
                          .value = slope,
                          .threshold = r2,
                          .rule = rule,
                          .message = msg};
    fire(arg, &al);
}

void vt_alerts_step(vt_alerts *a, const vt_series *s, vt_alert_fn fire, void *arg)
{
    step_rules(a, s, fire, arg);
    if (a->anomalies) {
        step_anomalies(a, s, fire, arg);
        step_trend(a, s, fire, arg);
    }
}

#include "analyze/series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace/format.h"
#include "util/array.h"
#include "util/error.h"
#include "util/varint.h"

void vt_series_init(vt_series *s)
{
    memset(s, 0, sizeof(*s));
    s->stride = 1;
}

void vt_series_release(vt_series *s)
{
    for (size_t i = 0; i < s->n_metrics; i++) {
        free(s->metrics[i].name);
        free(s->metrics[i].points);
    }
    free(s->metrics);
    free(s->t);
    for (size_t i = 0; i < s->n_alerts; i++) {
        free(s->alerts[i].rule);
        free(s->alerts[i].message);
    }
    free(s->alerts);
    free(s->raw);
    free(s->prev_raw);
    free(s->present_now);
    free(s->present_prev);
    free(s->now);
    free(s->error);
    vt_series_init(s);
}

int vt_series_define(vt_series *s, uint32_t id, const char *name, int kind, int unit)
{
    if (id != s->n_metrics || s->snapshots || kind < 0 || kind > 1 || unit < 0 ||
        unit >= VT_UNIT_COUNT_OF)
        return VT_EINVAL;
    size_t cap = s->metrics_cap;
    if (vt_grow(&s->metrics, &s->metrics_cap, s->n_metrics + 1, sizeof(*s->metrics), 64))
        return VT_ENOMEM;
    size_t n = s->n_metrics + 1;
    uint64_t *r = realloc(s->raw, n * sizeof(*r));
    if (r)
        s->raw = r;
    uint64_t *pr = realloc(s->prev_raw, n * sizeof(*pr));
    if (pr)
        s->prev_raw = pr;
    uint8_t *pn = realloc(s->present_now, n);
    if (pn)
        s->present_now = pn;
    uint8_t *pp = realloc(s->present_prev, n);
    if (pp)
        s->present_prev = pp;
    double *nw = realloc(s->now, n * sizeof(*nw));
    if (nw)
        s->now = nw;
    (void)cap;
    if (!r || !pr || !pn || !pp || !nw)
        return VT_ENOMEM;
    vt_series_metric *m = &s->metrics[s->n_metrics];
    memset(m, 0, sizeof(*m));
    m->name = strdup(name);
    if (!m->name)
        return VT_ENOMEM;
    m->kind = kind;
    m->unit = unit;
    m->min = INFINITY;
    m->max = -INFINITY;
    s->raw[id] = s->prev_raw[id] = 0;
    s->present_now[id] = s->present_prev[id] = 0;
    s->now[id] = NAN;
    s->n_metrics++;
    s->present = 1;
    return 0;
}

/* Keeps every other point when the table is full, so that a long recording keeps its shape in
 * a bounded table. */
static void halve_points(vt_series *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n_points; i += 2, k++) {
        s->t[k] = s->t[i];
        for (size_t j = 0; j < s->n_metrics; j++)
            s->metrics[j].points[k] = s->metrics[j].points[i];
    }
    s->n_points = k;
    s->stride *= 2;
}

static int add_point(vt_series *s, uint64_t ns)
{
    if (s->no_points)
        return 0;
    if (s->n_points == VT_SERIES_POINTS_MAX)
        halve_points(s);
    if ((s->snapshots - 1) % s->stride)
        return 0;
    if (s->n_points == s->points_cap) {
        size_t cap = s->points_cap ? s->points_cap * 2 : 64;
        if (cap > VT_SERIES_POINTS_MAX)
            cap = VT_SERIES_POINTS_MAX;
        uint64_t *t = realloc(s->t, cap * sizeof(*t));
        if (!t)
            return VT_ENOMEM;
        s->t = t;
        for (size_t j = 0; j < s->n_metrics; j++) {
            double *p = realloc(s->metrics[j].points, cap * sizeof(*p));
            if (!p)
                return VT_ENOMEM;
            s->metrics[j].points = p;
        }
        s->points_cap = cap;
    }
    s->t[s->n_points] = ns;
    for (size_t j = 0; j < s->n_metrics; j++)
        s->metrics[j].points[s->n_points] = s->now[j];
    s->n_points++;
    return 0;
}

int vt_series_add(vt_series *s, uint64_t ns, const uint64_t *raw, const uint8_t *present, size_t n)
{
    uint64_t dt = 0;
    if (!s->stride)
        s->stride = 1; /* a series in zeroed memory (the model's) */
    if (s->snapshots) {
        memcpy(s->prev_raw, s->raw, s->n_metrics * sizeof(*s->raw));
        memcpy(s->present_prev, s->present_now, s->n_metrics);
        s->prev_ns = s->now_ns;
        s->have_prev = 1;
        dt = ns > s->now_ns ? ns - s->now_ns : 0;
    } else {
        s->first_ns = ns;
    }
    s->now_ns = ns;
    s->last_ns = ns;
    s->snapshots++;
    for (size_t i = 0; i < s->n_metrics; i++) {
        vt_series_metric *m = &s->metrics[i];
        int has = i < n && present[i];
        s->present_now[i] = (uint8_t)has;
        s->raw[i] = has ? raw[i] : 0;
        double v = NAN;
        if (has && m->kind == VT_METRIC_GAUGE) {
            v = m->unit == VT_UNIT_MILLI ? (double)raw[i] / 1000.0 : (double)raw[i];
        } else if (has && s->have_prev && s->present_prev[i] && dt) {
            /* A counter that went backwards (a reset) gives no rate for this interval. */
            if (raw[i] >= s->prev_raw[i]) {
                double d = (double)(raw[i] - s->prev_raw[i]);
                v = m->unit == VT_UNIT_NS ? d * 100.0 / (double)dt : d * 1e9 / (double)dt;
            }
        }
        if (has) {
            if (!m->has_raw)
                m->first_raw = raw[i];
            m->has_raw = 1;
            m->last_raw = raw[i];
        }
        s->now[i] = v;
        if (!isnan(v)) {
            m->n++;
            m->sum += v;
            if (v < m->min)
                m->min = v;
            if (v > m->max)
                m->max = v;
            m->last = v;
        }
    }
    return add_point(s, ns);
}

int vt_series_alert_add(vt_series *s, const vt_series_alert *a)
{
    if (vt_grow(&s->alerts, &s->alerts_cap, s->n_alerts + 1, sizeof(*s->alerts), 16))
        return VT_ENOMEM;
    vt_series_alert *d = &s->alerts[s->n_alerts];
    *d = *a;
    d->rule = strdup(a->rule ? a->rule : "");
    d->message = strdup(a->message ? a->message : "");
    if (!d->rule || !d->message) {
        free(d->rule);
        free(d->message);
        return VT_ENOMEM;
    }
    s->n_alerts++;
    return 0;
}

int vt_series_find(const vt_series *s, const char *name)
{
    for (size_t i = 0; i < s->n_metrics; i++)
        if (!strcmp(s->metrics[i].name, name))
            return (int)i;
    return -1;
}

uint64_t vt_series_total(const vt_series *s, size_t i)
{
    const vt_series_metric *m = &s->metrics[i];
    if (m->kind != VT_METRIC_COUNTER || !m->has_raw || m->last_raw < m->first_raw)
        return 0;
    return m->last_raw - m->first_raw;
}

uint64_t vt_series_delta(const vt_series *s, size_t i)
{
    if (!s->have_prev || !s->present_now[i] || !s->present_prev[i] || s->raw[i] < s->prev_raw[i])
        return 0;
    return s->raw[i] - s->prev_raw[i];
}

double vt_series_mean(const vt_series *s, size_t i)
{
    const vt_series_metric *m = &s->metrics[i];
    if (m->kind == VT_METRIC_COUNTER) {
        /* The rate over the whole recording: total over the time between the first and the
         * last snapshot that measured it. */
        if (!m->n || s->last_ns <= s->first_ns)
            return NAN;
        double d = (double)vt_series_total(s, i), dt = (double)(s->last_ns - s->first_ns);
        return m->unit == VT_UNIT_NS ? d * 100.0 / dt : d * 1e9 / dt;
    }
    return m->n ? m->sum / (double)m->n : NAN;
}

const char *vt_series_value_unit(const vt_series *s, size_t i)
{
    const vt_series_metric *m = &s->metrics[i];
    if (m->kind == VT_METRIC_COUNTER)
        return m->unit == VT_UNIT_NS ? "%" : m->unit == VT_UNIT_BYTES ? "bytes/s" : "/s";
    return m->unit == VT_UNIT_BYTES ? "bytes" : "";
}

const char *vt_severity_level_name(int sev)
{
    static const char *const n[] = {"info", "warning", "critical"};
    return sev >= 0 && sev <= 2 ? n[sev] : "unknown";
}

const char *vt_alert_kind_name(int kind)
{
    static const char *const n[VT_ALERT_KINDS] = {"threshold", "anomaly", "trend", "numa"};
    return kind >= 0 && kind < VT_ALERT_KINDS ? n[kind] : "unknown";
}

#define GET(v)                                                                                     \
    do {                                                                                           \
        if (vt_stream_get(d, VT_COL_MISC, &(v)))                                                   \
            goto bad;                                                                              \
    } while (0)

static double unzig_milli(uint64_t v)
{
    return (double)vt_unzigzag(v) / 1000.0;
}

int vt__series_decode(vt_series *s, int tag, vt_stream_dec *d, uint64_t ns)
{
    uint64_t a, b, c, e, f;
    char *name = NULL, *rule = NULL;
    int err = -1;
    switch (tag) {
    case VT_TAG_MONITOR:
        GET(s->interval_ns);
        GET(s->flags);
        GET(s->n_cpus);
        GET(s->mem_total);
        s->present = 1;
        return 0;
    case VT_TAG_METRIC_DEF:
        GET(a);
        GET(b);
        GET(c);
        if ((err = vt_stream_get_str(d, &name)))
            goto out;
        err = a > UINT32_MAX ? -1 : vt_series_define(s, (uint32_t)a, name, (int)b, (int)c);
        if (err == VT_EINVAL)
            err = -1;
        goto out;
    case VT_TAG_METRICS: {
        GET(a);
        if (a > s->n_metrics)
            goto bad;
        uint64_t raw[256];
        uint8_t present[256];
        uint64_t *rp = a <= 256 ? raw : malloc(a * sizeof(*rp));
        uint8_t *pp = a <= 256 ? present : malloc(a);
        err = rp && pp ? 0 : VT_ENOMEM;
        for (uint64_t i = 0; i < a && !err; i++) {
            uint64_t v;
            if (vt_stream_get(d, VT_COL_MISC, &v))
                err = -1;
            else {
                pp[i] = v != 0;
                rp[i] = v ? v - 1 : 0;
            }
        }
        if (!err)
            err = vt_series_add(s, ns, rp, pp, a);
        if (rp != raw)
            free(rp);
        if (pp != present)
            free(pp);
        return err;
    }
    case VT_TAG_ALERT: {
        vt_series_alert al = {.ns = ns};
        GET(a);
        GET(b);
        GET(c);
        GET(e);
        GET(f);
        if (a > 2 || b >= VT_ALERT_KINDS || c >= s->n_metrics)
            goto bad;
        al.severity = (int)a;
        al.kind = (int)b;
        al.metric = (uint32_t)c;
        al.value = unzig_milli(e);
        al.threshold = unzig_milli(f);
        if ((err = vt_stream_get_str(d, &rule)) || (err = vt_stream_get_str(d, &name)))
            goto out;
        al.rule = rule;
        al.message = name;
        err = vt_series_alert_add(s, &al);
        goto out;
    }
    }
bad:
    err = -1;
out:
    free(name);
    free(rule);
    return err;
}
#undef GET

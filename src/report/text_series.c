#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analyze/bottleneck.h"
#include "report/series-int.h"
#include "trace/format.h"
#include "util/fmt.h"

/* A value of metric i as people read it. */
static const char *value(const vt_series *s, size_t i, double v, char *buf, size_t n)
{
    const vt_series_metric *m = &s->metrics[i];
    char b[32];
    if (isnan(v)) {
        snprintf(buf, n, "-");
    } else if (m->kind == VT_METRIC_COUNTER && m->unit == VT_UNIT_NS) {
        snprintf(buf, n, "%.1f%%", v);
    } else if (m->unit == VT_UNIT_BYTES) {
        snprintf(buf, n, "%s%s", vt_fmt_bytes((uint64_t)fmax(v, 0), b, sizeof(b)),
                 m->kind == VT_METRIC_COUNTER ? "/s" : "");
    } else if (m->kind == VT_METRIC_COUNTER) {
        snprintf(buf, n, "%.1f/s", v);
    } else if (m->unit == VT_UNIT_MILLI) {
        snprintf(buf, n, "%.2f", v);
    } else {
        snprintf(buf, n, "%.*f", v == floor(v) ? 0 : 1, v);
    }
    return buf;
}

static const char *total(const vt_series *s, size_t i, char *buf, size_t n)
{
    const vt_series_metric *m = &s->metrics[i];
    uint64_t t = vt_series_total(s, i);
    if (m->kind != VT_METRIC_COUNTER)
        snprintf(buf, n, "%s", "");
    else if (m->unit == VT_UNIT_NS)
        snprintf(buf, n, "%.3f s", (double)t / 1e9);
    else if (m->unit == VT_UNIT_BYTES)
        vt_fmt_bytes(t, buf, n);
    else
        vt_fmt_count(t, buf, n);
    return buf;
}

/* The columns of the time series table: the metrics people look at first. */
static const char *const over_time[] = {
    "cpu",         "rss",     "major_faults", "read_bytes",
    "write_bytes", "threads", "sys.cpu_user", "sys.mem_available"};

int vt__text_series(const vt_model *m, const vt_report_opts *o, FILE *out)
{
    const vt_series *s = &m->series;
    const char *B = o->color ? "\033[1m" : "", *R = o->color ? "\033[0m" : "";
    char b1[48], b2[48], b3[48], b4[48], b5[48];
    fprintf(out, "%svitals report%s for", B, R);
    for (size_t i = 0; i < m->argc && i < 8; i++)
        fprintf(out, " %s", m->argv[i]);
    if (m->argc > 8)
        fprintf(out, " ...");
    fprintf(out, "  (pid %llu, monitored%s)\n", (unsigned long long)m->pid,
            s->flags & VT_MONITOR_SPAWNED ? ", started by vitals monitor" : "");
    fprintf(out, "  trace      %s, %s, %s snapshots every %g ms\n", o->trace_path,
            vt_fmt_bytes(m->trace_bytes, b1, sizeof(b1)),
            vt_fmt_count(s->snapshots, b2, sizeof(b2)), (double)s->interval_ns / 1e6);
    fprintf(out, "  recorded   %.3f s", (double)m->duration_ns / 1e9);
    if (m->has_end && m->end_reason == VT_END_EXIT_STATUS)
        fprintf(out, ", the program exited with status %d", m->end_status);
    else if (m->has_end && m->end_reason == VT_END_SIGNAL)
        fprintf(out, ", the program was killed by signal %d", m->end_status);
    fprintf(out, "; machine: %llu CPUs, %s memory\n", (unsigned long long)s->n_cpus,
            vt_fmt_bytes(s->mem_total, b1, sizeof(b1)));
    if (m->warnings)
        fprintf(out, "  %swarning%s    %s\n", B, R, m->warnings);

    vt_bottleneck bn;
    vt_bottleneck_classify(s, &bn);
    fprintf(out, "\n%sBottleneck%s over %.1f s: %s\n  %s\n", B, R, bn.seconds,
            vt_bottleneck_name(bn.cls), bn.reason);
    vt__text_phases(s, o, out);

    fprintf(out, "\n%sAlerts%s (%zu)\n", B, R, s->n_alerts);
    if (!s->n_alerts)
        fprintf(out, "  none\n");
    size_t shown = s->n_alerts < o->top ? s->n_alerts : o->top;
    for (size_t i = 0; i < shown; i++) {
        const vt_series_alert *a = &s->alerts[i];
        fprintf(out, "  %8.3f s  %-8s %-9s %s  (%s)\n", (double)a->ns / 1e9,
                vt_severity_level_name(a->severity), vt_alert_kind_name(a->kind), a->message,
                a->rule);
    }
    if (shown < s->n_alerts)
        fprintf(out, "  ... %zu more (--top N shows more)\n", s->n_alerts - shown);

    fprintf(out, "\n%sMetrics%s (over every snapshot; counters as rates, their total beside)\n", B,
            R);
    fprintf(out, "  %-20s %12s %12s %12s %12s %14s\n", "metric", "min", "mean", "max", "last",
            "total");
    for (size_t i = 0; i < s->n_metrics; i++) {
        const vt_series_metric *sm = &s->metrics[i];
        if (!sm->n) {
            fprintf(out, "  %-20s %12s\n", sm->name, "not measured");
            continue;
        }
        fprintf(out, "  %-20s %12s %12s %12s %12s %14s\n", sm->name,
                value(s, i, sm->min, b1, sizeof(b1)),
                value(s, i, vt_series_mean(s, i), b2, sizeof(b2)),
                value(s, i, sm->max, b3, sizeof(b3)), value(s, i, sm->last, b4, sizeof(b4)),
                total(s, i, b5, sizeof(b5)));
    }

    /* Over time: at most 20 rows, each the kept point nearest its moment. */
    int cols[sizeof(over_time) / sizeof(over_time[0])];
    size_t nc = 0;
    for (size_t k = 0; k < sizeof(over_time) / sizeof(over_time[0]); k++) {
        int c = vt_series_find(s, over_time[k]);
        if (c >= 0 && s->metrics[c].n)
            cols[nc++] = c;
    }
    if (s->n_points && nc) {
        fprintf(out, "\n%sOver time%s (%zu of %zu points%s)\n", B, R,
                s->n_points < 20 ? s->n_points : 20, s->n_points,
                s->stride > 1 ? ", each point one snapshot of several" : "");
        fprintf(out, "  %9s", "time");
        for (size_t k = 0; k < nc; k++) {
            const vt_series_metric *sm = &s->metrics[cols[k]];
            char h[40];
            snprintf(h, sizeof(h), "%s%s", sm->name,
                     sm->kind == VT_METRIC_COUNTER && sm->unit != VT_UNIT_NS ? "/s" : "");
            fprintf(out, " %12.12s", h);
        }
        fputc('\n', out);
        size_t rows = s->n_points < 20 ? s->n_points : 20;
        for (size_t r = 0; r < rows; r++) {
            size_t p = rows > 1 ? r * (s->n_points - 1) / (rows - 1) : 0;
            uint64_t t = s->t[p] > s->first_ns ? s->t[p] - s->first_ns : 0;
            fprintf(out, "  %7.2f s", (double)(s->t[p]) / 1e9);
            (void)t;
            for (size_t k = 0; k < nc; k++)
                fprintf(out, " %12s",
                        value(s, (size_t)cols[k], s->metrics[cols[k]].points[p], b1, sizeof(b1)));
            fputc('\n', out);
        }
    }
    return ferror(out) ? -1 : 0;
}

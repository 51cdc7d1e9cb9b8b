#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "analyze/bottleneck.h"
#include "report/json-int.h"
#include "report/series-int.h"
#include "util/json.h"
#include "trace/format.h"

/* A JSON number (6 significant digits), or null. */
static void num(FILE *out, double v)
{
    vt_json_num_digits(out, v, 6);
}

void vt__json_bottleneck_evidence(FILE *out, const vt_bottleneck *b)
{
    static const struct {
        const char *key;
        size_t off;
    } fields[] = {
        {"cpu_pct", offsetof(vt_bottleneck, cpu_pct)},
        {"blkio_pct", offsetof(vt_bottleneck, blkio_pct)},
        {"disk_state_pct", offsetof(vt_bottleneck, disk_state_pct)},
        {"running_pct", offsetof(vt_bottleneck, running_pct)},
        {"major_faults_per_s", offsetof(vt_bottleneck, major_faults_s)},
        {"psi_memory_pct", offsetof(vt_bottleneck, psi_memory_pct)},
        {"psi_io_pct", offsetof(vt_bottleneck, psi_io_pct)},
        {"steal_pct", offsetof(vt_bottleneck, steal_pct)},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        fprintf(out, ",\"%s\":", fields[i].key);
        num(out, *(const double *)((const char *)b + fields[i].off));
    }
    fputs(",\"reason\":", out);
    vt__json_str(out, b->reason);
}

void vt__json_series(FILE *out, const vt_model *m, const vt_report_opts *o)
{
    const vt_series *s = &m->series;
    (void)o;
    if (!s->present) {
        fputs(",\"monitor\":null", out);
        return;
    }
    fprintf(out,
            ",\"monitor\":{\"interval_ns\":%llu,\"spawned\":%s,\"cpus\":%llu,\"mem_total\":%llu,"
            "\"snapshots\":%llu,\"first_ns\":%llu,\"last_ns\":%llu,\"points_stride\":%llu,",
            (unsigned long long)s->interval_ns, s->flags & VT_MONITOR_SPAWNED ? "true" : "false",
            (unsigned long long)s->n_cpus, (unsigned long long)s->mem_total,
            (unsigned long long)s->snapshots, (unsigned long long)s->first_ns,
            (unsigned long long)s->last_ns, (unsigned long long)s->stride);
    vt_bottleneck b;
    vt_bottleneck_classify(s, &b);
    fprintf(out, "\"bottleneck\":{\"class\":");
    vt__json_str(out, vt_bottleneck_name(b.cls));
    fprintf(out, ",\"seconds\":");
    num(out, b.seconds);
    vt__json_bottleneck_evidence(out, &b);
    fputs("},\"phases\":", out);
    vt__json_phases(out, s, o);
    fputs(",\"metrics\":[", out);
    for (size_t i = 0; i < s->n_metrics; i++) {
        const vt_series_metric *sm = &s->metrics[i];
        fputs(i ? "," : "", out);
        fputs("{\"name\":", out);
        vt__json_str(out, sm->name);
        fprintf(out, ",\"kind\":\"%s\",\"raw_unit\":%d,\"unit\":",
                sm->kind == VT_METRIC_COUNTER ? "counter" : "gauge", sm->unit);
        vt__json_str(out, vt_series_value_unit(s, i));
        fprintf(out, ",\"measured\":%llu,\"min\":", (unsigned long long)sm->n);
        num(out, sm->n ? sm->min : NAN);
        fputs(",\"mean\":", out);
        num(out, vt_series_mean(s, i));
        fputs(",\"max\":", out);
        num(out, sm->n ? sm->max : NAN);
        fputs(",\"last\":", out);
        num(out, sm->n ? sm->last : NAN);
        fputs(",\"total\":", out);
        if (sm->kind == VT_METRIC_COUNTER && sm->has_raw)
            fprintf(out, "%llu", (unsigned long long)vt_series_total(s, i));
        else
            fputs("null", out);
        fputs(",\"points\":[", out);
        for (size_t p = 0; p < s->n_points; p++) {
            fputs(p ? "," : "", out);
            num(out, sm->points[p]);
        }
        fputs("]}", out);
    }
    fputs("],\"times_ns\":[", out);
    for (size_t p = 0; p < s->n_points; p++)
        fprintf(out, "%s%llu", p ? "," : "", (unsigned long long)s->t[p]);
    fputs("],\"alerts\":[", out);
    for (size_t i = 0; i < s->n_alerts; i++) {
        const vt_series_alert *a = &s->alerts[i];
        fprintf(out, "%s{\"ns\":%llu,\"severity\":\"%s\",\"kind\":\"%s\",\"metric\":", i ? "," : "",
                (unsigned long long)a->ns, vt_severity_level_name(a->severity),
                vt_alert_kind_name(a->kind));
        vt__json_str(out, s->metrics[a->metric].name);
        fputs(",\"value\":", out);
        num(out, a->value);
        fputs(",\"threshold\":", out);
        num(out, a->threshold);
        fputs(",\"rule\":", out);
        vt__json_str(out, a->rule);
        fputs(",\"message\":", out);
        vt__json_str(out, a->message);
        fputc('}', out);
    }
    fputs("]}", out);
}

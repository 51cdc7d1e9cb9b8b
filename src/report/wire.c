/* Zones, tasks and the CPU profile in the csv, folded and openmetrics formats. Every figure is
 * the model's (zones.h, cpu.h) or the CPU profile's (vt_cpu_profile_new), as the text and JSON
 * reports show them; docs/FORMATS.md lists the columns and families. */
#include <stdlib.h>
#include <string.h>

#include "analyze/cpu.h"
#include "analyze/zones.h"
#include "report/frames.h"
#include "report/wire-int.h"
#include "util/error.h"

/* A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
static void field(FILE *out, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0;
}

void vt__csv_zones(const vt_model *m, FILE *out)
{
    const vt_zones *z = &m->zones;
    fputs("zone,file,line,calls,errors,total_ns,min_ns,max_ns,mean_ns,stddev_ns,p50_ns,p90_ns,"
          "p95_ns,p99_ns,p999_ns,alloc_calls,alloc_bytes\r\n",
          out);
    for (size_t i = 0; i < z->n_zones; i++) {
        const vt_zone_stats *s = &z->zones[i];
        const vt_location *l = &z->locs[s->loc];
        field(out, l->name);
        fputc(',', out);
        field(out, l->file);
        fputc(',', out);
        if (l->line)
            fprintf(out, "%u", l->line);
        fprintf(out, ",%llu,%llu,%.0f,%.0f,%.0f,%.1f,%.1f,%.0f,%.0f,%.0f,%.0f,%.0f,",
                (unsigned long long)s->calls, (unsigned long long)s->errors, s->total_ns, s->min_ns,
                s->max_ns, s->mean_ns, s->stddev_ns, s->p50_ns, s->p90_ns, s->p95_ns, s->p99_ns,
                s->p999_ns);
        /* recorded without allocation hooks: unknown, left empty */
        if (!z->zones_only)
            fprintf(out, "%llu,%llu", (unsigned long long)s->alloc_calls,
                    (unsigned long long)s->alloc_bytes);
        else
            fputc(',', out);
        fputs("\r\n", out);
    }
}

void vt__csv_tasks(const vt_model *m, FILE *out)
{
    const vt_zones *z = &m->zones;
    fputs("kind,tasks,class,median_wall_ns,median_cpu_ns,median_alloc_bytes,median_alloc_calls,"
          "median_io_bytes,median_vcsw,median_ivcsw,median_run_delay_ns,efficiency,demand,"
          "total_wall_ns,total_cpu_ns,total_run_delay_ns\r\n",
          out);
    for (size_t i = 0; i < z->n_kinds; i++) {
        const vt_task_kind *k = &z->kinds[i];
        field(out, vt_zones_name(z, k->kind));
        fprintf(out,
                ",%llu,%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.4f,%.4f,%llu,%llu,%llu\r\n",
                (unsigned long long)k->tasks, vt_task_class_key(k->cls),
                (unsigned long long)k->wall_ns, (unsigned long long)k->cpu_ns,
                (unsigned long long)k->alloc_bytes, (unsigned long long)k->alloc_calls,
                (unsigned long long)k->io_bytes, (unsigned long long)k->vcsw,
                (unsigned long long)k->ivcsw, (unsigned long long)k->run_delay_ns, k->efficiency,
                k->demand, (unsigned long long)k->total_wall_ns,
                (unsigned long long)k->total_cpu_ns, (unsigned long long)k->total_run_delay_ns);
    }
}

int vt__csv_cpu(const vt_model *m, vt_symbols *syms, FILE *out)
{
    fputs("function,module,file,line,self_ns,self_pct,total_ns,total_pct,off_cpu_ns\r\n", out);
    if (!m->cpu)
        return 0;
    vt_cpu_profile *p = vt_cpu_profile_new(m, syms, -1);
    if (!p)
        return VT_ENOMEM;
    size_t n;
    const vt_cpu_fn *fns = vt_cpu_profile_fns(p, &n);
    uint64_t whole = vt_cpu_profile_ns(p);
    for (size_t i = 0; i < n; i++) {
        const vt_cpu_fn *f = &fns[i];
        field(out, f->name);
        fputc(',', out);
        field(out, f->module);
        fputc(',', out);
        field(out, f->file);
        fputc(',', out);
        if (f->line > 0)
            fprintf(out, "%d", f->line);
        fprintf(out, ",%llu,%.2f,%llu,%.2f,%llu\r\n", (unsigned long long)f->self_ns,
                pct(f->self_ns, whole), (unsigned long long)f->total_ns, pct(f->total_ns, whole),
                (unsigned long long)f->off_ns);
    }
    vt_cpu_profile_free(p);
    return 0;
}

/* A frame's name with the characters that would split a folded line changed. */
static void folded_name(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc(*s == ';' ? ':' : *s == '\n' || *s == '\r' ? ' ' : *s, out);
}

int vt__folded_cpu(const vt_model *m, vt_symbols *syms, FILE *out)
{
    const vt_cpu *cpu = m->cpu;
    if (!cpu || !cpu->n_aggs)
        return 0;
    /* The samples of each stack, summed over threads; the last slot: samples with no stack. */
    uint64_t *per = calloc(m->n_stacks + 1, sizeof(*per));
    if (!per)
        return VT_ENOMEM;
    for (size_t i = 0; i < cpu->n_aggs; i++) {
        const vt_cpu_agg *a = &cpu->aggs[i];
        per[a->stack < m->n_stacks ? a->stack : m->n_stacks] += a->on_samples;
    }
    vt_frames fr;
    char buf[128];
    int rc = 0;
    vt__frames_init(&fr);
    for (size_t i = 0; i < m->n_stacks && !rc; i++) {
        if (!per[i])
            continue;
        if (vt__frames_of(&fr, syms, &m->stacks[i])) {
            rc = -1;
            break;
        }
        if (!fr.n)
            fputs("[unknown]", out);
        for (size_t k = fr.n; k-- > 0;) {
            folded_name(out, vt__frame_name(&fr.f[k], fr.addr[k], buf, sizeof(buf)));
            if (k)
                fputc(';', out);
        }
        fprintf(out, " %llu\n", (unsigned long long)per[i]);
    }
    if (!rc && per[m->n_stacks])
        fprintf(out, "[unknown] %llu\n", (unsigned long long)per[m->n_stacks]);
    vt__frames_release(&fr);
    free(per);
    return rc;
}

/* ---- OpenMetrics ---- */

static void family(FILE *out, const char *name, const char *type, const char *unit,
                   const char *help)
{
    fprintf(out, "# TYPE %s %s\n", name, type);
    if (unit)
        fprintf(out, "# UNIT %s %s\n", name, unit);
    fprintf(out, "# HELP %s %s\n", name, help);
}

/* A label value: backslash, quote and line feed escaped. */
static void label(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', out);
        if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

/* name{zone="...",file="...",line="..."  (the closing brace is the caller's) */
static void zone_labels(FILE *out, const char *name, const vt_location *l)
{
    fprintf(out, "%s{zone=", name);
    label(out, l->name);
    fputs(",file=", out);
    label(out, l->file);
    fprintf(out, ",line=\"%u\"", l->line);
}

static void zones_metrics(const vt_model *m, FILE *out)
{
    static const char *const q[] = {"0.5", "0.9", "0.95", "0.99", "0.999"};
    const vt_zones *z = &m->zones;
    if (!z->n_zones)
        return;
    family(out, "vitals_zone_calls_total", "counter", NULL, "Calls of each zone that ended.");
    for (size_t i = 0; i < z->n_zones; i++) {
        zone_labels(out, "vitals_zone_calls_total", &z->locs[z->zones[i].loc]);
        fprintf(out, "} %llu\n", (unsigned long long)z->zones[i].calls);
    }
    family(out, "vitals_zone_errors_total", "counter", NULL, "Calls of each zone ended as errors.");
    for (size_t i = 0; i < z->n_zones; i++) {
        zone_labels(out, "vitals_zone_errors_total", &z->locs[z->zones[i].loc]);
        fprintf(out, "} %llu\n", (unsigned long long)z->zones[i].errors);
    }
    family(out, "vitals_zone_duration_seconds", "summary", "seconds",
           "Durations of each zone's calls: quantiles, sum and count.");
    for (size_t i = 0; i < z->n_zones; i++) {
        const vt_zone_stats *s = &z->zones[i];
        const vt_location *l = &z->locs[s->loc];
        double v[] = {s->p50_ns, s->p90_ns, s->p95_ns, s->p99_ns, s->p999_ns};
        for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
            zone_labels(out, "vitals_zone_duration_seconds", l);
            fprintf(out, ",quantile=\"%s\"} %.9f\n", q[k], v[k] / 1e9);
        }
        zone_labels(out, "vitals_zone_duration_seconds_sum", l);
        fprintf(out, "} %.9f\n", s->total_ns / 1e9);
        zone_labels(out, "vitals_zone_duration_seconds_count", l);
        fprintf(out, "} %llu\n", (unsigned long long)s->calls);
    }
    if (z->zones_only)
        return;
    family(out, "vitals_zone_allocated_bytes_total", "counter", NULL,
           "Bytes allocated on a zone's thread while it was the innermost zone.");
    for (size_t i = 0; i < z->n_zones; i++) {
        zone_labels(out, "vitals_zone_allocated_bytes_total", &z->locs[z->zones[i].loc]);
        fprintf(out, "} %llu\n", (unsigned long long)z->zones[i].alloc_bytes);
    }
}

static void tasks_metrics(const vt_model *m, FILE *out)
{
    const vt_zones *z = &m->zones;
    if (!z->n_kinds)
        return;
    family(out, "vitals_tasks_total", "counter", NULL,
           "Tasks that ended, by kind, with the kind's class (docs/REPORT.md).");
    for (size_t i = 0; i < z->n_kinds; i++) {
        fputs("vitals_tasks_total{kind=", out);
        label(out, vt_zones_name(z, z->kinds[i].kind));
        fprintf(out, ",class=\"%s\"} %llu\n", vt_task_class_key(z->kinds[i].cls),
                (unsigned long long)z->kinds[i].tasks);
    }
    family(out, "vitals_task_wall_seconds_total", "counter", NULL,
           "Wall time of the tasks of each kind, summed.");
    for (size_t i = 0; i < z->n_kinds; i++) {
        fputs("vitals_task_wall_seconds_total{kind=", out);
        label(out, vt_zones_name(z, z->kinds[i].kind));
        fprintf(out, "} %.9f\n", (double)z->kinds[i].total_wall_ns / 1e9);
    }
    family(out, "vitals_task_cpu_seconds_total", "counter", NULL,
           "CPU time (user and system) of the tasks of each kind, summed.");
    for (size_t i = 0; i < z->n_kinds; i++) {
        fputs("vitals_task_cpu_seconds_total{kind=", out);
        label(out, vt_zones_name(z, z->kinds[i].kind));
        fprintf(out, "} %.9f\n", (double)z->kinds[i].total_cpu_ns / 1e9);
    }
}

static void cpu_metrics(const vt_model *m, FILE *out)
{
    const vt_cpu *cpu = m->cpu;
    if (!cpu)
        return;
    family(out, "vitals_cpu_samples_total", "counter", NULL,
           "On-CPU samples the profiler recorded, over all threads.");
    fprintf(out, "vitals_cpu_samples_total %llu\n", (unsigned long long)cpu->samples);
    family(out, "vitals_cpu_sampled_seconds_total", "counter", NULL,
           "The CPU time the samples stand for, over all threads.");
    fprintf(out, "vitals_cpu_sampled_seconds_total %.9f\n", (double)cpu->on_ns / 1e9);
    family(out, "vitals_cpu_lost_samples_total", "counter", NULL,
           "Samples the kernel or the agent could not record.");
    fprintf(out, "vitals_cpu_lost_samples_total %llu\n", (unsigned long long)cpu->lost);
    uint64_t measured = 0;
    int any = 0;
    for (size_t i = 0; i < cpu->n_threads; i++)
        if (cpu->threads[i].has_record) {
            measured += cpu->threads[i].cpu_ns;
            any = 1;
        }
    if (any) {
        family(out, "vitals_cpu_seconds_total", "counter", NULL,
               "CPU time of the sampled threads as their clocks measured it, summed.");
        fprintf(out, "vitals_cpu_seconds_total %.9f\n", (double)measured / 1e9);
    }
}

void vt__openmetrics_wire(const vt_model *m, FILE *out)
{
    zones_metrics(m, out);
    tasks_metrics(m, out);
    cpu_metrics(m, out);
}

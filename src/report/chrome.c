/* The Chrome trace event format (JSON object form), which chrome://tracing and Perfetto's UI
 * load: process and thread names, a slice per thread for its life, the heap in use and the
 * resident size as counter tracks, and instant events for the heap peak and the end of the
 * leak check; tasks as slices on their threads; zones, counters and gauges as counter tracks
 * of their windows; each sampled thread's CPU samples and CPU use; a monitor trace's metrics as
 * counter tracks and its alerts as instant events. docs/FORMATS.md.
 *
 * The file is written section by section (the table in vt_render_chrome), each from the
 * model's data for it, without touching the other sections. */
#include <math.h>
#include <string.h>

#include "analyze/cpu.h"
#include "analyze/series.h"
#include "analyze/zones.h"

#include "report/frames.h"
#include "report/report.h"
#include "util/json.h"

struct ctx {
    const vt_model *m;
    FILE *out;
    int n_events;
    int heap_points;
    uint64_t heap_last; /* the last value of the heap counter */
};

/* Starts an event of phase ph at ns (since the start of the trace) on thread tid. */
static void event(struct ctx *c, const char *ph, const char *name, uint64_t ns, uint64_t tid)
{
    fprintf(c->out, "%s\n{\"ph\":\"%s\",\"name\":", c->n_events++ ? "," : "", ph);
    vt_json_str(c->out, name ? name : "");
    fprintf(c->out, ",\"pid\":%llu,\"tid\":%llu,\"ts\":%llu.%03llu", (unsigned long long)c->m->pid,
            (unsigned long long)tid, (unsigned long long)(ns / 1000),
            (unsigned long long)(ns % 1000));
}

static uint64_t main_tid(const vt_model *m)
{
    return m->n_threads ? m->threads[0].tid : m->pid;
}

/* The name (comm) the CPU profiler recorded for thread tid, or NULL. */
static const char *cpu_thread_name(const vt_model *m, uint32_t tid)
{
    for (size_t i = 0; m->cpu && i < m->cpu->n_threads; i++)
        if (m->cpu->threads[i].tid == tid && m->cpu->threads[i].name && *m->cpu->threads[i].name)
            return m->cpu->threads[i].name;
    return NULL;
}

static void metadata(struct ctx *c)
{
    const vt_model *m = c->m;
    event(c, "M", "process_name", 0, main_tid(m));
    fputs(",\"args\":{\"name\":", c->out);
    vt_json_str(c->out, m->exe ? vt__base_name(m->exe) : "process");
    fputs("}}", c->out);
    for (size_t i = 0; i < m->n_threads; i++) {
        const vt_thread_stats *t = &m->threads[i];
        char name[64];
        /* a name the program gave the thread (not the one it inherited from main) */
        const char *comm = cpu_thread_name(m, t->tid), *main_comm = cpu_thread_name(m, main_tid(m));
        if (comm && i && (!main_comm || strcmp(comm, main_comm)))
            snprintf(name, sizeof(name), "%s (%u)", comm, t->tid);
        else if (i == 0)
            snprintf(name, sizeof(name), "main (%u)", t->tid);
        else
            snprintf(name, sizeof(name), "thread %zu (%u)", i, t->tid);
        event(c, "M", "thread_name", 0, t->tid);
        fputs(",\"args\":{\"name\":", c->out);
        vt_json_str(c->out, name);
        fputs("}}", c->out);
        event(c, "M", "thread_sort_index", 0, t->tid);
        fprintf(c->out, ",\"args\":{\"sort_index\":%zu}}", i);
    }
}

/* A slice per thread from its first to its last record, with what it allocated. Zone slices
 * nest inside these. */
static void threads(struct ctx *c)
{
    const vt_model *m = c->m;
    for (size_t i = 0; i < m->n_threads; i++) {
        const vt_thread_stats *t = &m->threads[i];
        uint64_t dur = t->last_ns > t->first_ns ? t->last_ns - t->first_ns : 0;
        event(c, "X", i ? "thread" : "main thread", t->first_ns, t->tid);
        fprintf(c->out,
                ",\"dur\":%llu.%03llu,\"cat\":\"thread\",\"args\":{\"alloc_calls\":%llu,"
                "\"alloc_bytes\":%llu,\"frees\":%llu}}",
                (unsigned long long)(dur / 1000), (unsigned long long)(dur % 1000),
                (unsigned long long)t->alloc_calls, (unsigned long long)t->alloc_bytes,
                (unsigned long long)t->frees);
    }
}

/* A counter holds its value until the next point: a point with the same value is left out. */
static void heap_point(struct ctx *c, uint64_t ns, uint64_t bytes)
{
    if (c->heap_points++ && bytes == c->heap_last)
        return;
    c->heap_last = bytes;
    event(c, "C", "heap in use", ns, main_tid(c->m));
    fprintf(c->out, ",\"args\":{\"bytes\":%llu}}", (unsigned long long)bytes);
}

/* The heap in use at the end of each timeline bucket, and at the moment of the peak. */
static void heap(struct ctx *c)
{
    const vt_model *m = c->m;
    const vt_timeline *tl = &m->timeline;
    int peak_done = 0;
    heap_point(c, 0, 0);
    for (size_t i = 0; i < tl->n_buckets; i++) {
        const vt_heap_bucket *b = &tl->buckets[i];
        if (!peak_done && m->peak_ns <= b->end_ns) {
            heap_point(c, m->peak_ns, m->peak_bytes);
            peak_done = 1;
        }
        heap_point(c, b->end_ns, b->end_bytes);
    }
    if (!peak_done)
        heap_point(c, m->peak_ns, m->peak_bytes);
}

/* The resident size of each memory sample (the greatest, where the series merged several). */
static void rss(struct ctx *c)
{
    const vt_model *m = c->m;
    for (size_t i = 0; i < m->n_mem; i++) {
        event(c, "C", "RSS", m->mem[i].ns, main_tid(m));
        fprintf(c->out, ",\"args\":{\"bytes\":%llu}}",
                (unsigned long long)m->mem[i].max[VT_MEM_RSS]);
    }
}

static void instants(struct ctx *c)
{
    const vt_model *m = c->m;
    event(c, "i", "heap peak", m->peak_ns, main_tid(m));
    fprintf(c->out, ",\"s\":\"g\",\"args\":{\"bytes\":%llu,\"blocks\":%llu}}",
            (unsigned long long)m->peak_bytes, (unsigned long long)m->peak_blocks);
    event(c, "i", "trace end", m->duration_ns, main_tid(m));
    fputs(",\"s\":\"g\",\"args\":{\"end\":", c->out);
    vt_json_str(c->out, vt_end_name(m));
    fprintf(c->out, ",\"leaked_bytes\":%llu,\"leaked_blocks\":%llu}}",
            (unsigned long long)m->live_bytes, (unsigned long long)m->live_blocks);
    if (!m->scan.present)
        return;
    /* The check runs after the trace's last moment; the trace has its length, not its
     * start, so it is placed right after the end. */
    event(c, "X", "leak check", m->duration_ns, main_tid(m));
    fprintf(c->out, ",\"dur\":%llu.%03llu,\"cat\":\"leak check\"}",
            (unsigned long long)(m->scan.ns / 1000), (unsigned long long)(m->scan.ns % 1000));
    event(c, "i", "leak check end", m->duration_ns + m->scan.ns, main_tid(m));
    fputs(",\"s\":\"g\",\"args\":{\"status\":", c->out);
    vt_json_str(c->out, vt_leak_check_status(m));
    if (m->scan.status == VT_SCAN_DONE)
        for (int i = 0; i < VT_LEAK_CLASSES; i++) {
            int k = vt_leak_class_order[i];
            fprintf(c->out, ",\"%s_bytes\":%llu,\"%s_blocks\":%llu", vt_leak_class_key(k),
                    (unsigned long long)m->leak_bytes[k], vt_leak_class_key(k),
                    (unsigned long long)m->leak_blocks[k]);
        }
    fputs("}}", c->out);
}

/* ---- libvitals' records, the CPU profile and the monitor's series ---- */

static void dur_field(FILE *out, uint64_t ns)
{
    fprintf(out, ",\"dur\":%llu.%03llu", (unsigned long long)(ns / 1000),
            (unsigned long long)(ns % 1000));
}

/* The tid of the model's thread index t (the process's main thread when out of range). */
static uint64_t tid_of(const vt_model *m, uint32_t t)
{
    return t < m->n_threads ? m->threads[t].tid : main_tid(m);
}

/* Each task kept by the model as a complete slice on its thread, with its resource use. */
static void tasks(struct ctx *c)
{
    const vt_zones *z = &c->m->zones;
    for (size_t i = 0; i < z->n_tasks; i++) {
        const vt_task *t = &z->tasks[i];
        event(c, "X", vt_zones_name(z, t->name), t->start_ns, tid_of(c->m, t->thread));
        dur_field(c->out, t->wall_ns);
        fputs(",\"cat\":\"task\",\"args\":{\"kind\":", c->out);
        vt_json_str(c->out, vt_zones_name(z, t->kind));
        fprintf(c->out,
                ",\"wall_ns\":%llu,\"user_ns\":%llu,\"sys_ns\":%llu,\"alloc_calls\":%llu,"
                "\"alloc_bytes\":%llu}}",
                (unsigned long long)t->wall_ns, (unsigned long long)t->user_ns,
                (unsigned long long)t->sys_ns, (unsigned long long)t->alloc_calls,
                (unsigned long long)t->alloc_bytes);
    }
}

/* Each zone call the model kept as a complete slice on its thread (slices nest by time), and
 * each zone's windows as a counter track ("zone NAME"): at each window's start, the calls
 * that ended in it and their mean duration. */
static void zones(struct ctx *c)
{
    const vt_zones *z = &c->m->zones;
    char name[160];
    for (size_t i = 0; i < z->n_spans; i++) {
        const vt_zone_span *sp = &z->spans[i];
        event(c, "X", vt_zones_name(z, sp->loc), sp->start_ns, tid_of(c->m, sp->thread));
        dur_field(c->out, sp->dur_ns);
        fputs(",\"cat\":\"zone\"}", c->out);
    }
    if (z->spans_not_kept) {
        event(c, "i", "zone calls not drawn", c->m->duration_ns, main_tid(c->m));
        fprintf(c->out, ",\"s\":\"g\",\"args\":{\"calls\":%llu}}",
                (unsigned long long)z->spans_not_kept);
    }
    for (size_t i = 0; i < z->n_zones; i++) {
        const vt_zone_stats *s = &z->zones[i];
        snprintf(name, sizeof(name), "zone %s", vt_zones_name(z, s->loc));
        for (size_t w = 0; w < s->n_windows; w++) {
            const vt_window *win = &s->windows[w];
            event(c, "C", name, win->start_ns, main_tid(c->m));
            fprintf(c->out, ",\"args\":{\"calls\":%llu,\"mean_ns\":%.0f}}",
                    (unsigned long long)win->n, win->n ? win->sum / (double)win->n : 0.0);
        }
    }
}

/* Counters (their total at each window's end) and gauges (their last value in each window) as
 * counter tracks "counter NAME" and "gauge NAME". */
static void counters(struct ctx *c)
{
    const vt_zones *z = &c->m->zones;
    char name[160];
    for (size_t i = 0; i < z->n_counters; i++) {
        const vt_counter_stats *s = &z->counters[i];
        snprintf(name, sizeof(name), "%s %s", s->gauge ? "gauge" : "counter",
                 vt_zones_name(z, s->loc));
        for (size_t w = 0; w < s->n_windows; w++) {
            if (!s->windows[w].n)
                continue;
            event(c, "C", name, s->windows[w].start_ns, main_tid(c->m));
            fprintf(c->out, ",\"args\":{\"value\":%.17g}}", s->windows[w].last);
        }
    }
}

/* Per sampled thread: its name (when the trace has no other record of it), a "CPU samples"
 * slice over its life with its samples and CPU time, and a counter track of its mean CPU use
 * over that life (its CPU time over its wall time, % of one core: the profile has totals per
 * thread, not per interval). */
static void cpu(struct ctx *c)
{
    const vt_model *m = c->m;
    const vt_cpu *cpu = m->cpu;
    char name[96];
    if (!cpu)
        return;
    for (size_t i = 0; i < cpu->n_threads; i++) {
        const vt_cpu_thread *t = &cpu->threads[i];
        int known = 0;
        for (size_t k = 0; k < m->n_threads && !known; k++)
            known = m->threads[k].tid == t->tid;
        if (!known) {
            const char *main_comm = cpu_thread_name(m, main_tid(m));
            int own = t->name && *t->name && (!main_comm || strcmp(t->name, main_comm));
            snprintf(name, sizeof(name), "%s (%u)", own ? t->name : "thread", t->tid);
            event(c, "M", "thread_name", 0, t->tid);
            fputs(",\"args\":{\"name\":", c->out);
            vt_json_str(c->out, name);
            fputs("}}", c->out);
        }
        uint64_t life = t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;
        event(c, "X", "CPU samples", t->start_ns, t->tid);
        dur_field(c->out, life);
        fprintf(c->out,
                ",\"cat\":\"cpu\",\"args\":{\"samples\":%llu,\"sampled_ns\":%llu,\"cpu_ns\":%llu,"
                "\"lost\":%llu,\"off_cpu_ns\":%llu}}",
                (unsigned long long)t->samples, (unsigned long long)t->on_ns,
                (unsigned long long)t->cpu_ns, (unsigned long long)t->lost,
                (unsigned long long)t->off_ns);
        if (!life)
            continue;
        snprintf(name, sizeof(name), "CPU %% tid %u", t->tid);
        event(c, "C", name, t->start_ns, t->tid);
        fprintf(c->out, ",\"args\":{\"pct\":%.2f}}", 100.0 * (double)t->cpu_ns / (double)life);
        event(c, "C", name, t->end_ns, t->tid);
        fputs(",\"args\":{\"pct\":0}}", c->out);
    }
}

/* The monitor's metrics as counter tracks "monitor NAME" (its kept points; none where a point
 * was not measured), and its alerts as global instant events. */
static void series(struct ctx *c)
{
    const vt_series *s = &c->m->series;
    char name[160];
    if (!s->present)
        return;
    for (size_t i = 0; i < s->n_metrics; i++) {
        const vt_series_metric *mt = &s->metrics[i];
        snprintf(name, sizeof(name), "monitor %s", mt->name);
        for (size_t p = 0; mt->points && p < s->n_points; p++) {
            if (isnan(mt->points[p]))
                continue;
            event(c, "C", name, s->t[p], main_tid(c->m));
            fprintf(c->out, ",\"args\":{\"value\":%.17g}}", mt->points[p]);
        }
    }
    for (size_t i = 0; i < s->n_alerts; i++) {
        const vt_series_alert *a = &s->alerts[i];
        event(c, "i", a->rule ? a->rule : vt_alert_kind_name(a->kind), a->ns, main_tid(c->m));
        fputs(",\"s\":\"g\",\"cat\":\"alert\",\"args\":{\"severity\":", c->out);
        vt_json_str(c->out, vt_severity_level_name(a->severity));
        fputs(",\"kind\":", c->out);
        vt_json_str(c->out, vt_alert_kind_name(a->kind));
        fputs(",\"metric\":", c->out);
        vt_json_str(c->out, a->metric < s->n_metrics ? s->metrics[a->metric].name : NULL);
        fprintf(c->out, ",\"value\":%.17g,\"threshold\":%.17g,\"message\":",
                isfinite(a->value) ? a->value : 0.0, isfinite(a->threshold) ? a->threshold : 0.0);
        vt_json_str(c->out, a->message);
        fputs("}}", c->out);
    }
}

int vt_render_chrome(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out)
{
    static void (*const sections[])(struct ctx *) = {metadata, threads, heap,     rss, instants,
                                                     tasks,    zones,   counters, cpu, series};
    struct ctx c = {.m = m, .out = out};
    (void)syms;
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"vitals\",\"trace\":", out);
    vt_json_str(out, o->trace_path);
    fprintf(out, ",\"pid\":%llu,\"dropped_events\":%llu},\"traceEvents\":[",
            (unsigned long long)m->pid, (unsigned long long)m->dropped);
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        sections[i](&c);
    fputs("\n]}\n", out);
    return ferror(out) ? -1 : 0;
}

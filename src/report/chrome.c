/* The Chrome trace event format (JSON object form), which chrome://tracing and Perfetto's UI
 * load: process and thread names, a slice per thread for its life, the heap in use and the
 * resident size as counter tracks, and instant events for the heap peak and the end of the
 * leak check. docs/FORMATS.md.
 *
 * The file is written section by section (the table in vt_render_chrome): zone slices go in
 * the threads section, per thread, and CPU samples become a section of their own (counter
 * tracks, or "P" sample events), each from the model's data for them, without touching the
 * other sections. */
#include <string.h>

#include "report/frames.h"
#include "report/report.h"

struct ctx {
    const vt_model *m;
    FILE *out;
    int n_events;
    int heap_points;
    uint64_t heap_last; /* the last value of the heap counter */
};

static void jstr(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Starts an event of phase ph at ns (since the start of the trace) on thread tid. */
static void event(struct ctx *c, const char *ph, const char *name, uint64_t ns, uint64_t tid)
{
    fprintf(c->out, "%s\n{\"ph\":\"%s\",\"name\":", c->n_events++ ? "," : "", ph);
    jstr(c->out, name);
    fprintf(c->out, ",\"pid\":%llu,\"tid\":%llu,\"ts\":%llu.%03llu", (unsigned long long)c->m->pid,
            (unsigned long long)tid, (unsigned long long)(ns / 1000),
            (unsigned long long)(ns % 1000));
}

static uint64_t main_tid(const vt_model *m)
{
    return m->n_threads ? m->threads[0].tid : m->pid;
}

static void metadata(struct ctx *c)
{
    const vt_model *m = c->m;
    event(c, "M", "process_name", 0, main_tid(m));
    fputs(",\"args\":{\"name\":", c->out);
    jstr(c->out, m->exe ? vt__base_name(m->exe) : "process");
    fputs("}}", c->out);
    for (size_t i = 0; i < m->n_threads; i++) {
        const vt_thread_stats *t = &m->threads[i];
        char name[64];
        if (i == 0)
            snprintf(name, sizeof(name), "main (%u)", t->tid);
        else
            snprintf(name, sizeof(name), "thread %zu (%u)", i, t->tid);
        event(c, "M", "thread_name", 0, t->tid);
        fputs(",\"args\":{\"name\":", c->out);
        jstr(c->out, name);
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
    jstr(c->out, vt_end_name(m));
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
    jstr(c->out, vt_leak_check_status(m));
    if (m->scan.status == VT_SCAN_DONE)
        for (int i = 0; i < VT_LEAK_CLASSES; i++) {
            int k = vt_leak_class_order[i];
            fprintf(c->out, ",\"%s_bytes\":%llu,\"%s_blocks\":%llu", vt_leak_class_key(k),
                    (unsigned long long)m->leak_bytes[k], vt_leak_class_key(k),
                    (unsigned long long)m->leak_blocks[k]);
        }
    fputs("}}", c->out);
}

int vt_render_chrome(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out)
{
    static void (*const sections[])(struct ctx *) = {metadata, threads, heap, rss, instants};
    struct ctx c = {.m = m, .out = out};
    (void)syms;
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"vitals\",\"trace\":", out);
    jstr(out, o->trace_path);
    fprintf(out, ",\"pid\":%llu,\"dropped_events\":%llu},\"traceEvents\":[",
            (unsigned long long)m->pid, (unsigned long long)m->dropped);
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        sections[i](&c);
    fputs("\n]}\n", out);
    return ferror(out) ? -1 : 0;
}

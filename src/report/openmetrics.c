/* The summary figures as OpenMetrics text. Counter families carry their "_total" suffix in
 * TYPE and HELP too, so that the Prometheus text parser (`promtool check metrics`) reads the
 * same file. Every family is listed in docs/FORMATS.md. */
#include <string.h>

#include "analyze/advice.h"
#include "analyze/frag.h"
#include "report/frames.h"
#include "report/report.h"
#include "report/wire-int.h"

static void family(FILE *out, const char *name, const char *type, const char *help)
{
    size_t n = strlen(name);
    fprintf(out, "# TYPE %s %s\n", name, type);
    if (n > 6 && !strcmp(name + n - 6, "_bytes"))
        fprintf(out, "# UNIT %s bytes\n", name);
    else if (n > 8 && !strcmp(name + n - 8, "_seconds"))
        fprintf(out, "# UNIT %s seconds\n", name);
    fprintf(out, "# HELP %s %s\n", name, help);
}

static void counter(FILE *out, const char *name, const char *help, uint64_t v)
{
    family(out, name, "counter", help);
    fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge(FILE *out, const char *name, const char *help, uint64_t v)
{
    family(out, name, "gauge", help);
    fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void seconds(FILE *out, const char *name, const char *help, uint64_t ns)
{
    family(out, name, "gauge", help);
    fprintf(out, "%s %llu.%09llu\n", name, (unsigned long long)(ns / 1000000000u),
            (unsigned long long)(ns % 1000000000u));
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

static void run_info(FILE *out, const vt_model *m)
{
    family(out, "vitals_run_info", "gauge",
           "The traced process (the value is 1): program, pid, how it ended, the leak check.");
    fputs("vitals_run_info{program=", out);
    label(out, m->exe ? vt__base_name(m->exe) : "");
    fputs(",exe=", out);
    label(out, m->exe);
    fprintf(out, ",pid=\"%llu\",end=", (unsigned long long)m->pid);
    label(out, vt_end_name(m));
    fputs(",leak_check=", out);
    label(out, vt_leak_check_status(m));
    fputs("} 1\n", out);
}

static void leak_classes(FILE *out, const vt_model *m)
{
    static const char *const what[2] = {"bytes", "blocks"};
    if (!m->scan.present || m->scan.status != VT_SCAN_DONE)
        return;
    for (int w = 0; w < 2; w++) {
        char name[64], help[128];
        snprintf(name, sizeof(name), "vitals_leak_%s", what[w]);
        snprintf(help, sizeof(help), "%s live at the end, by leak class of the check at exit.",
                 w ? "Blocks" : "Bytes");
        family(out, name, "gauge", help);
        for (int i = 0; i < VT_LEAK_CLASSES; i++) {
            int c = vt_leak_class_order[i];
            fprintf(out, "%s{class=\"%s\"} %llu\n", name, vt_leak_class_key(c),
                    (unsigned long long)(w ? m->leak_blocks[c] : m->leak_bytes[c]));
        }
    }
}

static void memory(FILE *out, const vt_model *m)
{
    if (m->has_mem_at_peak || m->has_mem_at_exit) {
        family(out, "vitals_rss_bytes", "gauge",
               "Resident set size of the first memory sample after the heap peak (at=\"peak\") "
               "and of the last one (at=\"exit\").");
        if (m->has_mem_at_peak)
            fprintf(out, "vitals_rss_bytes{at=\"peak\"} %llu\n",
                    (unsigned long long)m->mem_at_peak.max[VT_MEM_RSS]);
        if (m->has_mem_at_exit)
            fprintf(out, "vitals_rss_bytes{at=\"exit\"} %llu\n",
                    (unsigned long long)m->mem_at_exit.max[VT_MEM_RSS]);
    }
    if (m->has_waste) {
        static const char *const at[3] = {"all", "peak", "exit"};
        family(out, "vitals_internal_waste_bytes", "gauge",
               "Usable size minus bytes requested: of all allocations, of the blocks live at the "
               "heap peak, of those live at the end.");
        for (int i = 0; i < 3; i++) {
            vt_waste w;
            vt_frag_waste(m, i, &w);
            fprintf(out, "vitals_internal_waste_bytes{at=\"%s\"} %llu\n", at[i],
                    (unsigned long long)w.waste);
        }
    }
}

int vt_render_openmetrics(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out)
{
    (void)syms;
    (void)o;
    run_info(out, m);
    seconds(out, "vitals_duration_seconds", "From the first to the last recorded moment.",
            m->duration_ns);
    gauge(out, "vitals_threads", "Threads the trace saw.", m->n_threads);
    counter(out, "vitals_dropped_events_total", "Events the agent could not record.", m->dropped);
    counter(out, "vitals_heap_alloc_calls_total", "Allocations (a realloc counts as one).",
            m->alloc_calls);
    counter(out, "vitals_heap_free_calls_total", "Frees.", m->free_calls);
    counter(out, "vitals_heap_realloc_calls_total", "Reallocs.", m->realloc_calls);
    counter(out, "vitals_heap_allocated_bytes_total", "Bytes requested by all allocations.",
            m->alloc_bytes);
    counter(out, "vitals_heap_temporary_total",
            "Temporary allocations (freed soon after, with no allocation in between).",
            m->temporary);
    counter(out, "vitals_heap_unmatched_frees_total", "Frees of blocks never seen allocated.",
            m->unmatched_frees);
    family(out, "vitals_function_calls_total", "counter",
           "Calls of each allocation and release function.");
    for (int fn = 0; fn < VT_FN_COUNT; fn++)
        if (m->fn_calls[fn])
            fprintf(out, "vitals_function_calls_total{function=\"%s\"} %llu\n", vt_fn_name(fn),
                    (unsigned long long)m->fn_calls[fn]);
    gauge(out, "vitals_heap_peak_bytes", "Heap in use at its peak (bytes requested).",
          m->peak_bytes);
    gauge(out, "vitals_heap_peak_blocks", "Blocks live at the heap peak.", m->peak_blocks);
    seconds(out, "vitals_heap_peak_seconds", "When the heap peak was reached, from the start.",
            m->peak_ns);
    gauge(out, "vitals_heap_leaked_bytes", "Bytes still allocated at the end.", m->live_bytes);
    gauge(out, "vitals_heap_leaked_blocks", "Blocks still allocated at the end.", m->live_blocks);
    leak_classes(out, m);
    counter(out, "vitals_mmap_calls_total", "Anonymous mmap calls.", m->mmap_calls);
    counter(out, "vitals_munmap_calls_total", "munmap calls of anonymous mappings.",
            m->munmap_calls);
    counter(out, "vitals_mapped_bytes_total", "Bytes mapped anonymously.", m->mapped_bytes);
    gauge(out, "vitals_mapped_peak_bytes", "Anonymous mappings at their peak.", m->mapped_peak);
    gauge(out, "vitals_mapped_live_bytes", "Anonymous mappings still mapped at the end.",
          m->mapped_live);
    memory(out, m);
    vt_health h;
    vt_health_of(m, &h);
    gauge(out, "vitals_health_score", "The memory-health score, 0 to 100 (docs/REPORT.md).",
          (uint64_t)h.score);
    vt__openmetrics_wire(m, out);
    counter(out, "vitals_trace_events_total", "Records read from the trace.", m->events);
    gauge(out, "vitals_trace_bytes", "Size of the trace file.", m->trace_bytes);
    fputs("# EOF\n", out);
    return ferror(out) ? -1 : 0;
}

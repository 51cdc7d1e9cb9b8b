#include "report/report.h"

#include <stdio.h>
#include <string.h>

const vt_renderer vt_renderers[] = {
    {"text", "human-readable summary (the default)", vt_render_text},
    {"json", "everything the text shows, machine-readable (docs/JSON.md)", vt_render_json},
    {"csv", "tables: sites, leaks, timeline, memory, zones, tasks, cpu (RFC 4180)", vt_render_csv},
    {"folded", "folded stacks for flamegraph.pl and speedscope", vt_render_folded},
    {"pprof", "gzipped profile.proto for go tool pprof, Pyroscope, Parca", vt_render_pprof},
    {"massif", "a massif.out file for valgrind's ms_print", vt_render_massif},
    {"openmetrics", "the summary figures as OpenMetrics text", vt_render_openmetrics},
    {"chrome", "Chrome trace / Perfetto JSON: counters and events", vt_render_chrome},
    {"html", "one self-contained page with charts and flame graphs (docs/HTML.md)", vt_render_html},
    {NULL, NULL, NULL},
};

const vt_renderer *vt_renderer_find(const char *name)
{
    for (const vt_renderer *r = vt_renderers; r->name; r++)
        if (!strcmp(r->name, name))
            return r;
    return NULL;
}

/* The parts of the formats that have several, and the file names formats get in an output
 * directory ("%s": the part). */
static const struct {
    const char *name;
    const char *const *parts;
    const char *file;
} format_files[] = {
    {"text", NULL, "report.txt"},
    {"csv", vt_csv_parts, "%s.csv"},
    {"folded", vt_folded_parts, "%s.folded"},
    {"pprof", NULL, "profile.pb.gz"},
    {"massif", NULL, "massif.out"},
    {"openmetrics", NULL, "metrics.txt"},
    {"chrome", NULL, "trace.json"},
};

#define N_FORMAT_FILES (sizeof(format_files) / sizeof(format_files[0]))

const char *const *vt_renderer_parts(const vt_renderer *r)
{
    for (size_t i = 0; i < N_FORMAT_FILES; i++)
        if (!strcmp(format_files[i].name, r->name))
            return format_files[i].parts;
    return NULL;
}

const char *vt_renderer_part(const vt_renderer *r, const char *name)
{
    for (const char *const *p = vt_renderer_parts(r); p && *p; p++)
        if (!strcmp(*p, name))
            return *p;
    return NULL;
}

void vt_renderer_file(const vt_renderer *r, const char *part, char *buf, size_t size)
{
    for (size_t i = 0; i < N_FORMAT_FILES; i++) {
        if (!strcmp(format_files[i].name, r->name)) {
            snprintf(buf, size, format_files[i].file, part ? part : r->name);
            return;
        }
    }
    snprintf(buf, size, "report.%s", r->name);
}

const char *vt_end_name(const vt_model *m)
{
    if (m->exec_path && !m->has_end)
        return "exec";
    if (!m->has_end)
        return "unknown";
    switch (m->end_reason) {
    case VT_END_EXIT:
    case VT_END_EXIT_STATUS:
        return "exit";
    case VT_END__EXIT:
        return "_exit";
    case VT_END_SIGNAL:
        return "signal";
    }
    return "unknown";
}

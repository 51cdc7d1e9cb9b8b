#include "report/report.h"

#include <string.h>

const vt_renderer vt_renderers[] = {
    {"text", "human-readable summary (the default)", vt_render_text},
    {"json", "everything the text shows, machine-readable (docs/JSON.md)", vt_render_json},
    {NULL, NULL, NULL},
};

const vt_renderer *vt_renderer_find(const char *name)
{
    for (const vt_renderer *r = vt_renderers; r->name; r++)
        if (!strcmp(r->name, name))
            return r;
    return NULL;
}

const char *vt_fmt_bytes(uint64_t b, char *buf, size_t n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (b < 1024) {
        snprintf(buf, n, "%llu B", (unsigned long long)b);
        return buf;
    }
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, n, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

const char *vt_fmt_count(uint64_t v, char *buf, size_t n)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
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

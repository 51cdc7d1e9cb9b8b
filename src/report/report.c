#include "report/report.h"

#include <string.h>

const vt_renderer vt_renderers[] = {
    {"text", "human-readable summary (the default)", vt_render_text},
    {"json", "everything the text shows, machine-readable (docs/JSON.md)", vt_render_json},
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

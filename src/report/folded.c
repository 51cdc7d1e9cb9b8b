/* Folded stacks ("root;caller;site VALUE", one line per call stack): the input of
 * flamegraph.pl and speedscope. One weight per part; docs/FORMATS.md. */
#include <string.h>

#include "report/frames.h"
#include "report/report.h"
#include "report/wire-int.h"
#include "util/error.h"

const char *const vt_folded_parts[] = {"alloc_bytes", "alloc_calls", "leaked_bytes",
                                       "peak_bytes",  "cpu",         NULL};

static uint64_t weight(const vt_site *s, const char *part)
{
    if (!strcmp(part, "alloc_bytes"))
        return s->alloc_bytes;
    if (!strcmp(part, "alloc_calls"))
        return s->alloc_calls;
    if (!strcmp(part, "leaked_bytes"))
        return s->live_bytes;
    return s->peak_bytes;
}

/* A frame's name with the characters that would split it changed: ';' separates frames and a
 * line break ends the entry. */
static void name(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc(*s == ';' ? ':' : *s == '\n' || *s == '\r' ? ' ' : *s, out);
}

int vt_render_folded(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out)
{
    const char *part = o->part ? o->part : "alloc_bytes";
    char buf[128];
    vt_frames fr;
    int rc = 0;
    if (!vt_renderer_part(vt_renderer_find("folded"), part))
        return VT_EINVAL;
    if (!strcmp(part, "cpu"))
        return vt__folded_cpu(m, syms, out) || ferror(out) ? -1 : 0;
    vt__frames_init(&fr);
    for (size_t i = 0; i < m->n_sites; i++) {
        const vt_site *s = &m->sites[i];
        uint64_t w = weight(s, part);
        if (!w)
            continue;
        if (vt__frames_of(&fr, syms, &m->stacks[s->stack])) {
            rc = -1;
            break;
        }
        if (!fr.n)
            fputs("[unknown]", out);
        for (size_t k = fr.n; k-- > 0;) {
            name(out, vt__frame_name(&fr.f[k], fr.addr[k], buf, sizeof(buf)));
            if (k)
                fputc(';', out);
        }
        fprintf(out, " %llu\n", (unsigned long long)w);
    }
    vt__frames_release(&fr);
    return rc || ferror(out) ? -1 : 0;
}

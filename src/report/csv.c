/* The CSV report (RFC 4180: a header row, CRLF line ends, fields quoted when they hold a comma,
 * a quote or a line break). One table per part; the columns are in docs/FORMATS.md. */
#include <stdlib.h>
#include <string.h>

#include "report/frames.h"
#include "report/report.h"
#include "report/wire-int.h"
#include "util/error.h"

const char *const vt_csv_parts[] = {"sites", "leaks", "timeline", "memory",
                                    "zones", "tasks", "cpu",      NULL};

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

static void end_row(FILE *out)
{
    fputs("\r\n", out);
}

/* The innermost frame's function, file, line and module, then the stack root first with ';'
 * between frames (a frame's name with ';' in it keeps it: the field is quoted as needed). */
static int stack_fields(FILE *out, vt_frames *fr, vt_symbols *syms, const vt_stack *s)
{
    char buf[128];
    if (vt__frames_of(fr, syms, s))
        return -1;
    if (fr->n) {
        const vt_frame_info *f = &fr->f[0];
        field(out, vt__frame_name(f, fr->addr[0], buf, sizeof(buf)));
        fputc(',', out);
        field(out, f->file);
        fputc(',', out);
        if (f->line)
            fprintf(out, "%d", f->line);
        fputc(',', out);
        field(out, f->module);
    } else {
        fputs(",,,", out);
    }
    fputc(',', out);
    size_t len = 0;
    for (size_t i = fr->n; i-- > 0;)
        len += strlen(vt__frame_name(&fr->f[i], fr->addr[i], buf, sizeof(buf))) + 1;
    char *joined = malloc(len + 1), *p = joined;
    if (!joined)
        return -1;
    *p = 0;
    for (size_t i = fr->n; i-- > 0;) {
        const char *name = vt__frame_name(&fr->f[i], fr->addr[i], buf, sizeof(buf));
        size_t n = strlen(name);
        memcpy(p, name, n);
        p += n;
        if (i)
            *p++ = ';';
        *p = 0;
    }
    field(out, joined);
    free(joined);
    return 0;
}

static void functions_field(FILE *out, uint64_t mask)
{
    char buf[256] = "";
    size_t len = 0;
    for (int fn = 0; fn < VT_FN_COUNT; fn++)
        if (mask & (1ull << fn))
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "|" : "",
                                    vt_fn_name(fn));
    if (mask & (1ull << 63))
        snprintf(buf + len, sizeof(buf) - len, "%smmap", len ? "|" : "");
    field(out, buf);
}

static int sites_csv(const vt_model *m, vt_symbols *syms, FILE *out)
{
    vt_frames fr;
    int rc = 0;
    vt__frames_init(&fr);
    fputs("site,alloc_calls,alloc_bytes,temporary,peak_bytes,peak_blocks,leaked_blocks,"
          "leaked_bytes,mmap_calls,mapped_bytes,mapped_live,waste_bytes,functions,function,"
          "file,line,module,stack",
          out);
    end_row(out);
    for (size_t i = 0; i < m->n_sites && !rc; i++) {
        const vt_site *s = &m->sites[i];
        fprintf(out, "%zu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,", i,
                (unsigned long long)s->alloc_calls, (unsigned long long)s->alloc_bytes,
                (unsigned long long)s->temporary, (unsigned long long)s->peak_bytes,
                (unsigned long long)s->peak_blocks, (unsigned long long)s->live_blocks,
                (unsigned long long)s->live_bytes, (unsigned long long)s->mapped_calls,
                (unsigned long long)s->mapped_bytes, (unsigned long long)s->mapped_live,
                (unsigned long long)s->waste_bytes);
        functions_field(out, s->fn_mask);
        fputc(',', out);
        rc = stack_fields(out, &fr, syms, &m->stacks[s->stack]);
        end_row(out);
    }
    vt__frames_release(&fr);
    return rc;
}

/* One row per site and leak class when the leak check ran, else one per site with blocks
 * live at the end, of class "unclassified". */
static int leaks_csv(const vt_model *m, vt_symbols *syms, FILE *out)
{
    vt_frames fr;
    int rc = 0;
    int classified = m->scan.present && m->scan.status == VT_SCAN_DONE;
    vt__frames_init(&fr);
    fputs("site,class,blocks,bytes,function,file,line,module,stack", out);
    end_row(out);
    for (int k = 0; k < (classified ? VT_LEAK_CLASSES : 1); k++) {
        int c = vt_leak_class_order[k];
        for (size_t i = 0; i < m->n_sites && !rc; i++) {
            const vt_site *s = &m->sites[i];
            uint64_t blocks = classified ? s->leak_blocks[c] : s->live_blocks;
            uint64_t bytes = classified ? s->leak_bytes[c] : s->live_bytes;
            if (!blocks)
                continue;
            fprintf(out, "%zu,%s,%llu,%llu,", i, classified ? vt_leak_class_key(c) : "unclassified",
                    (unsigned long long)blocks, (unsigned long long)bytes);
            rc = stack_fields(out, &fr, syms, &m->stacks[s->stack]);
            end_row(out);
        }
    }
    vt__frames_release(&fr);
    return rc;
}

static void timeline_csv(const vt_model *m, FILE *out)
{
    fputs("start_ns,end_ns,min_bytes,max_bytes,end_bytes,alloc_calls,alloc_bytes", out);
    end_row(out);
    uint64_t start = 0;
    for (size_t i = 0; i < m->timeline.n_buckets; i++) {
        const vt_heap_bucket *b = &m->timeline.buckets[i];
        fprintf(out, "%llu,%llu,%llu,%llu,%llu,%llu,%llu", (unsigned long long)start,
                (unsigned long long)b->end_ns, (unsigned long long)b->min_bytes,
                (unsigned long long)b->max_bytes, (unsigned long long)b->end_bytes,
                (unsigned long long)b->alloc_calls, (unsigned long long)b->alloc_bytes);
        end_row(out);
        start = b->end_ns;
    }
}

static const char *const mem_names[VT_MEM_FIELDS] = {
    "rss", "arena", "hblkhd", "uordblks", "fordblks", "keepcost", "heap",
};

static void memory_csv(const vt_model *m, FILE *out)
{
    fputs("ns,ns_end,samples", out);
    for (int f = 0; f < VT_MEM_FIELDS; f++)
        fprintf(out, ",%s_min,%s_max", mem_names[f], mem_names[f]);
    end_row(out);
    for (size_t i = 0; i < m->n_mem; i++) {
        const vt_mem_point *p = &m->mem[i];
        fprintf(out, "%llu,%llu,%llu", (unsigned long long)p->ns, (unsigned long long)p->ns_end,
                (unsigned long long)p->samples);
        for (int f = 0; f < VT_MEM_FIELDS; f++)
            fprintf(out, ",%llu,%llu", (unsigned long long)p->min[f],
                    (unsigned long long)p->max[f]);
        end_row(out);
    }
}

int vt_render_csv(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out)
{
    const char *part = o->part ? o->part : "sites";
    int rc = 0;
    if (!strcmp(part, "sites"))
        rc = sites_csv(m, syms, out);
    else if (!strcmp(part, "leaks"))
        rc = leaks_csv(m, syms, out);
    else if (!strcmp(part, "timeline"))
        timeline_csv(m, out);
    else if (!strcmp(part, "memory"))
        memory_csv(m, out);
    else if (!strcmp(part, "zones"))
        vt__csv_zones(m, out);
    else if (!strcmp(part, "tasks"))
        vt__csv_tasks(m, out);
    else if (!strcmp(part, "cpu"))
        rc = vt__csv_cpu(m, syms, out);
    else
        return VT_EINVAL;
    return rc || ferror(out) ? -1 : 0;
}

/* The HTML report: one self-contained page that works offline (docs/HTML.md). This file writes
 * the figures the page shows as one JSON object inside it; the page's template, style sheet and
 * script (src/report/html/) are embedded at build time. Every figure comes from the model and
 * the analyses; the page only draws them. */
#include <stdlib.h>
#include <string.h>

#include "analyze/advice.h"
#include "analyze/frag.h"
#include "analyze/sites.h"
#include "report/html-int.h"
#include "report/json-int.h"
#include "report/report.h"
#include "util/array.h"
#include "util/error.h"
#include "util/hash.h"

typedef unsigned long long ull;

/* Sites the tables hold at most: the union of the first this many by calls, bytes, bytes at the
 * peak and leaked bytes, and the sites advice names. */
#define HTML_SITES_MAX 1000

void vt__html_json_str(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return vt_hash64(h);
}

uint32_t vt__html_intern(vt__html_strs *t, const char *s)
{
    if ((t->n + 1) * 2 > t->n_slots) {
        size_t n = t->n_slots ? t->n_slots * 2 : 256;
        uint32_t *slots = calloc(n, sizeof(*slots));
        if (!slots)
            return UINT32_MAX;
        for (size_t i = 0; i < t->n; i++) {
            size_t j = str_hash(t->strs[i]) & (n - 1);
            while (slots[j])
                j = (j + 1) & (n - 1);
            slots[j] = (uint32_t)i + 1;
        }
        free(t->slots);
        t->slots = slots;
        t->n_slots = n;
    }
    size_t j = str_hash(s) & (t->n_slots - 1);
    for (; t->slots[j]; j = (j + 1) & (t->n_slots - 1))
        if (!strcmp(t->strs[t->slots[j] - 1], s))
            return t->slots[j] - 1;
    char *copy = strdup(s);
    if (!copy || vt_grow(&t->strs, &t->cap, t->n + 1, sizeof(char *), 256)) {
        free(copy);
        return UINT32_MAX;
    }
    t->strs[t->n] = copy;
    t->slots[j] = (uint32_t)++t->n;
    return (uint32_t)(t->n - 1);
}

void vt__html_strs_release(vt__html_strs *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->strs[i]);
    free(t->strs);
    free(t->slots);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

const char *vt__html_frame_name(const vt_frame_info *f, uint64_t addr, char *buf, size_t n)
{
    if (f->function)
        return f->function;
    if (f->module)
        snprintf(buf, n, "%.40s+0x%llx", base_name(f->module), (ull)f->offset);
    else
        snprintf(buf, n, "0x%llx", (ull)addr);
    return buf;
}

/* A site's frames as ids of strings "function file:line" (or what is known), innermost first. */
static int stack_ids(FILE *out, vt_symbols *syms, const vt_stack *s, vt__html_strs *strs)
{
    vt_frame_info f[16];
    char name[64], label[512];
    int first = 1;
    fputc('[', out);
    for (uint32_t i = 0; i < s->depth; i++) {
        int n = vt_stack_frame(syms, s, i, f, 16);
        for (int k = 0; k < n; k++) {
            const char *fn = vt__html_frame_name(&f[k], s->frames[i], name, sizeof(name));
            if (f[k].file && f[k].line)
                snprintf(label, sizeof(label), "%s %s:%d%s", fn, base_name(f[k].file), f[k].line,
                         f[k].inlined ? " (inlined)" : "");
            else if (f[k].function && f[k].module)
                snprintf(label, sizeof(label), "%s (%s)", fn, base_name(f[k].module));
            else
                snprintf(label, sizeof(label), "%s", fn);
            uint32_t id = vt__html_intern(strs, label);
            if (id == UINT32_MAX)
                return VT_ENOMEM;
            fprintf(out, "%s%u", first ? "" : ",", id);
            first = 0;
        }
    }
    fputc(']', out);
    return 0;
}

static void u64_array(FILE *out, const uint64_t *v, size_t n)
{
    fputc('[', out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%llu", i ? "," : "", (ull)v[i]);
    fputc(']', out);
}

static void process_json(FILE *out, const vt_model *m, const vt_report_opts *o)
{
    fputs("\"trace\":{\"path\":", out);
    vt__html_json_str(out, o->trace_path);
    fprintf(out, ",\"bytes\":%llu,\"events\":%llu,\"warnings\":", (ull)m->trace_bytes,
            (ull)m->events);
    vt__html_json_str(out, m->warnings);
    fprintf(out, "},\"process\":{\"pid\":%llu,\"exe\":", (ull)m->pid);
    vt__html_json_str(out, m->exe);
    fputs(",\"argv\":[", out);
    for (size_t i = 0; i < m->argc; i++) {
        fputs(i ? "," : "", out);
        vt__html_json_str(out, m->argv[i]);
    }
    fprintf(out,
            "],\"start_realtime_ns\":%llu,\"duration_ns\":%llu,\"end\":", (ull)m->start_realtime_ns,
            (ull)m->duration_ns);
    vt__html_json_str(out, vt_end_name(m));
    if (m->has_end && m->end_reason != VT_END_EXIT)
        fprintf(out, ",\"end_status\":%d", m->end_status);
    else
        fputs(",\"end_status\":null", out);
    fputs(",\"stopped\":", out);
    vt__html_json_str(out, m->stopped);
    fprintf(out, ",\"dropped_events\":%llu,\"threads\":%zu},", (ull)m->dropped, m->n_threads);
    fprintf(out,
            "\"heap\":{\"alloc_calls\":%llu,\"free_calls\":%llu,\"realloc_calls\":%llu,"
            "\"bytes_allocated\":%llu,\"peak_bytes\":%llu,\"peak_blocks\":%llu,\"peak_ns\":%llu,"
            "\"leaked_blocks\":%llu,\"leaked_bytes\":%llu,\"temporary\":%llu,"
            "\"unmatched_frees\":%llu},",
            (ull)m->alloc_calls, (ull)m->free_calls, (ull)m->realloc_calls, (ull)m->alloc_bytes,
            (ull)m->peak_bytes, (ull)m->peak_blocks, (ull)m->peak_ns, (ull)m->live_blocks,
            (ull)m->live_bytes, (ull)m->temporary, (ull)m->unmatched_frees);
    fprintf(out,
            "\"mapped\":{\"mmap_calls\":%llu,\"bytes_mapped\":%llu,\"peak_bytes\":%llu,"
            "\"live_bytes\":%llu},\"leak_check\":{\"status\":",
            (ull)m->mmap_calls, (ull)m->mapped_bytes, (ull)m->mapped_peak, (ull)m->mapped_live);
    vt__html_json_str(out, vt_leak_check_status(m));
    fputs(",\"classes\":", out);
    if (m->scan.present && m->scan.status == VT_SCAN_DONE) {
        fputc('[', out);
        for (int i = 0; i < VT_LEAK_CLASSES; i++) {
            int c = vt_leak_class_order[i];
            fprintf(out, "%s{\"key\":\"%s\",\"name\":\"%s\",\"blocks\":%llu,\"bytes\":%llu}",
                    i ? "," : "", vt_leak_class_key(c), vt_leak_class_name(c),
                    (ull)m->leak_blocks[c], (ull)m->leak_bytes[c]);
        }
        fputs("]}", out);
    } else {
        fputs("null}", out);
    }
}

static void timeline_json(FILE *out, const vt_model *m)
{
    const vt_timeline *t = &m->timeline;
    static const char *const names[] = {"end_ns", "min", "max", "end", "alloc_calls"};
    fputs(",\"timeline\":{", out);
    for (int f = 0; f < 5; f++) {
        fprintf(out, "%s\"%s\":[", f ? "," : "", names[f]);
        for (size_t i = 0; i < t->n_buckets; i++) {
            const vt_heap_bucket *b = &t->buckets[i];
            uint64_t v = f == 0   ? b->end_ns
                         : f == 1 ? b->min_bytes
                         : f == 2 ? b->max_bytes
                         : f == 3 ? b->end_bytes
                                  : b->alloc_calls;
            fprintf(out, "%s%llu", i ? "," : "", (ull)v);
        }
        fputc(']', out);
    }
    fprintf(out, "},\"memory\":{\"samples\":%llu,\"ns\":[", (ull)m->mem_samples);
    for (size_t i = 0; i < m->n_mem; i++)
        fprintf(out, "%s%llu", i ? "," : "", (ull)m->mem[i].ns);
    fputs("],\"rss_min\":[", out);
    for (size_t i = 0; i < m->n_mem; i++)
        fprintf(out, "%s%llu", i ? "," : "", (ull)m->mem[i].min[VT_MEM_RSS]);
    fputs("],\"rss_max\":[", out);
    for (size_t i = 0; i < m->n_mem; i++)
        fprintf(out, "%s%llu", i ? "," : "", (ull)m->mem[i].max[VT_MEM_RSS]);
    fputs("],\"rss_at_peak\":", out);
    if (m->has_mem_at_peak)
        fprintf(out, "%llu", (ull)m->mem_at_peak.max[VT_MEM_RSS]);
    else
        fputs("null", out);
    fputs(",\"rss_at_exit\":", out);
    if (m->has_mem_at_exit)
        fprintf(out, "%llu}", (ull)m->mem_at_exit.max[VT_MEM_RSS]);
    else
        fputs("null}", out);
}

static void histograms_json(FILE *out, const vt_model *m)
{
    const vt_lifetimes *lt = &m->lifetimes;
    const vt_patterns *p = &m->patterns;
    uint64_t floors[VT_LIFETIME_BUCKETS];
    for (int i = 0; i < VT_LIFETIME_BUCKETS; i++)
        floors[i] = vt_lifetime_bucket_floor(i);
    fputs(",\"lifetimes\":{\"from_ns\":", out);
    u64_array(out, floors, VT_LIFETIME_BUCKETS);
    fputs(",\"freed\":", out);
    u64_array(out, lt->freed, VT_LIFETIME_BUCKETS);
    fputs(",\"live_age\":", out);
    u64_array(out, lt->live_age, VT_LIFETIME_BUCKETS);
    static const unsigned pcts[] = {50, 90, 99};
    for (int i = 0; i < 3; i++) {
        uint64_t v = vt_lifetime_percentile(lt->freed, pcts[i]);
        if (v == UINT64_MAX)
            fprintf(out, ",\"p%u_ns\":null", pcts[i]);
        else
            fprintf(out, ",\"p%u_ns\":%llu", pcts[i], (ull)v);
    }
    fputs("},\"sizes\":{\"max_bytes\":[", out);
    for (int k = 0; k < VT_SIZE_CLASSES; k++) {
        if (k == VT_SIZE_CLASSES - 1)
            fputs(",null", out);
        else
            fprintf(out, "%s%llu", k ? "," : "", (ull)vt_size_class_max(k));
    }
    fputs("],\"calls\":", out);
    u64_array(out, p->size_calls, VT_SIZE_CLASSES);
    fputs(",\"bytes\":", out);
    u64_array(out, p->size_bytes, VT_SIZE_CLASSES);
    fputc('}', out);
}

static void threads_json(FILE *out, const vt_model *m)
{
    fputs(",\"threads\":[", out);
    for (size_t i = 0; i < m->n_threads; i++) {
        const vt_thread_stats *t = &m->threads[i];
        fprintf(out,
                "%s{\"tid\":%u,\"alloc_calls\":%llu,\"alloc_bytes\":%llu,\"frees\":%llu,"
                "\"first_ns\":%llu,\"last_ns\":%llu",
                i ? "," : "", t->tid, (ull)t->alloc_calls, (ull)t->alloc_bytes, (ull)t->frees,
                (ull)t->first_ns, (ull)t->last_ns);
        if (t->has_stack)
            fprintf(out, ",\"stack_size\":%llu,\"stack_used\":%llu,\"stack_near_limit\":%s}",
                    (ull)t->stack_size, (ull)t->stack_used,
                    vt_stack_near_limit(t) ? "true" : "false");
        else
            fputs(",\"stack_size\":null,\"stack_used\":null,\"stack_near_limit\":false}", out);
    }
    fputc(']', out);
}

static int site_json(FILE *out, vt_symbols *syms, const vt_model *m, size_t i, vt__html_strs *strs)
{
    const vt_site *s = &m->sites[i];
    fprintf(out,
            "{\"i\":%zu,\"calls\":%llu,\"bytes\":%llu,\"temporary\":%llu,\"peak\":%llu,"
            "\"peak_blocks\":%llu,\"leaked\":%llu,\"leaked_blocks\":%llu,\"class_bytes\":[",
            i, (ull)s->alloc_calls, (ull)s->alloc_bytes, (ull)s->temporary, (ull)s->peak_bytes,
            (ull)s->peak_blocks, (ull)s->live_bytes, (ull)s->live_blocks);
    for (int k = 0; k < VT_LEAK_CLASSES; k++)
        fprintf(out, "%s%llu", k ? "," : "", (ull)s->leak_bytes[vt_leak_class_order[k]]);
    fputs("],\"class_blocks\":[", out);
    for (int k = 0; k < VT_LEAK_CLASSES; k++)
        fprintf(out, "%s%llu", k ? "," : "", (ull)s->leak_blocks[vt_leak_class_order[k]]);
    fputs("],\"functions\":[", out);
    int first = 1;
    for (int fn = 0; fn < VT_FN_COUNT; fn++) {
        if (s->fn_mask & (1ull << fn)) {
            fputs(first ? "" : ",", out);
            vt__html_json_str(out, vt_fn_name(fn));
            first = 0;
        }
    }
    int growth = i < m->timeline.n_sites && m->timeline.sites[i].suspect;
    fprintf(out, "],\"growth\":%s,\"stack\":", growth ? "true" : "false");
    int rc = stack_ids(out, syms, &m->stacks[s->stack], strs);
    fputc('}', out);
    return rc;
}

/* Marks the first HTML_SITES_MAX sites by key in keep. */
static void mark_ranked(const vt_model *m, enum vt_site_key key, size_t *idx, uint8_t *keep)
{
    size_t n = vt_sites_rank(m, key, idx, HTML_SITES_MAX, NULL);
    for (size_t i = 0; i < n; i++)
        keep[idx[i]] = 1;
}

static int sites_and_advice_json(FILE *out, vt_symbols *syms, const vt_model *m,
                                 vt__html_strs *strs)
{
    int rc = 0;
    size_t n_adv = 0;
    vt_advice *adv = vt_advise(m, &n_adv);
    uint8_t *keep = calloc(m->n_sites ? m->n_sites : 1, 1);
    size_t *idx = malloc(HTML_SITES_MAX * sizeof(size_t));
    uint32_t *pos = malloc((m->n_sites ? m->n_sites : 1) * sizeof(uint32_t));
    if (!keep || !idx || !pos) {
        rc = VT_ENOMEM;
        goto out;
    }
    static const enum vt_site_key keys[] = {VT_BY_CALLS, VT_BY_BYTES, VT_BY_PEAK, VT_BY_LEAKED};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        mark_ranked(m, keys[k], idx, keep);
    for (size_t a = 0; a < n_adv; a++)
        if (adv[a].site >= 0)
            keep[adv[a].site] = 1;
    fprintf(out, ",\"sites\":{\"total\":%zu,\"max\":%d,\"entries\":[", m->n_sites, HTML_SITES_MAX);
    uint32_t shown = 0;
    for (size_t i = 0; i < m->n_sites && !rc; i++) {
        if (!keep[i])
            continue;
        fputs(shown ? "," : "", out);
        pos[i] = shown++;
        rc = site_json(out, syms, m, i, strs);
    }
    fputs("]}", out);

    fputc(',', out);
    vt__json_health(out, m, vt__html_json_str);
    fputs(",\"advice\":[", out);
    for (size_t i = 0; i < n_adv; i++) {
        fputs(i ? ",{" : "{", out);
        vt__json_advice_fields(out, m, &adv[i], vt__html_json_str);
        const vt_advice *a = &adv[i];
        if (a->site >= 0)
            fprintf(out, ",\"site\":%u}", pos[a->site]);
        else
            fputs(",\"site\":null}", out);
    }
    fputc(']', out);
out:
    free(adv);
    free(keep);
    free(idx);
    free(pos);
    return rc;
}

/* The page's data: one JSON object (docs/HTML.md, "The data"). */
static int data_json(FILE *out, const vt_model *m, vt_symbols *syms, const vt_report_opts *o)
{
    vt__html_strs strs = {0};
    int rc = 0;
    fputs("{\"schema\":\"vitals-html\",\"version\":1,", out);
    process_json(out, m, o);
    timeline_json(out, m);
    histograms_json(out, m);
    threads_json(out, m);
    rc = sites_and_advice_json(out, syms, m, &strs);
    if (rc)
        goto out;
    fputs(",\"flame\":", out);
    rc = vt__html_flame(out, m, syms, &strs);
    if (rc)
        goto out;
    rc = vt__html_sections(out, m, syms, o);
    if (rc)
        goto out;
    fputs(",\"strings\":[", out);
    for (size_t i = 0; i < strs.n; i++) {
        fputs(i ? "," : "", out);
        vt__html_json_str(out, strs.strs[i]);
    }
    fputs("]}", out);
out:
    vt__html_strs_release(&strs);
    return rc;
}

/* Writes the escaped text of s (for the page's title). */
static void html_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

int vt_render_html(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out)
{
    static const char open[] = "<!--VITALS:", close[] = "-->";
    const char *p = vt__html_page_html;
    int rc = 0;
    while (!rc) {
        const char *mark = strstr(p, open);
        if (!mark) {
            fputs(p, out);
            break;
        }
        fwrite(p, 1, (size_t)(mark - p), out);
        const char *name = mark + sizeof(open) - 1, *end = strstr(name, close);
        if (!end)
            return VT_EINVAL;
        size_t len = (size_t)(end - name);
        if (len == 5 && !strncmp(name, "TITLE", len)) {
            html_text(out, m->exe ? base_name(m->exe) : "vitals");
        } else if (len == 3 && !strncmp(name, "CSS", len)) {
            fputs(vt__html_page_css, out);
        } else if (len == 2 && !strncmp(name, "JS", len)) {
            fputs(vt__html_page_js, out);
        } else if (len == 4 && !strncmp(name, "DATA", len)) {
            rc = data_json(out, m, syms, o);
        }
        p = end + sizeof(close) - 1;
    }
    if (rc)
        return rc;
    return ferror(out) ? -1 : 0;
}

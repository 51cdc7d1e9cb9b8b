/* The JSON report (schema in docs/JSON.md). Numbers are exact integers; times in ns. */
#include <stdlib.h>
#include <string.h>

#include "analyze/frag.h"
#include "analyze/advice.h"
#include "report/series-int.h"
#include "analyze/sites.h"
#include "report/json-int.h"
#include "report/cpu-int.h"
#include "report/report.h"
#include "util/json.h"

#define JSON_SCHEMA_VERSION 2

static void stack_json(FILE *out, vt_symbols *syms, const vt_stack *s)
{
    vt_frame_info f[16];
    fputc('[', out);
    int first = 1;
    for (uint32_t i = 0; i < s->depth; i++) {
        int n = vt_stack_frame(syms, s, i, f, 16);
        for (int k = 0; k < n; k++) {
            fprintf(out, "%s{\"address\":\"0x%llx\",\"function\":", first ? "" : ",",
                    (unsigned long long)s->frames[i]);
            vt_json_str(out, f[k].function);
            fputs(",\"file\":", out);
            vt_json_str(out, f[k].file);
            fprintf(out, ",\"line\":%d,\"module\":", f[k].line);
            vt_json_str(out, f[k].module);
            fprintf(out, ",\"inlined\":%s}", f[k].inlined ? "true" : "false");
            first = 0;
        }
    }
    fputc(']', out);
}

static void fn_json(FILE *out, uint64_t mask)
{
    fputc('[', out);
    int first = 1;
    for (int fn = 0; fn < VT_FN_COUNT; fn++) {
        if (mask & (1ull << fn)) {
            fputs(first ? "" : ",", out);
            vt_json_str(out, vt_fn_name(fn));
            first = 0;
        }
    }
    if (mask & (1ull << 63)) {
        fputs(first ? "" : ",", out);
        vt_json_str(out, "mmap");
    }
    fputc(']', out);
}

static void site_json(FILE *out, vt_symbols *syms, const vt_model *m, const vt_site *s)
{
    fprintf(out,
            "{\"alloc_calls\":%llu,\"alloc_bytes\":%llu,\"temporary\":%llu,\"peak_bytes\":%llu,"
            "\"peak_blocks\":%llu,\"leaked_blocks\":%llu,\"leaked_bytes\":%llu,"
            "\"mmap_calls\":%llu,\"mapped_bytes\":%llu,\"mapped_live\":%llu,",
            (unsigned long long)s->alloc_calls, (unsigned long long)s->alloc_bytes,
            (unsigned long long)s->temporary, (unsigned long long)s->peak_bytes,
            (unsigned long long)s->peak_blocks, (unsigned long long)s->live_blocks,
            (unsigned long long)s->live_bytes, (unsigned long long)s->mapped_calls,
            (unsigned long long)s->mapped_bytes, (unsigned long long)s->mapped_live);
    for (int c = 0; c < VT_LEAK_CLASSES; c++)
        fprintf(out, "\"%s_blocks\":%llu,\"%s_bytes\":%llu,", vt_leak_class_key(c),
                (unsigned long long)s->leak_blocks[c], vt_leak_class_key(c),
                (unsigned long long)s->leak_bytes[c]);
    fputs("\"functions\":", out);
    fn_json(out, s->fn_mask);
    fprintf(out, ",\"waste_bytes\":%llu,\"peak_waste\":%llu,\"leaked_waste\":%llu",
            (unsigned long long)s->waste_bytes, (unsigned long long)s->peak_waste,
            (unsigned long long)s->live_waste);
    fputs(",\"stack\":", out);
    stack_json(out, syms, &m->stacks[s->stack]);
    vt__json_site_patterns(out, m, (size_t)(s - m->sites));
    fputc('}', out);
}

void vt__json_str(FILE *out, const char *s)
{
    vt_json_str(out, s);
}

void vt__json_site(FILE *out, vt_symbols *syms, const vt_model *m, const vt_site *s)
{
    site_json(out, syms, m, s);
}

static void ranked_json(FILE *out, vt_symbols *syms, const vt_model *m, enum vt_site_key key,
                        size_t top)
{
    size_t *idx = malloc((top ? top : 1) * sizeof(size_t)), total = 0;
    size_t n = idx ? vt_sites_rank(m, key, idx, top, &total) : 0;
    fprintf(out, "{\"total\":%zu,\"entries\":[", total);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? "," : "", out);
        site_json(out, syms, m, &m->sites[idx[i]]);
    }
    fputs("]}", out);
    free(idx);
}

static const char *const mem_names[VT_MEM_FIELDS] = {
    "rss", "arena", "hblkhd", "uordblks", "fordblks", "keepcost", "heap",
};

static void mem_fields_json(FILE *out, const uint64_t *v)
{
    fputc('{', out);
    for (int f = 0; f < VT_MEM_FIELDS; f++)
        fprintf(out, "%s\"%s\":%llu", f ? "," : "", mem_names[f], (unsigned long long)v[f]);
    fputc('}', out);
}

/* One sample with the figures derived from it (docs/REPORT.md), or null. */
static void sample_json(FILE *out, int have, const vt_mem_point *p)
{
    if (!have) {
        fputs("null", out);
        return;
    }
    vt_mem_figures f;
    vt_mem_figures_of(p, &f);
    fprintf(out, "{\"ns\":%llu,\"values\":", (unsigned long long)p->ns);
    mem_fields_json(out, p->max);
    fprintf(out,
            ",\"footprint\":%llu,\"in_use\":%llu,\"free_percent\":%.2f,"
            "\"chunk_overhead_percent\":%.2f,\"overhead_percent\":%.2f,\"rss_per_heap\":%.3f}",
            (unsigned long long)f.footprint, (unsigned long long)f.in_use, f.free_pct, f.chunk_pct,
            f.overhead_pct, f.rss_per_heap);
}

static void waste_json(FILE *out, const vt_model *m, int which)
{
    vt_waste w;
    vt_frag_waste(m, which, &w);
    fprintf(out, "{\"requested\":%llu,\"waste\":%llu,\"usable\":%llu,\"percent\":%.2f}",
            (unsigned long long)w.requested, (unsigned long long)w.waste,
            (unsigned long long)w.usable, w.pct);
}

static void fragmentation_json(FILE *out, vt_symbols *syms, const vt_model *m, size_t top)
{
    fputs("\"fragmentation\":{\"internal_waste\":", out);
    if (m->has_waste) {
        fputs("{\"all\":", out);
        waste_json(out, m, 0);
        fputs(",\"at_peak\":", out);
        waste_json(out, m, 1);
        fputs(",\"at_exit\":", out);
        waste_json(out, m, 2);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fprintf(out, ",\"memory_samples\":%llu,\"at_peak\":", (unsigned long long)m->mem_samples);
    sample_json(out, m->has_mem_at_peak, &m->mem_at_peak);
    fputs(",\"at_exit\":", out);
    sample_json(out, m->has_mem_at_exit, &m->mem_at_exit);
    fputs(",\"series\":[", out);
    for (size_t i = 0; i < m->n_mem; i++) {
        const vt_mem_point *p = &m->mem[i];
        fprintf(out, "%s{\"ns\":%llu,\"ns_end\":%llu,\"samples\":%llu,\"min\":", i ? "," : "",
                (unsigned long long)p->ns, (unsigned long long)p->ns_end,
                (unsigned long long)p->samples);
        mem_fields_json(out, p->min);
        fputs(",\"max\":", out);
        mem_fields_json(out, p->max);
        fputc('}', out);
    }
    fputs("],\"sites_by_waste\":", out);
    ranked_json(out, syms, m, VT_BY_WASTE, top);
    fputc('}', out);
}

void vt__json_health(FILE *out, const vt_model *m, void (*str)(FILE *, const char *))
{
    vt_health h;
    vt_health_of(m, &h);
    fprintf(out, "\"health\":{\"score\":%d,\"rating\":", h.score);
    str(out, h.rating);
    fputs(",\"deductions\":[", out);
    for (int i = 0; i < h.n_reasons; i++) {
        fprintf(out, "%s{\"points\":%d,\"reason\":", i ? "," : "", h.reasons[i].points);
        str(out, h.reasons[i].text);
        fputc('}', out);
    }
    fputs("]}", out);
}

void vt__json_advice_fields(FILE *out, const vt_model *m, const vt_advice *a,
                            void (*str)(FILE *, const char *))
{
    fputs("\"kind\":", out);
    str(out, vt_advice_kind_name(a->kind));
    fputs(",\"severity\":", out);
    str(out, vt_severity_name(a->severity));
    fputs(",\"evidence\":", out);
    str(out, a->evidence);
    fputs(",\"action\":", out);
    str(out, a->action);
    fprintf(out, ",\"saving\":%llu,\"saving_unit\":", (unsigned long long)a->saving);
    str(out, a->saving_unit);
    fprintf(out, ",\"saving_is_bound\":%s,\"thread_tid\":", a->saving_is_bound ? "true" : "false");
    if (a->thread >= 0)
        fprintf(out, "%u", m->threads[a->thread].tid);
    else
        fputs("null", out);
}

/* "health": the rating with its deductions; "advice": every item, most severe first. */
static void advice_json(FILE *out, vt_symbols *syms, const vt_model *m)
{
    vt__json_health(out, m, vt_json_str);
    fputs(",\"advice\":[", out);
    size_t n = 0;
    vt_advice *adv = vt_advise(m, &n);
    for (size_t i = 0; i < n; i++) {
        const vt_advice *a = &adv[i];
        fputs(i ? ",{" : "{", out);
        vt__json_advice_fields(out, m, a, vt_json_str);
        fputs(",\"site\":", out);
        if (a->site >= 0)
            site_json(out, syms, m, &m->sites[a->site]);
        else
            fputs("null", out);
        fputc('}', out);
    }
    fputc(']', out);
    free(adv);
}

int vt_render_json(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out)
{
    fprintf(out, "{\"schema\":\"vitals-report\",\"version\":%d,\"trace\":{\"path\":",
            JSON_SCHEMA_VERSION);
    vt_json_str(out, o->trace_path);
    fprintf(out,
            ",\"bytes\":%llu,\"events\":%llu,\"warnings\":", (unsigned long long)m->trace_bytes,
            (unsigned long long)m->events);
    vt_json_str(out, m->warnings);
    fputs("},\"process\":{\"pid\":", out);
    fprintf(out, "%llu,\"ppid\":%llu,\"exe\":", (unsigned long long)m->pid,
            (unsigned long long)m->ppid);
    vt_json_str(out, m->exe);
    fputs(",\"argv\":[", out);
    for (size_t i = 0; i < m->argc; i++) {
        fputs(i ? "," : "", out);
        vt_json_str(out, m->argv[i]);
    }
    fprintf(out, "],\"forked\":%s,\"start_realtime_ns\":%llu,\"duration_ns\":%llu,\"end\":",
            m->forked ? "true" : "false", (unsigned long long)m->start_realtime_ns,
            (unsigned long long)m->duration_ns);
    vt_json_str(out, vt_end_name(m));
    /* The status of exit() is not in the trace (vitals run reports it): null, not 0. */
    if (m->has_end && m->end_reason != VT_END_EXIT)
        fprintf(out, ",\"end_status\":%d,\"exec\":", m->end_status);
    else
        fputs(",\"end_status\":null,\"exec\":", out);
    vt_json_str(out, m->exec_path);
    fputs(",\"stopped\":", out);
    vt_json_str(out, m->stopped);
    fprintf(out, ",\"dropped_events\":%llu,\"threads\":%zu,\"max_depth\":%d}",
            (unsigned long long)m->dropped, m->n_threads, m->depth);
    vt__json_cpu(out, syms, m, o);
    if (vt_model_cpu_only(m)) {
        /* --no-alloc: the allocation sections are absent, not zero. */
        fputs(",\"allocations_traced\":false}\n", out);
        return ferror(out) ? -1 : 0;
    }
    fputs(",\"allocations_traced\":true,", out);

    fprintf(out,
            "\"heap\":{\"alloc_calls\":%llu,\"free_calls\":%llu,\"realloc_calls\":%llu,"
            "\"bytes_allocated\":%llu,\"peak_bytes\":%llu,\"peak_blocks\":%llu,\"peak_ns\":%llu,"
            "\"leaked_blocks\":%llu,\"leaked_bytes\":%llu,\"temporary\":%llu,"
            "\"unmatched_frees\":%llu,\"calls_by_function\":{",
            (unsigned long long)m->alloc_calls, (unsigned long long)m->free_calls,
            (unsigned long long)m->realloc_calls, (unsigned long long)m->alloc_bytes,
            (unsigned long long)m->peak_bytes, (unsigned long long)m->peak_blocks,
            (unsigned long long)m->peak_ns, (unsigned long long)m->live_blocks,
            (unsigned long long)m->live_bytes, (unsigned long long)m->temporary,
            (unsigned long long)m->unmatched_frees);
    int first = 1;
    for (int fn = 0; fn < VT_FN_COUNT; fn++) {
        if (!m->fn_calls[fn])
            continue;
        fputs(first ? "" : ",", out);
        vt_json_str(out, vt_fn_name(fn));
        fprintf(out, ":%llu", (unsigned long long)m->fn_calls[fn]);
        first = 0;
    }
    fprintf(out,
            "}},\"mapped\":{\"mmap_calls\":%llu,\"munmap_calls\":%llu,\"bytes_mapped\":%llu,"
            "\"peak_bytes\":%llu,\"live_bytes\":%llu},\"threads\":[",
            (unsigned long long)m->mmap_calls, (unsigned long long)m->munmap_calls,
            (unsigned long long)m->mapped_bytes, (unsigned long long)m->mapped_peak,
            (unsigned long long)m->mapped_live);
    for (size_t i = 0; i < m->n_threads; i++) {
        const vt_thread_stats *t = &m->threads[i];
        fprintf(out, "%s{\"tid\":%u,\"alloc_calls\":%llu,\"alloc_bytes\":%llu,\"frees\":%llu",
                i ? "," : "", t->tid, (unsigned long long)t->alloc_calls,
                (unsigned long long)t->alloc_bytes, (unsigned long long)t->frees);
        if (t->has_stack)
            fprintf(out, ",\"stack_size\":%llu,\"stack_used\":%llu,\"stack_near_limit\":%s}",
                    (unsigned long long)t->stack_size, (unsigned long long)t->stack_used,
                    vt_stack_near_limit(t) ? "true" : "false");
        else
            fputs(",\"stack_size\":null,\"stack_used\":null,\"stack_near_limit\":false}", out);
    }
    const vt_leak_scan *sc = &m->scan;
    fputs("],\"leak_check\":{\"status\":", out);
    vt_json_str(out, vt_leak_check_status(m));
    fprintf(out,
            ",\"scan_ns\":%llu,\"root_bytes\":%llu,\"heap_bytes\":%llu,\"threads\":%llu,"
            "\"threads_with_stack_pointer\":%llu,\"direct_reads\":%s,\"unmatched\":%llu,"
            "\"reachable_via_heuristic\":{\"blocks\":%llu,\"bytes\":%llu},\"classes\":{",
            (unsigned long long)sc->ns, (unsigned long long)sc->root_bytes,
            (unsigned long long)sc->heap_bytes, (unsigned long long)sc->threads,
            (unsigned long long)sc->threads_sp, sc->flags & VT_SCAN_DIRECT_READS ? "true" : "false",
            (unsigned long long)sc->unmatched, (unsigned long long)sc->heuristic_blocks,
            (unsigned long long)sc->heuristic_bytes);
    int done = sc->present && sc->status == VT_SCAN_DONE;
    for (int i = 0; i < VT_LEAK_CLASSES; i++) {
        int c = vt_leak_class_order[i];
        fputs(i ? "," : "", out);
        vt_json_str(out, vt_leak_class_key(c));
        if (done)
            fprintf(out, ":{\"blocks\":%llu,\"bytes\":%llu,\"sites\":",
                    (unsigned long long)m->leak_blocks[c], (unsigned long long)m->leak_bytes[c]);
        else
            fputs(":null", out);
        if (done) {
            ranked_json(out, syms, m, vt_site_key_of_class(c), o->top);
            fputc('}', out);
        }
    }
    fputs("}},\"leaks\":", out);
    ranked_json(out, syms, m, VT_BY_LEAKED, o->top);
    fputs(",\"sites_by_peak\":", out);
    ranked_json(out, syms, m, VT_BY_PEAK, o->top);
    fputs(",\"sites_by_calls\":", out);
    ranked_json(out, syms, m, VT_BY_CALLS, o->top);
    fputs(",\"sites_by_bytes\":", out);
    ranked_json(out, syms, m, VT_BY_BYTES, o->top);
    vt__json_patterns(out, syms, m, o);
    fputs(",\"sites_by_mapped\":", out);
    ranked_json(out, syms, m, VT_BY_MAPPED, o->top);
    fputc(',', out);
    fragmentation_json(out, syms, m, o->top);
    fputc(',', out);
    advice_json(out, syms, m);
    vt__json_series(out, m, o);
    vt__json_zones(out, m);
    fputs("}\n", out);
    return ferror(out) ? -1 : 0;
}

/* The JSON report's objects over time and of allocation patterns (docs/JSON.md). The figures
 * come from analyze/timeline.c, lifetime.c and patterns.c; this file writes them out. */
#include <stdlib.h>

#include "analyze/sites.h"
#include "report/json-int.h"

typedef unsigned long long ull;

static void classes_json(FILE *out, const uint64_t c[VT_LIFE_CLASSES])
{
    fputc('{', out);
    for (int k = 0; k < VT_LIFE_CLASSES; k++)
        fprintf(out, "%s\"%s\":%llu", k ? "," : "", vt_life_class_name(k), (ull)c[k]);
    fputc('}', out);
}

/* The non-empty buckets of a lifetime or age histogram. */
static void life_hist_json(FILE *out, const uint64_t h[VT_LIFETIME_BUCKETS])
{
    int first = 1;
    fputc('[', out);
    for (int i = 0; i < VT_LIFETIME_BUCKETS; i++) {
        if (!h[i])
            continue;
        fprintf(out, "%s{\"from_ns\":%llu,\"blocks\":%llu}", first ? "" : ",",
                (ull)vt_lifetime_bucket_floor(i), (ull)h[i]);
        first = 0;
    }
    fputc(']', out);
}

static void size_max_json(FILE *out, int k)
{
    if (k == VT_SIZE_CLASSES - 1)
        fputs("null", out);
    else
        fprintf(out, "%llu", (ull)vt_size_class_max(k));
}

void vt__json_site_patterns(FILE *out, const vt_model *m, size_t i)
{
    static const vt_site_growth no_growth;
    static const vt_site_lifetimes no_lifetimes;
    static const vt_site_patterns no_patterns;
    const vt_site_growth *g = i < m->timeline.n_sites ? &m->timeline.sites[i] : &no_growth;
    const vt_site_lifetimes *l = i < m->lifetimes.n_sites ? &m->lifetimes.sites[i] : &no_lifetimes;
    const vt_site_patterns *p = i < m->patterns.n_sites ? &m->patterns.sites[i] : &no_patterns;

    fprintf(out,
            ",\"growth\":{\"suspect\":%s,\"windows\":%u,\"rises\":%u,\"from_bytes\":%llu,"
            "\"to_bytes\":%llu,\"series\":[",
            g->suspect ? "true" : "false", g->windows, g->rises, (ull)g->from_bytes,
            (ull)g->to_bytes);
    for (size_t j = 0; j < m->timeline.n_windows && i < m->timeline.n_sites; j++)
        fprintf(out, "%s%llu", j ? "," : "", (ull)g->points[j]);
    uint64_t h[VT_LIFETIME_BUCKETS];
    for (int k = 0; k < VT_LIFETIME_BUCKETS; k++)
        h[k] = vt_hist_get(&l->freed, k);
    fputs("]},\"lifetimes\":{\"histogram\":", out);
    life_hist_json(out, h);
    fputs(",\"classes\":", out);
    classes_json(out, l->freed_class);
    fputs(",\"live_classes\":", out);
    classes_json(out, l->live_class);
    fprintf(out, ",\"oldest_live_ns\":%llu},\"sizes\":{\"classes\":[", (ull)l->oldest_ns);
    int first = 1;
    for (int k = 0; k < VT_SIZE_CLASSES; k++) {
        uint64_t n = vt_hist_get(&p->size_calls, k);
        if (!n)
            continue;
        fputs(first ? "{\"max_bytes\":" : ",{\"max_bytes\":", out);
        size_max_json(out, k);
        fprintf(out, ",\"calls\":%llu}", (ull)n);
        first = 0;
    }
    if (p->sizes == 1)
        fprintf(out, "],\"one_size\":%llu}", (ull)p->first_size);
    else
        fputs("],\"one_size\":null}", out);
    fprintf(out,
            ",\"realloc_chains\":{\"chains\":%llu,\"reallocs\":%llu,\"longest\":%llu,"
            "\"copied_bytes_max\":%llu},\"cross_thread_frees\":{\"frees\":%llu,\"bytes\":%llu}",
            (ull)p->chains, (ull)p->reallocs, (ull)p->longest_chain, (ull)p->copied_bytes,
            (ull)p->cross_frees, (ull)p->cross_bytes);
}

static void ranked_json(FILE *out, vt_symbols *syms, const vt_model *m, enum vt_pattern_key key,
                        size_t top)
{
    size_t *idx = malloc((top ? top : 1) * sizeof(size_t)), total = 0;
    size_t n = idx ? vt_sites_rank_pattern(m, key, idx, top, &total) : 0;
    fprintf(out, "{\"total\":%zu,\"entries\":[", total);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? "," : "", out);
        vt__json_site(out, syms, m, &m->sites[idx[i]]);
    }
    fputs("]}", out);
    free(idx);
}

static void percentile_json(FILE *out, const char *name, const uint64_t *h, unsigned pct)
{
    uint64_t v = vt_lifetime_percentile(h, pct);
    if (v == UINT64_MAX)
        fprintf(out, ",\"%s\":null", name);
    else
        fprintf(out, ",\"%s\":%llu", name, (ull)v);
}

void vt__json_patterns(FILE *out, vt_symbols *syms, const vt_model *m, const vt_report_opts *o)
{
    const vt_timeline *t = &m->timeline;
    const vt_lifetimes *lt = &m->lifetimes;
    const vt_patterns *p = &m->patterns;

    fputs(",\"over_time\":{\"buckets\":[", out);
    for (size_t i = 0; i < t->n_buckets; i++) {
        const vt_heap_bucket *b = &t->buckets[i];
        fprintf(out,
                "%s{\"end_ns\":%llu,\"min_bytes\":%llu,\"max_bytes\":%llu,\"end_bytes\":%llu,"
                "\"alloc_calls\":%llu,\"alloc_bytes\":%llu}",
                i ? "," : "", (ull)b->end_ns, (ull)b->min_bytes, (ull)b->max_bytes,
                (ull)b->end_bytes, (ull)b->alloc_calls, (ull)b->alloc_bytes);
    }
    fputs("],\"windows_end_ns\":[", out);
    for (size_t j = 0; j < t->n_windows; j++)
        fprintf(out, "%s%llu", j ? "," : "", (ull)t->window_end_ns[j]);
    fprintf(out,
            "],\"growth_rule\":{\"run_pct\":%d,\"min_windows\":%d,\"rise_pct\":%d,"
            "\"min_bytes\":%u,\"min_ratio\":2},\"growth_suspects\":",
            VT_GROWTH_RUN_PCT, VT_GROWTH_MIN_WINDOWS, VT_GROWTH_RISE_PCT, VT_GROWTH_MIN_BYTES);
    ranked_json(out, syms, m, VT_BY_GROWTH, o->top);
    fprintf(out, ",\"live_at_end\":{\"blocks\":%llu,\"oldest_ns\":%llu,\"age_histogram\":",
            (ull)lt->live_blocks, (ull)lt->oldest_ns);
    life_hist_json(out, lt->live_age);
    fputs(",\"classes\":", out);
    classes_json(out, lt->live_class);
    fputs("}},\"lifetimes\":{\"histogram\":", out);
    life_hist_json(out, lt->freed);
    fputs(",\"classes\":", out);
    classes_json(out, lt->freed_class);
    percentile_json(out, "p50_ns", lt->freed, 50);
    percentile_json(out, "p90_ns", lt->freed, 90);
    percentile_json(out, "p99_ns", lt->freed, 99);

    fputs("},\"sizes\":{\"classes\":[", out);
    uint64_t calls[VT_SIZE_COARSE] = {0}, bytes[VT_SIZE_COARSE] = {0};
    int first = 1;
    for (int k = 0; k < VT_SIZE_CLASSES; k++) {
        calls[vt_size_coarse_of(k)] += p->size_calls[k];
        bytes[vt_size_coarse_of(k)] += p->size_bytes[k];
        if (!p->size_calls[k])
            continue;
        fputs(first ? "{\"max_bytes\":" : ",{\"max_bytes\":", out);
        size_max_json(out, k);
        fprintf(out, ",\"calls\":%llu,\"bytes\":%llu}", (ull)p->size_calls[k],
                (ull)p->size_bytes[k]);
        first = 0;
    }
    fputs("],\"coarse\":[", out);
    for (int k = 0; k < VT_SIZE_COARSE; k++) {
        fprintf(out, "%s{\"name\":", k ? "," : "");
        vt__json_str(out, vt_size_coarse_name(k));
        fprintf(out, ",\"calls\":%llu,\"bytes\":%llu}", (ull)calls[k], (ull)bytes[k]);
    }
    fprintf(out,
            "]},\"realloc_chains\":{\"chains\":%llu,\"reallocs\":%llu,\"longest\":%llu,"
            "\"copied_bytes_max\":%llu,\"sites\":",
            (ull)p->chains, (ull)p->reallocs, (ull)p->longest_chain, (ull)p->copied_bytes);
    ranked_json(out, syms, m, VT_BY_REALLOCS, o->top);
    fprintf(out, "},\"one_size_sites\":");
    ranked_json(out, syms, m, VT_BY_ONE_SIZE, o->top);
    fprintf(out, ",\"cross_thread_frees\":{\"frees\":%llu,\"bytes\":%llu,\"pairs\":[",
            (ull)p->cross_frees, (ull)p->cross_bytes);
    for (size_t i = 0; i < p->n_pairs && i < o->top; i++) {
        const vt_thread_pair *q = &p->pairs[i];
        fprintf(out, "%s{\"alloc_tid\":%u,\"free_tid\":%u,\"frees\":%llu,\"bytes\":%llu}",
                i ? "," : "", q->alloc_thread < m->n_threads ? m->threads[q->alloc_thread].tid : 0,
                q->free_thread < m->n_threads ? m->threads[q->free_thread].tid : 0, (ull)q->frees,
                (ull)q->bytes);
    }
    fprintf(out, "],\"pairs_total\":%zu,\"other_pairs\":{\"frees\":%llu,\"bytes\":%llu},\"sites\":",
            p->n_pairs, (ull)p->other_pair_frees, (ull)p->other_pair_bytes);
    ranked_json(out, syms, m, VT_BY_CROSS_FREES, o->top);
    fputc('}', out);
}

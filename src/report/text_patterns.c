/* The text report's sections over time and of allocation patterns. The figures come from
 * analyze/timeline.c, lifetime.c and patterns.c; this file lays them out. */
#include <stdlib.h>
#include <string.h>

#include "analyze/sites.h"
#include "report/text-int.h"

#define COLUMNS 64

/* Ten levels, blank for nothing at all. */
static const char levels[] = " .:-=+*#%@";

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void sparkline(FILE *out, const uint64_t *v, size_t n, uint64_t max)
{
    fputc('|', out);
    for (size_t i = 0; i < n; i++) {
        int l = v[i] && max ? 1 + (int)((double)v[i] * 8.0 / (double)max) : 0;
        fputc(levels[l > 9 ? 9 : l], out);
    }
    fputc('|', out);
}

static const char *fmt_ns(uint64_t ns, char *buf, size_t n)
{
    static const struct {
        double per;
        const char *unit;
    } units[] = {{1e3, "us"}, {1e6, "ms"}, {1e9, "s"}, {6e10, "min"}, {3.6e12, "h"}};
    if (ns == UINT64_MAX) {
        snprintf(buf, n, "forever");
        return buf;
    }
    if (ns < 1000) {
        snprintf(buf, n, "%llu ns", (unsigned long long)ns);
        return buf;
    }
    int u = 0;
    while (u < 4 && (double)ns >= (u < 2 ? 1000 : 60) * units[u].per)
        u++;
    double v = (double)ns / units[u].per;
    snprintf(buf, n, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u].unit);
    return buf;
}

/* The ranking by key with a stack under each entry; entry() prints the entry's line. */
static void print_ranked(const struct ctx *c, enum vt_pattern_key key, const char *title,
                         void (*entry)(const struct ctx *c, size_t site))
{
    size_t *idx = malloc((c->o->top ? c->o->top : 1) * sizeof(size_t)), total = 0;
    size_t n = idx ? vt_sites_rank_pattern(c->m, key, idx, c->o->top, &total) : 0;
    if (n) {
        vt__text_section(c, title, n, total, "sites");
        for (size_t i = 0; i < n; i++) {
            const vt_site *s = &c->m->sites[idx[i]];
            fprintf(c->out, "  %s%zu.%s ", vt__text_bold(c), i + 1, vt__text_reset(c));
            entry(c, idx[i]);
            vt__text_fn_list(c, s->fn_mask);
            fputc('\n', c->out);
            vt__text_stack(c, &c->m->stacks[s->stack]);
        }
    }
    free(idx);
}

static void growth_entry(const struct ctx *c, size_t i)
{
    const vt_site_growth *g = &c->m->timeline.sites[i];
    const vt_timeline *t = &c->m->timeline;
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    fprintf(c->out, "%s at %s -> %s at %s, rose in %u of %u steps; %s at the end",
            vt_fmt_bytes(g->from_bytes, b1, sizeof(b1)),
            fmt_ns(t->window_end_ns[0], b2, sizeof(b2)), vt_fmt_bytes(g->to_bytes, b3, sizeof(b3)),
            fmt_ns(t->window_end_ns[g->windows - 1], b4, sizeof(b4)), g->rises, g->windows - 1,
            vt_fmt_bytes(c->m->sites[i].live_bytes, b5, sizeof(b5)));
}

static void print_growth(const struct ctx *c)
{
    if (!c->m->timeline.n_suspects) {
        fputs("  growing sites      none by the rule of docs/REPORT.md\n", c->out);
        return;
    }
    char title[160];
    snprintf(title, sizeof(title),
             "Growing through the run%s (live bytes rose in %d%%+ of the windows up to %d%% of "
             "the run)",
             vt__text_reset(c), VT_GROWTH_RISE_PCT, VT_GROWTH_RUN_PCT);
    print_ranked(c, VT_BY_GROWTH, title, growth_entry);
}

void vt__text_over_time(const struct ctx *c)
{
    const vt_model *m = c->m;
    const vt_timeline *t = &m->timeline;
    FILE *out = c->out;
    char b1[32], b2[32];
    if (!t->n_buckets || !m->alloc_calls)
        return;
    size_t cols = t->n_buckets < COLUMNS ? t->n_buckets : COLUMNS;
    uint64_t heap[COLUMNS] = {0}, calls[COLUMNS] = {0}, max_heap = 0, max_calls = 0;
    for (size_t k = 0; k < cols; k++) {
        for (size_t b = k * t->n_buckets / cols; b < (k + 1) * t->n_buckets / cols; b++) {
            const vt_heap_bucket *h = &t->buckets[b];
            heap[k] = h->max_bytes > heap[k] ? h->max_bytes : heap[k];
            calls[k] += h->alloc_calls;
        }
        max_heap = heap[k] > max_heap ? heap[k] : max_heap;
        max_calls = calls[k] > max_calls ? calls[k] : max_calls;
    }
    fprintf(out, "\n%sOver time%s (0 to %s, %zu columns)\n", vt__text_bold(c), vt__text_reset(c),
            fmt_ns(m->duration_ns, b1, sizeof(b1)), cols);
    fputs("  heap in use        ", out);
    sparkline(out, heap, cols, max_heap);
    fprintf(out, " up to %s\n", vt_fmt_bytes(max_heap, b1, sizeof(b1)));
    fputs("  allocations        ", out);
    sparkline(out, calls, cols, max_calls);
    fprintf(out, " up to %s per column\n", vt_fmt_count(max_calls, b1, sizeof(b1)));
    const vt_lifetimes *lt = &m->lifetimes;
    if (lt->live_blocks) {
        fprintf(out, "  live at the end    %s blocks; the oldest is %s old\n",
                vt_fmt_count(lt->live_blocks, b1, sizeof(b1)),
                fmt_ns(lt->oldest_ns, b2, sizeof(b2)));
    }
    print_growth(c);
}

static void print_lifetimes(const struct ctx *c)
{
    static const char *const label[VT_LIFE_CLASSES] = {
        "short     (< 1 s)      ", "medium    (1 s - 1 min)", "long      (1 min - 1 h)",
        "permanent (>= 1 h)     "};
    const vt_lifetimes *lt = &c->m->lifetimes;
    FILE *out = c->out;
    char b1[32], b2[32], b3[32];
    uint64_t freed = 0;
    for (int k = 0; k < VT_LIFE_CLASSES; k++)
        freed += lt->freed_class[k];
    if (!freed && !lt->live_blocks)
        return;
    fprintf(out, "\n%sLifetimes%s (allocation to release; blocks live at the end by their age)\n",
            vt__text_bold(c), vt__text_reset(c));
    fprintf(out, "  %-23s %14s %7s %16s\n", "", "released", "", "live at the end");
    for (int k = 0; k < VT_LIFE_CLASSES; k++)
        fprintf(out, "  %s %14s %6.1f%% %16s\n", label[k],
                vt_fmt_count(lt->freed_class[k], b1, sizeof(b1)), pct(lt->freed_class[k], freed),
                vt_fmt_count(lt->live_class[k], b2, sizeof(b2)));
    if (freed)
        fprintf(out, "  released blocks: half lived under %s, 90%% under %s, 99%% under %s\n",
                fmt_ns(vt_lifetime_percentile(lt->freed, 50), b1, sizeof(b1)),
                fmt_ns(vt_lifetime_percentile(lt->freed, 90), b2, sizeof(b2)),
                fmt_ns(vt_lifetime_percentile(lt->freed, 99), b3, sizeof(b3)));
}

static void print_sizes(const struct ctx *c)
{
    const vt_patterns *p = &c->m->patterns;
    FILE *out = c->out;
    char b1[32], b2[32];
    uint64_t calls[VT_SIZE_COARSE] = {0}, bytes[VT_SIZE_COARSE] = {0}, n = 0, total = 0;
    for (int k = 0; k < VT_SIZE_CLASSES; k++) {
        calls[vt_size_coarse_of(k)] += p->size_calls[k];
        bytes[vt_size_coarse_of(k)] += p->size_bytes[k];
        n += p->size_calls[k];
        total += p->size_bytes[k];
    }
    if (!n)
        return;
    fprintf(out, "\n%sAllocation sizes%s\n", vt__text_bold(c), vt__text_reset(c));
    fprintf(out, "  %-16s %14s %7s %11s %7s\n", "", "calls", "", "bytes", "");
    for (int k = 0; k < VT_SIZE_COARSE; k++)
        fprintf(out, "  %-16s %14s %6.1f%% %11s %6.1f%%\n", vt_size_coarse_name(k),
                vt_fmt_count(calls[k], b1, sizeof(b1)), pct(calls[k], n),
                vt_fmt_bytes(bytes[k], b2, sizeof(b2)), pct(bytes[k], total));
    /* The three commonest power-of-two classes. */
    int top[3] = {-1, -1, -1};
    for (int k = 0; k < VT_SIZE_CLASSES; k++) {
        if (!p->size_calls[k])
            continue;
        for (int j = 0; j < 3; j++) {
            if (top[j] < 0 || p->size_calls[k] > p->size_calls[top[j]]) {
                memmove(top + j + 1, top + j, (size_t)(2 - j) * sizeof(int));
                top[j] = k;
                break;
            }
        }
    }
    fputs("  commonest classes ", out);
    for (int j = 0; j < 3 && top[j] >= 0; j++)
        fprintf(out, "%s<= %s %.1f%%", j ? ", " : "",
                top[j] == VT_SIZE_CLASSES - 1
                    ? "any"
                    : vt_fmt_bytes(vt_size_class_max(top[j]), b1, sizeof(b1)),
                pct(p->size_calls[top[j]], n));
    fputc('\n', out);
}

static void realloc_entry(const struct ctx *c, size_t i)
{
    const vt_site_patterns *p = &c->m->patterns.sites[i];
    char b1[32], b2[32], b3[32];
    fprintf(c->out, "%s chain%s, %s realloc%s, the longest %llu; at most %s copied",
            vt_fmt_count(p->chains, b1, sizeof(b1)), p->chains == 1 ? "" : "s",
            vt_fmt_count(p->reallocs, b2, sizeof(b2)), p->reallocs == 1 ? "" : "s",
            (unsigned long long)p->longest_chain, vt_fmt_bytes(p->copied_bytes, b3, sizeof(b3)));
}

static void one_size_entry(const struct ctx *c, size_t i)
{
    const vt_site *s = &c->m->sites[i];
    char b1[32], b2[32], b3[32];
    fprintf(c->out, "%s blocks of %s, %s live at the end",
            vt_fmt_count(s->alloc_calls, b1, sizeof(b1)),
            vt_fmt_bytes(c->m->patterns.sites[i].first_size, b2, sizeof(b2)),
            vt_fmt_count(s->live_blocks, b3, sizeof(b3)));
}

static void cross_entry(const struct ctx *c, size_t i)
{
    const vt_site_patterns *p = &c->m->patterns.sites[i];
    char b1[32], b2[32];
    fprintf(c->out, "%s blocks, %s made here and released by another thread",
            vt_fmt_count(p->cross_frees, b1, sizeof(b1)),
            vt_fmt_bytes(p->cross_bytes, b2, sizeof(b2)));
}

static void print_cross(const struct ctx *c)
{
    const vt_model *m = c->m;
    const vt_patterns *p = &m->patterns;
    FILE *out = c->out;
    char b1[32], b2[32];
    if (!p->cross_frees)
        return;
    fprintf(out, "\n%sReleased by another thread%s: %s blocks, %s\n", vt__text_bold(c),
            vt__text_reset(c), vt_fmt_count(p->cross_frees, b1, sizeof(b1)),
            vt_fmt_bytes(p->cross_bytes, b2, sizeof(b2)));
    size_t n = p->n_pairs < c->o->top ? p->n_pairs : c->o->top;
    for (size_t i = 0; i < n; i++) {
        const vt_thread_pair *q = &p->pairs[i];
        fprintf(out, "  made by tid %-8u released by tid %-8u %s blocks, %s\n",
                q->alloc_thread < m->n_threads ? m->threads[q->alloc_thread].tid : 0,
                q->free_thread < m->n_threads ? m->threads[q->free_thread].tid : 0,
                vt_fmt_count(q->frees, b1, sizeof(b1)), vt_fmt_bytes(q->bytes, b2, sizeof(b2)));
    }
    if (n < p->n_pairs)
        fprintf(out, "  ... %zu more pairs of threads (--top N for more)\n", p->n_pairs - n);
    if (p->other_pair_frees)
        fprintf(out, "  ... and %s blocks between further pairs of threads\n",
                vt_fmt_count(p->other_pair_frees, b1, sizeof(b1)));
    print_ranked(c, VT_BY_CROSS_FREES, "Sites whose blocks another thread released", cross_entry);
}

void vt__text_patterns(const struct ctx *c)
{
    const vt_patterns *p = &c->m->patterns;
    char b1[32], b2[32], b3[32];
    print_lifetimes(c);
    print_sizes(c);
    if (p->chains) {
        fprintf(c->out,
                "\n%sRealloc chains%s: %s chain%s of %s reallocs, the longest %llu; at most %s "
                "copied\n",
                vt__text_bold(c), vt__text_reset(c), vt_fmt_count(p->chains, b1, sizeof(b1)),
                p->chains == 1 ? "" : "s", vt_fmt_count(p->reallocs, b2, sizeof(b2)),
                (unsigned long long)p->longest_chain,
                vt_fmt_bytes(p->copied_bytes, b3, sizeof(b3)));
        print_ranked(c, VT_BY_REALLOCS, "Sites whose blocks grew by realloc", realloc_entry);
    }
    char title[96];
    snprintf(title, sizeof(title), "Sites that make blocks of one size, %d calls or more",
             VT_ONE_SIZE_MIN_CALLS);
    print_ranked(c, VT_BY_ONE_SIZE, title, one_size_entry);
    print_cross(c);
}

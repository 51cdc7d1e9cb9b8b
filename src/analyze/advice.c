/* Advice with evidence and the memory-health rating (docs/REPORT.md). Each rule reads figures
 * the model and the analyses already hold, and says which ones fired it. */
#include "analyze/advice.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/frag.h"
#include "util/fmt.h"

/* The thresholds of the rules; docs/REPORT.md quotes them. */
#define LEAK_SITES 5               /* sites named for each of the leak classes */
#define CRITICAL_LEAK (1ull << 20) /* definitely lost at a site: critical from here... */
#define CRITICAL_LEAK_PEAK_PCT 1.0 /* ...or from this share of the peak heap */
#define POOL_MIN_CALLS 10000       /* allocations at a one-size site */
#define POOL_SHORT_NS (1ull << 20) /* a block freed within 2^20 ns (1.05 ms) is short-lived */
#define POOL_SHORT_PCT 90.0        /* share of its allocations that are short-lived */
#define TEMP_MIN 10000             /* temporaries at a site */
#define TEMP_PCT 50.0              /* share of its allocations that are temporaries */
#define REALLOC_MIN 100            /* reallocs in chains that began at a site */
#define REALLOC_LONGEST 8          /* reallocs in the longest of them */
#define WASTE_MIN (1ull << 20)     /* waste over all a site's allocations */
#define WASTE_PCT 25.0             /* waste over the usable size */
#define OVERHEAD_PCT 50.0          /* (footprint - heap) / footprint at the peak */
#define OVERHEAD_MIN (16ull << 20) /* footprint - heap at the peak */

struct list {
    vt_advice *items;
    size_t n, cap;
    int failed;
};

static vt_advice *add(struct list *l, enum vt_advice_kind kind, enum vt_severity sev, long site,
                      long thread)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        vt_advice *n = realloc(l->items, cap * sizeof(*n));
        if (!n) {
            l->failed = 1;
            return NULL;
        }
        l->items = n;
        l->cap = cap;
    }
    vt_advice *a = &l->items[l->n++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    a->severity = sev;
    a->site = site;
    a->thread = thread;
    return a;
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* The sites with blocks of leak class cls, most bytes first, at most max. */
static size_t top_sites(const vt_model *m, int cls, size_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_sites; i++) {
        uint64_t b = m->sites[i].leak_bytes[cls];
        if (!m->sites[i].leak_blocks[cls])
            continue;
        size_t k = n < max ? n++ : max;
        if (k == max && b <= m->sites[out[max - 1]].leak_bytes[cls])
            continue;
        if (k == max)
            k = max - 1;
        while (k > 0 && m->sites[out[k - 1]].leak_bytes[cls] < b) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = i;
    }
    return n;
}

static void leaks(const vt_model *m, struct list *l)
{
    if (!m->scan.present || m->scan.status != VT_SCAN_DONE)
        return;
    size_t idx[LEAK_SITES];
    char b1[32], b2[32], b3[32];
    size_t n = top_sites(m, VT_LEAK_DEFINITE, idx, LEAK_SITES);
    for (size_t i = 0; i < n; i++) {
        const vt_site *s = &m->sites[idx[i]];
        uint64_t bytes = s->leak_bytes[VT_LEAK_DEFINITE];
        int critical =
            bytes >= CRITICAL_LEAK || pct(bytes, m->peak_bytes) >= CRITICAL_LEAK_PEAK_PCT;
        vt_advice *a =
            add(l, VT_ADVICE_LEAK, critical ? VT_SEV_CRITICAL : VT_SEV_WARNING, (long)idx[i], -1);
        if (!a)
            return;
        int len = snprintf(a->evidence, sizeof(a->evidence),
                           "%s block%s, %s definitely lost here (%.1f%% of the peak heap)",
                           vt_fmt_count(s->leak_blocks[VT_LEAK_DEFINITE], b1, sizeof(b1)),
                           s->leak_blocks[VT_LEAK_DEFINITE] == 1 ? "" : "s",
                           vt_fmt_bytes(bytes, b2, sizeof(b2)), pct(bytes, m->peak_bytes));
        if (m->leak_bytes[VT_LEAK_INDIRECT] && len > 0 && (size_t)len < sizeof(a->evidence))
            snprintf(a->evidence + len, sizeof(a->evidence) - (size_t)len,
                     "; the program has %s more indirectly lost (reachable only from lost "
                     "blocks)",
                     vt_fmt_bytes(m->leak_bytes[VT_LEAK_INDIRECT], b3, sizeof(b3)));
        a->action = "free these blocks before the last pointer to them is dropped";
        a->saving = bytes;
        a->saving_unit = "bytes leaked";
    }
    n = top_sites(m, VT_LEAK_POSSIBLE, idx, LEAK_SITES);
    for (size_t i = 0; i < n; i++) {
        const vt_site *s = &m->sites[idx[i]];
        vt_advice *a = add(l, VT_ADVICE_POSSIBLE, VT_SEV_WARNING, (long)idx[i], -1);
        if (!a)
            return;
        snprintf(a->evidence, sizeof(a->evidence),
                 "%s block%s, %s reached at exit only through pointers into their middle",
                 vt_fmt_count(s->leak_blocks[VT_LEAK_POSSIBLE], b1, sizeof(b1)),
                 s->leak_blocks[VT_LEAK_POSSIBLE] == 1 ? "" : "s",
                 vt_fmt_bytes(s->leak_bytes[VT_LEAK_POSSIBLE], b2, sizeof(b2)));
        a->action = "check whether the interior pointer is deliberate (a header before the "
                    "data); if not, these blocks leak";
        a->saving = s->leak_bytes[VT_LEAK_POSSIBLE];
        a->saving_unit = "bytes leaked";
        a->saving_is_bound = 1;
    }
}

static void growth(const vt_model *m, struct list *l)
{
    const vt_timeline *t = &m->timeline;
    char b1[32], b2[32];
    for (size_t i = 0; i < t->n_sites && i < m->n_sites; i++) {
        const vt_site_growth *g = &t->sites[i];
        if (!g->suspect)
            continue;
        /* The most the site held above its first window, over the whole run: the windows the
         * rule looks at are a share of the run's time, and how much of the growth falls in
         * them depends on how fast the program ran. */
        uint64_t most = g->to_bytes;
        for (size_t j = 0; j < t->n_windows && j < VT_GROWTH_POINTS; j++)
            if (g->points[j] > most)
                most = g->points[j];
        uint64_t grown = most - g->from_bytes;
        vt_advice *a = add(l, VT_ADVICE_GROWTH, VT_SEV_WARNING, (long)i, -1);
        if (!a)
            return;
        snprintf(a->evidence, sizeof(a->evidence),
                 "live bytes rose from %s to %s, in %u of the %u steps between windows of the "
                 "run's first 90%%",
                 vt_fmt_bytes(g->from_bytes, b1, sizeof(b1)),
                 vt_fmt_bytes(g->to_bytes, b2, sizeof(b2)), g->rises,
                 g->windows ? g->windows - 1 : 0);
        a->action = "look for a cache, list or map without a bound, or blocks freed only at "
                    "teardown; a long-running process keeps growing";
        a->saving = grown;
        a->saving_unit = "bytes the site grew by, at its highest";
    }
}

/* Blocks of site i freed within POOL_SHORT_NS. */
static uint64_t freed_short(const vt_model *m, size_t i, uint64_t *freed)
{
    const vt_lifetimes *lt = &m->lifetimes;
    *freed = 0;
    if (i >= lt->n_sites)
        return 0;
    const vt_site_lifetimes *s = &lt->sites[i];
    uint64_t n = 0;
    for (int b = 0; b < VT_LIFETIME_BUCKETS; b++) {
        uint64_t c = vt_hist_get(&s->freed, b);
        *freed += c;
        /* Buckets are powers of two of ns: those that end by POOL_SHORT_NS. */
        if (b + 1 < VT_LIFETIME_BUCKETS && vt_lifetime_bucket_floor(b + 1) <= POOL_SHORT_NS)
            n += c;
    }
    return n;
}

static void hot_paths(const vt_model *m, struct list *l)
{
    char b1[32], b2[32], b3[32];
    for (size_t i = 0; i < m->n_sites; i++) {
        const vt_site *s = &m->sites[i];
        const vt_site_patterns *p = i < m->patterns.n_sites ? &m->patterns.sites[i] : NULL;
        uint64_t freed = 0, quick = freed_short(m, i, &freed);
        if (p && p->sizes == 1 && s->alloc_calls >= POOL_MIN_CALLS &&
            pct(quick, s->alloc_calls) >= POOL_SHORT_PCT) {
            vt_advice *a = add(l, VT_ADVICE_POOL, VT_SEV_INFO, (long)i, -1);
            if (!a)
                return;
            uint64_t held = s->peak_blocks > s->live_blocks ? s->peak_blocks : s->live_blocks;
            snprintf(a->evidence, sizeof(a->evidence),
                     "%s allocations, all of %s; %.1f%% freed within 1.05 ms; %s of them live "
                     "at the heap peak",
                     vt_fmt_count(s->alloc_calls, b1, sizeof(b1)),
                     vt_fmt_bytes(p->first_size, b2, sizeof(b2)), pct(quick, s->alloc_calls),
                     vt_fmt_count(s->peak_blocks, b3, sizeof(b3)));
            a->action = "keep these objects in a pool (vt_pool, or a free list) and reuse them "
                        "instead of calling malloc and free each time";
            a->saving = s->alloc_calls > held ? s->alloc_calls - held : 0;
            a->saving_unit = "allocation calls (a pool as large as the blocks live at the peak)";
            a->saving_is_bound = 1;
            continue; /* a pool removes the temporaries too */
        }
        if (s->temporary >= TEMP_MIN && pct(s->temporary, s->alloc_calls) >= TEMP_PCT) {
            vt_advice *a = add(l, VT_ADVICE_TEMPORARY, VT_SEV_INFO, (long)i, -1);
            if (!a)
                return;
            snprintf(a->evidence, sizeof(a->evidence),
                     "%s of its %s allocations (%.1f%%) are temporaries: freed by their thread "
                     "before it allocated anything else",
                     vt_fmt_count(s->temporary, b1, sizeof(b1)),
                     vt_fmt_count(s->alloc_calls, b2, sizeof(b2)),
                     pct(s->temporary, s->alloc_calls));
            a->action = "use a buffer on the stack, or keep one buffer and reuse it across calls";
            a->saving = s->temporary;
            a->saving_unit = "allocation calls";
        }
    }
}

static void reallocs(const vt_model *m, struct list *l)
{
    char b1[32], b2[32], b3[32];
    for (size_t i = 0; i < m->patterns.n_sites && i < m->n_sites; i++) {
        const vt_site_patterns *p = &m->patterns.sites[i];
        if (p->reallocs < REALLOC_MIN || p->longest_chain < REALLOC_LONGEST)
            continue;
        vt_advice *a = add(l, VT_ADVICE_REALLOC, VT_SEV_INFO, (long)i, -1);
        if (!a)
            return;
        snprintf(a->evidence, sizeof(a->evidence),
                 "%s realloc chains began here with %s reallocs, the longest %llu; they copied "
                 "at most %s",
                 vt_fmt_count(p->chains, b1, sizeof(b1)), vt_fmt_count(p->reallocs, b2, sizeof(b2)),
                 (unsigned long long)p->longest_chain,
                 vt_fmt_bytes(p->copied_bytes, b3, sizeof(b3)));
        a->action = "reserve the final capacity up front, or grow the buffer geometrically "
                    "(doubling) rather than by a fixed step";
        a->saving = p->reallocs > p->chains ? p->reallocs - p->chains : 0;
        a->saving_unit = "realloc calls (one allocation per chain instead)";
    }
}

static void waste(const vt_model *m, struct list *l)
{
    if (!m->has_waste)
        return;
    char b1[32], b2[32], b3[32];
    for (size_t i = 0; i < m->n_sites; i++) {
        const vt_site *s = &m->sites[i];
        vt_waste w;
        vt_frag_site_waste(s, 0, &w);
        if (w.waste < WASTE_MIN || w.pct < WASTE_PCT)
            continue;
        vt_advice *a = add(l, VT_ADVICE_WASTE, VT_SEV_INFO, (long)i, -1);
        if (!a)
            return;
        vt_waste at_peak;
        vt_frag_site_waste(s, 1, &at_peak);
        snprintf(a->evidence, sizeof(a->evidence),
                 "requests of %s in all took %s of usable memory: %.1f%% was rounding (%s at "
                 "the heap peak)",
                 vt_fmt_bytes(w.requested, b1, sizeof(b1)), vt_fmt_bytes(w.usable, b2, sizeof(b2)),
                 w.pct, vt_fmt_bytes(at_peak.waste, b3, sizeof(b3)));
        a->action = "ask for sizes the allocator serves exactly (glibc: 24 + 16k bytes), or "
                    "carve small objects out of larger blocks";
        a->saving = at_peak.waste;
        a->saving_unit = "bytes at the heap peak";
        a->saving_is_bound = 1;
    }
}

static void stacks(const vt_model *m, struct list *l)
{
    char b1[32], b2[32];
    for (size_t i = 0; i < m->n_threads; i++) {
        const vt_thread_stats *t = &m->threads[i];
        if (!vt_stack_near_limit(t))
            continue;
        vt_advice *a = add(l, VT_ADVICE_STACK, VT_SEV_CRITICAL, -1, (long)i);
        if (!a)
            return;
        snprintf(a->evidence, sizeof(a->evidence), "thread %u used %s of its %s stack (%.1f%%)",
                 t->tid, vt_fmt_bytes(t->stack_used, b1, sizeof(b1)),
                 vt_fmt_bytes(t->stack_size, b2, sizeof(b2)), pct(t->stack_used, t->stack_size));
        a->action = "give the thread a larger stack (pthread_attr_setstacksize, ulimit -s), or "
                    "move large local arrays and deep recursion to the heap";
        a->saving_unit = "";
    }
}

/* Whether the allocator held much more than the heap after the peak; *f gets the figures. */
static int overhead_is_high(const vt_model *m, vt_mem_figures *f)
{
    if (!m->has_mem_at_peak)
        return 0;
    vt_mem_figures_of(&m->mem_at_peak, f);
    return f->footprint >= f->heap && f->overhead_pct >= OVERHEAD_PCT &&
           f->footprint - f->heap >= OVERHEAD_MIN;
}

static void overhead(const vt_model *m, struct list *l)
{
    vt_mem_figures f;
    if (!overhead_is_high(m, &f))
        return;
    char b1[32], b2[32], b3[32];
    vt_advice *a = add(l, VT_ADVICE_OVERHEAD, VT_SEV_WARNING, -1, -1);
    if (!a)
        return;
    snprintf(a->evidence, sizeof(a->evidence),
             "at the heap peak the allocator held %s from the system for %s of live heap "
             "(%.1f%% overhead), %s of it free inside its arenas",
             vt_fmt_bytes(f.footprint, b1, sizeof(b1)), vt_fmt_bytes(f.heap, b2, sizeof(b2)),
             f.overhead_pct, vt_fmt_bytes(f.free_held, b3, sizeof(b3)));
    a->action = "free long-lived blocks apart from short-lived ones (or allocate them first), "
                "call malloc_trim after a burst, or cap the arenas with MALLOC_ARENA_MAX";
    a->saving = f.free_held;
    a->saving_unit = "bytes held free by the allocator";
    a->saving_is_bound = 1;
}

static int by_severity(const void *x, const void *y)
{
    const vt_advice *a = x, *b = y;
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->saving != b->saving)
        return a->saving > b->saving ? -1 : 1;
    return a->site < b->site ? -1 : a->site > b->site;
}

vt_advice *vt_advise(const vt_model *m, size_t *n)
{
    struct list l = {0};
    leaks(m, &l);
    growth(m, &l);
    hot_paths(m, &l);
    reallocs(m, &l);
    waste(m, &l);
    stacks(m, &l);
    overhead(m, &l);
    if (l.failed || !l.n) {
        free(l.items);
        *n = 0;
        return NULL;
    }
    qsort(l.items, l.n, sizeof(*l.items), by_severity);
    *n = l.n;
    return l.items;
}

const char *vt_advice_kind_name(enum vt_advice_kind k)
{
    static const char *const names[VT_ADVICE_KINDS] = {
        "leak",    "possible-leak", "growth", "pool",     "temporary",
        "realloc", "waste",         "stack",  "overhead",
    };
    return k < VT_ADVICE_KINDS ? names[k] : "?";
}

const char *vt_severity_name(enum vt_severity s)
{
    return s == VT_SEV_CRITICAL ? "critical" : s == VT_SEV_WARNING ? "warning" : "info";
}

static void deduct(vt_health *h, int points, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void deduct(vt_health *h, int points, const char *fmt, ...)
{
    h->score -= points;
    if (h->n_reasons == VT_HEALTH_REASONS)
        return;
    h->reasons[h->n_reasons].points = points;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->reasons[h->n_reasons].text, sizeof(h->reasons[0].text), fmt, ap);
    va_end(ap);
    h->n_reasons++;
}

void vt_health_of(const vt_model *m, vt_health *h)
{
    char b1[32], b2[32];
    memset(h, 0, sizeof(*h));
    h->score = 100;
    if (m->scan.present && m->scan.status == VT_SCAN_DONE) {
        uint64_t lost = m->leak_bytes[VT_LEAK_DEFINITE];
        if (lost && (lost >= CRITICAL_LEAK || pct(lost, m->peak_bytes) >= CRITICAL_LEAK_PEAK_PCT))
            deduct(h, 30, "%s definitely lost (%.1f%% of the peak heap)",
                   vt_fmt_bytes(lost, b1, sizeof(b1)), pct(lost, m->peak_bytes));
        else if (lost)
            deduct(h, 15, "%s definitely lost", vt_fmt_bytes(lost, b1, sizeof(b1)));
        if (m->leak_blocks[VT_LEAK_POSSIBLE])
            deduct(h, 5, "%s possibly lost",
                   vt_fmt_bytes(m->leak_bytes[VT_LEAK_POSSIBLE], b1, sizeof(b1)));
    }
    if (m->timeline.n_suspects) {
        int points = m->timeline.n_suspects >= 2 ? 30 : 15;
        deduct(h, points, "%zu site%s whose live bytes keep growing", m->timeline.n_suspects,
               m->timeline.n_suspects == 1 ? "" : "s");
    }
    size_t near = 0;
    for (size_t i = 0; i < m->n_threads; i++)
        near += vt_stack_near_limit(&m->threads[i]) != 0;
    if (near)
        deduct(h, near >= 2 ? 40 : 20, "%zu thread%s within 10%% of the stack limit", near,
               near == 1 ? "" : "s");
    if (m->alloc_calls && pct(m->temporary, m->alloc_calls) >= 30.0)
        deduct(h, 10, "%.1f%% of allocations are temporaries", pct(m->temporary, m->alloc_calls));
    if (m->has_waste) {
        vt_waste w;
        vt_frag_waste(m, 0, &w);
        if (w.pct >= 20.0)
            deduct(h, 5, "%.1f%% of usable memory was rounding (%s over the run)", w.pct,
                   vt_fmt_bytes(w.waste, b1, sizeof(b1)));
    }
    vt_mem_figures f;
    if (overhead_is_high(m, &f))
        deduct(h, 10, "the allocator held %s for %s of heap at the peak (%.1f%% overhead)",
               vt_fmt_bytes(f.footprint, b1, sizeof(b1)), vt_fmt_bytes(f.heap, b2, sizeof(b2)),
               f.overhead_pct);
    if (h->score < 0)
        h->score = 0;
    h->rating = h->score >= 90   ? "excellent"
                : h->score >= 75 ? "good"
                : h->score >= 55 ? "fair"
                : h->score >= 35 ? "poor"
                                 : "critical";
}

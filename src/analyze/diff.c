/* Comparing runs (diff.h): figures per run, and sites matched by symbolized stack. */
#include "analyze/diff.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/cpu.h"
#include "analyze/sites.h"
#include "analyze/zones.h"
#include "util/array.h"
#include "util/error.h"

static const char *const metric_names[VT_DM_COUNT] = {"calls", "bytes", "peak", "leaked",
                                                      "temporary"};

const char *vt_diff_metric_name(int metric)
{
    return metric >= 0 && metric < VT_DM_COUNT ? metric_names[metric] : "?";
}

int vt_diff_metric_find(const char *name)
{
    for (int i = 0; i < VT_DM_COUNT; i++)
        if (!strcmp(metric_names[i], name))
            return i;
    return -1;
}

const char *vt_site_change_name(enum vt_site_change c)
{
    static const char *const s[] = {"same", "added", "removed", "grown", "shrunk"};
    return (unsigned)c < 5 ? s[c] : "?";
}

/* A growing string. */
struct buf {
    char *s;
    size_t len, cap;
};

static int buf_add(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    if (vt_grow(&b->s, &b->cap, b->len + n + 1, 1, 256))
        return VT_ENOMEM;
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
    return 0;
}

/* The frames of a site's stack, symbolized, and its key "function@module;...". */
struct frames {
    vt_diff_frame *f;
    size_t n, cap;
};

static void frames_release(struct frames *fr)
{
    for (size_t i = 0; i < fr->n; i++) {
        free(fr->f[i].function);
        free(fr->f[i].module);
    }
    free(fr->f);
    *fr = (struct frames){0};
}

static int symbolize(const vt_model *m, vt_symbols *syms, const vt_stack *s, struct frames *fr,
                     struct buf *key)
{
    vt_frame_info info[16];
    char hex[32];
    key->len = 0;
    if (key->s)
        key->s[0] = 0;
    for (uint32_t i = 0; i < s->depth; i++) {
        int n = vt_stack_frame(syms, s, i, info, 16);
        for (int k = 0; k < n; k++) {
            const char *fn = info[k].function, *mod = "?";
            if (!fn) {
                snprintf(hex, sizeof(hex), "0x%" PRIx64, info[k].offset);
                fn = hex;
            }
            if (info[k].module) {
                if (m->exe && !strcmp(info[k].module, m->exe)) {
                    mod = "<main>";
                } else {
                    const char *slash = strrchr(info[k].module, '/');
                    mod = slash ? slash + 1 : info[k].module;
                }
            }
            if ((key->len && buf_add(key, ";")) || buf_add(key, fn) || buf_add(key, "@") ||
                buf_add(key, mod))
                return VT_ENOMEM;
            if (fr) {
                if (vt_grow(&fr->f, &fr->cap, fr->n + 1, sizeof(*fr->f), 8))
                    return VT_ENOMEM;
                vt_diff_frame *d = &fr->f[fr->n];
                d->function = strdup(fn);
                d->module = strdup(mod);
                fr->n++;
                if (!d->function || !d->module)
                    return VT_ENOMEM;
            }
        }
    }
    return buf_add(key, "");
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

struct table {
    size_t *slot; /* site index + 1, 0 empty */
    size_t cap;
};

static int table_find_or_add(vt_diff *d, struct table *t, size_t *sites_cap, const char *key,
                             int *added, size_t *out)
{
    if ((d->n_sites + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        size_t *ns = calloc(ncap, sizeof(*ns));
        if (!ns)
            return VT_ENOMEM;
        for (size_t i = 0; i < d->n_sites; i++) {
            size_t h = hash_str(d->sites[i].key) & (ncap - 1);
            while (ns[h])
                h = (h + 1) & (ncap - 1);
            ns[h] = i + 1;
        }
        free(t->slot);
        t->slot = ns;
        t->cap = ncap;
    }
    size_t h = hash_str(key) & (t->cap - 1);
    while (t->slot[h]) {
        if (!strcmp(d->sites[t->slot[h] - 1].key, key)) {
            *added = 0;
            *out = t->slot[h] - 1;
            return 0;
        }
        h = (h + 1) & (t->cap - 1);
    }
    if (vt_grow(&d->sites, sites_cap, d->n_sites + 1, sizeof(*d->sites), 64))
        return VT_ENOMEM;
    vt_diff_site *s = &d->sites[d->n_sites];
    memset(s, 0, sizeof(*s));
    s->key = strdup(key);
    if (!s->key)
        return VT_ENOMEM;
    t->slot[h] = ++d->n_sites;
    *added = 1;
    *out = d->n_sites - 1;
    return 0;
}

static double site_metric(const vt_site *s, int metric)
{
    switch (metric) {
    case VT_DM_CALLS:
        return (double)s->alloc_calls;
    case VT_DM_BYTES:
        return (double)s->alloc_bytes;
    case VT_DM_PEAK:
        return (double)s->peak_bytes;
    case VT_DM_LEAKED:
        return (double)s->live_bytes;
    case VT_DM_TEMPORARY:
        return (double)s->temporary;
    }
    return 0;
}

static int add_side(vt_diff *d, struct table *t, size_t *sites_cap, vt_model *const *models,
                    vt_symbols *const *syms, size_t n, int is_new)
{
    struct buf key = {0};
    struct frames fr = {0};
    int rc = 0;
    for (size_t r = 0; r < n; r++) {
        const vt_model *m = models[r];
        for (size_t i = 0; i < m->n_sites; i++) {
            const vt_site *site = &m->sites[i];
            if (!site->alloc_calls)
                continue; /* mmap-only sites are not compared */
            if ((rc = symbolize(m, syms[r], &m->stacks[site->stack], NULL, &key)))
                goto out;
            int added;
            size_t idx;
            if ((rc = table_find_or_add(d, t, sites_cap, key.s, &added, &idx)))
                goto out;
            vt_diff_site *ds = &d->sites[idx];
            if (added) {
                if ((rc = symbolize(m, syms[r], &m->stacks[site->stack], &fr, &key)))
                    goto out;
                ds->frames = fr.f;
                ds->n_frames = fr.n;
                fr = (struct frames){0};
            }
            for (int k = 0; k < VT_DM_COUNT; k++) {
                double v = site_metric(site, k) / (double)n;
                if (is_new)
                    ds->new_value[k] += v;
                else
                    ds->base[k] += v;
            }
        }
    }
out:
    frames_release(&fr);
    free(key.s);
    return rc;
}

static int add_more(vt_diff *d, vt_symbols *const *base_syms, vt_symbols *const *new_syms);
static void free_more(vt_diff *d);

/* Whether figure f is one of the CPU profile's, shown only when a run has a profile. */
static int cpu_figure_absent(const vt_diff *d, const vt_figure *f)
{
    if (strcmp(f->name, "cpu") && strcmp(f->name, "samples_lost"))
        return 0;
    for (size_t r = 0; r < d->n_base + d->n_new; r++)
        if ((r < d->n_base ? d->base_models[r] : d->new_models[r - d->n_base])->cpu)
            return 0;
    return 1;
}

static int add_figures(vt_diff *d)
{
    size_t n = 0;
    for (const vt_figure *f = vt_figures; f->name; f++)
        n += !f->qualified;
    d->figures = calloc(n, sizeof(*d->figures));
    if (!d->figures)
        return VT_ENOMEM;
    for (const vt_figure *f = vt_figures; f->name; f++) {
        if (f->qualified || cpu_figure_absent(d, f))
            continue;
        vt_diff_figure *df = &d->figures[d->n_figures++];
        df->fig = f;
        df->base = calloc(d->n_base, sizeof(double));
        df->new_value = calloc(d->n_new, sizeof(double));
        if (!df->base || !df->new_value)
            return VT_ENOMEM;
        df->has = 1;
        for (size_t r = 0; r < d->n_base + d->n_new; r++) {
            const vt_model *m = r < d->n_base ? d->base_models[r] : d->new_models[r - d->n_base];
            double *v = r < d->n_base ? &df->base[r] : &df->new_value[r - d->n_base];
            const char *why = NULL;
            if (f->get(m, "", "", v, &why) != 0) {
                df->has = 0;
                df->why = why;
            }
        }
        df->base_mean = vt_mean(df->base, d->n_base);
        df->new_mean = vt_mean(df->new_value, d->n_new);
        if (df->has)
            df->test = vt_stat_test(d->test, df->base, d->n_base, df->new_value, d->n_new);
    }
    return 0;
}

vt_diff *vt_diff_new(vt_model *const *base, vt_symbols *const *base_syms, size_t nb,
                     vt_model *const *new_models, vt_symbols *const *new_syms, size_t nn,
                     enum vt_stat_test test)
{
    vt_diff *d = calloc(1, sizeof(*d));
    struct table t = {0};
    size_t sites_cap = 0;
    if (!d)
        return NULL;
    d->n_base = nb;
    d->n_new = nn;
    d->test = test;
    d->base_models = base;
    d->new_models = new_models;
    if (add_figures(d) || add_side(d, &t, &sites_cap, base, base_syms, nb, 0) ||
        add_side(d, &t, &sites_cap, new_models, new_syms, nn, 1) ||
        add_more(d, base_syms, new_syms)) {
        vt_diff_free(d);
        d = NULL;
    }
    free(t.slot);
    return d;
}

void vt_diff_free(vt_diff *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_figures; i++) {
        free(d->figures[i].base);
        free(d->figures[i].new_value);
    }
    free(d->figures);
    for (size_t i = 0; i < d->n_sites; i++) {
        struct frames fr = {d->sites[i].frames, d->sites[i].n_frames, d->sites[i].n_frames};
        frames_release(&fr);
        free(d->sites[i].key);
    }
    free(d->sites);
    free_more(d);
    free(d);
}

enum vt_site_change vt_diff_site_change(const vt_diff_site *s, int metric)
{
    double b = s->base[metric], n = s->new_value[metric];
    if (b == n)
        return VT_SITE_SAME;
    if (b == 0)
        return VT_SITE_ADDED;
    if (n == 0)
        return VT_SITE_REMOVED;
    return n > b ? VT_SITE_GROWN : VT_SITE_SHRUNK;
}

struct rank_by {
    const vt_diff *d;
    int metric;
};

static int cmp_change(const void *x, const void *y, void *arg)
{
    const struct rank_by *r = arg;
    const vt_diff_site *a = &r->d->sites[*(const size_t *)x];
    const vt_diff_site *b = &r->d->sites[*(const size_t *)y];
    double da = fabs(a->new_value[r->metric] - a->base[r->metric]);
    double db = fabs(b->new_value[r->metric] - b->base[r->metric]);
    if (da != db)
        return da > db ? -1 : 1;
    return strcmp(a->key, b->key);
}

size_t vt_diff_rank(const vt_diff *d, int metric, size_t *out, size_t max, size_t *total)
{
    size_t *all = malloc((d->n_sites ? d->n_sites : 1) * sizeof(*all)), n = 0;
    if (!all) {
        if (total)
            *total = 0;
        return 0;
    }
    for (size_t i = 0; i < d->n_sites; i++)
        if (vt_diff_site_change(&d->sites[i], metric) != VT_SITE_SAME)
            all[n++] = i;
    struct rank_by by = {d, metric};
    qsort_r(all, n, sizeof(*all), cmp_change, &by);
    size_t k = n < max ? n : max;
    memcpy(out, all, k * sizeof(*all));
    free(all);
    if (total)
        *total = n;
    return k;
}

int vt_diff_check(const vt_diff *d, const vt_budget_expr *rule, const vt_figure *fig,
                  enum vt_stat_test test, double alpha, vt_diff_verdict *out)
{
    memset(out, 0, sizeof(*out));
    out->rule = rule;
    out->fig = fig;
    double *b = calloc(d->n_base, sizeof(double)), *n = calloc(d->n_new, sizeof(double));
    if (!b || !n) {
        free(b);
        free(n);
        return VT_ENOMEM;
    }
    out->measured = 1;
    for (size_t r = 0; r < d->n_base + d->n_new && out->measured; r++) {
        const vt_model *m = r < d->n_base ? d->base_models[r] : d->new_models[r - d->n_base];
        double *v = r < d->n_base ? &b[r] : &n[r - d->n_base];
        if (fig->get(m, rule->qualifier, rule->stat, v, &out->why) != 0)
            out->measured = 0;
    }
    if (out->measured) {
        out->base = vt_mean(b, d->n_base);
        out->new_value = vt_mean(n, d->n_new);
        vt_budget_broken(rule, out->base, out->new_value, 1, &out->quantity);
        out->holds = vt_cmp_holds(rule->cmp, out->quantity, rule->limit);
        out->noise = rule->kind != VT_LIMIT_VALUE && d->n_base >= 2 && d->n_new >= 2;
        if (out->noise)
            out->test = vt_stat_test(test, b, d->n_base, n, d->n_new);
        out->broken = out->holds && (!out->noise || out->test.p < alpha);
    }
    free(b);
    free(n);
    return 0;
}

/* ---- zones, counters and the CPU profile ---- */

static int fill_named(vt_diff *d, vt_diff_named *dn)
{
    vt_diff_figure *df = &dn->f;
    df->base = calloc(d->n_base, sizeof(double));
    df->new_value = calloc(d->n_new, sizeof(double));
    if (!df->base || !df->new_value)
        return VT_ENOMEM;
    df->has = 1;
    for (size_t r = 0; r < d->n_base + d->n_new; r++) {
        const vt_model *m = r < d->n_base ? d->base_models[r] : d->new_models[r - d->n_base];
        double *v = r < d->n_base ? &df->base[r] : &df->new_value[r - d->n_base];
        const char *why = NULL;
        if (df->fig->get(m, dn->qualifier, dn->stat, v, &why) != 0) {
            *v = 0; /* a run without the zone or counter counts as 0 */
            if (why && !strstr(why, "of that name")) {
                df->has = 0;
                df->why = why;
            }
        }
    }
    df->base_mean = vt_mean(df->base, d->n_base);
    df->new_mean = vt_mean(df->new_value, d->n_new);
    if (df->has)
        df->test = vt_stat_test(d->test, df->base, d->n_base, df->new_value, d->n_new);
    return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the figures named kind:NAME (stats: n_stats of them) for each distinct name. */
static int add_named_kind(vt_diff *d, size_t *cap, const char *kind, const char *const *names,
                          size_t n_names, const char *const *stats, size_t n_stats)
{
    for (size_t i = 0; i < n_names; i++) {
        if (i && !strcmp(names[i], names[i - 1]))
            continue;
        for (size_t k = 0; k < n_stats; k++) {
            if (vt_grow(&d->named, cap, d->n_named + 1, sizeof(*d->named), 16))
                return VT_ENOMEM;
            vt_diff_named *dn = &d->named[d->n_named++];
            memset(dn, 0, sizeof(*dn));
            dn->f.fig = vt_figure_resolve(kind, names[i], stats[k]);
            dn->stat = stats[k];
            dn->qualifier = strdup(names[i]);
            if (!dn->qualifier || asprintf(&dn->name, "%s:%s%s%s", kind, names[i],
                                           stats[k][0] ? " " : "", stats[k]) < 0) {
                dn->name = NULL;
                return VT_ENOMEM;
            }
            int rc = fill_named(d, dn);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int add_named(vt_diff *d)
{
    static const char *const zone_stats[] = {"calls", "p50", "p99", "mean"};
    static const char *const counter_stats[] = {""};
    size_t cap = 0, n = 0;
    int rc = 0;
    for (size_t r = 0; r < d->n_base + d->n_new; r++) {
        const vt_model *m = r < d->n_base ? d->base_models[r] : d->new_models[r - d->n_base];
        n += m->zones.n_zones + m->zones.n_counters;
    }
    const char **names = malloc((n ? n : 1) * sizeof(*names));
    if (!names)
        return VT_ENOMEM;
    for (int pass = 0; pass < 2 && !rc; pass++) {
        size_t k = 0;
        for (size_t r = 0; r < d->n_base + d->n_new; r++) {
            const vt_model *m = r < d->n_base ? d->base_models[r] : d->new_models[r - d->n_base];
            const vt_zones *z = &m->zones;
            if (!pass)
                for (size_t i = 0; i < z->n_zones; i++)
                    names[k++] = vt_zones_name(z, z->zones[i].loc);
            else
                for (size_t i = 0; i < z->n_counters; i++)
                    names[k++] = vt_zones_name(z, z->counters[i].loc);
        }
        qsort(names, k, sizeof(*names), cmp_cstr);
        rc = pass ? add_named_kind(d, &cap, "counter", names, k, counter_stats, 1)
                  : add_named_kind(d, &cap, "zone", names, k, zone_stats, 4);
    }
    free(names);
    return rc;
}

/* Finds or adds the function called name in d->fns (hash: slots hold index + 1). */
static int fn_slot(vt_diff *d, size_t **slot, size_t *slot_cap, size_t *fns_cap, const char *name,
                   size_t *out)
{
    if ((d->n_fns + 1) * 2 > *slot_cap) {
        size_t ncap = *slot_cap ? *slot_cap * 2 : 256;
        size_t *ns = calloc(ncap, sizeof(*ns));
        if (!ns)
            return VT_ENOMEM;
        for (size_t i = 0; i < d->n_fns; i++) {
            size_t h = hash_str(d->fns[i].name) & (ncap - 1);
            while (ns[h])
                h = (h + 1) & (ncap - 1);
            ns[h] = i + 1;
        }
        free(*slot);
        *slot = ns;
        *slot_cap = ncap;
    }
    size_t h = hash_str(name) & (*slot_cap - 1);
    for (; (*slot)[h]; h = (h + 1) & (*slot_cap - 1)) {
        if (!strcmp(d->fns[(*slot)[h] - 1].name, name)) {
            *out = (*slot)[h] - 1;
            return 0;
        }
    }
    if (vt_grow(&d->fns, fns_cap, d->n_fns + 1, sizeof(*d->fns), 64))
        return VT_ENOMEM;
    vt_diff_fn *f = &d->fns[d->n_fns];
    memset(f, 0, sizeof(*f));
    if (!(f->name = strdup(name)))
        return VT_ENOMEM;
    (*slot)[h] = ++d->n_fns;
    *out = d->n_fns - 1;
    return 0;
}

static int add_fns(vt_diff *d, vt_symbols *const *base_syms, vt_symbols *const *new_syms)
{
    size_t *slot = NULL, slot_cap = 0, fns_cap = 0;
    int rc = 0;
    for (size_t r = 0; r < d->n_base + d->n_new && !rc; r++) {
        int is_new = r >= d->n_base;
        const vt_model *m = is_new ? d->new_models[r - d->n_base] : d->base_models[r];
        vt_symbols *syms = is_new ? new_syms[r - d->n_base] : base_syms[r];
        if (!m->cpu || !m->cpu->samples)
            continue;
        d->has_cpu = 1;
        vt_cpu_profile *p = vt_cpu_profile_new(m, syms, -1);
        if (!p)
            return VT_ENOMEM;
        size_t n;
        const vt_cpu_fn *fns = vt_cpu_profile_fns(p, &n);
        double whole = (double)vt_cpu_profile_ns(p), runs = is_new ? d->n_new : d->n_base;
        for (size_t i = 0; i < n && !rc; i++) {
            size_t k;
            if (!fns[i].self_ns || (rc = fn_slot(d, &slot, &slot_cap, &fns_cap, fns[i].name, &k)))
                continue;
            double ns = (double)fns[i].self_ns / runs;
            double share = whole > 0 ? 100.0 * (double)fns[i].self_ns / whole / runs : 0;
            if (is_new) {
                d->fns[k].new_ns += ns;
                d->fns[k].new_share += share;
            } else {
                d->fns[k].base_ns += ns;
                d->fns[k].base_share += share;
            }
        }
        vt_cpu_profile_free(p);
    }
    free(slot);
    return rc;
}

static int add_more(vt_diff *d, vt_symbols *const *base_syms, vt_symbols *const *new_syms)
{
    int rc = add_named(d);
    return rc ? rc : add_fns(d, base_syms, new_syms);
}

static void free_more(vt_diff *d)
{
    for (size_t i = 0; i < d->n_named; i++) {
        free(d->named[i].f.base);
        free(d->named[i].f.new_value);
        free(d->named[i].qualifier);
        free(d->named[i].name);
    }
    free(d->named);
    for (size_t i = 0; i < d->n_fns; i++)
        free(d->fns[i].name);
    free(d->fns);
}

static int cmp_fn_change(const void *x, const void *y, void *arg)
{
    const vt_diff *d = arg;
    const vt_diff_fn *a = &d->fns[*(const size_t *)x], *b = &d->fns[*(const size_t *)y];
    double da = fabs(a->new_ns - a->base_ns), db = fabs(b->new_ns - b->base_ns);
    if (da != db)
        return da > db ? -1 : 1;
    return strcmp(a->name, b->name);
}

size_t vt_diff_rank_fns(const vt_diff *d, size_t *out, size_t max, size_t *total)
{
    size_t *all = malloc((d->n_fns ? d->n_fns : 1) * sizeof(*all)), n = 0;
    if (!all) {
        if (total)
            *total = 0;
        return 0;
    }
    for (size_t i = 0; i < d->n_fns; i++)
        if (d->fns[i].new_ns != d->fns[i].base_ns)
            all[n++] = i;
    qsort_r(all, n, sizeof(*all), cmp_fn_change, (void *)d);
    size_t k = n < max ? n : max;
    memcpy(out, all, k * sizeof(*all));
    free(all);
    if (total)
        *total = n;
    return k;
}

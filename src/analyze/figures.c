/* The figure table (figures.h); docs/DIFF.md lists the figures. */
#include "analyze/figures.h"

#include "analyze/cpu.h"
#include "analyze/sites.h"
#include "analyze/zones.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/fmt.h"

#define UNUSED_QS (void)qual, (void)stat

static int get_peak(const vt_model *m, const char *qual, const char *stat, double *out,
                    const char **why)
{
    UNUSED_QS, (void)why;
    *out = (double)m->peak_bytes;
    return 0;
}

static int get_peak_blocks(const vt_model *m, const char *qual, const char *stat, double *out,
                           const char **why)
{
    UNUSED_QS, (void)why;
    *out = (double)m->peak_blocks;
    return 0;
}

static int get_leaked(const vt_model *m, const char *qual, const char *stat, double *out,
                      const char **why)
{
    UNUSED_QS, (void)why;
    *out = (double)m->live_bytes;
    return 0;
}

static int get_leaked_blocks(const vt_model *m, const char *qual, const char *stat, double *out,
                             const char **why)
{
    UNUSED_QS, (void)why;
    *out = (double)m->live_blocks;
    return 0;
}

static int leak_class(const vt_model *m, int c, double *out, const char **why)
{
    if (!m->scan.present || m->scan.status != VT_SCAN_DONE) {
        *why = "the leak check did not run (see --leak-check)";
        return VT_ENOTFOUND;
    }
    *out = (double)m->leak_bytes[c];
    return 0;
}

#define LEAK_CLASS_GETTER(fn, cls)                                                                 \
    static int fn(const vt_model *m, const char *qual, const char *stat, double *out,              \
                  const char **why)                                                                \
    {                                                                                              \
        UNUSED_QS;                                                                                 \
        return leak_class(m, cls, out, why);                                                       \
    }
LEAK_CLASS_GETTER(get_definite, VT_LEAK_DEFINITE)
LEAK_CLASS_GETTER(get_indirect, VT_LEAK_INDIRECT)
LEAK_CLASS_GETTER(get_possible, VT_LEAK_POSSIBLE)
LEAK_CLASS_GETTER(get_reachable, VT_LEAK_REACHABLE)

static int get_allocs(const vt_model *m, const char *qual, const char *stat, double *out,
                      const char **why)
{
    UNUSED_QS, (void)why;
    *out = (double)m->alloc_calls;
    return 0;
}

static int get_allocated(const vt_model *m, const char *qual, const char *stat, double *out,
                         const char **why)
{
    UNUSED_QS, (void)why;
    *out = (double)m->alloc_bytes;
    return 0;
}

static int get_temporary(const vt_model *m, const char *qual, const char *stat, double *out,
                         const char **why)
{
    UNUSED_QS, (void)why;
    *out = (double)m->temporary;
    return 0;
}

static int get_frees(const vt_model *m, const char *qual, const char *stat, double *out,
                     const char **why)
{
    UNUSED_QS, (void)why;
    *out = (double)m->free_calls;
    return 0;
}

static int get_mapped_peak(const vt_model *m, const char *qual, const char *stat, double *out,
                           const char **why)
{
    UNUSED_QS, (void)why;
    *out = (double)m->mapped_peak;
    return 0;
}

static int get_rss_peak(const vt_model *m, const char *qual, const char *stat, double *out,
                        const char **why)
{
    UNUSED_QS;
    if (!m->n_mem) {
        *why = "the trace holds no memory samples (traces before version 1.2)";
        return VT_ENOTFOUND;
    }
    uint64_t max = 0;
    for (size_t i = 0; i < m->n_mem; i++)
        if (m->mem[i].max[VT_MEM_RSS] > max)
            max = m->mem[i].max[VT_MEM_RSS];
    *out = (double)max;
    return 0;
}

static int get_duration(const vt_model *m, const char *qual, const char *stat, double *out,
                        const char **why)
{
    UNUSED_QS, (void)why;
    *out = (double)m->duration_ns;
    return 0;
}

/* ---- libvitals' zones, counters and tasks; the CPU profile ---- */

/* The zones named qual: their figures summed (calls, errors, total), the largest max, and the
 * percentiles when exactly one zone has the name. Returns how many zones matched. */
static size_t zone_match(const vt_model *m, const char *qual, vt_zone_stats *sum)
{
    size_t k = 0;
    memset(sum, 0, sizeof(*sum));
    for (size_t i = 0; i < m->zones.n_zones; i++) {
        const vt_zone_stats *z = &m->zones.zones[i];
        if (strcmp(vt_zones_name(&m->zones, z->loc), qual))
            continue;
        if (!k++) {
            sum->p50_ns = z->p50_ns;
            sum->p90_ns = z->p90_ns;
            sum->p95_ns = z->p95_ns;
            sum->p99_ns = z->p99_ns;
            sum->p999_ns = z->p999_ns;
        }
        sum->calls += z->calls;
        sum->errors += z->errors;
        sum->total_ns += z->total_ns;
        if (z->max_ns > sum->max_ns)
            sum->max_ns = z->max_ns;
    }
    sum->mean_ns = sum->calls ? sum->total_ns / (double)sum->calls : 0;
    return k;
}

static int get_zone(const vt_model *m, const char *qual, const char *stat, double *out,
                    const char **why)
{
    vt_zone_stats z;
    size_t k = zone_match(m, qual, &z);
    if (!k) {
        *why = m->zones.present ? "no zone of that name in the trace"
                                : "the trace holds no zones (the program does not use libvitals)";
        return VT_ENOTFOUND;
    }
    int pct = stat[0] == 'p';
    if (pct && k > 1) {
        *why = "several zones have that name; their percentiles cannot be combined";
        return VT_ENOTFOUND;
    }
    if (!strcmp(stat, "calls"))
        *out = (double)z.calls;
    else if (!strcmp(stat, "errors"))
        *out = (double)z.errors;
    else if (!strcmp(stat, "p50"))
        *out = z.p50_ns;
    else if (!strcmp(stat, "p90"))
        *out = z.p90_ns;
    else if (!strcmp(stat, "p95"))
        *out = z.p95_ns;
    else if (!strcmp(stat, "p99"))
        *out = z.p99_ns;
    else if (!strcmp(stat, "p99.9"))
        *out = z.p999_ns;
    else if (!strcmp(stat, "mean"))
        *out = z.mean_ns;
    else if (!strcmp(stat, "max"))
        *out = z.max_ns;
    else /* "total", the default */
        *out = z.total_ns;
    return 0;
}

static int get_counter(const vt_model *m, const char *qual, const char *stat, double *out,
                       const char **why)
{
    for (size_t i = 0; i < m->zones.n_counters; i++) {
        const vt_counter_stats *c = &m->zones.counters[i];
        if (strcmp(vt_zones_name(&m->zones, c->loc), qual))
            continue;
        int last = !strcmp(stat, "last") || (!stat[0] && c->gauge);
        if (c->gauge && !last) {
            *why = "a gauge has no total (its statistic is 'last')";
            return VT_ENOTFOUND;
        }
        if (last && !c->gauge && c->n_windows)
            *out = c->windows[c->n_windows - 1].last;
        else
            *out = last ? c->last : (double)c->total;
        return 0;
    }
    *why = m->zones.present ? "no counter or gauge of that name in the trace"
                            : "the trace holds no counters (the program does not use libvitals)";
    return VT_ENOTFOUND;
}

static int get_task(const vt_model *m, const char *qual, const char *stat, double *out,
                    const char **why)
{
    for (size_t i = 0; i < m->zones.n_kinds; i++) {
        const vt_task_kind *k = &m->zones.kinds[i];
        if (strcmp(vt_zones_name(&m->zones, k->kind), qual))
            continue;
        if (!strcmp(stat, "tasks"))
            *out = (double)k->tasks;
        else if (!strcmp(stat, "cpu"))
            *out = (double)k->cpu_ns;
        else /* "wall", the default: the median wall time */
            *out = (double)k->wall_ns;
        return 0;
    }
    *why = "no task of that kind in the trace";
    return VT_ENOTFOUND;
}

static const char *const no_cpu = "the trace holds no CPU profile (see vitals run --cpu)";

static int get_cpu(const vt_model *m, const char *qual, const char *stat, double *out,
                   const char **why)
{
    UNUSED_QS;
    if (!m->cpu) {
        *why = no_cpu;
        return VT_ENOTFOUND;
    }
    uint64_t ns = 0;
    int exact = 0;
    for (size_t i = 0; i < m->cpu->n_threads; i++) {
        ns += m->cpu->threads[i].cpu_ns;
        exact |= m->cpu->threads[i].has_record;
    }
    *out = (double)(exact ? ns : m->cpu->on_ns);
    return 0;
}

static int get_samples_lost(const vt_model *m, const char *qual, const char *stat, double *out,
                            const char **why)
{
    UNUSED_QS;
    if (!m->cpu) {
        *why = no_cpu;
        return VT_ENOTFOUND;
    }
    *out = (double)m->cpu->lost;
    return 0;
}

int vt_figure_cpu_fn(const vt_model *m, vt_symbols *syms, const char *fn, const char *stat,
                     double *out, const char **why)
{
    if (!m->cpu || !m->cpu->samples) {
        *why = m->cpu ? "the CPU profile holds no samples" : no_cpu;
        return VT_ENOTFOUND;
    }
    vt_cpu_profile *p = vt_cpu_profile_new(m, syms, -1);
    if (!p) {
        *why = "out of memory";
        return VT_ENOMEM;
    }
    long i = vt_cpu_profile_find(p, fn);
    int rc = 0;
    if (i < 0) {
        *why = "no CPU sample in a function of that name";
        rc = VT_ENOTFOUND;
    } else {
        size_t n;
        const vt_cpu_fn *f = &vt_cpu_profile_fns(p, &n)[i];
        uint64_t whole = vt_cpu_profile_ns(p);
        if (!strcmp(stat, "share"))
            *out = whole ? 100.0 * (double)f->self_ns / (double)whole : 0;
        else if (!strcmp(stat, "total"))
            *out = (double)f->total_ns;
        else /* "self", the default */
            *out = (double)f->self_ns;
    }
    vt_cpu_profile_free(p);
    return rc;
}

static int get_cpu_fn(const vt_model *m, const char *qual, const char *stat, double *out,
                      const char **why)
{
    vt_symbols *syms = vt_model_symbols(m);
    if (!syms) {
        *why = "out of memory";
        return VT_ENOMEM;
    }
    int rc = vt_figure_cpu_fn(m, syms, qual, stat, out, why);
    vt_symbols_free(syms);
    return rc;
}

/* Rows that stand for a qualified figure whose statistic changes its unit (vt_figure_for_rule
 * returns them): zone:NAME calls|errors, task:KIND tasks, cpu:FUNCTION share. */
static const vt_figure zone_count_row = {"zone", "zone calls or errors", VT_FIG_COUNT,
                                         1,      "calls errors",         get_zone};
static const vt_figure task_count_row = {"task", "tasks of a kind", VT_FIG_COUNT,
                                         1,      "tasks",           get_task};
static const vt_figure cpu_share_row = {
    "cpu", "share of the sampled CPU time", VT_FIG_PCT, 1, "share", get_cpu_fn};

const vt_figure vt_figures[] = {
    {"peak", "heap peak", VT_FIG_BYTES, 0, NULL, get_peak},
    {"peak_blocks", "blocks at the heap peak", VT_FIG_COUNT, 0, NULL, get_peak_blocks},
    {"leaked", "leaked at exit", VT_FIG_BYTES, 0, NULL, get_leaked},
    {"leaked_blocks", "blocks leaked at exit", VT_FIG_COUNT, 0, NULL, get_leaked_blocks},
    {"definitely_lost", "definitely lost", VT_FIG_BYTES, 0, NULL, get_definite},
    {"indirectly_lost", "indirectly lost", VT_FIG_BYTES, 0, NULL, get_indirect},
    {"possibly_lost", "possibly lost", VT_FIG_BYTES, 0, NULL, get_possible},
    {"still_reachable", "still reachable", VT_FIG_BYTES, 0, NULL, get_reachable},
    {"allocs", "allocation calls", VT_FIG_COUNT, 0, NULL, get_allocs},
    {"allocated", "bytes allocated", VT_FIG_BYTES, 0, NULL, get_allocated},
    {"temporary", "temporary allocations", VT_FIG_COUNT, 0, NULL, get_temporary},
    {"frees", "free calls", VT_FIG_COUNT, 0, NULL, get_frees},
    {"mapped_peak", "anonymous mmap peak", VT_FIG_BYTES, 0, NULL, get_mapped_peak},
    {"rss_peak", "resident set size peak (sampled)", VT_FIG_BYTES, 0, NULL, get_rss_peak},
    {"duration", "traced wall time", VT_FIG_NS, 0, NULL, get_duration},
    {"cpu", "CPU time", VT_FIG_NS, 0, NULL, get_cpu},
    {"samples_lost", "CPU samples lost", VT_FIG_COUNT, 0, NULL, get_samples_lost},
    {"zone", "zone duration (calls, errors: counts)", VT_FIG_NS, 1,
     "calls errors p50 p90 p95 p99 p99.9 mean max total", get_zone},
    {"counter", "counter total or gauge's last value", VT_FIG_COUNT, 1, "total last", get_counter},
    {"task", "median time of a kind of task (tasks: count)", VT_FIG_NS, 1, "wall cpu tasks",
     get_task},
    {"cpu", "a function's CPU time (share: percent)", VT_FIG_NS, 1, "self total share", get_cpu_fn},
    {NULL, NULL, 0, 0, NULL, NULL},
};

const vt_figure *vt_figure_find(const char *name)
{
    for (const vt_figure *f = vt_figures; f->name; f++)
        if (!strcmp(f->name, name))
            return f;
    return NULL;
}

/* The row of name for a rule with (has_qual) or without a qualifier: "cpu" is both. */
static const vt_figure *find_row(const char *name, int has_qual)
{
    const vt_figure *any = NULL;
    for (const vt_figure *f = vt_figures; f->name; f++) {
        if (strcmp(f->name, name))
            continue;
        if (f->qualified == !!has_qual)
            return f;
        any = any ? any : f;
    }
    return any;
}

/* The row that gives a qualified figure's statistic its unit. */
static const vt_figure *stat_row(const vt_figure *f, const char *stat)
{
    if (!strcmp(f->name, "zone") && (!strcmp(stat, "calls") || !strcmp(stat, "errors")))
        return &zone_count_row;
    if (!strcmp(f->name, "task") && !strcmp(stat, "tasks"))
        return &task_count_row;
    if (!strcmp(f->name, "cpu") && f->qualified && !strcmp(stat, "share"))
        return &cpu_share_row;
    return f;
}

const vt_figure *vt_figure_resolve(const char *name, const char *qual, const char *stat)
{
    const vt_figure *f = find_row(name, qual && qual[0]);
    return f ? stat_row(f, stat ? stat : "") : NULL;
}

static int has_stat(const char *stats, const char *stat)
{
    size_t n = strlen(stat);
    for (const char *p = stats; p && *p;) {
        size_t k = strcspn(p, " ");
        if (k == n && !strncmp(p, stat, n))
            return 1;
        p += k + (p[k] == ' ');
    }
    return 0;
}

const vt_figure *vt_figure_for_rule(const vt_budget_expr *e, size_t *err_at, char *msg,
                                    size_t msg_size)
{
    const vt_figure *f = find_row(e->figure, e->qualifier[0] != 0);
    *err_at = e->figure_at;
    if (!f) {
        snprintf(msg, msg_size, "unknown figure '%s' ('vitals diff --figures' lists them)",
                 e->figure);
        return NULL;
    }
    if (f->qualified && !e->qualifier[0]) {
        snprintf(msg, msg_size, "the figure '%s' needs a name, as in '%s:NAME'", f->name, f->name);
        return NULL;
    }
    if (!f->qualified && e->qualifier[0]) {
        snprintf(msg, msg_size, "the figure '%s' takes no ':%s'", f->name, e->qualifier);
        return NULL;
    }
    if (e->stat[0] && !has_stat(f->stats, e->stat)) {
        if (f->stats)
            snprintf(msg, msg_size, "the figure '%s' has no statistic '%s' (it has: %s)", f->name,
                     e->stat, f->stats);
        else
            snprintf(msg, msg_size, "the figure '%s' takes no statistic such as '%s'", f->name,
                     e->stat);
        return NULL;
    }
    f = stat_row(f, e->stat);
    *err_at = e->limit_at;
    if ((e->unit == VT_QTY_BYTES && f->unit != VT_FIG_BYTES) ||
        (e->unit == VT_QTY_TIME && f->unit != VT_FIG_NS)) {
        snprintf(msg, msg_size, "the figure '%s' is %s; the limit's unit does not fit it", f->name,
                 f->unit == VT_FIG_BYTES ? "in bytes"
                 : f->unit == VT_FIG_NS  ? "a time"
                 : f->unit == VT_FIG_PCT ? "a percentage (write the limit as a bare number)"
                                         : "a count");
        return NULL;
    }
    return f;
}

const char *vt_figure_unit_name(enum vt_figure_unit u)
{
    return u == VT_FIG_BYTES ? "bytes"
           : u == VT_FIG_NS  ? "ns"
           : u == VT_FIG_PCT ? "percent"
                             : "count";
}

const char *vt_figure_fmt(const vt_figure *fig, double v, int is_signed, char *buf, size_t n)
{
    char tmp[64];
    const char *sign = v < 0 ? "-" : is_signed && v > 0 ? "+" : "";
    double a = fabs(v);
    switch (fig->unit) {
    case VT_FIG_BYTES:
        if (a != floor(a) && a < 1024)
            snprintf(tmp, sizeof(tmp), "%.1f B", a);
        else
            vt_fmt_bytes((uint64_t)llround(a), tmp, sizeof(tmp));
        break;
    case VT_FIG_NS:
        if (a < 1e3)
            snprintf(tmp, sizeof(tmp), "%.0f ns", a);
        else if (a < 1e6)
            snprintf(tmp, sizeof(tmp), "%.1f us", a / 1e3);
        else if (a < 1e9)
            snprintf(tmp, sizeof(tmp), "%.1f ms", a / 1e6);
        else
            snprintf(tmp, sizeof(tmp), "%.2f s", a / 1e9);
        break;
    case VT_FIG_PCT:
        snprintf(tmp, sizeof(tmp), "%.1f%%", a);
        break;
    default:
        if (a != floor(a))
            snprintf(tmp, sizeof(tmp), "%.1f", a);
        else
            vt_fmt_count((uint64_t)llround(a), tmp, sizeof(tmp));
    }
    snprintf(buf, n, "%s%s", sign, tmp);
    return buf;
}

/* Adds name (made from fmt) with its value from fig, unless already there or not measured. */
static int named_add(const vt_model *m, const vt_figure *fig, const char *qual, const char *stat,
                     char **names, double *values, size_t *n)
{
    char *name;
    if (asprintf(&name, "%s:%s%s%s", fig->name, qual, stat[0] ? " " : "", stat) < 0)
        return VT_ENOMEM;
    const char *why;
    for (size_t i = 0; i < *n; i++) {
        if (!strcmp(names[i], name)) {
            free(name);
            return 0;
        }
    }
    if (fig->get(m, qual, stat, &values[*n], &why) != 0) {
        free(name);
        return 0;
    }
    names[(*n)++] = name;
    return 0;
}

int vt_figures_named(const vt_model *m, size_t max, char ***names_out, double **values_out,
                     size_t *n_out)
{
    static const char *const zone_stats[] = {"calls", "p50", "p99", "mean"};
    size_t cap = (m->zones.n_zones * 4 + m->zones.n_counters) + 1, n = 0;
    cap = cap < max ? cap : max;
    char **names = calloc(cap ? cap : 1, sizeof(*names));
    double *values = calloc(cap ? cap : 1, sizeof(*values));
    int rc = 0;
    if (!names || !values) {
        rc = VT_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < m->zones.n_zones && !rc; i++)
        for (size_t k = 0; k < 4 && n < cap && !rc; k++)
            rc = named_add(m, vt_figure_resolve("zone", "x", zone_stats[k]),
                           vt_zones_name(&m->zones, m->zones.zones[i].loc), zone_stats[k], names,
                           values, &n);
    for (size_t i = 0; i < m->zones.n_counters && n < cap && !rc; i++)
        rc = named_add(m, vt_figure_resolve("counter", "x", ""),
                       vt_zones_name(&m->zones, m->zones.counters[i].loc), "", names, values, &n);
out:
    if (rc) {
        for (size_t i = 0; names && i < n; i++)
            free(names[i]);
        free(names);
        free(values);
        names = NULL;
        values = NULL;
        n = 0;
    }
    *names_out = names;
    *values_out = values;
    *n_out = n;
    return rc;
}

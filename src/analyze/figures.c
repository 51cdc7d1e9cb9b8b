/* The figure table (figures.h); docs/DIFF.md lists the figures. */
#include "analyze/figures.h"

#include <math.h>
#include <stdio.h>
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
    {NULL, NULL, 0, 0, NULL, NULL},
};

const vt_figure *vt_figure_find(const char *name)
{
    for (const vt_figure *f = vt_figures; f->name; f++)
        if (!strcmp(f->name, name))
            return f;
    return NULL;
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
    const vt_figure *f = vt_figure_find(e->figure);
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
    *err_at = e->limit_at;
    if ((e->unit == VT_LUNIT_BYTES && f->unit != VT_FIG_BYTES) ||
        (e->unit == VT_LUNIT_TIME && f->unit != VT_FIG_NS)) {
        snprintf(msg, msg_size, "the figure '%s' is %s; the limit's unit does not fit it", f->name,
                 f->unit == VT_FIG_BYTES ? "in bytes"
                 : f->unit == VT_FIG_NS  ? "a time"
                                         : "a count");
        return NULL;
    }
    return f;
}

const char *vt_figure_unit_name(enum vt_figure_unit u)
{
    return u == VT_FIG_BYTES ? "bytes" : u == VT_FIG_NS ? "ns" : "count";
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
    default:
        if (a != floor(a))
            snprintf(tmp, sizeof(tmp), "%.1f", a);
        else
            vt_fmt_count((uint64_t)llround(a), tmp, sizeof(tmp));
    }
    snprintf(buf, n, "%s%s", sign, tmp);
    return buf;
}

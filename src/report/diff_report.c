/* The outputs of `vitals diff` (diff_report.h). */
#include "report/diff_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fmt.h"
#include "util/json.h"

static const char *const metric_labels[VT_DM_COUNT] = {
    "allocation calls", "bytes allocated", "bytes at the heap peak", "bytes leaked at exit",
    "temporary allocations"};

/* The unit of a site metric, through a figure of the same unit. */
static const vt_figure *metric_figure(int metric)
{
    return vt_figure_find(metric == VT_DM_CALLS || metric == VT_DM_TEMPORARY ? "allocs"
                                                                             : "allocated");
}

size_t vt_diff_broken_count(const vt_diff_verdict *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += v[i].broken;
    return k;
}

static int noise(const vt_diff *d)
{
    return d->n_base >= 2 && d->n_new >= 2;
}

static const char *test_label(enum vt_stat_test t)
{
    return t == VT_TEST_WELCH ? "Welch's t-test" : "Mann-Whitney U test";
}

/* "+33.3%", "n/a" (from 0 to something), "0%". */
static const char *relative(double base, double now, char *buf, size_t n)
{
    if (base == 0)
        snprintf(buf, n, now == 0 ? "0%%" : "new");
    else
        snprintf(buf, n, "%+.1f%%", (now - base) / fabs(base) * 100);
    return buf;
}

static size_t shown_frames(const vt_diff_report_opts *o, const vt_diff_site *s)
{
    return o->frames > 0 && (size_t)o->frames < s->n_frames ? (size_t)o->frames : s->n_frames;
}

/* The quantity a rule compared, in the rule's terms. */
static const char *quantity_str(const vt_diff_verdict *v, char *buf, size_t n)
{
    if (v->rule->kind == VT_LIMIT_RELATIVE) {
        if (isinf(v->quantity))
            snprintf(buf, n, "%s (from 0)", v->quantity > 0 ? "+inf%" : "-inf%");
        else
            snprintf(buf, n, "%+.1f%%", v->quantity);
        return buf;
    }
    return vt_figure_fmt(v->fig, v->quantity, v->rule->kind == VT_LIMIT_CHANGE, buf, n);
}

/* text */

static void text_more(const vt_diff *d, const vt_diff_report_opts *o, FILE *out);

/* One row of the figure tables: name (padded to width), base, new, change, relative change,
 * the confidence when runs give a noise estimate, and label when not NULL. */
static void text_figure(const vt_diff *d, const vt_diff_report_opts *o, const vt_diff_figure *f,
                        const char *name, int width, const char *label, FILE *out)
{
    const char *dim = o->color ? "\033[2m" : "", *reset = o->color ? "\033[0m" : "";
    char a[64], b[64], c[64], r[32];
    if (!f->has) {
        fprintf(out, "%-*s %sn/a: %s%s\n", width, name, dim, f->why, reset);
        return;
    }
    double delta = f->new_mean - f->base_mean;
    fprintf(out, "%-*s %12s %12s %13s %8s", width, name,
            vt_figure_fmt(f->fig, f->base_mean, 0, a, sizeof(a)),
            vt_figure_fmt(f->fig, f->new_mean, 0, b, sizeof(b)),
            delta == 0 ? "=" : vt_figure_fmt(f->fig, delta, 1, c, sizeof(c)),
            delta == 0 ? "" : relative(f->base_mean, f->new_mean, r, sizeof(r)));
    if (noise(d) && f->test.valid)
        fprintf(out, "  %9.1f%%%s", (1 - f->test.p) * 100,
                f->test.p < o->alpha && delta != 0 ? " *" : "  ");
    if (label)
        fprintf(out, "  %s%s%s", dim, label, reset);
    fputc('\n', out);
}
static void json_more(const vt_diff *d, const vt_diff_report_opts *o, FILE *out);
static void md_more(const vt_diff *d, const vt_diff_report_opts *o, FILE *out);

int vt_render_diff_text(const vt_diff *d, const vt_diff_report_opts *o, FILE *out)
{
    const char *bold = o->color ? "\033[1m" : "", *red = o->color ? "\033[31m" : "",
               *green = o->color ? "\033[32m" : "", *dim = o->color ? "\033[2m" : "",
               *reset = o->color ? "\033[0m" : "";
    char a[64], b[64], c[64];
    fprintf(out, "%svitals diff%s: base %s", bold, reset, o->base_paths[0]);
    if (d->n_base > 1)
        fprintf(out, " and %zu more (%zu runs)", d->n_base - 1, d->n_base);
    fprintf(out, ", new %s", o->new_paths[0]);
    if (d->n_new > 1)
        fprintf(out, " and %zu more (%zu runs)", d->n_new - 1, d->n_new);
    fputs("\n\n", out);

    fprintf(out, "%s%-16s %12s %12s %13s %8s%s%s\n", bold, "figure", "base", "new", "change", "",
            noise(d) ? "  confidence" : "", reset);
    for (size_t i = 0; i < d->n_figures; i++)
        text_figure(d, o, &d->figures[i], d->figures[i].fig->name, 16, d->figures[i].fig->label,
                    out);
    if (noise(d))
        fprintf(out,
                "\nnoise: %zu base and %zu new runs; confidence that the figure changed is "
                "1 - p of %s (two-sided); * marks p < %g\n",
                d->n_base, d->n_new, test_label(o->test), o->alpha);
    else
        fprintf(out,
                "\nnoise: %s, so no noise estimate exists; record several runs with "
                "'vitals run --repeat N' and give them all to diff\n",
                d->n_base == 1 && d->n_new == 1 ? "one run per side" : "one run on a side");
    text_more(d, o, out);

    size_t total = 0, *idx = malloc((o->top ? o->top : 1) * sizeof(*idx));
    if (!idx)
        return -1;
    size_t n = vt_diff_rank(d, o->metric, idx, o->top, &total);
    size_t counts[5] = {0};
    for (size_t i = 0; i < d->n_sites; i++)
        counts[vt_diff_site_change(&d->sites[i], o->metric)]++;
    fprintf(out, "\n%scall sites by %s%s (matched by function and module): %zu changed", bold,
            metric_labels[o->metric], reset, total);
    if (total)
        fprintf(out, " (%zu grown, %zu shrunk, %zu added, %zu removed)", counts[VT_SITE_GROWN],
                counts[VT_SITE_SHRUNK], counts[VT_SITE_ADDED], counts[VT_SITE_REMOVED]);
    fputc('\n', out);
    const vt_figure *mf = metric_figure(o->metric);
    for (size_t k = 0; k < n; k++) {
        const vt_diff_site *s = &d->sites[idx[k]];
        enum vt_site_change ch = vt_diff_site_change(s, o->metric);
        double delta = s->new_value[o->metric] - s->base[o->metric];
        fprintf(out, "  %s%12s%s  %-7s  %s -> %s", delta > 0 ? red : green,
                vt_figure_fmt(mf, delta, 1, a, sizeof(a)), reset, vt_site_change_name(ch),
                vt_figure_fmt(mf, s->base[o->metric], 0, b, sizeof(b)),
                vt_figure_fmt(mf, s->new_value[o->metric], 0, c, sizeof(c)));
        if (o->metric != VT_DM_CALLS)
            fprintf(out, "  %s(calls %.6g -> %.6g)%s", dim, s->base[VT_DM_CALLS],
                    s->new_value[VT_DM_CALLS], reset);
        fputc('\n', out);
        size_t nf = shown_frames(o, s);
        for (size_t i = 0; i < nf; i++)
            fprintf(out, "       %s  %s[%s]%s\n", s->frames[i].function, dim, s->frames[i].module,
                    reset);
        if (nf < s->n_frames)
            fprintf(out, "       %s... %zu more frames%s\n", dim, s->n_frames - nf, reset);
    }
    if (total > n)
        fprintf(out, "  %s... %zu more changed sites (--top)%s\n", dim, total - n, reset);
    free(idx);

    if (o->n_verdicts) {
        size_t broken = vt_diff_broken_count(o->verdicts, o->n_verdicts);
        fprintf(out, "\n%sbudgets%s\n", bold, reset);
        for (size_t i = 0; i < o->n_verdicts; i++) {
            const vt_diff_verdict *v = &o->verdicts[i];
            if (!v->measured) {
                fprintf(out, "  %-6s %s: not measured: %s\n", "n/a", v->rule->text, v->why);
                continue;
            }
            fprintf(out, "  %s%-6s%s %s: %s -> %s, %s", v->broken ? red : green,
                    v->broken ? "FAIL" : "pass", reset, v->rule->text,
                    vt_figure_fmt(v->fig, v->base, 0, a, sizeof(a)),
                    vt_figure_fmt(v->fig, v->new_value, 0, b, sizeof(b)),
                    quantity_str(v, c, sizeof(c)));
            if (v->noise)
                fprintf(out, " (confidence %.1f%%, p = %.3g%s)", (1 - v->test.p) * 100, v->test.p,
                        v->holds && !v->broken ? ": within the noise" : "");
            else if (v->rule->kind != VT_LIMIT_VALUE)
                fputs(" (no noise estimate)", out);
            fputc('\n', out);
        }
        fprintf(out, "\nverdict: %s%s%s", broken ? red : green, broken ? "regression" : "pass",
                reset);
        fprintf(out, " (%zu of %zu budgets broken)\n", broken, o->n_verdicts);
    }
    return ferror(out) ? -1 : 0;
}

/* JSON */

static void jnums(FILE *out, const double *v, size_t n)
{
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', out);
        vt_json_num(out, v[i]);
    }
    fputc(']', out);
}

static void jtest(FILE *out, const vt_test_result *t, enum vt_stat_test kind)
{
    if (!t->valid) {
        fputs("null", out);
        return;
    }
    fputs("{\"name\":", out);
    vt_json_str(out, vt_stat_test_name(kind));
    fputs(",\"statistic\":", out);
    vt_json_num(out, t->statistic);
    fputs(",\"df\":", out);
    vt_json_num(out, t->df);
    fputs(",\"p\":", out);
    vt_json_num(out, t->p);
    fputs(",\"confidence\":", out);
    vt_json_num(out, 1 - t->p);
    fprintf(out, ",\"exact\":%s}", t->exact ? "true" : "false");
}

static void jpaths(FILE *out, const char *const *p, size_t n)
{
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', out);
        vt_json_str(out, p[i]);
    }
    fputc(']', out);
}

static void jmetrics(FILE *out, const double *v)
{
    fputc('{', out);
    for (int k = 0; k < VT_DM_COUNT; k++) {
        fprintf(out, "%s\"%s\":", k ? "," : "", vt_diff_metric_name(k));
        vt_json_num(out, v[k]);
    }
    fputc('}', out);
}

static void jframes(FILE *out, const vt_diff_site *s, int outermost_first)
{
    fputc('[', out);
    for (size_t i = 0; i < s->n_frames; i++) {
        const vt_diff_frame *f = &s->frames[outermost_first ? s->n_frames - 1 - i : i];
        fputs(i ? ",{\"function\":" : "{\"function\":", out);
        vt_json_str(out, f->function);
        fputs(",\"module\":", out);
        vt_json_str(out, f->module);
        fputc('}', out);
    }
    fputc(']', out);
}

int vt_render_diff_json(const vt_diff *d, const vt_diff_report_opts *o, FILE *out)
{
    fputs("{\"schema\":\"vitals-diff\",\"version\":1,\"base\":{\"runs\":", out);
    fprintf(out, "%zu,\"traces\":", d->n_base);
    jpaths(out, o->base_paths, d->n_base);
    fprintf(out, "},\"new\":{\"runs\":%zu,\"traces\":", d->n_new);
    jpaths(out, o->new_paths, d->n_new);
    fprintf(out, "},\"noise\":{\"estimate\":%s,\"test\":", noise(d) ? "true" : "false");
    vt_json_str(out, vt_stat_test_name(o->test));
    fputs(",\"alpha\":", out);
    vt_json_num(out, o->alpha);
    fputs("},\"figures\":[", out);
    for (size_t i = 0; i < d->n_figures; i++) {
        const vt_diff_figure *f = &d->figures[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        vt_json_str(out, f->fig->name);
        fputs(",\"label\":", out);
        vt_json_str(out, f->fig->label);
        fputs(",\"unit\":", out);
        vt_json_str(out, vt_figure_unit_name(f->fig->unit));
        fprintf(out, ",\"measured\":%s,\"why\":", f->has ? "true" : "false");
        vt_json_str(out, f->has ? NULL : f->why);
        if (f->has) {
            fputs(",\"base\":", out);
            vt_json_num(out, f->base_mean);
            fputs(",\"new\":", out);
            vt_json_num(out, f->new_mean);
            fputs(",\"change\":", out);
            vt_json_num(out, f->new_mean - f->base_mean);
            fputs(",\"relative\":", out);
            vt_json_num(out, f->base_mean ? (f->new_mean - f->base_mean) / fabs(f->base_mean) * 100
                                          : NAN);
            fputs(",\"base_runs\":", out);
            jnums(out, f->base, d->n_base);
            fputs(",\"new_runs\":", out);
            jnums(out, f->new_value, d->n_new);
        } else {
            fputs(",\"base\":null,\"new\":null,\"change\":null,\"relative\":null,"
                  "\"base_runs\":null,\"new_runs\":null",
                  out);
        }
        fputs(",\"test\":", out);
        if (f->has)
            jtest(out, &f->test, o->test);
        else
            fputs("null", out);
        fputc('}', out);
    }
    size_t total = 0, *idx = malloc((o->top ? o->top : 1) * sizeof(*idx));
    if (!idx)
        return -1;
    size_t n = vt_diff_rank(d, o->metric, idx, o->top, &total);
    fputs("],", out);
    json_more(d, o, out);
    fputs("\"sites\":{\"by\":", out);
    vt_json_str(out, vt_diff_metric_name(o->metric));
    fprintf(out, ",\"changed\":%zu,\"matched\":%zu,\"entries\":[", total, d->n_sites);
    for (size_t k = 0; k < n; k++) {
        const vt_diff_site *s = &d->sites[idx[k]];
        fputs(k ? ",{\"change\":" : "{\"change\":", out);
        vt_json_str(out, vt_site_change_name(vt_diff_site_change(s, o->metric)));
        fputs(",\"delta\":", out);
        vt_json_num(out, s->new_value[o->metric] - s->base[o->metric]);
        fputs(",\"base\":", out);
        jmetrics(out, s->base);
        fputs(",\"new\":", out);
        jmetrics(out, s->new_value);
        fputs(",\"stack\":", out);
        jframes(out, s, 0);
        fputc('}', out);
    }
    free(idx);
    /* The differential flame graph's data: every matched stack, root first. */
    fputs("]},\"flame\":{\"stacks\":[", out);
    for (size_t i = 0; i < d->n_sites; i++) {
        const vt_diff_site *s = &d->sites[i];
        fputs(i ? ",{\"frames\":" : "{\"frames\":", out);
        jframes(out, s, 1);
        fputs(",\"base\":", out);
        jmetrics(out, s->base);
        fputs(",\"new\":", out);
        jmetrics(out, s->new_value);
        fputc('}', out);
    }
    fputs("]},\"budgets\":[", out);
    for (size_t i = 0; i < o->n_verdicts; i++) {
        const vt_diff_verdict *v = &o->verdicts[i];
        static const char *const kinds[] = {"value", "change", "relative"};
        fputs(i ? ",{\"rule\":" : "{\"rule\":", out);
        vt_json_str(out, v->rule->text);
        fputs(",\"figure\":", out);
        vt_json_str(out, v->fig->name);
        fputs(",\"qualifier\":", out);
        vt_json_str(out, v->rule->qualifier[0] ? v->rule->qualifier : NULL);
        fputs(",\"stat\":", out);
        vt_json_str(out, v->rule->stat[0] ? v->rule->stat : NULL);
        fprintf(out, ",\"op\":\"%s\",\"kind\":\"%s\",\"limit\":", vt_cmp_str(v->rule->cmp),
                kinds[v->rule->kind]);
        vt_json_num(out, v->rule->limit);
        fprintf(out, ",\"measured\":%s,\"why\":", v->measured ? "true" : "false");
        vt_json_str(out, v->measured ? NULL : v->why);
        fputs(",\"base\":", out);
        vt_json_num(out, v->measured ? v->base : NAN);
        fputs(",\"new\":", out);
        vt_json_num(out, v->measured ? v->new_value : NAN);
        fputs(",\"quantity\":", out);
        if (v->measured && isinf(v->quantity))
            fputs(v->quantity > 0 ? "\"+inf\"" : "\"-inf\"", out);
        else
            vt_json_num(out, v->measured ? v->quantity : NAN);
        fprintf(out, ",\"holds\":%s,\"broken\":%s,\"test\":", v->holds ? "true" : "false",
                v->broken ? "true" : "false");
        if (v->noise)
            jtest(out, &v->test, o->test);
        else
            fputs("null", out);
        fputc('}', out);
    }
    fprintf(out, "],\"verdict\":\"%s\"}\n",
            vt_diff_broken_count(o->verdicts, o->n_verdicts) ? "regression" : "pass");
    return ferror(out) ? -1 : 0;
}

/* Markdown */

static void md_code(FILE *out, const char *s)
{
    fputc('`', out);
    for (; *s; s++)
        fputc(*s == '`' || *s == '|' ? '\'' : *s, out);
    fputc('`', out);
}

int vt_render_diff_markdown(const vt_diff *d, const vt_diff_report_opts *o, FILE *out)
{
    char a[64], b[64], c[64], r[32];
    size_t broken = vt_diff_broken_count(o->verdicts, o->n_verdicts);
    fputs("### vitals diff", out);
    if (o->n_verdicts)
        fprintf(out, ": %s (%zu of %zu budgets broken)", broken ? "regression" : "pass", broken,
                o->n_verdicts);
    fputs("\n\nbase: ", out);
    md_code(out, o->base_paths[0]);
    fprintf(out, " (%zu run%s) · new: ", d->n_base, d->n_base == 1 ? "" : "s");
    md_code(out, o->new_paths[0]);
    fprintf(out, " (%zu run%s)\n\n", d->n_new, d->n_new == 1 ? "" : "s");

    if (o->n_verdicts) {
        fputs("| | budget | base | new | compared |\n| --- | --- | ---: | ---: | --- |\n", out);
        for (size_t i = 0; i < o->n_verdicts; i++) {
            const vt_diff_verdict *v = &o->verdicts[i];
            fprintf(out, "| %s | ",
                    !v->measured ? "n/a"
                    : v->broken  ? ":x:"
                                 : ":white_check_mark:");
            md_code(out, v->rule->text);
            if (!v->measured) {
                fprintf(out, " | | | not measured: %s |\n", v->why);
                continue;
            }
            fprintf(out, " | %s | %s | %s", vt_figure_fmt(v->fig, v->base, 0, a, sizeof(a)),
                    vt_figure_fmt(v->fig, v->new_value, 0, b, sizeof(b)),
                    quantity_str(v, c, sizeof(c)));
            if (v->noise)
                fprintf(out, " (confidence %.1f%%)", (1 - v->test.p) * 100);
            fputs(" |\n", out);
        }
        fputc('\n', out);
    }

    fprintf(out, "| figure | base | new | change |%s\n| --- | ---: | ---: | ---: |%s\n",
            noise(d) ? " confidence |" : "", noise(d) ? " ---: |" : "");
    size_t same = 0;
    for (size_t i = 0; i < d->n_figures; i++) {
        const vt_diff_figure *f = &d->figures[i];
        if (!f->has)
            continue;
        double delta = f->new_mean - f->base_mean;
        if (delta == 0) {
            same++;
            continue;
        }
        fprintf(out, "| %s (", f->fig->label);
        md_code(out, f->fig->name);
        fprintf(out, ") | %s | %s | ", vt_figure_fmt(f->fig, f->base_mean, 0, a, sizeof(a)),
                vt_figure_fmt(f->fig, f->new_mean, 0, b, sizeof(b)));
        if (delta == 0)
            fputs("= |", out);
        else
            fprintf(out, "%s (%s) |", vt_figure_fmt(f->fig, delta, 1, c, sizeof(c)),
                    relative(f->base_mean, f->new_mean, r, sizeof(r)));
        if (noise(d))
            fprintf(out, " %.1f%% |", f->test.valid ? (1 - f->test.p) * 100 : 0);
        fputc('\n', out);
    }
    if (same)
        fprintf(out, "\n%zu other figure%s unchanged.\n", same, same == 1 ? "" : "s");
    if (!noise(d))
        fputs("\nNo noise estimate: one run on a side (record several with "
              "`vitals run --repeat N`).\n",
              out);
    else
        fprintf(out, "\nConfidence: 1 - p of %s over %zu base and %zu new runs.\n",
                test_label(o->test), d->n_base, d->n_new);
    md_more(d, o, out);

    size_t total = 0, *idx = malloc((o->top ? o->top : 1) * sizeof(*idx));
    if (!idx)
        return -1;
    size_t n = vt_diff_rank(d, o->metric, idx, o->top, &total);
    const vt_figure *mf = metric_figure(o->metric);
    fprintf(out, "\n**Call sites by %s**: %zu changed%s\n\n", metric_labels[o->metric], total,
            total > n ? " (the largest changes)" : "");
    if (n)
        fputs("| change | delta | base | new | stack |\n| --- | ---: | ---: | ---: | --- |\n", out);
    for (size_t k = 0; k < n; k++) {
        const vt_diff_site *s = &d->sites[idx[k]];
        fprintf(out, "| %s | %s | %s | %s | ",
                vt_site_change_name(vt_diff_site_change(s, o->metric)),
                vt_figure_fmt(mf, s->new_value[o->metric] - s->base[o->metric], 1, a, sizeof(a)),
                vt_figure_fmt(mf, s->base[o->metric], 0, b, sizeof(b)),
                vt_figure_fmt(mf, s->new_value[o->metric], 0, c, sizeof(c)));
        size_t nf = shown_frames(o, s);
        for (size_t i = 0; i < nf; i++) {
            if (i)
                fputs(" ← ", out);
            md_code(out, s->frames[i].function);
        }
        if (nf < s->n_frames)
            fputs(" ← …", out);
        fputs(" |\n", out);
    }
    free(idx);
    return ferror(out) ? -1 : 0;
}

/* Zones, counters and CPU functions, in each format. */

static void text_more(const vt_diff *d, const vt_diff_report_opts *o, FILE *out)
{
    const char *bold = o->color ? "\033[1m" : "", *red = o->color ? "\033[31m" : "",
               *green = o->color ? "\033[32m" : "", *dim = o->color ? "\033[2m" : "",
               *reset = o->color ? "\033[0m" : "";
    char a[64], b[64], c[64];
    if (d->n_named)
        fprintf(out, "\n%s%-24s %12s %12s %13s %8s%s%s\n", bold, "zones and counters", "base",
                "new", "change", "", noise(d) ? "  confidence" : "", reset);
    for (size_t i = 0; i < d->n_named; i++)
        text_figure(d, o, &d->named[i].f, d->named[i].name, 24, NULL, out);
    if (!d->has_cpu)
        return;
    size_t total = 0, *idx = malloc((o->top ? o->top : 1) * sizeof(*idx));
    if (!idx)
        return;
    size_t n = vt_diff_rank_fns(d, idx, o->top, &total);
    const vt_figure *ns = vt_figure_find("duration");
    fprintf(out, "\n%sCPU functions by self time%s (sampled; matched by name): %zu changed\n", bold,
            reset, total);
    for (size_t k = 0; k < n; k++) {
        const vt_diff_fn *f = &d->fns[idx[k]];
        double delta = f->new_ns - f->base_ns;
        fprintf(out, "  %s%12s%s  %s -> %s  %s(share %.1f%% -> %.1f%%)%s  %s\n",
                delta > 0 ? red : green, vt_figure_fmt(ns, delta, 1, a, sizeof(a)), reset,
                vt_figure_fmt(ns, f->base_ns, 0, b, sizeof(b)),
                vt_figure_fmt(ns, f->new_ns, 0, c, sizeof(c)), dim, f->base_share, f->new_share,
                reset, f->name);
    }
    if (total > n)
        fprintf(out, "  %s... %zu more changed functions (--top)%s\n", dim, total - n, reset);
    free(idx);
}

static void json_figure_values(const vt_diff *d, const vt_diff_figure *f, FILE *out,
                               const vt_diff_report_opts *o)
{
    fputs(",\"unit\":", out);
    vt_json_str(out, vt_figure_unit_name(f->fig->unit));
    fprintf(out, ",\"measured\":%s,\"why\":", f->has ? "true" : "false");
    vt_json_str(out, f->has ? NULL : f->why);
    fputs(",\"base\":", out);
    vt_json_num(out, f->has ? f->base_mean : NAN);
    fputs(",\"new\":", out);
    vt_json_num(out, f->has ? f->new_mean : NAN);
    fputs(",\"change\":", out);
    vt_json_num(out, f->has ? f->new_mean - f->base_mean : NAN);
    fputs(",\"relative\":", out);
    vt_json_num(out, f->has && f->base_mean
                         ? (f->new_mean - f->base_mean) / fabs(f->base_mean) * 100
                         : NAN);
    fputs(",\"base_runs\":", out);
    jnums(out, f->base, d->n_base);
    fputs(",\"new_runs\":", out);
    jnums(out, f->new_value, d->n_new);
    fputs(",\"test\":", out);
    if (f->has)
        jtest(out, &f->test, o->test);
    else
        fputs("null", out);
}

/* Writes "named":[...],"cpu":{...}, followed by a comma. */
static void json_more(const vt_diff *d, const vt_diff_report_opts *o, FILE *out)
{
    fputs("\"named\":[", out);
    for (size_t i = 0; i < d->n_named; i++) {
        const vt_diff_named *dn = &d->named[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        vt_json_str(out, dn->name);
        fputs(",\"figure\":", out);
        vt_json_str(out, dn->f.fig->name);
        fputs(",\"qualifier\":", out);
        vt_json_str(out, dn->qualifier);
        fputs(",\"stat\":", out);
        vt_json_str(out, dn->stat[0] ? dn->stat : NULL);
        json_figure_values(d, &dn->f, out, o);
        fputc('}', out);
    }
    fprintf(out, "],\"cpu\":{\"profiled\":%s", d->has_cpu ? "true" : "false");
    size_t total = 0, *idx = malloc((d->n_fns ? d->n_fns : 1) * sizeof(*idx));
    size_t n = idx ? vt_diff_rank_fns(d, idx, o->top, &total) : 0;
    fprintf(out, ",\"changed\":%zu,\"functions\":[", total);
    for (size_t k = 0; k < n; k++) {
        const vt_diff_fn *f = &d->fns[idx[k]];
        fputs(k ? ",{\"function\":" : "{\"function\":", out);
        vt_json_str(out, f->name);
        fputs(",\"base_self_ns\":", out);
        vt_json_num(out, f->base_ns);
        fputs(",\"new_self_ns\":", out);
        vt_json_num(out, f->new_ns);
        fputs(",\"delta_ns\":", out);
        vt_json_num(out, f->new_ns - f->base_ns);
        fputs(",\"base_share\":", out);
        vt_json_num(out, f->base_share);
        fputs(",\"new_share\":", out);
        vt_json_num(out, f->new_share);
        fputc('}', out);
    }
    fputs("]},", out);
    free(idx);
}

static void md_more(const vt_diff *d, const vt_diff_report_opts *o, FILE *out)
{
    char a[64], b[64], c[64], r[32];
    size_t shown = 0;
    for (size_t i = 0; i < d->n_named; i++) {
        const vt_diff_figure *f = &d->named[i].f;
        if (!f->has || f->new_mean == f->base_mean)
            continue;
        if (!shown++)
            fputs("\n**Zones and counters** (changed)\n\n| figure | base | new | change |\n"
                  "| --- | ---: | ---: | ---: |\n",
                  out);
        fputs("| ", out);
        md_code(out, d->named[i].name);
        fprintf(out, " | %s | %s | %s (%s) |\n",
                vt_figure_fmt(f->fig, f->base_mean, 0, a, sizeof(a)),
                vt_figure_fmt(f->fig, f->new_mean, 0, b, sizeof(b)),
                vt_figure_fmt(f->fig, f->new_mean - f->base_mean, 1, c, sizeof(c)),
                relative(f->base_mean, f->new_mean, r, sizeof(r)));
    }
    if (!d->has_cpu)
        return;
    size_t total = 0, *idx = malloc((o->top ? o->top : 1) * sizeof(*idx));
    if (!idx)
        return;
    size_t n = vt_diff_rank_fns(d, idx, o->top, &total);
    const vt_figure *ns = vt_figure_find("duration");
    fprintf(out, "\n**CPU functions by self time** (sampled): %zu changed\n\n", total);
    if (n)
        fputs("| delta | base | new | share | function |\n| ---: | ---: | ---: | ---: | --- |\n",
              out);
    for (size_t k = 0; k < n; k++) {
        const vt_diff_fn *f = &d->fns[idx[k]];
        fprintf(out, "| %s | %s | %s | %.1f%% → %.1f%% | ",
                vt_figure_fmt(ns, f->new_ns - f->base_ns, 1, a, sizeof(a)),
                vt_figure_fmt(ns, f->base_ns, 0, b, sizeof(b)),
                vt_figure_fmt(ns, f->new_ns, 0, c, sizeof(c)), f->base_share, f->new_share);
        md_code(out, f->name);
        fputs(" |\n", out);
    }
    free(idx);
}

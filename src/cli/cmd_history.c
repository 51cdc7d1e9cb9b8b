/* vitals history: the runs `vitals run` recorded, and the trend of a figure over them. */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/figures.h"
#include "cli/cli.h"
#include "store/history.h"
#include "util/json.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vitals history [options]                 list the recorded runs\n"
            "       vitals history trend FIGURE [options]    a figure over the runs\n"
            "       vitals history reset [options]           move a damaged history aside\n\n"
            "vitals run records every run (command, git commit, host, date, exit status and\n"
            "figures such as peak, leaked, allocs) in a SQLite database.\n\n"
            "options:\n"
            "  -p, --program NAME  only the runs of program NAME (its file name)\n"
            "  -n, --last N        the last N runs (default 20 for the list, 50 for trend)\n"
            "  -f, --format FMT    text or json (default text); trend also html (a chart)\n"
            "      --history PATH  the database (default $VITALS_HISTORY, else\n"
            "                      ~/.local/share/vitals/history.db)\n"
            "      --ascii         draw the sparkline with ASCII characters\n"
            "  -h, --help          show this help\n\n"
            "A trend point is flagged as a sudden change when it differs from the median of the\n"
            "up to %d runs before it (at least %d) by more than 3 scaled median absolute\n"
            "deviations and more than 10%% of that median (docs/DIFF.md).\n",
            VT_HISTORY_WINDOW, VT_HISTORY_WINDOW_MIN);
}

static const char *date_str(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

static const vt_history_figure *find_fig(const vt_history_run *r, const char *name)
{
    for (size_t i = 0; i < r->n_figures; i++)
        if (!strcmp(r->figures[i].name, name))
            return &r->figures[i];
    return NULL;
}

static void list_text(const vt_history_run *runs, size_t n, FILE *out)
{
    static const char *const cols[] = {"peak", "leaked", "allocs"};
    char d[32], v[64];
    fprintf(out, "%6s  %-19s  %-16s %4s  %-8s %10s %10s %10s  %s\n", "id", "date (UTC)", "program",
            "exit", "commit", "peak", "leaked", "allocs", "command");
    for (size_t i = 0; i < n; i++) {
        const vt_history_run *r = &runs[i];
        fprintf(out, "%6lld  %s  %-16s %4d  %-8.8s", (long long)r->id,
                date_str(r->time, d, sizeof(d)), r->program, r->exit_status,
                r->git_commit ? r->git_commit : "-");
        for (int k = 0; k < 3; k++) {
            const vt_history_figure *f = find_fig(r, cols[k]);
            fprintf(out, " %10s",
                    f ? vt_figure_fmt(vt_figure_find(cols[k]), f->value, 0, v, sizeof(v)) : "-");
        }
        fprintf(out, "  %s\n", r->command);
    }
    if (!n)
        fprintf(out, "(no runs recorded)\n");
}

static void list_json(const vt_history_run *runs, size_t n, FILE *out)
{
    char d[32];
    fputs("{\"schema\":\"vitals-history\",\"version\":1,\"runs\":[", out);
    for (size_t i = 0; i < n; i++) {
        const vt_history_run *r = &runs[i];
        fprintf(out, "%s{\"id\":%lld,\"time\":%lld,\"date\":", i ? "," : "", (long long)r->id,
                (long long)r->time);
        vt_json_str(out, date_str(r->time, d, sizeof(d)));
        fputs(",\"program\":", out);
        vt_json_str(out, r->program);
        fputs(",\"command\":", out);
        vt_json_str(out, r->command);
        fputs(",\"cwd\":", out);
        vt_json_str(out, r->cwd);
        fputs(",\"git_commit\":", out);
        vt_json_str(out, r->git_commit);
        fputs(",\"host\":", out);
        vt_json_str(out, r->host);
        fputs(",\"trace\":", out);
        vt_json_str(out, r->trace);
        fprintf(out, ",\"exit_status\":%d,\"figures\":{", r->exit_status);
        for (size_t k = 0; k < r->n_figures; k++) {
            fputs(k ? "," : "", out);
            vt_json_str(out, r->figures[k].name);
            fputc(':', out);
            vt_json_num(out, r->figures[k].value);
        }
        fputs("}}", out);
    }
    fputs("]}\n", out);
}

static void sparkline(const vt_history_point *p, size_t n, int ascii, FILE *out)
{
    static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char ascii_bars[] = "_.-~=+*#";
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, p[i].value);
        hi = fmax(hi, p[i].value);
    }
    for (size_t i = 0; i < n; i++) {
        int level = hi > lo ? (int)((p[i].value - lo) / (hi - lo) * 7 + 0.5) : 0;
        if (ascii)
            fputc(ascii_bars[level], out);
        else
            fputs(bars[level], out);
    }
}

/* The figure of a trend: a plain name ("peak") or a qualified one as the history records it
 * ("zone:parse p99", "counter:items", "cpu:FUNCTION"); NULL when unknown. */
static const vt_figure *trend_figure(const char *text)
{
    char name[VT_BUDGET_NAME_MAX], qual[VT_BUDGET_QUAL_MAX] = "";
    const char *colon = strchr(text, ':'), *space = strchr(text, ' ');
    size_t n = colon ? (size_t)(colon - text) : space ? (size_t)(space - text) : strlen(text);
    if (n >= sizeof(name))
        return NULL;
    memcpy(name, text, n);
    name[n] = 0;
    if (colon) {
        size_t q = space && space > colon ? (size_t)(space - colon - 1) : strlen(colon + 1);
        if (!q || q >= sizeof(qual))
            return NULL;
        memcpy(qual, colon + 1, q);
        qual[q] = 0;
    }
    const vt_figure *f = vt_figure_resolve(name, qual, space ? space + 1 : "");
    return f && f->qualified == (colon != NULL) ? f : NULL;
}

static void trend_html(const vt_figure *fig, const char *name, const char *program,
                       const vt_history_point *p, size_t n, FILE *out);

static void trend_text(const vt_figure *fig, const char *name, const char *program,
                       const vt_history_point *p, size_t n, int ascii, FILE *out)
{
    char d[32], a[64], b[64];
    size_t flagged = 0;
    fprintf(out, "%s (%s)%s%s: %zu run%s\n", name, fig->label, program ? " of " : "",
            program ? program : "", n, n == 1 ? "" : "s");
    if (!n) {
        fprintf(out, "(no run recorded this figure)\n");
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, p[i].value);
        hi = fmax(hi, p[i].value);
    }
    fputs("  ", out);
    sparkline(p, n, ascii, out);
    fprintf(out, "  min %s", vt_figure_fmt(fig, lo, 0, a, sizeof(a)));
    fprintf(out, ", max %s", vt_figure_fmt(fig, hi, 0, a, sizeof(a)));
    fprintf(out, ", last %s\n\n", vt_figure_fmt(fig, p[n - 1].value, 0, a, sizeof(a)));
    fprintf(out, "%6s  %-19s  %-16s %-8s %12s\n", "id", "date (UTC)", "program", "commit", name);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%6lld  %s  %-16s %-8.8s %12s", (long long)p[i].id,
                date_str(p[i].time, d, sizeof(d)), p[i].program,
                p[i].git_commit ? p[i].git_commit : "-",
                vt_figure_fmt(fig, p[i].value, 0, a, sizeof(a)));
        if (p[i].flagged) {
            flagged++;
            fprintf(out, "  << sudden change: %s from the median %s of the runs before",
                    vt_figure_fmt(fig, p[i].value - p[i].baseline, 1, a, sizeof(a)),
                    vt_figure_fmt(fig, p[i].baseline, 0, b, sizeof(b)));
        }
        fputc('\n', out);
    }
    fprintf(out, "\n%zu sudden change%s\n", flagged, flagged == 1 ? "" : "s");
}

static void trend_json(const vt_figure *fig, const char *name, const char *program,
                       const vt_history_point *p, size_t n, FILE *out)
{
    char d[32];
    size_t flagged = 0;
    fputs("{\"schema\":\"vitals-history-trend\",\"version\":1,\"figure\":", out);
    vt_json_str(out, name);
    fputs(",\"unit\":", out);
    vt_json_str(out, vt_figure_unit_name(fig->unit));
    fputs(",\"program\":", out);
    vt_json_str(out, program);
    fputs(",\"points\":[", out);
    for (size_t i = 0; i < n; i++) {
        flagged += p[i].flagged;
        fprintf(out, "%s{\"id\":%lld,\"time\":%lld,\"date\":", i ? "," : "", (long long)p[i].id,
                (long long)p[i].time);
        vt_json_str(out, date_str(p[i].time, d, sizeof(d)));
        fputs(",\"value\":", out);
        vt_json_num(out, p[i].value);
        fputs(",\"program\":", out);
        vt_json_str(out, p[i].program);
        fputs(",\"git_commit\":", out);
        vt_json_str(out, p[i].git_commit);
        fprintf(out, ",\"flagged\":%s,\"baseline\":", p[i].flagged ? "true" : "false");
        vt_json_num(out, p[i].baseline);
        fputc('}', out);
    }
    fprintf(out, "],\"flagged\":%zu}\n", flagged);
}

static int open_error(const char *path, int err, const char *msg)
{
    if (err == VT_ECORRUPT)
        vt_cli_error("the run history '%s' is damaged (%s); 'vitals history reset' moves it "
                     "aside and the next run starts a new one (docs/DIFF.md tells how to "
                     "salvage its rows)",
                     path, msg);
    else
        vt_cli_error("cannot read the run history '%s': %s", path, msg);
    return 2;
}

int cmd_history(int argc, char **argv)
{
    static const struct option opts[] = {
        {"program", required_argument, NULL, 'p'},
        {"last", required_argument, NULL, 'n'},
        {"format", required_argument, NULL, 'f'},
        {"history", required_argument, NULL, 'H'},
        {"ascii", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *program = NULL, *format = "text", *path = NULL;
    long last = -1;
    int ascii = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:n:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            program = optarg;
            break;
        case 'n':
            if (vt_cli_parse_int("--last", optarg, 1, 100000000, &last))
                return 2;
            break;
        case 'f':
            format = optarg;
            break;
        case 'H':
            path = optarg;
            break;
        case 'A':
            ascii = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            vt_cli_error("option '%s' needs a value; see 'vitals history --help'",
                         argv[optind - 1]);
            return 2;
        default:
            vt_cli_error("unknown option '%s'; see 'vitals history --help'", argv[optind - 1]);
            return 2;
        }
    }
    if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "html")) {
        vt_cli_error("unknown format '%s' for --format; choose text, json or html (trend only)",
                     format);
        return 2;
    }
    const char *action = optind < argc ? argv[optind] : "list";
    const vt_figure *fig = NULL;
    if (!strcmp(action, "trend")) {
        if (optind + 2 != argc) {
            vt_cli_error("history trend: which figure? usage: vitals history trend FIGURE "
                         "('vitals diff --figures' lists them)");
            return 2;
        }
        fig = trend_figure(argv[optind + 1]);
        if (!fig) {
            vt_cli_error("history trend: unknown figure '%s' ('vitals diff --figures' lists "
                         "them)",
                         argv[optind + 1]);
            return 2;
        }
    } else if (!strcmp(action, "reset") || !strcmp(action, "list")) {
        if (optind + 1 < argc) {
            vt_cli_error("history %s: unexpected '%s'", action, argv[optind + 1]);
            return 2;
        }
    } else {
        vt_cli_error("history: '%s' is not an action; expected trend or reset (or nothing, to "
                     "list the runs)",
                     action);
        return 2;
    }
    if (!strcmp(format, "html") && !fig) {
        vt_cli_error("--format html is for 'vitals history trend FIGURE' (a chart); the list is "
                     "text or json");
        return 2;
    }
    char pathbuf[PATH_MAX], msg[512];
    if (!path && !(path = vt_history_default_path(pathbuf, sizeof(pathbuf)))) {
        vt_cli_error("no run history: VITALS_HISTORY is empty (or HOME unset); use --history "
                     "PATH");
        return 2;
    }
    if (!strcmp(action, "reset")) {
        char moved[PATH_MAX + 32];
        int err = vt_history_reset(path, moved, sizeof(moved));
        if (err) {
            vt_cli_error("cannot move the run history '%s' aside: %s", path,
                         err == VT_ENOENT ? "it does not exist" : vt_strerror(err));
            return 2;
        }
        printf("vitals: moved '%s' to '%s'; the next run starts a new history\n", path, moved);
        return 0;
    }
    int err = 0;
    vt_history *h = vt_history_open(path, 0, &err, msg, sizeof(msg));
    if (!h)
        return open_error(path, err, msg);
    int rc = 0;
    if (fig) {
        vt_history_point *p;
        size_t n;
        err = vt_history_trend(h, argv[optind + 1], program, last > 0 ? (size_t)last : 50, &p, &n,
                               msg, sizeof(msg));
        if (!err) {
            if (!strcmp(format, "html"))
                trend_html(fig, argv[optind + 1], program, p, n, stdout);
            else if (!strcmp(format, "json"))
                trend_json(fig, argv[optind + 1], program, p, n, stdout);
            else
                trend_text(fig, argv[optind + 1], program, p, n, ascii, stdout);
            vt_history_points_free(p, n);
        }
    } else {
        vt_history_run *runs;
        size_t n;
        err =
            vt_history_list(h, program, last > 0 ? (size_t)last : 20, &runs, &n, msg, sizeof(msg));
        if (!err) {
            if (!strcmp(format, "json"))
                list_json(runs, n, stdout);
            else
                list_text(runs, n, stdout);
            vt_history_runs_free(runs, n);
        }
    }
    if (err)
        rc = open_error(path, err, msg);
    vt_history_close(h);
    if (!rc && fflush(stdout) != 0) {
        vt_cli_error("cannot write to stdout: %m");
        rc = 1;
    }
    return rc;
}

/* HTML text of s (escaped). */
static void html_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '&')
            fputs("&amp;", out);
        else if (*s == '"')
            fputs("&quot;", out);
        else
            fputc(*s, out);
    }
}

/* One self-contained page: the trend as an SVG line chart (sudden changes in red, each point's
 * value, date and commit in its tooltip) and the table of the points. */
static void trend_html(const vt_figure *fig, const char *name, const char *program,
                       const vt_history_point *p, size_t n, FILE *out)
{
    enum { W = 900, H = 320, L = 90, R = 20, T = 20, B = 40 };
    char a[64], d[32];
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, p[i].value);
        hi = fmax(hi, p[i].value);
    }
    if (n && lo > 0 && lo < hi * 0.5)
        lo = 0; /* start at 0 unless the values are close together */
    double span = hi > lo ? hi - lo : (hi ? fabs(hi) : 1);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>vitals "
          "history: ",
          out);
    html_text(out, name);
    fputs("</title>\n<style>\nbody{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
          "table{border-collapse:collapse}th,td{padding:.15em .7em;border-bottom:1px solid #ddd;"
          "text-align:right}th:nth-child(2),td:nth-child(2),td:nth-child(3){text-align:left}\n"
          ".flag{color:#b22;font-weight:bold}svg text{font:12px sans-serif;fill:#555}\n"
          "</style>\n</head>\n<body>\n<h1 style=\"font-size:1.4em\">",
          out);
    html_text(out, name);
    fputs(" <small>(", out);
    html_text(out, fig->label);
    fputs(")</small></h1>\n<p>", out);
    fprintf(out, "%zu run%s", n, n == 1 ? "" : "s");
    if (program) {
        fputs(" of ", out);
        html_text(out, program);
    }
    size_t flagged = 0;
    for (size_t i = 0; i < n; i++)
        flagged += p[i].flagged;
    fprintf(out, "; %zu sudden change%s (docs/DIFF.md)</p>\n", flagged, flagged == 1 ? "" : "s");
    fprintf(out, "<svg id=\"trend\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", W, H, W,
            H);
    fprintf(out,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n",
            L, T, L, H - B, L, H - B, W - R, H - B);
    if (n) {
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", L - 6, T + 4,
                vt_figure_fmt(fig, lo + span, 0, a, sizeof(a)));
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", L - 6, H - B,
                vt_figure_fmt(fig, lo, 0, a, sizeof(a)));
        fprintf(out, "<text x=\"%d\" y=\"%d\">%s</text>\n", L, H - B + 18,
                date_str(p[0].time, d, sizeof(d)));
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", W - R, H - B + 18,
                date_str(p[n - 1].time, d, sizeof(d)));
    }
    double pw = W - L - R, ph = H - T - B;
    fputs("<polyline fill=\"none\" stroke=\"#3a7be0\" stroke-width=\"2\" points=\"", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%.1f,%.1f", i ? " " : "", L + (n > 1 ? pw * (double)i / (n - 1) : pw / 2),
                T + ph * (1 - (p[i].value - lo) / span));
    fputs("\"/>\n", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out,
                "<circle class=\"point%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"><title>",
                p[i].flagged ? " flagged" : "", L + (n > 1 ? pw * (double)i / (n - 1) : pw / 2),
                T + ph * (1 - (p[i].value - lo) / span), p[i].flagged ? 6 : 4,
                p[i].flagged ? "#d22" : "#3a7be0");
        fprintf(out, "run %lld, %s: %s", (long long)p[i].id, date_str(p[i].time, d, sizeof(d)),
                vt_figure_fmt(fig, p[i].value, 0, a, sizeof(a)));
        if (p[i].git_commit) {
            fputs(", commit ", out);
            html_text(out, p[i].git_commit);
        }
        fputs(p[i].flagged ? " (sudden change)" : "", out);
        fputs("</title></circle>\n", out);
    }
    fputs("</svg>\n<table>\n<tr><th>id</th><th>date (UTC)</th><th>program</th><th>commit</th>"
          "<th>value</th><th></th></tr>\n",
          out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "<tr><td>%lld</td><td>%s</td><td>", (long long)p[i].id,
                date_str(p[i].time, d, sizeof(d)));
        html_text(out, p[i].program);
        fputs("</td><td>", out);
        html_text(out, p[i].git_commit ? p[i].git_commit : "-");
        fprintf(out, "</td><td>%s</td><td>", vt_figure_fmt(fig, p[i].value, 0, a, sizeof(a)));
        if (p[i].flagged) {
            char b[64];
            fprintf(out, "<span class=\"flag\">sudden change: %s from the median %s</span>",
                    vt_figure_fmt(fig, p[i].value - p[i].baseline, 1, a, sizeof(a)),
                    vt_figure_fmt(fig, p[i].baseline, 0, b, sizeof(b)));
        }
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n</body>\n</html>\n", out);
}

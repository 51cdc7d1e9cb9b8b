/* vitals diff: compares the figures and call sites of base traces with new ones, and checks
 * budgets (--fail-on). Exit status: 0 pass, 1 a budget is broken, 2 usage or input error. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyze/diff.h"
#include "analyze/sites.h"
#include "cli/checks.h"
#include "cli/cli.h"
#include "report/diff_report.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vitals diff [options] BASE NEW\n"
            "       vitals diff [options] BASE... -- NEW...\n\n"
            "Compares the figures and call sites of the new run(s) with the base run(s). Call\n"
            "sites are matched by function and module names, so a rebuilt or renamed program\n"
            "still matches. A directory stands for the *.vtr files in it. With several runs per\n"
            "side (vitals run --repeat N), changes are weighed against the run-to-run noise.\n\n"
            "options:\n"
            "  -f, --format FORMAT  text, json, markdown or html (default text)\n"
            "  -o, --output FILE    write to FILE instead of stdout\n"
            "  -n, --top N          call sites and CPU functions shown (default 10)\n"
            "      --frames N       frames shown per stack, 0 for all (default 6)\n"
            "      --by METRIC      rank sites by calls, bytes, peak, leaked or temporary\n"
            "                       (default bytes)\n"
            "      --fail-on RULE   a budget, e.g. 'peak > +10%%', 'leaked > 0',\n"
            "                       'allocs > +20%%', 'zone:parse p99 > +15%%', 'cpu > +10%%'\n"
            "                       (repeatable; docs/DIFF.md)\n"
            "      --test TEST      welch or mann-whitney (default welch)\n"
            "      --alpha A        significance level for repeated runs (default 0.05)\n"
            "      --figures        list the figures rules can name, and exit\n"
            "      --color WHEN     auto, always or never (default auto)\n"
            "  -h, --help           show this help\n\n"
            "exit status: 0 no budget broken, 1 a budget is broken (a regression), 2 usage or\n"
            "input error.\n");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends path, or the *.vtr files of the directory path in name order, to *list. */
static int add_path(const char *path, char ***list, size_t *n)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        vt_cli_error("cannot read '%s': %m", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        char **l = realloc(*list, (*n + 1) * sizeof(**list));
        if (!l || !(l[*n] = strdup(path))) {
            *list = l ? l : *list;
            vt_cli_error("out of memory");
            return -1;
        }
        *list = l;
        (*n)++;
        return 0;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        vt_cli_error("cannot read the directory '%s': %m", path);
        return -1;
    }
    size_t first = *n;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".vtr"))
            continue;
        char **l = realloc(*list, (*n + 1) * sizeof(**list));
        if (!l) {
            closedir(dir);
            vt_cli_error("out of memory");
            return -1;
        }
        *list = l;
        if (asprintf(&l[*n], "%s/%s", path, e->d_name) < 0) {
            closedir(dir);
            vt_cli_error("out of memory");
            return -1;
        }
        (*n)++;
    }
    closedir(dir);
    if (*n == first) {
        vt_cli_error("the directory '%s' holds no .vtr trace", path);
        return -1;
    }
    qsort(*list + first, *n - first, sizeof(**list), cmp_str);
    return 0;
}

static void list_figures(void)
{
    printf("%-18s %-6s %s\n", "figure", "unit", "meaning");
    for (const vt_figure *f = vt_figures; f->name; f++)
        printf("%-18s %-6s %s%s%s%s\n", f->name, vt_figure_unit_name(f->unit), f->label,
               f->qualified ? " (needs :NAME)" : "", f->stats ? "; statistics: " : "",
               f->stats ? f->stats : "");
}

struct side {
    char **paths;
    size_t n;
    vt_model **models;
    vt_symbols **syms;
};

static void side_release(struct side *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->syms)
            vt_symbols_free(s->syms[i]);
        if (s->models)
            vt_model_free(s->models[i]);
        free(s->paths[i]);
    }
    free(s->syms);
    free(s->models);
    free(s->paths);
}

static int side_load(struct side *s)
{
    s->models = calloc(s->n, sizeof(*s->models));
    s->syms = calloc(s->n, sizeof(*s->syms));
    if (!s->models || !s->syms) {
        vt_cli_error("out of memory");
        return -1;
    }
    for (size_t i = 0; i < s->n; i++) {
        int err = 0;
        char msg[512] = "";
        s->models[i] = vt_model_load(s->paths[i], NULL, NULL, &err, msg, sizeof(msg));
        if (!s->models[i]) {
            vt_cli_error("cannot read '%s': %s", s->paths[i], msg);
            return -1;
        }
        if (s->models[i]->warnings)
            vt_cli_error("warning: '%s': %s", s->paths[i], s->models[i]->warnings);
        s->syms[i] = vt_model_symbols(s->models[i]);
        if (!s->syms[i]) {
            vt_cli_error("out of memory");
            return -1;
        }
    }
    return 0;
}

int cmd_diff(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
        {"top", required_argument, NULL, 'n'},    {"frames", required_argument, NULL, 'F'},
        {"by", required_argument, NULL, 'b'},     {"fail-on", required_argument, NULL, 'r'},
        {"test", required_argument, NULL, 't'},   {"alpha", required_argument, NULL, 'a'},
        {"figures", no_argument, NULL, 'L'},      {"color", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *format = "text", *output = NULL, *color = "auto";
    long top = 10, frames = 6;
    int metric = VT_DM_BYTES, c, rc = 2;
    enum vt_stat_test test = VT_TEST_WELCH;
    double alpha = 0.05;
    vt_budget_expr *rules = NULL;
    const vt_figure **rule_figs = NULL;
    size_t n_rules = 0;
    struct side base = {0}, now = {0};
    vt_diff *d = NULL;
    vt_diff_verdict *verdicts = NULL;
    FILE *out = stdout;

    /* The traces after the first "--" are the new side; options may come anywhere. getopt
     * reorders args, so the new side is told by the strings' addresses. */
    int split = argc, nargs = 0;
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    if (!args) {
        vt_cli_error("out of memory");
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        if (split == argc && i > 0 && !strcmp(argv[i], "--"))
            split = i;
        else
            args[nargs++] = argv[i];
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(nargs, args, ":f:o:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'n':
            if (vt_cli_parse_int("--top", optarg, 1, 1000000, &top))
                goto out;
            break;
        case 'F':
            if (vt_cli_parse_int("--frames", optarg, 0, 4096, &frames))
                goto out;
            break;
        case 'b':
            metric = vt_diff_metric_find(optarg);
            if (metric < 0) {
                vt_cli_error("--by: '%s' is not a choice; expected calls, bytes, peak, leaked or "
                             "temporary",
                             optarg);
                goto out;
            }
            break;
        case 'r': {
            vt_budget_expr *r = realloc(rules, (n_rules + 1) * sizeof(*rules));
            const vt_figure **f = realloc(rule_figs, (n_rules + 1) * sizeof(*rule_figs));
            rules = r ? r : rules;
            rule_figs = f ? f : rule_figs;
            if (!r || !f) {
                vt_cli_error("out of memory");
                goto out;
            }
            if (vt_cli_parse_rule("--fail-on", optarg, &rules[n_rules], &rule_figs[n_rules]))
                goto out;
            n_rules++;
            break;
        }
        case 't':
            if (!strcmp(optarg, "welch")) {
                test = VT_TEST_WELCH;
            } else if (!strcmp(optarg, "mann-whitney")) {
                test = VT_TEST_MANN_WHITNEY;
            } else {
                vt_cli_error("--test: '%s' is not a choice; expected welch or mann-whitney",
                             optarg);
                goto out;
            }
            break;
        case 'a': {
            char *end;
            alpha = strtod(optarg, &end);
            if (end == optarg || *end || !(alpha > 0 && alpha < 1)) {
                vt_cli_error("--alpha expects a number between 0 and 1 (exclusive), got '%s'",
                             optarg);
                goto out;
            }
            break;
        }
        case 'L':
            list_figures();
            rc = 0;
            goto out;
        case 'C':
            color = optarg;
            break;
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        case ':':
            vt_cli_error("option '%s' needs a value; see 'vitals diff --help'", args[optind - 1]);
            goto out;
        default:
            vt_cli_error("unknown option '%s'; see 'vitals diff --help'", args[optind - 1]);
            goto out;
        }
    }
    if (split < argc) {
        for (int i = optind; i < nargs; i++) {
            int is_new = 0;
            for (int k = split + 1; k < argc && !is_new; k++)
                is_new = args[i] == argv[k];
            if (add_path(args[i], is_new ? &now.paths : &base.paths, is_new ? &now.n : &base.n))
                goto out;
        }
        if (!base.n || !now.n) {
            vt_cli_error("diff: traces are missing on the %s side of '--'; usage: vitals diff "
                         "[options] BASE... -- NEW...",
                         base.n ? "new" : "base");
            goto out;
        }
    } else {
        if (optind + 2 != nargs) {
            vt_cli_error(optind >= nargs ? "diff: which traces? usage: vitals diff [options] "
                                           "BASE NEW (or BASE... -- NEW...)"
                                         : "diff: expected two traces, BASE and NEW; for "
                                           "several runs per side use BASE... -- NEW...");
            goto out;
        }
        if (add_path(args[optind], &base.paths, &base.n) ||
            add_path(args[optind + 1], &now.paths, &now.n))
            goto out;
    }
    int (*render)(const vt_diff *, const vt_diff_report_opts *, FILE *) = NULL;
    if (!strcmp(format, "text"))
        render = vt_render_diff_text;
    else if (!strcmp(format, "json"))
        render = vt_render_diff_json;
    else if (!strcmp(format, "markdown") || !strcmp(format, "md"))
        render = vt_render_diff_markdown;
    else if (!strcmp(format, "html"))
        render = vt_render_diff_html;
    else {
        vt_cli_error("unknown format '%s' for --format; choose text, json, markdown or html",
                     format);
        goto out;
    }
    int use_color = vt_cli_color(color, output ? -1 : 1);
    if (use_color < 0) {
        vt_cli_error("--color expects auto, always or never, got '%s'", color);
        goto out;
    }
    if (side_load(&base) || side_load(&now))
        goto out;
    d = vt_diff_new(base.models, base.syms, base.n, now.models, now.syms, now.n, test);
    verdicts = calloc(n_rules ? n_rules : 1, sizeof(*verdicts));
    if (!d || !verdicts) {
        vt_cli_error("out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_rules; i++) {
        if (vt_diff_check(d, &rules[i], rule_figs[i], test, alpha, &verdicts[i])) {
            vt_cli_error("out of memory");
            goto out;
        }
        if (!verdicts[i].measured) {
            vt_cli_error("--fail-on '%s': the traces do not measure '%s': %s", rules[i].text,
                         rules[i].figure, verdicts[i].why);
            goto out;
        }
    }
    if (output && !(out = fopen(output, "w"))) {
        out = stdout;
        vt_cli_error("cannot write '%s': %m", output);
        goto out;
    }
    vt_diff_report_opts o = {.metric = metric,
                             .top = (size_t)top,
                             .frames = (int)frames,
                             .color = use_color,
                             .base_paths = (const char *const *)base.paths,
                             .new_paths = (const char *const *)now.paths,
                             .verdicts = verdicts,
                             .n_verdicts = n_rules,
                             .test = test,
                             .alpha = alpha};
    int wrc = render(d, &o, out);
    if (output ? fclose(out) != 0 : fflush(out) != 0)
        wrc = -1;
    out = stdout;
    if (wrc) {
        vt_cli_error("cannot write the diff to '%s': %m", output ? output : "stdout");
        goto out;
    }
    rc = vt_diff_broken_count(verdicts, n_rules) ? 1 : 0;
out:
    if (out != stdout)
        fclose(out);
    vt_diff_free(d);
    free(verdicts);
    side_release(&base);
    side_release(&now);
    free(rules);
    free(rule_figs);
    free(args);
    return rc;
}

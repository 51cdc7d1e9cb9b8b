#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/model.h"
#include "analyze/sites.h"
#include "cli/cli.h"
#include "report/report.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: vitals report [options] TRACE\n\n"
                 "Reads a trace written by 'vitals run' and prints its report.\n\n"
                 "options:\n"
                 "  -f, --format FORMAT  output format:");
    for (const vt_renderer *r = vt_renderers; r->name; r++)
        fprintf(out, " %s", r->name);
    fprintf(out, " (default text)\n"
                 "  -o, --output FILE    write the report to FILE instead of stdout\n"
                 "  -n, --top N          entries per table (default 10)\n"
                 "      --frames N       frames shown per stack in text, 0 for all (default 8)\n"
                 "      --color WHEN     auto, always or never (default auto: only on a "
                 "terminal)\n"
                 "      --function NAME  CPU profile: the callers and callees of NAME\n"
                 "  -h, --help           show this help\n");
}

static void progress(uint64_t done, uint64_t total, void *arg)
{
    (void)arg;
    if (total)
        fprintf(stderr, "\rvitals: reading trace %3d%%", (int)(done * 100 / total));
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"top", required_argument, NULL, 'n'},
        {"frames", required_argument, NULL, 'F'},
        {"color", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        /* the CPU profile */
        {"function", required_argument, NULL, 'U'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "text", *output = NULL, *color = "auto", *function = NULL;
    long top = 10, frames = 8;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:o:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'n':
            if (vt_cli_parse_int("--top", optarg, 1, 1000000, &top))
                return 2;
            break;
        case 'F':
            if (vt_cli_parse_int("--frames", optarg, 0, 4096, &frames))
                return 2;
            break;
        case 'C':
            color = optarg;
            break;
        case 'U':
            function = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            vt_cli_error("option '%s' needs a value; see 'vitals report --help'", argv[optind - 1]);
            return 2;
        default:
            vt_cli_error("unknown option '%s'; see 'vitals report --help'", argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        vt_cli_error(optind == argc ? "report: which trace? usage: vitals report [options] TRACE"
                                    : "report: one trace at a time; got '%s' after '%s'",
                     argv[argc - 1], argv[optind]);
        return 2;
    }
    const char *path = argv[optind];
    const vt_renderer *r = vt_renderer_find(format);
    if (!r) {
        vt_cli_error("unknown format '%s' for --format; choose one of:", format);
        for (const vt_renderer *x = vt_renderers; x->name; x++)
            fprintf(stderr, "  %-6s %s\n", x->name, x->description);
        return 2;
    }
    FILE *out = stdout;
    int use_color = vt_cli_color(color, output ? -1 : 1);
    if (use_color < 0) {
        vt_cli_error("--color expects auto, always or never, got '%s'", color);
        return 2;
    }

    int err = 0;
    char msg[512] = "";
    int show_progress = isatty(2);
    vt_model *m =
        vt_model_load(path, show_progress ? progress : NULL, NULL, &err, msg, sizeof(msg));
    if (show_progress)
        fputs("\r\033[K", stderr);
    if (!m) {
        vt_cli_error("cannot read '%s': %s", path, msg);
        return 2;
    }
    if (m->warnings)
        vt_cli_error("warning: '%s': %s", path, m->warnings);
    if (output) {
        out = fopen(output, "w");
        if (!out) {
            vt_cli_error("cannot write '%s': %m", output);
            vt_model_free(m);
            return 1;
        }
    }
    vt_symbols *syms = vt_model_symbols(m);
    vt_report_opts o = {
        .top = (size_t)top, .frames = (int)frames, .color = use_color, .trace_path = path};
    o.function = function;
    int rc = syms ? r->render(m, syms, &o, out) : -1;
    if (output && fclose(out) != 0)
        rc = -1;
    else if (!output && fflush(out) != 0)
        rc = -1;
    if (rc)
        vt_cli_error("cannot write the report to '%s': %m", output ? output : "stdout");
    vt_symbols_free(syms);
    vt_model_free(m);
    return rc ? 1 : 0;
}

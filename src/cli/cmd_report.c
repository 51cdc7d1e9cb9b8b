#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/model.h"
#include "analyze/sites.h"
#include "cli/cli.h"
#include "cli/duration.h"
#include "report/report.h"

/* At most this many outputs in one report command (formats times their parts). */
#define MAX_OUTPUTS 64

/* One file (or stdout) a renderer writes. */
struct output {
    const vt_renderer *r;
    const char *part; /* NULL for a format of one part */
    char *path;       /* NULL: stdout */
    FILE *f;
    int created; /* we created the file: removed again if the report fails */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vitals report [options] TRACE\n\n"
            "Reads a trace written by 'vitals run' and prints its report, in one or several\n"
            "formats at once (the trace is read once).\n\n"
            "options:\n"
            "  -f, --format FORMAT[:PART][=OUT]\n"
            "                       an output format (default text); give it several times for\n"
            "                       several formats. PART picks one part of a format that has\n"
            "                       several; OUT is the file to write ('-' for stdout)\n"
            "  -o, --output PATH    with one format of one part: the file to write; otherwise\n"
            "                       a directory (created if missing) where each format gets its\n"
            "                       default file name\n"
            "  -n, --top N          entries per table (default 10)\n"
            "      --frames N       frames shown per stack in text, 0 for all (default 8)\n"
            "      --color WHEN     auto, always or never (default auto: only on a terminal)\n"
            "      --function NAME  CPU profile: the callers and callees of NAME\n"
            "      --window TIME    monitor trace: the bottleneck's sliding window (default 10s)\n"
            "  -h, --help           show this help\n\n"
            "formats (docs/FORMATS.md):\n");
    for (const vt_renderer *r = vt_renderers; r->name; r++) {
        fprintf(out, "  %-12s %s\n", r->name, r->description);
        if (vt_renderer_parts(r)) {
            fprintf(out, "  %-12s parts:", "");
            for (const char *const *p = vt_renderer_parts(r); *p; p++)
                fprintf(out, " %s", *p);
            fputc('\n', out);
        }
    }
}

static void list_formats(void)
{
    for (const vt_renderer *x = vt_renderers; x->name; x++)
        fprintf(stderr, "  %-12s %s\n", x->name, x->description);
}

static void list_parts(const vt_renderer *r)
{
    fprintf(stderr, "  parts of %s:", r->name);
    for (const char *const *p = vt_renderer_parts(r); *p; p++)
        fprintf(stderr, " %s", *p);
    fputc('\n', stderr);
}

static void progress(uint64_t done, uint64_t total, void *arg)
{
    (void)arg;
    if (total)
        fprintf(stderr, "\rvitals: reading trace %3d%%", (int)(done * 100 / total));
}

/* The name of r's file (for part) in dir, newly allocated; NULL on out of memory. */
static char *default_path(const char *dir, const vt_renderer *r, const char *part)
{
    char name[256];
    vt_renderer_file(r, part, name, sizeof(name));
    size_t n = strlen(dir);
    char *p = malloc(n + strlen(name) + 2);
    if (p)
        sprintf(p, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
    return p;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Makes directory dir unless it exists; prints why not and returns -1. */
static int make_dir(const char *dir)
{
    if (is_dir(dir))
        return 0;
    if (mkdir(dir, 0777) == 0)
        return 0;
    vt_cli_error("cannot create the output directory '%s': %m", dir);
    return -1;
}

static int add_output(struct output *outs, size_t *n, const vt_renderer *r, const char *part,
                      const char *path)
{
    if (*n == MAX_OUTPUTS) {
        vt_cli_error("too many outputs for one report (at most %d)", MAX_OUTPUTS);
        return -1;
    }
    char *copy = NULL;
    if (path && !(copy = strdup(path))) {
        vt_cli_error("out of memory");
        return -1;
    }
    outs[(*n)++] = (struct output){.r = r, .part = part, .path = copy};
    return 0;
}

/* Adds the outputs of one --format spec. dir is the directory outputs without a file of their
 * own go to (NULL: stdout, or single is the file). Returns 0, or 2 after printing the error. */
static int add_spec(struct output *outs, size_t *n, const char *spec, const char *dir,
                    const char *single)
{
    char name[64];
    const char *eq = strchr(spec, '=');
    size_t len = eq ? (size_t)(eq - spec) : strlen(spec);
    if (len >= sizeof(name)) {
        vt_cli_error("unknown format '%.*s' for --format; choose one of:", (int)len, spec);
        list_formats();
        return 2;
    }
    memcpy(name, spec, len);
    name[len] = 0;
    char *colon = strchr(name, ':');
    const char *part_name = NULL;
    if (colon) {
        *colon = 0;
        part_name = colon + 1;
    }
    const vt_renderer *r = vt_renderer_find(name);
    if (!r) {
        vt_cli_error("unknown format '%s' for --format; choose one of:", name);
        list_formats();
        return 2;
    }
    const char *part = NULL;
    if (part_name) {
        if (!vt_renderer_parts(r)) {
            vt_cli_error("--format %s: the format '%s' has no parts, got ':%s'", spec, r->name,
                         part_name);
            return 2;
        }
        if (!(part = vt_renderer_part(r, part_name))) {
            vt_cli_error("--format %s: '%s' is not a part of '%s'", spec, part_name, r->name);
            list_parts(r);
            return 2;
        }
    }
    const char *out = eq ? eq + 1 : NULL;
    if (eq && !*out) {
        vt_cli_error("--format %s: no output after '='; give a file, or '-' for stdout", spec);
        return 2;
    }
    const char *const *parts = vt_renderer_parts(r);
    if (parts && !part) {
        /* The whole format: each part in its own file, in a directory. */
        const char *where = out ? out : dir;
        if (!where || !strcmp(where, "-")) {
            vt_cli_error("--format %s: '%s' has several parts; name one (%s:%s) or give a "
                         "directory (-o DIR or %s=DIR)",
                         spec, r->name, r->name, parts[0], r->name);
            list_parts(r);
            return 2;
        }
        if (make_dir(where))
            return 1;
        for (const char *const *p = parts; *p; p++) {
            char *path = default_path(where, r, *p);
            int rc = path ? add_output(outs, n, r, *p, path) : -1;
            free(path);
            if (rc)
                return 2;
        }
        return 0;
    }
    if (out)
        return add_output(outs, n, r, part, strcmp(out, "-") ? out : NULL) ? 2 : 0;
    if (single)
        return add_output(outs, n, r, part, single) ? 2 : 0;
    if (!dir)
        return add_output(outs, n, r, part, NULL) ? 2 : 0;
    if (make_dir(dir))
        return 1;
    char *path = default_path(dir, r, part);
    int rc = path ? add_output(outs, n, r, part, path) : -1;
    free(path);
    return rc ? 2 : 0;
}

/* Whether a --format spec names one output (one format, one part or a format of one part,
 * and no OUT of its own). */
static int spec_is_single(const char *spec)
{
    char name[64];
    if (strchr(spec, '='))
        return 0;
    size_t len = strcspn(spec, ":");
    if (len >= sizeof(name))
        return 1; /* unknown: add_spec says so */
    memcpy(name, spec, len);
    name[len] = 0;
    const vt_renderer *r = vt_renderer_find(name);
    return !r || !vt_renderer_parts(r) || spec[len] == ':';
}

/* Checks the outputs among themselves and against the trace (opening an output truncates it,
 * and the trace is read after), then opens them. Returns 0, or the exit status after printing
 * the error. */
static int open_outputs(struct output *outs, size_t n, const char *trace)
{
    size_t to_stdout = 0;
    struct stat trace_st, st;
    int have_trace = stat(trace, &trace_st) == 0;
    for (size_t i = 0; i < n; i++) {
        if (outs[i].path && have_trace && stat(outs[i].path, &st) == 0 &&
            st.st_dev == trace_st.st_dev && st.st_ino == trace_st.st_ino) {
            vt_cli_error("the output '%s' is the trace '%s' itself; write the report elsewhere",
                         outs[i].path, trace);
            return 2;
        }
        if (!outs[i].path) {
            if (++to_stdout > 1) {
                vt_cli_error("several formats would go to stdout; give each a file "
                             "(--format FORMAT=FILE) or a directory (-o DIR)");
                return 2;
            }
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (outs[j].path && !strcmp(outs[i].path, outs[j].path)) {
                vt_cli_error("two outputs write '%s'; give each its own file", outs[i].path);
                return 2;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct output *o = &outs[i];
        if (!o->path) {
            if (!strcmp(o->r->name, "pprof") && isatty(1)) {
                vt_cli_error("pprof output is gzipped binary: not writing it to a terminal; "
                             "give a file (--format pprof=FILE or -o FILE)");
                return 2;
            }
            o->f = stdout;
            continue;
        }
        if (is_dir(o->path)) {
            vt_cli_error("cannot write '%s': it is a directory", o->path);
            return 1;
        }
        int existed = access(o->path, F_OK) == 0;
        o->f = fopen(o->path, "w");
        if (!o->f) {
            vt_cli_error("cannot write '%s': %m", o->path);
            return 1;
        }
        o->created = !existed;
    }
    return 0;
}

/* Closes the outputs; with failed set, removes the files this command created. */
static void close_outputs(struct output *outs, size_t n, int failed)
{
    for (size_t i = 0; i < n; i++) {
        if (outs[i].f && outs[i].f != stdout)
            fclose(outs[i].f);
        if (failed && outs[i].created)
            unlink(outs[i].path);
        free(outs[i].path);
    }
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
        /* a monitor trace */
        {"window", required_argument, NULL, 'W'},
        {NULL, 0, NULL, 0},
    };
    const char *formats[MAX_OUTPUTS];
    size_t n_formats = 0;
    const char *output = NULL, *color = "auto", *function = NULL;
    long top = 10, frames = 8;
    uint64_t window_ns = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:o:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (n_formats == MAX_OUTPUTS) {
                vt_cli_error("too many --format options (at most %d)", MAX_OUTPUTS);
                return 2;
            }
            formats[n_formats++] = optarg;
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
        case 'W':
            if (vt_cli_parse_duration("--window", optarg, 1000000, 86400000000000ull, &window_ns))
                return 2;
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
    if (!n_formats)
        formats[n_formats++] = "text";
    if (output && !*output) {
        vt_cli_error("option '--output' needs a file or directory, got ''");
        return 2;
    }
    int color_stdout = vt_cli_color(color, 1), color_file = vt_cli_color(color, -1);
    if (color_stdout < 0) {
        vt_cli_error("--color expects auto, always or never, got '%s'", color);
        return 2;
    }

    /* -o is the file itself for one output of one part (as before several formats could be
     * asked for at once), unless it names a directory; otherwise it is the directory. */
    const char *single = NULL, *dir = output;
    if (output && n_formats == 1 && spec_is_single(formats[0]) && !is_dir(output)) {
        single = output;
        dir = NULL;
    }
    struct output outs[MAX_OUTPUTS];
    size_t n_outs = 0;
    int status = 0, failed = 1;
    vt_model *m = NULL;
    vt_symbols *syms = NULL;
    for (size_t i = 0; i < n_formats && !status; i++)
        status = add_spec(outs, &n_outs, formats[i], dir, single);
    const char *path = argv[optind];
    if (status || (status = open_outputs(outs, n_outs, path)))
        goto out;

    int err = 0;
    char msg[512] = "";
    int show_progress = isatty(2);
    m = vt_model_load(path, show_progress ? progress : NULL, NULL, &err, msg, sizeof(msg));
    if (show_progress)
        fputs("\r\033[K", stderr);
    if (!m) {
        vt_cli_error("cannot read '%s': %s", path, msg);
        status = 2;
        goto out;
    }
    if (m->warnings)
        vt_cli_error("warning: '%s': %s", path, m->warnings);
    syms = vt_model_symbols(m);
    if (!syms) {
        vt_cli_error("out of memory reading the symbols of '%s'", path);
        status = 1;
        goto out;
    }
    failed = 0;
    for (size_t i = 0; i < n_outs; i++) {
        struct output *o = &outs[i];
        vt_report_opts ro = {.top = (size_t)top,
                             .frames = (int)frames,
                             .color = o->f == stdout ? color_stdout : color_file,
                             .trace_path = path,
                             .part = o->part,
                             .function = function,
                             .window_ns = window_ns};
        errno = 0;
        int rc = o->r->render(m, syms, &ro, o->f);
        if (o->f != stdout) {
            if (fclose(o->f) != 0)
                rc = -1;
            o->f = NULL;
        } else if (fflush(o->f) != 0) {
            rc = -1;
        }
        if (rc) {
            if (errno)
                vt_cli_error("cannot write the %s report to '%s': %m", o->r->name,
                             o->path ? o->path : "stdout");
            else
                vt_cli_error("cannot write the %s report to '%s'", o->r->name,
                             o->path ? o->path : "stdout");
            status = 1;
        }
    }
out:
    close_outputs(outs, n_outs, failed);
    vt_symbols_free(syms);
    vt_model_free(m);
    return status;
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct vt_cmd commands[] = {
    {"run", cmd_run, VT_CMD_SPAWNS, "run a program and record its allocations (and CPU, zones) into a trace"},
    {"report", cmd_report, VT_CMD_READS_TRACE, "report a trace: text, JSON, HTML and formats other tools read"},
    {"diff", cmd_diff, VT_CMD_READS_TRACE, "compare runs: figures, sites, budgets (--fail-on)"},
    {"history", cmd_history, 0, "list recorded runs, or the trend of a figure over them"},
    {"monitor", cmd_monitor, VT_CMD_SPAWNS, "record a process's metrics over time, with alerts"},
    {"top", cmd_top, 0, "live view of the system and its processes (ncurses)"},
    {"help", cmd_help, 0, "show help for vitals or for a command"},
    {"version", cmd_version, 0, "print the version"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

void vt_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vitals: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int vt_cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;
    if (!s || !*s)
        goto bad;
    v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi)
        goto bad;
    *out = v;
    return 0;
bad:
    vt_cli_error("option '%s' expects a whole number from %ld to %ld, got '%s'", opt, lo, hi,
                 s ? s : "");
    return -1;
}

int vt_cli_color(const char *when, int fd)
{
    if (!when || !strcmp(when, "auto")) {
        const char *term = getenv("TERM");
        return isatty(fd) && !getenv("NO_COLOR") && term && strcmp(term, "dumb") != 0;
    }
    if (!strcmp(when, "always"))
        return 1;
    if (!strcmp(when, "never"))
        return 0;
    return -1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: vitals <command> [options] [args]\n\n"
                 "vitals finds leaks, the peak and the hot allocation and CPU sites of an\n"
                 "unmodified program, watches live processes, and compares runs.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nquick start:\n"
                 "  vitals run -- ./myprog a b c      the program runs as usual; a summary and a\n"
                 "                                    trace (vitals.myprog.PID.vtr) at the end\n"
                 "  vitals report vitals.myprog.PID.vtr\n\n"
                 "'vitals help <command>' or 'vitals <command> --help' shows a command's "
                 "options.\n");
}

static const struct vt_cmd *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    const struct vt_cmd *c = find(argv[1]);
    if (!c) {
        vt_cli_error("no command '%s'; 'vitals help' lists them", argv[1]);
        return 2;
    }
    char *args[] = {(char *)c->name, "--help", NULL};
    return c->fn(2, args);
}

static int cmd_version(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: vitals version\n\nPrints the version of vitals.\n");
        return 0;
    }
    if (argc > 1) {
        vt_cli_error("version takes no arguments ('%s' given)", argv[1]);
        return 2;
    }
    printf("vitals %s\n", VT_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version"))
        return cmd_version(argc - 1, argv + 1);
    const struct vt_cmd *c = find(argv[1]);
    if (!c) {
        vt_cli_error("'%s' is not a vitals command; 'vitals help' lists them", argv[1]);
        return 2;
    }
    return c->fn(argc - 1, argv + 1);
}

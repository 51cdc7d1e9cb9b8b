/* vitals run: starts the program with the agent preloaded, waits for it, summarises the trace
 * and exits with the program's status. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyze/model.h"
#include "analyze/sites.h"
#include "cli/checks.h"
#include "cli/cli.h"
#include "cli/run_cpu.h"
#include "report/report.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vitals run [options] [--] PROGRAM [ARGS...]\n\n"
            "Runs PROGRAM with every allocation recorded. Its input, output and exit status\n"
            "are its own; at the end a summary goes to stderr and the trace to disk.\n\n"
            "options:\n"
            "  -o, --output FILE  write the trace to FILE (default vitals.PROGRAM.PID.vtr;\n"
            "                     forked children write FILE's directory/vitals.NAME.PID.vtr)\n"
            "  -d, --depth N      record at most N frames per call stack, 1-256 (default 64)\n"
            "  -f, --follow       also trace programs started with exec\n"
            "      --leak-check=WHEN\n"
            "                     exit (default): at exit, sort the blocks still allocated into\n"
            "                     definitely, indirectly, possibly lost and still reachable by\n"
            "                     scanning memory for pointers (memcheck's classes); none: skip\n"
            "  -q, --quiet        no summary at the end\n"
            "      --repeat N     run the program N times (1-1000), one trace per run:\n"
            "                     -o NAME.vtr writes NAME.1.vtr...; -o DIR/ DIR/PROGRAM.1.vtr...\n"
            "      --budget FILE  check the limits in FILE at the end (docs/DIFF.md); when one\n"
            "                     is broken and the program exited 0, vitals exits 3\n"
            "      --budget-status N\n"
            "                     the exit status for a broken budget (1-255, default 3)\n"
            "      --history PATH record the run in the history database PATH (default\n"
            "                     $VITALS_HISTORY, else ~/.local/share/vitals/history.db)\n"
            "      --no-history   do not record the run in the history\n"
            "%s"
            "  -h, --help         show this help\n\n"
            "environment: VITALS_AGENT overrides the path of libvitals-agent.so.\n",
            vt_run_cpu_usage);
}

/* snprintf that reports truncation: 0 when the whole string fit, -1 when not. */
static int fmt_path(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fmt_path(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    return r < 0 || (size_t)r >= n ? -1 : 0;
}

static int exists(const char *p)
{
    return access(p, R_OK) == 0;
}

/* The agent: $VITALS_AGENT, beside this executable (build tree), ../lib/vitals (install),
 * or the configured install path. */
static int find_agent(char *out, size_t n)
{
    const char *env = getenv("VITALS_AGENT");
    if (env) {
        snprintf(out, n, "%s", env);
        return exists(out) ? 0 : -1;
    }
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len > 0) {
        self[len] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            if (fmt_path(out, n, "%s/libvitals-agent.so", self) == 0 && exists(out))
                return 0;
            if (fmt_path(out, n, "%s/../lib/vitals/libvitals-agent.so", self) == 0 && exists(out) &&
                realpath(out, self)) {
                fmt_path(out, n, "%s", self);
                return 0;
            }
        }
    }
    snprintf(out, n, "%s", VT_AGENT_INSTALL_PATH);
    return exists(out) ? 0 : -1;
}

/* Finds program as execvp would; returns 0 and its path, or -1 with errno set. */
static int resolve_program(const char *prog, char *out, size_t n)
{
    if (strchr(prog, '/')) {
        snprintf(out, n, "%s", prog);
        return access(out, X_OK);
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    int saw_noexec = 0;
    while (*path) {
        size_t len = strcspn(path, ":");
        if (fmt_path(out, n, "%.*s/%s", (int)(len ? len : 1), len ? path : ".", prog) != 0) {
            path += len + (path[len] == ':');
            continue;
        }
        if (access(out, X_OK) == 0) {
            struct stat st;
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
                return 0;
        } else if (errno == EACCES) {
            saw_noexec = 1;
        }
        path += len + (path[len] == ':');
    }
    errno = saw_noexec ? EACCES : ENOENT;
    return -1;
}

/* Explains why LD_PRELOAD cannot work for path, or returns NULL when it can. */
static const char *preload_obstacle(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)))
        return "it is setuid or setgid, and the dynamic loader ignores LD_PRELOAD for such "
               "programs; run a copy without the bit";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    Elf64_Ehdr eh;
    const char *why = NULL;
    ssize_t got = read(fd, &eh, sizeof(eh));
    if (got >= 2 && !memcmp(&eh, "#!", 2))
        goto out; /* a script: its interpreter is what runs */
    if (got != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64)
        goto out;
    int has_interp = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
            (ssize_t)sizeof(ph))
            break;
        has_interp |= ph.p_type == PT_INTERP;
    }
    if (!has_interp)
        why = "it is statically linked, so the agent cannot be preloaded into it; link it "
              "dynamically to profile it";
out:
    close(fd);
    return why;
}

static pid_t child_pid;

static void forward_signal(int sig)
{
    if (child_pid > 0)
        kill(child_pid, sig);
}

/* Prints the summary of the run's trace and returns its model, for the history and the budget
 * (caller frees with vt_model_free()), or NULL when the trace cannot be read. */
static vt_model *print_summary(const char *trace, const char *shown, const char *manifest_path)
{
    int err = 0;
    char msg[512];
    vt_model *m = vt_model_load(trace, NULL, NULL, &err, msg, sizeof(msg));
    if (!m)
        vt_cli_error("cannot read the trace '%s': %s", shown, msg);
    vt_symbols *syms = m ? vt_model_symbols(m) : NULL;
    if (syms)
        vt_render_summary(m, syms, shown, stderr);
    vt_symbols_free(syms);

    /* Traces of forked children and of exec'd programs. */
    FILE *f = fopen(manifest_path, "r");
    char line[4200];
    int others = 0;
    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        if (!strcmp(line, trace))
            continue;
        if (!others++)
            fprintf(stderr, "vitals: other processes of the run wrote:\n");
        fprintf(stderr, "vitals:   %s\n", line);
    }
    if (f)
        fclose(f);
    return m;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"depth", required_argument, NULL, 'd'},
        {"follow", no_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"leak-check", required_argument, NULL, 'L'},
        {"repeat", required_argument, NULL, VT_RUN_OPT_REPEAT},
        {"budget", required_argument, NULL, VT_RUN_OPT_BUDGET},
        {"budget-status", required_argument, NULL, VT_RUN_OPT_BUDGET_STATUS},
        {"history", required_argument, NULL, VT_RUN_OPT_HISTORY},
        {"no-history", no_argument, NULL, VT_RUN_OPT_NO_HISTORY},
        /* the CPU profile (run_cpu.h) */
        VT_RUN_CPU_OPTIONS
        /* end */
        {NULL, 0, NULL, 0},
    };
    const char *output = NULL;
    long depth = 64;
    int follow = 0, quiet = 0, leak_check = 1, c;
    vt_run_checks checks;
    vt_run_checks_init(&checks);
    static vt_run_cpu cpu;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:o:d:fqh", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case 'd':
            if (vt_cli_parse_int("--depth", optarg, 1, 256, &depth))
                return 2;
            break;
        case 'f':
            follow = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'L':
            if (!strcmp(optarg, "exit")) {
                leak_check = 1;
            } else if (!strcmp(optarg, "none")) {
                leak_check = 0;
            } else {
                vt_cli_error("--leak-check: '%s' is not a choice; expected 'exit' or 'none'",
                             optarg);
                return 2;
            }
            break;
        case VT_RUN_OPT_REPEAT:
        case VT_RUN_OPT_BUDGET:
        case VT_RUN_OPT_BUDGET_STATUS:
        case VT_RUN_OPT_HISTORY:
        case VT_RUN_OPT_NO_HISTORY:
            if (vt_run_checks_option(&checks, c, optarg)) {
                vt_run_checks_release(&checks);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        case VT_OPT_CPU:
        case VT_OPT_WALL:
        case VT_OPT_COUNTERS:
        case VT_OPT_EVENT:
        case VT_OPT_NO_ALLOC:
        case VT_OPT_ZONE_COUNTERS:
            if (vt_run_cpu_option(&cpu, c, optarg))
                return 2;
            break;
        case ':':
            vt_cli_error("option '%s' needs a value; see 'vitals run --help'", argv[optind - 1]);
            return 2;
        default:
            vt_cli_error("unknown option '%s'; see 'vitals run --help'", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        vt_cli_error("run: which program? usage: vitals run [options] [--] PROGRAM [ARGS...]");
        return 2;
    }
    char **prog_argv = argv + optind;
    if (vt_run_cpu_finish(&cpu))
        return 2;

    char agent[PATH_MAX], prog[PATH_MAX];
    if (find_agent(agent, sizeof(agent)) != 0) {
        vt_cli_error("cannot find the agent library (tried '%s'); set VITALS_AGENT to the path "
                     "of libvitals-agent.so",
                     agent);
        return 2;
    }
    if (resolve_program(prog_argv[0], prog, sizeof(prog)) != 0) {
        int e = errno;
        vt_cli_error("cannot run '%s': %s", prog_argv[0],
                     e == ENOENT ? "command not found" : strerror(e));
        return e == ENOENT ? 127 : 126;
    }
    const char *why = preload_obstacle(prog);
    if (why) {
        vt_cli_error("cannot profile '%s': %s", prog, why);
        return 2;
    }
    int repeated = vt_run_repeat(&checks, output, argc, argv, optind);
    if (repeated >= 0) {
        vt_run_checks_release(&checks);
        return repeated;
    }

    /* Where the traces go: -o FILE for this process, its directory for the others. */
    char cwd[PATH_MAX], dir[PATH_MAX], trace[PATH_MAX + 64];
    if (!getcwd(cwd, sizeof(cwd))) {
        vt_cli_error("cannot read the current directory: %m");
        return 1;
    }
    if (output) {
        if ((output[0] == '/' ? fmt_path(trace, sizeof(trace), "%s", output)
                              : fmt_path(trace, sizeof(trace), "%s/%s", cwd, output)) ||
            fmt_path(dir, sizeof(dir), "%s", trace)) {
            vt_cli_error("the path '%s' is too long", output);
            return 2;
        }
        *strrchr(dir, '/') = 0;
        struct stat st;
        if (lstat(trace, &st) == 0 && !S_ISREG(st.st_mode)) {
            vt_cli_error("cannot write the trace to '%s': it exists and is not a regular file",
                         output);
            return 2;
        }
        if (unlink(trace) != 0 && errno != ENOENT) {
            vt_cli_error("cannot replace '%s': %m", output);
            return 1;
        }
        int fd = open(trace, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0) {
            vt_cli_error("cannot write the trace '%s': %m", output);
            return 1;
        }
        close(fd);
        unlink(trace);
    } else {
        snprintf(dir, sizeof(dir), "%s", cwd);
    }
    char manifest[] = "/tmp/vitals-run.XXXXXX";
    int mfd = mkstemp(manifest);
    if (mfd < 0) {
        vt_cli_error("cannot create a temporary file in /tmp: %m");
        return 1;
    }
    close(mfd);

    const char *base = strrchr(prog, '/');
    base = base ? base + 1 : prog;
    struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = forward_signal}, old_int,
                     old_quit, old_term, old_hup;
    sigemptyset(&ign.sa_mask);
    sigemptyset(&fwd.sa_mask);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        vt_cli_error("cannot start '%s': %m", prog);
        unlink(manifest);
        return 1;
    }
    if (pid == 0) {
        char buf[64], preload[PATH_MAX * 2];
        const char *old = getenv("LD_PRELOAD");
        if (old && *old)
            fmt_path(preload, sizeof(preload), "%s:%s", agent, old);
        else
            fmt_path(preload, sizeof(preload), "%s", agent);
        setenv("LD_PRELOAD", preload, 1);
        if (!output)
            fmt_path(trace, sizeof(trace), "%s/vitals.%s.%d.vtr", dir, base, (int)getpid());
        setenv("VITALS_OUTPUT", trace, 1);
        snprintf(buf, sizeof(buf), "%d", (int)getpid());
        setenv("VITALS_OUTPUT_PID", buf, 1);
        snprintf(buf, sizeof(buf), "%ld", depth);
        setenv("VITALS_DEPTH", buf, 1);
        setenv("VITALS_FOLLOW", follow ? "1" : "0", 1);
        setenv("VITALS_LEAK_CHECK", leak_check ? "1" : "0", 1);
        setenv("VITALS_DIR", dir, 1);
        setenv("VITALS_MANIFEST", manifest, 1);
        vt_run_cpu_env(&cpu);
        execv(prog, prog_argv);
        int e = errno;
        fprintf(stderr, "vitals: cannot run '%s': %s\n", prog, strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }
    child_pid = pid;
    if (!output)
        fmt_path(trace, sizeof(trace), "%s/vitals.%s.%d.vtr", dir, base, (int)pid);
    /* Like system(): the terminal's SIGINT and SIGQUIT reach the program directly; signals
     * sent to vitals alone are passed on. */
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    sigaction(SIGTERM, &fwd, &old_term);
    sigaction(SIGHUP, &fwd, &old_hup);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            vt_cli_error("lost track of '%s': %m", prog);
            status = 1 << 8;
            break;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);

    /* Show the trace by the name the user gave it. */
    const char *shown = trace;
    if (!strncmp(trace, cwd, strlen(cwd)) && trace[strlen(cwd)] == '/')
        shown = trace + strlen(cwd) + 1;
    vt_model *model = NULL;
    if (!quiet) {
        if (access(trace, R_OK) == 0)
            model = print_summary(trace, shown, manifest);
        else
            vt_cli_error("no trace was written for '%s' (the agent did not start: was it "
                         "preloaded? see README troubleshooting)",
                         prog);
    }
    unlink(manifest);
    int rc = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    rc = vt_run_checks_finish(&checks, model, trace, prog_argv, rc);
    vt_model_free(model);
    vt_run_checks_release(&checks);
    return rc;
}

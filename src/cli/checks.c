/* vitals run's --repeat, --budget and run history (checks.h). */
#include "cli/checks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyze/model.h"
#include "cli/cli.h"
#include "store/history.h"

extern char **environ;

void vt_run_checks_init(vt_run_checks *c)
{
    memset(c, 0, sizeof(*c));
    c->repeat = 1;
    c->budget_status = 3;
}

void vt_run_checks_release(vt_run_checks *c)
{
    free(c->rules);
    free(c->figs);
    c->rules = NULL;
    c->figs = NULL;
    c->n_rules = 0;
}

int vt_cli_parse_rule(const char *where, const char *rule, vt_budget_expr *out,
                      const vt_figure **fig)
{
    char msg[256];
    size_t at = 0;
    if (vt_budget_parse(rule, out, &at, msg, sizeof(msg)) == 0) {
        *fig = vt_figure_for_rule(out, &at, msg, sizeof(msg));
        if (*fig)
            return 0;
        at += strspn(rule, " \t"); /* offsets of a parsed rule are in its trimmed text */
    }
    vt_cli_error("%s '%s': %s", where, rule, msg);
    fprintf(stderr, "    %s\n    %*s^\n", rule, (int)at, "");
    return -1;
}

static int load_budget(vt_run_checks *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        vt_cli_error("--budget: cannot read '%s': %m", path);
        return -1;
    }
    char line[1024];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "#\r\n")] = 0;
        if (!line[strspn(line, " \t")])
            continue;
        vt_budget_expr *r = realloc(c->rules, (c->n_rules + 1) * sizeof(*r));
        const vt_figure **g = realloc(c->figs, (c->n_rules + 1) * sizeof(*g));
        c->rules = r ? r : c->rules;
        c->figs = g ? g : c->figs;
        if (!r || !g) {
            vt_cli_error("out of memory");
            rc = -1;
            break;
        }
        char where[PATH_MAX + 32];
        snprintf(where, sizeof(where), "%s:%d:", path, lineno);
        if (vt_cli_parse_rule(where, line, &r[c->n_rules], &g[c->n_rules])) {
            rc = -1;
            break;
        }
        if (r[c->n_rules].kind != VT_LIMIT_VALUE) {
            vt_cli_error("%s '%s': a budget file holds absolute limits, such as 'peak > 1MiB'; "
                         "a change needs a base run (vitals diff --fail-on)",
                         where, r[c->n_rules].text);
            rc = -1;
            break;
        }
        c->n_rules++;
    }
    if (!rc && ferror(f)) {
        vt_cli_error("--budget: cannot read '%s': %m", path);
        rc = -1;
    }
    fclose(f);
    if (!rc && !c->n_rules) {
        vt_cli_error("--budget: '%s' holds no rule (one per line, e.g. 'peak > 64MiB')", path);
        rc = -1;
    }
    return rc;
}

int vt_run_checks_option(vt_run_checks *c, int opt, const char *arg)
{
    switch (opt) {
    case VT_RUN_OPT_REPEAT:
        return vt_cli_parse_int("--repeat", arg, 1, 1000, &c->repeat);
    case VT_RUN_OPT_BUDGET:
        c->budget_path = arg;
        return load_budget(c, arg);
    case VT_RUN_OPT_BUDGET_STATUS:
        return vt_cli_parse_int("--budget-status", arg, 1, 255, &c->budget_status);
    case VT_RUN_OPT_HISTORY:
        if (!*arg) {
            vt_cli_error("--history expects a path");
            return -1;
        }
        c->history_path = arg;
        c->no_history = 0;
        return 0;
    case VT_RUN_OPT_NO_HISTORY:
        c->no_history = 1;
        return 0;
    }
    return -1;
}

/* The trace of run i of a repetition. */
static int repeat_path(const char *output, const char *prog, long i, char *out, size_t n)
{
    size_t len = strlen(output);
    struct stat st;
    int r;
    if ((len && output[len - 1] == '/') || (stat(output, &st) == 0 && S_ISDIR(st.st_mode))) {
        if (mkdir(output, 0755) != 0 && errno != EEXIST) {
            vt_cli_error("cannot create the directory '%s': %m", output);
            return -1;
        }
        r = snprintf(out, n, "%s%s%s.%ld.vtr", output, output[len - 1] == '/' ? "" : "/", prog, i);
    } else if (len > 4 && !strcmp(output + len - 4, ".vtr")) {
        r = snprintf(out, n, "%.*s.%ld.vtr", (int)(len - 4), output, i);
    } else {
        r = snprintf(out, n, "%s.%ld.vtr", output, i);
    }
    if (r < 0 || (size_t)r >= n) {
        vt_cli_error("the path '%s' is too long", output);
        return -1;
    }
    return 0;
}

int vt_run_repeat(const vt_run_checks *c, const char *output, int argc, char **argv, int prog_index)
{
    if (c->repeat <= 1 || getenv("VITALS_REPEAT_RUN"))
        return -1;
    const char *prog = strrchr(argv[prog_index], '/');
    prog = prog ? prog + 1 : argv[prog_index];
    int n_opts = prog_index - 1;
    if (n_opts > 0 && !strcmp(argv[prog_index - 1], "--"))
        n_opts--;
    char **cargv = calloc((size_t)argc + 8, sizeof(*cargv));
    if (!cargv) {
        vt_cli_error("out of memory");
        return 1;
    }
    char path[PATH_MAX], index[32];
    int k = 0, result = 0;
    cargv[k++] = "vitals";
    cargv[k++] = argv[0];
    for (int i = 1; i <= n_opts; i++)
        cargv[k++] = argv[i];
    if (output) {
        cargv[k++] = "-o";
        cargv[k++] = path;
    }
    cargv[k++] = "--";
    for (int i = prog_index; i < argc; i++)
        cargv[k++] = argv[i];
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    for (long i = 1; i <= c->repeat; i++) {
        if (output && repeat_path(output, prog, i, path, sizeof(path))) {
            result = 2;
            break;
        }
        snprintf(index, sizeof(index), "%ld", i);
        fprintf(stderr, "vitals: run %ld of %ld%s%s\n", i, c->repeat, output ? ": " : "",
                output ? path : "");
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            vt_cli_error("cannot start run %ld: %m", i);
            result = 1;
            break;
        }
        if (pid == 0) {
            sigaction(SIGINT, &old_int, NULL);
            sigaction(SIGQUIT, &old_quit, NULL);
            setenv("VITALS_REPEAT_RUN", index, 1);
            execv("/proc/self/exe", cargv);
            fprintf(stderr, "vitals: cannot run vitals again: %s\n", strerror(errno));
            _exit(126);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        int rc = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        if (rc && !result)
            result = rc;
        if (rc == 128 + SIGINT || rc == 128 + SIGQUIT) {
            vt_cli_error("run %ld was interrupted; not repeating further", i);
            break;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    free(cargv);
    return result;
}

/* HEAD of the git work tree around the current directory, or NULL. */
static char *git_commit(void)
{
    int fds[2];
    if (pipe(fds) != 0)
        return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char *args[] = {"git", "rev-parse", "--verify", "-q", "HEAD", NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "git", &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    char buf[128];
    size_t got = 0;
    if (rc == 0) {
        ssize_t r;
        while (got < sizeof(buf) - 1 && ((r = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0 ||
                                         (r < 0 && errno == EINTR)))
            got += r > 0 ? (size_t)r : 0;
    }
    close(fds[0]);
    if (rc != 0)
        return NULL;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    buf[got] = 0;
    buf[strcspn(buf, "\n")] = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || strlen(buf) < 40 ||
        buf[strspn(buf, "0123456789abcdef")])
        return NULL;
    return strdup(buf);
}

/* argv as a shell would need it typed. */
static char *shell_join(char **argv)
{
    size_t n = 1;
    for (char **a = argv; *a; a++)
        n += strlen(*a) * 4 + 3;
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    for (char **a = argv; *a; a++) {
        if (a != argv)
            *p++ = ' ';
        int plain = **a && !(*a)[strspn(*a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
                                            "YZ0123456789_./:=@%+,-")];
        if (plain) {
            p = stpcpy(p, *a);
            continue;
        }
        *p++ = '\'';
        for (const char *c = *a; *c; c++) {
            if (*c == '\'')
                p = stpcpy(p, "'\\''");
            else
                *p++ = *c;
        }
        *p++ = '\'';
    }
    *p = 0;
    return s;
}

static void record(const vt_run_checks *c, const vt_model *m, const char *trace, char **prog_argv,
                   int status)
{
    char pathbuf[PATH_MAX], msg[512], host[256] = "", cwd[PATH_MAX] = "";
    const char *path =
        c->history_path ? c->history_path : vt_history_default_path(pathbuf, sizeof(pathbuf));
    if (c->no_history || !path)
        return;
    size_t rows = 0, n = 0;
    while (vt_figures[rows].name)
        rows++;
    vt_history_figure *figs = calloc(rows, sizeof(*figs));
    for (const vt_figure *f = vt_figures; f->name && m && figs; f++) {
        const char *why;
        if (!f->qualified && f->get(m, "", "", &figs[n].value, &why) == 0)
            figs[n++].name = f->name;
    }
    /* zones and counters (docs/DIFF.md): up to 256 more */
    char **named = NULL;
    double *named_v = NULL;
    size_t n_named = 0;
    if (m && figs && vt_figures_named(m, 256, &named, &named_v, &n_named) == 0 && n_named) {
        vt_history_figure *more = realloc(figs, (rows + n_named) * sizeof(*figs));
        if (more) {
            figs = more;
            for (size_t i = 0; i < n_named; i++)
                figs[n++] = (vt_history_figure){named[i], named_v[i]};
        }
    }
    gethostname(host, sizeof(host) - 1);
    if (!getcwd(cwd, sizeof(cwd)))
        cwd[0] = 0;
    const char *base = strrchr(prog_argv[0], '/');
    vt_history_run run = {
        .time = (int64_t)time(NULL),
        .program = (char *)(base ? base + 1 : prog_argv[0]),
        .command = shell_join(prog_argv),
        .cwd = cwd,
        .git_commit = git_commit(),
        .host = host,
        .trace = m ? (char *)trace : NULL,
        .exit_status = status,
        .figures = figs,
        .n_figures = n,
    };
    int err = 0;
    vt_history *h = run.command && figs ? vt_history_open(path, 1, &err, msg, sizeof(msg)) : NULL;
    if (!run.command || !figs)
        snprintf(msg, sizeof(msg), "out of memory");
    if (h)
        err = vt_history_add(h, &run, msg, sizeof(msg));
    if (!h || err)
        vt_cli_error("warning: the run was not recorded in the history '%s': %s%s", path, msg,
                     err == VT_ECORRUPT ? "; 'vitals history reset' moves the damaged file aside "
                                          "(docs/DIFF.md)"
                                        : "");
    vt_history_close(h);
    free(run.command);
    free(run.git_commit);
    free(figs);
    for (size_t i = 0; i < n_named; i++)
        free(named[i]);
    free(named);
    free(named_v);
}

int vt_run_checks_finish(const vt_run_checks *c, const vt_model *model, const char *trace,
                         char **prog_argv, int status)
{
    char pathbuf[PATH_MAX];
    int want_history =
        !c->no_history && (c->history_path || vt_history_default_path(pathbuf, sizeof(pathbuf)));
    if (!want_history && !c->n_rules)
        return status;
    vt_model *own = NULL;
    const vt_model *m = model;
    char msg[512] = "";
    if (!m && access(trace, R_OK) == 0) {
        int err = 0;
        m = own = vt_model_load(trace, NULL, NULL, &err, msg, sizeof(msg));
    } else if (!m) {
        snprintf(msg, sizeof(msg), "no trace was written");
    }
    record(c, m, trace, prog_argv, status);
    size_t broken = 0;
    if (c->n_rules) {
        char a[64], b[64];
        for (size_t i = 0; i < c->n_rules; i++) {
            const vt_budget_expr *r = &c->rules[i];
            double v = 0;
            const char *why = msg;
            if (!m || c->figs[i]->get(m, r->qualifier, r->stat, &v, &why) != 0) {
                vt_cli_error("budget '%s': cannot be checked: %s", r->text, why);
                broken++;
                continue;
            }
            int bad = vt_budget_broken(r, 0, v, 0, NULL) == 1;
            broken += bad;
            vt_cli_error("budget %s %s: %s (limit %s)", bad ? "FAIL" : "pass", r->text,
                         vt_figure_fmt(c->figs[i], v, 0, a, sizeof(a)),
                         vt_figure_fmt(c->figs[i], r->limit, 0, b, sizeof(b)));
        }
        if (broken && status == 0) {
            vt_cli_error("budget '%s': %zu of %zu limits broken; the program exited 0, vitals "
                         "exits %ld",
                         c->budget_path, broken, c->n_rules, c->budget_status);
            status = (int)c->budget_status;
        } else if (broken) {
            vt_cli_error("budget '%s': %zu of %zu limits broken; the exit status is the "
                         "program's (%d)",
                         c->budget_path, broken, c->n_rules, status);
        }
    }
    vt_model_free(own);
    return status;
}

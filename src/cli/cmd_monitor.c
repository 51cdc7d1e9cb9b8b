/* vitals monitor: metric snapshots of a process (started here or given by --pid) and of the
 * system every --interval, into a trace and/or JSON lines, with alerts. docs/MONITOR.md. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyze/alert.h"
#include "analyze/bottleneck.h"
#include "analyze/series.h"
#include "cli/cli.h"
#include "cli/duration.h"
#include "collect/gpu.h"
#include "collect/metrics.h"
#include "collect/numa.h"
#include "collect/proc.h"
#include "collect/system.h"
#include "report/json-int.h"
#include "trace/format.h"
#include "trace/monitor_writer.h"
#include "util/error.h"
#include "util/fmt.h"

#define MAX_RULES 64
#define MAX_EXEC_CHILDREN 64

static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t got_child;

static void on_signal(int sig)
{
    got_signal = sig;
}

static void on_child(int sig)
{
    (void)sig;
    got_child = 1;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: vitals monitor [options] --pid PID\n"
        "       vitals monitor [options] [--] PROGRAM [ARGS...]\n\n"
        "Records metric snapshots of a process and the system every interval into a trace\n"
        "and/or JSON lines, until the program ends or Ctrl-C; raises alerts.\n\n"
        "options:\n"
        "  -p, --pid PID          monitor a running process\n"
        "  -i, --interval TIME    time between snapshots, 1ms to 60s (default 1s; 100ms, 2s...)\n"
        "  -o, --output FILE      the trace (replaced if it exists; default\n"
        "                         vitals.monitor.NAME.PID.vtr)\n"
        "      --no-trace         write no trace (with --json)\n"
        "      --json             a JSON line per snapshot and per alert on stdout\n"
        "  -t, --duration TIME    stop after this long\n"
        "  -a, --alert RULE       raise an alert when RULE holds, e.g. 'rss > 2GiB',\n"
        "                         'critical: cpu > 90%% for 10s', 'major_faults/s > 100'\n"
        "                         (repeatable; grammar in docs/MONITOR.md)\n"
        "      --alert-exec CMD   run CMD with /bin/sh for every alert, the alert in its\n"
        "                         environment (VITALS_ALERT_*)\n"
        "      --no-anomalies     no alerts without thresholds (3-sigma outliers, memory\n"
        "                         trend)\n"
        "      --cooldown TIME    least time between two anomaly alerts of one metric\n"
        "                         (default 60s)\n"
        "      --window TIME      the bottleneck's sliding window (default 10s): a change of\n"
        "                         class is reported once, as a phase\n"
        "      --list-metrics     list the metrics and their units, then exit\n"
        "  -q, --quiet            no summary at the end (alerts still go to stderr)\n"
        "  -h, --help             this help\n");
}

struct monitor {
    /* options */
    int pid;
    char **argv;
    uint64_t interval_ns, duration_ns, cooldown_ns;
    const char *output;
    int no_trace, json, quiet, anomalies;
    const char *alert_exec;
    const char *rules[MAX_RULES];
    int n_rules;
    /* state */
    int spawned;
    char trace_path[4096];
    vt_monitor_writer mw;
    int have_trace;
    vt_proc proc;
    vt_system sys;
    vt_numa numa;
    vt_gpu gpu;
    vt_series series;
    vt_alerts alerts;
    uint64_t start_ns;
    uint64_t n_alerts;
    pid_t exec_children[MAX_EXEC_CHILDREN];
    int n_exec_children;
    int trace_err_said;
    struct vt_live_file live; /* the agent's figures, under vitals run */
    uint64_t window_ns;
    vt_phases phases; /* the bottleneck over sliding windows */
};

static void list_metrics(void)
{
    printf("%-22s %-8s %-8s %s\n", "metric", "kind", "unit", "meaning");
    for (int i = 0; i < VT_M_COUNT; i++) {
        const vt_metric_def *d = &vt_metric_defs[i];
        const char *unit = d->kind == VT_METRIC_COUNTER ? (d->unit == VT_UNIT_NS      ? "%"
                                                           : d->unit == VT_UNIT_BYTES ? "bytes/s"
                                                                                      : "/s")
                                                        : (d->unit == VT_UNIT_BYTES ? "bytes" : "");
        printf("%-22s %-8s %-8s %s\n", d->name, d->kind == VT_METRIC_COUNTER ? "counter" : "gauge",
               unit, d->help);
    }
    printf("\nIn --alert rules, a counter of time ('cpu') compares its share with %% or its total\n"
           "with a duration; other counters compare their total, or their rate with NAME/s; a\n"
           "gauge compares its level, or its change per second with NAME/s.\n");
}

static void reap_exec_children(struct monitor *M, int block)
{
    for (int i = 0; i < M->n_exec_children;) {
        pid_t r = waitpid(M->exec_children[i], NULL, block ? 0 : WNOHANG);
        if (r == M->exec_children[i] || (r < 0 && errno == ECHILD)) {
            M->exec_children[i] = M->exec_children[--M->n_exec_children];
            continue;
        }
        i++;
    }
}

static void run_alert_exec(struct monitor *M, const vt_series_alert *a)
{
    reap_exec_children(M, 0);
    if (M->n_exec_children == MAX_EXEC_CHILDREN) {
        vt_cli_error("--alert-exec: %d commands still running; this alert's command is skipped",
                     MAX_EXEC_CHILDREN);
        return;
    }
    char v[64], th[64], t[64], pid[32];
    snprintf(v, sizeof(v), "%.6g", a->value);
    snprintf(th, sizeof(th), "%.6g", a->threshold);
    snprintf(t, sizeof(t), "%.3f", (double)a->ns / 1e9);
    snprintf(pid, sizeof(pid), "%d", M->pid);
    fflush(stdout);
    fflush(stderr);
    pid_t c = fork();
    if (c < 0) {
        vt_cli_error("--alert-exec: cannot fork: %s", strerror(errno));
        return;
    }
    if (c == 0) {
        setenv("VITALS_ALERT_SEVERITY", vt_severity_level_name(a->severity), 1);
        setenv("VITALS_ALERT_KIND", vt_alert_kind_name(a->kind), 1);
        setenv("VITALS_ALERT_METRIC", M->series.metrics[a->metric].name, 1);
        setenv("VITALS_ALERT_VALUE", v, 1);
        setenv("VITALS_ALERT_THRESHOLD", th, 1);
        setenv("VITALS_ALERT_RULE", a->rule, 1);
        setenv("VITALS_ALERT_MESSAGE", a->message, 1);
        setenv("VITALS_ALERT_PID", pid, 1);
        setenv("VITALS_ALERT_TIME", t, 1);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", M->alert_exec, (char *)NULL);
        _exit(127);
    }
    M->exec_children[M->n_exec_children++] = c;
}

static void on_alert(void *arg, const vt_series_alert *a)
{
    struct monitor *M = arg;
    M->n_alerts++;
    uint64_t rel = a->ns > M->start_ns ? a->ns - M->start_ns : 0;
    vt_series_alert al = *a;
    al.ns = rel;
    fprintf(stderr, "vitals: [%s] %.3f s: %s  (%s)\n", vt_severity_level_name(a->severity),
            (double)rel / 1e9, a->message, a->rule);
    if (M->have_trace)
        vt_monitor_writer_alert(&M->mw, a->ns, a->severity, a->kind, a->metric, a->value,
                                a->threshold, a->rule, a->message);
    if (M->json) {
        printf("{\"type\":\"alert\",\"t\":%.6f,\"severity\":\"%s\",\"kind\":\"%s\",\"metric\":",
               (double)rel / 1e9, vt_severity_level_name(a->severity), vt_alert_kind_name(a->kind));
        vt__json_str(stdout, M->series.metrics[a->metric].name);
        printf(",\"value\":%.17g,\"threshold\":%.17g,\"rule\":", isfinite(a->value) ? a->value : 0,
               isfinite(a->threshold) ? a->threshold : 0);
        vt__json_str(stdout, a->rule);
        fputs(",\"message\":", stdout);
        vt__json_str(stdout, a->message);
        fputs("}\n", stdout);
        fflush(stdout);
    }
    if (M->alert_exec)
        run_alert_exec(M, &al);
}

static void json_num(double v)
{
    if (isnan(v) || !isfinite(v))
        fputs("null", stdout);
    else if (v == floor(v) && fabs(v) < 9e15)
        printf("%.0f", v);
    else
        printf("%.6g", v);
}

/* One JSON line: gauges by name; a counter of time by name as % of the interval; other
 * counters as NAME/s (the rate) and NAME (the total since the start). */
static void json_snapshot(struct monitor *M)
{
    const vt_series *s = &M->series;
    printf("{\"type\":\"snapshot\",\"t\":%.6f,\"pid\":%d", (double)(s->now_ns - M->start_ns) / 1e9,
           M->pid);
    for (size_t i = 0; i < s->n_metrics; i++) {
        const vt_series_metric *m = &s->metrics[i];
        if (m->kind == VT_METRIC_COUNTER && m->unit != VT_UNIT_NS) {
            printf(",\"%s/s\":", m->name);
            json_num(s->now[i]);
            printf(",\"%s\":", m->name);
            if (s->present_now[i])
                printf("%llu", (unsigned long long)(s->raw[i] - m->first_raw));
            else
                fputs("null", stdout);
        } else {
            printf(",\"%s\":", m->name);
            json_num(s->now[i]);
        }
    }
    fputs("}\n", stdout);
    fflush(stdout);
}

/* The NUMA check: a thread on one node while most of the process's memory is on another.
 * Only where there is more than one node. */
static void numa_check(struct monitor *M, const vt_proc_sample *p)
{
    if (M->numa.n_nodes < 2 || vt_numa_collect_process(&M->numa, M->pid))
        return;
    uint64_t bytes[VT_NUMA_MAX_NODES] = {0};
    for (int i = 0; i < M->numa.n_nodes; i++)
        bytes[i] = M->numa.nodes[i].proc_bytes;
    for (size_t t = 0; t < p->n_threads; t++) {
        int run = vt_numa_node_of_cpu(&M->numa, p->threads[t].processor);
        int idx = -1;
        for (int i = 0; i < M->numa.n_nodes; i++)
            if (M->numa.nodes[i].id == run)
                idx = i;
        int remote = vt_numa_remote_node(bytes, M->numa.n_nodes, idx);
        if (remote < 0)
            continue;
        static uint64_t last;
        uint64_t now = M->series.now_ns;
        if (last && now - last < M->cooldown_ns)
            return;
        last = now;
        char msg[256], b[32];
        snprintf(msg, sizeof(msg),
                 "thread %d runs on node %d but %s of the process's memory is on node %d",
                 p->threads[t].tid, run, vt_fmt_bytes(bytes[remote], b, sizeof(b)),
                 M->numa.nodes[remote].id);
        vt_series_alert al = {.ns = now,
                              .severity = VT_LEVEL_WARNING,
                              .kind = VT_ALERT_NUMA,
                              .metric = (uint32_t)vt_series_find(&M->series, "rss"),
                              .value = (double)bytes[remote],
                              .threshold = 0,
                              .rule = "numa: remote memory",
                              .message = msg};
        on_alert(M, &al);
        return;
    }
}

/* A new phase of the bottleneck (the last of M->phases): once, on stderr unless -q, and as a
 * JSON line. */
static void report_phase(struct monitor *M)
{
    const vt_phase *p = &M->phases.v[M->phases.n - 1];
    double t = (double)(M->series.now_ns - M->start_ns) / 1e9;
    if (M->json) {
        printf("{\"type\":\"phase\",\"t\":%.6f,\"from\":%.6f,\"class\":\"%s\",\"reason\":", t,
               (double)p->from_ns / 1e9, vt_bottleneck_name(p->b.cls));
        vt__json_str(stdout, p->b.reason);
        fputs("}\n", stdout);
        fflush(stdout);
    }
    if (!M->quiet)
        fprintf(stderr, "vitals: %.3f s: %s since %.1f s: %s\n", t, vt_bottleneck_name(p->b.cls),
                (double)p->from_ns / 1e9, p->b.reason);
}

/* Adds one snapshot of raw values v (present: which were measured) to the series, the trace
 * and the JSON lines, and steps the alerts and the phases. */
static int record(struct monitor *M, uint64_t ns, const uint64_t *v, const uint8_t *present)
{
    int err = vt_series_add(&M->series, ns, v, present, VT_M_COUNT);
    if (err)
        return err;
    if (M->have_trace) {
        int e = vt_monitor_writer_metrics(&M->mw, ns, v, present, VT_M_COUNT);
        if (e && !M->trace_err_said) {
            vt_cli_error("cannot write the trace '%s': %s; snapshots go on without it",
                         M->trace_path, vt_strerror(e));
            M->trace_err_said = 1;
        }
    }
    if (M->json) {
        json_snapshot(M);
        if (ferror(stdout)) {
            /* A reader that went away (| head): JSON lines stop, the trace goes on. */
            M->json = 0;
            if (!M->have_trace)
                return 1;
        }
    }
    vt_alerts_step(&M->alerts, &M->series, on_alert, M);
    int r = vt_phases_step(&M->phases, &M->series, ns - M->start_ns);
    if (r < 0)
        return r;
    if (r)
        report_phase(M);
    return 0;
}

/* One snapshot; *gone: 1 when the process has ended, 2 when stdout was closed. */
static int tick(struct monitor *M, int *gone)
{
    int err = vt_proc_collect(&M->proc);
    if (err == VT_ENOENT || err == VT_EIO) {
        *gone = 1;
        return 0;
    }
    if (err)
        return err;
    const vt_proc_sample *p = vt_proc_now(&M->proc);
    uint64_t v[VT_M_COUNT];
    uint8_t present[VT_M_COUNT];
    if (p->state == 'Z' || p->state == 'X') {
        /* Ended, not yet reaped: its counters are final (the CPU time of its last moments is
         * in no earlier snapshot), its other figures those of a process being torn down. A
         * last snapshot holds the counters alone. */
        *gone = 1;
        vt_metrics_fill(p, NULL, NULL, v, present);
        for (int i = 0; i < VT_M_COUNT; i++)
            present[i] = present[i] && vt_metric_defs[i].kind == VT_METRIC_COUNTER;
        err = record(M, p->ns, v, present);
        return err > 0 ? 0 : err;
    }
    if (vt_system_collect(&M->sys) == VT_ENOMEM)
        return VT_ENOMEM;
    if (M->gpu.n_gpus)
        vt_gpu_collect(&M->gpu, M->pid);
    vt_metrics_fill(p, vt_system_now(&M->sys), &M->gpu, v, present);
    /* Under vitals run, the agent's heap figures. */
    if (p->has_status && vt_live_read(p->pid, p->uid, p->start_ticks, &M->live) == 0)
        vt_metrics_fill_live(&M->live, v, present);
    err = record(M, p->ns, v, present);
    if (err > 0) {
        *gone = 2;
        return 0;
    }
    if (err)
        return err;
    if (M->numa.n_nodes > 1 && M->series.snapshots % 10 == 1)
        numa_check(M, p);
    return 0;
}

/* Whether the program we started has ended, without reaping it: a zombie's counters can
 * still be read. */
static int exited(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* Starts the program; returns its pid, or -1 having said why (*status: 127 not found, 126
 * cannot be executed). */
static pid_t spawn(char **argv, int *status)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC)) {
        vt_cli_error("cannot start '%s': %s", argv[0], strerror(errno));
        *status = 2;
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t c = fork();
    if (c < 0) {
        vt_cli_error("cannot start '%s': %s", argv[0], strerror(errno));
        *status = 2;
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (c == 0) {
        close(fds[0]);
        signal(SIGCHLD, SIG_DFL);
        signal(SIGPIPE, SIG_DFL); /* ignored here, and an ignored signal stays so across exec */
        execvp(argv[0], argv);
        int e = errno;
        ssize_t w = write(fds[1], &e, sizeof(e));
        (void)w;
        _exit(127);
    }
    close(fds[1]);
    int e;
    ssize_t r;
    do
        r = read(fds[0], &e, sizeof(e));
    while (r < 0 && errno == EINTR);
    close(fds[0]);
    if (r == (ssize_t)sizeof(e)) {
        waitpid(c, NULL, 0);
        vt_cli_error("cannot run '%s': %s", argv[0], strerror(e));
        *status = e == ENOENT ? 127 : 126;
        return -1;
    }
    return c;
}

static int open_trace(struct monitor *M, const char *exe, char **argv, size_t argc)
{
    if (M->no_trace)
        return 0;
    if (M->output) {
        snprintf(M->trace_path, sizeof(M->trace_path), "%s", M->output);
        unlink(M->output);
    } else {
        const char *base = strrchr(exe, '/');
        base = base ? base + 1 : exe;
        snprintf(M->trace_path, sizeof(M->trace_path), "vitals.monitor.%s.%d.vtr", base, M->pid);
    }
    vt_monitor_info info = {.pid = M->pid,
                            .ppid = M->spawned ? getpid() : 0,
                            .exe = exe,
                            .argv = argv,
                            .argc = argc,
                            .start_ns = M->start_ns,
                            .start_realtime_ns = real_ns(),
                            .interval_ns = M->interval_ns,
                            .flags = M->spawned ? VT_MONITOR_SPAWNED : 0,
                            .n_cpus = (uint64_t)sysconf(_SC_NPROCESSORS_ONLN),
                            .mem_total =
                                vt_system_now(&M->sys) ? vt_system_now(&M->sys)->mem_total : 0};
    int err = vt_monitor_writer_open(&M->mw, M->trace_path, &info);
    if (err) {
        vt_cli_error("cannot create the trace '%s': %s", M->trace_path,
                     err == VT_ENOENT ? "no such directory" : vt_strerror(err));
        return -1;
    }
    for (uint32_t i = 0; i < VT_M_COUNT; i++)
        vt_monitor_writer_def(&M->mw, i, vt_metric_defs[i].name, vt_metric_defs[i].kind,
                              vt_metric_defs[i].unit);
    M->have_trace = 1;
    return 0;
}

/* The exe and argv of a running process, for the trace's INFO record. */
static size_t read_cmdline(int pid, char *buf, size_t cap, char **argv, size_t max)
{
    char path[48];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    size_t argc = 0;
    for (ssize_t i = 0; i < n && argc < max; i += (ssize_t)strlen(buf + i) + 1)
        argv[argc++] = buf + i;
    return argc;
}

static void summary(struct monitor *M, const char *how)
{
    vt_bottleneck b;
    vt_bottleneck_classify(&M->series, &b);
    if (vt_phases_finish(&M->phases) == 1)
        report_phase(M);
    const vt_phases *ph = &M->phases;
    if (M->json) {
        printf("{\"type\":\"end\",\"pid\":%d,\"how\":\"%s\",\"seconds\":%.6f,\"snapshots\":%llu,"
               "\"alerts\":%llu,\"bottleneck\":{\"class\":\"%s\",\"reason\":",
               M->pid, how, b.seconds, (unsigned long long)M->series.snapshots,
               (unsigned long long)M->n_alerts, vt_bottleneck_name(b.cls));
        vt__json_str(stdout, b.reason);
        fputs("},\"phases\":[", stdout);
        for (size_t i = 0; i < ph->n; i++) {
            printf("%s{\"from\":%.6f,\"to\":%.6f,\"class\":\"%s\",\"reason\":", i ? "," : "",
                   (double)ph->v[i].from_ns / 1e9, (double)ph->v[i].to_ns / 1e9,
                   vt_bottleneck_name(ph->v[i].b.cls));
            vt__json_str(stdout, ph->v[i].b.reason);
            fputc('}', stdout);
        }
        fputs("],\"trace\":", stdout);
        vt__json_str(stdout, M->have_trace ? M->trace_path : NULL);
        fputs("}\n", stdout);
        fflush(stdout);
    }
    if (M->quiet)
        return;
    fprintf(stderr, "vitals: monitored pid %d for %.1f s (%s): %llu snapshots, %llu alert%s\n",
            M->pid, b.seconds, how, (unsigned long long)M->series.snapshots,
            (unsigned long long)M->n_alerts, M->n_alerts == 1 ? "" : "s");
    fprintf(stderr, "vitals: %s: %s\n", vt_bottleneck_name(b.cls), b.reason);
    if (ph->n > 1)
        for (size_t i = 0; i < ph->n; i++)
            fprintf(stderr, "vitals:   %.1f s to %.1f s: %s\n", (double)ph->v[i].from_ns / 1e9,
                    (double)ph->v[i].to_ns / 1e9, vt_bottleneck_name(ph->v[i].b.cls));
    if (M->have_trace)
        fprintf(stderr, "vitals: trace %s (vitals report %s)\n", M->trace_path, M->trace_path);
}

int cmd_monitor(int argc, char **argv)
{
    struct monitor M = {
        .interval_ns = 1000000000ull, .cooldown_ns = 60000000000ull, .anomalies = 1};
    int status = 2, i;
    long l;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                                               \
    do {                                                                                           \
        if (!val) {                                                                                \
            vt_cli_error("option '%s' needs a value", a);                                          \
            return 2;                                                                              \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
        if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--list-metrics")) {
            list_metrics();
            return 0;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--pid")) {
            NEED_VALUE();
            if (vt_cli_parse_int(a, val, 1, INT_MAX, &l))
                return 2;
            M.pid = (int)l;
        } else if (!strcmp(a, "-i") || !strcmp(a, "--interval")) {
            NEED_VALUE();
            if (vt_cli_parse_duration(a, val, 1000000ull, 60000000000ull, &M.interval_ns))
                return 2;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--duration")) {
            NEED_VALUE();
            if (vt_cli_parse_duration(a, val, 1000000ull, 366 * 86400000000000ull, &M.duration_ns))
                return 2;
        } else if (!strcmp(a, "--window")) {
            NEED_VALUE();
            if (vt_cli_parse_duration(a, val, 1000000ull, 86400000000000ull, &M.window_ns))
                return 2;
        } else if (!strcmp(a, "--cooldown")) {
            NEED_VALUE();
            if (vt_cli_parse_duration(a, val, 0, 86400000000000ull, &M.cooldown_ns))
                return 2;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            NEED_VALUE();
            M.output = val;
        } else if (!strcmp(a, "--no-trace")) {
            M.no_trace = 1;
        } else if (!strcmp(a, "--json")) {
            M.json = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            M.quiet = 1;
        } else if (!strcmp(a, "--no-anomalies")) {
            M.anomalies = 0;
        } else if (!strcmp(a, "-a") || !strcmp(a, "--alert")) {
            NEED_VALUE();
            if (M.n_rules == MAX_RULES) {
                vt_cli_error("at most %d --alert rules", MAX_RULES);
                return 2;
            }
            M.rules[M.n_rules++] = val;
        } else if (!strcmp(a, "--alert-exec")) {
            NEED_VALUE();
            M.alert_exec = val;
        } else if (a[0] == '-' && a[1]) {
            vt_cli_error("unknown option '%s' for monitor; 'vitals monitor --help' lists them", a);
            return 2;
        } else {
            break;
        }
#undef NEED_VALUE
    }
    if (i < argc && M.pid) {
        vt_cli_error("give either --pid or a program to run, not both");
        return 2;
    }
    if (i >= argc && !M.pid) {
        vt_cli_error("monitor needs --pid PID or a program to run; 'vitals monitor --help'");
        return 2;
    }
    if (M.no_trace && !M.json) {
        vt_cli_error("--no-trace without --json would record nothing");
        return 2;
    }
    if (M.no_trace && M.output) {
        vt_cli_error("--no-trace and --output contradict each other");
        return 2;
    }

    /* The rules are checked against the metric table before anything starts. */
    vt_series_init(&M.series);
    M.series.no_points = 1; /* the report keeps the points; a tick allocates nothing */
    vt_alerts_init(&M.alerts);
    vt_phases_init(&M.phases, M.window_ns);
    for (int k = 0; k < VT_M_COUNT; k++)
        if (vt_series_define(&M.series, (uint32_t)k, vt_metric_defs[k].name, vt_metric_defs[k].kind,
                             vt_metric_defs[k].unit)) {
            vt_cli_error("out of memory");
            goto out;
        }
    for (int k = 0; k < M.n_rules; k++) {
        vt_expr_error e;
        int err = vt_alerts_add_rule(&M.alerts, &M.series, M.rules[k], &e);
        if (err) {
            vt_cli_error("--alert '%s': %s (at character %zu)\n    %s\n    %*s^", M.rules[k],
                         err == VT_EINVAL ? e.msg : vt_strerror(err), e.pos + 1, M.rules[k],
                         (int)e.pos, "");
            goto out;
        }
    }
    if (M.anomalies && vt_alerts_enable_anomalies(&M.alerts, &M.series, M.cooldown_ns)) {
        vt_cli_error("out of memory");
        goto out;
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_child;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout ends the JSON lines, not the monitor */

    char cmdline[8192];
    char *pargv[64];
    size_t pargc = 0;
    const char *exe;
    if (M.pid) {
        if (kill(M.pid, 0) && errno == ESRCH) {
            vt_cli_error("no process with pid %d", M.pid);
            goto out;
        }
        pargc = read_cmdline(M.pid, cmdline, sizeof(cmdline), pargv, 64);
        exe = pargc ? pargv[0] : "?";
    } else {
        M.pid = spawn(argv + i, &status);
        if (M.pid < 0) {
            M.pid = 0;
            goto out;
        }
        M.spawned = 1;
        exe = argv[i];
        pargc = (size_t)(argc - i) < 64 ? (size_t)(argc - i) : 64;
        for (size_t k = 0; k < pargc; k++)
            pargv[k] = argv[i + (int)k];
    }
    vt_proc_init(&M.proc, M.pid, VT_PROC_ALL);
    vt_system_init(&M.sys);
    vt_numa_init(&M.numa);
    vt_gpu_init(&M.gpu);
    M.start_ns = mono_ns();
    if (vt_proc_collect(&M.proc) == VT_EIO && !M.spawned) {
        vt_cli_error("cannot read /proc/%d: permission denied", M.pid);
        goto out;
    }
    vt_system_collect(&M.sys);
    if (open_trace(&M, exe, pargv, pargc)) {
        if (M.spawned)
            kill(M.pid, SIGTERM), waitpid(M.pid, NULL, 0);
        goto out;
    }

    const char *how = "the process ended";
    int wstatus = 0, reaped = 0;
    uint64_t next = M.start_ns;
    for (;;) {
        int gone = 0;
        if (tick(&M, &gone)) {
            vt_cli_error("out of memory");
            how = "out of memory";
            break;
        }
        reap_exec_children(&M, 0);
        if (M.spawned && gone != 2 && exited(M.pid)) {
            /* Ended since that snapshot: one more, of its final counters, then reap it. */
            if (!gone && tick(&M, &gone)) {
                vt_cli_error("out of memory");
                how = "out of memory";
                break;
            }
            while (waitpid(M.pid, &wstatus, 0) < 0 && errno == EINTR)
                ;
            reaped = 1;
            gone = 1;
        }
        if (gone == 2) {
            how = "stdout was closed";
            break;
        }
        if (gone)
            break;
        if (got_signal) {
            int sig = got_signal;
            got_signal = 0;
            if (M.spawned && sig != SIGINT) {
                kill(M.pid, sig); /* passed on; sampling goes on until the program ends */
            } else {
                how = sig == SIGINT ? "interrupted" : "stopped by a signal";
                break;
            }
        }
        uint64_t now = mono_ns();
        if (M.duration_ns && now - M.start_ns >= M.duration_ns) {
            how = "duration reached";
            break;
        }
        next += M.interval_ns;
        if (next <= now) /* sampling took longer than the interval: skip, never bunch up */
            next = now + M.interval_ns;
        struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
        got_child = 0;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
            if (got_signal)
                break;
            if (got_child && M.spawned && exited(M.pid))
                break; /* the next round reads its final counters and reaps it */
            got_child = 0;
        }
    }
    /* The end record: the program's exit when we saw it. A program still running (Ctrl-C,
     * --duration) is waited for only after the trace is finished. */
    int reason = VT_END_EXIT, st = 0;
    if (reaped) {
        reason = WIFSIGNALED(wstatus) ? VT_END_SIGNAL : VT_END_EXIT_STATUS;
        st = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
    }
    if (M.have_trace) {
        int err = vt_monitor_writer_close(&M.mw, mono_ns(), reason, st);
        M.have_trace = 0;
        if (err)
            vt_cli_error("the trace '%s' is incomplete: %s", M.trace_path, vt_strerror(err));
        else
            M.have_trace = 1; /* for the summary's path */
    }
    summary(&M, how);
    M.have_trace = 0;
    reap_exec_children(&M, 1);
    if (M.spawned) {
        if (!reaped) {
            while (waitpid(M.pid, &wstatus, 0) < 0 && errno == EINTR)
                ;
        }
        status = WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
    } else {
        status = 0;
    }
out:
    if (M.have_trace)
        vt_monitor_writer_close(&M.mw, mono_ns(), VT_END_EXIT, 0);
    vt_proc_release(&M.proc);
    vt_system_release(&M.sys);
    vt_numa_release(&M.numa);
    vt_gpu_release(&M.gpu);
    vt_alerts_release(&M.alerts);
    vt_series_release(&M.series);
    vt_phases_release(&M.phases);
    return status;
}

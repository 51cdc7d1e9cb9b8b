/* vitals top: the live screen (src/tui/top.c), or with --batch N snapshots as text or JSON
 * lines for scripts, like top -b. docs/MONITOR.md. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/duration.h"
#include "report/json-int.h"
#include "tui/top.h"
#include "tui/topdata.h"
#include "util/error.h"
#include "util/fmt.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vitals top [options]\n\n"
            "A live view of the system and its processes; Enter on a process (or -p) opens its\n"
            "threads and NUMA placement. Keys are listed by 'h' on the screen.\n\n"
            "options:\n"
            "  -d, --delay TIME     refresh every TIME, 0.1s to 60s (default 1s; 500ms, 2...)\n"
            "  -p, --pid PID        open on this process's view\n"
            "  -s, --sort KEY       cpu, memory, io, threads or pid (default cpu)\n"
            "      --theme THEME    dark or light (default dark)\n"
            "  -b, --batch N        print N snapshots and exit (no screen), 1 to 1000000\n"
            "      --json           with --batch: one JSON object per line\n"
            "  -n, --top N          with --batch: processes per snapshot (default 20)\n"
            "  -h, --help           this help\n");
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    while (nanosleep(&ts, &ts))
        ;
}

static void batch_text(vt_top_data *d, size_t top, int n)
{
    const vt_system_sample *s = vt_system_now(&d->sys);
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    printf("vitals top  snapshot %d  %02d:%02d:%02d  load %.2f %.2f %.2f  tasks %zu\n", n,
           tm.tm_hour, tm.tm_min, tm.tm_sec, s->load1, s->load5, s->load15, d->pt.n_cur);
    printf("cpu  all %5.1f%%", vt_top_cpu_busy(d, -1));
    for (size_t i = 0; i < s->n_cpus; i++)
        printf("  cpu%d %5.1f%%", s->cpu_id[i], vt_top_cpu_busy(d, (int)i));
    uint64_t used = s->mem_total > s->mem_available ? s->mem_total - s->mem_available : 0;
    printf("\nmem  used %s of %s, available %s, cached %s; swap used %s of %s\n",
           vt_fmt_bytes(used, b1, 32), vt_fmt_bytes(s->mem_total, b2, 32),
           vt_fmt_bytes(s->mem_available, b3, 32), vt_fmt_bytes(s->cached, b4, 32),
           vt_fmt_bytes(s->swap_total - s->swap_free, b5, 32), vt_fmt_bytes(s->swap_total, b6, 32));
    if (d->gpu.n_gpus)
        for (int i = 0; i < d->gpu.n_gpus; i++)
            printf("gpu%d %s: %u%%, memory %s of %s, %u C, %.1f W\n", i, d->gpu.s[i].name,
                   d->gpu.s[i].util_gpu, vt_fmt_bytes(d->gpu.s[i].mem_used, b1, 32),
                   vt_fmt_bytes(d->gpu.s[i].mem_total, b2, 32), d->gpu.s[i].temperature_c,
                   d->gpu.s[i].power_mw / 1000.0);
    else
        printf("gpu  %s\n", d->gpu.why);
    if (d->proc.pid) {
        const vt_proc_sample *p = vt_proc_now(&d->proc);
        if (!p || d->proc_gone) {
            printf("process %d: gone\n\n", d->proc.pid);
            return;
        }
        printf("process %d (%s) state %c: rss %s (anon %s, file %s), threads %llu, fds %llu\n",
               p->pid, p->comm, p->state, vt_fmt_bytes(p->rss, b1, 32),
               vt_fmt_bytes(p->rss_anon, b2, 32), vt_fmt_bytes(p->rss_file, b3, 32),
               (unsigned long long)p->num_threads, (unsigned long long)p->fds);
        char h1[256], h2[4400];
        vt_top_heap_lines(d, h1, h2, sizeof(h1));
        printf("%s\n", h1);
        if (h2[0])
            printf("%s\n", h2);
        printf("%7s %-16s %s %6s %5s %4s\n", "TID", "NAME", "S", "CPU%", "CORE", "NODE");
        for (size_t i = 0; i < p->n_threads; i++) {
            const vt_thread_sample *th = &p->threads[i];
            double c = vt_top_thread_cpu(d, i);
            printf("%7d %-16s %c %6.1f %5d %4d\n", th->tid, th->comm, th->state, isnan(c) ? 0 : c,
                   th->processor, vt_numa_node_of_cpu(&d->numa, th->processor));
        }
        printf("\n");
        return;
    }
    printf("%7s %-16s S %6s %10s %5s %10s\n", "PID", "COMMAND", "CPU%", "RSS", "THR", "IO/s");
    for (size_t i = 0; i < d->pt.n_cur && i < top; i++) {
        const vt_ptable_entry *e = &d->pt.cur[d->pt.order[i]];
        printf("%7d %-16s %c %6.1f %10s %5llu %10s\n", e->pid, e->comm, e->state, e->cpu_pct,
               vt_fmt_bytes(e->rss, b1, 32), (unsigned long long)e->threads,
               e->has_io ? vt_fmt_bytes((uint64_t)e->io_rate, b2, 32) : "-");
    }
    printf("\n");
}

static void jnum(double v)
{
    if (isnan(v) || !isfinite(v))
        fputs("null", stdout);
    else
        printf("%.6g", v);
}

/* The agent's live figures of the process view's process, or null when it does not run under
 * vitals run. */
static void batch_json_live(const vt_top_data *d)
{
    const struct vt_live_file *l = &d->live;
    if (!d->has_live) {
        fputs("null", stdout);
        return;
    }
    int alloc = (l->flags & VT_LIVE_ALLOC) != 0;
#define F(name, v)                                                                                 \
    do {                                                                                           \
        if (alloc)                                                                                 \
            printf("\"%s\":%llu,", name, (unsigned long long)(v));                                 \
        else                                                                                       \
            printf("\"%s\":null,", name);                                                          \
    } while (0)
    fputc('{', stdout);
    F("bytes", l->heap_bytes);
    F("blocks", l->live_blocks);
    F("peak", l->heap_peak);
    F("peak_ns", l->heap_peak_ns);
    F("alloc_calls", l->alloc_calls);
    F("alloc_bytes", l->alloc_bytes);
    F("free_calls", l->free_calls);
    F("free_bytes", l->free_bytes);
#undef F
    printf("\"elapsed_ns\":%llu,\"trace\":", (unsigned long long)l->elapsed_ns);
    vt__json_str(stdout, l->trace);
    printf(",\"trace_bytes\":%llu,\"dropped\":%llu,\"agent_mapped_bytes\":%llu,\"cpu_samples\":",
           (unsigned long long)l->trace_bytes, (unsigned long long)l->dropped,
           (unsigned long long)l->agent_bytes);
    if (l->flags & VT_LIVE_CPU)
        printf("%llu}", (unsigned long long)l->cpu_samples);
    else
        fputs("null}", stdout);
}

static void batch_json(vt_top_data *d, size_t top, int n)
{
    const vt_system_sample *s = vt_system_now(&d->sys);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("{\"snapshot\":%d,\"time\":%lld.%03ld,\"load\":[%.2f,%.2f,%.2f],\"cpu\":", n,
           (long long)ts.tv_sec, ts.tv_nsec / 1000000, s->load1, s->load5, s->load15);
    jnum(vt_top_cpu_busy(d, -1));
    fputs(",\"cpus\":[", stdout);
    for (size_t i = 0; i < s->n_cpus; i++) {
        printf("%s{\"cpu\":%d,\"busy\":", i ? "," : "", s->cpu_id[i]);
        jnum(vt_top_cpu_busy(d, (int)i));
        fputc('}', stdout);
    }
    printf("],\"memory\":{\"total\":%llu,\"available\":%llu,\"cached\":%llu,\"swap_total\":%llu,"
           "\"swap_free\":%llu},\"gpus\":[",
           (unsigned long long)s->mem_total, (unsigned long long)s->mem_available,
           (unsigned long long)s->cached, (unsigned long long)s->swap_total,
           (unsigned long long)s->swap_free);
    for (int i = 0; i < d->gpu.n_gpus; i++) {
        const vt_gpu_sample *g = &d->gpu.s[i];
        printf("%s{\"name\":", i ? "," : "");
        vt__json_str(stdout, g->name);
        printf(",\"util\":%u,\"mem_used\":%llu,\"mem_total\":%llu,\"temperature_c\":%u,"
               "\"power_mw\":%u,\"process_mem\":%llu}",
               g->util_gpu, (unsigned long long)g->mem_used, (unsigned long long)g->mem_total,
               g->temperature_c, g->power_mw, (unsigned long long)g->proc_mem);
    }
    fputs("],\"gpu_note\":", stdout);
    vt__json_str(stdout, d->gpu.n_gpus ? NULL : d->gpu.why);
    fputs(",\"net\":[", stdout);
    for (size_t i = 0; i < s->n_net; i++) {
        printf("%s{\"name\":", i ? "," : "");
        vt__json_str(stdout, s->net[i].name);
        printf(",\"rx_bytes\":%llu,\"tx_bytes\":%llu}", (unsigned long long)s->net[i].rx_bytes,
               (unsigned long long)s->net[i].tx_bytes);
    }
    fputs("],\"disks\":[", stdout);
    for (size_t i = 0; i < s->n_disk; i++) {
        printf("%s{\"name\":", i ? "," : "");
        vt__json_str(stdout, s->disk[i].name);
        printf(",\"read_bytes\":%llu,\"write_bytes\":%llu}",
               (unsigned long long)s->disk[i].read_bytes,
               (unsigned long long)s->disk[i].write_bytes);
    }
    fputs("]", stdout);
    if (d->proc.pid) {
        const vt_proc_sample *p = vt_proc_now(&d->proc);
        if (!p || d->proc_gone) {
            printf(",\"process\":null}\n");
            return;
        }
        printf(",\"process\":{\"pid\":%d,\"comm\":", p->pid);
        vt__json_str(stdout, p->comm);
        printf(",\"state\":\"%c\",\"rss\":%llu,\"rss_anon\":%llu,\"rss_file\":%llu,"
               "\"rss_shmem\":%llu,\"peak_rss\":%llu,\"vsz\":%llu,\"fds\":%llu,\"threads\":[",
               p->state, (unsigned long long)p->rss, (unsigned long long)p->rss_anon,
               (unsigned long long)p->rss_file, (unsigned long long)p->rss_shmem,
               (unsigned long long)p->peak_rss, (unsigned long long)p->vsz,
               (unsigned long long)p->fds);
        for (size_t i = 0; i < p->n_threads; i++) {
            const vt_thread_sample *th = &p->threads[i];
            printf("%s{\"tid\":%d,\"name\":", i ? "," : "", th->tid);
            vt__json_str(stdout, th->comm);
            printf(",\"state\":\"%c\",\"cpu\":", th->state);
            jnum(vt_top_thread_cpu(d, i));
            printf(",\"cpu_time_ns\":%llu,\"core\":%d,\"node\":%d}",
                   (unsigned long long)(th->utime_ns + th->stime_ns), th->processor,
                   vt_numa_node_of_cpu(&d->numa, th->processor));
        }
        fputs("],\"heap\":", stdout);
        batch_json_live(d);
        fputs("}}\n", stdout);
        return;
    }
    fputs(",\"processes\":[", stdout);
    for (size_t i = 0; i < d->pt.n_cur && i < top; i++) {
        const vt_ptable_entry *e = &d->pt.cur[d->pt.order[i]];
        printf("%s{\"pid\":%d,\"ppid\":%d,\"comm\":", i ? "," : "", e->pid, e->ppid);
        vt__json_str(stdout, e->comm);
        printf(",\"state\":\"%c\",\"uid\":%u,\"cpu\":", e->state, e->uid);
        jnum(e->cpu_pct);
        printf(
            ",\"rss\":%llu,\"vsz\":%llu,\"threads\":%llu,\"io_rate\":", (unsigned long long)e->rss,
            (unsigned long long)e->vsz, (unsigned long long)e->threads);
        if (e->has_io)
            jnum(e->io_rate);
        else
            fputs("null", stdout);
        fputc('}', stdout);
    }
    fputs("]}\n", stdout);
}

int cmd_top(int argc, char **argv)
{
    vt_top_opts o = {.delay_ns = 1000000000ull, .theme = VT_THEME_DARK, .sort = VT_SORT_CPU};
    long batch = 0, top = 20, l;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "-d") || !strcmp(a, "--delay") || !strcmp(a, "-p") ||
                    !strcmp(a, "--pid") || !strcmp(a, "-s") || !strcmp(a, "--sort") ||
                    !strcmp(a, "--theme") || !strcmp(a, "-b") || !strcmp(a, "--batch") ||
                    !strcmp(a, "-n") || !strcmp(a, "--top");
        if (takes && !val) {
            vt_cli_error("option '%s' needs a value", a);
            return 2;
        }
        if (takes)
            i++;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-d") || !strcmp(a, "--delay")) {
            if (vt_cli_parse_duration(a, val, 100000000ull, 60000000000ull, &o.delay_ns))
                return 2;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--pid")) {
            if (vt_cli_parse_int(a, val, 1, INT_MAX, &l))
                return 2;
            o.pid = (int)l;
        } else if (!strcmp(a, "-s") || !strcmp(a, "--sort")) {
            int k;
            for (k = 0; k <= VT_SORT_PID; k++)
                if (!strcmp(val, vt_ptable_key_name(k)))
                    break;
            if (k > VT_SORT_PID) {
                vt_cli_error("option '%s' expects cpu, memory, io, threads or pid, got '%s'", a,
                             val);
                return 2;
            }
            o.sort = k;
        } else if (!strcmp(a, "--theme")) {
            if (strcmp(val, "dark") && strcmp(val, "light")) {
                vt_cli_error("option '--theme' expects dark or light, got '%s'", val);
                return 2;
            }
            o.theme = !strcmp(val, "light") ? VT_THEME_LIGHT : VT_THEME_DARK;
        } else if (!strcmp(a, "-b") || !strcmp(a, "--batch")) {
            if (vt_cli_parse_int(a, val, 1, 1000000, &batch))
                return 2;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--top")) {
            if (vt_cli_parse_int(a, val, 1, 1000000, &top))
                return 2;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else {
            vt_cli_error("unknown option '%s' for top; 'vitals top --help' lists them", a);
            return 2;
        }
    }
    if (json && !batch) {
        vt_cli_error("--json needs --batch N (the screen is for people)");
        return 2;
    }
    if (o.pid && kill(o.pid, 0) && errno == ESRCH) {
        vt_cli_error("no process with pid %d", o.pid);
        return 2;
    }
    if (!batch) {
        if (!isatty(0) || !isatty(1)) {
            vt_cli_error("top needs a terminal; use --batch N for scripts");
            return 2;
        }
        char msg[256];
        if (vt_top_run(&o, msg, sizeof(msg))) {
            vt_cli_error("top: %s", msg);
            return 1;
        }
        return 0;
    }
    vt_top_data d;
    if (vt_top_data_init(&d)) {
        vt_cli_error("out of memory");
        return 1;
    }
    d.sort = o.sort;
    if (o.pid)
        vt_top_data_focus(&d, o.pid);
    int status = 0;
    /* Rates need two samples: the first snapshot covers a short first interval. */
    if (vt_top_data_collect(&d)) {
        vt_cli_error("cannot read /proc");
        status = 1;
        goto out;
    }
    sleep_ns(o.delay_ns < 200000000ull ? o.delay_ns : 200000000ull);
    for (long n = 1; n <= batch; n++) {
        if (vt_top_data_collect(&d)) {
            vt_cli_error("cannot read /proc");
            status = 1;
            goto out;
        }
        if (json)
            batch_json(&d, (size_t)top, (int)n);
        else
            batch_text(&d, (size_t)top, (int)n);
        fflush(stdout);
        if (ferror(stdout)) {
            status = 1;
            goto out;
        }
        if (n < batch)
            sleep_ns(o.delay_ns);
    }
out:
    vt_top_data_release(&d);
    return status;
}

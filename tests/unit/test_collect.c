/* The collectors against a child of known behaviour (tests/programs/monitor_child.c): it
 * touches exactly 200 MiB, burns a known CPU time, writes a known number of bytes in a known
 * number of calls, starts threads and opens descriptors; the figures before and after each
 * step must differ by that much, within the tolerances stated at each check. And the system
 * collector's parsers on fixed text. */
#include <math.h>
#include <signal.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit-util.h"

#include "collect/gpu.h"
#include "collect/metrics.h"
#include "collect/numa.h"
#include "collect/proc.h"
#include "collect/system.h"
#include "util/error.h"

static const char *child_path;

struct child {
    pid_t pid;
    int in, out; /* its stdin (we write) and stdout (we read) */
};

static struct child start(void)
{
    int to[2], from[2];
    assert_int_equal(pipe(to), 0);
    assert_int_equal(pipe(from), 0);
    struct child c = {fork(), to[1], from[0]};
    assert_true(c.pid >= 0);
    if (c.pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        execl(child_path, child_path, (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    return c;
}

/* Sends a command and waits for its "ok". */
static void say(struct child *c, const char *cmd)
{
    assert_int_equal(write(c->in, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
    char ok[3];
    size_t got = 0;
    while (got < 3) {
        ssize_t r = read(c->out, ok + got, 3 - got);
        if (r <= 0)
            fail_msg("the child died on '%s'", cmd);
        got += (size_t)r;
    }
    assert_memory_equal(ok, "ok\n", 3);
}

static void stop(struct child *c)
{
    close(c->in);
    close(c->out);
    int st;
    waitpid(c->pid, &st, 0);
}

static vt_proc_sample take(vt_proc *p)
{
    assert_int_equal(vt_proc_collect(p), 0);
    vt_proc_sample s = *vt_proc_now(p);
    s.threads = NULL; /* borrowed: not kept past the next sample */
    return s;
}

static void test_memory(void **state)
{
    (void)state;
    struct child c = start();
    vt_proc p;
    vt_proc_init(&p, c.pid, VT_PROC_ALL);
    say(&c, "sleep 1\n");
    vt_proc_sample a = take(&p);
    say(&c, "touch 200\n");
    vt_proc_sample b = take(&p);
    const uint64_t mib = 1 << 20;
    /* Exactly 200 MiB of anonymous pages were written; allow 1 MiB for the stack and libc's
     * own pages touched meanwhile. */
    uint64_t anon = b.rss_anon - a.rss_anon, rss = b.rss - a.rss;
    if (anon < 200 * mib || anon > 201 * mib || rss < 200 * mib || rss > 201 * mib)
        fail_msg("RSS grew by %llu bytes (anonymous %llu), expected 200 MiB to 201 MiB",
                 (unsigned long long)rss, (unsigned long long)anon);
    assert_true(b.peak_rss >= b.rss && b.peak_rss >= 200 * mib);
    assert_true(b.vsz - a.vsz >= 200 * mib);
    /* One minor fault per 4 KiB page (huge pages are off for the mapping): 51,200, plus at
     * most 100 for the rest. */
    uint64_t faults = b.minflt - a.minflt;
    if (faults < 51200 || faults > 51300)
        fail_msg("%llu minor faults, expected 51200 to 51300", (unsigned long long)faults);
    assert_int_equal(b.majflt - a.majflt, 0);
    stop(&c);
    vt_proc_release(&p);
}

static void test_cpu(void **state)
{
    (void)state;
    struct child c = start();
    vt_proc p;
    vt_proc_init(&p, c.pid, VT_PROC_ALL);
    say(&c, "sleep 1\n");
    vt_proc_sample a = take(&p);
    say(&c, "burn 300\n");
    vt_proc_sample b = take(&p);
    /* The child used 300 ms of CPU time by its own clock; /proc counts it in ticks of 10 ms
     * (USER_HZ 100), so allow one tick below and three above (the loop's last turn and the
     * answer). */
    double used = (double)(b.utime_ns + b.stime_ns - a.utime_ns - a.stime_ns) / 1e6;
    if (used < 290 || used > 330)
        fail_msg("CPU time %.0f ms, expected 300 ms (290 to 330)", used);
    stop(&c);
    vt_proc_release(&p);
}

static void test_io(void **state)
{
    (void)state;
    struct child c = start();
    vt_proc p;
    vt_proc_init(&p, c.pid, VT_PROC_ALL);
    say(&c, "sleep 1\n");
    vt_proc_sample a = take(&p);
    say(&c, "write 10000000 1000\n");
    vt_proc_sample b = take(&p);
    assert_true(a.has_io && b.has_io);
    /* Exact: 10,000,000 bytes in 1,000 calls, and the 3-byte answer in one. */
    assert_int_equal(b.wchar - a.wchar, 10000003);
    assert_int_equal(b.syscw - a.syscw, 1001);
    /* The command line read: 20 bytes in one call. */
    assert_int_equal(b.rchar - a.rchar, 20);
    assert_int_equal(b.syscr - a.syscr, 1);
    stop(&c);
    vt_proc_release(&p);
}

static void test_threads_fds(void **state)
{
    (void)state;
    struct child c = start();
    vt_proc p;
    vt_proc_init(&p, c.pid, VT_PROC_ALL);
    say(&c, "sleep 1\n");
    vt_proc_sample a = take(&p);
    assert_int_equal(a.num_threads, 1);
    say(&c, "threads 4\n");
    say(&c, "fds 10\n");
    assert_int_equal(vt_proc_collect(&p), 0);
    assert_int_equal(vt_proc_prev(&p)->num_threads, 1);
    const vt_proc_sample *b = vt_proc_now(&p);
    assert_int_equal(b->num_threads, 5);
    assert_int_equal(b->n_threads, 5);
    assert_int_equal(b->fds - a.fds, 10);
    /* The four new threads go to wait in pause(), on a busy machine perhaps a while after the
     * child answered: sampled again until they are there (2 s at most). The main one may
     * still be on its way to read its next command. */
    for (int i = 0; i < 200 && b->thread_states[VT_TS_SLEEPING] < 4; i++) {
        usleep(10000);
        assert_int_equal(vt_proc_collect(&p), 0);
        b = vt_proc_now(&p);
    }
    assert_true(b->thread_states[VT_TS_SLEEPING] >= 4);
    assert_int_equal(b->thread_states[VT_TS_SLEEPING] + b->thread_states[VT_TS_RUNNING], 5);
    assert_int_equal(b->threads[0].tid, c.pid);
    stop(&c);
    /* Reaped: gone. */
    assert_int_equal(vt_proc_collect(&p), VT_ENOENT);
    vt_proc_release(&p);
}

static void test_metrics_fill(void **state)
{
    (void)state;
    struct child c = start();
    vt_proc p;
    vt_proc_init(&p, c.pid, VT_PROC_ALL);
    vt_system s;
    vt_system_init(&s);
    say(&c, "fds 3\n");
    assert_int_equal(vt_proc_collect(&p), 0);
    assert_int_equal(vt_system_collect(&s), 0);
    uint64_t v[VT_M_COUNT];
    uint8_t present[VT_M_COUNT];
    vt_gpu g;
    vt_gpu_init(&g);
    vt_metrics_fill(vt_proc_now(&p), vt_system_now(&s), &g, v, present);
    /* No NVIDIA driver on this machine: the GPU metrics are not measured, never 0. */
    if (!g.n_gpus) {
        assert_non_null(strstr(g.why, "no GPU found"));
        assert_false(present[VT_M_GPU_UTIL] || present[VT_M_GPU_MEM_USED] ||
                     present[VT_M_GPU_PROC_MEM]);
    }
    vt_gpu_release(&g);
    const vt_proc_sample *ps = vt_proc_now(&p);
    assert_true(present[VT_M_RSS] && v[VT_M_RSS] == ps->rss);
    assert_true(present[VT_M_FDS] && v[VT_M_FDS] == ps->fds);
    assert_true(present[VT_M_CPU] && v[VT_M_CPU] == ps->utime_ns + ps->stime_ns);
    assert_true(present[VT_M_SYS_MEM_AVAILABLE]);
    assert_true(present[VT_M_THREADS_SLEEPING] && present[VT_M_THREADS_RUNNING]);
    assert_int_equal(v[VT_M_THREADS_SLEEPING] + v[VT_M_THREADS_RUNNING], 1);
    for (int i = 0; i < VT_M_COUNT; i++)
        assert_non_null(vt_metric_defs[i].name);
    stop(&c);
    vt_proc_release(&p);
    vt_system_release(&s);
}

static void test_gone(void **state)
{
    (void)state;
    vt_proc p;
    /* pid_max is at most 4194304 (2^22): this pid cannot exist. */
    vt_proc_init(&p, 4194305, VT_PROC_ALL);
    assert_int_equal(vt_proc_collect(&p), VT_ENOENT);
    assert_null(vt_proc_now(&p));
    vt_proc_release(&p);
}

static void test_system(void **state)
{
    (void)state;
    vt_system s;
    vt_system_init(&s);
    assert_int_equal(vt_system_collect(&s), 0);
    assert_null(vt_system_prev(&s));
    assert_int_equal(vt_system_collect(&s), 0);
    const vt_system_sample *a = vt_system_prev(&s), *b = vt_system_now(&s);
    assert_non_null(a);
    assert_int_equal(b->n_cpus, (size_t)sysconf(_SC_NPROCESSORS_ONLN));
    struct sysinfo si;
    sysinfo(&si);
    /* MemTotal is in kB: within 4 KiB of what sysinfo says. */
    uint64_t total = (uint64_t)si.totalram * si.mem_unit;
    assert_true(b->mem_total <= total + 4096 && b->mem_total + 4096 >= total);
    assert_true(b->mem_available > 0 && b->mem_available <= b->mem_total);
    assert_true(vt_cpu_total(&b->total) >= vt_cpu_total(&a->total));
    int lo = 0;
    for (size_t i = 0; i < b->n_net; i++)
        lo |= !strcmp(b->net[i].name, "lo");
    assert_true(lo);
    vt_system_release(&s);
}

static void test_parsers(void **state)
{
    (void)state;
    vt_system_sample s = {0};
    /* USER_HZ ticks: 100 per second, so 1 tick is 10 ms. */
    const char *stat = "cpu  10 1 20 300 4 0 5 6 0 0\n"
                       "cpu0 5 1 10 150 2 0 3 3 0 0\n"
                       "cpu1 5 0 10 150 2 0 2 3 0 0\n"
                       "intr 12345\nctxt 999\nprocs_running 3\nprocs_blocked 1\n";
    assert_int_equal(vt__system_parse_stat(&s, stat), 0);
    uint64_t tick = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
    assert_int_equal(s.n_cpus, 2);
    assert_int_equal(s.cpu_id[1], 1);
    assert_int_equal(s.total.user, 10 * tick);
    assert_int_equal(s.total.steal, 6 * tick);
    assert_int_equal(s.cpu[0].softirq, 3 * tick);
    assert_int_equal(s.ctxt, 999);
    assert_int_equal(s.procs_blocked, 1);
    const char *net =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
        "drop fifo colls carrier compressed\n"
        "    lo:    1000      10    0    0    0     0          0         0     1000      10    0 "
        "   0    0     0       0          0\n"
        "  eth0: 123456789  1000    1    2    0     0          0         0   987654     900    3 "
        "   4    0     0       0          0\n";
    assert_int_equal(vt__system_parse_net(&s, net), 0);
    assert_int_equal(s.n_net, 2);
    assert_string_equal(s.net[1].name, "eth0");
    assert_int_equal(s.net[1].rx_bytes, 123456789);
    assert_int_equal(s.net[1].rx_drops, 2);
    assert_int_equal(s.net[1].tx_bytes, 987654);
    assert_int_equal(s.net[1].tx_errors, 3);
    assert_int_equal(s.net[1].tx_drops, 4);
    vt_psi psi;
    vt__system_parse_psi(&psi, "some avg10=1.50 avg60=0.00 avg300=0.00 total=2500\n"
                               "full avg10=0.25 avg60=0.00 avg300=0.00 total=100\n");
    assert_true(psi.present && psi.some_avg10 == 1.5 && psi.full_avg10 == 0.25);
    assert_int_equal(psi.some_ns, 2500000);
    assert_int_equal(psi.full_ns, 100000);
    vt__system_parse_meminfo(&s, "MemTotal:  1000 kB\nMemFree: 100 kB\nMemAvailable: 600 kB\n"
                                 "Cached: 300 kB\nSwapTotal: 50 kB\nSwapFree: 20 kB\n");
    assert_int_equal(s.mem_total, 1024000);
    assert_int_equal(s.mem_available, 614400);
    assert_int_equal(s.swap_total - s.swap_free, 30 * 1024);
    free(s.cpu);
    free(s.cpu_id);
    free(s.net);
    /* A comm with spaces and parentheses. */
    vt_proc_sample ps = {0};
    char line[512];
    snprintf(line, sizeof(line),
             "42 (a (b) c) S 1 42 42 0 -1 4194304 100 0 7 0 250 50 0 0 20 0 3 0 12345 1048576 "
             "64 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 9 0 0\n");
    assert_int_equal(vt__parse_stat(line, &ps, NULL), 0);
    assert_int_equal(ps.pid, 42);
    assert_string_equal(ps.comm, "a (b) c");
    assert_int_equal(ps.state, 'S');
    assert_int_equal(ps.minflt, 100);
    assert_int_equal(ps.majflt, 7);
    assert_int_equal(ps.utime_ns, 250 * tick);
    assert_int_equal(ps.stime_ns, 50 * tick);
    assert_int_equal(ps.num_threads, 3);
    assert_int_equal(ps.vsz, 1048576);
    assert_int_equal(ps.rss, 64 * (uint64_t)sysconf(_SC_PAGESIZE));
    assert_int_equal(ps.processor, 1);
    assert_int_equal(ps.blkio_delay_ns, 9 * tick);
    assert_int_equal(vt__parse_stat("garbage", &ps, NULL), VT_EINVAL);
}

static void test_numa_machine(void **state)
{
    (void)state;
    vt_numa n;
    assert_int_equal(vt_numa_init(&n), 0);
    /* Whatever the machine: every online CPU on some node when the kernel shows nodes. */
    if (n.n_nodes) {
        assert_int_equal(vt_numa_collect_nodes(&n), 0);
        assert_true(n.nodes[0].mem_total > 0);
        assert_true(vt_numa_node_of_cpu(&n, 0) >= 0);
        assert_int_equal(vt_numa_collect_process(&n, getpid()), 0);
        uint64_t sum = 0;
        for (int i = 0; i < n.n_nodes; i++)
            sum += n.nodes[i].proc_bytes;
        assert_true(sum > 0);
    }
    vt_numa_release(&n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_collect PATH-OF-monitor_child\n");
        return 2;
    }
    child_path = argv[1];
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory),       cmocka_unit_test(test_cpu),
        cmocka_unit_test(test_io),           cmocka_unit_test(test_threads_fds),
        cmocka_unit_test(test_metrics_fill), cmocka_unit_test(test_gone),
        cmocka_unit_test(test_system),       cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_numa_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

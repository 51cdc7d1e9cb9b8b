/* What the system calls of --zone-counters cost on this machine (bench/zone_counters.sh): a
 * read(2) of a group of the five software events (as each zone boundary makes), the ioctl(2)
 * that checks the group is still ours (once per outermost zone), and getppid(2), the cheapest
 * system call, for the floor. Prints "read_ns ioctl_ns getppid_ns", each the mean of N calls in
 * the thread's CPU time (as bench/zones_bench.c measures a pair).
 *
 *   zc_syscalls N */
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 0;
    static const uint64_t events[] = {PERF_COUNT_SW_TASK_CLOCK, PERF_COUNT_SW_PAGE_FAULTS_MIN,
                                      PERF_COUNT_SW_PAGE_FAULTS_MAJ, PERF_COUNT_SW_CONTEXT_SWITCHES,
                                      PERF_COUNT_SW_CPU_MIGRATIONS};
    int leader = -1;
    if (n <= 0) {
        fprintf(stderr, "usage: zc_syscalls N\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        struct perf_event_attr a;
        memset(&a, 0, sizeof(a));
        a.size = sizeof(a);
        a.type = PERF_TYPE_SOFTWARE;
        a.config = events[i];
        a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID | PERF_FORMAT_TOTAL_TIME_ENABLED |
                        PERF_FORMAT_TOTAL_TIME_RUNNING;
        a.exclude_hv = 1;
        int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, leader, 0);
        if (fd < 0) {
            perror("perf_event_open");
            return 1;
        }
        if (leader < 0)
            leader = fd;
    }
    uint64_t buf[3 + 2 * 5], id;
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (read(leader, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
            return 1;
    double t1 = now_ns();
    for (long i = 0; i < n; i++)
        ioctl(leader, PERF_EVENT_IOC_ID, &id);
    double t2 = now_ns();
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    double t3 = now_ns();
    printf("%.1f %.1f %.1f\n", (t1 - t0) / (double)n, (t2 - t1) / (double)n, (t3 - t2) / (double)n);
    return 0;
}

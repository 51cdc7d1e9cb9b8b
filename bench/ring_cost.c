/* What following one thread with a sampling event costs in system calls (docs/BENCHMARKS.md,
 * "Threads sampled from their start"): perf_event_open of a task-clock sampling event like the
 * agent's, mmap of its ring, munmap and close, each timed alone, for rings of 1 to 16 data
 * pages:
 *
 *   ring_cost [N]      (default 2000 events per size; microseconds, mean of N)
 */
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    if (n <= 0) {
        fprintf(stderr, "usage: ring_cost [N]\n");
        return 2;
    }
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = 1001001;
    a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN;
    a.exclude_callchain_kernel = 1;
    long page = sysconf(_SC_PAGESIZE);
    printf("data pages  open  mmap  munmap  close  (us)\n");
    for (int pages = 1; pages <= 16; pages *= 2) {
        size_t len = (size_t)(pages + 1) * (size_t)page;
        double t[4] = {0};
        for (int i = 0; i < n; i++) {
            double t0 = now_us();
            int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
            double t1 = now_us();
            if (fd < 0) {
                perror("perf_event_open");
                return 1;
            }
            void *ring = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            double t2 = now_us();
            if (ring == MAP_FAILED) {
                perror("mmap");
                return 1;
            }
            munmap(ring, len);
            double t3 = now_us();
            close(fd);
            double t4 = now_us();
            t[0] += t1 - t0, t[1] += t2 - t1, t[2] += t3 - t2, t[3] += t4 - t3;
        }
        printf("%10d %5.1f %5.1f %7.1f %6.1f\n", pages, t[0] / n, t[1] / n, t[2] / n, t[3] / n);
    }
    return 0;
}

/* What one task-clock sample costs the sampled thread, by the sampling event's attributes
 * (bench/cpu_attr.sh). One thread opens, on itself, a disabled task-clock sampling event for
 * each variant below, then runs rounds of equal blocks of work: in each round one block with
 * no event enabled and one with each variant's event(s) enabled, in a shuffled order. A
 * block's cost is its thread CPU time (CLOCK_THREAD_CPUTIME_ID: the interrupt and the sample
 * are charged to the thread) minus that of the round's block without sampling, so that a
 * machine whose load drifts moves both alike. The median over the rounds, divided by the
 * samples the block took (counted in the event's ring), is the cost of a sample.
 *
 *   cpu_attr HZ ROUNDS WORK DEPTH
 *
 * WORK: loop iterations per block; DEPTH: frames on the stack under the work (the kernel
 * walks them for the callchain). */
#include <asm/perf_regs.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS 2000
#define RING_PAGES 8

static uint64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static volatile uint64_t sink;

__attribute__((noinline)) static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

__attribute__((noinline)) static void work(long n, int depth)
{
    if (depth > 0) {
        work(n, depth - 1);
        __asm__ volatile("" ::: "memory"); /* not a tail call: the frame stays */
        return;
    }
    uint64_t s = 0;
    for (long i = 0; i < n; i++)
        s += mix((uint64_t)i + s);
    sink = s;
}

enum { V_VITALS, V_NO_REGS, V_NO_CLOCKID, V_PERF, V_TID_ONLY, V_COUNTERS, V_USER, N_VARIANTS };

static const char *const names[N_VARIANTS] = {
    "vitals' sampler",          "- REGS/STACK_USER",  "- use_clockid",
    "perf record -g's",         "no callchain (TID)", "vitals' + 2 counts",
    "vitals' in user mode only"};

struct variant {
    int fd[3], n_fd;
    struct perf_event_mmap_page *ring;
    long samples;
    double cost[MAX_ROUNDS];
};

static int open_event(struct perf_event_attr *a)
{
    a->size = sizeof(*a);
    a->disabled = 1;
    return (int)syscall(SYS_perf_event_open, a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* The sampler as src/agent/sampler.c opens it, less what the variant takes out. */
static int open_sampler(int v, int hz)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = 1000000000ull / (uint64_t)hz;
    a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_PERIOD | PERF_SAMPLE_CALLCHAIN;
    if (v == V_VITALS || v == V_NO_CLOCKID || v == V_COUNTERS || v == V_USER) {
        a.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
        a.sample_regs_user = 1ull << PERF_REG_X86_SP;
        a.sample_stack_user = 64;
    }
    if (v == V_PERF) /* perf record -e task-clock -c N -g */
        a.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN;
    if (v == V_TID_ONLY)
        a.sample_type = PERF_SAMPLE_TID;
    /* vitals keeps samples taken in the kernel, with their user stack only */
    a.exclude_kernel = v == V_TID_ONLY || v == V_USER;
    a.exclude_hv = 1;
    a.exclude_callchain_kernel = v != V_PERF;
    if (v != V_NO_CLOCKID && v != V_PERF) {
        a.use_clockid = 1;
        a.clockid = CLOCK_MONOTONIC;
    }
    if (v != V_PERF)
        a.sample_max_stack = 65;
    a.wakeup_events = 1u << 30;
    int fd = open_event(&a);
    if (fd < 0 && !a.exclude_kernel) { /* perf_event_paranoid: user mode only, as perf does */
        a.exclude_kernel = a.exclude_callchain_kernel = 1;
        fd = open_event(&a);
    }
    return fd;
}

static int open_count(uint64_t config)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.type = PERF_TYPE_SOFTWARE;
    a.config = config;
    a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    a.exclude_hv = 1;
    return open_event(&a);
}

/* Counts the samples in the ring and frees their space. */
static void drain(struct variant *v)
{
    if (!v->ring)
        return;
    uint64_t head = __atomic_load_n(&v->ring->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = v->ring->data_tail, size = v->ring->data_size;
    const uint8_t *data = (const uint8_t *)v->ring + v->ring->data_offset;
    while (tail < head) {
        const struct perf_event_header *h = (const void *)(data + (tail & (size - 1)));
        if (h->type == PERF_RECORD_SAMPLE)
            v->samples++;
        tail += h->size;
    }
    __atomic_store_n(&v->ring->data_tail, tail, __ATOMIC_RELEASE);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int hz = argc > 1 ? atoi(argv[1]) : 4000, rounds = argc > 2 ? atoi(argv[2]) : 200;
    long n = argc > 3 ? atol(argv[3]) : 2000000;
    int depth = argc > 4 ? atoi(argv[4]) : 16;
    if (hz < 1 || rounds < 1 || rounds > MAX_ROUNDS || n < 1 || depth < 0) {
        fprintf(stderr, "usage: cpu_attr HZ ROUNDS(1-%d) WORK DEPTH\n", MAX_ROUNDS);
        return 2;
    }
    static struct variant var[N_VARIANTS];
    long page = sysconf(_SC_PAGESIZE);
    for (int v = 0; v < N_VARIANTS; v++) {
        var[v].fd[var[v].n_fd++] = open_sampler(v, hz);
        if (var[v].fd[0] < 0) {
            perror("perf_event_open");
            return 1;
        }
        if (v == V_COUNTERS) {
            var[v].fd[var[v].n_fd++] = open_count(PERF_COUNT_SW_CPU_MIGRATIONS);
            var[v].fd[var[v].n_fd++] = open_count(PERF_COUNT_SW_CONTEXT_SWITCHES);
        }
        void *p = mmap(NULL, (size_t)page * (RING_PAGES + 1), PROT_READ | PROT_WRITE, MAP_SHARED,
                       var[v].fd[0], 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        var[v].ring = p;
    }
    static double base[MAX_ROUNDS];
    work(n, depth); /* warm up */
    srand(1);
    for (int r = 0; r < rounds; r++) {
        int order[N_VARIANTS + 1];
        double t[N_VARIANTS + 1];
        for (int i = 0; i <= N_VARIANTS; i++)
            order[i] = i - 1; /* -1: no event */
        for (int i = N_VARIANTS; i > 0; i--) {
            int j = rand() % (i + 1), x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
        for (int k = 0; k <= N_VARIANTS; k++) {
            struct variant *v = order[k] >= 0 ? &var[order[k]] : NULL;
            for (int f = 0; v && f < v->n_fd; f++)
                ioctl(v->fd[f], PERF_EVENT_IOC_ENABLE, 0);
            uint64_t a = thread_ns();
            work(n, depth);
            uint64_t b = thread_ns();
            for (int f = 0; v && f < v->n_fd; f++)
                ioctl(v->fd[f], PERF_EVENT_IOC_DISABLE, 0);
            if (v)
                drain(v);
            t[order[k] + 1] = (double)(b - a) / 1e3;
        }
        base[r] = t[0];
        for (int v = 0; v < N_VARIANTS; v++)
            var[v].cost[r] = t[v + 1] - t[0];
    }
    qsort(base, (size_t)rounds, sizeof(double), cmp_double);
    printf("%d Hz, %d rounds, %d frames deep; a block without sampling: %.0f us (median)\n", hz,
           rounds, depth, base[rounds / 2]);
    printf("%-26s %14s %18s %10s %12s\n", "event", "us per block", "(quartiles)", "samples",
           "us a sample");
    for (int v = 0; v < N_VARIANTS; v++) {
        qsort(var[v].cost, (size_t)rounds, sizeof(double), cmp_double);
        double med = var[v].cost[rounds / 2], per = (double)var[v].samples / rounds;
        printf("%-26s %+14.1f %8.1f .. %7.1f %10.1f %12.1f\n", names[v], med,
               var[v].cost[rounds / 4], var[v].cost[3 * rounds / 4], per, med / per);
    }
    return 0;
}

/* Zones whose counters are known by construction, for `vitals run --zone-counters`
 * (tests/zones/zone_counters_e2e.py):
 *   "touch"  24 calls (20 alone, 4 inside "outer"), each writing one byte to each of 64 fresh
 *            pages, mapped before the zone and unmapped after it: 64 minor faults per call;
 *   "outer"  4 calls, each touching 32 fresh pages itself and calling "touch" once: 96 faults;
 *   "sleep"  5 calls, each sleeping 10 ms: at least one context switch per call, little CPU;
 *   "burn"   5 calls, each spinning until its thread has run 20 ms of CPU time;
 *   "worker" 10 calls on a second thread, each touching 16 fresh pages;
 *   "deep"   40 calls nested in each other (recursion): the 32 outermost carry counters, the
 *            8 nested deeper (VT_ZC_DEPTH, src/agent/zone_counters.h) none.
 * It prints the CPU time the "burn" calls took, measured by the thread's own CPU clock around
 * each call (zone begin and end included): "burn_cpu_ns N". */
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <vitals.h>

static long page;

static char *fresh(size_t pages)
{
    char *p = mmap(NULL, pages * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        _exit(1);
    }
    madvise(p, pages * (size_t)page, MADV_NOHUGEPAGE);
    return p;
}

static void touch_pages(volatile char *p, size_t pages)
{
    for (size_t i = 0; i < pages; i++)
        p[i * (size_t)page] = 1;
}

static void touch(void)
{
    char *p = fresh(64);
    VT_ZONE_BEGIN(z, "touch");
    touch_pages(p, 64);
    vt_zone_end(z);
    munmap(p, 64 * (size_t)page);
}

static void outer(void)
{
    char *p = fresh(32);
    VT_ZONE_BEGIN(z, "outer");
    touch_pages(p, 32);
    touch();
    vt_zone_end(z);
    munmap(p, 32 * (size_t)page);
}

static unsigned long long thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void deep(int n)
{
    VT_ZONE_BEGIN(z, "deep");
    if (n > 1)
        deep(n - 1);
    vt_zone_end(z);
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++) {
        char *p = fresh(16);
        VT_ZONE_BEGIN(z, "worker");
        touch_pages(p, 16);
        vt_zone_end(z);
        munmap(p, 16 * (size_t)page);
    }
    return NULL;
}

int main(void)
{
    page = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < 20; i++)
        touch();
    for (int i = 0; i < 4; i++)
        outer();
    for (int i = 0; i < 5; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        VT_ZONE_BEGIN(z, "sleep");
        while (nanosleep(&ts, &ts) != 0)
            ;
        vt_zone_end(z);
    }
    unsigned long long burn = 0;
    for (int i = 0; i < 5; i++) {
        unsigned long long t0 = thread_cpu_ns();
        VT_ZONE_BEGIN(z, "burn");
        while (thread_cpu_ns() - t0 < 20 * 1000000ull)
            ;
        vt_zone_end(z);
        burn += thread_cpu_ns() - t0;
    }
    deep(40);
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0)
        return 1;
    printf("burn_cpu_ns %llu\n", burn);
    return 0;
}

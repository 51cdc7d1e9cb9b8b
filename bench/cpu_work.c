/* A CPU-bound single-threaded program for bench/cpu.sh: a hash-and-sort loop over a small
 * array, about a second of work. Prints how long its work took: wall time (CLOCK_MONOTONIC)
 * the whole process's CPU time (CLOCK_PROCESS_CPUTIME_ID, so an agent thread counts), and the
 * main thread's own CPU time (CLOCK_THREAD_CPUTIME_ID: the work, with the cost of being
 * sampled). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 400;
    static uint64_t v[8192];
    uint64_t w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID), sum = 0;
    uint64_t t0 = now(CLOCK_THREAD_CPUTIME_ID);
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 8192; i++)
            v[i] = mix((uint64_t)(r * 8192 + i));
        qsort(v, 8192, sizeof(v[0]), cmp);
        sum += v[r % 8192];
    }
    uint64_t w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t t1 = now(CLOCK_THREAD_CPUTIME_ID);
    printf("%llu %llu %llu %llu\n", (unsigned long long)(w1 - w0), (unsigned long long)(c1 - c0),
           (unsigned long long)(t1 - t0), (unsigned long long)(sum & 0xff));
    return 0;
}

/* What a zone costs: a begin+end pair (VT_ZONE_BEGIN / vt_zone_end) in a tight loop, on one or
 * more threads, and for scale one rdtsc and one clock_gettime. Recording is on when the program
 * runs under `vitals run` or with VITALS_TRACE=FILE (bench/zones.sh runs it each way).
 *
 *   zones_bench pair N THREADS     ns per pair on each thread (the slowest thread's figure)
 *   zones_bench clocks N           ns per rdtsc, per clock_gettime(CLOCK_MONOTONIC)
 * Times are the measuring thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <vitals.h>

static long n_pairs;

/* The calling thread's CPU time: on a machine shared with other work, time spent waiting for
 * a CPU would otherwise be counted as the cost of what is measured. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *pairs(void *arg)
{
    double *ns = arg;
    double t0 = now_ns();
    for (long i = 0; i < n_pairs; i++) {
        VT_ZONE_BEGIN(z, "pair");
        /* Keeps each iteration (and the load of the recording flag) in the loop. */
        __asm__ volatile("" ::: "memory");
        vt_zone_end(z);
    }
    *ns = (now_ns() - t0) / (double)n_pairs;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "clocks")) {
        long n = atol(argv[2]);
        unsigned long long sink = 0;
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            sink += __rdtsc();
        double t1 = now_ns();
        struct timespec ts;
        for (long i = 0; i < n; i++) {
            clock_gettime(CLOCK_MONOTONIC, &ts);
            sink += (unsigned long long)ts.tv_nsec;
        }
        double t2 = now_ns();
        printf("%.2f %.2f %llu\n", (t1 - t0) / (double)n, (t2 - t1) / (double)n, sink & 1);
        return 0;
    }
    if (argc < 4 || strcmp(argv[1], "pair")) {
        fprintf(stderr, "usage: zones_bench pair N THREADS | zones_bench clocks N\n");
        return 2;
    }
    n_pairs = atol(argv[2]);
    int threads = atoi(argv[3]);
    if (n_pairs <= 0 || threads < 1 || threads > 64)
        return 2;
    pthread_t t[64];
    double ns[64], worst = 0;
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, pairs, &ns[i]);
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        worst = ns[i] > worst ? ns[i] : worst;
    }
    printf("%.3f\n", worst);
    return 0;
}

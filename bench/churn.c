/* The reference allocation workload by which the overhead of vitals is compared with other
 * memory profilers (see bench/churn.sh and docs/BENCHMARKS.md). */
/* Allocation-heavy workload for comparing memory profilers' overhead.
 * Usage: churn ITERATIONS THREADS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdint.h>

static long iters;
static __thread uint64_t rng = 88172645463325252ull;
static inline uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

#define LIVE 4096
__attribute__((noinline)) static void *leaf(size_t n) { void *p = malloc(n); memset(p, 1, n < 64 ? n : 64); return p; }
__attribute__((noinline)) static void *deep(int d, size_t n) { if (d == 0) return leaf(n); void *p = deep(d - 1, n); __asm__ volatile("" ::: "memory"); return p; }

static void *worker(void *arg) {
    void **slots = calloc(LIVE, sizeof(void *));
    rng += (uintptr_t)arg * 7919;
    long leaked = 0;
    for (long i = 0; i < iters; i++) {
        uint64_t r = rnd();
        size_t k = r % LIVE;
        free(slots[k]);
        size_t n = 16 + (r >> 20) % 512;
        if ((r >> 40) % 100 == 0) n = 4096 + (r >> 44) % 65536;
        slots[k] = deep((int)((r >> 32) % 24), n);
        if ((r >> 50) % 1000 == 0) { slots[k] = realloc(slots[k], n * 2); }
        if ((r >> 54) % 2000 == 0) { leaked++; slots[k] = NULL; } /* leak on purpose */
    }
    for (size_t k = 0; k < LIVE; k++) free(slots[k]);
    free(slots);
    return (void *)leaked;
}

int main(int argc, char **argv) {
    iters = argc > 1 ? atol(argv[1]) : 1000000;
    int nt = argc > 2 ? atoi(argv[2]) : 1;
    pthread_t t[64];
    for (int i = 0; i < nt; i++) pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    long leaked = 0;
    for (int i = 0; i < nt; i++) { void *r; pthread_join(t[i], &r); leaked += (long)r; }
    printf("leaked %ld blocks\n", leaked);
    return 0;
}

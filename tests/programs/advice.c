/* A program built to trigger every rule of the advice engine once (docs/REPORT.md, "Advice"),
 * each from its own function, in 150 rounds 4 ms apart (under a second):
 *
 *   leak        drop_leaks: 10 blocks of 64 bytes dropped
 *   growth      grow: one 2 KiB block every round, freed at the end
 *   pool        pool_candidate: 20,000 blocks of 48 bytes, each freed at once
 *   temporary   temporaries: 20,000 blocks of 100 to 149 bytes, each freed at once
 *   realloc     grow_buffer: a buffer grown 16 bytes at a time by 300 reallocs
 *   waste       tiny (rounds 40-49): 100,000 blocks of 1 byte (24 usable), held to the end
 *   overhead    fragment (rounds 60-79): 4,000 blocks of 10,232 bytes (no rounding), then at
 *               once (round 79) 3 in 4 freed: few frees, so that the memory sample after the
 *               heap peak sees the arenas mostly free
 * Every round does a bounded share of the work, so that the growing site rises in every part
 * of the run even when the machine is busy (the growth rule looks at time windows).
 *   stack       a thread with a 256 KiB stack that recurses to 95% of it
 *
 * and no other rule. The memory health is 100 - 15 (leak under 1% of the peak) - 15 (one
 * growing site) - 20 (one stack) - 10 (allocator overhead) = 40, "poor". */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "e2e-prog.h"

#define ROUNDS 150
#define STACK_SIZE (256 * 1024)

static void *grown[ROUNDS];
static void *tiny_blocks[100000];
#define FRAG_BLOCKS 4000
#define FRAG_SIZE 10232
static void *frag_blocks[FRAG_BLOCKS];
static uintptr_t top, target;

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static NOINLINE void drop_leaks(void)
{
    for (int i = 0; i < 10; i++) {
        void *volatile p = malloc(64);
        (void)p;
    }
}

static NOINLINE void grow(int round)
{
    grown[round] = calloc(1, 2048);
}

static NOINLINE void pool_candidate(int n)
{
    for (int i = 0; i < n; i++) {
        char *volatile p = malloc(48);
        p[0] = 1;
        free(p);
    }
}

static NOINLINE void temporaries(int n)
{
    for (int i = 0; i < n; i++) {
        char *volatile p = malloc(100 + (size_t)(i % 50));
        p[0] = 1;
        free(p);
    }
}

static NOINLINE void grow_buffer(void)
{
    char *buf = NULL;
    for (int i = 1; i <= 301; i++)
        buf = realloc(buf, (size_t)i * 16);
    free(buf);
}

static NOINLINE void tiny(int part)
{
    for (int i = part * 10000; i < (part + 1) * 10000; i++)
        tiny_blocks[i] = malloc(1);
}

static NOINLINE void fragment(int part)
{
    for (int i = part * (FRAG_BLOCKS / 20); i < (part + 1) * (FRAG_BLOCKS / 20); i++)
        frag_blocks[i] = malloc(FRAG_SIZE);
}

static void unfragment_most(void)
{
    for (int i = 0; i < FRAG_BLOCKS; i++)
        if (i % 4) {
            free(frag_blocks[i]);
            frag_blocks[i] = NULL;
        }
}

static NOINLINE int down(int depth)
{
    volatile char frame[1024];
    frame[0] = (char)depth;
    frame[sizeof(frame) - 1] = (char)depth;
    if (top - (uintptr_t)&frame[0] >= target)
        return depth;
    return down(depth + 1) + frame[0] - frame[sizeof(frame) - 1];
}

/* Its first allocation is the one pthread_getattr_np makes while it holds the thread's lock:
 * the agent must not ask pthread_getattr_np for the stack then (it used to, and hung). */
static void *deep(void *arg)
{
    (void)arg;
    pthread_attr_t attr;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0 ||
        pthread_attr_getstack(&attr, &lo, &size) != 0)
        return (void *)1;
    pthread_attr_destroy(&attr);
    top = (uintptr_t)lo + size;
    target = size / 100 * 95;
    free(malloc(16));
    down(0);
    return NULL;
}

int main(void)
{
    drop_leaks();
    grow_buffer();
    for (int r = 0; r < ROUNDS; r++) {
        grow(r);
        if (r < 100) {
            pool_candidate(200);
            temporaries(200);
        }
        if (r == 20) {
            pthread_attr_t attr;
            pthread_t t;
            void *ret = NULL;
            if (pthread_attr_init(&attr) != 0 ||
                pthread_attr_setstacksize(&attr, STACK_SIZE) != 0 ||
                pthread_create(&t, &attr, deep, NULL) != 0 || pthread_join(t, &ret) != 0 || ret)
                return 3;
            pthread_attr_destroy(&attr);
        }
        if (r >= 40 && r < 50)
            tiny(r - 40);
        if (r >= 60 && r < 80)
            fragment(r - 60);
        if (r == 79)
            unfragment_most(); /* at once: the next memory sample must come after the peak */
        pause_ms(4);
    }
    for (int i = 0; i < FRAG_BLOCKS; i++)
        free(frag_blocks[i]);
    for (int i = 0; i < 100000; i++)
        free(tiny_blocks[i]);
    for (int r = 0; r < ROUNDS; r++)
        free(grown[r]);
    e2e_write(1, "advice done\n");
    return 0;
}

/* A CPU split known by construction: hot70() runs 7 units of work for every 3 units cold30()
 * runs, so 70% and 30% of the CPU time. With "threads", two threads (split_a and split_b) run
 * the same split while main waits for them; with "short", 150 threads run it one after another,
 * each for a few milliseconds with the default unit of that mode (shorter than the agent's
 * round: the test that such threads are sampled whole), after skew() (see there).
 * Usage: cpu_split [single|threads|short] [units per round] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile unsigned long sink;
static unsigned long unit = 1200000;
enum { ROUNDS = 40 };

/* One unit: the same loop in both, so that a unit costs the same everywhere. */
__attribute__((noinline)) void hot70(unsigned long n)
{
    unsigned long x = 0;
    for (unsigned long i = 0; i < n; i++)
        x += i * i ^ (x >> 3);
    sink += x;
}

__attribute__((noinline)) void cold30(unsigned long n)
{
    unsigned long x = 0;
    for (unsigned long i = 0; i < n; i++)
        x += i * i ^ (x >> 3);
    sink += x;
}

__attribute__((noinline)) void split(void)
{
    for (int r = 0; r < ROUNDS; r++) {
        hot70(7 * unit);
        cold30(3 * unit);
    }
}

static void *split_a(void *arg)
{
    (void)arg;
    split();
    return NULL;
}

static void *split_b(void *arg)
{
    (void)arg;
    split();
    return NULL;
}

/* skew() first, for up to about a sampling period at 999 Hz (from 0 to 57 units, by thread):
 * threads that all ran the same split from their start would be sampled at the same points of
 * it, every one of them, since a thread's first sample comes a period of CPU time after it
 * starts. */
__attribute__((noinline)) void skew(unsigned long n)
{
    unsigned long x = 0;
    for (unsigned long i = 0; i < n; i++)
        x += i * i ^ (x >> 3);
    sink += x;
}

static void *split_skewed(void *arg)
{
    skew((unsigned long)arg % 20 * 3 * unit);
    split();
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 && !strcmp(argv[1], "threads");
    int short_threads = argc > 1 && !strcmp(argv[1], "short");
    if (short_threads)
        unit = 20000;
    if (argc > 2)
        unit = strtoul(argv[2], NULL, 10);
    if (short_threads) {
        for (long i = 0; i < 150; i++) {
            pthread_t t;
            pthread_create(&t, NULL, split_skewed, (void *)i);
            pthread_join(t, NULL);
        }
    } else if (threads) {
        pthread_t a, b;
        pthread_create(&a, NULL, split_a, NULL);
        pthread_create(&b, NULL, split_b, NULL);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
    } else {
        split();
    }
    printf("split done\n");
    return 0;
}

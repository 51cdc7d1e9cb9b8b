/* Zones, counters, gauges and frames whose figures are known by construction (the e2e case
 * zones checks them):
 *   "sleep"  20 calls, each sleeping 2 ms (nanosleep), every 4th ended as an error: 5 errors
 *   "outer"  10 calls, each making 2 allocations of 1000 bytes and calling "inner" 3 times
 *   "inner"  30 calls, each making 1 allocation of 100 bytes (attributed to inner, not outer)
 *   "spin"   VT_ZONE_FN in spin(): 100 calls, no allocation
 *   counter "items": +7 100 times (700); counter "refunds": -3 once; gauge "depth": 0..49
 *   frames: 30 marks of the main loop, and 12 of the loop "physics"
 * Usage: zones [THREADS]: with THREADS > 1 the whole is run on that many threads at once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vitals.h>

static __thread volatile unsigned long sink;

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void inner(void **keep, int i)
{
    VT_ZONE("inner");
    keep[i] = malloc(100);
}

static void outer(void **keep)
{
    VT_ZONE("outer");
    void *a = malloc(1000), *b = malloc(1000);
    for (int i = 0; i < 3; i++)
        inner(keep, i);
    sink += (unsigned long)a ^ (unsigned long)b;
    free(a);
    free(b);
}

static void spin(void)
{
    VT_ZONE_FN();
    for (int i = 0; i < 1000; i++)
        sink += (unsigned long)i;
}

static void *work(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        VT_ZONE_BEGIN(z, "sleep");
        sleep_ms(2);
        if (i % 4 == 3)
            vt_zone_end_error(z);
        else
            vt_zone_end(z);
    }
    for (int i = 0; i < 10; i++) {
        void *keep[3];
        outer(keep);
        for (int j = 0; j < 3; j++)
            free(keep[j]);
    }
    for (int i = 0; i < 100; i++) {
        spin();
        vt_counter_add("items", 7);
    }
    vt_counter_add("refunds", -3);
    for (int i = 0; i < 50; i++)
        vt_gauge_set("depth", (double)i);
    for (int i = 0; i < 30; i++) {
        if (i < 12)
            vt_frame_mark("physics");
        VT_FRAME_MARK;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads <= 1) {
        work(NULL);
    } else {
        pthread_t t[16];
        threads = threads > 16 ? 16 : threads;
        for (int i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, work, NULL);
        for (int i = 0; i < threads; i++)
            pthread_join(t[i], NULL);
    }
    printf("zones done\n");
    return 0;
}

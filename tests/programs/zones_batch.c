/* Durations that a thread's zone figures hold back before counting them in the histogram (the
 * agent counts them VT_ZONE_BATCH at a time, and all at each publication): known by
 * construction, checked by the e2e case zones_batch.
 *   "ranks"  40 calls on each of two threads (the main one and a worker, at the same time):
 *            every fourth sleeps 2 ms, the others do nothing. Of the 80 calls the 20 longest
 *            take 2 ms or more, so the 90th, 95th and 99th percentiles (ranks 72, 76 and 80)
 *            are at least 2 ms; each long call ends past the thread's next publication, with
 *            fewer than VT_ZONE_BATCH durations held back. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include <vitals.h>

static void *ranks(void *arg)
{
    (void)arg;
    for (int i = 0; i < 40; i++) {
        VT_ZONE("ranks");
        if (i % 4 == 0) {
            struct timespec ts = {0, 2000000};
            while (nanosleep(&ts, &ts) != 0) {
            }
        }
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, ranks, NULL) != 0)
        return 1;
    ranks(NULL);
    if (pthread_join(t, NULL) != 0)
        return 1;
    printf("zones_batch done\n");
    return 0;
}

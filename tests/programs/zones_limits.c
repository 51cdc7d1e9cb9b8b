/* The limits of the agent's per-thread zone figures, known by construction (the e2e case
 * zones_limits checks them):
 *   "twice"  one call, ended twice: the second end has nothing open
 *   "wide"   one call site with 2000 calls of spread durations (0 to 1999 iterations of a loop):
 *            many histogram buckets
 *   "deep"   a recursion 70 deep through one call site: the 64 outermost calls are recorded,
 *            the 6 nested deeper are counted as not recorded
 *   400 call sites of their own ("site", lines 1000 to 1399), one call each: a thread records
 *            384 call sites, the three above among them, so the first 381 are recorded and 19
 *            counted as not recorded
 *   "open"   still open at exit (beyond the call sites a thread records: not in the figures)
 *   "worker" 300 threads one after the other (each takes the zone state the one before left),
 *            each 10 calls making one allocation of 10 bytes, then a zone "left" it never ends
 * So: zones_lost 25, unmatched_ends 1, open_at_end 301; "worker" 3000 calls, 3000 allocations
 * of 30000 bytes. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <vitals.h>

static volatile unsigned long sink;

static void deep(int n)
{
    VT_ZONE("deep");
    if (n > 1)
        deep(n - 1);
}

static struct vt_source_location sites[400];

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++) {
        VT_ZONE("worker");
        free(malloc(10));
    }
    VT_ZONE_BEGIN(left, "left");
    (void)left;
    return NULL;
}

int main(void)
{
    for (int i = 0; i < 300; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0)
            return 1;
    }
    VT_ZONE_BEGIN(twice, "twice");
    vt_zone_end(twice);
    vt_zone_end(twice);
    for (int i = 0; i < 2000; i++) {
        VT_ZONE_BEGIN(z, "wide");
        for (int k = 0; k < i; k++)
            sink += (unsigned long)k;
        vt_zone_end(z);
    }
    deep(70);
    for (int i = 0; i < 400; i++) {
        sites[i] = (struct vt_source_location){"site", "main", __FILE__, (uint32_t)(1000 + i)};
        vt_zone_end(vt_zone_begin(&sites[i]));
    }
    VT_ZONE_BEGIN(open, "open");
    (void)open;
    printf("zones_limits done\n");
    return 0;
}

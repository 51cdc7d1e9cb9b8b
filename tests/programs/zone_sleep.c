/* A zone whose duration is set by an argument, for `vitals diff` of zone figures (diff_e2e.py
 * case diff_zones):
 *   zone_sleep MS: 20 calls of the zone "parse", each sleeping MS ms; 10 calls of "emit", each
 *   sleeping 1 ms; the counter "records" gets +3 per call of "parse" (60).
 * Two runs with different MS differ by construction in zone:parse's durations, not in its calls,
 * nor in "emit" (beyond the scheduler's noise), nor in the counter. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vitals.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int main(int argc, char **argv)
{
    long ms = argc > 1 ? atol(argv[1]) : 1;
    if (ms < 0 || ms > 1000) {
        fprintf(stderr, "usage: zone_sleep MS (0 to 1000)\n");
        return 2;
    }
    for (int i = 0; i < 20; i++) {
        VT_ZONE_BEGIN(z, "parse");
        sleep_ms(ms);
        vt_counter_add("records", 3);
        vt_zone_end(z);
    }
    for (int i = 0; i < 10; i++) {
        VT_ZONE_BEGIN(z, "emit");
        sleep_ms(1);
        vt_zone_end(z);
    }
    printf("zone_sleep done\n");
    return 0;
}

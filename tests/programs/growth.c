/* Two sites over 120 phases of about 1 ms each: grow_step keeps 4 more blocks of 4096 B every
 * phase, churn_step holds only the 4 blocks of the latest phase. Everything is freed at the end,
 * so nothing leaks, yet grow_step grew all through the run: it is a growth suspect, churn_step
 * is not. The peak is the last phase: 121 x 4 blocks of 4096 B. */
#include <stdlib.h>
#include <time.h>

#include "e2e-prog.h"

#define PHASES 120
#define PER_PHASE 4
#define SIZE 4096

static void *kept[PHASES * PER_PHASE];
static void *held[PER_PHASE];

NOINLINE void grow_step(int phase)
{
    for (int j = 0; j < PER_PHASE; j++)
        if (!(kept[phase * PER_PHASE + j] = malloc(SIZE)))
            _exit(3);
}

NOINLINE void churn_step(int phase)
{
    for (int j = 0; j < PER_PHASE; j++) {
        if (phase)
            free(held[j]);
        if (!(held[j] = malloc(SIZE)))
            _exit(3);
    }
}

NOINLINE void teardown(void)
{
    for (int i = 0; i < PHASES * PER_PHASE; i++)
        free(kept[i]);
    for (int j = 0; j < PER_PHASE; j++)
        free(held[j]);
}

int main(void)
{
    struct timespec ms = {0, 1000000};
    for (int phase = 0; phase < PHASES; phase++) {
        grow_step(phase);
        churn_step(phase);
        nanosleep(&ms, NULL);
    }
    teardown();
    e2e_write(1, "growth done\n");
    return 0;
}

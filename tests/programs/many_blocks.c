/* Enough allocations for a trace of several blocks, for the tests that cut and damage traces:
 * 300 rounds of 1000 malloc(16)/free pairs (site_w), 1000 calloc(2, 16)/free pairs (site_x)
 * and 1000 malloc(48) of which all but one are freed (site_y): 900000 allocations, 300 blocks
 * (14400 B) leaked at site_y. */
#include <stdlib.h>

#include "e2e-prog.h"

#define ROUNDS 300
#define PER_ROUND 1000

static void *kept[ROUNDS];

NOINLINE void site_w(void)
{
    for (int i = 0; i < PER_ROUND; i++)
        free(malloc(16));
}

NOINLINE void site_x(void)
{
    for (int i = 0; i < PER_ROUND; i++)
        free(calloc(2, 16));
}

NOINLINE void site_y(int round)
{
    for (int i = 0; i < PER_ROUND; i++) {
        void *p = malloc(48);
        if (i == PER_ROUND / 2)
            kept[round] = p;
        else
            free(p);
    }
}

int main(void)
{
    for (int r = 0; r < ROUNDS; r++) {
        site_w();
        site_x();
        site_y(r);
    }
    e2e_write(1, "many_blocks done\n");
    return 0;
}

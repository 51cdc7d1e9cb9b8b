/* Blocks with known lifetimes: 10 of 100 B freed at once, 5 of 200 B freed after a sleep of
 * 30 ms, and 3 of 300 B made before that sleep and never freed (live at exit, at least 30 ms
 * old). */
#include <stdlib.h>
#include <time.h>

#include "e2e-prog.h"

static void *held[5], *kept[3];

NOINLINE void quick(void)
{
    for (int i = 0; i < 10; i++)
        free(malloc(100));
}

NOINLINE void hold(void)
{
    for (int i = 0; i < 5; i++)
        held[i] = malloc(200);
}

NOINLINE void keep(void)
{
    for (int i = 0; i < 3; i++)
        kept[i] = malloc(300);
}

NOINLINE void release(void)
{
    for (int i = 0; i < 5; i++)
        free(held[i]);
}

int main(void)
{
    struct timespec pause = {0, 30000000};
    quick();
    hold();
    keep();
    nanosleep(&pause, NULL);
    release();
    e2e_write(1, "lifetimes done\n");
    return kept[0] ? 0 : 3;
}

/* Blocks whose usable sizes glibc's malloc fixes (x86-64: a chunk is the request plus 8 bytes,
 * rounded up to 16, at least 32; the block may use all of it but its own 8-byte header):
 *
 *   waste_small: 10 x malloc(1)       usable 24,    waste 23 each   kept to the end
 *   waste_exact: 10 x malloc(24)      usable 24,    waste 0         kept to the end
 *   waste_100:   10 x malloc(100)     usable 104,   waste 4 each    kept to the end
 *   waste_temp:   5 x malloc(50)      usable 56,    waste 6 each    freed at once
 *   waste_hold:  16 x malloc(32768)   usable 32776, waste 8 each    held HOLD_MS, then freed
 *
 * While the 16 blocks are held (the heap peak: 1250 + 524288 bytes) the program sleeps, so that
 * the agent's memory samples see exactly that heap. The program makes no other allocation (no
 * stdio). Prints "frag_waste done". */
#include <stdlib.h>
#include <time.h>

#include "e2e-prog.h"

#define HOLD_MS 500

static void *kept[30];
static void *held[16];

NOINLINE void waste_small(void)
{
    for (int i = 0; i < 10; i++)
        kept[i] = malloc(1);
}

NOINLINE void waste_exact(void)
{
    for (int i = 0; i < 10; i++)
        kept[10 + i] = malloc(24);
}

NOINLINE void waste_100(void)
{
    for (int i = 0; i < 10; i++)
        kept[20 + i] = malloc(100);
}

NOINLINE void waste_temp(void)
{
    void *p[5];
    for (int i = 0; i < 5; i++)
        p[i] = malloc(50);
    for (int i = 0; i < 5; i++)
        free(p[i]);
}

NOINLINE void waste_hold(void)
{
    for (int i = 0; i < 16; i++) {
        held[i] = malloc(32768);
        memset(held[i], 1, 32768);
    }
    struct timespec ts = {0, HOLD_MS * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    for (int i = 0; i < 16; i++)
        free(held[i]);
}

int main(void)
{
    waste_small();
    waste_exact();
    waste_100();
    waste_temp();
    waste_hold();
    for (int i = 0; i < 30; i++)
        if (!kept[i])
            return 3;
    e2e_write(1, "frag_waste done\n");
    return 0;
}

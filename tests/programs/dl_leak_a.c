/* A library that dl_leaks dlopens, calls and dlcloses: leak_a leaks 3 blocks of 24 B. */
#include <stdlib.h>

static void *kept[3];

__attribute__((noinline)) void leak_a(void)
{
    for (int i = 0; i < 3; i++)
        kept[i] = malloc(24); /* @LEAK_A */
}

/* A library that dl_leaks dlopens and keeps: leak_b leaks 4 blocks of 40 B. */
#include <stdlib.h>

static void *kept[4];

__attribute__((noinline)) void leak_b(void)
{
    for (int i = 0; i < 4; i++)
        kept[i] = malloc(40); /* @LEAK_B */
}

/* A known mix of sizes, each block freed: tiny makes 100 blocks of 16 B (a one-size site),
 * mixed 50 of 24 B and 50 of 40 B, and one site each 50 x 1000 B, 20 x 5000 B, 5 x 100000 B and
 * 2 x 2 MiB. */
#include <stdlib.h>

#include "e2e-prog.h"

static void *b[100];

NOINLINE void make(size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++)
        if (!(b[i] = malloc(size)))
            _exit(3);
    for (size_t i = 0; i < n; i++)
        free(b[i]);
}

NOINLINE void tiny(void)
{
    for (int i = 0; i < 100; i++)
        if (!(b[i] = malloc(16)))
            _exit(3);
    for (int i = 0; i < 100; i++)
        free(b[i]);
}

NOINLINE void mixed(void)
{
    for (int i = 0; i < 100; i++)
        if (!(b[i] = malloc(i % 2 ? 24 : 40)))
            _exit(3);
    for (int i = 0; i < 100; i++)
        free(b[i]);
}

int main(void)
{
    tiny();
    mixed();
    make(50, 1000);
    make(20, 5000);
    make(5, 100000);
    make(2, (size_t)2 << 20);
    e2e_write(1, "sizes done\n");
    return 0;
}

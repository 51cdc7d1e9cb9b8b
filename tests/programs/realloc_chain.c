/* Two realloc chains: a 16 B block from start_buffer doubled by 10 reallocs to 16 KiB, and a
 * block begun by realloc(NULL, 100) grown twice, to 200 and 300 B. Both are freed. If every
 * realloc moved its block, they copied 16 + 32 + ... + 8192 = 16368 B and 100 + 200 B. */
#include <stdlib.h>

#include "e2e-prog.h"

NOINLINE char *start_buffer(void)
{
    return malloc(16);
}

NOINLINE char *grow(char *p, size_t n)
{
    char *q = realloc(p, n);
    if (!q)
        _exit(3);
    return q;
}

int main(void)
{
    char *p = start_buffer();
    for (int k = 1; k <= 10; k++)
        p = grow(p, (size_t)16 << k);
    free(p);
    char *q = grow(NULL, 100);
    q = grow(q, 200);
    q = grow(q, 300);
    free(q);
    e2e_write(1, "realloc_chain done\n");
    return 0;
}

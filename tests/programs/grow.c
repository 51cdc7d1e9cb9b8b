/* A site that grows by construction: `grow N S [leak]` holds 10 blocks of 100 B (steady_site),
 * then N blocks of S bytes (grow_site) on top of them, then frees everything; with "leak",
 * leak_site leaks one block of 77 B (its last address is kept only XOR-ed). Nothing else is
 * allocated (no stdio), so the heap peak is exactly 1000 + N * S bytes and the allocation calls are
 * 10 + N (+1 with leak). Built twice (grow and grow_rebuilt, -DGROW_REBUILT adds code before the
 * sites so that every address differs) for the tests of vitals diff. */
#include <stdlib.h>

#include "e2e-prog.h"

#ifdef GROW_REBUILT
NOINLINE long padding(long x)
{
    long s = 0;
    for (long i = 0; i < x; i++)
        s += i * i ^ (s >> 3);
    return s;
}
#endif

NOINLINE void **steady_site(void)
{
    static void *held[10];
    for (int i = 0; i < 10; i++)
        held[i] = malloc(100);
    return held;
}

NOINLINE void grow_site(void **held, long n, long size)
{
    for (long i = 0; i < n; i++)
        held[i] = malloc((size_t)size);
}

volatile unsigned long grow_sink;

NOINLINE void leak_site(void)
{
    void *p = malloc(77);
    grow_sink = (unsigned long)p ^ 0x5a5a5a5aul;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long n = strtol(argv[1], NULL, 10), size = strtol(argv[2], NULL, 10);
    if (n < 0 || n > 4096 || size < 1)
        return 2;
    static void *grown[4096];
    void **steady = steady_site();
    grow_site(grown, n, size);
    for (long i = 0; i < n; i++)
        free(grown[i]);
    for (int i = 0; i < 10; i++)
        free(steady[i]);
    if (argc > 3 && argv[3][0] == 'l')
        leak_site();
#ifdef GROW_REBUILT
    if (argc > 99)
        return (int)padding(argc);
#endif
    e2e_write(1, "grow done\n");
    return 0;
}

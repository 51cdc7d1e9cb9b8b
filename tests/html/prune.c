/* Flame graph pruning with known sizes: one site allocates 100000 bytes and five sites 20 bytes
 * each, all freed. The five small ones hold 20 / 100100 of the bytes, under the 0.1% below which
 * the HTML report merges flame nodes into "other" (docs/HTML.md): in the bytes graph they are
 * one "other" node of 5 nodes and 100 bytes; in the calls graph (1 of 6 calls each) none is. */
#include <stdlib.h>

#include "e2e-prog.h"

NOINLINE void big(void)
{
    free(malloc(100000));
}

NOINLINE void tiny_0(void)
{
    free(malloc(20));
}

NOINLINE void tiny_1(void)
{
    free(malloc(20));
}

NOINLINE void tiny_2(void)
{
    free(malloc(20));
}

NOINLINE void tiny_3(void)
{
    free(malloc(20));
}

NOINLINE void tiny_4(void)
{
    free(malloc(20));
}

int main(void)
{
    big();
    tiny_0();
    tiny_1();
    tiny_2();
    tiny_3();
    tiny_4();
    e2e_write(1, "prune done\n");
    return 0;
}

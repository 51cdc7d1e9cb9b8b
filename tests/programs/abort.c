/* Allocates 9 x 100 B, frees 2, then abort(): 7 blocks (700 B) are live when SIGABRT ends it. */
#include <stdlib.h>

#include "e2e-prog.h"

static void *kept[9];

NOINLINE void before_abort(void)
{
    for (int i = 0; i < 9; i++)
        kept[i] = malloc(100); /* @ABORT */
    free(kept[0]);
    free(kept[5]);
}

int main(void)
{
    before_abort();
    e2e_write(1, "aborting\n");
    abort();
}

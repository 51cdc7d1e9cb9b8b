/* Leaks of known count and size from distinct sites, plus blocks that are freed.
 *
 *   site_a: 37 x malloc(48)                                 37 blocks, 1776 B
 *   site_b: 5 x calloc(10, 12)                               5 blocks,  600 B
 *   site_c: malloc(10) -> realloc(100) -> realloc(300)       1 block,   300 B
 *   site_d: 4 x posix_memalign(256, 64)                      4 blocks,  256 B
 *   site_e: aligned_alloc(64, 128), memalign(64, 200), valloc(300)
 *                                                            3 blocks,  628 B
 *   site_f: 20 x malloc(64), a calloc and a realloc chain, all freed
 *
 * The "@X" comments mark the lines the test expects in the stacks. */
#include <malloc.h>
#include <stdlib.h>

#include "e2e-prog.h"

static void *kept[64];
static int n_kept;

NOINLINE void site_a(void)
{
    for (int i = 0; i < 37; i++)
        kept[n_kept++] = malloc(48); /* @A */
}

NOINLINE void site_b(void)
{
    for (int i = 0; i < 5; i++)
        kept[n_kept++] = calloc(10, 12); /* @B */
}

NOINLINE void site_c(void)
{
    char *p = malloc(10); /* @C1 */
    p = realloc(p, 100);  /* @C2 */
    p = realloc(p, 300);  /* @C3 */
    kept[n_kept++] = p;
}

NOINLINE void site_d(void)
{
    for (int i = 0; i < 4; i++) {
        void *p = NULL;
        if (posix_memalign(&p, 256, 64) != 0) /* @D */
            _exit(3);
        kept[n_kept++] = p;
    }
}

NOINLINE void site_e(void)
{
    kept[n_kept++] = aligned_alloc(64, 128); /* @E1 */
    kept[n_kept++] = memalign(64, 200);      /* @E2 */
    kept[n_kept++] = valloc(300);            /* @E3 */
}

NOINLINE void site_f(void)
{
    void *blocks[20];
    for (int i = 0; i < 20; i++)
        blocks[i] = malloc(64);
    for (int i = 0; i < 20; i++)
        free(blocks[i]);
    char *p = calloc(3, 7);
    free(p);
    p = malloc(16);
    p = realloc(p, 4000);
    free(p);
}

int main(void)
{
    site_a();
    site_b();
    site_c();
    site_d();
    site_e();
    site_f();
    for (int i = 0; i < n_kept; i++)
        if (!kept[i])
            return 3;
    e2e_write(1, "leaks_c done\n");
    return 0;
}

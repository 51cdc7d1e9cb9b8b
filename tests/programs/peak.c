/* A known heap peak: 10 x 1000 B held together and freed, then 5 x 3000 B held together and
 * freed. Nothing else is allocated (no stdio), so the peak is exactly 15000 B. */
#include <stdlib.h>

#include "e2e-prog.h"

NOINLINE void phase_small(void)
{
    void *b[10];
    for (int i = 0; i < 10; i++)
        b[i] = malloc(1000);
    for (int i = 0; i < 10; i++)
        free(b[i]);
}

NOINLINE void phase_large(void)
{
    void *b[5];
    for (int i = 0; i < 5; i++)
        b[i] = malloc(3000);
    for (int i = 0; i < 5; i++)
        free(b[i]);
}

int main(void)
{
    phase_small();
    phase_large();
    e2e_write(1, "peak done\n");
    return 0;
}

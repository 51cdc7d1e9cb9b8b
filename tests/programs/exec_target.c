/* The program exec runs: leaks 6 x 24 B. */
#include <stdlib.h>

#include "e2e-prog.h"

static void *kept[6];

NOINLINE void after_exec(void)
{
    for (int i = 0; i < 6; i++)
        kept[i] = malloc(24); /* @AFTER */
}

int main(void)
{
    after_exec();
    e2e_say_num("exec_target pid", (long)getpid());
    return 0;
}

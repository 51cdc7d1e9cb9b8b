/* Leaks one block, says so, and kills itself with SIGTERM. */
#include <signal.h>
#include <stdlib.h>

#include "e2e-prog.h"

static void *kept;

NOINLINE void before_term(void)
{
    kept = malloc(333); /* @TERM */
}

int main(void)
{
    before_term();
    e2e_write(1, "terminating\n");
    raise(SIGTERM);
    return 0;
}

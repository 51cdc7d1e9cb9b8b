/* A program that survives its own SIGSEGV: its handler siglongjmps back out of a deliberate
 * NULL write, then the program allocates on. 2 blocks of 100 B are made before the fault
 * (site_before, one freed) and 5 of 200 B after it (site_after, two freed): 1 + 3 blocks
 * leak. Prints "recovered" and "done"; exit status 0. */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>

#include "e2e-prog.h"

static sigjmp_buf back;
static volatile sig_atomic_t faults;

static void on_segv(int sig)
{
    (void)sig;
    faults++;
    siglongjmp(back, 1);
}

static void *kept[8];

NOINLINE void site_before(void)
{
    kept[0] = malloc(100);
    void *p = malloc(100);
    free(p);
}

NOINLINE void fault(void)
{
    volatile int *volatile null = NULL;
    *null = 1; /* @FAULT */
}

NOINLINE void site_after(void)
{
    for (int i = 0; i < 5; i++)
        kept[1 + i] = malloc(200);
    free(kept[1]);
    free(kept[3]);
}

int main(void)
{
    struct sigaction sa = {.sa_handler = on_segv};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    site_before();
    if (sigsetjmp(back, 1) == 0) {
        fault();
        e2e_write(1, "no fault\n");
        return 1;
    }
    if (faults != 1)
        return 1;
    e2e_write(1, "recovered\n");
    site_after();
    e2e_write(1, "done\n");
    return 0;
}

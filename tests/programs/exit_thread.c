/* A program ended from a second thread while the main thread allocates: argv[1] "_exit" makes
 * the thread call _exit(5), "exit" makes it call exit(3). The thread waits until the main
 * thread has made at least 1000 allocations (site_main); the main thread allocates until the
 * process ends. Prints "ending" just before the call. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "e2e-prog.h"

static atomic_long made;
static const char *how;

NOINLINE void site_main(void)
{
    char *p = malloc(64);
    if (!p)
        _exit(9);
    p[0] = 1;
    free(p);
    atomic_fetch_add(&made, 1);
}

NOINLINE void *ender(void *arg)
{
    (void)arg;
    void *kept = malloc(77); /* @ENDER: live when the process ends */
    (void)kept;
    while (atomic_load(&made) < 1000)
        ;
    e2e_write(1, "ending\n");
    if (!strcmp(how, "_exit"))
        _exit(5);
    exit(3);
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "_exit") && strcmp(argv[1], "exit")))
        return 2;
    how = argv[1];
    pthread_t t;
    if (pthread_create(&t, NULL, ender, NULL) != 0)
        return 9;
    for (;;)
        site_main();
}

/* Forks again and again for a second while the agent's writer thread is kept busy: each
 * round loads and unloads a library, so that the writer must read the module map again (with
 * dl_iterate_phdr, which holds the dynamic loader's lock), and forks at once. Each child
 * loads the same library, allocates once and exits: it hangs if the lock was held by another
 * thread at the moment of the fork. Without vitals the program has one thread and never
 * hangs. The parent waits at most 3 s for every child: one that has not
 * exited by then is reported ("hung child PID"), killed, and makes the exit status 1.
 * Prints "children N" and "hung N". */
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "e2e-prog.h"

#define MAX_CHILDREN 5000

static void *kept;
static pid_t pids[MAX_CHILDREN];
static int done[MAX_CHILDREN];

NOINLINE void child_alloc(void)
{
    kept = malloc(16); /* @FORKED */
}

static double elapsed(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Reaps the children that have exited; returns how many are still running. */
static int reap(int n)
{
    int left = 0;
    for (int i = 0; i < n; i++) {
        int status;
        if (!done[i] && waitpid(pids[i], &status, WNOHANG) == pids[i])
            done[i] = 1;
        left += !done[i];
    }
    return left;
}

int main(void)
{
    struct timespec start, nap = {0, 1000000};
    int n = 0;
    kept = malloc(8);
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (n < MAX_CHILDREN && elapsed(&start) < 1.0) {
        /* Not before every fork: loading takes the lock too, and would wait for the writer. */
        if (n % 16 == 0) {
            void *lib = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
            if (lib)
                dlclose(lib);
        }
        pid_t pid = fork();
        if (pid < 0)
            return 3;
        if (pid == 0) {
            /* Loading a library takes the loader's lock, as does a stack walk that has to
             * look up code it has not seen. */
            void *lib = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
            child_alloc();
            if (lib)
                dlclose(lib);
            exit(0);
        }
        pids[n++] = pid;
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (reap(n) && elapsed(&start) < 3.0)
        nanosleep(&nap, NULL);
    int hung = 0;
    for (int i = 0; i < n; i++) {
        if (!done[i]) {
            e2e_say_num("hung child", pids[i]);
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
            hung++;
        }
    }
    e2e_say_num("children", n);
    e2e_say_num("hung", hung);
    return hung ? 1 : 0;
}

/* A thread with a 64 KiB stack (pthread_attr_setstacksize) that allocates at every level of
 * a recursion DEPTH deep, with small frames, and frees on the way back up: the agent's work in
 * the hooks (stack capture included) must fit in what is left of the program's stack. The
 * thread's first allocation is made at the deepest level. Runs ROUNDS times, in a new thread
 * each time. Prints "depth N" and "done"; exit status 0. */
#include <pthread.h>
#include <stdlib.h>

#include "e2e-prog.h"

#define DEPTH 100
#define ROUNDS 4
#define STACK_SIZE (64 * 1024)

static int deepest;

NOINLINE int down(int depth)
{
    if (depth == DEPTH) {
        deepest = depth;
        char *p = malloc(48); /* @DEEPEST */
        if (!p)
            return -1;
        p[0] = 1;
        free(p);
        return depth;
    }
    int r = down(depth + 1);
    char *q = malloc(16 + (size_t)depth % 32); /* @LEVEL */
    if (!q)
        return -1;
    q[0] = (char)depth;
    free(q);
    return r;
}

NOINLINE void *thread_main(void *arg)
{
    (void)arg;
    return (void *)(long)down(0);
}

int main(void)
{
    for (int i = 0; i < ROUNDS; i++) {
        pthread_attr_t attr;
        pthread_t t;
        void *ret = NULL;
        if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, STACK_SIZE) != 0)
            return 3;
        int err = pthread_create(&t, &attr, thread_main, NULL);
        pthread_attr_destroy(&attr);
        if (err != 0) {
            e2e_say_num_to(2, "pthread_create failed", err);
            return 3;
        }
        if (pthread_join(t, &ret) != 0 || (long)ret != DEPTH)
            return 4;
    }
    e2e_say_num("depth", deepest);
    e2e_write(1, "done\n");
    return 0;
}

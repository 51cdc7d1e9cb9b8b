/* Two threads with 256 KiB stacks (pthread_attr_setstacksize), one after the other:
 *
 *   shallow: allocates once and returns: it uses a few pages of its stack.
 *   deep:    allocates once, then recurses with 1 KiB frames until its stack pointer is 95% of
 *            the stack below the top (the bounds from pthread_getattr_np), touching every frame.
 *
 * The shallow thread runs first, so that the deep one may reuse its stack (glibc caches
 * stacks) but not the other way round. Each prints "<name> <tid>", then "size <bytes>" and
 * "reached <bytes from the top>"; exit status 0. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "e2e-prog.h"

#define STACK_SIZE (256 * 1024)

static uintptr_t top, target;
static uintptr_t reached;

NOINLINE int down(int depth)
{
    volatile char frame[1024];
    frame[0] = (char)depth;
    frame[sizeof(frame) - 1] = (char)depth;
    uintptr_t sp = (uintptr_t)&frame[0];
    if (top - sp >= target) {
        reached = top - sp;
        return depth;
    }
    return down(depth + 1) + frame[0] - frame[sizeof(frame) - 1];
}

NOINLINE void *shallow(void *arg)
{
    (void)arg;
    free(malloc(16));
    e2e_say_num("shallow", syscall(SYS_gettid));
    return NULL;
}

NOINLINE void *deep(void *arg)
{
    (void)arg;
    free(malloc(16));
    pthread_attr_t attr;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0 ||
        pthread_attr_getstack(&attr, &lo, &size) != 0)
        return (void *)1;
    pthread_attr_destroy(&attr);
    top = (uintptr_t)lo + size;
    target = size / 100 * 95;
    down(0);
    e2e_say_num("deep", syscall(SYS_gettid));
    e2e_say_num("size", (long)size);
    e2e_say_num("reached", (long)reached);
    return NULL;
}

static int run(void *(*fn)(void *))
{
    pthread_attr_t attr;
    pthread_t t;
    void *ret = NULL;
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, STACK_SIZE) != 0)
        return 3;
    int err = pthread_create(&t, &attr, fn, NULL);
    pthread_attr_destroy(&attr);
    if (err != 0 || pthread_join(t, &ret) != 0 || ret)
        return 4;
    return 0;
}

int main(void)
{
    int r = run(shallow);
    if (!r)
        r = run(deep);
    return r;
}

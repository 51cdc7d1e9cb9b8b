/* Leak classes with threads: three workers keep 4 blocks of 256 bytes each on their own stacks
 * and drop 2 blocks of 64 bytes, then block until the process exits; a fourth thread stores 3
 * blocks of 128 bytes in a global, drops one of 48 bytes and ends. The workers allocate from
 * the C library's per-thread arenas, which the scan must not take for roots. Expected:
 *   definitely lost  7 blocks, 432 bytes (3 x 2 x 64 + 48)
 *   still reachable 15 blocks, 3,456 bytes (3 x 4 x 256 + 3 x 128)
 * plus what the C library keeps for each thread (its thread-local storage vector). */
#include <semaphore.h>

#include "e2e-prog.h"

#define WORKERS 3

static sem_t ready, never;
static void *global_keep[3];

static NOINLINE void drop_two(void)
{
    for (int i = 0; i < 2; i++) {
        void *volatile p = calloc(1, 64);
        (void)p;
    }
}

/* Drops the blocks below a deep frame: what the thread calls later (sem_wait) cannot reach the
 * dead slots that held their addresses, and the scan reads a blocked thread's stack only above
 * its stack pointer. (A conservative scan cannot know that a slot of a live frame is stale;
 * memcheck can.) */
static NOINLINE void drop_deep(void)
{
    volatile char pad[4096];
    pad[0] = 0;
    drop_two();
    (void)pad[0];
}

static void *worker(void *arg)
{
    (void)arg;
    void *volatile kept[4];
    for (int i = 0; i < 4; i++)
        kept[i] = calloc(1, 256);
    drop_deep();
    sem_post(&ready);
    while (sem_wait(&never) != 0)
        ;
    return (void *)kept[0];
}

static NOINLINE void drop_one(void)
{
    void *volatile p = calloc(1, 48);
    (void)p;
}

static void *finisher(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        global_keep[i] = calloc(1, 128);
    drop_one();
    return NULL;
}

int main(void)
{
    pthread_t t[WORKERS + 1];
    sem_init(&ready, 0, 0);
    sem_init(&never, 0, 0);
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < WORKERS; i++)
        while (sem_wait(&ready) != 0)
            ;
    pthread_create(&t[WORKERS], NULL, finisher, NULL);
    pthread_join(t[WORKERS], NULL);
    e2e_write(1, "leak_threads done\n");
    return 0;
}

/* Four producer threads each allocate 1000 blocks of 32 B and pass them through a queue to one
 * consumer thread, which frees them all. Each thread prints its kernel thread id, so the test
 * can find it in the report. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "e2e-prog.h"

#define PRODUCERS 4
#define PER_PRODUCER 1000
#define QUEUE_CAP 64

static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void *items[QUEUE_CAP];
    size_t head, len;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0};

static void queue_put(void *p)
{
    pthread_mutex_lock(&q.lock);
    while (q.len == QUEUE_CAP)
        pthread_cond_wait(&q.not_full, &q.lock);
    q.items[(q.head + q.len++) % QUEUE_CAP] = p;
    pthread_cond_signal(&q.not_empty);
    pthread_mutex_unlock(&q.lock);
}

static void *queue_get(void)
{
    pthread_mutex_lock(&q.lock);
    while (q.len == 0)
        pthread_cond_wait(&q.not_empty, &q.lock);
    void *p = q.items[q.head];
    q.head = (q.head + 1) % QUEUE_CAP;
    q.len--;
    pthread_cond_signal(&q.not_full);
    pthread_mutex_unlock(&q.lock);
    return p;
}

NOINLINE void *producer(void *arg)
{
    (void)arg;
    e2e_say_num("producer", (long)syscall(SYS_gettid));
    for (int i = 0; i < PER_PRODUCER; i++) {
        void *p = malloc(32); /* @PRODUCE */
        if (!p)
            _exit(3);
        queue_put(p);
    }
    return NULL;
}

NOINLINE void *consumer(void *arg)
{
    (void)arg;
    e2e_say_num("consumer", (long)syscall(SYS_gettid));
    for (int i = 0; i < PRODUCERS * PER_PRODUCER; i++)
        free(queue_get());
    return NULL;
}

int main(void)
{
    pthread_t prod[PRODUCERS], cons;
    if (pthread_create(&cons, NULL, consumer, NULL) != 0)
        return 3;
    for (int i = 0; i < PRODUCERS; i++)
        if (pthread_create(&prod[i], NULL, producer, NULL) != 0)
            return 3;
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(prod[i], NULL);
    pthread_join(cons, NULL);
    e2e_write(1, "threads done\n");
    return 0;
}

/* A churn-like workload: many short-lived objects of one size (messages of a queue), made and
 * dropped in bursts. With --pool they come from a vt_pool; without, from malloc and free.
 *
 *   pool_churn [--pool] [ROUNDS [BURST]]     (defaults: 2000 rounds of bursts up to 500)
 *
 * Under vitals the difference shows as allocation calls:
 *   build/vitals run -o plain.vtr -- build/examples/pool_churn
 *   build/vitals run -o pooled.vtr -- build/examples/pool_churn --pool
 *   build/vitals report pooled.vtr --format json       (heap.alloc_calls) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vitals.h>

struct message {
    uint64_t id;
    uint32_t kind, len;
    char body[48];
};

static void reset_message(void *object, void *user)
{
    (void)user;
    memset(object, 0, sizeof(struct message));
}

int main(int argc, char **argv)
{
    int use_pool = argc > 1 && !strcmp(argv[1], "--pool");
    int arg = 1 + use_pool;
    long rounds = argc > arg ? atol(argv[arg]) : 2000;
    long burst = argc > arg + 1 ? atol(argv[arg + 1]) : 500;
    if (rounds <= 0 || burst <= 0) {
        fprintf(stderr, "usage: pool_churn [--pool] [ROUNDS [BURST]]\n");
        return 2;
    }
    vt_pool *pool = NULL;
    if (use_pool) {
        pool = vt_pool_new("messages", sizeof(struct message), 64, 0, reset_message, NULL);
        if (!pool) {
            fprintf(stderr, "pool_churn: cannot make the pool: out of memory\n");
            return 1;
        }
    }
    struct message **live = calloc((size_t)burst, sizeof(*live));
    if (!live)
        return 1;
    uint64_t next_id = 0, checksum = 0;
    uint32_t rnd = 12345;
    for (long r = 0; r < rounds; r++) {
        rnd = rnd * 1103515245u + 12345u;
        long n = 1 + (long)(rnd >> 8) % burst;
        for (long i = 0; i < n; i++) {
            struct message *m = pool ? vt_pool_acquire(pool) : calloc(1, sizeof(struct message));
            if (!m)
                return 1;
            m->id = next_id++;
            m->kind = (uint32_t)(m->id % 7);
            m->len = (uint32_t)snprintf(m->body, sizeof(m->body), "message %llu",
                                        (unsigned long long)m->id);
            live[i] = m;
        }
        for (long i = 0; i < n; i++) {
            checksum += live[i]->id * live[i]->kind + live[i]->len;
            if (pool)
                vt_pool_release(pool, live[i]);
            else
                free(live[i]);
        }
    }
    if (pool) {
        struct vt_pool_stats st;
        vt_pool_stats(pool, &st);
        printf("pool '%s': %llu acquires, %llu objects made, %.1f%% reused, high water %llu\n",
               st.name, (unsigned long long)st.acquires, (unsigned long long)st.created,
               100.0 * st.reuse_ratio, (unsigned long long)st.high_water);
        vt_pool_free(pool);
    }
    printf("%llu messages, checksum %llu\n", (unsigned long long)next_id,
           (unsigned long long)checksum);
    free(live);
    return 0;
}

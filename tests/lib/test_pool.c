/* vt_pool: reset, exact statistics, max, per-thread magazines under threads, the registry. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib-int.h"

struct resets {
    int calls;
    unsigned char fill;
};

static void reset_fill(void *object, void *user)
{
    struct resets *r = user;
    r->calls++;
    memset(object, r->fill, 40);
}

static struct vt_pool_stats stats(vt_pool *p)
{
    struct vt_pool_stats s;
    assert_int_equal(vt_pool_stats(p, &s), 0);
    return s;
}

static void test_new_objects_zero_and_aligned(void **state)
{
    (void)state;
    vt_pool *p = vt_pool_new("zero", 40, 0, 0, NULL, NULL);
    assert_non_null(p);
    for (int i = 0; i < 100; i++) {
        unsigned char *o = vt_pool_acquire(p);
        assert_non_null(o);
        assert_int_equal((uintptr_t)o % 16, 0);
        for (int j = 0; j < 40; j++)
            assert_int_equal(o[j], 0);
        memset(o, 0xff, 40);
    }
    vt_pool_free(p);
    vt_pool_free(NULL);
}

static void test_reset_called(void **state)
{
    (void)state;
    struct resets r = {0, 0xab};
    vt_pool *p = vt_pool_new("reset", 40, 0, 0, reset_fill, &r);
    void *objs[10];
    for (int i = 0; i < 10; i++)
        objs[i] = vt_pool_acquire(p);
    assert_int_equal(r.calls, 0);
    for (int i = 0; i < 10; i++)
        vt_pool_release(p, objs[i]);
    vt_pool_release(p, NULL);
    assert_int_equal(r.calls, 10);
    for (int i = 0; i < 10; i++) {
        unsigned char *o = vt_pool_acquire(p);
        for (int j = 0; j < 40; j++)
            assert_int_equal(o[j], 0xab);
    }
    struct vt_pool_stats s = stats(p);
    assert_int_equal(s.reused, 10);
    vt_pool_free(p);
}

static void test_stats_exact(void **state)
{
    (void)state;
    vt_pool *p = vt_pool_new("exact", 24, 0, 0, NULL, NULL);
    void *objs[130];
    for (int i = 0; i < 100; i++)
        objs[i] = vt_pool_acquire(p);
    for (int i = 0; i < 50; i++)
        vt_pool_release(p, objs[i]);
    struct vt_pool_stats s = stats(p);
    assert_string_equal(s.name, "exact");
    assert_int_equal(s.object_size, 24);
    assert_int_equal(s.acquires, 100);
    assert_int_equal(s.served_pool, 100);
    assert_int_equal(s.served_malloc, 0);
    assert_int_equal(s.releases, 50);
    assert_int_equal(s.in_use, 50);
    assert_int_equal(s.high_water, 100);
    assert_int_equal(s.reused, 0);
    assert_true(s.created >= 100 && s.created <= 200);
    for (int i = 0; i < 30; i++)
        objs[i] = vt_pool_acquire(p);
    s = stats(p);
    assert_int_equal(s.acquires, 130);
    assert_int_equal(s.reused, 30);
    assert_int_equal(s.in_use, 80);
    assert_int_equal(s.high_water, 100);
    assert_true(s.reuse_ratio > 30.0 / 130 - 1e-9 && s.reuse_ratio < 30.0 / 130 + 1e-9);
    vt_pool_free(p);
}

static void test_initial_and_max(void **state)
{
    (void)state;
    assert_null(vt_pool_new("bad", 8, 11, 10, NULL, NULL));
    assert_null(vt_pool_new("bad", 0, 0, 0, NULL, NULL));
    vt_pool *p = vt_pool_new("max", 8, 4, 10, NULL, NULL);
    assert_int_equal(stats(p).created, 4);
    void *objs[25];
    for (int i = 0; i < 25; i++)
        objs[i] = vt_pool_acquire(p);
    struct vt_pool_stats s = stats(p);
    assert_int_equal(s.created, 10);
    assert_int_equal(s.served_pool, 10);
    assert_int_equal(s.served_malloc, 15);
    assert_int_equal(s.in_use, 25);
    assert_int_equal(s.high_water, 25);
    for (int i = 0; i < 25; i++)
        vt_pool_release(p, objs[i]);
    s = stats(p);
    assert_int_equal(s.in_use, 0);
    for (int i = 0; i < 10; i++)
        objs[i] = vt_pool_acquire(p);
    s = stats(p);
    assert_int_equal(s.created, 10);
    assert_int_equal(s.served_malloc, 15);
    assert_int_equal(s.reused, 10);
    for (int i = 0; i < 10; i++)
        vt_pool_release(p, objs[i]);
    vt_pool_free(p);
}

/* 4 threads, 100k operations each, against a pool whose max is below what they hold at once,
 * so that magazines, the shared list, new slabs and malloc all serve. Each object carries its
 * holder's mark, checked at release: no object is ever handed out twice. */
#define THREADS 4
#define OPS 100000
#define HELD 96

struct worker {
    vt_pool *pool;
    unsigned id;
    uint64_t acquires, releases;
    void *leftover[HELD];
    unsigned n_leftover;
};

/* The workers start together, so that they do run at the same time. */
static pthread_barrier_t start;

static void *work(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&start);
    void *held[HELD];
    unsigned n = 0;
    uint64_t rnd = 0x9e3779b97f4a7c15ULL * (w->id + 1);
    for (int i = 0; i < OPS; i++) {
        rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
        if (n < HELD && (n == 0 || rnd % 2)) {
            uint64_t *o = vt_pool_acquire(w->pool);
            assert_non_null(o);
            assert_int_equal(o[0], 0); /* new or reset */
            o[0] = w->id + 1;
            o[1] = (uint64_t)i;
            held[n++] = o;
            w->acquires++;
        } else {
            unsigned k = (unsigned)(rnd >> 32) % n;
            uint64_t *o = held[k];
            assert_int_equal(o[0], w->id + 1);
            held[k] = held[--n];
            vt_pool_release(w->pool, o);
            w->releases++;
        }
    }
    /* Half of what is still held is released by the main thread. */
    while (n > HELD / 2) {
        vt_pool_release(w->pool, held[--n]);
        w->releases++;
    }
    memcpy(w->leftover, held, n * sizeof(held[0]));
    w->n_leftover = n;
    return NULL;
}

static void reset_first_words(void *object, void *user)
{
    (void)user;
    memset(object, 0, 16);
}

static void test_threads_exact(void **state)
{
    (void)state;
    vt_pool *p = vt_pool_new("threads", 48, 0, 300, reset_first_words, NULL);
    struct worker w[THREADS];
    pthread_t t[THREADS];
    pthread_barrier_init(&start, NULL, THREADS + 1);
    for (unsigned i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].pool = p;
        w[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    uint64_t acquires = 0, releases = 0;
    pthread_barrier_wait(&start);
    for (unsigned i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        acquires += w[i].acquires;
        releases += w[i].releases;
    }
    struct vt_pool_stats s = stats(p);
    assert_int_equal(s.acquires, acquires);
    assert_int_equal(s.releases, releases);
    assert_int_equal(s.served_pool + s.served_malloc, acquires);
    assert_int_equal(s.in_use, acquires - releases);
    assert_true(s.created <= 300);
    assert_true(s.high_water >= s.in_use &&
                s.high_water <= THREADS * (HELD + 64)); /* see vt_pool_acquire */
    for (unsigned i = 0; i < THREADS; i++) {
        for (unsigned k = 0; k < w[i].n_leftover; k++)
            vt_pool_release(p, w[i].leftover[k]);
        releases += w[i].n_leftover;
    }
    s = stats(p);
    assert_int_equal(s.releases, releases);
    assert_int_equal(s.in_use, 0);
    /* The exited threads gave their magazines back: every object the pool made is available
     * again without malloc. */
    uint64_t before = s.served_malloc, created = s.created;
    void **all = calloc(created, sizeof(*all));
    for (uint64_t i = 0; i < created; i++)
        all[i] = vt_pool_acquire(p);
    s = stats(p);
    assert_int_equal(s.served_malloc, before);
    assert_int_equal(s.created, created);
    for (uint64_t i = 0; i < created; i++)
        vt_pool_release(p, all[i]);
    free(all);
    vt_pool_free(p);
}

/* A thread still holding a magazine when the pool is freed frees it later, safely. */
struct parked {
    vt_pool *pool;
    pthread_mutex_t m;
    pthread_cond_t cv;
    int stage;
};

static void *park(void *arg)
{
    struct parked *pk = arg;
    vt_pool_release(pk->pool, vt_pool_acquire(pk->pool));
    pthread_mutex_lock(&pk->m);
    pk->stage = 1;
    pthread_cond_broadcast(&pk->cv);
    while (pk->stage != 2)
        pthread_cond_wait(&pk->cv, &pk->m);
    pthread_mutex_unlock(&pk->m);
    /* A new pool, maybe at the old one's address, gets a fresh magazine. */
    vt_pool *q = vt_pool_new("after", 16, 0, 0, NULL, NULL);
    void *o = vt_pool_acquire(q);
    vt_pool_release(q, o);
    struct vt_pool_stats s;
    vt_pool_stats(q, &s);
    assert_int_equal(s.acquires, 1);
    vt_pool_free(q);
    return NULL;
}

static void test_free_while_thread_holds_magazine(void **state)
{
    (void)state;
    struct parked pk = {vt_pool_new("parked", 16, 0, 0, NULL, NULL), PTHREAD_MUTEX_INITIALIZER,
                        PTHREAD_COND_INITIALIZER, 0};
    pthread_t t;
    pthread_create(&t, NULL, park, &pk);
    pthread_mutex_lock(&pk.m);
    while (pk.stage != 1)
        pthread_cond_wait(&pk.cv, &pk.m);
    vt_pool_free(pk.pool);
    pk.stage = 2;
    pthread_cond_broadcast(&pk.cv);
    pthread_mutex_unlock(&pk.m);
    pthread_join(t, NULL);
}

static void count_pool(vt_pool *pool, void *arg)
{
    struct vt_pool_stats s;
    vt_pool_stats(pool, &s);
    if (!strcmp(s.name, "registered"))
        ++*(int *)arg;
}

static void test_registry(void **state)
{
    (void)state;
    int seen = 0;
    size_t before = vt__lib_pools_foreach(count_pool, &seen);
    vt_pool *a = vt_pool_new("registered", 8, 0, 0, NULL, NULL);
    vt_pool *b = vt_pool_new("registered", 8, 0, 0, NULL, NULL);
    assert_int_equal(vt__lib_pools_foreach(count_pool, &seen), before + 2);
    assert_int_equal(seen, 2);
    vt_pool_free(a);
    seen = 0;
    assert_int_equal(vt__lib_pools_foreach(count_pool, &seen), before + 1);
    assert_int_equal(seen, 1);
    vt_pool_free(b);
    assert_int_equal(vt__lib_pools_foreach(count_pool, &seen), before);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_objects_zero_and_aligned),
        cmocka_unit_test(test_reset_called),
        cmocka_unit_test(test_stats_exact),
        cmocka_unit_test(test_initial_and_max),
        cmocka_unit_test(test_threads_exact),
        cmocka_unit_test(test_free_while_thread_holds_magazine),
        cmocka_unit_test(test_registry),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* vt_cache: TTL with an injected clock, LRU order, the byte budget against a reference model,
 * the compressed tier, the eviction callback, lookup timing, and threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib-int.h"

static uint64_t fake_now;

static uint64_t fake_clock(void *user)
{
    (void)user;
    return fake_now;
}

struct evicted {
    int evicted, expired;
    char last[32];
};

static void on_evict(const void *key, size_t key_len, size_t value_len, enum vt_cache_reason why,
                     void *user)
{
    struct evicted *ev = user;
    (void)value_len;
    if (why == VT_CACHE_EVICTED)
        ev->evicted++;
    else if (why == VT_CACHE_EXPIRED)
        ev->expired++;
    snprintf(ev->last, sizeof(ev->last), "%.*s", (int)key_len, (const char *)key);
}

static struct vt_cache_stats stats(vt_cache *c)
{
    struct vt_cache_stats s;
    assert_int_equal(vt_cache_stats(c, &s), 0);
    return s;
}

static int put_s(vt_cache *c, const char *k, const char *v, uint64_t ttl)
{
    return vt_cache_put(c, k, strlen(k), v, strlen(v), ttl);
}

/* The value of k as a string, or NULL on a miss. */
static const char *get_s(vt_cache *c, const char *k)
{
    static char buf[2048];
    size_t len = 0;
    if (vt_cache_get(c, k, strlen(k), buf, sizeof(buf) - 1, &len) != 0)
        return NULL;
    buf[len] = 0;
    return buf;
}

static void test_basics(void **state)
{
    (void)state;
    struct vt_cache_config cfg = {.name = "basics", .max_bytes = 1000};
    vt_cache *c = vt_cache_new(&cfg);
    assert_non_null(c);
    assert_int_equal(put_s(c, "a", "alpha", 0), 0);
    assert_int_equal(put_s(c, "b", "", 0), 0);
    assert_string_equal(get_s(c, "a"), "alpha");
    assert_string_equal(get_s(c, "b"), "");
    assert_null(get_s(c, "c"));
    /* A short buffer: the copy is cut, the length is whole. */
    char two[2];
    size_t len = 0;
    assert_int_equal(vt_cache_get(c, "a", 1, two, 2, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(two, "al", 2);
    assert_int_equal(put_s(c, "a", "again", 0), 0);
    assert_string_equal(get_s(c, "a"), "again");
    char big[1000];
    memset(big, 'x', sizeof(big));
    assert_int_equal(vt_cache_put(c, "big", 3, big, sizeof(big), 0), VT_ETOOBIG);
    assert_int_equal(vt_cache_put(c, "k", 0, "v", 1, 0), VT_EINVAL);
    assert_int_equal(vt_cache_remove(c, "a", 1), 0);
    assert_int_equal(vt_cache_remove(c, "a", 1), VT_ENOTFOUND);
    assert_null(get_s(c, "a"));
    vt_cache_clear(c);
    assert_null(get_s(c, "b"));
    struct vt_cache_stats s = stats(c);
    assert_string_equal(s.name, "basics");
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.bytes, 0);
    assert_int_equal(s.gets, 7);
    assert_int_equal(s.hits, 4);
    assert_int_equal(s.misses, 3);
    assert_int_equal(s.puts, 3);
    assert_true(s.hit_rate == 4.0 / 7);
    vt_cache_free(c);
    vt_cache_free(NULL);
    struct vt_cache_config bad = {.max_bytes = 0};
    assert_null(vt_cache_new(&bad));
    bad.max_bytes = 100;
    bad.lookup_sample = 3;
    assert_null(vt_cache_new(&bad));
}

static void test_ttl(void **state)
{
    (void)state;
    struct evicted ev = {0};
    struct vt_cache_config cfg = {.max_bytes = 4096,
                                  .default_ttl_ns = 1000,
                                  .now_fn = fake_clock,
                                  .on_evict = on_evict,
                                  .evict_user = &ev};
    fake_now = 5000;
    vt_cache *c = vt_cache_new(&cfg);
    assert_int_equal(put_s(c, "short", "1", 100), 0); /* expires at 5100 */
    assert_int_equal(put_s(c, "default", "2", 0), 0); /* 6000 */
    fake_now = 5099;
    assert_string_equal(get_s(c, "short"), "1");
    fake_now = 5100;
    assert_null(get_s(c, "short"));
    assert_int_equal(ev.expired, 1);
    assert_string_equal(ev.last, "short");
    assert_string_equal(get_s(c, "default"), "2");
    assert_int_equal(put_s(c, "x", "3", 10), 0);
    assert_int_equal(put_s(c, "y", "4", 10), 0);
    fake_now = 6000;
    assert_int_equal(vt_cache_clear_expired(c), 3);
    assert_int_equal(ev.expired, 4);
    struct vt_cache_stats s = stats(c);
    assert_int_equal(s.expirations, 4);
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.evictions, 0);
    vt_cache_free(c);
}

static void test_lru_order(void **state)
{
    (void)state;
    struct evicted ev = {0};
    /* Room for exactly three entries of a 1-byte key and a 10-byte value. */
    struct vt_cache_config cfg = {
        .max_bytes = 3 * (VT_CACHE_ENTRY_OVERHEAD + 11), .on_evict = on_evict, .evict_user = &ev};
    vt_cache *c = vt_cache_new(&cfg);
    put_s(c, "a", "0123456789", 0);
    put_s(c, "b", "0123456789", 0);
    put_s(c, "c", "0123456789", 0);
    assert_int_equal(stats(c).bytes, cfg.max_bytes);
    assert_int_equal(ev.evicted, 0);
    assert_non_null(get_s(c, "a")); /* order now a c b */
    put_s(c, "d", "0123456789", 0);
    assert_int_equal(ev.evicted, 1);
    assert_string_equal(ev.last, "b");
    put_s(c, "e", "0123456789", 0);
    assert_string_equal(ev.last, "c");
    put_s(c, "a", "0123456789", 0); /* a put refreshes too: order a e d */
    put_s(c, "f", "0123456789", 0);
    assert_string_equal(ev.last, "d");
    assert_null(get_s(c, "b"));
    assert_non_null(get_s(c, "a"));
    assert_non_null(get_s(c, "e"));
    assert_non_null(get_s(c, "f"));
    struct vt_cache_stats s = stats(c);
    assert_int_equal(s.evictions, 3);
    assert_int_equal(ev.evicted, 3);
    assert_int_equal(s.entries, 3);
    vt_cache_free(c);
}

/* The reference model: a plain array, LRU by a use stamp, the same charges. */
#define KEYS 48
#define MAX_VALUE 400

struct ref {
    int live;
    unsigned char value[MAX_VALUE];
    size_t len;
    uint64_t expires, stamp;
};

static void fill(unsigned char *v, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        /* Text-like bytes, so that the compressed tier has something to win. */
        v[i] = (unsigned char)("abcdefgh  \n"[(seed >> 33) % 11]);
    }
}

static uint64_t ref_charge(int k, const struct ref *r)
{
    char key[16];
    return VT_CACHE_ENTRY_OVERHEAD + (uint64_t)snprintf(key, sizeof(key), "key-%d", k) + r->len;
}

static void test_budget_against_model(void **state)
{
    (void)state;
    struct evicted ev = {0};
    struct vt_cache_config cfg = {
        .max_bytes = 4096, .now_fn = fake_clock, .on_evict = on_evict, .evict_user = &ev};
    vt_cache *c = vt_cache_new(&cfg);
    static struct ref ref[KEYS];
    memset(ref, 0, sizeof(ref));
    uint64_t stamp = 0, bytes = 0, entries = 0, evictions = 0, expirations = 0, hits = 0;
    uint64_t rnd = 42;
    fake_now = 1;
    for (int op = 0; op < 200000; op++) {
        rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
        int k = (int)(rnd % KEYS);
        unsigned what = (unsigned)(rnd >> 20) % 100;
        char key[16];
        size_t klen = (size_t)snprintf(key, sizeof(key), "key-%d", k);
        struct ref *r = &ref[k];
        fake_now += (rnd >> 40) % 3;
        if (what < 45) {
            struct ref nr = {.live = 1, .len = (rnd >> 8) % MAX_VALUE, .stamp = ++stamp};
            uint64_t ttl = (rnd >> 50) % 4 == 0 ? 1 + (rnd >> 52) % 200 : 0;
            nr.expires = ttl ? fake_now + ttl : 0;
            fill(nr.value, nr.len, rnd);
            assert_int_equal(vt_cache_put(c, key, klen, nr.value, nr.len, ttl), 0);
            if (r->live) {
                bytes -= ref_charge(k, r);
                entries--;
            }
            *r = nr;
            bytes += ref_charge(k, r);
            entries++;
            while (bytes > cfg.max_bytes) {
                int lru = -1;
                for (int i = 0; i < KEYS; i++) {
                    if (ref[i].live && (lru < 0 || ref[i].stamp < ref[lru].stamp))
                        lru = i;
                }
                if (ref[lru].expires && fake_now >= ref[lru].expires)
                    expirations++;
                else
                    evictions++;
                bytes -= ref_charge(lru, &ref[lru]);
                entries--;
                ref[lru].live = 0;
            }
        } else if (what < 90) {
            unsigned char buf[MAX_VALUE];
            size_t len = 0;
            int rc = vt_cache_get(c, key, klen, buf, sizeof(buf), &len);
            if (r->live && r->expires && fake_now >= r->expires) {
                r->live = 0;
                bytes -= ref_charge(k, r);
                entries--;
                expirations++;
            }
            if (r->live) {
                assert_int_equal(rc, 0);
                assert_int_equal(len, r->len);
                assert_memory_equal(buf, r->value, len);
                r->stamp = ++stamp;
                hits++;
            } else {
                assert_int_equal(rc, VT_ENOTFOUND);
            }
        } else if (what < 98) {
            int rc = vt_cache_remove(c, key, klen);
            assert_int_equal(rc, r->live ? 0 : VT_ENOTFOUND);
            if (r->live) {
                r->live = 0;
                bytes -= ref_charge(k, r);
                entries--;
            }
        } else {
            size_t n = 0;
            for (int i = 0; i < KEYS; i++) {
                if (ref[i].live && ref[i].expires && fake_now >= ref[i].expires) {
                    ref[i].live = 0;
                    bytes -= ref_charge(i, &ref[i]);
                    entries--;
                    n++;
                }
            }
            expirations += n;
            assert_int_equal(vt_cache_clear_expired(c), n);
        }
        struct vt_cache_stats s = stats(c);
        assert_true(s.bytes <= cfg.max_bytes);
        assert_int_equal(s.bytes, bytes);
        assert_int_equal(s.entries, entries);
        assert_int_equal(s.evictions, evictions);
        assert_int_equal(s.expirations, expirations);
        assert_int_equal(s.hits, hits);
        assert_int_equal(ev.evicted, evictions);
        assert_int_equal(ev.expired, expirations);
    }
    assert_true(evictions > 1000 && expirations > 100);
    vt_cache_free(c);
}

/* With a compressed tier, nothing a get returns is stale or wrong, and neither budget is ever
 * exceeded. */
static void randomized_truth(size_t max_bytes, size_t compressed_max_bytes, unsigned shards)
{
    struct vt_cache_config cfg = {.max_bytes = max_bytes,
                                  .compressed_max_bytes = compressed_max_bytes,
                                  .now_fn = fake_clock,
                                  .shards = shards};
    vt_cache *c = vt_cache_new(&cfg);
    assert_non_null(c);
    static struct ref truth[KEYS];
    memset(truth, 0, sizeof(truth));
    uint64_t rnd = 7;
    fake_now = 1;
    for (int op = 0; op < 100000; op++) {
        rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
        int k = (int)(rnd % KEYS);
        unsigned what = (unsigned)(rnd >> 20) % 100;
        char key[16];
        size_t klen = (size_t)snprintf(key, sizeof(key), "key-%d", k);
        struct ref *r = &truth[k];
        fake_now += (rnd >> 40) % 3;
        if (what < 45) {
            r->live = 1;
            r->len = (rnd >> 8) % MAX_VALUE;
            uint64_t ttl = (rnd >> 50) % 4 == 0 ? 1 + (rnd >> 52) % 200 : 0;
            r->expires = ttl ? fake_now + ttl : 0;
            fill(r->value, r->len, rnd);
            assert_int_equal(vt_cache_put(c, key, klen, r->value, r->len, ttl), 0);
        } else if (what < 95) {
            unsigned char buf[MAX_VALUE];
            size_t len = 0;
            if (vt_cache_get(c, key, klen, buf, sizeof(buf), &len) == 0) {
                assert_true(r->live);
                assert_true(!r->expires || fake_now < r->expires);
                assert_int_equal(len, r->len);
                assert_memory_equal(buf, r->value, len);
            }
        } else {
            vt_cache_remove(c, key, klen);
            r->live = 0;
        }
        struct vt_cache_stats s = stats(c);
        assert_true(s.bytes <= cfg.max_bytes);
        assert_true(s.bytes_compressed <= cfg.compressed_max_bytes);
    }
    struct vt_cache_stats s = stats(c);
    if (compressed_max_bytes) {
        assert_true(s.demotions > 1000);
        assert_true(s.hits_compressed > 1000);
    }
    assert_true(s.hits > 1000);
    assert_int_equal(s.gets, s.hits + s.misses);
    vt_cache_free(c);
}

static void test_two_tiers_randomized(void **state)
{
    (void)state;
    randomized_truth(3000, 2000, 1);
}

/* Shards: each keeps its share of both budgets, so the whole cache keeps its budgets. */
static void test_shards_randomized(void **state)
{
    (void)state;
    randomized_truth(4 * 1000, 4 * 700, 4);
    randomized_truth(8 * 1000, 0, 8);
    struct vt_cache_config cfg = {.max_bytes = 4 * 1000, .shards = 4};
    vt_cache *c = vt_cache_new(&cfg);
    char big[1000] = {0};
    /* An entry larger than a shard's budget does not fit. */
    assert_int_equal(vt_cache_put(c, "k", 1, big, 1000 - VT_CACHE_ENTRY_OVERHEAD, 0), VT_ETOOBIG);
    assert_int_equal(vt_cache_put(c, "k", 1, big, 1000 - VT_CACHE_ENTRY_OVERHEAD - 1, 0), 0);
    vt_cache_free(c);
    cfg.shards = 3;
    assert_null(vt_cache_new(&cfg));
    cfg.shards = 4;
    cfg.max_bytes = 4 * VT_CACHE_ENTRY_OVERHEAD;
    assert_null(vt_cache_new(&cfg));
}

static void test_compressed_tier(void **state)
{
    (void)state;
    struct evicted ev = {0};
    char v[3][1001];
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 1000; j++)
            v[i][j] = "the quick brown fox jumps "[(j + i) % 26];
        v[i][1000] = 0;
    }
    /* The main tier holds two such entries; the compressed tier, many. */
    struct vt_cache_config cfg = {.max_bytes = 2 * (VT_CACHE_ENTRY_OVERHEAD + 1001),
                                  .compressed_max_bytes = 1000,
                                  .on_evict = on_evict,
                                  .evict_user = &ev};
    vt_cache *c = vt_cache_new(&cfg);
    put_s(c, "a", v[0], 0);
    put_s(c, "b", v[1], 0);
    put_s(c, "c", v[2], 0); /* demotes a */
    struct vt_cache_stats s = stats(c);
    assert_int_equal(s.demotions, 1);
    assert_int_equal(s.entries, 2);
    assert_int_equal(s.entries_compressed, 1);
    assert_int_equal(s.raw_bytes_compressed, 1000);
    assert_true(s.compression_ratio > 5);
    assert_true(s.bytes_compressed < 200);
    assert_int_equal(ev.evicted, 0);
    assert_string_equal(get_s(c, "a"), v[0]); /* promotes a, demotes b */
    s = stats(c);
    assert_int_equal(s.hits_compressed, 1);
    assert_int_equal(s.demotions, 2);
    assert_int_equal(s.entries_compressed, 1);
    assert_string_equal(get_s(c, "b"), v[1]);
    assert_string_equal(get_s(c, "c"), v[2]);
    s = stats(c); /* b came back from the compressed tier, and c, demoted by b, too */
    assert_int_equal(s.hits_compressed, 3);
    assert_int_equal(s.hits, 3);
    /* Incompressible values are kept raw in the compressed tier, if they fit. */
    unsigned char noise[300];
    fill(noise, sizeof(noise), 1);
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (unsigned char)(noise[i] * 31 + i * 97);
    vt_cache_clear(c);
    assert_int_equal(vt_cache_put(c, "n", 1, noise, sizeof(noise), 0), 0);
    put_s(c, "a", v[0], 0);
    put_s(c, "b", v[1], 0);
    s = stats(c);
    assert_int_equal(s.entries_compressed, 1);
    unsigned char back[300];
    size_t len = 0;
    assert_int_equal(vt_cache_get(c, "n", 1, back, sizeof(back), &len), 0);
    assert_int_equal(len, sizeof(noise));
    assert_memory_equal(back, noise, sizeof(noise));
    /* Filling the compressed tier evicts from it, through the callback. */
    char key[8];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        put_s(c, key, v[i % 3], 0);
    }
    s = stats(c);
    assert_true(s.evictions > 0);
    assert_int_equal(ev.evicted, s.evictions);
    assert_true(s.bytes_compressed <= 1000);
    vt_cache_free(c);
}

static void test_lookup_timing(void **state)
{
    (void)state;
    struct vt_cache_config cfg = {.max_bytes = 1 << 20, .lookup_sample = 1};
    vt_cache *c = vt_cache_new(&cfg);
    put_s(c, "a", "b", 0);
    for (int i = 0; i < 1000; i++)
        get_s(c, i % 2 ? "a" : "z");
    struct vt_cache_stats s = stats(c);
    assert_int_equal(s.timed_gets, 1000);
    assert_true(s.lookup_avg_ns > 0);
    assert_true(s.lookup_p99_ns > 0);
    assert_true(s.hit_rate == 0.5);
    vt_cache_free(c);
    cfg.lookup_sample = 0; /* the default: one in 16 */
    c = vt_cache_new(&cfg);
    for (int i = 0; i < 1600; i++)
        get_s(c, "z");
    assert_int_equal(stats(c).timed_gets, 100);
    vt_cache_free(c);
}

static void count_cache(vt_cache *cache, void *arg)
{
    (void)cache;
    ++*(int *)arg;
}

static void test_registry(void **state)
{
    (void)state;
    int n = 0;
    size_t before = vt__lib_caches_foreach(count_cache, &n);
    struct vt_cache_config cfg = {.max_bytes = 100};
    vt_cache *c = vt_cache_new(&cfg);
    assert_int_equal(vt__lib_caches_foreach(count_cache, &n), before + 1);
    vt_cache_free(c);
    assert_int_equal(vt__lib_caches_foreach(count_cache, &n), before);
}

/* 4 threads, 100k operations each, on one two-tier cache; the totals add up. */
#define THREADS 4
#define OPS 100000

struct worker {
    vt_cache *cache;
    unsigned id;
    uint64_t gets, puts;
};

/* The workers start together, so that they do run at the same time. */
static pthread_barrier_t start;

static void *work(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&start);
    uint64_t rnd = 0x9e3779b97f4a7c15ULL * (w->id + 1);
    unsigned char value[256], buf[256];
    for (int i = 0; i < OPS; i++) {
        rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
        char key[16];
        unsigned k = (unsigned)(rnd % 500);
        size_t klen = (size_t)snprintf(key, sizeof(key), "k%u", k);
        if ((rnd >> 32) % 4 == 0) {
            /* The value is a function of the key: any thread's put is the right one. */
            size_t len = 16 + k % 200;
            fill(value, len, k);
            assert_int_equal(vt_cache_put(w->cache, key, klen, value, len, 0), 0);
            w->puts++;
        } else {
            size_t len = 0;
            if (vt_cache_get(w->cache, key, klen, buf, sizeof(buf), &len) == 0) {
                fill(value, len, k);
                assert_int_equal(len, 16 + k % 200);
                assert_memory_equal(buf, value, len);
            }
            w->gets++;
        }
    }
    return NULL;
}

static void threads_on(unsigned shards)
{
    struct vt_cache_config cfg = {
        .max_bytes = 20000, .compressed_max_bytes = 10000, .shards = shards};
    vt_cache *c = vt_cache_new(&cfg);
    struct worker w[THREADS];
    pthread_t t[THREADS];
    pthread_barrier_init(&start, NULL, THREADS + 1);
    for (unsigned i = 0; i < THREADS; i++) {
        w[i] = (struct worker){c, i, 0, 0};
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    uint64_t gets = 0, puts = 0;
    pthread_barrier_wait(&start);
    for (unsigned i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        gets += w[i].gets;
        puts += w[i].puts;
    }
    struct vt_cache_stats s = stats(c);
    assert_int_equal(s.gets, gets);
    assert_int_equal(s.puts, puts);
    assert_int_equal(s.hits + s.misses, gets);
    assert_true(s.bytes <= cfg.max_bytes);
    assert_true(s.bytes_compressed <= cfg.compressed_max_bytes);
    assert_true(s.hits_compressed > 0);
    vt_cache_free(c);
    pthread_barrier_destroy(&start);
}

static void test_threads(void **state)
{
    (void)state;
    threads_on(1);
}

static void test_threads_shards(void **state)
{
    (void)state;
    threads_on(8);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_lru_order),
        cmocka_unit_test(test_budget_against_model),
        cmocka_unit_test(test_two_tiers_randomized),
        cmocka_unit_test(test_shards_randomized),
        cmocka_unit_test(test_compressed_tier),
        cmocka_unit_test(test_lookup_timing),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_threads_shards),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Benchmarks of libvitals' pool and cache (see bench/lib.sh and docs/BENCHMARKS.md). Each
 * measurement is repeated RUNS times with clock_gettime(CLOCK_MONOTONIC) and the median printed
 * as a Markdown table row.
 *
 *   lib_bench pool  RUNS     acquire/release against malloc/free, 1 and 2 threads
 *   lib_bench cache RUNS     gets per second, 1 and 2 threads, 1 and 8 shards
 *   lib_bench zipf  RUNS     hit rate on a Zipf workload: plain LRU against two tiers
 *   lib_bench text  RUNS     memory held by the compressed tier for text values */
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vitals.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* Pool: each thread holds a window of BATCH objects and replaces one at random each step, as a
 * program with many short-lived objects does. One step is one acquire and one release (or one
 * malloc and one free). */
#define POOL_OPS 20000000L
#define BATCH 64
#define OBJ 64

struct pool_arg {
    vt_pool *pool; /* NULL: malloc */
    long ops;
    uint64_t seed;
    pthread_barrier_t *go;
};

static void *pool_worker(void *p)
{
    struct pool_arg *a = p;
    void *held[BATCH];
    for (int i = 0; i < BATCH; i++)
        held[i] = a->pool ? vt_pool_acquire(a->pool) : malloc(OBJ);
    pthread_barrier_wait(a->go);
    for (long i = 0; i < a->ops; i++) {
        unsigned k = (unsigned)(xorshift(&a->seed) % BATCH);
        if (a->pool) {
            vt_pool_release(a->pool, held[k]);
            held[k] = vt_pool_acquire(a->pool);
        } else {
            free(held[k]);
            held[k] = malloc(OBJ);
        }
        *(volatile char *)held[k] = 1;
    }
    for (int i = 0; i < BATCH; i++) {
        if (a->pool)
            vt_pool_release(a->pool, held[i]);
        else
            free(held[i]);
    }
    return NULL;
}

/* Runs the workers and returns the wall time of the measured loops. */
static double run_threads(void *(*fn)(void *), void *args, size_t arg_size, int threads,
                          pthread_barrier_t *go)
{
    pthread_t t[8];
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, fn, (char *)args + (size_t)i * arg_size);
    pthread_barrier_wait(go);
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return now_s() - t0;
}

static void bench_pool(int runs)
{
    printf("| threads | malloc/free ns per pair | pool acquire/release ns per pair | pool / "
           "malloc |\n| --- | --- | --- | --- |\n");
    for (int threads = 1; threads <= 2; threads++) {
        double ns[2][32];
        for (int r = 0; r < runs; r++) {
            for (int use_pool = 0; use_pool < 2; use_pool++) {
                vt_pool *pool = use_pool ? vt_pool_new("bench", OBJ, 0, 0, NULL, NULL) : NULL;
                pthread_barrier_t go;
                pthread_barrier_init(&go, NULL, (unsigned)threads + 1);
                struct pool_arg a[2];
                for (int i = 0; i < threads; i++)
                    a[i] =
                        (struct pool_arg){pool, POOL_OPS / threads, 88172645463325252ull + i, &go};
                double s = run_threads(pool_worker, a, sizeof(a[0]), threads, &go);
                /* Per thread: the threads run at once, so wall time / ops per thread. */
                ns[use_pool][r] = s * 1e9 / (double)(POOL_OPS / threads);
                pthread_barrier_destroy(&go);
                vt_pool_free(pool);
            }
        }
        double m = median(ns[0], runs), p = median(ns[1], runs);
        printf("| %d | %.1f | %.1f | %.2f |\n", threads, m, p, p / m);
    }
}

/* Cache: gets of keys that are all present, uniformly at random. */
#define CACHE_KEYS 10000
#define CACHE_OPS 4000000L

struct cache_arg {
    vt_cache *cache;
    long ops;
    uint64_t seed;
    pthread_barrier_t *go;
};

static void *cache_worker(void *p)
{
    struct cache_arg *a = p;
    char key[32], buf[128];
    pthread_barrier_wait(a->go);
    for (long i = 0; i < a->ops; i++) {
        unsigned k = (unsigned)(xorshift(&a->seed) % CACHE_KEYS);
        int n = snprintf(key, sizeof(key), "user:%08u", k);
        size_t len;
        if (vt_cache_get(a->cache, key, (size_t)n, buf, sizeof(buf), &len) != 0)
            abort();
    }
    return NULL;
}

static void bench_cache(int runs)
{
    printf("| shards | threads | gets per second (all threads) | mean get ns (sampled) | p99 get "
           "ns (sampled) |\n| --- | --- | --- | --- | --- |\n");
    for (unsigned shards = 1; shards <= 8; shards *= 8) {
        for (int threads = 1; threads <= 2; threads++) {
            double rate[32], avg[32], p99[32];
            for (int r = 0; r < runs; r++) {
                struct vt_cache_config cfg = {
                    .name = "bench", .max_bytes = 64u << 20, .shards = shards};
                vt_cache *c = vt_cache_new(&cfg);
                char key[32], value[100];
                memset(value, 'v', sizeof(value));
                for (unsigned k = 0; k < CACHE_KEYS; k++) {
                    int n = snprintf(key, sizeof(key), "user:%08u", k);
                    vt_cache_put(c, key, (size_t)n, value, sizeof(value), 0);
                }
                pthread_barrier_t go;
                pthread_barrier_init(&go, NULL, (unsigned)threads + 1);
                struct cache_arg a[2];
                for (int i = 0; i < threads; i++)
                    a[i] = (struct cache_arg){c, CACHE_OPS / threads, 1234567u + i, &go};
                double s = run_threads(cache_worker, a, sizeof(a[0]), threads, &go);
                rate[r] = (double)(CACHE_OPS / threads * threads) / s;
                struct vt_cache_stats st;
                vt_cache_stats(c, &st);
                avg[r] = st.lookup_avg_ns;
                p99[r] = st.lookup_p99_ns;
                pthread_barrier_destroy(&go);
                vt_cache_free(c);
            }
            printf("| %u | %d | %.2f M | %.0f | %.0f |\n", shards, threads,
                   median(rate, runs) / 1e6, median(avg, runs), median(p99, runs));
        }
    }
}

/* Text-like values: words drawn from a small vocabulary with skewed frequencies. */
static const char *const words[] = {
    "the",     "of",      "and",     "to",      "in",       "a",         "is",     "that",
    "for",     "it",      "as",      "was",     "with",     "be",        "by",     "on",
    "not",     "he",      "this",    "are",     "or",       "his",       "from",   "at",
    "which",   "but",     "have",    "an",      "had",      "they",      "you",    "were",
    "their",   "one",     "all",     "we",      "can",      "her",       "has",    "there",
    "been",    "if",      "more",    "when",    "will",     "would",     "who",    "so",
    "memory",  "request", "server",  "session", "customer", "order",     "status", "pending",
    "shipped", "account", "balance", "profile", "address",  "timestamp", "region", "error"};

static size_t make_text(char *out, size_t len, uint64_t seed)
{
    size_t n = 0;
    const size_t nw = sizeof(words) / sizeof(words[0]);
    while (n < len) {
        uint64_t r = xorshift(&seed);
        /* Squaring a uniform number favours the first words. */
        double u = (double)(r >> 11) / 9007199254740992.0;
        const char *w = words[(size_t)(u * u * (double)nw)];
        size_t wl = strlen(w);
        for (size_t i = 0; i < wl && n < len; i++)
            out[n++] = w[i];
        if (n < len)
            out[n++] = (r & 0xf) == 0 ? '\n' : ' ';
    }
    return len;
}

/* Zipf: keys 0..n-1 with P(k) proportional to 1 / (k + 1)^s, sampled through the CDF. */
struct zipf {
    double *cdf;
    unsigned n;
};

static void zipf_init(struct zipf *z, unsigned n, double s)
{
    z->n = n;
    z->cdf = malloc(n * sizeof(double));
    double sum = 0;
    for (unsigned k = 0; k < n; k++)
        z->cdf[k] = sum += 1.0 / pow(k + 1.0, s);
    for (unsigned k = 0; k < n; k++)
        z->cdf[k] /= sum;
}

static unsigned zipf_next(const struct zipf *z, uint64_t *seed)
{
    double u = (double)(xorshift(seed) >> 11) / 9007199254740992.0;
    unsigned lo = 0, hi = z->n - 1;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (z->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#define ZIPF_KEYS 100000
#define ZIPF_OPS 2000000L
#define ZIPF_BUDGET (8u << 20)

/* Value of key k: 200 to 1200 bytes of text, the same every time. */
static size_t value_of(unsigned k, char *buf)
{
    size_t len = 200 + (size_t)(k * 2654435761u % 1001);
    return make_text(buf, len, 0x9e3779b97f4a7c15ULL ^ ((uint64_t)k * 0x100000001b3ULL));
}

static void bench_zipf(int runs)
{
    struct zipf z;
    zipf_init(&z, ZIPF_KEYS, 0.99);
    const struct {
        const char *name;
        size_t main, compressed;
    } setups[] = {
        {"plain LRU, 8 MiB", ZIPF_BUDGET, 0},
        {"two tiers, 6 + 2 MiB", ZIPF_BUDGET / 4 * 3, ZIPF_BUDGET / 4},
        {"two tiers, 4 + 4 MiB", ZIPF_BUDGET / 2, ZIPF_BUDGET / 2},
    };
    printf("| cache (budget 8 MiB in all) | hit rate | of which compressed tier | entries held | "
           "ops per second | get p99 ns |\n| --- | --- | --- | --- | --- | --- |\n");
    char value[1300], buf[1300];
    for (size_t s = 0; s < sizeof(setups) / sizeof(setups[0]); s++) {
        double hit[32], rate[32], held[32], fromz[32], p99[32];
        for (int r = 0; r < runs; r++) {
            struct vt_cache_config cfg = {.max_bytes = setups[s].main,
                                          .compressed_max_bytes = setups[s].compressed};
            vt_cache *c = vt_cache_new(&cfg);
            uint64_t seed = 42 + (uint64_t)r;
            /* Warm up with one pass of the workload, then measure a second. */
            for (int pass = 0; pass < 2; pass++) {
                struct vt_cache_stats before;
                vt_cache_stats(c, &before);
                double t0 = now_s();
                for (long i = 0; i < ZIPF_OPS; i++) {
                    unsigned k = zipf_next(&z, &seed);
                    char key[16];
                    int n = snprintf(key, sizeof(key), "k%u", k);
                    size_t len;
                    if (vt_cache_get(c, key, (size_t)n, buf, sizeof(buf), &len) != 0) {
                        size_t vl = value_of(k, value);
                        vt_cache_put(c, key, (size_t)n, value, vl, 0);
                    }
                }
                double t = now_s() - t0;
                struct vt_cache_stats st;
                vt_cache_stats(c, &st);
                if (pass == 1) {
                    hit[r] = (double)(st.hits - before.hits) / (double)(st.gets - before.gets);
                    fromz[r] = (double)(st.hits_compressed - before.hits_compressed) /
                               (double)(st.gets - before.gets);
                    held[r] = (double)(st.entries + st.entries_compressed);
                    rate[r] = (double)ZIPF_OPS / t;
                    p99[r] = st.lookup_p99_ns;
                }
            }
            vt_cache_free(c);
        }
        printf("| %s | %.1f%% | %.1f%% | %.0f | %.2f M | %.0f |\n", setups[s].name,
               100 * median(hit, runs), 100 * median(fromz, runs), median(held, runs),
               median(rate, runs) / 1e6, median(p99, runs));
    }
    free(z.cdf);
}

/* Text: 20,000 values of 200 to 1200 bytes, held by a plain cache and by a two-tier cache whose
 * main tier holds almost nothing; what each holds is counted by the cache and by malloc. */
#define TEXT_KEYS 20000

static void bench_text(int runs)
{
    printf("| cache | entries held | value bytes held | bytes charged | heap in use (mallinfo2) "
           "| compression ratio |\n| --- | --- | --- | --- | --- | --- |\n");
    char value[1300], key[16];
    for (int tiered = 0; tiered < 2; tiered++) {
        double entries[32], charged[32], heap[32], raw[32], ratio[32];
        for (int r = 0; r < runs; r++) {
            size_t before = mallinfo2().uordblks;
            struct vt_cache_config cfg = {.max_bytes = tiered ? 64u << 10 : 256u << 20,
                                          .compressed_max_bytes = tiered ? 256u << 20 : 0};
            vt_cache *c = vt_cache_new(&cfg);
            size_t value_bytes = 0;
            for (unsigned k = 0; k < TEXT_KEYS; k++) {
                int n = snprintf(key, sizeof(key), "k%u", k);
                size_t vl = value_of(k, value);
                value_bytes += vl;
                vt_cache_put(c, key, (size_t)n, value, vl, 0);
            }
            struct vt_cache_stats st;
            vt_cache_stats(c, &st);
            entries[r] = (double)(st.entries + st.entries_compressed);
            charged[r] = (double)(st.bytes + st.bytes_compressed);
            raw[r] = (double)value_bytes;
            ratio[r] = st.compression_ratio;
            heap[r] = (double)(mallinfo2().uordblks - before);
            vt_cache_free(c);
        }
        printf("| %s | %.0f | %.1f MiB | %.1f MiB | %.1f MiB | %.2f |\n",
               tiered ? "two tiers (64 KiB + compressed)" : "plain", median(entries, runs),
               median(raw, runs) / 1048576, median(charged, runs) / 1048576,
               median(heap, runs) / 1048576, median(ratio, runs));
    }
}

int main(int argc, char **argv)
{
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (argc < 2 || runs < 1 || runs > 32) {
        fprintf(stderr, "usage: lib_bench pool|cache|zipf|text [RUNS (1-32)]\n");
        return 2;
    }
    if (!strcmp(argv[1], "pool"))
        bench_pool(runs);
    else if (!strcmp(argv[1], "cache"))
        bench_cache(runs);
    else if (!strcmp(argv[1], "zipf"))
        bench_zipf(runs);
    else if (!strcmp(argv[1], "text"))
        bench_text(runs);
    else
        return 2;
    return 0;
}

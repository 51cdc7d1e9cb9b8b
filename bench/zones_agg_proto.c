/* The prototype that decided how zones are recorded (docs/BENCHMARKS.md, "Zones aggregated in
 * the recording thread"): what a begin+end pair costs when the thread aggregates it (a zone
 * stack, a per-thread table of sites, calls, sums, least, greatest and the log-linear
 * histogram), against two rdtsc alone. Built twice: as a shared object (-DLIB, initial-exec
 * TLS, like the agent) and as the driver that calls it through function pointers, as
 * libvitals' inline functions call the agent:
 *
 *   gcc -O2 -fPIC -shared -DLIB -ftls-model=initial-exec -o libproto.so bench/zones_agg_proto.c
 *   gcc -O2 -pthread -o proto bench/zones_agg_proto.c -ldl
 *   ./proto ./libproto.so VARIANT PAIRS THREADS    (prints ns of thread CPU time per pair)
 *
 * VARIANT: floor (two rdtsc, nothing else), agg (the aggregate), agg2 (the aggregate inside an
 * entry protocol like the agent's: recursion guard, in_hook flag, state and epoch checks),
 * aggb (the aggregate with the histogram counted BATCH durations at a time, as the agent does:
 * the bucket's address depends on the clock just read), aggnh (the aggregate without the
 * histogram). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

struct loc {
    const char *name;
};
typedef uint64_t (*begin_fn)(const struct loc *);
typedef void (*end_fn)(uint64_t, int);

#ifdef LIB
#define BATCH 16
#define SUB_BITS 5
#define SUB (1u << SUB_BITS)
#define BUCKETS ((64 - SUB_BITS + 1) * SUB)
static inline unsigned hidx(uint64_t v)
{
    if (v < SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned sub = (unsigned)(v >> (e - SUB_BITS)) & (SUB - 1);
    return (e - SUB_BITS + 1) * SUB + sub;
}
struct site {
    const void *loc;
    uint64_t calls, errors, sum, min, max, ref;
    int64_t dsum;
    double dsq;
    uint64_t first;
    uint32_t batched;
    uint64_t batch[BATCH];
    uint32_t hist[BUCKETS];
};
struct frame {
    struct site *s;
    uint64_t start;
};
struct zs {
    uint32_t depth;
    uint64_t deadline;
    struct frame stack[64];
    struct site *slot[64]; /* direct-mapped by loc hash */
    struct site sites[8];
    int nsites;
};
static __thread struct zs *me;
static __thread int guard;
static int state = 1;

static struct site *find(struct zs *z, const void *loc)
{
    unsigned h = (unsigned)(((uintptr_t)loc * 0x9E3779B97F4A7C15ull) >> 58);
    struct site *s = z->slot[h];
    if (__builtin_expect(s && s->loc == loc, 1))
        return s;
    s = &z->sites[z->nsites++];
    memset(s, 0, sizeof(*s));
    s->loc = loc;
    s->min = UINT64_MAX;
    z->slot[h] = s;
    return s;
}

__attribute__((noinline)) static void publish(struct zs *z, uint64_t now)
{
    z->deadline = now + 3000000;
}

static inline __attribute__((always_inline)) uint64_t agg_begin_i(const struct loc *loc)
{
    if (guard || state != 1)
        return 0;
    struct zs *z = me;
    if (__builtin_expect(!z, 0)) {
        z = me = aligned_alloc(64, (sizeof(struct zs) + 63) & ~63ul);
        memset(z, 0, sizeof(*z));
    }
    uint64_t t = __rdtsc();
    struct frame *f = &z->stack[z->depth++ & 63];
    f->s = find(z, loc);
    f->start = t;
    return t;
}

/* hist: 0 none, 1 each duration at once, 2 in batches */
static inline __attribute__((always_inline)) void agg_end_i(uint64_t start, int failed, int hist)
{
    if (guard || state != 1)
        return;
    struct zs *z = me;
    uint64_t t = __rdtsc();
    struct frame *f = &z->stack[--z->depth & 63];
    struct site *s = f->s;
    uint64_t d = t > f->start ? t - f->start : 0;
    (void)start;
    if (__builtin_expect(!s->calls, 0)) {
        s->ref = d;
        s->first = f->start;
    }
    s->calls++;
    s->errors += failed != 0;
    s->sum += d;
    s->min = d < s->min ? d : s->min;
    s->max = d > s->max ? d : s->max;
    int64_t x = (int64_t)(d - s->ref);
    s->dsum += x;
    s->dsq += (double)x * (double)x;
    if (hist == 1)
        s->hist[hidx(d)]++;
    if (hist == 2) {
        s->batch[s->batched] = d;
        if (__builtin_expect(++s->batched == BATCH, 0)) {
            for (unsigned i = 0; i < BATCH; i++)
                s->hist[hidx(s->batch[i])]++;
            s->batched = 0;
        }
    }
    if (__builtin_expect(t >= z->deadline, 0))
        publish(z, t);
}

static int epoch;

struct zs2 {
    int in_hook;
    int seen_epoch;
    int steal;
};
static __thread struct zs2 hk;
uint64_t agg2_begin(const struct loc *loc)
{
    if (guard || state != 1)
        return 0;
    hk.in_hook = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (state != 1 || hk.steal || hk.seen_epoch != epoch) {
        hk.in_hook = 0;
        guard = 0;
        return 0;
    }
    uint64_t r = agg_begin_i(loc);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    hk.in_hook = 0;
    guard = 0;
    return r;
}
void agg2_end(uint64_t start, int failed)
{
    if (guard || state != 1)
        return;
    hk.in_hook = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (state != 1 || hk.steal || hk.seen_epoch != epoch) {
        hk.in_hook = 0;
        guard = 0;
        return;
    }
    agg_end_i(start, failed, 1);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    hk.in_hook = 0;
    guard = 0;
}
uint64_t floor_begin(const struct loc *loc)
{
    (void)loc;
    if (guard || state != 1)
        return 0;
    return __rdtsc();
}

void floor_end(uint64_t start, int failed)
{
    if (guard || state != 1)
        return;
    uint64_t t = __rdtsc();
    __asm__ volatile("" ::"r"(t - start + (uint64_t)failed));
}
#else
static begin_fn B;
static end_fn E;
static long n_pairs;
static int recording = 1;
static const struct loc L = {"pair"};
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}
static void *pairs(void *arg)
{
    double *ns = arg;
    double t0 = now_ns();
    for (long i = 0; i < n_pairs; i++) {
        uint64_t s = 0;
        if (__builtin_expect(recording, 0))
            s = B(&L);
        __asm__ volatile("" ::: "memory");
        if (__builtin_expect(s != 0, 0))
            E(s, 0);
    }
    *ns = (now_ns() - t0) / (double)n_pairs;
    return NULL;
}
int main(int argc, char **argv)
{
    (void)argc;
    void *h = dlopen(argv[1], RTLD_NOW);
    const char *v = argv[2];
    char b[64], e[64];
    snprintf(b, sizeof b, "%s_begin", v);
    snprintf(e, sizeof e, "%s_end", v);
    B = (begin_fn)dlsym(h, b);
    E = (end_fn)dlsym(h, e);
    n_pairs = atol(argv[3]);
    int threads = atoi(argv[4]);
    pthread_t t[8];
    double ns[8], worst = 0;
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, pairs, &ns[i]);
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        worst = ns[i] > worst ? ns[i] : worst;
    }
    printf("%.2f\n", worst);
    return 0;
}
#endif
#ifdef LIB
uint64_t agg_begin(const struct loc *loc)
{
    return agg_begin_i(loc);
}
void agg_end(uint64_t s, int f)
{
    agg_end_i(s, f, 1);
}
uint64_t aggb_begin(const struct loc *loc)
{
    return agg_begin_i(loc);
}
void aggb_end(uint64_t s, int f)
{
    agg_end_i(s, f, 2);
}
uint64_t aggnh_begin(const struct loc *loc)
{
    return agg_begin_i(loc);
}
void aggnh_end(uint64_t s, int f)
{
    agg_end_i(s, f, 0);
}
#endif

/* Allocation from a signal handler while the agent is busy: SIGALRM arrives every 200 us
 * (setitimer) and its handler allocates, reallocates and frees in a loop, while the main
 * thread and two more each make ITERATIONS rounds of malloc/realloc/free.
 *
 * glibc's malloc is not async-signal-safe, so the program is careful that it could never
 * deadlock without vitals: each thread flags the time it spends in an allocation function;
 * a signal that lands there only takes blocks of two sizes of its own from glibc's primed
 * per-thread cache (lock-free, see e2e_prime_tcache) and gives them back, also through
 * realloc(NULL, n) and realloc(p, 0), and calls calloc with a size that overflows (refused
 * before any lock); a signal that lands elsewhere uses malloc, calloc, realloc and free
 * freely, with two other sizes. SIGALRM is blocked while threads start and end (glibc allocates
 * then).
 *
 * Output: "worker N sum S" for the three workers (S from the sizes alone), then "done"; exit
 * status 0. On stderr: "signals N" and "handler allocations M" (its successful
 * allocation calls). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/time.h>

#include "e2e-prog.h"

#define ITERATIONS 200000
#define WORKERS 3 /* main and two threads */
/* Sizes only the handler uses: A and B from the primed cache, C and D anywhere. */
#define HANDLER_A 600
#define HANDLER_B 700
#define HANDLER_C 800
#define HANDLER_D 900
#define HANDLER_ROUNDS 4

static __thread volatile sig_atomic_t in_alloc;
static atomic_long signals, handler_allocs;
/* SIZE_MAX / 2, out of the compiler's sight (it would warn about the overflow). */
static volatile size_t huge = SIZE_MAX / 2;

NOINLINE void handler_work(void)
{
    long n = 0;
    for (int i = 0; i < HANDLER_ROUNDS; i++) {
        if (in_alloc) {
            /* The interrupted thread may hold its arena's lock: cached sizes only. */
            char *a = malloc(HANDLER_A);
            char *b = realloc(NULL, HANDLER_B);
            void *c = calloc(huge, 4); /* overflows: NULL, without a lock */
            if (!a || !b || c)
                _exit(4);
            a[0] = b[0] = 1;
            n += 2;
            b = realloc(b, 0); /* frees */
            free(a);
        } else {
            /* Not A or B: this branch would drain their cache (realloc frees to the arena). */
            char *a = malloc(HANDLER_C);
            char *b = calloc(5, HANDLER_D / 5);
            if (!a || !b)
                _exit(4);
            a = realloc(a, 3 * HANDLER_C);
            if (!a)
                _exit(4);
            a[3 * HANDLER_C - 1] = b[HANDLER_D - 1];
            n += 3;
            free(b);
            free(a);
        }
    }
    atomic_fetch_add(&handler_allocs, n);
}

static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    handler_work();
    atomic_fetch_add(&signals, 1);
    errno = saved;
}

NOINLINE long churn(long seed)
{
    unsigned long x = (unsigned long)seed;
    long sum = 0;
    for (long i = 0; i < ITERATIONS; i++) {
        x = x * 6364136223846793005ul + 1442695040888963407ul;
        size_t n = 8 + (x >> 40) % 200, m = 8 + (x >> 50) % 300;
        in_alloc = 1;
        char *p = malloc(n);
        in_alloc = 0;
        if (!p)
            _exit(3);
        p[n - 1] = 1;
        in_alloc = 1;
        char *q = realloc(p, m);
        in_alloc = 0;
        if (!q)
            _exit(3);
        q[m - 1] = 2;
        sum += (long)(n + m);
        in_alloc = 1;
        free(q);
        in_alloc = 0;
    }
    return sum;
}

static long sums[WORKERS];

NOINLINE void *worker(void *arg)
{
    long k = (long)(intptr_t)arg;
    e2e_prime_tcache(HANDLER_A);
    e2e_prime_tcache(HANDLER_B);
    e2e_block_alarm(SIG_UNBLOCK);
    sums[k] = churn(k + 1);
    e2e_block_alarm(SIG_BLOCK);
    return NULL;
}

int main(void)
{
    e2e_block_alarm(SIG_BLOCK);
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);

    pthread_t t[WORKERS - 1];
    for (long k = 1; k < WORKERS; k++)
        if (pthread_create(&t[k - 1], NULL, worker, (void *)(intptr_t)k) != 0)
            return 3;
    worker((void *)(intptr_t)0);
    for (long k = 1; k < WORKERS; k++)
        pthread_join(t[k - 1], NULL);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);

    char label[32] = "worker 0 sum";
    for (int k = 0; k < WORKERS; k++) {
        label[7] = (char)('0' + k);
        e2e_say_num(label, sums[k]);
    }
    e2e_say_num_to(2, "signals", atomic_load(&signals));
    e2e_say_num_to(2, "handler allocations", atomic_load(&handler_allocs));
    e2e_write(1, "done\n");
    return 0;
}

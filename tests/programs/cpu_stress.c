/* Work that other profilers' signal handlers have deadlocked or crashed in, run under the CPU
 * sampler: allocation from several threads, fork from a threaded program, dlopen/dlclose and
 * dl_iterate_phdr (the loader's lock held), and a program's own signal handlers that run long
 * enough to be sampled. Its output and exit status depend only on the work (the test runs it
 * with and without vitals and compares). "threads" starts many short threads from several
 * threads at once while the main thread forks children that start threads of their own (each
 * new thread opens its sampling event as it starts, while others fork).
 * Usage: cpu_stress malloc|fork|dlopen|signal|sleep|threads [LIB] */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

__attribute__((noinline)) static unsigned long burn(unsigned long n)
{
    unsigned long x = 0;
    for (unsigned long i = 0; i < n; i++)
        x += i * i ^ (x >> 3);
    return x;
}

static void *malloc_worker(void *arg)
{
    unsigned long seed = (unsigned long)(size_t)arg, sum = 0;
    void *slots[256] = {0};
    for (int i = 0; i < 100000; i++) {
        seed = seed * 6364136223846793005ul + 1442695040888963407ul;
        int k = (int)(seed >> 56);
        size_t size = (seed >> 20) % 4096 + 1;
        free(slots[k]);
        slots[k] = malloc(size);
        memset(slots[k], k, size < 64 ? size : 64);
        sum += size;
    }
    for (int k = 0; k < 256; k++)
        free(slots[k]);
    return (void *)(size_t)(sum & 0xffff);
}

static int run_malloc(void)
{
    pthread_t t[4];
    unsigned long total = 0;
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, malloc_worker, (void *)(size_t)(i + 1));
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += (unsigned long)(size_t)r;
    }
    printf("malloc %lu\n", total);
    return 3;
}

static atomic_int stop;

static void *spinner(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        sink += burn(20000);
        free(malloc(100));
    }
    return NULL;
}

static int run_fork(void)
{
    pthread_t t;
    pthread_create(&t, NULL, spinner, NULL);
    int sum = 0;
    for (int i = 0; i < 40; i++) {
        pid_t p = fork();
        if (p == 0) {
            sink += burn(50000);
            free(malloc(64));
            _exit(i % 7);
        }
        int st = 0;
        waitpid(p, &st, 0);
        sum += WEXITSTATUS(st);
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("fork %d\n", sum);
    return 4;
}

static const char *lib;

static int count_modules(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)info;
    (void)size;
    sink += burn(200); /* hold the loader's lock a while */
    (*(int *)arg)++;
    return 0;
}

static void *dl_worker(void *arg)
{
    (void)arg;
    int ok = 0;
    for (int i = 0; i < 150; i++) {
        void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        if (h) {
            ok += dlsym(h, "leak_a") != NULL;
            dlclose(h);
        }
        int n = 0;
        dl_iterate_phdr(count_modules, &n);
    }
    return (void *)(size_t)ok;
}

static int run_dlopen(void)
{
    pthread_t t[3];
    unsigned long ok = 0;
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, dl_worker, NULL);
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        ok += (unsigned long)(size_t)r;
    }
    printf("dlopen %lu\n", ok);
    return 5;
}

static atomic_int handled;

static void on_usr1(int sig)
{
    (void)sig;
    sink += burn(100000); /* long enough to be sampled inside the handler */
    void *p = malloc(32); /* not async-signal-safe in general; safe here: main only waits */
    free(p);
    atomic_fetch_add(&handled, 1);
}

static int run_signal(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    for (int i = 0; i < 150; i++) {
        int before = atomic_load(&handled);
        kill(getpid(), SIGUSR1);
        while (atomic_load(&handled) == before)
            sink += burn(100);
    }
    printf("signal %d\n", atomic_load(&handled));
    return 6;
}

/* Off-CPU time known by construction: 10 naps of 30 ms between bursts of work. */
__attribute__((noinline)) static void nap(void)
{
    struct timespec ts = {0, 30 * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int run_sleep(void)
{
    for (int i = 0; i < 10; i++) {
        sink += burn(3000000);
        nap();
    }
    printf("sleep done\n");
    return 7;
}

static void *short_worker(void *arg)
{
    sink += burn(20000);
    return (void *)((size_t)arg * 3 + 1);
}

/* Starts 100 short threads one after another; returns the sum of their results. */
static void *creator(void *arg)
{
    size_t sum = 0;
    for (size_t i = 0; i < 100; i++) {
        pthread_t t;
        void *r;
        if (pthread_create(&t, NULL, short_worker, (void *)((size_t)arg + i)) != 0)
            return (void *)0;
        pthread_join(t, &r);
        sum += (size_t)r;
    }
    return (void *)sum;
}

static int run_threads(void)
{
    pthread_t c[4];
    for (size_t i = 0; i < 4; i++)
        pthread_create(&c[i], NULL, creator, (void *)(i * 1000));
    int forked = 0;
    for (int i = 0; i < 20; i++) {
        pid_t p = fork();
        if (p == 0) {
            pthread_t t[5];
            size_t sum = 0;
            for (size_t k = 0; k < 5; k++)
                pthread_create(&t[k], NULL, short_worker, (void *)k);
            for (int k = 0; k < 5; k++) {
                void *r;
                pthread_join(t[k], &r);
                sum += (size_t)r;
            }
            _exit((int)(sum % 100));
        }
        int st = 0;
        waitpid(p, &st, 0);
        forked += WEXITSTATUS(st);
    }
    size_t total = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(c[i], &r);
        total += (size_t)r;
    }
    printf("threads %zu %d\n", total, forked);
    return 8;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    lib = argc > 2 ? argv[2] : "libdl_leak_a.so";
    if (!strcmp(argv[1], "malloc"))
        return run_malloc();
    if (!strcmp(argv[1], "fork"))
        return run_fork();
    if (!strcmp(argv[1], "dlopen"))
        return run_dlopen();
    if (!strcmp(argv[1], "signal"))
        return run_signal();
    if (!strcmp(argv[1], "sleep"))
        return run_sleep();
    if (!strcmp(argv[1], "threads"))
        return run_threads();
    return 2;
}

/* Stacks for the agent's unwinding self-check (VITALS_CHECK_UNWIND=1 compares every stack it
 * captures with libunwind's unw_backtrace).
 *
 * The main thread and THREADS more each make DESCENTS descents DEPTH levels deep, more than the
 * default --depth of 64. The levels alternate between fp_level (this file, -O0, frame pointers)
 * and nofp_level (unwind_nofp.c, -O2 -fomit-frame-pointer, rbp used for data), and every call
 * to the next level goes through a function pointer. Allocations are made every 7 levels and
 * at the bottom, some from frame-pointer functions, some from nofp_alloc (no frame pointer).
 * Meanwhile SIGALRM arrives every millisecond (setitimer) and its handler allocates too, from
 * frames of both kinds; before its descents, the main thread allocates in a flat loop until the
 * handler has run SIGNALS_MIN times (or 3 s have passed).
 *
 * Before all that, signal_twice sends the main thread SIGALRM twice from the same stack depth,
 * at two different instructions, with the same return address left in the dead stack slot
 * below the stack pointer (as a call that has just returned leaves it): what the asynchronous
 * signals of the flat loop do by chance, made certain. x86-64 Linux only, as the agent is.
 *
 * Prints "allocations N" (those made outside the handler: each is one stack captured),
 * "signals N" (times the handler ran) and "done". The handler allocates only sizes the rest never
 * uses, from glibc's primed per-thread cache (see e2e_prime_tcache), so that it can never deadlock
 * inside glibc. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "e2e-prog.h"
#include "unwind_nofp.h"

#define THREADS 4
#define DESCENTS 40
#define DEPTH 200
#define SIGNALS_MIN 200
#define HANDLER_SIZE_A 600
#define HANDLER_SIZE_B 700

static atomic_long allocations;
static atomic_long signals;

static long fp_level(int depth, long acc);

/* Read through a volatile pointer, so that every call to the next level is indirect. */
static unwind_step_fn volatile fp_step = fp_level;

NOINLINE long fp_bottom(long acc)
{
    char *p = malloc(16 + (size_t)(acc & 63));
    char *q = nofp_alloc(24 + (size_t)(acc & 31));
    if (!p || !q)
        _exit(3);
    long r = p[0] + q[0];
    free(q);
    free(p);
    atomic_fetch_add(&allocations, 2);
    return r;
}

NOINLINE long fp_level(int depth, long acc)
{
    if (depth <= 0)
        return fp_bottom(acc);
    if (depth % 7 == 0) {
        void *p = depth % 14 ? malloc((size_t)depth) : nofp_alloc((size_t)depth + 3);
        if (!p)
            _exit(3);
        free(p);
        atomic_fetch_add(&allocations, 1);
    }
    long r;
    if (depth % 2)
        r = nofp_level(depth - 1, acc + 1, fp_step); /* nofp_level calls fp_level back */
    else
        r = fp_step(depth - 1, acc ^ depth);
    return r + 1;
}

NOINLINE void descend_often(void)
{
    for (int i = 0; i < DESCENTS; i++)
        fp_level(DEPTH, i);
}

NOINLINE void in_handler(int depth)
{
    if (depth > 0) {
        in_handler(depth - 1);
        return;
    }
    void *a = malloc(HANDLER_SIZE_A);
    void *b = nofp_alloc(HANDLER_SIZE_B);
    free(b);
    free(a);
}

static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    in_handler(3);
    atomic_fetch_add(&signals, 1);
    errno = saved;
}

static void prime(void)
{
    e2e_prime_tcache(HANDLER_SIZE_A);
    e2e_prime_tcache(HANDLER_SIZE_B);
    atomic_fetch_add(&allocations, 14);
}

NOINLINE void *worker(void *arg)
{
    (void)arg;
    prime(); /* SIGALRM is blocked until the handler's sizes are cached */
    e2e_block_alarm(SIG_UNBLOCK);
    descend_often();
    e2e_block_alarm(SIG_BLOCK); /* glibc frees the thread's cache, with a lock, as it ends */
    return NULL;
}

/* kill_at_a(tgid, tid, sig, SYS_tgkill) and kill_at_b(...): tgkill to the calling thread, made
 * so that the signal is delivered at the instruction after the syscall. Both leave kill_at_a's
 * landing address in the slot below the stack pointer; only kill_at_a lands there. */
void kill_at_a(long tgid, long tid, long sig, long nr);
void kill_at_b(long tgid, long tid, long sig, long nr);
__asm__(".text\n"
        ".globl kill_at_a\n"
        ".type kill_at_a, @function\n"
        "kill_at_a:\n"
        "    .cfi_startproc\n"
        "    lea kill_at_a_lands(%rip), %rax\n"
        "    mov %rax, -8(%rsp)\n"
        "    mov %ecx, %eax\n"
        "    syscall\n"
        "kill_at_a_lands:\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size kill_at_a, .-kill_at_a\n"
        ".globl kill_at_b\n"
        ".type kill_at_b, @function\n"
        "kill_at_b:\n"
        "    .cfi_startproc\n"
        "    lea kill_at_a_lands(%rip), %rax\n"
        "    mov %rax, -8(%rsp)\n"
        "    mov %ecx, %eax\n"
        "    syscall\n"
        "    nop\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size kill_at_b, .-kill_at_b\n");

static void (*volatile kill_at[2])(long, long, long, long) = {kill_at_a, kill_at_b};

NOINLINE void signal_twice(void)
{
    long pid = getpid(), tid = syscall(SYS_gettid);
    for (int i = 0; i < 2; i++)
        kill_at[i](pid, tid, SIGALRM, SYS_tgkill); /* one call site, one return address */
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

NOINLINE long tiny(long j)
{
    /* A frame of its own: a signal that lands in its body finds another stack pointer. */
    volatile char frame[512];
    frame[0] = (char)j;
    return j + (frame[0] & 0);
}

NOINLINE void flat_loop(void)
{
    /* Most signals land in this loop, at one stack pointer and at few instructions, one of them
     * just after the call to tiny has returned; the others find that return address still in
     * the stack slot below the stack pointer. */
    double until = now_s() + 3;
    volatile long sink = 0;
    while (atomic_load(&signals) < SIGNALS_MIN && now_s() < until) {
        char *p = malloc(32);
        if (!p)
            _exit(3);
        atomic_fetch_add(&allocations, 1);
        for (int j = 0; j < 20000; j++)
            sink += tiny(j);
        free(p);
    }
}

int main(void)
{
    e2e_block_alarm(SIG_BLOCK);
    prime();
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    e2e_block_alarm(SIG_UNBLOCK);
    signal_twice(); /* before the timer starts, so that no other signal comes in between */
    e2e_block_alarm(SIG_BLOCK);
    struct itimerval it = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &it, NULL);

    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, NULL) != 0)
            return 3;
    e2e_block_alarm(SIG_UNBLOCK);
    /* The flat loop first: after many stacks that its caches cannot shorten (the descents),
     * the agent gives the thread libunwind's own walk for a while. */
    flat_loop();
    descend_often();
    e2e_block_alarm(SIG_BLOCK);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);

    e2e_say_num("allocations", atomic_load(&allocations));
    e2e_say_num("signals", atomic_load(&signals));
    e2e_write(1, "done\n");
    return 0;
}

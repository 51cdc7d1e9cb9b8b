/* Helpers shared by the end-to-end test programs. They print with write(2) only, so that no
 * stdio buffer is ever allocated and every heap block a program makes is one the test knows
 * about. */
#ifndef VT_E2E_PROG_H
#define VT_E2E_PROG_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The allocation sites are functions of their own, so a stack names them whatever the
 * compiler does around them. */
#define NOINLINE __attribute__((noinline))

/* Writes s to fd, retrying short writes and EINTR. */
static inline void e2e_write(int fd, const char *s)
{
    size_t n = strlen(s), done = 0;
    while (done < n) {
        ssize_t r = write(fd, s + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        done += (size_t)r;
    }
}

/* Writes "label value\n" to fd without stdio, in one write so that lines printed by several
 * threads do not mix. */
static inline void e2e_say_num_to(int fd, const char *label, long v)
{
    char buf[128], digits[24], *d = digits + sizeof(digits);
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    size_t n = strnlen(label, 80);
    *--d = 0;
    do
        *--d = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--d = '-';
    memcpy(buf, label, n);
    buf[n++] = ' ';
    size_t k = strlen(d);
    memcpy(buf + n, d, k);
    n += k;
    buf[n++] = '\n';
    buf[n] = 0;
    e2e_write(fd, buf);
}

/* e2e_say_num_to(1, label, v): the line goes to stdout. */
static inline void e2e_say_num(const char *label, long v)
{
    e2e_say_num_to(1, label, v);
}

/* glibc's malloc is not async-signal-safe: a handler that allocates while the thread it
 * interrupted holds its arena's lock deadlocks, with or without vitals. Only glibc's
 * per-thread cache (tcache, 7 blocks per size class up to 1032 B) is served without a lock.
 * This fills the calling thread's cache for size n, so that a signal handler can take up to
 * 7 blocks of that size, and give them back, without ever taking a lock, as long as the rest
 * of the program never uses that size class. */
static inline void e2e_prime_tcache(size_t n)
{
    void *p[7];
    for (int i = 0; i < 7; i++)
        p[i] = malloc(n);
    for (int i = 0; i < 7; i++)
        free(p[i]);
}

/* Blocks (SIG_BLOCK) or unblocks (SIG_UNBLOCK) SIGALRM in the calling thread. */
static inline void e2e_block_alarm(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(how, &set, NULL);
}

#endif

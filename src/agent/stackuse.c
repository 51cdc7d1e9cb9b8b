/* The bounds of a thread's stack, learned when the thread first records an event, and how
 * deep the stack has been used, measured with mincore() when the thread ends (or at the final
 * flush for threads still running): the used part is what lies above the lowest resident page.
 *
 * A page stays resident once touched, so this is the deepest the thread ever went, not its use
 * at the end. Caveat: glibc reuses the stacks of threads that ended for new threads of the
 * same size, and pages an earlier thread touched count as used by the later one. Everything
 * here is async-signal-safe (raw open/read, mincore). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/agent-int.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Parses "lo-hi ..." at the start of a line of /proc/self/maps; returns the length parsed or 0. */
static size_t parse_range(const char *s, size_t n, uint64_t *lo, uint64_t *hi)
{
    size_t i = 0;
    uint64_t v = 0;
    int d;
    for (; i < n && (d = hex_digit(s[i])) >= 0; i++)
        v = v << 4 | (uint64_t)d;
    if (i == n || s[i] != '-')
        return 0;
    *lo = v;
    v = 0;
    for (i++; i < n && (d = hex_digit(s[i])) >= 0; i++)
        v = v << 4 | (uint64_t)d;
    *hi = v;
    return i;
}

/* Finds the mapping holding addr in /proc/self/maps (read without stdio). Returns 1 when it is
 * the main thread's stack ("[stack]"), 0 when it is another mapping, -1 when none holds addr. */
static int find_mapping(uint64_t addr, uint64_t *lo, uint64_t *hi)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[2048];
    size_t have = 0;
    int found = -1, skip = 0; /* skip: inside a line longer than the buffer (a long path) */
    while (found < 0) {
        ssize_t r = read(fd, buf + have, sizeof(buf) - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
        size_t start = 0;
        for (size_t i = 0; i < have && found < 0; i++) {
            if (buf[i] != '\n')
                continue;
            uint64_t a, b;
            size_t len = i - start;
            if (skip) {
                skip = 0;
            } else if (parse_range(buf + start, len, &a, &b) && addr >= a && addr < b) {
                *lo = a;
                *hi = b;
                found = len >= 7 && !memcmp(buf + i - 7, "[stack]", 7);
            }
            start = i + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == sizeof(buf)) {
            have = 0;
            skip = 1;
        }
    }
    close(fd);
    return found;
}

void vt__stack_attach(struct vt_thread *t)
{
    uint64_t sp = (uint64_t)(uintptr_t)__builtin_frame_address(0), lo, hi;
    if (t->tid == (uint32_t)getpid()) {
        /* The main thread: its stack is the [stack] mapping, which grows down to the limit.
         * (A process forked by another thread has that thread's stack, from pthread.) */
        int r = find_mapping(sp, &lo, &hi);
        if (r == 1) {
            struct rlimit rl;
            uint64_t size = 0;
            if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
                size = rl.rlim_cur;
            t->stack_main = 1;
            t->stack_hi = hi;
            t->stack_size = size;
            return;
        }
    }
    /* Another thread: only remember where its stack is. pthread_getattr_np cannot be called
     * here: it allocates while it holds the thread's lock, and this may be that allocation. */
    t->stack_seen = sp;
}

void vt__stack_learn(struct vt_thread *t, int self)
{
    if (t->stack_hi || t->stack_main || !t->stack_seen)
        return;
    uint64_t sp = t->stack_seen, lo, hi;
    if (!self) {
        /* The mapping holding the address: the stack without its guard page. */
        if (find_mapping(sp, &lo, &hi) == 0) {
            t->stack_lo = lo;
            t->stack_hi = hi;
            t->stack_size = hi - lo;
        }
        return;
    }
    int guard = vt__guard;
    vt__guard = 1; /* what pthread_getattr_np allocates is not the program's */
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        if (pthread_attr_getstack(&attr, &addr, &size) == 0 && sp >= (uint64_t)(uintptr_t)addr &&
            sp < (uint64_t)(uintptr_t)addr + size) {
            t->stack_lo = (uint64_t)(uintptr_t)addr;
            t->stack_hi = t->stack_lo + size;
            t->stack_size = size;
        }
        pthread_attr_destroy(&attr);
    }
    vt__guard = guard;
}

uint64_t vt__stack_used(const struct vt_thread *t)
{
    uint64_t lo = t->stack_lo, hi = t->stack_hi;
    if (!hi)
        return 0;
    if (t->stack_main) {
        /* The mapping has grown since attach: measure it as it is now. */
        uint64_t mlo, mhi;
        if (find_mapping(hi - 1, &mlo, &mhi) < 0)
            return 0;
        lo = mlo;
        hi = mhi;
    }
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    unsigned char vec[1024];
    lo = (lo + page - 1) & ~(page - 1);
    for (uint64_t a = lo; a < hi; a += sizeof(vec) * page) {
        uint64_t len = hi - a < sizeof(vec) * page ? hi - a : sizeof(vec) * page;
        if (mincore((void *)(uintptr_t)a, len, vec) != 0)
            return 0;
        for (uint64_t i = 0; i < (len + page - 1) / page; i++)
            if (vec[i] & 1)
                return hi - (a + i * page);
    }
    return 0;
}

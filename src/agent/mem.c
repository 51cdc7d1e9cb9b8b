/* The agent's own memory. Every page the agent maps for itself goes through vt__map(), which
 * keeps a list of the ranges: the leak scan at exit must not take the agent's tables (which
 * hold the address of every live block) for the program's roots. */
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "agent/agent-int.h"

static atomic_flag lock = ATOMIC_FLAG_INIT;
static struct vt_range *ranges;
static size_t n_ranges, cap_ranges;
static _Atomic uint64_t mapped; /* bytes mapped through vt__map and not unmapped */

static void lock_take(void)
{
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
        sched_yield();
}

static void lock_give(void)
{
    atomic_flag_clear_explicit(&lock, memory_order_release);
}

/* Adds [p, p + n) to the list; the caller holds the lock. Returns 0, or -1 when the list
 * cannot grow (the range is then simply not excluded from the scan). */
static int remember(uint64_t p, uint64_t n)
{
    if (n_ranges == cap_ranges) {
        size_t cap = cap_ranges ? cap_ranges * 2 : 256;
        void *m = mmap(NULL, cap * sizeof(*ranges), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return -1;
        struct vt_range *old = ranges;
        size_t old_cap = cap_ranges;
        if (old)
            memcpy(m, old, n_ranges * sizeof(*ranges));
        ranges = m;
        cap_ranges = cap;
        /* The list itself is the agent's memory too. */
        if (old)
            munmap(old, old_cap * sizeof(*ranges));
        ranges[n_ranges++] = (struct vt_range){(uint64_t)(uintptr_t)m, cap * sizeof(*ranges)};
        for (size_t i = 0; i + 1 < n_ranges; i++)
            if (ranges[i].start == (uint64_t)(uintptr_t)old) {
                ranges[i] = ranges[--n_ranges];
                break;
            }
    }
    ranges[n_ranges++] = (struct vt_range){p, n};
    return 0;
}

void *vt__map(size_t n, int noreserve)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0), -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    lock_take();
    remember((uint64_t)(uintptr_t)p, n);
    lock_give();
    atomic_fetch_add_explicit(&mapped, n, memory_order_relaxed);
    return p;
}

void vt__unmap(void *p, size_t n)
{
    if (!p)
        return;
    lock_take();
    for (size_t i = 0; i < n_ranges; i++) {
        if (ranges[i].start == (uint64_t)(uintptr_t)p) {
            ranges[i] = ranges[--n_ranges];
            break;
        }
    }
    lock_give();
    atomic_fetch_sub_explicit(&mapped, n, memory_order_relaxed);
    munmap(p, n);
}

uint64_t vt__map_total(void)
{
    return atomic_load_explicit(&mapped, memory_order_relaxed);
}

size_t vt__map_ranges(struct vt_range *out, size_t max)
{
    lock_take();
    size_t n = n_ranges < max ? n_ranges : max;
    memcpy(out, ranges, n * sizeof(*out));
    size_t all = n_ranges;
    lock_give();
    return all;
}

/* perf_event_open(2): events, rings and counts. See perf.h. */
#include "collect/perf.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int vt_perf_open(struct perf_event_attr *attr, pid_t tid, int group_fd)
{
    attr->size = sizeof(*attr);
    long fd = syscall(SYS_perf_event_open, attr, tid, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : (int)fd;
}

void vt_perf_attr_count(struct perf_event_attr *attr, uint32_t type, uint64_t config)
{
    memset(attr, 0, sizeof(*attr));
    attr->size = sizeof(*attr);
    attr->type = type;
    attr->config = config;
    attr->read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    attr->exclude_kernel = 1;
    attr->exclude_hv = 1;
}

/* Fills r for a ring mapped at p: the metadata page, then data_pages pages of records. */
static void ring_at(vt_perf_ring *r, void *p, size_t page, unsigned data_pages, uint32_t slot)
{
    memset(r, 0, sizeof(*r));
    r->meta = p;
    r->data = (uint8_t *)p + page;
    r->data_size = (uint64_t)page * data_pages;
    r->map_len = page * (data_pages + 1);
    r->slot = slot;
}

int vt_perf_ring_map(int fd, unsigned data_pages, vt_perf_ring *r)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    memset(r, 0, sizeof(*r));
    if (!data_pages || (data_pages & (data_pages - 1)))
        return -EINVAL;
    void *p = mmap(NULL, page * (data_pages + 1), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    ring_at(r, p, page, data_pages, 0);
    return 0;
}

void vt_perf_ring_unmap(vt_perf_ring *r)
{
    if (r->meta)
        munmap(r->meta, r->map_len);
    memset(r, 0, sizeof(*r));
}

enum { SLOT_FREE, SLOT_USED, SLOT_DEAD, SLOT_BROKEN };

int vt_perf_arena_init(vt_perf_arena *a, unsigned data_pages, uint32_t n_slots,
                       _Atomic uint8_t *state)
{
    memset(a, 0, sizeof(*a));
    if (!data_pages || (data_pages & (data_pages - 1)) || !n_slots)
        return -EINVAL;
    size_t len = (size_t)sysconf(_SC_PAGESIZE) * (data_pages + 1);
    void *p =
        mmap(NULL, len * n_slots, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    a->base = p;
    a->slot_len = len;
    a->n_slots = n_slots;
    a->state = state;
    return 0;
}

int vt_perf_ring_map_in(vt_perf_arena *a, int fd, unsigned data_pages, vt_perf_ring *r)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (!a || !a->base || page * (data_pages + 1) != a->slot_len)
        return vt_perf_ring_map(fd, data_pages, r);
    for (uint32_t i = 0; i < a->n_slots; i++) {
        uint8_t want = SLOT_FREE;
        if (atomic_load_explicit(&a->state[i], memory_order_relaxed) != SLOT_FREE ||
            !atomic_compare_exchange_strong(&a->state[i], &want, SLOT_USED))
            continue;
        uint8_t *at = a->base + (size_t)i * a->slot_len;
        void *p = mmap(at, a->slot_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
        if (p == MAP_FAILED) {
            /* A failed mapping leaves a hole (the locked-memory limit, say): reserved again
             * where nothing took it meanwhile, the slot serves again; otherwise it is never
             * touched again. */
            int e = errno;
            void *q =
                mmap(at, a->slot_len, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
            if (q != MAP_FAILED && q != at)
                munmap(q, a->slot_len); /* a kernel that took the flag for a hint */
            atomic_store(&a->state[i], q == at ? SLOT_FREE : SLOT_BROKEN);
            return -e;
        }
        ring_at(r, p, page, data_pages, i + 1);
        return 0;
    }
    return vt_perf_ring_map(fd, data_pages, r);
}

void vt_perf_ring_release(vt_perf_arena *a, vt_perf_ring *r)
{
    if (r->slot && a && a->base) {
        /* Broken since (a forked child): the slot is a hole, left alone. */
        uint8_t want = SLOT_USED;
        atomic_compare_exchange_strong(&a->state[r->slot - 1], &want, SLOT_DEAD);
        memset(r, 0, sizeof(*r));
        return;
    }
    vt_perf_ring_unmap(r);
}

uint32_t vt_perf_arena_sweep(vt_perf_arena *a)
{
    uint32_t freed = 0;
    if (!a || !a->base)
        return 0;
    for (uint32_t i = 0; i < a->n_slots;) {
        if (atomic_load(&a->state[i]) != SLOT_DEAD) {
            i++;
            continue;
        }
        uint32_t j = i + 1;
        while (j < a->n_slots && atomic_load(&a->state[j]) == SLOT_DEAD)
            j++;
        /* Reserved again over the rings, which goes in one step: no moment when the range is
         * free for another mapping. */
        void *p = mmap(a->base + (size_t)i * a->slot_len, (size_t)(j - i) * a->slot_len, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
        for (uint32_t k = i; k < j; k++)
            atomic_store(&a->state[k], p == MAP_FAILED ? SLOT_BROKEN : SLOT_FREE);
        freed += p == MAP_FAILED ? 0 : j - i;
        i = j;
    }
    return freed;
}

void vt_perf_arena_after_fork(vt_perf_arena *a)
{
    if (!a || !a->base)
        return;
    for (uint32_t i = 0; i < a->n_slots; i++)
        if (atomic_load(&a->state[i]) != SLOT_FREE)
            atomic_store(&a->state[i], SLOT_BROKEN);
}

size_t vt_perf_ring_drain(vt_perf_ring *r, void (*fn)(const struct perf_event_header *h, void *arg),
                          void *arg, void *scratch, size_t scratch_size)
{
    if (!r->meta)
        return 0;
    /* The kernel publishes data_head with a release; read it with an acquire, and free the
     * space with a release store of data_tail once the records are read. */
    uint64_t head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = r->meta->data_tail;
    uint64_t mask = r->data_size - 1;
    size_t n = 0;
    while (tail + sizeof(struct perf_event_header) <= head) {
        const struct perf_event_header *h = (const void *)(r->data + (tail & mask));
        struct perf_event_header hc;
        uint64_t off = tail & mask;
        if (off + sizeof(hc) > r->data_size) {
            size_t first = (size_t)(r->data_size - off);
            memcpy(&hc, r->data + off, first);
            memcpy((uint8_t *)&hc + first, r->data, sizeof(hc) - first);
            h = &hc;
        }
        uint16_t size = h->size;
        if (size < sizeof(*h) || tail + size > head)
            break; /* cannot happen: the kernel writes whole records */
        if (off + size > r->data_size) {
            if (size <= scratch_size) {
                size_t first = (size_t)(r->data_size - off);
                memcpy(scratch, r->data + off, first);
                memcpy((uint8_t *)scratch + first, r->data, size - first);
                fn(scratch, arg);
            }
        } else {
            fn((const struct perf_event_header *)(r->data + off), arg);
        }
        tail += size;
        n++;
    }
    __atomic_store_n(&r->meta->data_tail, tail, __ATOMIC_RELEASE);
    return n;
}

int vt_perf_read(int fd, vt_perf_count *out)
{
    uint64_t v[3];
    memset(out, 0, sizeof(*out));
    for (;;) {
        ssize_t n = read(fd, v, sizeof(v));
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof(v))
            return n < 0 ? -errno : -EIO;
        break;
    }
    out->value = v[0];
    out->enabled = v[1];
    out->running = v[2];
    return 0;
}

uint64_t vt_perf_scaled(const vt_perf_count *c)
{
    if (!c->running)
        return 0;
    if (c->running >= c->enabled)
        return c->value;
    return (uint64_t)((double)c->value * (double)c->enabled / (double)c->running);
}

double vt_perf_scale_factor(const vt_perf_count *c)
{
    if (!c->running)
        return 0;
    return c->running >= c->enabled ? 1.0 : (double)c->enabled / (double)c->running;
}

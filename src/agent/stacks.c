/* Stack capture and interning. A stack seen before costs one hash probe and yields a small
 * integer; a new stack is copied once into an append-only arena, and the writer thread later
 * writes its definition, in id order, before any block that refers to it. The table is
 * lock-free: slots are claimed with compare-and-swap, and an entry is published (ready) only
 * after its frames are in place. */
#include <string.h>
#include <sys/mman.h>

#include "agent/agent-int.h"
#include "agent/sampler.h"
#include "util/hash.h"

struct entry {
    uint64_t offset;              /* index of the first frame in the arena */
    _Atomic uint32_t depth_plus1; /* 0 until the entry is ready */
    uint32_t gen;                 /* the code generation it was captured in */
};

static _Atomic uint64_t *table; /* slot: high 32 bits of the hash, low 32 bits the id */
static uint64_t table_mask;
static struct entry *entries;
static uint32_t max_entries;
static uint64_t *arena;
static uint64_t arena_cap;
static _Atomic uint32_t next_id = 1; /* id 0 is the empty (unknown) stack */
static _Atomic uint64_t arena_used;

static void *reserve_mem(size_t *bytes, size_t min)
{
    for (size_t n = *bytes; n >= min; n /= 2) {
        void *p = vt__map(n, 1);
        if (p) {
            *bytes = n;
            return p;
        }
    }
    return NULL;
}

int vt__stacks_init(void)
{
    size_t tbytes = sizeof(uint64_t) << 24, ebytes = sizeof(struct entry) << 23,
           abytes = (size_t)1 << 30;
    table = reserve_mem(&tbytes, 1 << 20);
    entries = reserve_mem(&ebytes, 1 << 20);
    arena = reserve_mem(&abytes, 1 << 22);
    if (!table || !entries || !arena)
        return -1;
    table_mask = tbytes / sizeof(uint64_t) - 1;
    max_entries = (uint32_t)(ebytes / sizeof(struct entry));
    /* Keep the table at most 3/4 full so probes stay short. */
    if (max_entries > (table_mask + 1) / 4 * 3)
        max_entries = (uint32_t)((table_mask + 1) / 4 * 3);
    arena_cap = abytes / sizeof(uint64_t);
    atomic_store(&entries[0].depth_plus1, 1);
    return 0;
}

static int same_frames(uint32_t id, const uint64_t *frames, uint32_t n, uint32_t gen)
{
    const struct entry *e = &entries[id];
    uint32_t d = atomic_load_explicit(&e->depth_plus1, memory_order_acquire);
    return d == n + 1 && e->gen == gen &&
           memcmp(arena + e->offset, frames, n * sizeof(uint64_t)) == 0;
}

static uint32_t intern(const uint64_t *frames, uint32_t n, uint32_t gen)
{
    uint64_t h = vt_hash_words(frames, n) ^ (uint64_t)gen * 0x9e3779b97f4a7c15ULL;
    h = h ? h : 1;
    uint64_t tag = h & 0xffffffff00000000ULL;
    uint64_t i = h & table_mask;
    uint32_t id = 0;
    for (uint64_t probes = 0; probes <= table_mask; probes++, i = (i + 1) & table_mask) {
        uint64_t slot = atomic_load_explicit(&table[i], memory_order_acquire);
        if (slot) {
            if ((slot & 0xffffffff00000000ULL) == tag &&
                same_frames((uint32_t)slot, frames, n, gen))
                return (uint32_t)slot;
            continue;
        }
        if (!id) {
            id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
            uint64_t off = atomic_fetch_add_explicit(&arena_used, n, memory_order_relaxed);
            if (id >= max_entries || off + n > arena_cap) {
                if (id < max_entries) {
                    entries[id].offset = 0;
                    atomic_store_explicit(&entries[id].depth_plus1, 1, memory_order_release);
                }
                return 0;
            }
            memcpy(arena + off, frames, n * sizeof(uint64_t));
            entries[id].offset = off;
            entries[id].gen = gen;
            atomic_store_explicit(&entries[id].depth_plus1, n + 1, memory_order_release);
        }
        uint64_t expected = 0;
        if (atomic_compare_exchange_strong_explicit(&table[i], &expected, tag | id,
                                                    memory_order_release, memory_order_acquire))
            return id;
        /* Another thread took the slot: it may hold this very stack. */
        if ((expected & 0xffffffff00000000ULL) == tag &&
            same_frames((uint32_t)expected, frames, n, gen))
            return (uint32_t)expected;
    }
    return id;
}

uint32_t vt__stack_capture(struct vt_thread *t)
{
    /* The frames go to the thread's own buffer: the program's stack may be small. */
    uint64_t *frames = vt__unwind_buffer(t), few[64];
    int max = vt__config.depth;
    if (!frames) {
        frames = few;
        max = max < 64 ? max : 64;
    }
    int n = vt__unwind(t, frames, max);
    return n > 0 ? intern(frames, (uint32_t)n, vt__code_gen()) : 0;
}

const uint64_t *vt__stack_frames(uint32_t id, uint32_t *depth, uint32_t *gen)
{
    *gen = 0;
    if (id >= max_entries) {
        *depth = 0;
        return NULL;
    }
    uint32_t d = atomic_load_explicit(&entries[id].depth_plus1, memory_order_acquire);
    if (!d) {
        *depth = UINT32_MAX; /* not ready yet */
        return NULL;
    }
    *depth = d - 1;
    *gen = entries[id].gen;
    return arena + entries[id].offset;
}

void vt__stacks_after_fork(void)
{
    /* A thread of the parent may have been half-way through adding a stack; no one in the
     * child refers to it, so publish it as empty rather than wait for it forever. */
    uint32_t n = atomic_load(&next_id);
    if (n > max_entries)
        n = max_entries;
    for (uint32_t id = 0; id < n; id++)
        if (!atomic_load(&entries[id].depth_plus1))
            atomic_store(&entries[id].depth_plus1, 1);
}

uint32_t vt__stack_intern(const uint64_t *frames, uint32_t n)
{
    return n ? intern(frames, n, vt__code_gen()) : 0;
}

/* Stack capture: libunwind's answer, found faster.
 *
 * libunwind (unw_step, DWARF CFI) is the reference. Two caches let most stacks skip it:
 *
 * - A verdict per return address: does the function it returns into keep a standard frame
 *   there (caller's frame pointer at [rbp], return address at [rbp+8], frame 16 bytes below
 *   the caller's stack pointer)? A verdict is learned once from a libunwind walk, where the
 *   registers of both frames are known, and then lets us step that frame by its frame pointer.
 * - Per thread, the tail of a stack below the first frame without a standard frame (libc's
 *   start_thread or __libc_start_main, typically), keyed by that frame's return address, stack
 *   pointer and frame pointer, and kept only while every stack slot it was computed from (the
 *   return addresses and saved frame pointers of its frames) still holds the same value.
 *
 * Anything else (an unknown return address, a tail that changed, a frame pointer that does not
 * point up the stack) takes the libunwind walk, which also teaches the caches. With
 * VITALS_CHECK_UNWIND=1 every stack is also taken by unw_backtrace and compared; the count of
 * mismatches is printed at exit (the test suite runs it). */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <string.h>
#include <sys/mman.h>

#include "agent/agent-int.h"
#include "util/hash.h"

enum { V_UNKNOWN = 0, V_FP = 1, V_OTHER = 2 };

#define VERDICT_SLOTS (1u << 18)
#define SUFFIX_ENTRIES 8
#define SUFFIX_MAX 64

struct suffix {
    uint64_t ip, sp, rbp;
    uint32_t gen;
    uint16_t n_frames, n_slots;
    uint64_t frames[SUFFIX_MAX];
    uint64_t slot_addr[2 * SUFFIX_MAX], slot_val[2 * SUFFIX_MAX];
};

#define NEAR_VERDICTS 256

enum { WALK_MAX = VT_MAX_DEPTH + 16 };

struct vt_unwind_cache {
    /* The slow walk's registers per frame: kept here, not on a stack that may be small. */
    uint64_t ip[WALK_MAX], ip_loc[WALK_MAX], sp[WALK_MAX], rbp[WALK_MAX], rbp_loc[WALK_MAX];
    uint64_t frames[WALK_MAX]; /* the result, handed to the stack table */
    void *trace[WALK_MAX];     /* unw_backtrace's output */
    /* The last verdicts this thread used, direct-mapped: the global table is too big to stay
     * in this core's cache. Entries are (return address, generation << 2 | verdict). */
    uint64_t near_ip[NEAR_VERDICTS];
    uint32_t near_v[NEAR_VERDICTS];
    struct suffix entries[SUFFIX_ENTRIES];
    uint64_t stacks;
    /* Slow walks left: libunwind's unw_step costs system calls (memory validation, signal
     * masks) on code it has not cached, so a thread may take one per 256 stacks on average. */
    int budget;
};

/* slot: return address << 16 | generation << 2 | verdict; 0 is empty. */
static _Atomic uint64_t *verdicts;
static _Atomic uint32_t code_gen = 1;
static uint64_t agent_lo, agent_hi;
static int check_mode;
static _Atomic uint64_t check_stacks, check_mismatches;

void vt__set_agent_range(uint64_t start, uint64_t end)
{
    agent_lo = start;
    agent_hi = end;
}

void vt__agent_range(uint64_t *start, uint64_t *end)
{
    *start = agent_lo;
    *end = agent_hi;
}

static inline int in_agent(uint64_t ip)
{
    return ip >= agent_lo && ip < agent_hi;
}

int vt__unwind_init(int check)
{
    verdicts = vt__map(VERDICT_SLOTS * sizeof(uint64_t), 1);
    if (!verdicts)
        return -1;
    check_mode = check;
    /* Each thread keeps libunwind's cache to itself: no lock on the unwinding path. */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    return 0;
}

uint32_t vt__code_gen(void)
{
    return atomic_load_explicit(&code_gen, memory_order_acquire);
}

void vt__unwind_code_changed(void)
{
    /* A library was unloaded: its addresses may hold other code now. */
    atomic_fetch_add(&code_gen, 1);
}

static int verdict_get(uint64_t ip, uint32_t gen)
{
    uint64_t i = vt_hash64(ip) & (VERDICT_SLOTS - 1);
    for (int probe = 0; probe < 16; probe++, i = (i + 1) & (VERDICT_SLOTS - 1)) {
        uint64_t s = atomic_load_explicit(&verdicts[i], memory_order_relaxed);
        if (!s)
            return V_UNKNOWN;
        if (s >> 16 == ip)
            return ((s >> 2) & 0x3fff) == (gen & 0x3fff) ? (int)(s & 3) : V_UNKNOWN;
    }
    return V_UNKNOWN;
}

static void verdict_set(uint64_t ip, int v, uint32_t gen)
{
    if (ip >> 47)
        return;
    uint64_t val = ip << 16 | (uint64_t)(gen & 0x3fff) << 2 | (uint64_t)v;
    uint64_t i = vt_hash64(ip) & (VERDICT_SLOTS - 1);
    for (int probe = 0; probe < 16; probe++, i = (i + 1) & (VERDICT_SLOTS - 1)) {
        uint64_t s = atomic_load_explicit(&verdicts[i], memory_order_relaxed);
        if (s >> 16 == ip) {
            atomic_store_explicit(&verdicts[i], val, memory_order_relaxed);
            return;
        }
        if (!s) {
            uint64_t expected = 0;
            if (atomic_compare_exchange_strong(&verdicts[i], &expected, val) ||
                expected >> 16 == ip)
                return;
        }
    }
}

static struct vt_unwind_cache *cache_of(struct vt_thread *t)
{
    if (unlikely(!t->unwind)) {
        t->unwind = vt__map(sizeof(struct vt_unwind_cache), 0);
        if (t->unwind)
            t->unwind->budget = 256; /* enough to learn a program's common stacks */
    }
    return t->unwind;
}

static inline struct suffix *suffix_slot(struct vt_unwind_cache *c, uint64_t ip, uint64_t sp)
{
    return &c->entries[vt_hash64(ip ^ (sp << 7)) % SUFFIX_ENTRIES];
}

static struct suffix *suffix_find(struct vt_unwind_cache *c, uint64_t ip, uint64_t sp, uint64_t rbp,
                                  uint32_t gen)
{
    struct suffix *s = suffix_slot(c, ip, sp);
    if (s->ip != ip || s->sp != sp || s->rbp != rbp || s->gen != gen)
        return NULL;
    for (uint32_t i = 0; i < s->n_slots; i++)
        if (*(const uint64_t *)s->slot_addr[i] != s->slot_val[i])
            return NULL;
    return s;
}

/* The reference walk. Fills out with the caller's frames (the agent's own skipped), learns
 * verdicts and, when it can, the tail for the point where a fast walk would stop. */
static int slow_walk(struct vt_unwind_cache *c, uint64_t *out, int max, uint32_t gen)
{
    enum { N = WALK_MAX };
    uint64_t *ip = c->ip, *ip_loc = c->ip_loc, *sp = c->sp, *rbp = c->rbp, *rbp_loc = c->rbp_loc;
    unw_context_t uc;
    unw_cursor_t cur;
    int n = 0;
    if (unw_getcontext(&uc) != 0 || unw_init_local(&cur, &uc) != 0)
        return 0;
    do {
        unw_word_t v;
        unw_save_loc_t loc;
        unw_get_reg(&cur, UNW_REG_IP, &v);
        ip[n] = v;
        unw_get_reg(&cur, UNW_REG_SP, &v);
        sp[n] = v;
        rbp[n] = unw_get_reg(&cur, UNW_X86_64_RBP, &v) == 0 ? v : 0;
        rbp_loc[n] = unw_get_save_loc(&cur, UNW_X86_64_RBP, &loc) == 0 && loc.type == UNW_SLT_MEMORY
                         ? loc.u.addr
                         : 0;
        /* Where this frame's return address lives: below the caller's frame after a call,
         * but in the saved context of a signal frame for the frame a signal interrupted. */
        ip_loc[n] = unw_get_save_loc(&cur, UNW_REG_IP, &loc) == 0 && loc.type == UNW_SLT_MEMORY
                        ? loc.u.addr
                        : sp[n] - 8;
        n++;
    } while (n < N && n < max + 16 && unw_step(&cur) > 0);

    int u = 0;
    while (u < n && in_agent(ip[u]))
        u++;
    /* Learn: frame j keeps a standard frame at ip[j] if its frame pointer sits 16 bytes below
     * its caller's stack pointer and holds the caller's frame pointer and return address. */
    for (int j = u; j < n; j++) {
        int fp = 0;
        if (j + 1 < n && rbp[j] && rbp[j] + 16 == sp[j + 1])
            fp = ((const uint64_t *)rbp[j])[1] == ip[j + 1] &&
                 ((const uint64_t *)rbp[j])[0] == rbp[j + 1];
        verdict_set(ip[j], fp ? V_FP : V_OTHER, gen);
    }
    /* The agent's own frames are left out wherever they are (main's wrapper sits under
     * main). */
    int m = 0;
    for (int j = u; j < n && m < max; j++)
        if (!in_agent(ip[j]))
            out[m++] = ip[j];

    /* The tail below the first frame a fast walk cannot step, with the slots it rests on. */
    int k = u;
    while (k < n && verdict_get(ip[k], gen) == V_FP)
        k++;
    if (k < n && n - (k + 1) <= SUFFIX_MAX && sp[k]) {
        struct suffix *s = suffix_slot(c, ip[k], sp[k]);
        s->gen = 0; /* invalid while being filled */
        s->ip = ip[k];
        s->sp = sp[k];
        s->rbp = rbp[k];
        s->n_frames = 0;
        s->n_slots = 0;
        for (int j = k + 1; j < n; j++) {
            if (!in_agent(ip[j]))
                s->frames[s->n_frames++] = ip[j];
            s->slot_addr[s->n_slots] = ip_loc[j];
            s->slot_val[s->n_slots++] = ip[j];
            if (rbp_loc[j]) {
                s->slot_addr[s->n_slots] = rbp_loc[j];
                s->slot_val[s->n_slots++] = rbp[j];
            }
        }
        /* Only a tail whose slots all read back as computed is usable. */
        int ok = 1;
        for (uint32_t i = 0; i < s->n_slots && ok; i++)
            ok = *(const uint64_t *)s->slot_addr[i] == s->slot_val[i];
        if (ok)
            s->gen = gen;
    }
    return m;
}

/* What unw_backtrace says, the agent's frames skipped (ips: WALK_MAX slots of scratch). */
static int reference(void **ips, uint64_t *out, int max)
{
    int n = unw_backtrace(ips, max + 16), m = 0;
    for (int i = 0; i < n && m < max; i++)
        if (!in_agent((uint64_t)(uintptr_t)ips[i]))
            out[m++] = (uint64_t)(uintptr_t)ips[i];
    return m;
}

/* verdict_get through the thread's near cache. */
static inline int verdict_near(struct vt_unwind_cache *c, uint64_t ip, uint32_t gen)
{
    size_t i = (ip ^ (ip >> 9)) & (NEAR_VERDICTS - 1);
    if (c->near_ip[i] == ip && c->near_v[i] >> 2 == gen)
        return (int)(c->near_v[i] & 3);
    int v = verdict_get(ip, gen);
    if (v != V_UNKNOWN) {
        c->near_ip[i] = ip;
        c->near_v[i] = gen << 2 | (uint32_t)v;
    }
    return v;
}

uint64_t *vt__unwind_buffer(struct vt_thread *t)
{
    struct vt_unwind_cache *c = cache_of(t);
    return c ? c->frames : NULL;
}

int vt__unwind(struct vt_thread *t, uint64_t *out, int max)
{
    uint32_t gen = atomic_load_explicit(&code_gen, memory_order_relaxed);
    const uint64_t *fp = __builtin_frame_address(0);
    int n = 0;
    struct vt_unwind_cache *c = cache_of(t);
    if (unlikely(!c))
        goto slow;
    c->stacks++;
    uint64_t last_ip = 0;
    int last_v = V_UNKNOWN;
    for (;;) {
        uint64_t ip = fp[1];
        const uint64_t *next = (const uint64_t *)fp[0];
        /* Frame pointers must lead up the stack, a sane distance at a time. */
        int sane = next > fp && ((uintptr_t)next & 7) == 0 && (uintptr_t)(next - fp) < (1u << 21);
        if (in_agent(ip)) {
            if (!sane)
                goto slow;
            fp = next;
            continue;
        }
        out[n++] = ip;
        if (n == max)
            goto done;
        /* Recursion repeats return addresses: reuse the last verdict. */
        int v = ip == last_ip ? last_v : verdict_near(c, ip, gen);
        last_ip = ip;
        last_v = v;
        if (v == V_FP) {
            if (!sane)
                goto slow;
            fp = next;
            continue;
        }
        if (v == V_UNKNOWN)
            goto slow;
        struct suffix *s =
            suffix_find(c, ip, (uint64_t)(uintptr_t)(fp + 2), (uint64_t)(uintptr_t)next, gen);
        if (!s)
            goto slow;
        int k = s->n_frames < max - n ? s->n_frames : max - n;
        memcpy(out + n, s->frames, (size_t)k * sizeof(uint64_t));
        n += k;
        goto done;
    }
slow:
    /* The walk that teaches the caches is dear; where it would run too often (code without
     * frame pointers throughout, whose tails rarely repeat) libunwind's own fast trace gives
     * the same answer for less. */
    if (c && (c->stacks & 255) == 0 && c->budget < 256)
        c->budget++;
    if (c && c->budget > 0) {
        c->budget--;
        n = slow_walk(c, out, max, gen);
    } else if (c) {
        n = reference(c->trace, out, max);
    } else {
        void *ips[64 + 16];
        n = reference(ips, out, max < 64 ? max : 64);
    }
done:
    if (unlikely(check_mode) && c) {
        uint64_t *ref = c->rbp_loc; /* free after the walk */
        int rn = reference(c->trace, ref, max);
        atomic_fetch_add(&check_stacks, 1);
        if (rn != n || memcmp(ref, out, (size_t)n * sizeof(uint64_t)) != 0)
            atomic_fetch_add(&check_mismatches, 1);
    }
    return n;
}

void vt__unwind_report(void)
{
    if (!check_mode)
        return;
    char msg[128], a[24], b[24];
    vt__utoa(atomic_load(&check_stacks), a);
    vt__utoa(atomic_load(&check_mismatches), b);
    strcpy(msg, "unwind check: ");
    strcat(msg, a);
    strcat(msg, " stacks, ");
    strcat(msg, b);
    strcat(msg, " differ from unw_backtrace");
    vt__say(msg);
}

/* perf_event_open(2) for the agent and for live tools: opening an event on one thread, the
 * ring buffer a sampling event writes its records to, and counts scaled for multiplexing.
 * Nothing here allocates through malloc or uses stdio, so the preload agent can use it from
 * any thread (not from a signal handler: it makes system calls that may block). */
#ifndef VT_COLLECT_PERF_H
#define VT_COLLECT_PERF_H

#include <linux/perf_event.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The ring of a sampling event: one metadata page, then data_size bytes of records. */
typedef struct vt_perf_ring {
    struct perf_event_mmap_page *meta;
    uint8_t *data;
    uint64_t data_size; /* a power of two */
    size_t map_len;
    uint32_t slot; /* 1 + its slot in an arena (vt_perf_ring_map_in), 0 when mapped alone */
} vt_perf_ring;

/* A count as read(2) gives it with PERF_FORMAT_TOTAL_TIME_ENABLED|RUNNING. */
typedef struct vt_perf_count {
    uint64_t value;
    uint64_t enabled; /* ns the event was enabled */
    uint64_t running; /* ns it was on a counter (less than enabled when multiplexed) */
} vt_perf_count;

/* Opens attr on thread tid (0: the calling thread), any CPU, close-on-exec. Returns the file
 * descriptor, or a negative errno value (ENOENT/EOPNOTSUPP: no such event on this machine,
 * EACCES/EPERM: refused by perf_event_paranoid or seccomp, ENOSYS: no perf events). */
int vt_perf_open(struct perf_event_attr *attr, pid_t tid, int group_fd);

/* Fills attr for counting (not sampling) the event type/config in user space only, with the
 * times needed for scaling. */
void vt_perf_attr_count(struct perf_event_attr *attr, uint32_t type, uint64_t config);

/* Maps the ring of sampling event fd with data_pages pages of records (a power of two).
 * Returns 0, or a negative errno value. Release with vt_perf_ring_unmap(). */
int vt_perf_ring_map(int fd, unsigned data_pages, vt_perf_ring *r);

/* Unmaps r; does nothing for a ring that is not mapped. */
void vt_perf_ring_unmap(vt_perf_ring *r);

/* Rings of one size side by side in one reserved range, so that the rings let go are unmapped
 * many at a time. Each munmap of a ring makes the kernel flush the TLB of every CPU that runs a
 * thread of the process, an interrupt for each, which the program's threads pay; one call over
 * a run of rings flushes once (docs/BENCHMARKS.md, "Threads sampled from their start").
 *
 * A slot is free, used, dead (let go, still mapped until a sweep) or broken (a hole that is
 * never mapped again: in a forked child, where the kernel copies no ring, another mapping may
 * take its place; or after a failed mmap, when the slot could not be reserved again). Taking and
 * letting go a slot are lock-free (an atomic per slot): any thread may map a ring, a signal handler
 * may let one go; one thread at a time sweeps. A ring that finds no free slot is mapped alone
 * (vt_perf_ring_map). */
typedef struct vt_perf_arena {
    uint8_t *base; /* NULL: no arena, every ring is mapped alone */
    size_t slot_len;
    uint32_t n_slots;
    _Atomic uint8_t *state; /* n_slots, the caller's */
} vt_perf_arena;

/* Reserves n_slots slots for rings of data_pages pages (no memory: PROT_NONE), with state, the
 * caller's array of n_slots bytes, zeroed. Returns 0, or a negative errno value (then a->base
 * is NULL and rings are mapped alone). */
int vt_perf_arena_init(vt_perf_arena *a, unsigned data_pages, uint32_t n_slots,
                       _Atomic uint8_t *state);

/* Maps the ring of fd into a free slot of a (or alone, when a has none, or is NULL). Returns 0,
 * or a negative errno value. Let go with vt_perf_ring_release(). */
int vt_perf_ring_map_in(vt_perf_arena *a, int fd, unsigned data_pages, vt_perf_ring *r);

/* Lets r go: a ring in a's slots waits for the next sweep, one mapped alone is unmapped. Safe
 * in a signal handler for a ring in a slot. */
void vt_perf_ring_release(vt_perf_arena *a, vt_perf_ring *r);

/* Unmaps the dead slots of a, a run of neighbours with one call, and frees them. Returns how
 * many it freed. */
uint32_t vt_perf_arena_sweep(vt_perf_arena *a);

/* In a forked child: the slots in use or dead are holes now (rings are not copied), never to be
 * mapped or unmapped again. */
void vt_perf_arena_after_fork(vt_perf_arena *a);

/* Calls fn for every record the kernel has written since the last call, oldest first, then
 * frees their space. A record that wraps around the end of the ring is passed as a copy in
 * scratch (which must hold scratch_size bytes; longer records are skipped). Returns the number
 * of records. Only one thread may drain a ring. */
size_t vt_perf_ring_drain(vt_perf_ring *r, void (*fn)(const struct perf_event_header *h, void *arg),
                          void *arg, void *scratch, size_t scratch_size);

/* Reads a counting event opened with vt_perf_attr_count(). Returns 0, or a negative errno. */
int vt_perf_read(int fd, vt_perf_count *out);

/* The count scaled for multiplexing: value * enabled / running (value when never
 * multiplexed, 0 when the event never ran). */
uint64_t vt_perf_scaled(const vt_perf_count *c);

/* How the scaling stretched the count: enabled / running (1.0 without multiplexing, 0 when the
 * event never ran). */
double vt_perf_scale_factor(const vt_perf_count *c);

#endif

/* Counters at zone boundaries (`vitals run --zone-counters`, or VITALS_ZONE_COUNTERS=1 with
 * VITALS_TRACE): each thread that opens a zone reads its own perf event groups at the zone's
 * begin and end, and the end row carries the counts in between (ZONE_COUNTERS, trace/format.h).
 *
 * Per thread, two groups opened on the thread itself, each read with one read(2):
 * - software: task-clock, page faults (minor, major), context switches, CPU migrations;
 *   always counted where perf events are allowed;
 * - hardware: cycles, instructions, branches and misses, L1d and LLC loads and misses, TLB
 *   misses, and the --event ones, as far as the PMU has them (on a machine without one each is
 *   said to be unsupported and the group is not opened).
 * The zone hot path (thread.c) calls in here through one branch on vt__zc_on, so that without
 * --zone-counters a zone costs what it did. */
#ifndef VT_AGENT_ZONE_COUNTERS_H
#define VT_AGENT_ZONE_COUNTERS_H

#include <stdint.h>

#include "agent/agent-int.h"

/* How deep zones may nest with counters; deeper ones (and their calls) carry none. */
#define VT_ZC_DEPTH 32
/* Events in all (the --counters set and --event ones: VT_RUN_CPU_MAX_EVENTS). */
#define VT_ZC_MAX_EVENTS 32

/* Set once at start-up when zone counters are on; read by every zone boundary. */
extern VT_HIDDEN int vt__zc_on;

/* Reads the configuration (VITALS_ZONE_COUNTERS, VITALS_EVENTS) and, when on, opens the calling
 * (main) thread's groups, which also settles which events this machine counts. Called once
 * from the agent's start-up, after the sampler's. */
void vt__zc_init(void);

/* A zone began on the calling thread at tsc: its counts now go on the thread's stack. Inside a
 * hook (the thread's guard set). */
void vt__zc_begin(uint64_t tsc);

/* The zone that began at start at call site site (a struct vt_source_location; NULL when
 * unknown) is ending on thread t (its own state, guard set): writes the ZONE_COUNTERS row of the
 * counts since its begin. Nothing when the begin's counts are unknown (nested too deep, or the
 * thread has no groups). */
void vt__zc_end(struct vt_thread *t, uint64_t start, const void *site);

/* The writer's part of a round: the ZONE_COUNTER_EVENT records, once per trace, before the
 * rows of the round are merged. */
void vt__zc_round(void);

/* thread.c: appends a row of tag at tsc whose fields are body (len bytes of varints, written
 * after a varint of len) to t's buffer; merge.c copies the fields into the record. */
void vt__track_fields(struct vt_thread *t, uint8_t tag, uint64_t tsc, const uint8_t *body,
                      size_t len);

#endif

/* Counters read at zone boundaries (`vitals run --zone-counters`; ZONE_COUNTERS and
 * ZONE_COUNTER_EVENT records, trace version 1.4): per zone call site, the totals and per-call
 * averages of each event over the calls that carried counts, and the ratios derived from them
 * with the formulas of the CPU profile (cpu.h). docs/CPU.md explains the figures. */
#ifndef VT_ANALYZE_ZONE_COUNTERS_H
#define VT_ANALYZE_ZONE_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/cpu.h"
#include "analyze/zones.h"

struct vt_stream_dec;

/* An event of the zone counters, as its ZONE_COUNTER_EVENT record said. */
typedef struct vt_zc_event {
    char *name;
    int status; /* 0 counted, else the errno of perf_event_open (ENOENT: not on this machine) */
    int group;  /* VT_ZC_GROUP_* */
    uint32_t type;
    uint64_t config;
    int flags; /* VT_CPU_EV_* */
} vt_zc_event;

/* One zone call site's counts. */
typedef struct vt_zc_zone {
    uint32_t loc;   /* index into vt_zones.locs */
    uint64_t calls; /* calls that carried counts */
    /* per event (vt_zone_counters.n_events): */
    double *scaled;    /* summed over the calls, each scaled by its group's enabled/running */
    uint64_t *raw;     /* summed as read */
    uint64_t *counted; /* calls whose record had the event */
    uint64_t *enabled; /* ns its group was enabled, summed over those calls */
    uint64_t *running; /* and ns it was on a counter */
} vt_zc_zone;

typedef struct vt_zone_counters {
    vt_zc_event *events;
    size_t n_events;
    vt_zc_zone *zones; /* in the order they first carried counts */
    size_t n_zones;
    uint64_t records;   /* ZONE_COUNTERS records */
    uint64_t unmatched; /* of them, with no zone open on their thread */
    /* private */
    size_t cap_events, cap_zones;
    uint32_t *zone_of_loc; /* loc index -> zone index + 1 */
    size_t cap_loc;
} vt_zone_counters;

/* Applies a ZONE_COUNTERS or ZONE_COUNTER_EVENT record (fields in d) to *zc (made on first
 * use); a ZONE_COUNTERS record goes to the zone of its location id (the zones of zones).
 * Returns 0, -1 for a malformed record, or VT_ENOMEM. */
int vt__zc_decode(vt_zone_counters **zc, const vt_zones *zones, uint8_t tag,
                  struct vt_stream_dec *d);

/* Frees everything; NULL does nothing. */
void vt__zc_free(vt_zone_counters *zc);

/* The counts of the zone at loc (index into vt_zones.locs), or NULL when it carried none.
 * Borrowed, valid as long as zc. */
const vt_zc_zone *vt_zc_zone_of(const vt_zone_counters *zc, uint32_t loc);

/* Whether event e was counted for zone s (counted on this machine, in some of its calls, and
 * its group ran). */
int vt_zc_has(const vt_zone_counters *zc, const vt_zc_zone *s, size_t e);

/* The scaled total of the event called name over zone s's counted calls, or -1 when it was not
 * counted. */
double vt_zc_total(const vt_zone_counters *zc, const vt_zc_zone *s, const char *name);

/* The multiplexing factor of event e in zone s: enabled / running (1: not multiplexed). */
double vt_zc_scale(const vt_zc_zone *s, size_t e);

/* Fills out[VT_RATIOS] for zone s with the formulas of vt_cpu_ratios(); returns how many are
 * valid. */
int vt_zc_ratios(const vt_zone_counters *zc, const vt_zc_zone *s, vt_cpu_ratio *out);

/* The event called name, or -1. */
long vt_zc_event_index(const vt_zone_counters *zc, const char *name);

#endif

/* The CPU-profiling options of `vitals run` (--cpu, --wall, --counters, --event, --no-alloc),
 * kept apart from cmd_run.c's other options. */
#ifndef VT_CLI_RUN_CPU_H
#define VT_CLI_RUN_CPU_H

#include <stddef.h>

#include "collect/events.h"

#define VT_RUN_CPU_MAX_EVENTS 32
#define VT_RUN_CPU_DEFAULT_HZ 999

/* getopt codes of the options (above the range of characters). */
enum {
    VT_OPT_CPU = 0x200,
    VT_OPT_WALL,
    VT_OPT_COUNTERS,
    VT_OPT_EVENT,
    VT_OPT_NO_ALLOC,
    VT_OPT_ZONE_COUNTERS,
};

#define VT_RUN_CPU_OPTIONS                                                                         \
    {"cpu", optional_argument, NULL, VT_OPT_CPU}, {"wall", no_argument, NULL, VT_OPT_WALL},        \
        {"counters", no_argument, NULL, VT_OPT_COUNTERS},                                          \
        {"event", required_argument, NULL, VT_OPT_EVENT},                                          \
        {"no-alloc", no_argument, NULL, VT_OPT_NO_ALLOC},                                          \
        {"cpu-only", no_argument, NULL, VT_OPT_NO_ALLOC},                                          \
        {"zone-counters", no_argument, NULL, VT_OPT_ZONE_COUNTERS},

typedef struct vt_run_cpu {
    long hz; /* 0: no sampling */
    int wall, counters, no_alloc;
    int zone_counters; /* --zone-counters: counters read at libvitals zone boundaries */
    vt_event_spec events[VT_RUN_CPU_MAX_EVENTS];
    size_t n_events;
} vt_run_cpu;

/* Applies option code (one of VT_OPT_*) with its argument. Returns 0, or 2 after saying what
 * is wrong (the exit status of a usage error). */
int vt_run_cpu_option(vt_run_cpu *o, int code, const char *arg);

/* Completes the options after parsing (--counters' events, implied --cpu). Returns 0 or 2. */
int vt_run_cpu_finish(vt_run_cpu *o);

/* Sets the agent's environment for these options (in the child, before exec). */
void vt_run_cpu_env(const vt_run_cpu *o);

/* The help lines of these options. */
extern const char vt_run_cpu_usage[];

#endif

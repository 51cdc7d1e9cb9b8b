/* Event names for counters: the set --counters opens, and any name libpfm4 knows (--event),
 * turned into the perf_event_open type and config the agent opens. */
#ifndef VT_COLLECT_EVENTS_H
#define VT_COLLECT_EVENTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct vt_event_spec {
    char name[64];
    uint32_t type;
    uint64_t config, config1, config2;
    int flags; /* VT_CPU_EV_* (trace/format.h) */
} vt_event_spec;

/* The events of --counters, in the order reports list them: hardware first, then software. */
extern const char *const vt_counter_names[];
extern const size_t vt_n_counter_names;

/* Resolves name with libpfm4 into *out. Returns 0, or a negative VT_E* code with a one-line
 * reason in msg (VT_ENOTFOUND: libpfm4 knows no such event). */
int vt_event_resolve(const char *name, vt_event_spec *out, char *msg, size_t msg_size);

/* Writes specs as the agent's VITALS_EVENTS value ("name=type:config:config1:config2:flags;...")
 * into out. Returns 0, or VT_ETOOBIG when it does not fit. */
int vt_events_env(const vt_event_spec *specs, size_t n, char *out, size_t out_size);

#endif

/* The one door between libvitals and the agent: the agent exports vt__agent_lib_api()
 * (agent.map), which returns this table; libvitals looks it up once with dlsym(RTLD_DEFAULT)
 * (the agent preloaded by `vitals run`) or dlopens the agent itself when VITALS_TRACE=FILE is
 * set. Zone, counter and task events go to the calling thread's own buffer in the agent, into
 * the same trace as allocations. Both sides include this header; a table of a newer version
 * only grows at its end. */
#ifndef VT_AGENT_LIB_API_H
#define VT_AGENT_LIB_API_H

#include <stdint.h>

#include "vitals.h"

#define VT_AGENT_LIB_API_VERSION 1
#define VT_AGENT_LIB_API_SYMBOL "vt__agent_lib_api"

/* How libvitals hands the figures of its live pools and caches to the agent. The agent calls
 * collect(sink) from its writer thread; collect calls the sink's functions once per live pool
 * and cache (id: the object's address, stable while it lives). */
struct vt_lib_stats_sink {
    void (*pool)(struct vt_lib_stats_sink *sink, const void *id, const struct vt_pool_stats *s);
    void (*cache)(struct vt_lib_stats_sink *sink, const void *id, const struct vt_cache_stats *s);
};
typedef void (*vt_lib_stats_collect_fn)(struct vt_lib_stats_sink *sink);

struct vt_agent_lib_api {
    uint32_t version; /* VT_AGENT_LIB_API_VERSION */
    uint32_t size;    /* sizeof(struct vt_agent_lib_api) of the agent */
    /* Starts recording into path without allocation hooks (the agent was dlopened by
     * libvitals for VITALS_TRACE). Returns 0 or a negative VT_E* code. */
    int (*start_zones_only)(const char *path);
    /* Whether events are being recorded now. */
    int (*recording)(void);
    /* Returns the start time of a zone at loc (a struct vt_source_location that lives as long
     * as the program), or 0 when it was not recorded. */
    uint64_t (*zone_begin)(const struct vt_source_location *loc);
    void (*zone_end)(uint64_t start, int failed);
    void (*counter_add)(const char *name, int64_t n);
    void (*gauge_set)(const char *name, double value);
    void (*frame_mark)(const char *name);
    void (*task_begin)(const char *name, const char *kind);
    void (*task_end)(void);
    /* Registers libvitals' source of pool and cache figures (taken about every 100 ms and at
     * exit). */
    void (*set_stats_source)(vt_lib_stats_collect_fn collect);
    /* The last figures of a pool or cache about to be freed (one of the two is non-NULL). */
    void (*final_stats)(const void *id, const struct vt_pool_stats *pool,
                        const struct vt_cache_stats *cache);
};

typedef const struct vt_agent_lib_api *(*vt_agent_lib_api_fn)(void);

#endif

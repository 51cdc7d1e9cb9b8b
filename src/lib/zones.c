/* libvitals' side of zones, counters, gauges, frame marks and tasks: finds the recorder (the
 * agent) once at load time and forwards events to it. Without a recorder vt__recording stays
 * 0, and the inline functions of vitals.h never call in here. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/lib-api.h"
#include "lib-int.h"

static uint64_t no_zone_begin(const struct vt_source_location *loc)
{
    (void)loc;
    return 0;
}

static void no_zone_end(uint64_t start, int failed)
{
    (void)start;
    (void)failed;
}

/* The recorder's own functions once one is found: a zone costs one indirect call each way. */
int vt__recording;
uint64_t (*vt__zone_begin_fn)(const struct vt_source_location *loc) = no_zone_begin;
void (*vt__zone_end_fn)(uint64_t start, int failed) = no_zone_end;
static const struct vt_agent_lib_api *api;

void vt__counter_add(const char *name, int64_t n)
{
    if (api && name)
        api->counter_add(name, n);
}

void vt__gauge_set(const char *name, double value)
{
    if (api && name)
        api->gauge_set(name, value);
}

void vt__frame_mark(const char *name)
{
    if (api)
        api->frame_mark(name);
}

void vt__task_begin(const char *name, const char *kind)
{
    if (api && name)
        api->task_begin(name, kind ? kind : name);
}

void vt__task_end(void)
{
    if (api)
        api->task_end();
}

static void collect_pool(vt_pool *pool, void *arg)
{
    struct vt_lib_stats_sink *sink = arg;
    struct vt_pool_stats s;
    if (vt_pool_stats(pool, &s) == 0)
        sink->pool(sink, pool, &s);
}

static void collect_cache(vt_cache *cache, void *arg)
{
    struct vt_lib_stats_sink *sink = arg;
    struct vt_cache_stats s;
    if (vt_cache_stats(cache, &s) == 0)
        sink->cache(sink, cache, &s);
}

static void collect(struct vt_lib_stats_sink *sink)
{
    vt__lib_pools_foreach(collect_pool, sink);
    vt__lib_caches_foreach(collect_cache, sink);
}

void vt__lib_final_pool(const vt_pool *pool)
{
    struct vt_pool_stats s;
    if (api && vt__recording && vt_pool_stats(pool, &s) == 0)
        api->final_stats(pool, &s, NULL);
}

void vt__lib_final_cache(vt_cache *cache)
{
    struct vt_cache_stats s;
    if (api && vt__recording && vt_cache_stats(cache, &s) == 0)
        api->final_stats(cache, NULL, &s);
}

/* Copies dir (up to its last '/') and then name into out; 0 when it fits. */
static int path_beside(char *out, size_t cap, const char *dir, const char *name)
{
    const char *slash = strrchr(dir, '/');
    size_t d = slash ? (size_t)(slash - dir) + 1 : 0, n = strlen(name);
    if (d + n + 1 > cap)
        return -1;
    memcpy(out, dir, d);
    memcpy(out + d, name, n + 1);
    return 0;
}

/* Loads the agent for VITALS_TRACE: $VITALS_AGENT, then beside this library (installed in
 * LIBDIR/vitals/, or side by side in a build tree), then the configured install path. */
static vt_agent_lib_api_fn load_agent(void)
{
    char path[4096];
    const char *candidates[4] = {getenv("VITALS_AGENT"), NULL, NULL, NULL};
    Dl_info self;
    static char beside[2][4096];
    if (dladdr((void *)load_agent, &self) && self.dli_fname) {
        if (path_beside(beside[0], sizeof(beside[0]), self.dli_fname,
                        "vitals/libvitals-agent.so") == 0)
            candidates[1] = beside[0];
        if (path_beside(beside[1], sizeof(beside[1]), self.dli_fname, "libvitals-agent.so") == 0)
            candidates[2] = beside[1];
    }
#ifdef VT_AGENT_INSTALL_PATH
    candidates[3] = VT_AGENT_INSTALL_PATH;
#endif
    for (int i = 0; i < 4; i++) {
        if (!candidates[i] || !*candidates[i])
            continue;
        snprintf(path, sizeof(path), "%s", candidates[i]);
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            continue;
        vt_agent_lib_api_fn get = (vt_agent_lib_api_fn)dlsym(h, VT_AGENT_LIB_API_SYMBOL);
        if (get)
            return get;
        dlclose(h);
    }
    return NULL;
}

__attribute__((constructor)) static void find_recorder(void)
{
    vt_agent_lib_api_fn get = (vt_agent_lib_api_fn)dlsym(RTLD_DEFAULT, VT_AGENT_LIB_API_SYMBOL);
    const struct vt_agent_lib_api *a = NULL;
    if (get) {
        a = get();
    } else {
        const char *trace = getenv("VITALS_TRACE");
        if (!trace || !*trace)
            return;
        get = load_agent();
        a = get ? get() : NULL;
        if (a && (a->version != VT_AGENT_LIB_API_VERSION || a->start_zones_only(trace) != 0))
            a = NULL;
    }
    if (!a || a->version != VT_AGENT_LIB_API_VERSION || a->size < sizeof(*a) || !a->recording())
        return;
    api = a;
    api->set_stats_source(collect);
    vt__zone_begin_fn = api->zone_begin;
    vt__zone_end_fn = api->zone_end;
    vt__recording = 1;
}

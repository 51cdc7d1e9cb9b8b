/* Counters at zone boundaries in the model: see zone_counters.h. Memory: per zone call site
 * that carried counts, five numbers per event. */
#include "analyze/zone_counters.h"

#include <stdlib.h>
#include <string.h>

#include "trace/format.h"
#include "trace/stream.h"
#include "util/array.h"
#include "util/error.h"

#define GET(v)                                                                                     \
    do {                                                                                           \
        if (vt_stream_get(d, VT_COL_MISC, &(v)))                                                   \
            return -1;                                                                             \
    } while (0)

void vt__zc_free(vt_zone_counters *zc)
{
    if (!zc)
        return;
    for (size_t i = 0; i < zc->n_events; i++)
        free(zc->events[i].name);
    free(zc->events);
    for (size_t i = 0; i < zc->n_zones; i++) {
        free(zc->zones[i].scaled);
        free(zc->zones[i].raw);
        free(zc->zones[i].counted);
        free(zc->zones[i].enabled);
        free(zc->zones[i].running);
    }
    free(zc->zones);
    free(zc->zone_of_loc);
    free(zc);
}

/* The arrays of each zone hold VT_ZC_EVENTS_MAX events, whatever the events say. */
#define VT_ZC_EVENTS_MAX 64

static vt_zc_zone *zone_at(vt_zone_counters *zc, uint32_t loc)
{
    if (loc >= zc->cap_loc) {
        size_t old = zc->cap_loc;
        if (vt_grow(&zc->zone_of_loc, &zc->cap_loc, (size_t)loc + 1, sizeof(uint32_t), 16))
            return NULL;
        memset(zc->zone_of_loc + old, 0, (zc->cap_loc - old) * sizeof(uint32_t));
    }
    if (zc->zone_of_loc[loc])
        return &zc->zones[zc->zone_of_loc[loc] - 1];
    if (vt_grow(&zc->zones, &zc->cap_zones, zc->n_zones + 1, sizeof(vt_zc_zone), 8))
        return NULL;
    vt_zc_zone *s = &zc->zones[zc->n_zones];
    memset(s, 0, sizeof(*s));
    s->loc = loc;
    s->scaled = calloc(VT_ZC_EVENTS_MAX, sizeof(double));
    s->raw = calloc(VT_ZC_EVENTS_MAX, sizeof(uint64_t));
    s->counted = calloc(VT_ZC_EVENTS_MAX, sizeof(uint64_t));
    s->enabled = calloc(VT_ZC_EVENTS_MAX, sizeof(uint64_t));
    s->running = calloc(VT_ZC_EVENTS_MAX, sizeof(uint64_t));
    if (!s->scaled || !s->raw || !s->counted || !s->enabled || !s->running) {
        free(s->scaled);
        free(s->raw);
        free(s->counted);
        free(s->enabled);
        free(s->running);
        return NULL;
    }
    zc->zone_of_loc[loc] = (uint32_t)++zc->n_zones;
    return s;
}

static int decode_event(vt_zone_counters *zc, struct vt_stream_dec *d)
{
    uint64_t v[6];
    for (int i = 0; i < 6; i++)
        GET(v[i]);
    if (v[0] >= VT_ZC_EVENTS_MAX || v[2] > VT_ZC_GROUP_NONE)
        return -1;
    if (v[0] >= zc->n_events) {
        if (vt_grow(&zc->events, &zc->cap_events, v[0] + 1, sizeof(vt_zc_event), 16))
            return VT_ENOMEM;
        memset(zc->events + zc->n_events, 0, (v[0] + 1 - zc->n_events) * sizeof(vt_zc_event));
        zc->n_events = v[0] + 1;
    }
    vt_zc_event *e = &zc->events[v[0]];
    e->status = (int)v[1];
    e->group = (int)v[2];
    e->type = (uint32_t)v[3];
    e->config = v[4];
    e->flags = (int)v[5];
    return vt_stream_get_str(d, &e->name);
}

static int decode_counts(vt_zone_counters *zc, const vt_zones *zones, struct vt_stream_dec *d)
{
    uint64_t site, groups, en, run, m, idx, count;
    GET(site);
    int64_t loc = vt__zones_zone_loc(zones, site);
    vt_zc_zone *s = NULL;
    zc->records++;
    if (loc < 0)
        zc->unmatched++;
    else if (!(s = zone_at(zc, (uint32_t)loc)))
        return VT_ENOMEM;
    GET(groups);
    if (groups > 2)
        return -1;
    if (s)
        s->calls++;
    for (uint64_t g = 0; g < groups; g++) {
        GET(en);
        GET(run);
        GET(m);
        if (m > VT_ZC_EVENTS_MAX)
            return -1;
        for (uint64_t k = 0; k < m; k++) {
            GET(idx);
            GET(count);
            if (idx >= VT_ZC_EVENTS_MAX)
                return -1;
            if (!s)
                continue;
            s->raw[idx] += count;
            s->counted[idx]++;
            s->enabled[idx] += en;
            s->running[idx] += run;
            /* Scaled call by call: the share of a call its group was on a counter. */
            if (run)
                s->scaled[idx] +=
                    run >= en ? (double)count : (double)count * (double)en / (double)run;
        }
    }
    return 0;
}

int vt__zc_decode(vt_zone_counters **zcp, const vt_zones *zones, uint8_t tag,
                  struct vt_stream_dec *d)
{
    if (!*zcp && !(*zcp = calloc(1, sizeof(vt_zone_counters))))
        return VT_ENOMEM;
    if (tag == VT_TAG_ZONE_COUNTER_EVENT)
        return decode_event(*zcp, d);
    if (tag == VT_TAG_ZONE_COUNTERS)
        return decode_counts(*zcp, zones, d);
    return -1;
}
#undef GET

const vt_zc_zone *vt_zc_zone_of(const vt_zone_counters *zc, uint32_t loc)
{
    if (!zc || loc >= zc->cap_loc || !zc->zone_of_loc[loc])
        return NULL;
    return &zc->zones[zc->zone_of_loc[loc] - 1];
}

int vt_zc_has(const vt_zone_counters *zc, const vt_zc_zone *s, size_t e)
{
    return s && e < zc->n_events && !zc->events[e].status && s->counted[e] && s->running[e];
}

long vt_zc_event_index(const vt_zone_counters *zc, const char *name)
{
    for (size_t i = 0; zc && i < zc->n_events; i++)
        if (zc->events[i].name && !strcmp(zc->events[i].name, name))
            return (long)i;
    return -1;
}

struct total_arg {
    const vt_zone_counters *zc;
    const vt_zc_zone *s;
};

double vt_zc_total(const vt_zone_counters *zc, const vt_zc_zone *s, const char *name)
{
    long e = vt_zc_event_index(zc, name);
    return e >= 0 && vt_zc_has(zc, s, (size_t)e) ? s->scaled[e] : -1;
}

double vt_zc_scale(const vt_zc_zone *s, size_t e)
{
    if (!s->running[e])
        return 0;
    return s->running[e] >= s->enabled[e] ? 1.0 : (double)s->enabled[e] / (double)s->running[e];
}

static double zone_total(const void *arg, const char *name)
{
    const struct total_arg *a = arg;
    return vt_zc_total(a->zc, a->s, name);
}

int vt_zc_ratios(const vt_zone_counters *zc, const vt_zc_zone *s, vt_cpu_ratio *out)
{
    struct total_arg a = {zc, s};
    return vt_cpu_ratios_by(zone_total, &a, out);
}

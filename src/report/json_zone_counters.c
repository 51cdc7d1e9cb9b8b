/* The JSON report's zone counters (docs/JSON.md, "zone_counters" in "zones"): the events with
 * their status, and per zone the totals and per-call averages of each counted event, and the
 * derived ratios (null where the machine did not count what they need). */
#include <stdio.h>

#include "analyze/zone_counters.h"
#include "report/json-int.h"
#include "util/json.h"

/* A JSON number (17 significant digits), or null. */
static void num(FILE *out, double v)
{
    vt_json_num_digits(out, v, 17);
}

static const char *group_name(int g)
{
    return g == VT_ZC_GROUP_SOFTWARE ? "software" : g == VT_ZC_GROUP_HARDWARE ? "hardware" : NULL;
}

static void zone_json(FILE *out, const vt_zone_counters *zc, const vt_zones *z,
                      const vt_zone_stats *zs)
{
    const vt_zc_zone *s = vt_zc_zone_of(zc, zs->loc);
    fputs("{\"name\":", out);
    vt__json_str(out, z->locs[zs->loc].name);
    fprintf(out, ",\"calls\":%llu,\"counted_calls\":%llu,\"counters\":{",
            (unsigned long long)zs->calls, (unsigned long long)(s ? s->calls : 0));
    for (size_t e = 0; e < zc->n_events; e++) {
        if (e)
            fputc(',', out);
        vt__json_str(out, zc->events[e].name ? zc->events[e].name : "?");
        if (!vt_zc_has(zc, s, e)) {
            fputs(":null", out);
            continue;
        }
        fputs(":{\"total\":", out);
        num(out, s->scaled[e]);
        fputs(",\"per_call\":", out);
        num(out, s->scaled[e] / (double)s->counted[e]);
        fprintf(out, ",\"raw\":%llu,\"calls\":%llu,\"scale\":", (unsigned long long)s->raw[e],
                (unsigned long long)s->counted[e]);
        num(out, vt_zc_scale(s, e));
        fputc('}', out);
    }
    fputs("},\"ratios\":{", out);
    vt_cpu_ratio r[VT_RATIOS];
    vt_zc_ratios(zc, s, r);
    for (int i = 0; i < VT_RATIOS; i++) {
        fprintf(out, "%s", i ? "," : "");
        vt__json_str(out, r[i].name);
        if (!s || !r[i].have) {
            fputs(":null", out);
            continue;
        }
        fputs(":{\"value\":", out);
        num(out, r[i].value);
        fputs(",\"formula\":", out);
        vt__json_str(out, r[i].formula);
        fputc('}', out);
    }
    fputs("}}", out);
}

void vt__json_zone_counters(FILE *out, const vt_model *m)
{
    const vt_zone_counters *zc = m->zone_counters;
    const vt_zones *z = &m->zones;
    if (!zc) {
        fputs(",\"zone_counters\":null", out);
        return;
    }
    fprintf(out, ",\"zone_counters\":{\"records\":%llu,\"unmatched\":%llu,\"events\":[",
            (unsigned long long)zc->records, (unsigned long long)zc->unmatched);
    for (size_t e = 0; e < zc->n_events; e++) {
        const vt_zc_event *ev = &zc->events[e];
        fputs(e ? ",{\"name\":" : "{\"name\":", out);
        vt__json_str(out, ev->name);
        fprintf(out,
                ",\"status\":\"%s\",\"errno\":%d,\"group\":", vt__json_event_status(ev->status),
                ev->status);
        vt__json_str(out, group_name(ev->group));
        fprintf(out, ",\"software\":%s,\"user\":%s,\"user_mode_only\":%s}",
                ev->flags & VT_CPU_EV_SOFTWARE ? "true" : "false",
                ev->flags & VT_CPU_EV_USER ? "true" : "false",
                ev->flags & VT_CPU_EV_USER_ONLY ? "true" : "false");
    }
    fputs("],\"zones\":[", out);
    for (size_t i = 0; i < z->n_zones; i++) {
        if (i)
            fputc(',', out);
        zone_json(out, zc, z, &z->zones[i]);
    }
    fputs("]}", out);
}

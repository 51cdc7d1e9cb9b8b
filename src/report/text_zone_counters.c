/* The text report's zone counters (analyze/zone_counters.h): per zone, the averages per call of
 * the counters read at its begin and end, and the ratios derived from them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analyze/zone_counters.h"
#include "report/text-int.h"

/* The software events, in the columns of the table. */
static const char *const columns[] = {"task-clock", "minor-faults", "major-faults",
                                      "context-switches", "cpu-migrations"};
static const char *const headers[] = {"task-clock", "minor-flt", "major-flt", "ctx-sw", "migr"};
#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

static const char *reason(int status, int hw)
{
    if (status == ENOENT || status == EOPNOTSUPP || status == ENODEV)
        return hw ? "no hardware PMU for it" : "no such event";
    if (status == EACCES || status == EPERM)
        return "refused: perf_event_paranoid or seccomp";
    if (status == EINVAL && hw)
        return "does not fit in one group with the others";
    if (status == ENODATA)
        return "not opened";
    return strerror(status);
}

static int is_column(const char *name)
{
    for (size_t k = 0; k < N_COLUMNS; k++)
        if (!strcmp(name, columns[k]))
            return 1;
    return 0;
}

static void zone_row(const struct ctx *c, const vt_zone_counters *zc, const vt_zone_stats *zs)
{
    FILE *out = c->out;
    const vt_zones *z = &c->m->zones;
    const vt_zc_zone *s = vt_zc_zone_of(zc, zs->loc);
    char b[64], cnt[48];
    snprintf(cnt, sizeof(cnt), "%llu/%llu", (unsigned long long)(s ? s->calls : 0),
             (unsigned long long)zs->calls);
    fprintf(out, "  %-24s %13s", z->locs[zs->loc].name, cnt);
    if (!s || !s->calls) {
        fprintf(out, "  (no call carried counters)\n");
        return;
    }
    double per = 1.0 / (double)s->calls;
    for (size_t k = 0; k < N_COLUMNS; k++) {
        long e = vt_zc_event_index(zc, columns[k]);
        if (e < 0 || !vt_zc_has(zc, s, (size_t)e))
            fprintf(out, " %10s", "-");
        else if (k == 0)
            fprintf(out, " %10s", vt__text_ns(s->scaled[e] * per, b, sizeof(b)));
        else
            fprintf(out, " %10.2f", s->scaled[e] * per);
        if (k == 0) {
            /* The share of the zone's wall time it ran on a CPU; only when every call was
             * counted (the wall time of the counted calls alone is not kept). */
            double wall = zs->total_ns;
            if (e >= 0 && vt_zc_has(zc, s, (size_t)e) && wall > 0 && s->calls == zs->calls)
                fprintf(out, " %8.0f%%", 100.0 * s->scaled[e] / wall);
            else
                fprintf(out, " %9s", "-");
        }
    }
    fputc('\n', out);
    /* Other events (hardware, --event): per call, on a line of their own. */
    int any = 0;
    for (size_t e = 0; e < zc->n_events; e++) {
        if (!zc->events[e].name || is_column(zc->events[e].name) || !vt_zc_has(zc, s, e))
            continue;
        double f = vt_zc_scale(s, e);
        if (!any)
            fprintf(out, "  %-24s per call:", "");
        fprintf(out, "%s %s %.1f", any ? "," : "", zc->events[e].name, s->scaled[e] * per);
        if (f > 1.0)
            fprintf(out, " (x%.2f multiplexed)", f);
        any = 1;
    }
    if (any)
        fputc('\n', out);
    vt_cpu_ratio r[VT_RATIOS];
    if (vt_zc_ratios(zc, s, r)) {
        fprintf(out, "  %-24s", "");
        any = 0;
        for (int i = 0; i < VT_RATIOS; i++) {
            if (!r[i].have)
                continue;
            int pct = i == VT_RATIO_BRANCH_MISS || i == VT_RATIO_L1_MISS || i == VT_RATIO_LLC_MISS;
            fprintf(out, "%s%s %.*f%s", any ? ", " : " ", r[i].name,
                    pct || i == VT_RATIO_IPC ? 2 : 1, r[i].value, pct ? "%" : "");
            any = 1;
        }
        fputc('\n', out);
    }
}

/* The zone counters section, after the zones table (text_zones.c). */
void vt__text_zone_counters(const struct ctx *c)
{
    const vt_zone_counters *zc = c->m->zone_counters;
    const vt_zones *z = &c->m->zones;
    FILE *out = c->out;
    if (!zc || !zc->n_events)
        return;
    size_t n = z->n_zones < c->o->top ? z->n_zones : c->o->top;
    vt__text_section(c, "Zone counters, per call (read at each zone's begin and end)", n,
                     z->n_zones, "zones");
    if (!z->n_zones) {
        fprintf(out, "  no zone was recorded\n");
    } else {
        fprintf(out, "  %-24s %13s %10s %9s %10s %10s %10s %10s\n", "zone", "counted/calls",
                headers[0], "CPU/wall", headers[1], headers[2], headers[3], headers[4]);
        for (size_t i = 0; i < n; i++)
            zone_row(c, zc, &z->zones[i]);
    }
    int hw_missing = 0, hw_counted = 0, user_only = 0;
    for (size_t e = 0; e < zc->n_events; e++) {
        const vt_zc_event *ev = &zc->events[e];
        int hw = !(ev->flags & VT_CPU_EV_SOFTWARE);
        if (!ev->status) {
            hw_counted += hw;
            user_only += (ev->flags & VT_CPU_EV_USER_ONLY) != 0;
            continue;
        }
        hw_missing += hw;
        fprintf(out, "  %-24s unsupported on this machine (%s)\n", ev->name ? ev->name : "?",
                reason(ev->status, hw));
    }
    if (user_only)
        fprintf(out,
                "  (counted in user mode only, as perf_event_paranoid allows: context switches "
                "and migrations, which happen in the kernel, read 0, and task-clock leaves "
                "out the time in the kernel)\n");
    if (hw_missing && !hw_counted)
        fprintf(out, "  (no hardware counter: this machine, often a VM, has no PMU; so no IPC or "
                     "miss rates per zone; the software counters above still count)\n");
    fprintf(out, "  (each boundary reads the counters with one read(2) per group: the zone's "
                 "figures include part of that cost)\n");
    if (zc->unmatched)
        fprintf(out, "  %llu counter records had no zone open on their thread\n",
                (unsigned long long)zc->unmatched);
}

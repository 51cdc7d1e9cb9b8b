/* The text report's sections of libvitals' records: zones, counters and gauges, frames, tasks,
 * pools and caches (analyze/zones.h). */
#include <stdio.h>
#include <string.h>

#include "report/text-int.h"

const char *vt__text_ns(double ns, char *buf, size_t n)
{
    if (ns < 1e3)
        snprintf(buf, n, "%.0f ns", ns);
    else if (ns < 1e6)
        snprintf(buf, n, "%.3g us", ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, n, "%.3g ms", ns / 1e6);
    else
        snprintf(buf, n, "%.3g s", ns / 1e9);
    return buf;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void zones_section(const struct ctx *c, const vt_zones *z)
{
    FILE *out = c->out;
    size_t n = z->n_zones < c->o->top ? z->n_zones : c->o->top;
    char b[10][32];
    if (!z->n_zones)
        return;
    vt__text_section(c, "Zones, by total time", n, z->n_zones, "zones");
    fprintf(out, "  %-24s %9s %7s %10s %10s %10s %10s %10s %10s %10s\n", "zone", "calls", "errors",
            "total", "mean", "p50", "p90", "p99", "p99.9", "max");
    for (size_t i = 0; i < n; i++) {
        const vt_zone_stats *s = &z->zones[i];
        const vt_location *l = &z->locs[s->loc];
        fprintf(out, "  %-24s %9llu %7llu %10s %10s %10s %10s %10s %10s %10s\n", l->name,
                (unsigned long long)s->calls, (unsigned long long)s->errors,
                vt__text_ns(s->total_ns, b[0], 32), vt__text_ns(s->mean_ns, b[1], 32),
                vt__text_ns(s->p50_ns, b[2], 32), vt__text_ns(s->p90_ns, b[3], 32),
                vt__text_ns(s->p99_ns, b[4], 32), vt__text_ns(s->p999_ns, b[5], 32),
                vt__text_ns(s->max_ns, b[6], 32));
        fprintf(out, "  %-24s at %s:%u in %s; min %s, stddev %s, p95 %s; %.1f calls/s", "",
                base_name(l->file), l->line, l->function, vt__text_ns(s->min_ns, b[0], 32),
                vt__text_ns(s->stddev_ns, b[1], 32), vt__text_ns(s->p95_ns, b[2], 32),
                s->rate_per_s);
        if (s->trend_pct != 0)
            fprintf(out, "; trend %+.1f%% over the run", s->trend_pct);
        if (!z->zones_only)
            fprintf(out, "; %llu allocations, %s inside", (unsigned long long)s->alloc_calls,
                    vt_fmt_bytes(s->alloc_bytes, b[3], 32));
        fputc('\n', out);
    }
    fprintf(out, "  (percentiles from a log-linear histogram: within 1.6%% of the exact value)\n");
    if (z->unmatched_ends || z->open_at_end)
        fprintf(out, "  %llu zone or task ends without a begin; %llu still open at the end\n",
                (unsigned long long)z->unmatched_ends, (unsigned long long)z->open_at_end);
    if (z->zones_lost)
        fprintf(out, "  %llu zone calls not recorded (nested too deep, or too many call sites)\n",
                (unsigned long long)z->zones_lost);
}

static void counters_section(const struct ctx *c, const vt_zones *z)
{
    FILE *out = c->out;
    if (!z->n_counters)
        return;
    vt__text_section(c, "Counters and gauges", z->n_counters, z->n_counters, "");
    for (size_t i = 0; i < z->n_counters; i++) {
        const vt_counter_stats *s = &z->counters[i];
        if (s->gauge)
            fprintf(out, "  gauge   %-24s last %g, min %g, max %g (%llu updates)\n",
                    z->locs[s->loc].name, s->last, s->min, s->max, (unsigned long long)s->updates);
        else
            fprintf(out, "  counter %-24s total %lld (%llu updates)\n", z->locs[s->loc].name,
                    (long long)s->total, (unsigned long long)s->updates);
    }
}

static void frames_section(const struct ctx *c, const vt_zones *z)
{
    FILE *out = c->out;
    char b[4][32];
    if (!z->n_frames)
        return;
    vt__text_section(c, "Frames", z->n_frames, z->n_frames, "");
    for (size_t i = 0; i < z->n_frames; i++) {
        const vt_frame_stats *f = &z->frames[i];
        fprintf(out,
                "  %-24s %llu marks, %.1f per second; interval mean %s, p50 %s, p99 %s, "
                "max %s\n",
                f->loc == UINT32_MAX ? "(main loop)" : z->locs[f->loc].name,
                (unsigned long long)f->marks, f->per_s, vt__text_ns(f->mean_ns, b[0], 32),
                vt__text_ns(f->p50_ns, b[1], 32), vt__text_ns(f->p99_ns, b[2], 32),
                vt__text_ns(f->max_ns, b[3], 32));
    }
}

static void tasks_section(const struct ctx *c, const vt_zones *z)
{
    FILE *out = c->out;
    char b[6][32];
    if (!z->n_tasks)
        return;
    vt__text_section(c, "Tasks, by kind", z->n_kinds, z->n_kinds, "");
    if (z->tasks_not_kept)
        fprintf(out, "  (the first %zu tasks; %llu more ended later and are left out)\n",
                z->n_tasks, (unsigned long long)z->tasks_not_kept);
    for (size_t i = 0; i < z->n_kinds; i++) {
        const vt_task_kind *k = &z->kinds[i];
        fprintf(out,
                "  %-20s %s: %llu task%s, median wall %s, CPU %s (efficiency %.0f%%, with the "
                "wait for a CPU %.0f%%)\n",
                vt_zones_name(z, k->kind), vt_task_class_name(k->cls), (unsigned long long)k->tasks,
                k->tasks == 1 ? "" : "s", vt__text_ns((double)k->wall_ns, b[0], 32),
                vt__text_ns((double)k->cpu_ns, b[1], 32), 100 * k->efficiency, 100 * k->demand);
        fprintf(out, "  %-20s because %s\n", "", k->evidence);
    }
    size_t n = z->n_tasks < c->o->top ? z->n_tasks : c->o->top;
    /* The slowest against their kind's median, in order. */
    size_t *idx = malloc(z->n_tasks * sizeof(*idx));
    if (!idx)
        return;
    for (size_t i = 0; i < z->n_tasks; i++)
        idx[i] = i;
    for (size_t i = 0; i < n; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < z->n_tasks; j++)
            if (z->tasks[idx[j]].vs_baseline > z->tasks[idx[best]].vs_baseline)
                best = j;
        size_t t = idx[i];
        idx[i] = idx[best];
        idx[best] = t;
    }
    vt__text_section(c, "Tasks against their kind's median wall time", n, z->n_tasks, "tasks");
    fprintf(out, "  %-20s %-16s %6s %10s %10s %10s %5s %10s %10s %6s %6s\n", "task", "kind",
            "x med", "wall", "user", "sys", "allocs", "alloc B", "I/O B", "vcsw", "ivcsw");
    for (size_t i = 0; i < n; i++) {
        const vt_task *t = &z->tasks[idx[i]];
        fprintf(out, "  %-20s %-16s %6.2f %10s %10s %10s %5llu %10s %10s %6llu %6llu\n",
                vt_zones_name(z, t->name), vt_zones_name(z, t->kind), t->vs_baseline,
                vt__text_ns((double)t->wall_ns, b[0], 32),
                vt__text_ns((double)t->user_ns, b[1], 32), vt__text_ns((double)t->sys_ns, b[2], 32),
                (unsigned long long)t->alloc_calls, vt_fmt_bytes(t->alloc_bytes, b[3], 32),
                vt_fmt_bytes(t->rchar + t->wchar, b[4], 32), (unsigned long long)t->vcsw,
                (unsigned long long)t->ivcsw);
    }
    free(idx);
}

static void objects_section(const struct ctx *c, const vt_zones *z)
{
    FILE *out = c->out;
    char b[6][32];
    if (!z->n_objects)
        return;
    vt__text_section(c, "Pools and caches (their last recorded figures)", z->n_objects,
                     z->n_objects, "");
    for (size_t i = 0; i < z->n_objects; i++) {
        const vt_lib_object *o = &z->objects[i];
        const uint64_t *v = o->v;
        const char *when = o->final ? "when freed" : "at the end";
        if (!o->cache) {
            double reuse =
                v[VT_POOL_ACQUIRES] ? (double)v[VT_POOL_REUSED] / (double)v[VT_POOL_ACQUIRES] : 0;
            fprintf(
                out,
                "  pool  %-20s %s: %llu objects of %llu bytes created, %llu in use, high "
                "water %llu; %llu acquires: %llu from the pool, %llu from malloc; reuse "
                "%.1f%%\n",
                z->locs[o->loc].name, when, (unsigned long long)v[VT_POOL_CREATED],
                (unsigned long long)v[VT_POOL_OBJECT_SIZE], (unsigned long long)v[VT_POOL_IN_USE],
                (unsigned long long)v[VT_POOL_HIGH_WATER], (unsigned long long)v[VT_POOL_ACQUIRES],
                (unsigned long long)v[VT_POOL_SERVED_POOL],
                (unsigned long long)v[VT_POOL_SERVED_MALLOC], 100 * reuse);
        } else {
            double hit = v[VT_CACHE_GETS] ? (double)v[VT_CACHE_HITS] / (double)v[VT_CACHE_GETS] : 0;
            double ratio = v[VT_CACHE_BYTES_COMPRESSED] ? (double)v[VT_CACHE_RAW_BYTES_COMPRESSED] /
                                                              (double)v[VT_CACHE_BYTES_COMPRESSED]
                                                        : 0;
            fprintf(out,
                    "  cache %-20s %s: %llu gets, hit rate %.1f%% (%llu in the main tier, %llu "
                    "compressed), %llu misses; %llu evictions, %llu expirations\n",
                    z->locs[o->loc].name, when, (unsigned long long)v[VT_CACHE_GETS], 100 * hit,
                    (unsigned long long)(v[VT_CACHE_HITS] - v[VT_CACHE_HITS_COMPRESSED]),
                    (unsigned long long)v[VT_CACHE_HITS_COMPRESSED],
                    (unsigned long long)v[VT_CACHE_MISSES],
                    (unsigned long long)v[VT_CACHE_EVICTIONS],
                    (unsigned long long)v[VT_CACHE_EXPIRATIONS]);
            fprintf(out,
                    "  %-26s bytes: %s main, %s compressed (ratio %.2f); lookup avg %s, p99 %s "
                    "(%llu timed)\n",
                    "", vt_fmt_bytes(v[VT_CACHE_BYTES], b[0], 32),
                    vt_fmt_bytes(v[VT_CACHE_BYTES_COMPRESSED], b[1], 32), ratio,
                    vt__text_ns((double)v[VT_CACHE_LOOKUP_AVG_PS] / 1000, b[2], 32),
                    vt__text_ns((double)v[VT_CACHE_LOOKUP_P99_PS] / 1000, b[3], 32),
                    (unsigned long long)v[VT_CACHE_TIMED_GETS]);
        }
    }
}

void vt__text_zones(const struct ctx *c)
{
    const vt_zones *z = &c->m->zones;
    if (!z->present)
        return;
    if (z->zones_only)
        fprintf(c->out, "\nRecorded with VITALS_TRACE, without `vitals run`: zones, counters and "
                        "tasks only, no allocations.\n");
    zones_section(c, z);
    vt__text_zone_counters(c);
    counters_section(c, z);
    frames_section(c, z);
    tasks_section(c, z);
    objects_section(c, z);
}

void vt__text_zones_summary(const vt_model *m, FILE *out)
{
    const vt_zones *z = &m->zones;
    uint64_t calls = 0;
    char b[32];
    for (size_t i = 0; i < z->n_zones; i++)
        calls += z->zones[i].calls;
    fprintf(out, "vitals: %zu zone%s (%llu calls)", z->n_zones, z->n_zones == 1 ? "" : "s",
            (unsigned long long)calls);
    if (z->n_zones) {
        const vt_zone_stats *s = &z->zones[0];
        fprintf(out, ", most time in '%s': %s over %llu calls, p99 %s", z->locs[s->loc].name,
                vt__text_ns(s->total_ns, b, sizeof(b)), (unsigned long long)s->calls,
                vt__text_ns(s->p99_ns, (char[32]){0}, 32));
    }
    if (z->n_counters)
        fprintf(out, "; %zu counters and gauges", z->n_counters);
    if (z->n_tasks)
        fprintf(out, "; %zu tasks of %zu kinds", z->n_tasks, z->n_kinds);
    if (z->n_objects)
        fprintf(out, "; %zu pools and caches", z->n_objects);
    fputc('\n', out);
}

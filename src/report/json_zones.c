/* The JSON report's "zones" object: libvitals' records (docs/JSON.md, from schema version 2).
 * Times in ns; durations are fractional (they come from TSC ticks). */
#include <stdio.h>

#include "report/json-int.h"
#include "util/json.h"

/* A JSON number (17 significant digits), or null. */
static void num(FILE *out, double v)
{
    vt_json_num_digits(out, v, 17);
}

static void loc_fields(FILE *out, const vt_location *l)
{
    fputs("\"name\":", out);
    vt__json_str(out, l->name);
    fputs(",\"function\":", out);
    vt__json_str(out, l->function[0] ? l->function : NULL);
    fputs(",\"file\":", out);
    vt__json_str(out, l->file[0] ? l->file : NULL);
    fprintf(out, ",\"line\":%u", l->line);
}

static void windows(FILE *out, const vt_window *w, size_t n, int zone)
{
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s{\"start_ns\":%llu,\"n\":%llu", i ? "," : "",
                (unsigned long long)w[i].start_ns, (unsigned long long)w[i].n);
        if (zone) {
            fputs(",\"mean_ns\":", out);
            num(out, w[i].n ? w[i].sum / (double)w[i].n : 0);
        } else {
            fputs(",\"value\":", out);
            num(out, w[i].last);
        }
        fputc('}', out);
    }
    fputc(']', out);
}

static void zones_json(FILE *out, const vt_zones *z)
{
    fputc('[', out);
    for (size_t i = 0; i < z->n_zones; i++) {
        const vt_zone_stats *s = &z->zones[i];
        fputs(i ? ",{" : "{", out);
        loc_fields(out, &z->locs[s->loc]);
        fprintf(out, ",\"calls\":%llu,\"errors\":%llu", (unsigned long long)s->calls,
                (unsigned long long)s->errors);
        const char *names[] = {"total_ns",   "min_ns",         "max_ns",   "mean_ns", "stddev_ns",
                               "p50_ns",     "p90_ns",         "p95_ns",   "p99_ns",  "p999_ns",
                               "rate_per_s", "trend_ns_per_s", "trend_pct"};
        double vals[] = {s->total_ns,   s->min_ns,         s->max_ns,   s->mean_ns, s->stddev_ns,
                         s->p50_ns,     s->p90_ns,         s->p95_ns,   s->p99_ns,  s->p999_ns,
                         s->rate_per_s, s->trend_ns_per_s, s->trend_pct};
        for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
            fprintf(out, ",\"%s\":", names[k]);
            num(out, vals[k]);
        }
        if (z->zones_only)
            fputs(",\"alloc_calls\":null,\"alloc_bytes\":null", out);
        else
            fprintf(out, ",\"alloc_calls\":%llu,\"alloc_bytes\":%llu",
                    (unsigned long long)s->alloc_calls, (unsigned long long)s->alloc_bytes);
        fputs(",\"windows\":", out);
        windows(out, s->windows, s->n_windows, 1);
        fputc('}', out);
    }
    fputc(']', out);
}

static void counters_json(FILE *out, const vt_zones *z, int gauge)
{
    int first = 1;
    fputc('[', out);
    for (size_t i = 0; i < z->n_counters; i++) {
        const vt_counter_stats *s = &z->counters[i];
        if (s->gauge != gauge)
            continue;
        fputs(first ? "{\"name\":" : ",{\"name\":", out);
        first = 0;
        vt__json_str(out, z->locs[s->loc].name);
        fprintf(out, ",\"updates\":%llu", (unsigned long long)s->updates);
        if (gauge) {
            fputs(",\"last\":", out);
            num(out, s->last);
            fputs(",\"min\":", out);
            num(out, s->min);
            fputs(",\"max\":", out);
            num(out, s->max);
        } else {
            fprintf(out, ",\"total\":%lld", (long long)s->total);
        }
        fputs(",\"series\":", out);
        windows(out, s->windows, s->n_windows, 0);
        fputc('}', out);
    }
    fputc(']', out);
}

static void frames_json(FILE *out, const vt_zones *z)
{
    fputc('[', out);
    for (size_t i = 0; i < z->n_frames; i++) {
        const vt_frame_stats *f = &z->frames[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        vt__json_str(out, f->loc == UINT32_MAX ? NULL : z->locs[f->loc].name);
        fprintf(out, ",\"marks\":%llu,\"per_s\":", (unsigned long long)f->marks);
        num(out, f->per_s);
        fputs(",\"interval_mean_ns\":", out);
        num(out, f->mean_ns);
        fputs(",\"interval_p50_ns\":", out);
        num(out, f->p50_ns);
        fputs(",\"interval_p99_ns\":", out);
        num(out, f->p99_ns);
        fputs(",\"interval_max_ns\":", out);
        num(out, f->max_ns);
        fputc('}', out);
    }
    fputc(']', out);
}

static void tasks_json(FILE *out, const vt_zones *z)
{
    fputs("\"task_kinds\":[", out);
    for (size_t i = 0; i < z->n_kinds; i++) {
        const vt_task_kind *k = &z->kinds[i];
        fputs(i ? ",{\"kind\":" : "{\"kind\":", out);
        vt__json_str(out, vt_zones_name(z, k->kind));
        fprintf(out, ",\"class\":\"%s\",\"evidence\":", vt_task_class_key(k->cls));
        vt__json_str(out, k->evidence);
        fprintf(out,
                ",\"tasks\":%llu,\"median_wall_ns\":%llu,\"median_cpu_ns\":%llu,"
                "\"median_alloc_bytes\":%llu,\"median_alloc_calls\":%llu,\"median_io_bytes\":%llu,"
                "\"median_vcsw\":%llu,\"median_ivcsw\":%llu,\"median_run_delay_ns\":%llu,"
                "\"efficiency\":",
                (unsigned long long)k->tasks, (unsigned long long)k->wall_ns,
                (unsigned long long)k->cpu_ns, (unsigned long long)k->alloc_bytes,
                (unsigned long long)k->alloc_calls, (unsigned long long)k->io_bytes,
                (unsigned long long)k->vcsw, (unsigned long long)k->ivcsw,
                (unsigned long long)k->run_delay_ns);
        num(out, k->efficiency);
        fputs(",\"demand\":", out);
        num(out, k->demand);
        fputc('}', out);
    }
    fputs("],\"tasks\":[", out);
    for (size_t i = 0; i < z->n_tasks; i++) {
        const vt_task *t = &z->tasks[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        vt__json_str(out, vt_zones_name(z, t->name));
        fputs(",\"kind\":", out);
        vt__json_str(out, vt_zones_name(z, t->kind));
        fprintf(out,
                ",\"thread\":%u,\"start_ns\":%llu,\"wall_ns\":%llu,\"user_ns\":%llu,"
                "\"sys_ns\":%llu,\"vcsw\":%llu,\"ivcsw\":%llu,\"alloc_calls\":%llu,"
                "\"alloc_bytes\":%llu",
                t->thread, (unsigned long long)t->start_ns, (unsigned long long)t->wall_ns,
                (unsigned long long)t->user_ns, (unsigned long long)t->sys_ns,
                (unsigned long long)t->vcsw, (unsigned long long)t->ivcsw,
                (unsigned long long)t->alloc_calls, (unsigned long long)t->alloc_bytes);
        if (t->has_io)
            fprintf(out, ",\"rchar\":%llu,\"wchar\":%llu,\"read_bytes\":%llu,\"write_bytes\":%llu",
                    (unsigned long long)t->rchar, (unsigned long long)t->wchar,
                    (unsigned long long)t->read_bytes, (unsigned long long)t->write_bytes);
        else
            fputs(",\"rchar\":null,\"wchar\":null,\"read_bytes\":null,\"write_bytes\":null", out);
        if (t->has_sched)
            fprintf(out, ",\"run_delay_ns\":%llu", (unsigned long long)t->run_delay_ns);
        else
            fputs(",\"run_delay_ns\":null", out);
        fputs(",\"vs_baseline\":", out);
        num(out, t->vs_baseline);
        fputc('}', out);
    }
    fputc(']', out);
}

static void objects_json(FILE *out, const vt_zones *z, int cache)
{
    static const char *const pool_keys[VT_POOL_FIELDS] = {
        "object_size", "max",         "created",       "in_use", "high_water",
        "acquires",    "served_pool", "served_malloc", "reused", "releases"};
    static const char *const cache_keys[VT_CACHE_FIELDS] = {"gets",
                                                            "hits",
                                                            "hits_compressed",
                                                            "misses",
                                                            "puts",
                                                            "evictions",
                                                            "demotions",
                                                            "expirations",
                                                            "entries",
                                                            "entries_compressed",
                                                            "bytes",
                                                            "bytes_compressed",
                                                            "raw_bytes_compressed",
                                                            "timed_gets",
                                                            "lookup_avg_ps",
                                                            "lookup_p99_ps"};
    int first = 1;
    fputc('[', out);
    for (size_t i = 0; i < z->n_objects; i++) {
        const vt_lib_object *o = &z->objects[i];
        if (o->cache != cache)
            continue;
        fputs(first ? "{\"name\":" : ",{\"name\":", out);
        first = 0;
        vt__json_str(out, z->locs[o->loc].name);
        fprintf(out, ",\"final\":%s,\"samples\":%llu,\"at_ns\":%llu", o->final ? "true" : "false",
                (unsigned long long)o->samples, (unsigned long long)o->ns);
        int n = cache ? VT_CACHE_FIELDS : VT_POOL_FIELDS;
        for (int f = 0; f < n; f++)
            fprintf(out, ",\"%s\":%llu", cache ? cache_keys[f] : pool_keys[f],
                    (unsigned long long)o->v[f]);
        const uint64_t *v = o->v;
        if (cache) {
            fputs(",\"hit_rate\":", out);
            num(out, v[VT_CACHE_GETS] ? (double)v[VT_CACHE_HITS] / (double)v[VT_CACHE_GETS] : 0);
            fputs(",\"compression_ratio\":", out);
            num(out, v[VT_CACHE_BYTES_COMPRESSED] ? (double)v[VT_CACHE_RAW_BYTES_COMPRESSED] /
                                                        (double)v[VT_CACHE_BYTES_COMPRESSED]
                                                  : 0);
        } else {
            fputs(",\"reuse_ratio\":", out);
            num(out,
                v[VT_POOL_ACQUIRES] ? (double)v[VT_POOL_REUSED] / (double)v[VT_POOL_ACQUIRES] : 0);
        }
        fputc('}', out);
    }
    fputc(']', out);
}

void vt__json_zones(FILE *out, const vt_model *m)
{
    const vt_zones *z = &m->zones;
    fprintf(out,
            ",\"zones\":{\"present\":%s,\"zones_only\":%s,\"unmatched_ends\":%llu,"
            "\"open_at_end\":%llu,\"unknown_ids\":%llu,\"tasks_not_kept\":%llu",
            z->present ? "true" : "false", z->zones_only ? "true" : "false",
            (unsigned long long)z->unmatched_ends, (unsigned long long)z->open_at_end,
            (unsigned long long)z->unknown_ids, (unsigned long long)z->tasks_not_kept);
    fprintf(out, ",\"aggregated\":%s,\"spans_limit\":%llu,\"zones_lost\":%llu,\"zones\":",
            z->aggregated ? "true" : "false", (unsigned long long)z->spans_limit,
            (unsigned long long)z->zones_lost);
    zones_json(out, z);
    fputs(",\"counters\":", out);
    counters_json(out, z, 0);
    fputs(",\"gauges\":", out);
    counters_json(out, z, 1);
    fputs(",\"frames\":", out);
    frames_json(out, z);
    fputc(',', out);
    tasks_json(out, z);
    fputs(",\"pools\":", out);
    objects_json(out, z, 0);
    fputs(",\"caches\":", out);
    objects_json(out, z, 1);
    vt__json_zone_counters(out, m);
    fputc('}', out);
}

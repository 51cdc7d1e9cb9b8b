/* libvitals' records in the model: zones, counters, gauges, frames, tasks, pools and caches
 * (zones.h). Memory: per call site, counter, frame, pool or cache a fixed record (a zone's
 * histogram is VT_LOGHIST_BUCKETS counters), per thread its open zones and tasks, and one
 * record per finished task. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/zones.h"
#include "util/array.h"
#include "util/error.h"
#include "util/varint.h"

struct open_zone {
    uint32_t zone;
    uint64_t start;
};

struct open_task {
    uint32_t name, kind;
    uint64_t start; /* TIME of TASK_BEGIN, ticks */
    uint64_t usage[VT_TASK_FIELDS];
    uint64_t alloc_calls, alloc_bytes;
};

struct zthread {
    uint32_t stats_zone; /* zone index + 1 of its last ZONE_STATS: its ZONE_HIST go there */
    struct open_zone *zones;
    size_t n_zones, zones_cap;
    struct open_task *tasks;
    size_t n_tasks, tasks_cap;
};

struct priv {
    uint32_t *loc_of_id; /* id -> loc index + 1 (0: undefined) */
    size_t ids_cap;
    uint32_t *obj_of_loc; /* loc index -> its zone, counter, frame or object index + 1 */
    size_t obj_cap;
    struct zthread *threads;
    size_t threads_cap;
    size_t locs_cap, zones_cap, counters_cap, frames_cap, tasks_cap, objects_cap, spans_cap;
    uint64_t base; /* the first record's time: windows start there */
    int have_base;
    uint64_t open_agent; /* zones open at the end, by the agent's ZONE_AGG records */
    uint32_t main_frame; /* frame index + 1 of the unnamed frame */
};

static struct priv *priv_of(vt_zones *z)
{
    if (!z->priv)
        z->priv = calloc(1, sizeof(struct priv));
    return z->priv;
}

int vt__zones_location(vt_zones *z, vt_stream_dec *d)
{
    struct priv *P = priv_of(z);
    uint64_t id, kind, line;
    vt_location loc = {0};
    int r = -1;
    if (!P)
        return VT_ENOMEM;
    if (vt_stream_get(d, VT_COL_MISC, &id) || vt_stream_get(d, VT_COL_MISC, &kind) || id == 0 ||
        id > (1u << 20) || kind >= VT_LOC_KINDS)
        return -1;
    if ((r = vt_stream_get_str(d, &loc.name)) || (r = vt_stream_get_str(d, &loc.function)) ||
        (r = vt_stream_get_str(d, &loc.file)))
        goto fail;
    r = -1;
    if (vt_stream_get(d, VT_COL_MISC, &line) || line > UINT32_MAX)
        goto fail;
    loc.kind = (uint32_t)kind;
    loc.line = (uint32_t)line;
    if (!loc.name[0] && loc.function[0]) {
        free(loc.name);
        loc.name = strdup(loc.function);
        if (!loc.name) {
            r = VT_ENOMEM;
            goto fail;
        }
    }
    r = VT_ENOMEM;
    size_t ids_before = P->ids_cap;
    if (vt_grow(&z->locs, &P->locs_cap, z->n_locs + 1, sizeof(*z->locs), 64) ||
        vt_grow(&P->loc_of_id, &P->ids_cap, id + 1, sizeof(*P->loc_of_id), 64) ||
        vt_grow(&P->obj_of_loc, &P->obj_cap, z->n_locs + 1, sizeof(*P->obj_of_loc), 64))
        goto fail;
    for (size_t i = z->n_locs; i < P->obj_cap; i++)
        P->obj_of_loc[i] = 0;
    for (size_t i = ids_before; i < P->ids_cap; i++)
        P->loc_of_id[i] = 0;
    if (P->loc_of_id[id]) {
        r = -1; /* defined twice */
        goto fail;
    }
    z->locs[z->n_locs] = loc;
    P->loc_of_id[id] = (uint32_t)++z->n_locs;
    z->present = 1;
    return 0;
fail:
    free(loc.name);
    free(loc.function);
    free(loc.file);
    return r;
}

/* The loc index of id if it is of kind, or -1. */
static int64_t loc_of(vt_zones *z, uint64_t id, uint32_t kind)
{
    struct priv *P = z->priv;
    if (!P || id >= P->ids_cap || !P->loc_of_id[id] || z->locs[P->loc_of_id[id] - 1].kind != kind) {
        z->unknown_ids++;
        return -1;
    }
    return P->loc_of_id[id] - 1;
}

static struct zthread *thread_of(vt_zones *z, int64_t thread)
{
    struct priv *P = z->priv;
    if (thread < 0 || thread > (1 << 22))
        return NULL;
    size_t old = P->threads_cap;
    if (vt_grow(&P->threads, &P->threads_cap, (size_t)thread + 1, sizeof(*P->threads), 16))
        return NULL;
    memset(P->threads + old, 0, (P->threads_cap - old) * sizeof(*P->threads));
    return &P->threads[thread];
}

static void window_reset(vt_window *w)
{
    w->n = 0;
    w->sum = 0;
    w->min = INFINITY;
    w->max = -INFINITY;
    w->last = NAN;
}

/* The window of time t in a series (times in ticks during the pass). */
static vt_window *window_at(vt_window *w, size_t *n, uint64_t *width, uint64_t base, uint64_t t)
{
    if (!*width)
        *width = 1u << 12; /* about 1.4 us at 3 GHz; doubled as the run goes on */
    uint64_t off = t > base ? t - base : 0;
    while (off / *width >= VT_ZONE_WINDOWS) {
        size_t m = (*n + 1) / 2;
        for (size_t j = 0; j < m; j++) {
            vt_window a = w[2 * j];
            if (2 * j + 1 < *n) {
                const vt_window *b = &w[2 * j + 1];
                a.n += b->n;
                a.sum += b->sum;
                a.min = fmin(a.min, b->min);
                a.max = fmax(a.max, b->max);
                if (!isnan(b->last))
                    a.last = b->last;
            }
            a.start_ns = base + j * *width * 2;
            w[j] = a;
        }
        *n = m;
        *width *= 2;
    }
    size_t i = (size_t)(off / *width);
    while (*n <= i) {
        window_reset(&w[*n]);
        w[*n].start_ns = base + *n * *width;
        (*n)++;
    }
    return &w[i];
}

static uint32_t obj_index(vt_zones *z, int64_t loc, size_t *n, void *arr, size_t *cap, size_t elem,
                          int *is_new)
{
    struct priv *P = z->priv;
    *is_new = 0;
    if (P->obj_of_loc[loc])
        return P->obj_of_loc[loc] - 1;
    if (vt_grow(arr, cap, *n + 1, elem, 16))
        return UINT32_MAX;
    memset((char *)*(void **)arr + *n * elem, 0, elem);
    P->obj_of_loc[loc] = (uint32_t)++ * n;
    *is_new = 1;
    return (uint32_t)(*n - 1);
}

static void zone_end(vt_zones *z, struct zthread *th, uint64_t dur, uint64_t flags)
{
    struct priv *P = z->priv;
    struct open_zone oz = th->zones[--th->n_zones];
    vt_zone_stats *s = &z->zones[oz.zone];
    if (z->n_spans >= VT_ZONE_SPANS_KEPT ||
        vt_grow(&z->spans, &P->spans_cap, z->n_spans + 1, sizeof(*z->spans), 1024))
        z->spans_not_kept++;
    else
        z->spans[z->n_spans++] = (vt_zone_span){s->loc, (uint32_t)(th - P->threads),
                                                oz.start /* ticks until finish */, dur};
    if (z->aggregated)
        return; /* the figures come from ZONE_STATS */
    s->calls++;
    if (flags & VT_ZONE_FAILED)
        s->errors++;
    s->total_t += dur;
    if (s->calls == 1 || dur < s->min_t)
        s->min_t = dur;
    if (dur > s->max_t)
        s->max_t = dur;
    double delta = (double)dur - s->mean_t;
    s->mean_t += delta / (double)s->calls;
    s->m2_t += delta * ((double)dur - s->mean_t);
    vt_loghist_add(&s->hist, dur);
    vt_window *w = window_at(s->windows, &s->n_windows, &s->win_width, P->base, oz.start);
    w->n++;
    w->sum += (double)dur;
    w->min = fmin(w->min, (double)dur);
    w->max = fmax(w->max, (double)dur);
}

/* Adds a ZONE_STATS record's figures v (VT_ZSTATS_FIELDS, at tick tsc) to s: Chan's pairwise
 * update of the mean and the squared deviations, so that the result is that of the calls one
 * by one. */
static void zone_stats_add(vt_zones *z, vt_zone_stats *s, const uint64_t *v, uint64_t tsc)
{
    struct priv *P = z->priv;
    uint64_t n = v[0], before = s->calls;
    s->alloc_calls += v[7];
    s->alloc_bytes += v[8];
    if (!n)
        return;
    double m2;
    memcpy(&m2, &v[5], sizeof(m2));
    if (!(m2 >= 0))
        m2 = 0;
    s->calls += n;
    s->errors += v[1];
    s->total_t += v[2];
    if (!before || v[3] < s->min_t)
        s->min_t = v[3];
    if (v[4] > s->max_t)
        s->max_t = v[4];
    double mean = (double)v[2] / (double)n, delta = mean - s->mean_t;
    s->mean_t += delta * (double)n / (double)s->calls;
    s->m2_t += m2 + delta * delta * (double)before * (double)n / (double)s->calls;
    uint64_t first = tsc > v[6] ? tsc - v[6] : 0;
    vt_window *w = window_at(s->windows, &s->n_windows, &s->win_width, P->base, first);
    w->n += n;
    w->sum += (double)v[2];
    w->min = fmin(w->min, (double)v[3]);
    w->max = fmax(w->max, (double)v[4]);
}

static int zone_agg_record(vt_zones *z, int tag, vt_stream_dec *d, struct zthread *th, uint64_t tsc)
{
    struct priv *P = z->priv;
    uint64_t a, v[2 * 64];
    int is_new;
    if (tag == VT_TAG_ZONE_HIST) {
        uint64_t n;
        if (vt_stream_get(d, VT_COL_MISC, &n) || n > 64)
            return -1;
        for (uint64_t i = 0; i < 2 * n; i++)
            if (vt_stream_get(d, VT_COL_MISC, &v[i]) || (i % 2 == 0 && v[i] >= VT_LOGHIST_BUCKETS))
                return -1;
        if (!th || !th->stats_zone)
            return 0;
        vt_zone_stats *s = &z->zones[th->stats_zone - 1];
        for (uint64_t i = 0; i < n; i++)
            if (vt_loghist_add_bucket(&s->hist, (unsigned)v[2 * i], v[2 * i + 1]))
                return VT_ENOMEM;
        return 0;
    }
    int stats = tag == VT_TAG_ZONE_STATS;
    if (stats && vt_stream_get(d, VT_COL_MISC, &a))
        return -1;
    for (int i = 0; i < (stats ? VT_ZSTATS_FIELDS : VT_ZAGG_FIELDS); i++)
        if (vt_stream_get(d, VT_COL_MISC, &v[i]))
            return -1;
    if (!stats) {
        if (!z->aggregated)
            z->spans_limit = v[0];
        z->aggregated = 1;
        P->open_agent += v[1];
        z->unmatched_ends += v[2];
        z->zones_lost += v[3];
        return 0;
    }
    if (!P->have_base) {
        /* The windows start with the first call, before the record's time. */
        P->base = tsc > v[6] ? tsc - v[6] : 0;
        P->have_base = 1;
    }
    if (!th)
        return 0;
    th->stats_zone = 0;
    int64_t loc = loc_of(z, a, VT_LOC_ZONE);
    if (loc < 0)
        return 0;
    uint32_t i =
        obj_index(z, loc, &z->n_zones, &z->zones, &P->zones_cap, sizeof(*z->zones), &is_new);
    if (i == UINT32_MAX)
        return VT_ENOMEM;
    if (is_new)
        z->zones[i].loc = (uint32_t)loc;
    th->stats_zone = i + 1;
    zone_stats_add(z, &z->zones[i], v, tsc);
    return 0;
}

static int do_record(vt_zones *z, int tag, vt_stream_dec *d, int64_t thread, uint64_t tsc)
{
    struct priv *P = z->priv;
    struct zthread *th = thread_of(z, thread);
    uint64_t a = 0, b = 0, u[VT_TASK_FIELDS];
    int is_new;
    int64_t loc, kind;
    if (tag == VT_TAG_ZONE_AGG || tag == VT_TAG_ZONE_HIST || tag == VT_TAG_ZONE_STATS)
        return zone_agg_record(z, tag, d, th, tsc);
    if (!P->have_base) {
        P->base = tsc;
        P->have_base = 1;
    }
    switch (tag) {
    case VT_TAG_ZONE_BEGIN: {
        if (vt_stream_get(d, VT_COL_MISC, &a))
            return -1;
        if (!th)
            return 0;
        if ((loc = loc_of(z, a, VT_LOC_ZONE)) < 0)
            return 0;
        uint32_t i =
            obj_index(z, loc, &z->n_zones, &z->zones, &P->zones_cap, sizeof(*z->zones), &is_new);
        if (i == UINT32_MAX ||
            vt_grow(&th->zones, &th->zones_cap, th->n_zones + 1, sizeof(*th->zones), 8))
            return VT_ENOMEM;
        if (is_new)
            z->zones[i].loc = (uint32_t)loc;
        th->zones[th->n_zones++] = (struct open_zone){i, tsc};
        return 0;
    }
    case VT_TAG_ZONE_END:
        if (vt_stream_get(d, VT_COL_MISC, &a) || vt_stream_get(d, VT_COL_MISC, &b))
            return -1;
        if (!th || !th->n_zones)
            z->unmatched_ends++;
        else
            zone_end(z, th, a, b);
        return 0;
    case VT_TAG_COUNTER:
    case VT_TAG_GAUGE: {
        if (vt_stream_get(d, VT_COL_MISC, &a) || vt_stream_get(d, VT_COL_MISC, &b))
            return -1;
        int gauge = tag == VT_TAG_GAUGE;
        if ((loc = loc_of(z, a, gauge ? VT_LOC_GAUGE : VT_LOC_COUNTER)) < 0)
            return 0;
        uint32_t i = obj_index(z, loc, &z->n_counters, &z->counters, &P->counters_cap,
                               sizeof(*z->counters), &is_new);
        if (i == UINT32_MAX)
            return VT_ENOMEM;
        vt_counter_stats *c = &z->counters[i];
        if (is_new) {
            c->loc = (uint32_t)loc;
            c->gauge = gauge;
            c->min = INFINITY;
            c->max = -INFINITY;
        }
        double v;
        if (gauge) {
            memcpy(&v, &b, sizeof(v));
            c->last = v;
            c->min = fmin(c->min, v);
            c->max = fmax(c->max, v);
        } else {
            int64_t n = vt_unzigzag(b);
            c->total += n;
            v = (double)n;
        }
        c->updates++;
        vt_window *w = window_at(c->windows, &c->n_windows, &c->win_width, P->base, tsc);
        w->n++;
        w->sum += v;
        w->min = fmin(w->min, v);
        w->max = fmax(w->max, v);
        w->last = gauge ? v : (double)c->total;
        return 0;
    }
    case VT_TAG_FRAME: {
        if (vt_stream_get(d, VT_COL_MISC, &a))
            return -1;
        uint32_t i;
        if (a == 0) {
            if (!P->main_frame) {
                if (vt_grow(&z->frames, &P->frames_cap, z->n_frames + 1, sizeof(*z->frames), 4))
                    return VT_ENOMEM;
                memset(&z->frames[z->n_frames], 0, sizeof(*z->frames));
                z->frames[z->n_frames].loc = UINT32_MAX;
                P->main_frame = (uint32_t)++z->n_frames;
            }
            i = P->main_frame - 1;
        } else {
            if ((loc = loc_of(z, a, VT_LOC_FRAME)) < 0)
                return 0;
            i = obj_index(z, loc, &z->n_frames, &z->frames, &P->frames_cap, sizeof(*z->frames),
                          &is_new);
            if (i == UINT32_MAX)
                return VT_ENOMEM;
            if (is_new)
                z->frames[i].loc = (uint32_t)loc;
        }
        vt_frame_stats *f = &z->frames[i];
        if (f->marks) {
            uint64_t dt = tsc > f->last_t ? tsc - f->last_t : 0;
            if (vt_loghist_add(&f->hist, dt))
                return VT_ENOMEM;
            f->sum_t += dt;
            if (dt > f->max_t)
                f->max_t = dt;
        }
        f->marks++;
        f->last_t = tsc;
        z->present = 1;
        return 0;
    }
    case VT_TAG_TASK_BEGIN:
    case VT_TAG_TASK_END:
        if (tag == VT_TAG_TASK_BEGIN &&
            (vt_stream_get(d, VT_COL_MISC, &a) || vt_stream_get(d, VT_COL_MISC, &b)))
            return -1;
        for (int f = 0; f < VT_TASK_FIELDS; f++)
            if (vt_stream_get(d, VT_COL_MISC, &u[f]))
                return -1;
        if (tag == VT_TAG_TASK_BEGIN) {
            if (!th || (loc = loc_of(z, a, VT_LOC_TASK)) < 0 ||
                (kind = loc_of(z, b, VT_LOC_TASK_KIND)) < 0)
                return 0;
            if (vt_grow(&th->tasks, &th->tasks_cap, th->n_tasks + 1, sizeof(*th->tasks), 4))
                return VT_ENOMEM;
            struct open_task *ot = &th->tasks[th->n_tasks++];
            memset(ot, 0, sizeof(*ot));
            ot->name = (uint32_t)loc;
            ot->kind = (uint32_t)kind;
            ot->start = tsc;
            memcpy(ot->usage, u, sizeof(u));
            return 0;
        }
        if (!th || !th->n_tasks) {
            z->unmatched_ends++;
            return 0;
        }
        {
            struct open_task *ot = &th->tasks[--th->n_tasks];
            if (z->n_tasks >= VT_TASKS_KEPT) {
                z->tasks_not_kept++;
                return 0;
            }
            if (vt_grow(&z->tasks, &P->tasks_cap, z->n_tasks + 1, sizeof(*z->tasks), 64))
                return VT_ENOMEM;
            vt_task *t = &z->tasks[z->n_tasks++];
            memset(t, 0, sizeof(*t));
            t->name = ot->name;
            t->kind = ot->kind;
            t->thread = (uint32_t)thread;
            t->start_ns = ot->start; /* ticks until finish */
            t->wall_ns = u[VT_TASK_TSC] > ot->usage[VT_TASK_TSC]
                             ? u[VT_TASK_TSC] - ot->usage[VT_TASK_TSC]
                             : 0; /* ticks until finish */
            t->has_rusage = (u[VT_TASK_FLAGS] & ot->usage[VT_TASK_FLAGS] & VT_TASK_HAS_RUSAGE) != 0;
            t->has_io = (u[VT_TASK_FLAGS] & ot->usage[VT_TASK_FLAGS] & VT_TASK_HAS_IO) != 0;
            t->has_sched = (u[VT_TASK_FLAGS] & ot->usage[VT_TASK_FLAGS] & VT_TASK_HAS_SCHED) != 0;
#define DIFF(f) (u[f] > ot->usage[f] ? u[f] - ot->usage[f] : 0)
            t->user_ns = DIFF(VT_TASK_USER_NS);
            t->sys_ns = DIFF(VT_TASK_SYS_NS);
            t->vcsw = DIFF(VT_TASK_VCSW);
            t->ivcsw = DIFF(VT_TASK_IVCSW);
            t->rchar = DIFF(VT_TASK_RCHAR);
            t->wchar = DIFF(VT_TASK_WCHAR);
            t->read_bytes = DIFF(VT_TASK_READ_BYTES);
            t->write_bytes = DIFF(VT_TASK_WRITE_BYTES);
            t->run_delay_ns = DIFF(VT_TASK_RUN_DELAY_NS);
#undef DIFF
            t->alloc_calls = ot->alloc_calls;
            t->alloc_bytes = ot->alloc_bytes;
        }
        return 0;
    case VT_TAG_POOL_STATS:
    case VT_TAG_CACHE_STATS: {
        int cache = tag == VT_TAG_CACHE_STATS;
        int nf = cache ? VT_CACHE_FIELDS : VT_POOL_FIELDS;
        uint64_t v[VT_CACHE_FIELDS] = {0};
        if (vt_stream_get(d, VT_COL_MISC, &a) || vt_stream_get(d, VT_COL_MISC, &b))
            return -1;
        for (int f = 0; f < nf; f++)
            if (vt_stream_get(d, VT_COL_MISC, &v[f]))
                return -1;
        if ((loc = loc_of(z, a, cache ? VT_LOC_CACHE : VT_LOC_POOL)) < 0)
            return 0;
        uint32_t i = obj_index(z, loc, &z->n_objects, &z->objects, &P->objects_cap,
                               sizeof(*z->objects), &is_new);
        if (i == UINT32_MAX)
            return VT_ENOMEM;
        vt_lib_object *o = &z->objects[i];
        o->loc = (uint32_t)loc;
        o->cache = cache;
        o->final = (b & VT_STATS_FINAL) != 0;
        o->samples++;
        o->ns = tsc; /* ticks until finish */
        memcpy(o->v, v, sizeof(v));
        return 0;
    }
    default:
        return -1;
    }
}

int vt__zones_record(vt_zones *z, int tag, vt_stream_dec *d, int64_t thread, uint64_t tsc)
{
    if (!priv_of(z))
        return VT_ENOMEM;
    return do_record(z, tag, d, thread, tsc);
}

void vt__zones_alloc(vt_zones *z, int64_t thread, uint64_t size)
{
    struct priv *P = z->priv;
    if (!P || thread < 0 || (size_t)thread >= P->threads_cap)
        return;
    struct zthread *th = &P->threads[thread];
    if (th->n_zones && !z->aggregated) {
        vt_zone_stats *s = &z->zones[th->zones[th->n_zones - 1].zone];
        s->alloc_calls++;
        s->alloc_bytes += size;
    }
    if (th->n_tasks) {
        th->tasks[th->n_tasks - 1].alloc_calls++;
        th->tasks[th->n_tasks - 1].alloc_bytes += size;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_zone_total(const void *a, const void *b)
{
    const vt_zone_stats *x = a, *y = b;
    if (x->total_t != y->total_t)
        return x->total_t < y->total_t ? 1 : -1;
    return x->loc < y->loc ? -1 : x->loc > y->loc;
}

static const vt_zones *sort_z;

static int cmp_counter(const void *a, const void *b)
{
    const vt_counter_stats *x = a, *y = b;
    if (x->gauge != y->gauge)
        return x->gauge - y->gauge;
    return strcmp(sort_z->locs[x->loc].name, sort_z->locs[y->loc].name);
}

/* The median of n values taken by get from the tasks of kind k (scratch has room for all). */
static uint64_t median_of(const vt_zones *z, uint32_t k, uint64_t *scratch,
                          uint64_t (*get)(const vt_task *t))
{
    size_t n = 0;
    for (size_t i = 0; i < z->n_tasks; i++)
        if (z->tasks[i].kind == k)
            scratch[n++] = get(&z->tasks[i]);
    if (!n)
        return 0;
    qsort(scratch, n, sizeof(*scratch), cmp_u64);
    return scratch[(n - 1) / 2];
}

static uint64_t get_wall(const vt_task *t)
{
    return t->wall_ns;
}
static uint64_t get_cpu(const vt_task *t)
{
    return t->user_ns + t->sys_ns;
}
static uint64_t get_abytes(const vt_task *t)
{
    return t->alloc_bytes;
}
static uint64_t get_acalls(const vt_task *t)
{
    return t->alloc_calls;
}
static uint64_t get_io(const vt_task *t)
{
    return t->rchar + t->wchar;
}
static uint64_t get_vcsw(const vt_task *t)
{
    return t->vcsw;
}
static uint64_t get_delay(const vt_task *t)
{
    return t->run_delay_ns;
}
static uint64_t get_ivcsw(const vt_task *t)
{
    return t->ivcsw;
}

static void classify(vt_task_kind *k, int has_rusage, int has_io)
{
    double eff = k->efficiency, demand = k->demand;
    double wall_ms = (double)k->wall_ns / 1e6;
    double calls_per_ms = wall_ms > 0 ? (double)k->alloc_calls / wall_ms : 0;
    if (!has_rusage) {
        k->cls = VT_TASK_UNKNOWN;
        snprintf(k->evidence, sizeof(k->evidence), "no CPU time was measured");
    } else if (k->alloc_bytes >= VT_TASK_MEM_BYTES || calls_per_ms >= VT_TASK_MEM_CALLS_PER_MS) {
        k->cls = VT_TASK_MEMORY;
        snprintf(k->evidence, sizeof(k->evidence),
                 "a median task allocates %llu bytes in %llu calls (%.0f per ms); CPU %.0f%% of "
                 "wall time",
                 (unsigned long long)k->alloc_bytes, (unsigned long long)k->alloc_calls,
                 calls_per_ms, 100 * eff);
    } else if (has_io && k->io_bytes >= VT_TASK_IO_BYTES && eff < VT_TASK_CPU_DEMAND) {
        k->cls = VT_TASK_IO;
        snprintf(k->evidence, sizeof(k->evidence),
                 "a median task reads or writes %llu bytes; on a CPU only %.0f%% of wall time "
                 "(waiting for one %.0f%%), %llu voluntary context switches",
                 (unsigned long long)k->io_bytes, 100 * eff, 100 * (demand - eff),
                 (unsigned long long)k->vcsw);
    } else if (demand >= VT_TASK_CPU_DEMAND) {
        k->cls = VT_TASK_CPU;
        snprintf(k->evidence, sizeof(k->evidence),
                 "on a CPU %.0f%% of wall time and waiting for one %.0f%%; %llu bytes of I/O "
                 "and %llu voluntary context switches per median task",
                 100 * eff, 100 * (demand - eff), (unsigned long long)k->io_bytes,
                 (unsigned long long)k->vcsw);
    } else {
        k->cls = VT_TASK_WAIT;
        snprintf(k->evidence, sizeof(k->evidence),
                 "on a CPU or waiting for one only %.0f%% of wall time, with %llu bytes of "
                 "I/O%s: the task waits (sleep, lock, network); %llu voluntary context switches",
                 100 * demand, (unsigned long long)k->io_bytes, has_io ? "" : " (I/O not measured)",
                 (unsigned long long)k->vcsw);
    }
}

static int finish_tasks(vt_zones *z, double ns_per_tick, uint64_t start_tsc)
{
    struct priv *P = z->priv;
    if (!z->n_tasks)
        return 0;
    uint64_t *scratch = malloc(z->n_tasks * sizeof(*scratch));
    uint32_t *kind_of = calloc(z->n_locs, sizeof(*kind_of));
    size_t cap = 0;
    int err = VT_ENOMEM;
    if (!scratch || !kind_of)
        goto out;
    for (size_t i = 0; i < z->n_tasks; i++) {
        vt_task *t = &z->tasks[i];
        t->wall_ns = (uint64_t)((double)t->wall_ns * ns_per_tick);
        t->start_ns = t->start_ns > start_tsc
                          ? (uint64_t)((double)(t->start_ns - start_tsc) * ns_per_tick)
                          : 0;
        if (!kind_of[t->kind]) {
            if (vt_grow(&z->kinds, &cap, z->n_kinds + 1, sizeof(*z->kinds), 8))
                goto out;
            memset(&z->kinds[z->n_kinds], 0, sizeof(*z->kinds));
            z->kinds[z->n_kinds].kind = t->kind;
            kind_of[t->kind] = (uint32_t)++z->n_kinds;
        }
        vt_task_kind *k = &z->kinds[kind_of[t->kind] - 1];
        k->tasks++;
        k->total_wall_ns += t->wall_ns;
        k->total_cpu_ns += t->user_ns + t->sys_ns;
        k->total_run_delay_ns += t->run_delay_ns;
    }
    for (size_t j = 0; j < z->n_kinds; j++) {
        vt_task_kind *k = &z->kinds[j];
        int rus = 1, io = 1;
        for (size_t i = 0; i < z->n_tasks; i++) {
            if (z->tasks[i].kind == k->kind) {
                rus &= z->tasks[i].has_rusage;
                io &= z->tasks[i].has_io;
            }
        }
        k->wall_ns = median_of(z, k->kind, scratch, get_wall);
        k->cpu_ns = median_of(z, k->kind, scratch, get_cpu);
        k->alloc_bytes = median_of(z, k->kind, scratch, get_abytes);
        k->alloc_calls = median_of(z, k->kind, scratch, get_acalls);
        k->io_bytes = median_of(z, k->kind, scratch, get_io);
        k->vcsw = median_of(z, k->kind, scratch, get_vcsw);
        k->ivcsw = median_of(z, k->kind, scratch, get_ivcsw);
        k->run_delay_ns = median_of(z, k->kind, scratch, get_delay);
        double wall = (double)k->total_wall_ns;
        k->efficiency = wall > 0 ? (double)k->total_cpu_ns / wall : 0.0;
        k->demand = wall > 0 ? (double)(k->total_cpu_ns + k->total_run_delay_ns) / wall : 0.0;
        classify(k, rus, io);
    }
    for (size_t i = 0; i < z->n_tasks; i++) {
        vt_task *t = &z->tasks[i];
        const vt_task_kind *k = &z->kinds[kind_of[t->kind] - 1];
        t->vs_baseline = k->wall_ns ? (double)t->wall_ns / (double)k->wall_ns : 0.0;
    }
    err = 0;
out:
    (void)P;
    free(scratch);
    free(kind_of);
    return err;
}

/* Least-squares slope of the windows' mean duration (ns) over their middle time (ns). */
static double trend_slope(const vt_zone_stats *s, double width_ns)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    for (size_t i = 0; i < s->n_windows; i++) {
        const vt_window *w = &s->windows[i];
        if (!w->n)
            continue;
        double x = (double)w->start_ns + width_ns / 2, y = w->sum / (double)w->n;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        n++;
    }
    double den = n * sxx - sx * sx;
    if (n < 3 || den <= 0)
        return 0;
    return (n * sxy - sx * sy) / den;
}

static void windows_to_ns(vt_window *w, size_t n, int durations, double ns_per_tick,
                          uint64_t start_tsc)
{
    for (size_t i = 0; i < n; i++) {
        w[i].start_ns = w[i].start_ns > start_tsc
                            ? (uint64_t)((double)(w[i].start_ns - start_tsc) * ns_per_tick)
                            : 0;
        if (durations) {
            w[i].sum *= ns_per_tick;
            w[i].min *= ns_per_tick;
            w[i].max *= ns_per_tick;
        }
        if (!w[i].n) {
            w[i].min = w[i].max = 0;
        }
    }
}

/* A quantile in ns, kept within the exact least and greatest values (which can only bring it
 * nearer the exact quantile). */
static double quantile_ns(const vt_loghist *h, double q, uint64_t min_t, uint64_t max_t,
                          double ns_per_tick)
{
    double v = vt_loghist_quantile(h, q);
    v = v < (double)min_t ? (double)min_t : v;
    v = v > (double)max_t ? (double)max_t : v;
    return v * ns_per_tick;
}

int vt__zones_finish(vt_zones *z, double ns_per_tick, uint64_t start_tsc, uint64_t duration_ns)
{
    struct priv *P = z->priv;
    if (!P)
        return 0;
    double secs = (double)duration_ns / 1e9;
    for (size_t i = 0; i < z->n_spans; i++) {
        vt_zone_span *sp = &z->spans[i];
        sp->start_ns = sp->start_ns > start_tsc
                           ? (uint64_t)((double)(sp->start_ns - start_tsc) * ns_per_tick)
                           : 0;
        sp->dur_ns = (uint64_t)((double)sp->dur_ns * ns_per_tick);
    }
    /* With aggregates the agent counts open zones; a thread's open spans are among them. */
    for (size_t t = 0; t < P->threads_cap; t++)
        z->open_at_end += (z->aggregated ? 0 : P->threads[t].n_zones) + P->threads[t].n_tasks;
    z->open_at_end += P->open_agent;
    if (z->aggregated) {
        /* The agent wrote only the first calls as spans: the others are not drawn either. */
        uint64_t calls = 0;
        for (size_t i = 0; i < z->n_zones; i++)
            calls += z->zones[i].calls;
        z->spans_not_kept = calls > z->n_spans ? calls - z->n_spans : 0;
    }
    for (size_t i = 0; i < z->n_zones; i++) {
        vt_zone_stats *s = &z->zones[i];
        s->total_ns = (double)s->total_t * ns_per_tick;
        s->min_ns = (double)s->min_t * ns_per_tick;
        s->max_ns = (double)s->max_t * ns_per_tick;
        s->mean_ns = s->mean_t * ns_per_tick;
        s->stddev_ns = s->calls > 1 ? sqrt(s->m2_t / (double)(s->calls - 1)) * ns_per_tick : 0;
        s->p50_ns = quantile_ns(&s->hist, 0.50, s->min_t, s->max_t, ns_per_tick);
        s->p90_ns = quantile_ns(&s->hist, 0.90, s->min_t, s->max_t, ns_per_tick);
        s->p95_ns = quantile_ns(&s->hist, 0.95, s->min_t, s->max_t, ns_per_tick);
        s->p99_ns = quantile_ns(&s->hist, 0.99, s->min_t, s->max_t, ns_per_tick);
        s->p999_ns = quantile_ns(&s->hist, 0.999, s->min_t, s->max_t, ns_per_tick);
        s->rate_per_s = secs > 0 ? (double)s->calls / secs : 0;
        double width_ns = (double)s->win_width * ns_per_tick;
        windows_to_ns(s->windows, s->n_windows, 1, ns_per_tick, start_tsc);
        double slope = trend_slope(s, width_ns); /* ns of duration per ns of run */
        s->trend_ns_per_s = slope * 1e9;
        double span = (double)s->n_windows * width_ns;
        s->trend_pct = s->mean_ns > 0 ? 100.0 * slope * span / s->mean_ns : 0;
        vt_loghist_release(&s->hist);
    }
    sort_z = z;
    for (size_t i = 0; i < z->n_counters; i++) {
        vt_counter_stats *c = &z->counters[i];
        windows_to_ns(c->windows, c->n_windows, 0, ns_per_tick, start_tsc);
        if (!c->gauge)
            c->min = c->max = 0;
    }
    if (z->n_counters > 1)
        qsort(z->counters, z->n_counters, sizeof(*z->counters), cmp_counter);
    for (size_t i = 0; i < z->n_frames; i++) {
        vt_frame_stats *f = &z->frames[i];
        uint64_t n = f->marks > 1 ? f->marks - 1 : 0;
        f->mean_ns = n ? (double)f->sum_t / (double)n * ns_per_tick : 0;
        f->p50_ns = quantile_ns(&f->hist, 0.5, 0, f->max_t, ns_per_tick);
        f->p99_ns = quantile_ns(&f->hist, 0.99, 0, f->max_t, ns_per_tick);
        f->max_ns = (double)f->max_t * ns_per_tick;
        f->per_s = secs > 0 ? (double)f->marks / secs : 0;
        vt_loghist_release(&f->hist);
    }
    for (size_t i = 0; i < z->n_objects; i++) {
        vt_lib_object *o = &z->objects[i];
        o->ns = o->ns > start_tsc ? (uint64_t)((double)(o->ns - start_tsc) * ns_per_tick) : 0;
    }
    if (z->n_zones > 1)
        qsort(z->zones, z->n_zones, sizeof(*z->zones), cmp_zone_total);
    int err = finish_tasks(z, ns_per_tick, start_tsc);
    for (size_t t = 0; t < P->threads_cap; t++) {
        free(P->threads[t].zones);
        free(P->threads[t].tasks);
    }
    free(P->threads);
    free(P->loc_of_id);
    free(P->obj_of_loc);
    free(P);
    z->priv = NULL;
    return err;
}

void vt__zones_release(vt_zones *z)
{
    struct priv *P = z->priv;
    if (P) {
        for (size_t t = 0; t < P->threads_cap; t++) {
            free(P->threads[t].zones);
            free(P->threads[t].tasks);
        }
        free(P->threads);
        free(P->loc_of_id);
        free(P->obj_of_loc);
        free(P);
    }
    for (size_t i = 0; i < z->n_locs; i++) {
        free(z->locs[i].name);
        free(z->locs[i].function);
        free(z->locs[i].file);
    }
    for (size_t i = 0; i < z->n_zones; i++)
        vt_loghist_release(&z->zones[i].hist);
    for (size_t i = 0; i < z->n_frames; i++)
        vt_loghist_release(&z->frames[i].hist);
    free(z->locs);
    free(z->zones);
    free(z->counters);
    free(z->frames);
    free(z->tasks);
    free(z->spans);
    free(z->kinds);
    free(z->objects);
    memset(z, 0, sizeof(*z));
}

const char *vt_task_class_name(int cls)
{
    static const char *const names[] = {"CPU-bound", "memory-bound", "I/O-bound", "wait-bound",
                                        "unknown"};
    return cls >= 0 && cls <= VT_TASK_UNKNOWN ? names[cls] : "unknown";
}

const char *vt_task_class_key(int cls)
{
    static const char *const keys[] = {"cpu", "memory", "io", "wait", "unknown"};
    return cls >= 0 && cls <= VT_TASK_UNKNOWN ? keys[cls] : "unknown";
}

const char *vt_zones_name(const vt_zones *z, uint32_t loc)
{
    if (loc == UINT32_MAX)
        return "frame";
    return loc < z->n_locs ? z->locs[loc].name : "?";
}

int64_t vt__zones_zone_loc(const vt_zones *z, uint64_t id)
{
    const struct priv *P = z->priv;
    if (!P || !id || id >= P->ids_cap || !P->loc_of_id[id] ||
        z->locs[P->loc_of_id[id] - 1].kind != VT_LOC_ZONE)
        return -1;
    return P->loc_of_id[id] - 1;
}

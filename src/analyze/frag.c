/* Fragmentation and stack use: the memory series and the figures derived from the samples,
 * the usable sizes and the stack records (see frag.h and docs/REPORT.md). */
#include "analyze/frag.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

void vt__mem_point_set(vt_mem_point *p, const uint64_t v[VT_MEM_FIELDS], uint64_t tsc)
{
    p->ns = p->ns_end = tsc;
    p->samples = 1;
    memcpy(p->min, v, sizeof(p->min));
    memcpy(p->max, v, sizeof(p->max));
}

/* Merges b (the later point) into a. */
static void merge_point(vt_mem_point *a, const vt_mem_point *b)
{
    a->ns_end = b->ns_end;
    a->samples += b->samples;
    for (int f = 0; f < VT_MEM_FIELDS; f++) {
        if (b->min[f] < a->min[f])
            a->min[f] = b->min[f];
        if (b->max[f] > a->max[f])
            a->max[f] = b->max[f];
    }
}

int vt__mem_add(vt_model *m, uint64_t *stride, const uint64_t v[VT_MEM_FIELDS], uint64_t tsc)
{
    vt_mem_point p;
    vt__mem_point_set(&p, v, tsc);
    m->mem_samples++;
    if (!m->mem) {
        m->mem = malloc(VT_MEM_POINTS_MAX * sizeof(*m->mem));
        if (!m->mem)
            return VT_ENOMEM;
        *stride = 1;
    }
    if (m->n_mem && m->mem[m->n_mem - 1].samples < *stride) {
        merge_point(&m->mem[m->n_mem - 1], &p);
        return 0;
    }
    if (m->n_mem == VT_MEM_POINTS_MAX) {
        for (size_t i = 0; i < VT_MEM_POINTS_MAX / 2; i++) {
            m->mem[i] = m->mem[2 * i];
            merge_point(&m->mem[i], &m->mem[2 * i + 1]);
        }
        m->n_mem = VT_MEM_POINTS_MAX / 2;
        *stride *= 2;
    }
    m->mem[m->n_mem++] = p;
    return 0;
}

void vt__mem_finish(vt_model *m, uint64_t (*to_ns)(uint64_t tick, const void *arg), const void *arg)
{
    for (size_t i = 0; i < m->n_mem; i++) {
        m->mem[i].ns = to_ns(m->mem[i].ns, arg);
        m->mem[i].ns_end = to_ns(m->mem[i].ns_end, arg);
    }
    vt_mem_point *one[2] = {&m->mem_at_peak, &m->mem_at_exit};
    for (int i = 0; i < 2; i++) {
        one[i]->ns = to_ns(one[i]->ns, arg);
        one[i]->ns_end = to_ns(one[i]->ns_end, arg);
    }
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void waste_of(uint64_t requested, uint64_t waste, vt_waste *out)
{
    out->requested = requested;
    out->waste = waste;
    out->usable = requested + waste;
    out->pct = pct(waste, out->usable);
}

void vt_frag_waste(const vt_model *m, int which, vt_waste *out)
{
    if (which == 0)
        waste_of(m->alloc_bytes, m->waste_bytes, out);
    else if (which == 1)
        waste_of(m->peak_bytes, m->peak_waste, out);
    else
        waste_of(m->live_bytes, m->live_waste, out);
}

void vt_frag_site_waste(const vt_site *s, int which, vt_waste *out)
{
    if (which == 0)
        waste_of(s->alloc_bytes, s->waste_bytes, out);
    else if (which == 1)
        waste_of(s->peak_bytes, s->peak_waste, out);
    else
        waste_of(s->live_bytes, s->live_waste, out);
}

void vt_mem_figures_of(const vt_mem_point *p, vt_mem_figures *out)
{
    const uint64_t *v = p->max;
    memset(out, 0, sizeof(*out));
    out->rss = v[VT_MEM_RSS];
    out->heap = v[VT_MEM_HEAP];
    out->footprint = v[VT_MEM_ARENA] + v[VT_MEM_HBLKHD];
    out->in_use = v[VT_MEM_UORDBLKS] + v[VT_MEM_HBLKHD];
    out->free_held = v[VT_MEM_FORDBLKS];
    out->releasable = v[VT_MEM_KEEPCOST];
    out->free_pct = pct(v[VT_MEM_FORDBLKS], v[VT_MEM_ARENA]);
    out->chunk_pct = out->in_use > out->heap ? pct(out->in_use - out->heap, out->in_use) : 0.0;
    out->overhead_pct =
        out->footprint > out->heap ? pct(out->footprint - out->heap, out->footprint) : 0.0;
    out->rss_per_heap = out->heap ? (double)out->rss / (double)out->heap : 0.0;
}

int vt_stack_near_limit(const vt_thread_stats *t)
{
    return t->has_stack && t->stack_size && t->stack_used * 10 >= t->stack_size * 9;
}

#include "analyze/sites.h"

#include <stdlib.h>

unsigned long long vt_site_value(const vt_site *s, enum vt_site_key key)
{
    switch (key) {
    case VT_BY_CALLS:
        return s->alloc_calls;
    case VT_BY_BYTES:
        return s->alloc_bytes;
    case VT_BY_PEAK:
        return s->peak_bytes;
    case VT_BY_LEAKED:
        return s->live_blocks ? (s->live_bytes ? s->live_bytes : 1) : 0;
    case VT_BY_MAPPED:
        return s->mapped_bytes;
    case VT_BY_WASTE:
        return s->waste_bytes;
    case VT_BY_DEFINITE:
    case VT_BY_INDIRECT:
    case VT_BY_POSSIBLE:
    case VT_BY_REACHABLE: {
        static const int cls[] = {VT_LEAK_DEFINITE, VT_LEAK_INDIRECT, VT_LEAK_POSSIBLE,
                                  VT_LEAK_REACHABLE};
        int c = cls[key - VT_BY_DEFINITE];
        return s->leak_blocks[c] ? (s->leak_bytes[c] ? s->leak_bytes[c] : 1) : 0;
    }
    }
    return 0;
}

enum vt_site_key vt_site_key_of_class(int c)
{
    switch (c) {
    case VT_LEAK_DEFINITE:
        return VT_BY_DEFINITE;
    case VT_LEAK_INDIRECT:
        return VT_BY_INDIRECT;
    case VT_LEAK_POSSIBLE:
        return VT_BY_POSSIBLE;
    default:
        return VT_BY_REACHABLE;
    }
}

struct ranked {
    unsigned long long v;
    size_t i;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Ranks the n_sites sites by value(m, i, key). */
static size_t rank(const vt_model *m, unsigned long long (*value)(const vt_model *, size_t, int),
                   int key, size_t *out, size_t max, size_t *total)
{
    struct ranked *r = malloc((m->n_sites ? m->n_sites : 1) * sizeof(*r));
    size_t n = 0;
    if (!r)
        return 0;
    for (size_t i = 0; i < m->n_sites; i++) {
        unsigned long long v = value(m, i, key);
        if (v)
            r[n++] = (struct ranked){v, i};
    }
    qsort(r, n, sizeof(*r), cmp_ranked);
    if (total)
        *total = n;
    size_t k = n < max ? n : max;
    for (size_t i = 0; i < k; i++)
        out[i] = r[i].i;
    free(r);
    return k;
}

static unsigned long long site_value(const vt_model *m, size_t i, int key)
{
    return vt_site_value(&m->sites[i], (enum vt_site_key)key);
}

size_t vt_sites_rank(const vt_model *m, enum vt_site_key key, size_t *out, size_t max,
                     size_t *total)
{
    return rank(m, site_value, key, out, max, total);
}

unsigned long long vt_site_pattern_value(const vt_model *m, size_t i, enum vt_pattern_key key)
{
    const vt_site_growth *g = i < m->timeline.n_sites ? &m->timeline.sites[i] : NULL;
    const vt_site_patterns *p = i < m->patterns.n_sites ? &m->patterns.sites[i] : NULL;
    switch (key) {
    case VT_BY_GROWTH:
        return g && g->suspect ? g->to_bytes - g->from_bytes : 0;
    case VT_BY_REALLOCS:
        return p ? p->reallocs : 0;
    case VT_BY_ONE_SIZE:
        return p && p->sizes == 1 && m->sites[i].alloc_calls >= VT_ONE_SIZE_MIN_CALLS
                   ? m->sites[i].alloc_calls
                   : 0;
    case VT_BY_CROSS_FREES:
        return p ? p->cross_frees : 0;
    }
    return 0;
}

static unsigned long long pattern_value(const vt_model *m, size_t i, int key)
{
    return vt_site_pattern_value(m, i, (enum vt_pattern_key)key);
}

size_t vt_sites_rank_pattern(const vt_model *m, enum vt_pattern_key key, size_t *out, size_t max,
                             size_t *total)
{
    return rank(m, pattern_value, key, out, max, total);
}

int vt_stack_frame(vt_symbols *syms, const vt_stack *s, uint32_t i, vt_frame_info *out, int max)
{
    int n = vt_symbols_lookup_gen(syms, s->gen, s->frames[i], 1, out, max);
    if (n < 1) {
        out[0] = (vt_frame_info){0};
        n = 1;
    }
    return n;
}

vt_symbols *vt_model_symbols(const vt_model *m)
{
    vt_symbols *s = vt_symbols_new();
    if (!s)
        return NULL;
    for (size_t i = 0; i < m->n_modules; i++) {
        const vt_module *mod = &m->modules[i];
        vt_symbols_add_module_gen(s, mod->path, mod->bias, mod->start, mod->end,
                                  mod->build_id_len ? mod->build_id : NULL, mod->build_id_len,
                                  mod->first_gen, mod->last_gen);
    }
    return s;
}

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
    }
    return 0;
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

size_t vt_sites_rank(const vt_model *m, enum vt_site_key key, size_t *out, size_t max,
                     size_t *total)
{
    struct ranked *r = malloc((m->n_sites ? m->n_sites : 1) * sizeof(*r));
    size_t n = 0;
    if (!r)
        return 0;
    for (size_t i = 0; i < m->n_sites; i++) {
        unsigned long long v = vt_site_value(&m->sites[i], key);
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

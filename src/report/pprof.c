/* The pprof report: a profile.proto message (src/report/profile.proto), gzipped, as go tool
 * pprof, Pyroscope and Parca read it. One sample per call stack with four values:
 * alloc_objects/count, alloc_space/bytes, inuse_objects/count, inuse_space/bytes ("in use":
 * still allocated at the end of the trace). Locations are return addresses, each with its
 * inlined frames as lines; mappings are the module map with build ids. With CPU samples in the
 * trace, two more values (samples/count, cpu/nanoseconds) and a sample per sampled stack.
 * docs/FORMATS.md. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "analyze/cpu.h"
#include "analyze/sites.h"
#include "profile.pb-c.h"
#include "report/frames.h"
#include "report/report.h"
#include "util/array.h"
#include "util/hash.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

static uint64_t alloc_objects(const vt_site *s)
{
    return s->alloc_calls;
}

static uint64_t alloc_space(const vt_site *s)
{
    return s->alloc_bytes;
}

static uint64_t inuse_objects(const vt_site *s)
{
    return s->live_blocks;
}

static uint64_t inuse_space(const vt_site *s)
{
    return s->live_bytes;
}

/* The allocation sample types, in the order of each sample's values. */
static const struct sample_type {
    const char *type, *unit;
    uint64_t (*value)(const vt_site *s);
} sample_types[] = {
    {"alloc_objects", "count", alloc_objects},
    {"alloc_space", "bytes", alloc_space},
    {"inuse_objects", "count", inuse_objects},
    {"inuse_space", "bytes", inuse_space},
};

#define N_VALUES (sizeof(sample_types) / sizeof(sample_types[0]))

/* With CPU samples in the trace, every sample has two more values: samples/count and
 * cpu/nanoseconds (pprof's names for a CPU profile). Allocation samples have 0 there, CPU
 * samples (one per call stack, summed over threads) 0 in the four above. */
#define N_CPU_VALUES 2
#define N_ALL_VALUES (N_VALUES + N_CPU_VALUES)

static int has_cpu(const vt_model *m)
{
    return m->cpu && m->cpu->n_aggs;
}

/* Open addressing from a pair of words to an index (1-based: 0 is an empty slot). */
struct pair_map {
    uint64_t *a, *b;
    uint32_t *v;
    size_t cap, n;
};

static uint64_t pair_hash(uint64_t a, uint64_t b)
{
    return vt_hash64(a ^ vt_hash64(b + 0x9e3779b97f4a7c15ULL));
}

static uint32_t pair_get(const struct pair_map *m, uint64_t a, uint64_t b)
{
    if (!m->cap)
        return 0;
    for (size_t i = pair_hash(a, b) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->v[i])
            return 0;
        if (m->a[i] == a && m->b[i] == b)
            return m->v[i];
    }
}

static int pair_put(struct pair_map *m, uint64_t a, uint64_t b, uint32_t v)
{
    if ((m->n + 1) * 2 > m->cap) {
        struct pair_map g = {0};
        g.cap = m->cap ? m->cap * 2 : 256;
        g.a = malloc(g.cap * sizeof(*g.a));
        g.b = malloc(g.cap * sizeof(*g.b));
        g.v = calloc(g.cap, sizeof(*g.v));
        if (!g.a || !g.b || !g.v) {
            free(g.a);
            free(g.b);
            free(g.v);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->v[i])
                pair_put(&g, m->a[i], m->b[i], m->v[i]);
        free(m->a);
        free(m->b);
        free(m->v);
        *m = g;
    }
    size_t i = pair_hash(a, b) & (m->cap - 1);
    while (m->v[i])
        i = (i + 1) & (m->cap - 1);
    m->a[i] = a;
    m->b[i] = b;
    m->v[i] = v;
    m->n++;
    return 0;
}

static void pair_release(struct pair_map *m)
{
    free(m->a);
    free(m->b);
    free(m->v);
}

struct builder {
    const vt_model *m;
    vt_symbols *syms;
    char **strings; /* the string table, each owned */
    size_t n_strings, strings_cap;
    struct pair_map string_ids; /* (hash, n-th string with that hash) -> index + 1 */
    struct pair_map function_ids, location_ids;
    Function *functions;
    size_t n_functions, functions_cap;
    Location *locations;
    size_t n_locations, locations_cap;
    Line *lines;
    size_t n_lines, lines_cap;
    Mapping *mappings;
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* The index of s in the string table, added if new; -1 on out of memory. */
static int64_t intern(struct builder *b, const char *s)
{
    uint64_t h = str_hash(s ? s : "");
    uint64_t k = 0;
    uint32_t id;
    if (!s)
        s = "";
    for (; (id = pair_get(&b->string_ids, h, k)); k++)
        if (!strcmp(b->strings[id - 1], s))
            return id - 1;
    if (vt_grow(&b->strings, &b->strings_cap, b->n_strings + 1, sizeof(char *), 256))
        return -1;
    char *copy = strdup(s);
    if (!copy || pair_put(&b->string_ids, h, k, (uint32_t)b->n_strings + 1)) {
        free(copy);
        return -1;
    }
    b->strings[b->n_strings] = copy;
    return (int64_t)b->n_strings++;
}

static uint64_t function_id(struct builder *b, const vt_frame_info *f, uint64_t addr)
{
    char buf[128];
    int64_t name = intern(b, vt__frame_name(f, addr, buf, sizeof(buf)));
    int64_t file = intern(b, f->file);
    if (name < 0 || file < 0)
        return 0;
    uint32_t id = pair_get(&b->function_ids, (uint64_t)name, (uint64_t)file);
    if (id)
        return id;
    if (vt_grow(&b->functions, &b->functions_cap, b->n_functions + 1, sizeof(Function), 256))
        return 0;
    Function *fn = &b->functions[b->n_functions];
    *fn = (Function)PERFTOOLS__PROFILES__FUNCTION__INIT;
    fn->id = b->n_functions + 1;
    fn->name = name;
    fn->system_name = name;
    fn->filename = file;
    if (pair_put(&b->function_ids, (uint64_t)name, (uint64_t)file, (uint32_t)fn->id))
        return 0;
    b->n_functions++;
    return fn->id;
}

/* The module of the model that held addr in code generation gen: its mapping id, or 0. */
static uint64_t mapping_of(const vt_model *m, uint64_t addr, uint32_t gen)
{
    for (size_t i = m->n_modules; i-- > 0;) {
        const vt_module *mod = &m->modules[i];
        if (addr - 1 >= mod->start && addr - 1 < mod->end &&
            (gen == UINT32_MAX || (gen >= mod->first_gen && gen <= mod->last_gen)))
            return i + 1;
    }
    return 0;
}

/* The location of frame i of stack s, added if new; 0 on out of memory. Lines are stored by
 * index into b->lines until the profile is assembled (the arrays still grow). */
static uint64_t location_id(struct builder *b, const vt_stack *s, uint32_t i)
{
    uint64_t addr = s->frames[i];
    uint32_t id = pair_get(&b->location_ids, addr, s->gen);
    if (id)
        return id;
    vt_frame_info f[16];
    int n = vt_stack_frame(b->syms, s, i, f, 16);
    if (n < 1 ||
        vt_grow(&b->locations, &b->locations_cap, b->n_locations + 1, sizeof(Location), 256) ||
        vt_grow(&b->lines, &b->lines_cap, b->n_lines + (size_t)n, sizeof(Line), 256))
        return 0;
    Location *loc = &b->locations[b->n_locations];
    *loc = (Location)PERFTOOLS__PROFILES__LOCATION__INIT;
    loc->id = b->n_locations + 1;
    loc->mapping_id = mapping_of(b->m, addr, s->gen);
    loc->address = addr;
    loc->n_line = (size_t)n;
    loc->line = (Line **)(uintptr_t)b->n_lines; /* the first line's index, for now */
    for (int k = 0; k < n; k++) {
        Line *l = &b->lines[b->n_lines + (size_t)k];
        *l = (Line)PERFTOOLS__PROFILES__LINE__INIT;
        l->function_id = function_id(b, &f[k], addr);
        l->line = f[k].line;
        if (!l->function_id)
            return 0;
    }
    if (pair_put(&b->location_ids, addr, s->gen, (uint32_t)loc->id))
        return 0;
    b->n_lines += (size_t)n;
    b->n_locations++;
    return loc->id;
}

static int add_mappings(struct builder *b, Mapping *maps)
{
    const vt_model *m = b->m;
    for (size_t i = 0; i < m->n_modules; i++) {
        const vt_module *mod = &m->modules[i];
        char hex[2 * sizeof(mod->build_id) + 1];
        for (uint32_t k = 0; k < mod->build_id_len && k < sizeof(mod->build_id); k++)
            sprintf(hex + 2 * k, "%02x", mod->build_id[k]);
        hex[2 * (mod->build_id_len < sizeof(mod->build_id) ? mod->build_id_len
                                                           : sizeof(mod->build_id))] = 0;
        Mapping *mp = &maps[i];
        *mp = (Mapping)PERFTOOLS__PROFILES__MAPPING__INIT;
        mp->id = i + 1;
        mp->memory_start = mod->start;
        mp->memory_limit = mod->end;
        mp->file_offset = mod->start - mod->bias;
        mp->filename = intern(b, mod->path);
        mp->build_id = intern(b, hex);
        mp->has_functions = mp->has_filenames = mp->has_line_numbers = 1;
        mp->has_inline_frames = 1;
        if (mp->filename < 0 || mp->build_id < 0)
            return -1;
    }
    return 0;
}

/* Writes len bytes of buf gzipped to out. */
static int gzip_to(FILE *out, const uint8_t *buf, size_t len)
{
    z_stream z;
    uint8_t chunk[65536];
    int rc = -1, zrc;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    z.next_in = (Bytef *)buf;
    z.avail_in = (uInt)len;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        zrc = deflate(&z, Z_FINISH);
        if (zrc == Z_STREAM_ERROR)
            goto out;
        size_t have = sizeof(chunk) - z.avail_out;
        if (have && fwrite(chunk, 1, have, out) != have)
            goto out;
    } while (zrc != Z_STREAM_END);
    rc = 0;
out:
    deflateEnd(&z);
    return rc;
}

int vt_render_pprof(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out)
{
    (void)o;
    struct builder b = {.m = m, .syms = syms};
    Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
    ValueType vt[N_ALL_VALUES], period = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
    ValueType *vtp[N_ALL_VALUES];
    size_t nv = has_cpu(m) ? N_ALL_VALUES : N_VALUES;
    size_t max_samples = m->n_sites + (has_cpu(m) ? m->n_stacks + 1 : 0) + 1;
    Sample *samples = calloc(max_samples, sizeof(Sample));
    Sample **sp = calloc(max_samples, sizeof(Sample *));
    int64_t *values = calloc(max_samples * nv, sizeof(int64_t));
    uint64_t *cpu_per = NULL; /* per stack, then no stack: samples, and ns */
    int64_t comment = 0;
    uint64_t *loc_ids = NULL;
    size_t n_loc_ids = 0, loc_ids_cap = 0, n_samples = 0;
    Mapping *maps = calloc(m->n_modules ? m->n_modules : 1, sizeof(Mapping));
    Mapping **mapp = calloc(m->n_modules ? m->n_modules : 1, sizeof(Mapping *));
    Location **locp = NULL;
    Line **linep = NULL;
    Function **fnp = NULL;
    uint8_t *buf = NULL;
    int rc = -1;
    if (!samples || !sp || !values || !maps || !mapp || intern(&b, "") != 0)
        goto out;
    for (size_t i = 0; i < N_VALUES; i++) {
        vt[i] = (ValueType)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
        vt[i].type = intern(&b, sample_types[i].type);
        vt[i].unit = intern(&b, sample_types[i].unit);
        vtp[i] = &vt[i];
        if (vt[i].type < 0 || vt[i].unit < 0)
            goto out;
    }
    if (nv > N_VALUES) {
        char note[96];
        vt[N_VALUES] = (ValueType)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
        vt[N_VALUES].type = intern(&b, "samples");
        vt[N_VALUES].unit = intern(&b, "count");
        vt[N_VALUES + 1] = (ValueType)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
        vt[N_VALUES + 1].type = intern(&b, "cpu");
        vt[N_VALUES + 1].unit = intern(&b, "nanoseconds");
        vtp[N_VALUES] = &vt[N_VALUES];
        vtp[N_VALUES + 1] = &vt[N_VALUES + 1];
        snprintf(note, sizeof(note), "cpu sampling period: %llu ns",
                 (unsigned long long)m->cpu->period_ns);
        comment = intern(&b, note);
        if (vt[N_VALUES].type < 0 || vt[N_VALUES].unit < 0 || vt[N_VALUES + 1].type < 0 ||
            vt[N_VALUES + 1].unit < 0 || comment < 0)
            goto out;
    }
    /* A CPU profile alone (--no-alloc) takes pprof's CPU period; else allocations' period. */
    period.type = intern(&b, vt_model_cpu_only(m) && nv > N_VALUES ? "cpu" : "space");
    period.unit = intern(&b, vt_model_cpu_only(m) && nv > N_VALUES ? "nanoseconds" : "bytes");
    if (add_mappings(&b, maps))
        goto out;
    /* First pass: locations, with the samples' location ids by index. */
    for (size_t i = 0; i < m->n_sites; i++) {
        const vt_site *s = &m->sites[i];
        const vt_stack *st = &m->stacks[s->stack];
        int64_t *v = &values[n_samples * nv];
        int any = 0;
        for (size_t k = 0; k < N_VALUES; k++)
            any |= (v[k] = (int64_t)sample_types[k].value(s)) != 0;
        if (!any)
            continue;
        if (vt_grow(&loc_ids, &loc_ids_cap, n_loc_ids + st->depth, sizeof(uint64_t), 1024))
            goto out;
        Sample *smp = &samples[n_samples];
        *smp = (Sample)PERFTOOLS__PROFILES__SAMPLE__INIT;
        smp->n_location_id = st->depth;
        smp->location_id = (uint64_t *)(uintptr_t)n_loc_ids;
        for (uint32_t k = 0; k < st->depth; k++)
            if (!(loc_ids[n_loc_ids++] = location_id(&b, st, k)))
                goto out;
        smp->n_value = nv;
        smp->value = v;
        sp[n_samples++] = smp;
    }
    /* Then the CPU samples, per call stack (summed over threads). */
    if (nv > N_VALUES) {
        if (!(cpu_per = calloc(2 * (m->n_stacks + 1), sizeof(uint64_t))))
            goto out;
        for (size_t i = 0; i < m->cpu->n_aggs; i++) {
            const vt_cpu_agg *a = &m->cpu->aggs[i];
            size_t k = a->stack < m->n_stacks ? a->stack : m->n_stacks;
            cpu_per[2 * k] += a->on_samples;
            cpu_per[2 * k + 1] += a->on_ns;
        }
    }
    for (size_t i = 0; cpu_per && i <= m->n_stacks; i++) {
        if (!cpu_per[2 * i] && !cpu_per[2 * i + 1])
            continue;
        uint32_t depth = i < m->n_stacks ? m->stacks[i].depth : 0;
        if (vt_grow(&loc_ids, &loc_ids_cap, n_loc_ids + depth + 1, sizeof(uint64_t), 1024))
            goto out;
        Sample *smp = &samples[n_samples];
        int64_t *v = &values[n_samples * nv];
        *smp = (Sample)PERFTOOLS__PROFILES__SAMPLE__INIT;
        smp->n_location_id = depth;
        smp->location_id = (uint64_t *)(uintptr_t)n_loc_ids;
        for (uint32_t k = 0; k < depth; k++)
            if (!(loc_ids[n_loc_ids++] = location_id(&b, &m->stacks[i], k)))
                goto out;
        v[N_VALUES] = (int64_t)cpu_per[2 * i];
        v[N_VALUES + 1] = (int64_t)cpu_per[2 * i + 1];
        smp->n_value = nv;
        smp->value = v;
        sp[n_samples++] = smp;
    }
    /* The arrays are whole: turn indexes into pointers. */
    for (size_t i = 0; i < n_samples; i++)
        samples[i].location_id = loc_ids + (uintptr_t)samples[i].location_id;
    locp = malloc((b.n_locations ? b.n_locations : 1) * sizeof(*locp));
    linep = malloc((b.n_lines ? b.n_lines : 1) * sizeof(*linep));
    fnp = malloc((b.n_functions ? b.n_functions : 1) * sizeof(*fnp));
    if (!locp || !linep || !fnp)
        goto out;
    for (size_t i = 0; i < b.n_lines; i++)
        linep[i] = &b.lines[i];
    for (size_t i = 0; i < b.n_locations; i++) {
        b.locations[i].line = linep + (uintptr_t)b.locations[i].line;
        locp[i] = &b.locations[i];
    }
    for (size_t i = 0; i < b.n_functions; i++)
        fnp[i] = &b.functions[i];
    for (size_t i = 0; i < m->n_modules; i++)
        mapp[i] = &maps[i];
    p.n_sample_type = nv;
    p.sample_type = vtp;
    p.n_sample = n_samples;
    p.sample = sp;
    p.n_mapping = m->n_modules;
    p.mapping = mapp;
    p.n_location = b.n_locations;
    p.location = locp;
    p.n_function = b.n_functions;
    p.function = fnp;
    p.time_nanos = (int64_t)m->start_realtime_ns;
    p.duration_nanos = (int64_t)m->duration_ns;
    p.period_type = &period;
    p.period = 1;                       /* every allocation is recorded: no sampling */
    p.default_sample_type = vt[3].type; /* inuse_space, as Go's heap profiles */
    if (nv > N_VALUES) {
        p.n_comment = 1;
        p.comment = &comment;
        if (vt_model_cpu_only(m)) {
            p.period = (int64_t)m->cpu->period_ns;
            p.default_sample_type = vt[N_VALUES + 1].type;
        }
    }
    p.n_string_table = b.n_strings;
    p.string_table = b.strings;
    size_t len = perftools__profiles__profile__get_packed_size(&p);
    if (!(buf = malloc(len ? len : 1)))
        goto out;
    perftools__profiles__profile__pack(&p, buf);
    rc = gzip_to(out, buf, len);
out:
    for (size_t i = 0; i < b.n_strings; i++)
        free(b.strings[i]);
    free(b.strings);
    pair_release(&b.string_ids);
    pair_release(&b.function_ids);
    pair_release(&b.location_ids);
    free(b.functions);
    free(b.locations);
    free(b.lines);
    free(samples);
    free(sp);
    free(values);
    free(loc_ids);
    free(maps);
    free(mapp);
    free(locp);
    free(linep);
    free(fnp);
    free(buf);
    free(cpu_per);
    return rc || ferror(out) ? -1 : 0;
}

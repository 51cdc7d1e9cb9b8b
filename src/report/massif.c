/* The massif report: a massif.out file as valgrind's massif writes it, which ms_print and
 * massif-visualizer read. Snapshots come from the heap timeline (at most MAX_SNAPSHOTS), plus
 * the heap peak, detailed with its tree of call stacks (innermost first, as massif's). Times
 * are in ms. docs/FORMATS.md. */
#include <stdlib.h>
#include <string.h>

#include "analyze/sites.h"
#include "report/frames.h"
#include "report/report.h"
#include "util/array.h"

#define MAX_SNAPSHOTS 100
/* Children under this share of the peak (in hundredths of a percent) are merged into one
 * "below massif's threshold" line, as massif does by default (--threshold=1.0). */
#define THRESHOLD_BP 100

struct node {
    uint64_t addr;
    int level; /* which of the address's inlined frames */
    vt_frame_info f;
    uint64_t bytes;
    size_t first_child, next; /* indexes into the tree; 0: none (0 is the root) */
};

struct tree {
    struct node *n;
    size_t len, cap;
};

static size_t child(struct tree *t, size_t parent, uint64_t addr, int level, const vt_frame_info *f)
{
    for (size_t c = t->n[parent].first_child; c; c = t->n[c].next)
        if (t->n[c].addr == addr && t->n[c].level == level)
            return c;
    if (vt_grow(&t->n, &t->cap, t->len + 1, sizeof(struct node), 256))
        return 0;
    struct node *c = &t->n[t->len];
    *c = (struct node){.addr = addr, .level = level, .f = *f};
    c->next = t->n[parent].first_child;
    t->n[parent].first_child = t->len;
    return t->len++;
}

/* The tree of the stacks held at the heap peak, weighted by the bytes each held then. */
static int build_tree(struct tree *t, const vt_model *m, vt_symbols *syms)
{
    vt_frames fr;
    int rc = 0;
    vt__frames_init(&fr);
    if (vt_grow(&t->n, &t->cap, 1, sizeof(struct node), 256))
        return -1;
    t->n[0] = (struct node){0};
    t->len = 1;
    for (size_t i = 0; i < m->n_sites && !rc; i++) {
        const vt_site *s = &m->sites[i];
        if (!s->peak_bytes)
            continue;
        if (vt__frames_of(&fr, syms, &m->stacks[s->stack])) {
            rc = -1;
            break;
        }
        t->n[0].bytes += s->peak_bytes;
        size_t at = 0;
        int level = 0;
        for (size_t k = 0; k < fr.n; k++) {
            level = k && fr.addr[k] == fr.addr[k - 1] ? level + 1 : 0;
            size_t c = child(t, at, fr.addr[k], level, &fr.f[k]);
            if (!c) {
                rc = -1;
                break;
            }
            t->n[c].bytes += s->peak_bytes;
            at = c;
        }
    }
    vt__frames_release(&fr);
    return rc;
}

static const struct tree *sort_tree;

static int by_bytes(const void *a, const void *b)
{
    uint64_t x = sort_tree->n[*(const size_t *)a].bytes, y = sort_tree->n[*(const size_t *)b].bytes;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* A name safe in massif.out: '#' starts a comment there, and a line break ends the entry. */
static void safe(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc(*s == '#' ? '_' : *s == '\n' || *s == '\r' ? ' ' : *s, out);
}

static int print_node(FILE *out, const struct tree *t, size_t at, int depth, uint64_t total)
{
    size_t n = 0, cap = 0, *kids = NULL;
    uint64_t below = 0, n_below = 0;
    for (size_t c = t->n[at].first_child; c; c = t->n[c].next) {
        if (t->n[c].bytes * 10000 < total * THRESHOLD_BP) {
            below += t->n[c].bytes;
            n_below++;
            continue;
        }
        if (vt_grow(&kids, &cap, n + 1, sizeof(size_t), 16)) {
            free(kids);
            return -1;
        }
        kids[n++] = c;
    }
    sort_tree = t;
    if (n > 1)
        qsort(kids, n, sizeof(size_t), by_bytes);
    fprintf(out, "%*sn%zu: %llu ", depth, "", n + (n_below ? 1 : 0),
            (unsigned long long)t->n[at].bytes);
    if (!at) {
        fputs("(heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n", out);
    } else {
        const vt_frame_info *f = &t->n[at].f;
        fprintf(out, "0x%llX: ", (unsigned long long)t->n[at].addr);
        safe(out, f->function ? f->function : "???");
        if (f->file) {
            fputs(" (", out);
            safe(out, f->file);
            fprintf(out, ":%d)\n", f->line);
        } else if (f->module) {
            fputs(" (in ", out);
            safe(out, f->module);
            fputs(")\n", out);
        } else {
            fputc('\n', out);
        }
    }
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = print_node(out, t, kids[i], depth + 1, total);
    if (n_below)
        fprintf(out, "%*sn0: %llu in %llu place%s, below massif's threshold (1.00%%)\n", depth + 1,
                "", (unsigned long long)below, (unsigned long long)n_below,
                n_below == 1 ? "" : "s");
    free(kids);
    return rc;
}

static void snapshot(FILE *out, int n, uint64_t ns, uint64_t bytes, const char *tree)
{
    fprintf(out,
            "#-----------\nsnapshot=%d\n#-----------\ntime=%llu.%06llu\nmem_heap_B=%llu\n"
            "mem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=%s\n",
            n, (unsigned long long)(ns / 1000000), (unsigned long long)(ns % 1000000),
            (unsigned long long)bytes, tree);
}

int vt_render_massif(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out)
{
    struct tree t = {0};
    int rc = build_tree(&t, m, syms);
    if (rc)
        goto out;
    fputs("desc: vitals report", out);
    if (o->trace_path) {
        fputc(' ', out);
        safe(out, o->trace_path);
    }
    fputs(" (every allocation recorded; heap bytes are bytes requested)\ncmd:", out);
    for (size_t i = 0; i < m->argc; i++) {
        fputc(' ', out);
        safe(out, m->argv[i]);
    }
    if (!m->argc && m->exe) {
        fputc(' ', out);
        safe(out, m->exe);
    }
    fputs("\ntime_unit: ms\n", out);
    /* Snapshot 0 is the start; then the end of every step-th bucket and of the last, with the
     * peak in its place. */
    const vt_timeline *tl = &m->timeline;
    size_t step = (tl->n_buckets + MAX_SNAPSHOTS - 4) / (MAX_SNAPSHOTS - 3);
    int n = 0, peak_done = 0;
    if (!step)
        step = 1;
    snapshot(out, n++, 0, 0, "empty");
    for (size_t i = 0; i <= tl->n_buckets; i++) {
        const vt_heap_bucket *b = i < tl->n_buckets ? &tl->buckets[i] : NULL;
        if (b && (i + 1) % step && i + 1 != tl->n_buckets)
            continue;
        if (!peak_done && (!b || m->peak_ns <= b->end_ns)) {
            snapshot(out, n++, m->peak_ns, m->peak_bytes, "peak");
            if ((rc = print_node(out, &t, 0, 0, m->peak_bytes)))
                goto out;
            peak_done = 1;
        }
        if (b)
            snapshot(out, n++, b->end_ns, b->end_bytes, "empty");
    }
out:
    free(t.n);
    return rc || ferror(out) ? -1 : 0;
}

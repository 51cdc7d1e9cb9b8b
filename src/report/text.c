/* The text report: what `vitals report` prints and what `vitals run` summarises. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/frag.h"
#include "analyze/advice.h"
#include "report/series-int.h"
#include "analyze/sites.h"
#include "report/report.h"
#include "report/text-int.h"
#include "report/cpu-int.h"
#include "analyze/cpu.h"

static const char *bold(const struct ctx *c)
{
    return c->o->color ? "\033[1m" : "";
}

static const char *dim(const struct ctx *c)
{
    return c->o->color ? "\033[2m" : "";
}

static const char *reset(const struct ctx *c)
{
    return c->o->color ? "\033[0m" : "";
}

static const char *short_path(const struct ctx *c, const char *path)
{
    if (c->cwd_len && !strncmp(path, c->cwd, c->cwd_len) && path[c->cwd_len] == '/')
        return path + c->cwd_len + 1;
    return path;
}

static void print_frame(const struct ctx *c, const vt_frame_info *f, uint64_t addr, int repeat)
{
    FILE *out = c->out;
    fprintf(out, "       %s", f->inlined ? "(inlined) " : "");
    if (f->function)
        fprintf(out, "%s", f->function);
    else
        fprintf(out, "0x%llx", (unsigned long long)addr);
    if (f->file) {
        fprintf(out, "  %s%s:%d", dim(c), short_path(c, f->file), f->line);
        if (f->module && !f->inlined) {
            const char *base = strrchr(f->module, '/');
            fprintf(out, "  [%s]", base ? base + 1 : f->module);
        }
        fputs(reset(c), out);
    } else if (f->module) {
        const char *base = strrchr(f->module, '/');
        fprintf(out, "  %s%s+0x%llx%s", dim(c), base ? base + 1 : f->module,
                (unsigned long long)f->offset, reset(c));
    }
    if (repeat > 1)
        fprintf(out, "  %s(x%d)%s", dim(c), repeat, reset(c));
    fputc('\n', out);
}

static int same_frame(const vt_frame_info *a, const vt_frame_info *b)
{
    if (!a->function || !b->function || strcmp(a->function, b->function))
        return 0;
    if (!a->file || !b->file)
        return a->file == b->file;
    return a->line == b->line && !strcmp(a->file, b->file);
}

/* Prints a stack, innermost first, collapsing runs of one recursive frame. */
static void print_stack(const struct ctx *c, const vt_stack *s)
{
    int shown = 0, limit = c->o->frames;
    vt_frame_info prev = {0}, f[16];
    uint64_t prev_addr = 0;
    int run = 0;
    if (!s->depth) {
        fprintf(c->out, "       %s(no stack recorded)%s\n", dim(c), reset(c));
        return;
    }
    for (uint32_t i = 0; i < s->depth; i++) {
        int n = vt_stack_frame(c->syms, s, i, f, 16);
        for (int k = 0; k < n; k++) {
            if (run && same_frame(&prev, &f[k])) {
                run++;
                continue;
            }
            if (run) {
                if (limit && shown >= limit)
                    goto more;
                print_frame(c, &prev, prev_addr, run);
                shown++;
            }
            prev = f[k];
            prev_addr = s->frames[i];
            run = 1;
        }
    }
    if (run && (!limit || shown < limit)) {
        print_frame(c, &prev, prev_addr, run);
        return;
    }
more:
    fprintf(c->out, "       %s... (--frames 0 shows the whole stack)%s\n", dim(c), reset(c));
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void print_fn_list(const struct ctx *c, uint64_t mask)
{
    int first = 1;
    for (int fn = 0; fn < VT_FN_COUNT; fn++) {
        if (mask & (1ull << fn)) {
            fprintf(c->out, "%s%s", first ? " from " : ", ", vt_fn_name(fn));
            first = 0;
        }
    }
    if (mask & (1ull << 63))
        fprintf(c->out, "%s%s", first ? " from " : ", ", "mmap");
}

static void section(const struct ctx *c, const char *title, size_t shown, size_t total,
                    const char *what)
{
    fprintf(c->out, "\n%s%s%s", bold(c), title, reset(c));
    if (total > shown)
        fprintf(c->out, " (top %zu of %zu %s; --top N for more)", shown, total, what);
    fputc('\n', c->out);
}

static void print_sites(const struct ctx *c, enum vt_site_key key, const char *title)
{
    const vt_model *m = c->m;
    size_t *idx = malloc((c->o->top ? c->o->top : 1) * sizeof(size_t)), total;
    if (!idx)
        return;
    size_t n = vt_sites_rank(m, key, idx, c->o->top, &total);
    char b1[32], b2[32], b3[32], b4[32];
    if (!n) {
        free(idx);
        return;
    }
    int by_stack = key == VT_BY_LEAKED || (key >= VT_BY_DEFINITE && key <= VT_BY_REACHABLE);
    section(c, title, n, total, by_stack ? "stacks" : "sites");
    for (size_t i = 0; i < n; i++) {
        const vt_site *s = &m->sites[idx[i]];
        FILE *out = c->out;
        fprintf(out, "  %s%zu.%s ", bold(c), i + 1, reset(c));
        uint64_t nb = s->live_blocks, nbytes = s->live_bytes;
        switch (key) {
        case VT_BY_DEFINITE:
        case VT_BY_INDIRECT:
        case VT_BY_POSSIBLE:
        case VT_BY_REACHABLE: {
            int cls = vt_leak_class_order[key - VT_BY_DEFINITE];
            nb = s->leak_blocks[cls];
            nbytes = s->leak_bytes[cls];
        }
            /* fall through */
        case VT_BY_LEAKED:
            fprintf(out, "%s block%s, %s", vt_fmt_count(nb, b1, sizeof(b1)), nb == 1 ? "" : "s",
                    vt_fmt_bytes(nbytes, b2, sizeof(b2)));
            if (nb && nbytes % nb == 0)
                fprintf(out, " (%s each)", vt_fmt_bytes(nbytes / nb, b3, sizeof(b3)));
            break;
        case VT_BY_WASTE: {
            vt_waste w;
            vt_frag_site_waste(s, 0, &w);
            fprintf(out, "%s call%s, %s wasted of %s usable (%.1f%%), %s at peak",
                    vt_fmt_count(s->alloc_calls, b1, sizeof(b1)), s->alloc_calls == 1 ? "" : "s",
                    vt_fmt_bytes(w.waste, b2, sizeof(b2)), vt_fmt_bytes(w.usable, b3, sizeof(b3)),
                    w.pct, vt_fmt_bytes(s->peak_waste, b4, sizeof(b4)));
            break;
        }
        case VT_BY_MAPPED:
            fprintf(out, "%s mmap calls, %s mapped, %s still mapped",
                    vt_fmt_count(s->mapped_calls, b1, sizeof(b1)),
                    vt_fmt_bytes(s->mapped_bytes, b2, sizeof(b2)),
                    vt_fmt_bytes(s->mapped_live, b3, sizeof(b3)));
            break;
        default:
            fprintf(out, "%s call%s, %s allocated, %s at peak (%.1f%% of peak)",
                    vt_fmt_count(s->alloc_calls, b1, sizeof(b1)), s->alloc_calls == 1 ? "" : "s",
                    vt_fmt_bytes(s->alloc_bytes, b2, sizeof(b2)),
                    vt_fmt_bytes(s->peak_bytes, b3, sizeof(b3)), pct(s->peak_bytes, m->peak_bytes));
            if (s->temporary)
                fprintf(out, ", %.0f%% temporary", pct(s->temporary, s->alloc_calls));
            break;
        }
        print_fn_list(c, s->fn_mask);
        fputc('\n', out);
        print_stack(c, &m->stacks[s->stack]);
    }
    free(idx);
}

static void print_waste(const struct ctx *c, const char *label, int which)
{
    vt_waste w;
    char b1[32], b2[32];
    vt_frag_waste(c->m, which, &w);
    fprintf(c->out, "  %-18s %s of %s usable (%.1f%%)\n", label,
            vt_fmt_bytes(w.waste, b1, sizeof(b1)), vt_fmt_bytes(w.usable, b2, sizeof(b2)), w.pct);
}

/* The allocator's figures at one sample, each with its formula. */
static void print_sample(const struct ctx *c, const char *when, const vt_mem_point *p)
{
    FILE *out = c->out;
    vt_mem_figures f;
    char b1[32], b2[32], b3[32];
    vt_mem_figures_of(p, &f);
    fprintf(out, "  %s (sample at %.3f s):\n", when, (double)p->ns / 1e9);
    fprintf(out,
            "    footprint        %s: arena %s + mmapped chunks %s; in use is uordblks + hblkhd\n",
            vt_fmt_bytes(f.footprint, b1, sizeof(b1)),
            vt_fmt_bytes(p->max[VT_MEM_ARENA], b2, sizeof(b2)),
            vt_fmt_bytes(p->max[VT_MEM_HBLKHD], b3, sizeof(b3)));
    fprintf(
        out,
        "    free in arenas   %s, %.1f%% of the arenas  %s(fordblks / arena)%s; %s at the top\n",
        vt_fmt_bytes(f.free_held, b1, sizeof(b1)), f.free_pct, dim(c), reset(c),
        vt_fmt_bytes(f.releasable, b2, sizeof(b2)));
    fprintf(out,
            "    in use           %s for %s requested: %.1f%% beyond the requests  "
            "%s((in use - heap) / in use)%s\n",
            vt_fmt_bytes(f.in_use, b1, sizeof(b1)), vt_fmt_bytes(f.heap, b2, sizeof(b2)),
            f.chunk_pct, dim(c), reset(c));
    fprintf(out,
            "    overhead         %.1f%% of the footprint is not requested heap  "
            "%s((footprint - heap) / footprint)%s\n",
            f.overhead_pct, dim(c), reset(c));
    fprintf(out, "    resident         %s, %.2f x the live heap  %s(rss / heap)%s\n",
            vt_fmt_bytes(f.rss, b1, sizeof(b1)), f.rss_per_heap, dim(c), reset(c));
}

static void print_fragmentation(const struct ctx *c)
{
    const vt_model *m = c->m;
    FILE *out = c->out;
    char b1[32], b2[32];
    if (!m->has_waste && !m->mem_samples)
        return;
    fprintf(out, "\n%sFragmentation%s (each figure is explained in docs/REPORT.md)\n", bold(c),
            reset(c));
    if (m->has_waste) {
        fprintf(out, "  internal waste: usable size minus bytes requested, share of usable\n");
        print_waste(c, "all allocations", 0);
        print_waste(c, "at the peak", 1);
        print_waste(c, m->has_end ? "at exit" : "at trace end", 2);
    }
    if (!m->mem_samples)
        return;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < m->n_mem; i++) {
        lo = m->mem[i].min[VT_MEM_RSS] < lo ? m->mem[i].min[VT_MEM_RSS] : lo;
        hi = m->mem[i].max[VT_MEM_RSS] > hi ? m->mem[i].max[VT_MEM_RSS] : hi;
    }
    fprintf(out, "  allocator (mallinfo2) and RSS: %llu samples, RSS from %s to %s\n",
            (unsigned long long)m->mem_samples, vt_fmt_bytes(lo, b1, sizeof(b1)),
            vt_fmt_bytes(hi, b2, sizeof(b2)));
    int same = m->has_mem_at_peak && m->mem_at_peak.ns == m->mem_at_exit.ns;
    if (m->has_mem_at_peak)
        print_sample(c, same ? "after the heap peak, the last sample" : "after the heap peak",
                     &m->mem_at_peak);
    if (m->has_mem_at_exit && !same)
        print_sample(c, m->has_end ? "at exit" : "last sample", &m->mem_at_exit);
}

static void print_stacks(const struct ctx *c)
{
    const vt_model *m = c->m;
    FILE *out = c->out;
    char b1[32], b2[32];
    size_t any = 0, shown = 0;
    for (size_t i = 0; i < m->n_threads; i++)
        any += m->threads[i].has_stack;
    if (!any)
        return;
    fprintf(out, "\n%sStacks%s (deepest use: the top down to the lowest resident page)\n", bold(c),
            reset(c));
    for (size_t i = 0; i < m->n_threads && shown < c->o->top; i++) {
        const vt_thread_stats *t = &m->threads[i];
        if (!t->has_stack)
            continue;
        shown++;
        fprintf(out, "  tid %-8u %s of %s", t->tid, vt_fmt_bytes(t->stack_used, b1, sizeof(b1)),
                t->stack_size ? vt_fmt_bytes(t->stack_size, b2, sizeof(b2)) : "(no limit)");
        if (t->stack_size)
            fprintf(out, " (%.1f%%)", pct(t->stack_used, t->stack_size));
        fputc('\n', out);
    }
    if (shown < any)
        fprintf(out, "  ... %zu more threads\n", any - shown);
    for (size_t i = 0; i < m->n_threads; i++) {
        const vt_thread_stats *t = &m->threads[i];
        if (vt_stack_near_limit(t))
            fprintf(out,
                    "  %swarning%s    thread %u used %.1f%% of its %s stack: within 10%% of the "
                    "limit\n",
                    bold(c), reset(c), t->tid, pct(t->stack_used, t->stack_size),
                    vt_fmt_bytes(t->stack_size, b1, sizeof(b1)));
    }
}

/* "function (file:line)" of a stack's innermost frame. */
static void print_where(const struct ctx *c, const vt_stack *st)
{
    vt_frame_info f[16];
    if (!st->depth) {
        fputs("(no stack recorded)", c->out);
        return;
    }
    vt_stack_frame(c->syms, st, 0, f, 16);
    if (f[0].function)
        fputs(f[0].function, c->out);
    else
        fprintf(c->out, "0x%llx", (unsigned long long)st->frames[0]);
    if (f[0].file)
        fprintf(c->out, " (%s:%d)", short_path(c, f[0].file), f[0].line);
}

static void print_saving(const struct ctx *c, const vt_advice *a)
{
    char b[32];
    if (!a->saving_unit || !*a->saving_unit)
        return;
    int bytes = !strncmp(a->saving_unit, "bytes", 5);
    fprintf(c->out, "       saves: %s%s %s\n", a->saving_is_bound ? "up to " : "",
            bytes ? vt_fmt_bytes(a->saving, b, sizeof(b)) : vt_fmt_count(a->saving, b, sizeof(b)),
            bytes ? a->saving_unit + 6 : a->saving_unit);
}

static void print_advice(const struct ctx *c)
{
    const vt_model *m = c->m;
    size_t n = 0;
    vt_advice *adv = vt_advise(m, &n);
    vt_health h;
    vt_health_of(m, &h);
    fprintf(c->out, "\n%sMemory health%s  %s (%d/100)\n", bold(c), reset(c), h.rating, h.score);
    for (int i = 0; i < h.n_reasons; i++)
        fprintf(c->out, "  -%-3d %s\n", h.reasons[i].points, h.reasons[i].text);
    if (!h.n_reasons)
        fprintf(c->out, "  nothing to deduct by the rules of docs/REPORT.md\n");
    size_t shown = n < c->o->top ? n : c->o->top;
    section(c, "Advice", shown, n, "items");
    if (!n)
        fprintf(c->out, "  none: no rule of docs/REPORT.md fired\n");
    for (size_t i = 0; i < shown; i++) {
        const vt_advice *a = &adv[i];
        fprintf(c->out, "  %s%zu.%s %-8s %s: %s\n", bold(c), i + 1, reset(c),
                vt_severity_name(a->severity), vt_advice_kind_name(a->kind), a->evidence);
        if (a->site >= 0) {
            fputs("       at ", c->out);
            print_where(c, &m->stacks[m->sites[a->site].stack]);
            fputc('\n', c->out);
        }
        fprintf(c->out, "       do: %s\n", a->action);
        print_saving(c, a);
    }
    free(adv);
}

static void print_end(const struct ctx *c)
{
    const vt_model *m = c->m;
    FILE *out = c->out;
    const char *end = vt_end_name(m);
    if (!strcmp(end, "signal")) {
        const char *name = sigabbrev_np(m->end_status);
        fprintf(out, "ended by signal %d (SIG%s)", m->end_status, name ? name : "?");
    } else if (!strcmp(end, "_exit")) {
        fprintf(out, "ended by _exit(%d)", m->end_status);
    } else if (!strcmp(end, "exit") && m->end_reason == VT_END_EXIT_STATUS) {
        fprintf(out, "ended by exit(%d)", m->end_status);
    } else if (!strcmp(end, "exit")) {
        fprintf(out, "ended by exit");
    } else if (!strcmp(end, "exec")) {
        fprintf(out, "replaced by exec of %s", m->exec_path);
    } else {
        fprintf(out, "end not recorded");
    }
}

int vt_render_text(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out)
{
    struct ctx c = {.m = m, .syms = syms, .o = o, .out = out};
    char b1[32], b2[32], b3[32];
    if (m->series.present) /* a vitals monitor trace: its own report */
        return vt__text_series(m, o, out);
    if (getcwd(c.cwd, sizeof(c.cwd)))
        c.cwd_len = strlen(c.cwd);

    fprintf(out, "%svitals report%s for", bold(&c), reset(&c));
    for (size_t i = 0; i < m->argc && i < 8; i++)
        fprintf(out, " %s", m->argv[i]);
    if (m->argc > 8)
        fprintf(out, " ...");
    fprintf(out, "  (pid %llu%s)\n", (unsigned long long)m->pid,
            m->forked ? ", a forked child" : "");
    fprintf(out, "  trace      %s, %s, %s events\n", o->trace_path,
            vt_fmt_bytes(m->trace_bytes, b1, sizeof(b1)), vt_fmt_count(m->events, b2, sizeof(b2)));
    fprintf(out, "  run time   %.3f s, ", (double)m->duration_ns / 1e9);
    print_end(&c);
    size_t n_threads = vt_model_cpu_only(m) ? m->cpu->n_threads : m->n_threads;
    fprintf(out, ", %zu thread%s\n", n_threads, n_threads == 1 ? "" : "s");
    if (m->warnings)
        fprintf(out, "  %swarning%s    %s\n", bold(&c), reset(&c), m->warnings);
    if (m->stopped)
        fprintf(out, "  %swarning%s    the agent stopped early: %s\n", bold(&c), reset(&c),
                m->stopped);
    if (m->dropped)
        fprintf(out,
                "  %swarning%s    %s events were not recorded (they happened while the "
                "trace was being finished)\n",
                bold(&c), reset(&c), vt_fmt_count(m->dropped, b1, sizeof(b1)));
    if (vt_model_cpu_only(m)) {
        /* --no-alloc: no allocation was traced, so no heap section can say anything. */
        fprintf(out, "  allocations not traced (vitals run --no-alloc)\n");
        vt__text_cpu(&c);
        return ferror(out) ? -1 : 0;
    }

    fprintf(out, "\n%sHeap%s\n", bold(&c), reset(&c));
    fprintf(out, "  allocation calls   %s", vt_fmt_count(m->alloc_calls, b1, sizeof(b1)));
    const char *sep = "  (";
    for (int fn = 0; fn < VT_FN_COUNT; fn++) {
        if (fn == VT_FN_FREE || fn == VT_FN_DELETE || fn == VT_FN_DELETE_ARRAY || !m->fn_calls[fn])
            continue;
        fprintf(out, "%s%s %s", sep, vt_fn_name(fn), vt_fmt_count(m->fn_calls[fn], b1, sizeof(b1)));
        sep = ", ";
    }
    fprintf(out, "%s\n", *sep == ',' ? ")" : "");
    fprintf(out, "  frees              %s\n", vt_fmt_count(m->free_calls, b1, sizeof(b1)));
    fprintf(out, "  bytes allocated    %s\n", vt_fmt_bytes(m->alloc_bytes, b1, sizeof(b1)));
    fprintf(out, "  peak heap          %s in %s blocks, at %.3f s\n",
            vt_fmt_bytes(m->peak_bytes, b1, sizeof(b1)),
            vt_fmt_count(m->peak_blocks, b2, sizeof(b2)), (double)m->peak_ns / 1e9);
    fprintf(out, "  %s %s blocks, %s\n", m->has_end ? "leaked at exit    " : "live at trace end ",
            vt_fmt_count(m->live_blocks, b1, sizeof(b1)),
            vt_fmt_bytes(m->live_bytes, b2, sizeof(b2)));
    int classified = m->scan.present && m->scan.status == VT_SCAN_DONE;
    if (classified) {
        for (int i = 0; i < VT_LEAK_CLASSES; i++) {
            int cls = vt_leak_class_order[i];
            fprintf(out, "    %-16s %s block%s, %s\n", vt_leak_class_name(cls),
                    vt_fmt_count(m->leak_blocks[cls], b1, sizeof(b1)),
                    m->leak_blocks[cls] == 1 ? "" : "s",
                    vt_fmt_bytes(m->leak_bytes[cls], b2, sizeof(b2)));
        }
        if (m->scan.threads > m->scan.threads_sp)
            fprintf(out,
                    "    %s(%llu of %llu threads were running during the scan: their whole "
                    "stacks counted as roots)%s\n",
                    dim(&c), (unsigned long long)(m->scan.threads - m->scan.threads_sp),
                    (unsigned long long)m->scan.threads, reset(&c));
    } else if (m->has_end) {
        fprintf(out, "    %sleak classes: leak check %s%s%s\n", dim(&c), vt_leak_check_status(m),
                !m->scan.present ? " (vitals run --leak-check=exit classifies leaks)" : "",
                reset(&c));
    }
    fprintf(out,
            "  temporary          %s allocation%s (%.1f%% of calls) freed by their thread "
            "before it allocated again\n",
            vt_fmt_count(m->temporary, b1, sizeof(b1)), m->temporary == 1 ? "" : "s",
            pct(m->temporary, m->alloc_calls));
    if (m->unmatched_frees)
        fprintf(out, "  unknown frees      %s (blocks allocated before tracing began)\n",
                vt_fmt_count(m->unmatched_frees, b1, sizeof(b1)));

    vt__text_over_time(&c);
    print_advice(&c);

    if (m->mmap_calls || m->munmap_calls) {
        fprintf(out, "\n%sMapped memory%s (anonymous mmap, outside the heap)\n", bold(&c),
                reset(&c));
        fprintf(out, "  mmap calls %s, munmap calls %s\n",
                vt_fmt_count(m->mmap_calls, b1, sizeof(b1)),
                vt_fmt_count(m->munmap_calls, b2, sizeof(b2)));
        fprintf(out, "  mapped %s, peak %s, ", vt_fmt_bytes(m->mapped_bytes, b1, sizeof(b1)),
                vt_fmt_bytes(m->mapped_peak, b2, sizeof(b2)));
        fprintf(out, "still mapped at exit %s\n", vt_fmt_bytes(m->mapped_live, b3, sizeof(b3)));
    }

    if (m->n_threads > 1) {
        fprintf(out, "\n%sThreads%s\n", bold(&c), reset(&c));
        size_t n = m->n_threads < o->top ? m->n_threads : o->top;
        for (size_t i = 0; i < n; i++) {
            const vt_thread_stats *t = &m->threads[i];
            fprintf(out, "  tid %-8u %s allocations, %s, %s frees\n", t->tid,
                    vt_fmt_count(t->alloc_calls, b1, sizeof(b1)),
                    vt_fmt_bytes(t->alloc_bytes, b2, sizeof(b2)),
                    vt_fmt_count(t->frees, b3, sizeof(b3)));
        }
        if (n < m->n_threads)
            fprintf(out, "  ... %zu more threads\n", m->n_threads - n);
    }

    print_fragmentation(&c);
    print_stacks(&c);

    if (classified) {
        static const char *const titles[] = {
            "Definitely lost, by call stack",
            "Indirectly lost (reachable only from lost blocks), by call stack",
            "Possibly lost (reachable only through interior pointers), by call stack",
            "Still reachable at exit, by call stack",
        };
        for (int i = 0; i < VT_LEAK_CLASSES; i++)
            print_sites(&c, vt_site_key_of_class(vt_leak_class_order[i]), titles[i]);
    } else {
        print_sites(&c, VT_BY_LEAKED,
                    m->has_end ? "Leaked at exit, by call stack"
                               : "Still allocated where the trace ends, by call stack");
    }
    print_sites(&c, VT_BY_PEAK, "Top sites by share of the peak");
    print_sites(&c, VT_BY_CALLS, "Top sites by allocation calls");
    print_sites(&c, VT_BY_BYTES, "Top sites by bytes allocated");
    print_sites(&c, VT_BY_MAPPED, "Top sites by mapped memory");
    print_sites(&c, VT_BY_WASTE, "Top sites by internal waste (usable size minus bytes requested)");
    vt__text_patterns(&c);
    vt__text_cpu(&c);
    vt__text_zones(&c);
    return ferror(out) ? -1 : 0;
}

void vt__text_section(const struct ctx *c, const char *title, size_t shown, size_t total,
                      const char *what)
{
    section(c, title, shown, total, what);
}

void vt__text_stack(const struct ctx *c, const vt_stack *s)
{
    print_stack(c, s);
}

void vt__text_fn_list(const struct ctx *c, uint64_t mask)
{
    print_fn_list(c, mask);
}

const char *vt__text_bold(const struct ctx *c)
{
    return bold(c);
}

const char *vt__text_reset(const struct ctx *c)
{
    return reset(c);
}

int vt_render_summary(const vt_model *m, vt_symbols *syms, const char *trace_path, FILE *out)
{
    char b1[32], b2[32], b3[32], b4[32];
    if (vt_model_cpu_only(m)) {
        vt__summary_cpu(m, syms, out);
        if (m->warnings)
            fprintf(out, "vitals: warning: %s\n", m->warnings);
        fprintf(out, "vitals: trace written to %s (%s); details: vitals report %s\n", trace_path,
                vt_fmt_bytes(m->trace_bytes, b1, sizeof(b1)), trace_path);
        return 0;
    }
    vt__summary_cpu(m, syms, out);
    fprintf(out, "vitals: %s allocations (%s), peak heap %s at %.3f s, %s frees\n",
            vt_fmt_count(m->alloc_calls, b1, sizeof(b1)),
            vt_fmt_bytes(m->alloc_bytes, b2, sizeof(b2)),
            vt_fmt_bytes(m->peak_bytes, b3, sizeof(b3)), (double)m->peak_ns / 1e9,
            vt_fmt_count(m->free_calls, b4, sizeof(b4)));
    size_t idx[3], total = 0;
    int classified = m->scan.present && m->scan.status == VT_SCAN_DONE;
    enum vt_site_key key = classified ? VT_BY_DEFINITE : VT_BY_LEAKED;
    size_t n = vt_sites_rank(m, key, idx, 3, &total);
    fprintf(out, "vitals: %s: %s blocks, %s",
            m->has_end ? "leaked at exit" : "still allocated where the trace ends",
            vt_fmt_count(m->live_blocks, b1, sizeof(b1)),
            vt_fmt_bytes(m->live_bytes, b2, sizeof(b2)));
    if (classified) {
        fputc('\n', out);
        fprintf(out, "vitals:  ");
        for (int i = 0; i < VT_LEAK_CLASSES; i++) {
            int cls = vt_leak_class_order[i];
            fprintf(out, "%s %s %s (%s)", i ? "," : "", vt_leak_class_name(cls),
                    vt_fmt_count(m->leak_blocks[cls], b1, sizeof(b1)),
                    vt_fmt_bytes(m->leak_bytes[cls], b2, sizeof(b2)));
        }
        if (total)
            fprintf(out, "; definitely lost from %zu call stack%s", total, total == 1 ? "" : "s");
    } else if (total) {
        fprintf(out, " from %zu call stack%s", total, total == 1 ? "" : "s");
    }
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        const vt_site *s = &m->sites[idx[i]];
        const vt_stack *st = &m->stacks[s->stack];
        vt_frame_info f[16];
        uint64_t nb = classified ? s->leak_blocks[VT_LEAK_DEFINITE] : s->live_blocks;
        uint64_t nbytes = classified ? s->leak_bytes[VT_LEAK_DEFINITE] : s->live_bytes;
        fprintf(out, "vitals:   %s block%s, %s at ", vt_fmt_count(nb, b1, sizeof(b1)),
                nb == 1 ? "" : "s", vt_fmt_bytes(nbytes, b2, sizeof(b2)));
        if (!st->depth) {
            fputs("(no stack)\n", out);
            continue;
        }
        vt_stack_frame(syms, st, 0, f, 16);
        /* The innermost source function, inlined or not, with its own line. */
        const vt_frame_info *inner = &f[0];
        if (inner->function)
            fprintf(out, "%s", inner->function);
        else
            fprintf(out, "0x%llx", (unsigned long long)st->frames[0]);
        if (f[0].file) {
            const char *base = strrchr(f[0].file, '/');
            fprintf(out, " (%s:%d)", base ? base + 1 : f[0].file, f[0].line);
        }
        fputc('\n', out);
    }
    vt_health h;
    vt_health_of(m, &h);
    size_t n_advice = 0;
    free(vt_advise(m, &n_advice));
    fprintf(out, "vitals: memory health: %s (%d/100)", h.rating, h.score);
    if (n_advice)
        fprintf(out, "; %zu piece%s of advice in the report", n_advice, n_advice == 1 ? "" : "s");
    fputc('\n', out);
    if (m->timeline.n_suspects)
        fprintf(out, "vitals: growing through the run: %zu site%s (whether freed at exit or not)\n",
                m->timeline.n_suspects, m->timeline.n_suspects == 1 ? "" : "s");
    if (m->zones.present)
        vt__text_zones_summary(m, out);
    if (m->warnings)
        fprintf(out, "vitals: warning: %s\n", m->warnings);
    for (size_t i = 0; i < m->n_threads; i++) {
        const vt_thread_stats *t = &m->threads[i];
        if (vt_stack_near_limit(t))
            fprintf(out, "vitals: warning: thread %u used %.1f%% of its %s stack\n", t->tid,
                    pct(t->stack_used, t->stack_size), vt_fmt_bytes(t->stack_size, b1, sizeof(b1)));
    }
    if (m->dropped)
        fprintf(out, "vitals: warning: %s events were not recorded\n",
                vt_fmt_count(m->dropped, b1, sizeof(b1)));
    fprintf(out, "vitals: trace written to %s (%s); details: vitals report %s\n", trace_path,
            vt_fmt_bytes(m->trace_bytes, b1, sizeof(b1)), trace_path);
    return 0;
}

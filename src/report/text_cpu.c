/* The CPU profile in the text report: sampler, hot functions, threads, call tree, callers and
 * callees, hot spots, counters and derived ratios (docs/REPORT.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/cpu.h"
#include "report/cpu-int.h"
#include "report/text-int.h"
#include "trace/format.h"

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0;
}

static const char *base_name(const char *p)
{
    const char *s = p ? strrchr(p, '/') : NULL;
    return s ? s + 1 : p;
}

static void fn_where(FILE *out, const vt_cpu_fn *f)
{
    if (f->file)
        fprintf(out, "  (%s:%d)", base_name(f->file), f->line);
    else if (f->module)
        fprintf(out, "  [%s]", base_name(f->module));
}

static void print_tree(const struct ctx *c, const vt_cpu_profile *p, uint32_t node, int depth,
                       uint64_t whole, int *lines)
{
    size_t nn, nf;
    const vt_cpu_node *nodes = vt_cpu_profile_tree(p, &nn);
    const vt_cpu_fn *fns = vt_cpu_profile_fns(p, &nf);
    for (uint32_t k = nodes[node].first_child; k != UINT32_MAX; k = nodes[k].next_sibling) {
        /* Branches under 1% of the time are left out, and the tree stops at 60 lines. */
        if (pct(nodes[k].total_ns, whole) < 1.0 || *lines >= 60)
            return;
        (*lines)++;
        fprintf(c->out, "  %6.1f%% %6.1f%%  %*s%s\n", pct(nodes[k].total_ns, whole),
                pct(nodes[k].self_ns, whole), depth * 2, "", fns[nodes[k].fn].name);
        print_tree(c, p, k, depth + 1 < 24 ? depth + 1 : 24, whole, lines);
    }
}

static void print_edges(const struct ctx *c, const vt_cpu_profile *p, uint32_t fn, uint64_t whole)
{
    size_t nf;
    const vt_cpu_fn *fns = vt_cpu_profile_fns(p, &nf);
    for (int which = 0; which < 2; which++) {
        size_t n;
        vt_cpu_edge *e = vt_cpu_profile_edges(p, fn, which, &n);
        fprintf(c->out, "      %s ", which ? "calls      " : "called from");
        if (!n)
            fputs(which ? "(nothing: all its time is its own)" : "(no caller on record)", c->out);
        for (size_t i = 0; i < n && i < 5; i++)
            fprintf(c->out, "%s%s %.1f%%", i ? ", " : "", fns[e[i].fn].name, pct(e[i].ns, whole));
        if (n > 5)
            fprintf(c->out, ", ... %zu more", n - 5);
        fputc('\n', c->out);
        free(e);
    }
}

static void print_counters(const struct ctx *c, const vt_cpu *cpu)
{
    FILE *out = c->out;
    if (!cpu->n_events)
        return;
    fprintf(out, "\n%sCounters%s (summed over threads; scaled = count x enabled / running)\n",
            vt__text_bold(c), vt__text_reset(c));
    int unsupported_hw = 0;
    for (size_t i = 0; i < cpu->n_events; i++) {
        const vt_cpu_event *e = &cpu->events[i];
        fprintf(out, "  %-24s ", e->name ? e->name : "?");
        if (e->status) {
            int hw = !(e->flags & VT_CPU_EV_SOFTWARE);
            unsupported_hw += hw;
            fprintf(out, "unsupported on this machine (%s)\n",
                    e->status == ENOENT || e->status == EOPNOTSUPP
                        ? (hw ? "no hardware PMU for it: perf_event_open says ENOENT"
                              : "perf_event_open says ENOENT")
                    : e->status == EACCES || e->status == EPERM
                        ? "refused: perf_event_paranoid or seccomp"
                    : e->status == ENODATA ? "no thread was followed"
                                           : strerror(e->status));
            continue;
        }
        if (!e->total.running) {
            fprintf(out, "counted, but never scheduled on a counter\n");
            continue;
        }
        double f = (double)e->total.enabled / (double)e->total.running;
        fprintf(out, "%18.0f  (raw %llu, x%.2f for multiplexing)\n", e->scaled,
                (unsigned long long)e->total.value, f < 1 ? 1.0 : f);
    }
    if (unsupported_hw)
        fprintf(out,
                "  (%d hardware counter%s unsupported: this machine, often a VM, has no PMU; the "
                "software counters above still count)\n",
                unsupported_hw, unsupported_hw == 1 ? " is" : "s are");
    vt_cpu_ratio r[VT_RATIOS];
    int n = vt_cpu_ratios(cpu, r);
    fprintf(out, "\n%sDerived ratios%s\n", vt__text_bold(c), vt__text_reset(c));
    if (!n) {
        fprintf(out, "  none: they need hardware counters (cycles, instructions, cache and TLB "
                     "events), which were not counted\n");
        return;
    }
    for (int i = 0; i < VT_RATIOS; i++)
        if (r[i].have)
            fprintf(out, "  %-18s %10.3f%s   = %s\n", r[i].name, r[i].value,
                    i == VT_RATIO_BRANCH_MISS || i == VT_RATIO_L1_MISS || i == VT_RATIO_LLC_MISS
                        ? "%"
                        : " ",
                    r[i].formula);
    char buf[512];
    if (vt_cpu_interpret(r, buf, sizeof(buf)))
        fprintf(out, "  reading: %s\n", buf);
}

void vt__text_cpu(const struct ctx *c)
{
    const vt_model *m = c->m;
    const vt_cpu *cpu = m->cpu;
    FILE *out = c->out;
    if (!cpu)
        return;
    fprintf(out, "\n%sCPU profile%s\n", vt__text_bold(c), vt__text_reset(c));
    if (cpu->sampler != VT_SAMPLER_NONE)
        fprintf(out, "  sampler      %s per thread at %llu Hz of CPU time (period %.3f ms)%s\n",
                vt_cpu_sampler_name(cpu->sampler), (unsigned long long)cpu->hz,
                (double)cpu->period_ns / 1e6,
                cpu->flags & VT_CPU_F_WALL ? ", and off-CPU time (--wall)" : "");
    else
        fprintf(out, "  sampler      none (counters only)\n");
    if (cpu->note && *cpu->note)
        fprintf(out, "  note         %s\n", cpu->note);
    if (!(cpu->flags & VT_CPU_F_NO_ALLOC))
        fprintf(out,
                "  allocations  traced too: the agent's own work is part of what was sampled\n");
    vt_cpu_profile *p = vt_cpu_profile_new(m, c->syms, -1);
    if (!p) {
        fprintf(out, "  (out of memory for the profile)\n");
        return;
    }
    uint64_t whole = vt_cpu_profile_ns(p), cpu_ns = 0;
    for (size_t i = 0; i < cpu->n_threads; i++)
        cpu_ns += cpu->threads[i].cpu_ns;
    fprintf(out,
            "  samples      %llu, standing for %.3f s of CPU time (threads measured %.3f s in "
            "all); %llu lost%s\n",
            (unsigned long long)cpu->samples, (double)whole / 1e9, (double)cpu_ns / 1e9,
            (unsigned long long)cpu->lost,
            cpu->samples + cpu->lost && pct(cpu->lost, cpu->samples + cpu->lost) >= VT_CPU_LOST_PCT
                ? " (warning: the figures below miss them)"
                : "");
    if (cpu->flags & VT_CPU_F_WALL)
        fprintf(out, "  off-CPU      %.3f s switched out (blocked or waiting for a CPU)\n",
                (double)vt_cpu_profile_off_ns(p) / 1e9);
    size_t nf;
    const vt_cpu_fn *fns = vt_cpu_profile_fns(p, &nf);
    if (cpu->sampler != VT_SAMPLER_NONE && whole) {
        size_t with_self = 0;
        while (with_self < nf && fns[with_self].self_ns)
            with_self++;
        size_t shown = with_self < c->o->top ? with_self : c->o->top;
        vt__text_section(c, "Hot functions by self time (all threads)", shown, with_self,
                         "functions");
        fprintf(out, "    self%%  total%%      self s  function\n");
        for (size_t i = 0; i < shown; i++) {
            fprintf(out, "  %6.1f%% %6.1f%% %11.3f  %s", pct(fns[i].self_ns, whole),
                    pct(fns[i].total_ns, whole), (double)fns[i].self_ns / 1e9, fns[i].name);
            fn_where(out, &fns[i]);
            fputc('\n', out);
        }
        size_t nt;
        const uint32_t *bt = vt_cpu_profile_by_total(p, &nt);
        while (nt && !fns[bt[nt - 1]].total_ns)
            nt--;
        shown = nt < c->o->top ? nt : c->o->top;
        vt__text_section(c, "Functions by total time (on the stack)", shown, nt, "functions");
        for (size_t i = 0; i < shown; i++)
            fprintf(out, "  %6.1f%% %6.1f%%  %s\n", pct(fns[bt[i]].total_ns, whole),
                    pct(fns[bt[i]].self_ns, whole), fns[bt[i]].name);
    }
    if ((cpu->flags & VT_CPU_F_WALL) && vt_cpu_profile_off_ns(p)) {
        /* Off-CPU time by the function each thread was switched out in. */
        size_t *idx = malloc((nf + 1) * sizeof(size_t)), k = 0;
        for (size_t i = 0; idx && i < nf; i++)
            if (fns[i].off_ns)
                idx[k++] = i;
        for (size_t i = 1; i < k; i++)
            for (size_t j = i; j > 0 && fns[idx[j]].off_ns > fns[idx[j - 1]].off_ns; j--) {
                size_t x = idx[j];
                idx[j] = idx[j - 1];
                idx[j - 1] = x;
            }
        size_t shown = k < c->o->top ? k : c->o->top;
        vt__text_section(c, "Off-CPU time by the function threads were switched out in", shown, k,
                         "functions");
        for (size_t i = 0; i < shown; i++)
            fprintf(out, "  %11.3f s  %s\n", (double)fns[idx[i]].off_ns / 1e9, fns[idx[i]].name);
        free(idx);
    }
    /* Threads, by CPU time. */
    size_t nt = cpu->n_threads;
    size_t *order = malloc((nt + 1) * sizeof(size_t));
    if (order) {
        for (size_t i = 0; i < nt; i++)
            order[i] = i;
        for (size_t i = 1; i < nt; i++)
            for (size_t j = i;
                 j > 0 && cpu->threads[order[j]].cpu_ns > cpu->threads[order[j - 1]].cpu_ns; j--) {
                size_t x = order[j];
                order[j] = order[j - 1];
                order[j - 1] = x;
            }
        size_t shown = nt < c->o->top ? nt : c->o->top;
        vt__text_section(c, "Threads by CPU time", shown, nt, "threads");
        for (size_t k = 0; k < shown; k++) {
            const vt_cpu_thread *t = &cpu->threads[order[k]];
            uint64_t wall = t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;
            fprintf(out, "  tid %-7u %-16s CPU %.3f s%s, %.1f%% of its %.3f s", t->tid,
                    t->name ? t->name : "", (double)t->cpu_ns / 1e9,
                    t->flags & VT_CPU_T_CPU_EXACT ? "" : " (clock)", pct(t->cpu_ns, wall),
                    (double)wall / 1e9);
            if (t->flags & VT_CPU_T_SWITCHES)
                fprintf(out, ", %llu migrations, %llu context switches",
                        (unsigned long long)t->migrations, (unsigned long long)t->switches);
            else
                fputs(", migrations not counted", out);
            fprintf(out, ", %llu samples, %llu lost\n", (unsigned long long)t->samples,
                    (unsigned long long)t->lost);
            if (cpu->sampler == VT_SAMPLER_NONE || nt < 2)
                continue;
            vt_cpu_profile *tp = vt_cpu_profile_new(m, c->syms, (long)order[k]);
            if (!tp)
                continue;
            size_t tn;
            const vt_cpu_fn *tf = vt_cpu_profile_fns(tp, &tn);
            uint64_t tw = vt_cpu_profile_ns(tp);
            fputs("      hottest:", out);
            for (size_t i = 0; i < tn && i < 3 && tf[i].self_ns; i++)
                fprintf(out, "%s %s %.1f%%", i ? "," : "", tf[i].name, pct(tf[i].self_ns, tw));
            fputs(tn && tf[0].self_ns ? "\n" : " (no samples)\n", out);
            vt_cpu_profile_free(tp);
        }
        free(order);
    }
    if (cpu->sampler != VT_SAMPLER_NONE && whole) {
        fprintf(out,
                "\n%sCall tree%s (total%% self%% of the sampled CPU time; branches under 1%% left "
                "out)\n",
                vt__text_bold(c), vt__text_reset(c));
        int lines = 0;
        print_tree(c, p, 0, 0, whole, &lines);
        fprintf(out,
                "\n%sCallers and callees%s of the %s hottest functions (vitals report "
                "--function NAME for another)\n",
                vt__text_bold(c), vt__text_reset(c), nf < 3 ? "" : "three");
        long want = c->o->function ? vt_cpu_profile_find(p, c->o->function) : -1;
        if (c->o->function && want < 0)
            fprintf(out, "  %s: no sample has it on its stack\n", c->o->function);
        for (size_t i = 0; i < nf && i < 3; i++) {
            uint32_t f = want >= 0 ? (uint32_t)want : (uint32_t)i;
            fprintf(out, "  %s  (self %.1f%%, total %.1f%%)\n", fns[f].name,
                    pct(fns[f].self_ns, whole), pct(fns[f].total_ns, whole));
            print_edges(c, p, f, whole);
            if (want >= 0)
                break;
        }
        size_t nh;
        vt_cpu_hot *h = vt_cpu_hot_spots(m, p, &nh);
        fprintf(out, "\n%sHot spots%s (self >= %.0f%%, or total >= %.0f%% with self < %.0f%%%s)\n",
                vt__text_bold(c), vt__text_reset(c), VT_CPU_HOT_SELF_PCT, VT_CPU_HOT_TOTAL_PCT,
                VT_CPU_HOT_TOTAL_SELF_PCT,
                cpu->flags & VT_CPU_F_WALL ? ", or a thread switched out >= 20% of its time" : "");
        if (!nh)
            fprintf(out, "  none: the time is spread thin; see the call tree\n");
        for (size_t i = 0; i < nh; i++)
            fprintf(out, "  %zu. %s\n", i + 1, h[i].advice);
        free(h);
    }
    print_counters(c, cpu);
    vt_cpu_profile_free(p);
}

void vt__summary_cpu(const vt_model *m, vt_symbols *syms, FILE *out)
{
    const vt_cpu *cpu = m->cpu;
    if (!cpu)
        return;
    vt_cpu_profile *p = vt_cpu_profile_new(m, syms, -1);
    uint64_t whole = p ? vt_cpu_profile_ns(p) : 0;
    fprintf(out, "vitals: CPU: %s sampler, %llu samples (%.3f s of CPU), %llu lost, %zu thread%s\n",
            vt_cpu_sampler_name(cpu->sampler), (unsigned long long)cpu->samples,
            (double)whole / 1e9, (unsigned long long)cpu->lost, cpu->n_threads,
            cpu->n_threads == 1 ? "" : "s");
    if (cpu->note && *cpu->note)
        fprintf(out, "vitals: CPU: %s\n", cpu->note);
    size_t nf;
    const vt_cpu_fn *fns = p ? vt_cpu_profile_fns(p, &nf) : NULL;
    for (size_t i = 0; fns && i < nf && i < 3 && whole; i++)
        fprintf(out, "vitals:   %5.1f%% self, %5.1f%% total  %s\n", pct(fns[i].self_ns, whole),
                pct(fns[i].total_ns, whole), fns[i].name);
    vt_cpu_profile_free(p);
}

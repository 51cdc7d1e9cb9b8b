/* The CPU profile in the JSON report (docs/JSON.md, "cpu"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/cpu.h"
#include "report/cpu-int.h"
#include "report/json-int.h"
#include "trace/format.h"

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0;
}

static void fn_json(FILE *out, const vt_cpu_fn *f, uint64_t whole)
{
    fputs("{\"function\":", out);
    vt__json_str(out, f->name);
    fputs(",\"module\":", out);
    vt__json_str(out, f->module);
    fputs(",\"file\":", out);
    vt__json_str(out, f->file);
    fprintf(out,
            ",\"line\":%d,\"self_ns\":%llu,\"self_pct\":%.2f,\"total_ns\":%llu,\"total_pct\":%.2f,"
            "\"off_cpu_ns\":%llu}",
            f->line, (unsigned long long)f->self_ns, pct(f->self_ns, whole),
            (unsigned long long)f->total_ns, pct(f->total_ns, whole),
            (unsigned long long)f->off_ns);
}

static void tree_json(FILE *out, const vt_cpu_profile *p, uint32_t node, uint64_t whole, int depth)
{
    size_t nn, nf;
    const vt_cpu_node *nodes = vt_cpu_profile_tree(p, &nn);
    const vt_cpu_fn *fns = vt_cpu_profile_fns(p, &nf);
    fputc('[', out);
    int first = 1;
    for (uint32_t k = nodes[node].first_child; k != UINT32_MAX; k = nodes[k].next_sibling) {
        if (pct(nodes[k].total_ns, whole) < 0.5 || depth >= 64)
            break;
        fputs(first ? "" : ",", out);
        first = 0;
        fputs("{\"function\":", out);
        vt__json_str(out, fns[nodes[k].fn].name);
        fprintf(out, ",\"total_ns\":%llu,\"self_ns\":%llu,\"children\":",
                (unsigned long long)nodes[k].total_ns, (unsigned long long)nodes[k].self_ns);
        tree_json(out, p, k, whole, depth + 1);
        fputc('}', out);
    }
    fputc(']', out);
}

static void edges_json(FILE *out, const vt_cpu_profile *p, uint32_t fn, int which, uint64_t whole)
{
    size_t n, nf;
    const vt_cpu_fn *fns = vt_cpu_profile_fns(p, &nf);
    vt_cpu_edge *e = vt_cpu_profile_edges(p, fn, which, &n);
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",{\"function\":" : "{\"function\":", out);
        vt__json_str(out, fns[e[i].fn].name);
        fprintf(out, ",\"ns\":%llu,\"pct\":%.2f}", (unsigned long long)e[i].ns,
                pct(e[i].ns, whole));
    }
    fputc(']', out);
    free(e);
}

static void functions_json(FILE *out, const vt_cpu_profile *p, size_t top)
{
    size_t nf;
    const vt_cpu_fn *fns = vt_cpu_profile_fns(p, &nf);
    uint64_t whole = vt_cpu_profile_ns(p);
    fprintf(out, "{\"total\":%zu,\"entries\":[", nf);
    for (size_t i = 0; i < nf && i < top; i++) {
        fputs(i ? "," : "", out);
        fn_json(out, &fns[i], whole);
    }
    fputs("]}", out);
}

const char *vt__json_event_status(int s)
{
    if (!s)
        return "counted";
    if (s == ENOENT || s == EOPNOTSUPP || s == ENODEV)
        return "unsupported";
    if (s == EACCES || s == EPERM)
        return "refused";
    if (s == ENODATA)
        return "not opened";
    return "failed";
}

void vt__json_cpu(FILE *out, vt_symbols *syms, const vt_model *m, const vt_report_opts *o)
{
    const vt_cpu *cpu = m->cpu;
    if (!cpu) {
        fputs(",\"cpu\":null", out);
        return;
    }
    vt_cpu_profile *p = vt_cpu_profile_new(m, syms, -1);
    if (!p) {
        fputs(",\"cpu\":null", out);
        return;
    }
    uint64_t whole = vt_cpu_profile_ns(p);
    fputs(",\"cpu\":{\"sampler\":", out);
    vt__json_str(out, cpu->sampler == VT_SAMPLER_PERF    ? "perf"
                      : cpu->sampler == VT_SAMPLER_TIMER ? "timer"
                                                         : "none");
    fprintf(out, ",\"hz\":%llu,\"period_ns\":%llu,\"wall\":%s,\"allocations_traced\":%s,\"note\":",
            (unsigned long long)cpu->hz, (unsigned long long)cpu->period_ns,
            cpu->flags & VT_CPU_F_WALL ? "true" : "false",
            cpu->flags & VT_CPU_F_NO_ALLOC ? "false" : "true");
    vt__json_str(out, cpu->note && *cpu->note ? cpu->note : NULL);
    fprintf(out, ",\"samples\":%llu,\"lost\":%llu,\"sampled_ns\":%llu,\"off_cpu_ns\":%llu",
            (unsigned long long)cpu->samples, (unsigned long long)cpu->lost,
            (unsigned long long)whole, (unsigned long long)vt_cpu_profile_off_ns(p));
    fputs(",\"functions\":", out);
    functions_json(out, p, o->top);
    size_t nf, nt;
    const vt_cpu_fn *fns = vt_cpu_profile_fns(p, &nf);
    const uint32_t *bt = vt_cpu_profile_by_total(p, &nt);
    fputs(",\"functions_by_total\":[", out);
    for (size_t i = 0; i < nt && i < o->top; i++) {
        fputs(i ? "," : "", out);
        fn_json(out, &fns[bt[i]], whole);
    }
    fputs("],\"threads\":[", out);
    for (size_t i = 0; i < cpu->n_threads; i++) {
        const vt_cpu_thread *t = &cpu->threads[i];
        uint64_t wall = t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;
        fprintf(out, "%s{\"tid\":%u,\"name\":", i ? "," : "", t->tid);
        vt__json_str(out, t->name);
        fprintf(out,
                ",\"cpu_ns\":%llu,\"cpu_ns_exact\":%s,\"wall_ns\":%llu,\"utilization_pct\":%.2f,"
                "\"sampled_ns\":%llu,\"off_cpu_ns\":%llu,\"samples\":%llu,\"lost\":%llu,"
                "\"ended\":%s,",
                (unsigned long long)t->cpu_ns, t->flags & VT_CPU_T_CPU_EXACT ? "true" : "false",
                (unsigned long long)wall, pct(t->cpu_ns, wall), (unsigned long long)t->on_ns,
                (unsigned long long)t->off_ns, (unsigned long long)t->samples,
                (unsigned long long)t->lost, t->flags & VT_CPU_T_ENDED ? "true" : "false");
        if (t->flags & VT_CPU_T_SWITCHES)
            fprintf(out, "\"migrations\":%llu,\"context_switches\":%llu",
                    (unsigned long long)t->migrations, (unsigned long long)t->switches);
        else
            fputs("\"migrations\":null,\"context_switches\":null", out);
        vt_cpu_profile *tp = vt_cpu_profile_new(m, syms, (long)i);
        fputs(",\"functions\":", out);
        if (tp)
            functions_json(out, tp, o->top);
        else
            fputs("null", out);
        vt_cpu_profile_free(tp);
        fputc('}', out);
    }
    fputs("],\"call_tree\":", out);
    tree_json(out, p, 0, whole, 0);
    fputs(",\"callers_callees\":[", out);
    long want = o->function ? vt_cpu_profile_find(p, o->function) : -1;
    for (size_t i = 0; i < nf && i < (want >= 0 ? 1 : o->top); i++) {
        uint32_t f = want >= 0 ? (uint32_t)want : (uint32_t)i;
        fputs(i ? ",{\"function\":" : "{\"function\":", out);
        vt__json_str(out, fns[f].name);
        fputs(",\"callers\":", out);
        edges_json(out, p, f, 0, whole);
        fputs(",\"callees\":", out);
        edges_json(out, p, f, 1, whole);
        fputc('}', out);
    }
    size_t nh;
    vt_cpu_hot *h = vt_cpu_hot_spots(m, p, &nh);
    fputs("],\"hot_spots\":[", out);
    static const char *const kinds[] = {"self", "callees", "blocked"};
    for (size_t i = 0; i < nh; i++) {
        fprintf(out, "%s{\"kind\":\"%s\",\"function\":", i ? "," : "", kinds[h[i].kind]);
        vt__json_str(out, h[i].fn != UINT32_MAX ? fns[h[i].fn].name : NULL);
        fprintf(out, ",\"pct\":%.2f,\"via\":", h[i].pct);
        vt__json_str(out, h[i].via != UINT32_MAX ? fns[h[i].via].name : NULL);
        fputs(",\"advice\":", out);
        vt__json_str(out, h[i].advice);
        fputc('}', out);
    }
    free(h);
    fputs("],\"counters\":[", out);
    for (size_t i = 0; i < cpu->n_events; i++) {
        const vt_cpu_event *e = &cpu->events[i];
        fprintf(out, "%s{\"name\":", i ? "," : "");
        vt__json_str(out, e->name);
        fprintf(out, ",\"status\":\"%s\",\"errno\":%d,\"software\":%s,\"user\":%s",
                vt__json_event_status(e->status), e->status,
                e->flags & VT_CPU_EV_SOFTWARE ? "true" : "false",
                e->flags & VT_CPU_EV_USER ? "true" : "false");
        if (!e->status && e->total.running)
            fprintf(out,
                    ",\"value\":%llu,\"scaled\":%.0f,\"enabled_ns\":%llu,\"running_ns\":%llu,"
                    "\"scale\":%.4f}",
                    (unsigned long long)e->total.value, e->scaled,
                    (unsigned long long)e->total.enabled, (unsigned long long)e->total.running,
                    e->total.running >= e->total.enabled
                        ? 1.0
                        : (double)e->total.enabled / (double)e->total.running);
        else
            fputs(",\"value\":null,\"scaled\":null,\"enabled_ns\":null,\"running_ns\":null,"
                  "\"scale\":null}",
                  out);
    }
    vt_cpu_ratio r[VT_RATIOS];
    vt_cpu_ratios(cpu, r);
    fputs("],\"ratios\":[", out);
    int first = 1;
    for (int i = 0; i < VT_RATIOS; i++) {
        if (!r[i].have)
            continue;
        fputs(first ? "{\"name\":" : ",{\"name\":", out);
        first = 0;
        vt__json_str(out, r[i].name);
        fputs(",\"formula\":", out);
        vt__json_str(out, r[i].formula);
        fprintf(out, ",\"value\":%.6f}", r[i].value);
    }
    char buf[512];
    fputs("],\"interpretation\":", out);
    vt__json_str(out, vt_cpu_interpret(r, buf, sizeof(buf)));
    fputc('}', out);
    vt_cpu_profile_free(p);
}

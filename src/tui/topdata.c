#include "tui/topdata.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/error.h"
#include "util/fmt.h"

int vt_top_data_init(vt_top_data *d)
{
    memset(d, 0, sizeof(*d));
    vt_system_init(&d->sys);
    vt_ptable_init(&d->pt, 1);
    vt_gpu_init(&d->gpu);
    int err = vt_numa_init(&d->numa);
    if (!err && d->numa.n_nodes)
        vt_numa_collect_nodes(&d->numa);
    return err;
}

void vt_top_data_focus(vt_top_data *d, int pid)
{
    if (d->proc.pid == pid)
        return;
    vt_proc_release(&d->proc);
    d->proc_gone = 0;
    if (pid > 0) {
        vt_proc_init(&d->proc, pid, VT_PROC_ALL);
        if (vt_proc_collect(&d->proc))
            d->proc_gone = 1;
    }
}

int vt_top_data_collect(vt_top_data *d)
{
    int err = vt_system_collect(&d->sys);
    if (err)
        return err;
    if ((err = vt_ptable_collect(&d->pt)))
        return err;
    vt_ptable_sort(&d->pt, d->sort);
    if (d->gpu.n_gpus)
        vt_gpu_collect(&d->gpu, d->proc.pid);
    if (d->numa.n_nodes)
        vt_numa_collect_nodes(&d->numa);
    if (d->proc.pid > 0 && !d->proc_gone) {
        int e = vt_proc_collect(&d->proc);
        if (e == VT_ENOMEM)
            return e;
        if (e || vt_proc_now(&d->proc)->state == 'Z')
            d->proc_gone = 1;
        else if (d->numa.n_nodes)
            vt_numa_collect_process(&d->numa, d->proc.pid);
        if (!d->proc_gone) {
            const vt_proc_sample *p = vt_proc_now(&d->proc);
            d->has_live =
                p->has_status && vt_live_read(p->pid, p->uid, p->start_ticks, &d->live) == 0;
        }
    } else {
        d->has_live = 0;
    }
    return 0;
}

void vt_top_data_release(vt_top_data *d)
{
    vt_system_release(&d->sys);
    vt_ptable_release(&d->pt);
    vt_gpu_release(&d->gpu);
    vt_numa_release(&d->numa);
    vt_proc_release(&d->proc);
}

double vt_top_cpu_busy(const vt_top_data *d, int i)
{
    const vt_system_sample *a = vt_system_prev(&d->sys), *b = vt_system_now(&d->sys);
    if (!a || !b)
        return NAN;
    const vt_cpu_times *x, *y;
    if (i < 0) {
        x = &a->total;
        y = &b->total;
    } else {
        if ((size_t)i >= a->n_cpus || (size_t)i >= b->n_cpus)
            return NAN;
        x = &a->cpu[i];
        y = &b->cpu[i];
    }
    double all = (double)vt_cpu_total(y) - (double)vt_cpu_total(x);
    double idle = (double)(y->idle + y->iowait) - (double)(x->idle + x->iowait);
    return all > 0 ? 100.0 * (all - idle) / all : 0;
}

double vt_top_rate(const vt_top_data *d, uint64_t before, uint64_t after)
{
    const vt_system_sample *a = vt_system_prev(&d->sys), *b = vt_system_now(&d->sys);
    if (!a || !b || b->ns <= a->ns || after < before)
        return 0;
    return (double)(after - before) * 1e9 / (double)(b->ns - a->ns);
}

double vt_top_thread_cpu(const vt_top_data *d, size_t i)
{
    const vt_proc_sample *a = vt_proc_prev(&d->proc), *b = vt_proc_now(&d->proc);
    if (!a || !b || i >= b->n_threads || b->ns <= a->ns)
        return NAN;
    const vt_thread_sample *t = &b->threads[i];
    for (size_t k = 0; k < a->n_threads; k++)
        if (a->threads[k].tid == t->tid) {
            uint64_t x = a->threads[k].utime_ns + a->threads[k].stime_ns;
            uint64_t y = t->utime_ns + t->stime_ns;
            return y >= x ? (double)(y - x) * 100.0 / (double)(b->ns - a->ns) : 0;
        }
    return NAN;
}

void vt_top_heap_lines(const vt_top_data *d, char *line1, char *line2, size_t cap)
{
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    const struct vt_live_file *l = &d->live;
    line2[0] = 0;
    if (!d->has_live) {
        snprintf(line1, cap, "Heap: not known (the process does not run under vitals run)");
        return;
    }
    if (l->flags & VT_LIVE_ALLOC)
        snprintf(line1, cap, "Heap %s in %s blocks  peak %s at %.2f s  allocs %s  frees %s",
                 vt_fmt_bytes(l->heap_bytes, b1, 32), vt_fmt_count(l->live_blocks, b2, 32),
                 vt_fmt_bytes(l->heap_peak, b3, 32), (double)l->heap_peak_ns / 1e9,
                 vt_fmt_count(l->alloc_calls, b4, 32), vt_fmt_count(l->free_calls, b5, 32));
    else
        snprintf(line1, cap, "Heap: not traced (vitals run --no-alloc)");
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    double age = now > l->updated_ns ? (double)(now - l->updated_ns) / 1e9 : 0;
    int n = snprintf(line2, cap, "vitals: trace %s (%s), dropped %s, agent mappings %s", l->trace,
                     vt_fmt_bytes(l->trace_bytes, b1, 32), vt_fmt_count(l->dropped, b2, 32),
                     vt_fmt_bytes(l->agent_bytes, b3, 32));
    if (n > 0 && (size_t)n < cap && (l->flags & VT_LIVE_CPU))
        n += snprintf(line2 + n, cap - (size_t)n, ", CPU samples %s",
                      vt_fmt_count(l->cpu_samples, b4, 32));
    if (n > 0 && (size_t)n < cap && age >= 2)
        snprintf(line2 + n, cap - (size_t)n, " (updated %.0f s ago)", age);
}

#include "tui/topdata.h"

#include <math.h>
#include <string.h>

#include "util/error.h"

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

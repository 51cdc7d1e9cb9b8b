#include "analyze/bottleneck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/error.h"

const char *vt_bottleneck_name(int cls)
{
    static const char *const n[] = {"unknown", "cpu-bound", "io-bound", "memory-bound", "waiting"};
    return cls >= 0 && cls <= VT_BOUND_WAITING ? n[cls] : "unknown";
}

static double mean_of(const vt_series *s, const char *name)
{
    int i = vt_series_find(s, name);
    return i < 0 ? NAN : vt_series_mean(s, (size_t)i);
}

/* Sets b->cls from b's figures (the rules of docs/MONITOR.md). */
static void decide(vt_bottleneck *b)
{
    double mf = isnan(b->major_faults_s) ? 0 : b->major_faults_s;
    double pm = isnan(b->psi_memory_pct) ? 0 : b->psi_memory_pct;
    double bio = isnan(b->blkio_pct) ? 0 : b->blkio_pct;
    double dsk = isnan(b->disk_state_pct) ? 0 : b->disk_state_pct;
    if (mf >= 100 || (pm >= 10 && mf >= 1))
        b->cls = VT_BOUND_MEMORY;
    else if (bio >= 20 || dsk >= 20)
        b->cls = VT_BOUND_IO;
    /* Runnable counts: a thread that waits for a CPU the machine's other load holds is still
     * limited by CPU. */
    else if (b->cpu_pct >= 70 || (!isnan(b->running_pct) && b->running_pct >= 70))
        b->cls = VT_BOUND_CPU;
    else
        b->cls = VT_BOUND_WAITING;
}

/* Writes b->reason for b->cls with b's figures. */
static void describe(vt_bottleneck *b)
{
    double mf = isnan(b->major_faults_s) ? 0 : b->major_faults_s;
    double pm = isnan(b->psi_memory_pct) ? 0 : b->psi_memory_pct;
    double bio = isnan(b->blkio_pct) ? 0 : b->blkio_pct;
    double dsk = isnan(b->disk_state_pct) ? 0 : b->disk_state_pct;
    switch (b->cls) {
    case VT_BOUND_MEMORY:
        snprintf(b->reason, sizeof(b->reason),
                 "%.0f major faults/s (pages read back from disk or swap); memory stall %.1f%% "
                 "of the time system-wide; CPU %.1f%% of one core",
                 mf, pm, b->cpu_pct);
        break;
    case VT_BOUND_IO:
        snprintf(b->reason, sizeof(b->reason),
                 "waiting for block I/O %.1f%% of the time, %.1f%% of thread samples in "
                 "uninterruptible (D) state; CPU %.1f%% of one core",
                 bio, dsk, b->cpu_pct);
        break;
    case VT_BOUND_CPU:
        snprintf(b->reason, sizeof(b->reason),
                 "CPU %.1f%% of one core; %.1f%% of thread samples running or runnable; block "
                 "I/O wait %.1f%%, %.1f major faults/s",
                 b->cpu_pct, isnan(b->running_pct) ? 0 : b->running_pct, bio, mf);
        break;
    default:
        snprintf(b->reason, sizeof(b->reason),
                 "CPU only %.1f%% of one core, block I/O wait %.1f%%, %.1f major faults/s: the "
                 "process mostly sleeps (locks, network, timers or input)",
                 b->cpu_pct, bio, mf);
        break;
    }
    if (!isnan(b->steal_pct) && b->steal_pct >= 10) {
        size_t n = strlen(b->reason);
        snprintf(b->reason + n, sizeof(b->reason) - n, " (the hypervisor stole %.1f%%)",
                 b->steal_pct);
    }
}

/* The shares of thread samples from the mean numbers of threads in each state. */
static void thread_shares(vt_bottleneck *b, double run, double disk, double sleep)
{
    double all = (isnan(run) ? 0 : run) + (isnan(disk) ? 0 : disk) + (isnan(sleep) ? 0 : sleep);
    b->running_pct = all > 0 && !isnan(run) ? 100 * run / all : NAN;
    b->disk_state_pct = all > 0 && !isnan(disk) ? 100 * disk / all : NAN;
}

void vt_bottleneck_classify(const vt_series *s, vt_bottleneck *b)
{
    memset(b, 0, sizeof(*b));
    b->seconds = s->last_ns > s->first_ns ? (double)(s->last_ns - s->first_ns) / 1e9 : 0;
    b->cpu_pct = mean_of(s, "cpu");
    b->blkio_pct = mean_of(s, "blkio_wait");
    b->major_faults_s = mean_of(s, "major_faults");
    b->psi_memory_pct = mean_of(s, "sys.psi_memory");
    b->psi_io_pct = mean_of(s, "sys.psi_io");
    b->steal_pct = mean_of(s, "sys.cpu_steal");
    thread_shares(b, mean_of(s, "threads_running"), mean_of(s, "threads_disk"),
                  mean_of(s, "threads_sleeping"));
    if (s->snapshots < 2 || isnan(b->cpu_pct)) {
        b->cls = VT_BOUND_UNKNOWN;
        snprintf(b->reason, sizeof(b->reason), "too few snapshots to tell (%llu)",
                 (unsigned long long)s->snapshots);
        return;
    }
    decide(b);
    describe(b);
}

/* The metrics a window is judged on, in the order of vt_phase_acc's sums. */
enum { A_CPU, A_BLKIO, A_MAJOR, A_PSI_MEM, A_PSI_IO, A_STEAL, A_RUN, A_DISK, A_SLEEP, A_N };
static const char *const acc_metric[A_N] = {
    "cpu",           "blkio_wait",      "major_faults", "sys.psi_memory",  "sys.psi_io",
    "sys.cpu_steal", "threads_running", "threads_disk", "threads_sleeping"};

static double acc_mean(const vt_phase_acc *a, int i)
{
    return a->w[i] > 0 ? a->sum[i] / a->w[i] : NAN;
}

/* b's figures from the means of a; the class is decided, or forced when cls > 0. */
static void judge(const vt_phase_acc *a, int cls, vt_bottleneck *b)
{
    memset(b, 0, sizeof(*b));
    b->seconds = a->last_ns > a->first_ns ? (double)(a->last_ns - a->first_ns) / 1e9 : 0;
    b->cpu_pct = acc_mean(a, A_CPU);
    b->blkio_pct = acc_mean(a, A_BLKIO);
    b->major_faults_s = acc_mean(a, A_MAJOR);
    b->psi_memory_pct = acc_mean(a, A_PSI_MEM);
    b->psi_io_pct = acc_mean(a, A_PSI_IO);
    b->steal_pct = acc_mean(a, A_STEAL);
    thread_shares(b, acc_mean(a, A_RUN), acc_mean(a, A_DISK), acc_mean(a, A_SLEEP));
    if (isnan(b->cpu_pct)) {
        b->cls = VT_BOUND_UNKNOWN;
        snprintf(b->reason, sizeof(b->reason), "too few snapshots to tell (%llu)",
                 (unsigned long long)a->n);
        return;
    }
    if (cls > 0)
        b->cls = cls;
    else
        decide(b);
    describe(b);
}

static void acc_merge(vt_phase_acc *into, const vt_phase_acc *a)
{
    for (int i = 0; i < A_N; i++) {
        into->sum[i] += a->sum[i];
        into->w[i] += a->w[i];
    }
    if (!into->n || a->first_ns < into->first_ns)
        into->first_ns = a->first_ns;
    if (a->last_ns > into->last_ns)
        into->last_ns = a->last_ns;
    into->n += a->n;
}

void vt_phases_init(vt_phases *ph, uint64_t window_ns)
{
    memset(ph, 0, sizeof(*ph));
    ph->window_ns = window_ns ? window_ns : VT_PHASE_WINDOW_NS;
}

void vt_phases_release(vt_phases *ph)
{
    free(ph->v);
    vt_phases_init(ph, ph->window_ns);
}

/* Classifies the window and collapses it into the last phase or starts a new one. */
static int close_window(vt_phases *ph)
{
    vt_phase_acc *w = &ph->win;
    if (!w->n)
        return 0;
    vt_bottleneck b;
    judge(w, 0, &b);
    int r = 0;
    if (b.cls == VT_BOUND_UNKNOWN) {
        /* nothing to judge it by (the first snapshot has no rates): it joins the last phase,
         * or the first one to come */
        if (ph->n) {
            acc_merge(&ph->phase, w);
            ph->v[ph->n - 1].to_ns = ph->phase.last_ns;
            ph->v[ph->n - 1].snapshots = ph->phase.n;
            memset(w, 0, sizeof(*w));
        }
        return 0;
    }
    if (ph->n && ph->v[ph->n - 1].b.cls == b.cls) {
        acc_merge(&ph->phase, w);
    } else {
        if (vt_grow(&ph->v, &ph->cap, ph->n + 1, sizeof(*ph->v), 16))
            return VT_ENOMEM;
        ph->v[ph->n].from_ns = ph->n ? ph->v[ph->n - 1].to_ns : w->first_ns;
        ph->n++;
        ph->phase = *w;
        r = 1;
    }
    vt_phase *p = &ph->v[ph->n - 1];
    judge(&ph->phase, b.cls, &p->b);
    p->to_ns = ph->phase.last_ns;
    p->snapshots = ph->phase.n;
    memset(w, 0, sizeof(*w));
    return r;
}

int vt_phases_add(vt_phases *ph, uint64_t ns, uint64_t dt_ns, const double *vals)
{
    int r = 0;
    if (!ph->started) {
        ph->started = 1;
        ph->origin_ns = ns;
    }
    uint64_t idx = ns > ph->origin_ns ? (ns - ph->origin_ns) / ph->window_ns : 0;
    if (idx != ph->window_index && ph->win.n) {
        r = close_window(ph);
        if (r < 0)
            return r;
    }
    ph->window_index = idx;
    vt_phase_acc *w = &ph->win;
    if (!w->n)
        w->first_ns = ns;
    w->last_ns = ns;
    w->n++;
    double dt = (double)dt_ns;
    for (int i = 0; i < A_N && dt > 0; i++)
        if (!isnan(vals[i])) {
            w->sum[i] += vals[i] * dt;
            w->w[i] += dt;
        }
    return r;
}

int vt_phases_step(vt_phases *ph, const vt_series *s, uint64_t ns)
{
    double vals[A_N];
    for (int i = 0; i < A_N; i++) {
        int k = vt_series_find(s, acc_metric[i]);
        vals[i] = k < 0 ? NAN : s->now[k];
    }
    uint64_t dt = s->have_prev && s->now_ns > s->prev_ns ? s->now_ns - s->prev_ns : 0;
    return vt_phases_add(ph, ns, dt, vals);
}

int vt_phases_finish(vt_phases *ph)
{
    if (!ph->win.n)
        return 0;
    if (ph->win.n >= 2 || !ph->n)
        return close_window(ph);
    /* a lone snapshot past the last window: the last phase reaches to it */
    acc_merge(&ph->phase, &ph->win);
    vt_phase *p = &ph->v[ph->n - 1];
    judge(&ph->phase, p->b.cls, &p->b);
    p->to_ns = ph->phase.last_ns;
    p->snapshots = ph->phase.n;
    memset(&ph->win, 0, sizeof(ph->win));
    return 0;
}

int vt_phases_of_series(vt_phases *ph, const vt_series *s)
{
    int k[A_N];
    for (int i = 0; i < A_N; i++)
        k[i] = vt_series_find(s, acc_metric[i]);
    for (size_t j = 0; j < s->n_points; j++) {
        double vals[A_N];
        for (int i = 0; i < A_N; i++)
            vals[i] = k[i] < 0 || !s->metrics[k[i]].points ? NAN : s->metrics[k[i]].points[j];
        uint64_t dt = j && s->t[j] > s->t[j - 1] ? s->t[j] - s->t[j - 1] : 0;
        int r = vt_phases_add(ph, s->t[j], dt, vals);
        if (r < 0)
            return r;
    }
    int r = vt_phases_finish(ph);
    return r < 0 ? r : 0;
}

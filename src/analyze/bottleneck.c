#include "analyze/bottleneck.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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
    double run = mean_of(s, "threads_running"), disk = mean_of(s, "threads_disk");
    double sleep = mean_of(s, "threads_sleeping");
    double all = (isnan(run) ? 0 : run) + (isnan(disk) ? 0 : disk) + (isnan(sleep) ? 0 : sleep);
    b->running_pct = all > 0 && !isnan(run) ? 100 * run / all : NAN;
    b->disk_state_pct = all > 0 && !isnan(disk) ? 100 * disk / all : NAN;
    if (s->snapshots < 2 || isnan(b->cpu_pct)) {
        b->cls = VT_BOUND_UNKNOWN;
        snprintf(b->reason, sizeof(b->reason), "too few snapshots to tell (%llu)",
                 (unsigned long long)s->snapshots);
        return;
    }
    double mf = isnan(b->major_faults_s) ? 0 : b->major_faults_s;
    double pm = isnan(b->psi_memory_pct) ? 0 : b->psi_memory_pct;
    double bio = isnan(b->blkio_pct) ? 0 : b->blkio_pct;
    double dsk = isnan(b->disk_state_pct) ? 0 : b->disk_state_pct;
    if (mf >= 100 || (pm >= 10 && mf >= 1)) {
        b->cls = VT_BOUND_MEMORY;
        snprintf(b->reason, sizeof(b->reason),
                 "%.0f major faults/s (pages read back from disk or swap); memory stall %.1f%% "
                 "of the time system-wide; CPU %.1f%% of one core",
                 mf, pm, b->cpu_pct);
    } else if (bio >= 20 || dsk >= 20) {
        b->cls = VT_BOUND_IO;
        snprintf(b->reason, sizeof(b->reason),
                 "waiting for block I/O %.1f%% of the time, %.1f%% of thread samples in "
                 "uninterruptible (D) state; CPU %.1f%% of one core",
                 bio, dsk, b->cpu_pct);
    } else if (b->cpu_pct >= 70 || (!isnan(b->running_pct) && b->running_pct >= 70)) {
        /* Runnable counts: a thread that waits for a CPU the machine's other load holds is
         * still limited by CPU. */
        b->cls = VT_BOUND_CPU;
        snprintf(b->reason, sizeof(b->reason),
                 "CPU %.1f%% of one core; %.1f%% of thread samples running or runnable; block "
                 "I/O wait %.1f%%, %.1f major faults/s",
                 b->cpu_pct, isnan(b->running_pct) ? 0 : b->running_pct, bio, mf);
    } else {
        b->cls = VT_BOUND_WAITING;
        snprintf(b->reason, sizeof(b->reason),
                 "CPU only %.1f%% of one core, block I/O wait %.1f%%, %.1f major faults/s: the "
                 "process mostly sleeps (locks, network, timers or input)",
                 b->cpu_pct, bio, mf);
    }
    if (!isnan(b->steal_pct) && b->steal_pct >= 10) {
        size_t n = strlen(b->reason);
        snprintf(b->reason + n, sizeof(b->reason) - n, " (the hypervisor stole %.1f%%)",
                 b->steal_pct);
    }
}

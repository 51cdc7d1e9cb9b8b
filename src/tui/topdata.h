/* What vitals top shows, collected once per refresh and shared by the ncurses screen (top.c)
 * and the batch output (cli/cmd_top.c): the system, the process table, the GPUs, the NUMA
 * nodes, and the one process a process view is open on. */
#ifndef VT_TUI_TOPDATA_H
#define VT_TUI_TOPDATA_H

#include <stdint.h>

#include "collect/gpu.h"
#include "collect/live.h"
#include "collect/numa.h"
#include "collect/proc.h"
#include "collect/ptable.h"
#include "collect/system.h"

typedef struct vt_top_data {
    vt_system sys;
    vt_ptable pt;
    vt_gpu gpu;
    vt_numa numa;
    vt_proc proc; /* the process view's process (pid 0: none) */
    int proc_gone;
    int sort;
    /* the process view's process under `vitals run`: its agent's live figures */
    int has_live;
    struct vt_live_file live;
} vt_top_data;

/* Loads NVML if present and reads the NUMA topology. Returns 0 or VT_ENOMEM. */
int vt_top_data_init(vt_top_data *d);

/* Opens (pid > 0) or closes (0) the process view's collector. */
void vt_top_data_focus(vt_top_data *d, int pid);

/* Takes every sample. Returns 0 or a negative VT_E* code (a process view whose process ended
 * sets proc_gone instead). */
int vt_top_data_collect(vt_top_data *d);

void vt_top_data_release(vt_top_data *d);

/* A share of a CPU's time between the last two system samples, in percent: busy (all but idle
 * and iowait) of CPU i, or of the whole machine for i = -1. NAN before two samples. */
double vt_top_cpu_busy(const vt_top_data *d, int i);

/* The per-second rate of a counter between two values over the system samples' interval. */
double vt_top_rate(const vt_top_data *d, uint64_t before, uint64_t after);

/* A thread's CPU share (% of one core) since the previous sample of the process view, or NAN
 * for a thread new in this sample. */
double vt_top_thread_cpu(const vt_top_data *d, size_t i);

/* The heap line of the process view, and the recording's line under it: "Heap 9.54 MiB in
 * 1,000 blocks, peak ..." and "vitals trace ...", or what says the process is not traced.
 * Writes into line1 and line2 (cap bytes each). */
void vt_top_heap_lines(const vt_top_data *d, char *line1, char *line2, size_t cap);

#endif

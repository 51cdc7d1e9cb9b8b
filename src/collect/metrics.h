/* The named metrics of vitals monitor: one table of what is recorded for a process and the
 * system each tick, and how a pair of collector samples becomes a row of values. The trace
 * records the table (METRIC_DEF) so that a report needs no copy of it. */
#ifndef VT_COLLECT_METRICS_H
#define VT_COLLECT_METRICS_H

#include <stdint.h>

#include "collect/gpu.h"
#include "collect/live.h"
#include "collect/proc.h"
#include "collect/system.h"
#include "trace/format.h"

typedef struct vt_metric_def {
    const char *name;
    int kind, unit;
    const char *help;
} vt_metric_def;

#define VT_METRIC_LIST(X)                                                                          \
    X(CPU, "cpu", COUNTER, NS, "CPU time of the process, user and system (as % of one core)")      \
    X(CPU_USER, "cpu_user", COUNTER, NS, "user CPU time")                                          \
    X(CPU_SYSTEM, "cpu_system", COUNTER, NS, "system CPU time")                                    \
    X(RSS, "rss", GAUGE, BYTES, "resident set size")                                               \
    X(RSS_ANON, "rss_anon", GAUGE, BYTES, "resident anonymous memory")                             \
    X(RSS_FILE, "rss_file", GAUGE, BYTES, "resident file-backed memory")                           \
    X(RSS_SHMEM, "rss_shmem", GAUGE, BYTES, "resident shared memory")                              \
    X(PEAK_RSS, "peak_rss", GAUGE, BYTES, "highest resident set size so far (VmHWM)")              \
    X(VSZ, "vsz", GAUGE, BYTES, "virtual size")                                                    \
    X(THREADS, "threads", GAUGE, COUNT, "threads")                                                 \
    X(FDS, "fds", GAUGE, COUNT, "open file descriptors")                                           \
    X(CTX_VOLUNTARY, "ctx_voluntary", COUNTER, COUNT, "voluntary context switches")                \
    X(CTX_INVOLUNTARY, "ctx_involuntary", COUNTER, COUNT, "involuntary context switches")          \
    X(MINOR_FAULTS, "minor_faults", COUNTER, COUNT, "minor page faults")                           \
    X(MAJOR_FAULTS, "major_faults", COUNTER, COUNT, "major page faults (read from disk)")          \
    X(READ_BYTES, "read_bytes", COUNTER, BYTES, "bytes read by read-like calls (rchar)")           \
    X(WRITE_BYTES, "write_bytes", COUNTER, BYTES, "bytes written by write-like calls (wchar)")     \
    X(READ_CALLS, "read_calls", COUNTER, COUNT, "read-like system calls (syscr)")                  \
    X(WRITE_CALLS, "write_calls", COUNTER, COUNT, "write-like system calls (syscw)")               \
    X(DISK_READ_BYTES, "disk_read_bytes", COUNTER, BYTES, "bytes the process made storage read")   \
    X(DISK_WRITE_BYTES, "disk_write_bytes", COUNTER, BYTES, "bytes the process sent to storage")   \
    X(BLKIO_WAIT, "blkio_wait", COUNTER, NS, "time waiting for block I/O (delay accounting)")      \
    X(THREADS_RUNNING, "threads_running", GAUGE, COUNT, "threads running or runnable (R)")         \
    X(THREADS_SLEEPING, "threads_sleeping", GAUGE, COUNT, "threads sleeping (S)")                  \
    X(THREADS_DISK, "threads_disk", GAUGE, COUNT, "threads in uninterruptible wait (D)")           \
    X(SYS_CPU_USER, "sys.cpu_user", COUNTER, NS, "user time of all CPUs, per CPU")                 \
    X(SYS_CPU_SYSTEM, "sys.cpu_system", COUNTER, NS, "system time (and interrupts), per CPU")      \
    X(SYS_CPU_IOWAIT, "sys.cpu_iowait", COUNTER, NS, "I/O wait time, per CPU")                     \
    X(SYS_CPU_STEAL, "sys.cpu_steal", COUNTER, NS, "time stolen by the hypervisor, per CPU")       \
    X(SYS_CPU_IDLE, "sys.cpu_idle", COUNTER, NS, "idle time, per CPU")                             \
    X(SYS_LOAD1, "sys.load1", GAUGE, MILLI, "load average over 1 minute")                          \
    X(SYS_MEM_AVAILABLE, "sys.mem_available", GAUGE, BYTES, "memory available (MemAvailable)")     \
    X(SYS_MEM_USED, "sys.mem_used", GAUGE, BYTES, "memory used (total minus available)")           \
    X(SYS_MEM_CACHED, "sys.mem_cached", GAUGE, BYTES, "page cache")                                \
    X(SYS_SWAP_USED, "sys.swap_used", GAUGE, BYTES, "swap used")                                   \
    X(SYS_PSI_CPU, "sys.psi_cpu", COUNTER, NS, "time some tasks waited for a CPU (PSI)")           \
    X(SYS_PSI_MEMORY, "sys.psi_memory", COUNTER, NS, "time some tasks stalled on memory (PSI)")    \
    X(SYS_PSI_IO, "sys.psi_io", COUNTER, NS, "time some tasks stalled on I/O (PSI)")               \
    X(SYS_NET_RX_BYTES, "sys.net_rx_bytes", COUNTER, BYTES, "bytes received, all interfaces")      \
    X(SYS_NET_TX_BYTES, "sys.net_tx_bytes", COUNTER, BYTES, "bytes sent, all interfaces")          \
    X(SYS_NET_ERRORS, "sys.net_errors", COUNTER, COUNT, "receive and send errors and drops")       \
    X(SYS_DISK_READ_BYTES, "sys.disk_read_bytes", COUNTER, BYTES, "bytes read from all disks")     \
    X(SYS_DISK_WRITE_BYTES, "sys.disk_write_bytes", COUNTER, BYTES, "bytes written to all disks")  \
    X(SYS_DISK_BUSY, "sys.disk_busy", COUNTER, NS, "time the busiest disk had I/O in flight")      \
    X(GPU_UTIL, "gpu.util", GAUGE, COUNT, "the busiest GPU's utilisation, percent (NVML)")         \
    X(GPU_MEM_USED, "gpu.mem_used", GAUGE, BYTES, "memory used on all GPUs (NVML)")                \
    X(GPU_PROC_MEM, "gpu.proc_mem", GAUGE, BYTES, "the process's memory on all GPUs (NVML)")       \
    X(HEAP, "heap", GAUGE, BYTES, "heap in use (under vitals run: the agent's live figures)")      \
    X(HEAP_PEAK, "heap_peak", GAUGE, BYTES, "highest heap in use so far (under vitals run)")       \
    X(HEAP_BLOCKS, "heap_blocks", GAUGE, COUNT, "live heap blocks (under vitals run)")             \
    X(ALLOCS, "allocs", COUNTER, COUNT, "allocation calls (under vitals run)")                     \
    X(FREES, "frees", COUNTER, COUNT, "calls that freed a block (under vitals run)")               \
    X(ALLOC_BYTES, "alloc_bytes", COUNTER, BYTES, "bytes allocated (under vitals run)")

enum vt_metric_id {
#define VT_METRIC_ENUM(id, name, kind, unit, help) VT_M_##id,
    VT_METRIC_LIST(VT_METRIC_ENUM)
#undef VT_METRIC_ENUM
        VT_M_COUNT
};

extern const vt_metric_def vt_metric_defs[VT_M_COUNT];

/* Fills v[VT_M_COUNT] with the raw values of a process sample p, a system sample s and the
 * GPUs g (each may be NULL: none; g without GPUs: none); present[i] is 0 for a value that was
 * not measured (I/O of another user's process, PSI on an older kernel, no GPU...). The
 * system's CPU times are divided by its CPUs, so that their rates read as a share of the
 * machine. */
void vt_metrics_fill(const vt_proc_sample *p, const vt_system_sample *s, const vt_gpu *g,
                     uint64_t *v, uint8_t *present);

/* Sets the heap metrics (heap, heap_peak, heap_blocks, allocs, frees, alloc_bytes) of v and
 * present from the live figures l of a process under vitals run (collect/live.h); nothing
 * when its allocations are not traced (vitals run --no-alloc). */
void vt_metrics_fill_live(const struct vt_live_file *l, uint64_t *v, uint8_t *present);

/* The unit name of a raw unit ("bytes", "ns"...). */
const char *vt_metric_unit_name(int unit);

#endif

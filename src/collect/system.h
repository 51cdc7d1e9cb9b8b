/* The system collector: CPU per core, load, memory and swap, pressure stall information,
 * network per interface and disk per device, from /proc, each file read once per tick into
 * buffers the collector keeps. Counters are cumulative; times are nanoseconds. */
#ifndef VT_COLLECT_SYSTEM_H
#define VT_COLLECT_SYSTEM_H

#include <stddef.h>
#include <stdint.h>

#include "collect/procfs.h"

/* Time a CPU spent in each state since boot, in ns. */
typedef struct vt_cpu_times {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
} vt_cpu_times;

/* The sum of all of a CPU's times. */
uint64_t vt_cpu_total(const vt_cpu_times *t);

/* Pressure stall information of one resource (/proc/pressure/...): the share of time some
 * (or all, "full") runnable tasks were stalled, as the kernel's 10 s average, and the total
 * stalled time. */
typedef struct vt_psi {
    int present;
    double some_avg10, full_avg10; /* percent */
    uint64_t some_ns, full_ns;     /* cumulative */
} vt_psi;

typedef struct vt_net_if {
    char name[32];
    uint64_t rx_bytes, rx_packets, rx_errors, rx_drops;
    uint64_t tx_bytes, tx_packets, tx_errors, tx_drops;
} vt_net_if;

typedef struct vt_disk {
    char name[32];
    uint64_t reads, read_bytes, read_ns;
    uint64_t writes, write_bytes, write_ns;
    uint64_t in_flight;
    uint64_t busy_ns;  /* time with I/O in flight */
    uint64_t queue_ns; /* weighted time in queue (sum over requests) */
} vt_disk;

enum vt_psi_resource { VT_PSI_CPU, VT_PSI_MEMORY, VT_PSI_IO, VT_PSI_COUNT };

typedef struct vt_system_sample {
    uint64_t ns; /* CLOCK_MONOTONIC when it was taken */
    vt_cpu_times total;
    vt_cpu_times *cpu; /* per core, n_cpus of them (cpu[i] is the i-th line of /proc/stat) */
    int *cpu_id;       /* the number of each (cpuN) */
    size_t n_cpus, cpus_cap;
    uint64_t ctxt, procs_running, procs_blocked;
    double load1, load5, load15;
    uint64_t mem_total, mem_free, mem_available, buffers, cached, shmem;
    uint64_t swap_total, swap_free;
    vt_psi psi[VT_PSI_COUNT];
    vt_net_if *net;
    size_t n_net, net_cap;
    vt_disk *disk;
    size_t n_disk, disk_cap;
} vt_system_sample;

typedef struct vt_system {
    vt_system_sample s[2];
    int cur, n_taken;
    vt_procfs_buf buf;
    int psi_absent[VT_PSI_COUNT]; /* files found missing once are not tried again */
    /* device names that are whole disks (not partitions): decided once per name */
    char (*disk_names)[32];
    unsigned char *disk_whole;
    size_t n_disk_names, disk_names_cap;
} vt_system;

void vt_system_init(vt_system *c);

/* Takes a sample. Returns 0, VT_EIO if /proc/stat cannot be read, VT_ENOMEM. */
int vt_system_collect(vt_system *c);

/* The latest sample and the one before (NULL until two were taken). Borrowed from c. */
const vt_system_sample *vt_system_now(const vt_system *c);
const vt_system_sample *vt_system_prev(const vt_system *c);

void vt_system_release(vt_system *c);

/* The resource name of a VT_PSI_* ("cpu", "memory", "io"). */
const char *vt_psi_name(int r);

/* Parsers, exposed for tests: each fills s from a file's text. Return 0 or VT_ENOMEM. */
int vt__system_parse_stat(vt_system_sample *s, const char *text);
int vt__system_parse_net(vt_system_sample *s, const char *text);
void vt__system_parse_meminfo(vt_system_sample *s, const char *text);
void vt__system_parse_psi(vt_psi *p, const char *text);

#endif

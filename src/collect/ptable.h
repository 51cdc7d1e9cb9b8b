/* The process table of vitals top: every process in /proc with its CPU share, memory, I/O
 * rate and threads between two scans. A scan reads stat (and io where the kernel allows) of
 * each process into kept buffers; the table grows only when there are more processes. */
#ifndef VT_COLLECT_PTABLE_H
#define VT_COLLECT_PTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "collect/procfs.h"

typedef struct vt_ptable_entry {
    int pid, ppid;
    char comm[16];
    char state;
    uint32_t uid;
    uint64_t cpu_ns; /* user + system since the process started */
    uint64_t rss, vsz;
    uint64_t threads;
    int has_io;
    uint64_t io_bytes; /* read + written by read- and write-like calls (rchar + wchar) */
    uint64_t start_ticks;
    /* since the previous scan (0 for a process new in this one) */
    double cpu_pct; /* % of one core */
    double io_rate; /* bytes per second */
} vt_ptable_entry;

/* What the table can be sorted by. */
enum vt_ptable_key { VT_SORT_CPU, VT_SORT_MEM, VT_SORT_IO, VT_SORT_THREADS, VT_SORT_PID };

typedef struct vt_ptable {
    vt_ptable_entry *cur, *prev; /* each sorted by pid */
    size_t n_cur, n_prev, cap_cur, cap_prev;
    size_t *order; /* the display order of cur (vt_ptable_sort) */
    size_t order_cap;
    uint64_t ns_cur, ns_prev;
    int with_io;
    vt_procfs_buf buf;
    char *dents;
    size_t dents_cap;
} vt_ptable;

void vt_ptable_init(vt_ptable *t, int with_io);

/* Scans /proc. Returns 0, VT_EIO when /proc cannot be read, or VT_ENOMEM. */
int vt_ptable_collect(vt_ptable *t);

/* Orders t->order by key, largest first (pid: smallest first). */
void vt_ptable_sort(vt_ptable *t, int key);

/* The entry of pid in the latest scan, or NULL. Borrowed until the next scan. */
const vt_ptable_entry *vt_ptable_find(const vt_ptable *t, int pid);

/* "cpu", "memory", "io", "threads", "pid". */
const char *vt_ptable_key_name(int key);

void vt_ptable_release(vt_ptable *t);

#endif

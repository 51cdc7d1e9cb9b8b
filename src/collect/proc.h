/* The process collector: one process and its threads from /proc/PID, each file read once per
 * tick into buffers the collector keeps. Counters are cumulative (the caller takes the
 * difference of two samples); times are in nanoseconds, sizes in bytes. */
#ifndef VT_COLLECT_PROC_H
#define VT_COLLECT_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "collect/procfs.h"

/* What vt_proc_collect reads beyond /proc/PID/stat. */
enum vt_proc_parts {
    VT_PROC_STATUS = 1,  /* status: RSS split, peak RSS, context switches */
    VT_PROC_IO = 2,      /* io: bytes and calls read and written (may be refused) */
    VT_PROC_FDS = 4,     /* the number of open descriptors */
    VT_PROC_THREADS = 8, /* task/TID/stat of every thread */
    VT_PROC_ALL = 15,
};

/* The thread states of /proc (R running, S sleeping, D disk or uninterruptible, T stopped,
 * Z zombie, anything else). */
enum vt_thread_state {
    VT_TS_RUNNING,
    VT_TS_SLEEPING,
    VT_TS_DISK,
    VT_TS_STOPPED,
    VT_TS_ZOMBIE,
    VT_TS_OTHER,
    VT_TS_COUNT
};

typedef struct vt_thread_sample {
    int tid;
    char comm[16];
    char state;    /* the letter /proc shows */
    int processor; /* the CPU it last ran on */
    uint64_t utime_ns, stime_ns;
    uint64_t minflt, majflt;
} vt_thread_sample;

typedef struct vt_proc_sample {
    uint64_t ns; /* CLOCK_MONOTONIC when it was taken */
    int pid, ppid;
    char comm[16];
    char state;
    int processor;
    uint64_t utime_ns, stime_ns;
    uint64_t minflt, majflt;
    uint64_t num_threads;
    uint64_t vsz, rss;       /* from stat */
    uint64_t start_ticks;    /* start time since boot, in clock ticks */
    uint64_t blkio_delay_ns; /* time spent waiting for block I/O (delay accounting; 0 if off) */
    /* VT_PROC_STATUS */
    int has_status;
    uint64_t rss_anon, rss_file, rss_shmem, peak_rss;
    uint64_t ctx_voluntary, ctx_involuntary;
    uint32_t uid;
    /* VT_PROC_IO: has_io is 0 when the kernel refused (another user's process) */
    int has_io;
    uint64_t rchar, wchar, syscr, syscw, read_bytes, write_bytes;
    /* VT_PROC_FDS */
    int has_fds;
    uint64_t fds;
    /* VT_PROC_THREADS: one entry per thread, and how many are in each state */
    vt_thread_sample *threads;
    size_t n_threads, threads_cap;
    uint32_t thread_states[VT_TS_COUNT];
} vt_proc_sample;

/* The collector of one process: the last two samples and the buffers it reads into. */
typedef struct vt_proc {
    int pid;
    int parts;
    vt_proc_sample s[2];
    int cur;     /* s[cur] is the latest sample; s[!cur] the one before */
    int n_taken; /* samples taken so far (rates need two) */
    vt_procfs_buf buf;
    char *dents; /* getdents64 buffer for fd/ and task/ */
    size_t dents_cap;
} vt_proc;

/* Prepares c to sample pid with the given parts (VT_PROC_*). */
void vt_proc_init(vt_proc *c, int pid, int parts);

/* Takes a sample. Returns 0, VT_ENOENT when the process is gone, VT_EIO when /proc refuses
 * it, VT_ENOMEM. */
int vt_proc_collect(vt_proc *c);

/* The latest sample and the one before it (NULL before two were taken). Borrowed from c. */
const vt_proc_sample *vt_proc_now(const vt_proc *c);
const vt_proc_sample *vt_proc_prev(const vt_proc *c);

/* Releases the collector's memory. */
void vt_proc_release(vt_proc *c);

/* Fills *out from /proc/PID/stat alone (and status when parts asks), reading into buf: the
 * light path of the process table of vitals top. Returns as vt_proc_collect. */
int vt_proc_read(int pid, int parts, vt_procfs_buf *buf, char **dents, size_t *dents_cap,
                 vt_proc_sample *out);

/* The state class of a /proc state letter. */
int vt_thread_state_class(char state);

/* Parses the text of a /proc/PID/stat or task/TID/stat file into *t (exposed for tests).
 * Returns 0 or VT_EINVAL. */
int vt__parse_stat(const char *text, vt_proc_sample *s, vt_thread_sample *t);

#endif

#include "collect/ptable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "collect/proc.h"
#include "util/array.h"
#include "util/error.h"

void vt_ptable_init(vt_ptable *t, int with_io)
{
    memset(t, 0, sizeof(*t));
    t->with_io = with_io;
}

const char *vt_ptable_key_name(int key)
{
    static const char *const n[] = {"cpu", "memory", "io", "threads", "pid"};
    return key >= 0 && key <= VT_SORT_PID ? n[key] : "?";
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int by_pid(const void *a, const void *b)
{
    const vt_ptable_entry *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static int read_one(vt_ptable *t, int dfd, int pid, vt_ptable_entry *e)
{
    char path[32];
    vt_proc_sample s;
    snprintf(path, sizeof(path), "%d/stat", pid);
    if (vt_procfs_read(&t->buf, dfd, path))
        return -1;
    memset(&s, 0, sizeof(s));
    if (vt__parse_stat(t->buf.p, &s, NULL))
        return -1;
    memset(e, 0, sizeof(*e));
    e->pid = pid;
    e->ppid = s.ppid;
    memcpy(e->comm, s.comm, sizeof(e->comm));
    e->state = s.state;
    e->cpu_ns = s.utime_ns + s.stime_ns;
    e->rss = s.rss;
    e->vsz = s.vsz;
    e->threads = s.num_threads;
    e->start_ticks = s.start_ticks;
    snprintf(path, sizeof(path), "%d/status", pid);
    if (vt_procfs_read(&t->buf, dfd, path) == 0)
        e->uid = (uint32_t)vt_procfs_field(t->buf.p, "Uid:", NULL);
    if (t->with_io) {
        snprintf(path, sizeof(path), "%d/io", pid);
        if (vt_procfs_read(&t->buf, dfd, path) == 0) {
            e->io_bytes = vt_procfs_field(t->buf.p, "rchar:", NULL) +
                          vt_procfs_field(t->buf.p, "wchar:", NULL);
            e->has_io = 1;
        }
    }
    return 0;
}

int vt_ptable_collect(vt_ptable *t)
{
    /* The previous scan becomes prev; cur is refilled. */
    vt_ptable_entry *sw = t->prev;
    size_t swcap = t->cap_prev;
    t->prev = t->cur;
    t->n_prev = t->n_cur;
    t->cap_prev = t->cap_cur;
    t->ns_prev = t->ns_cur;
    t->cur = sw;
    t->cap_cur = swcap;
    t->n_cur = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t->ns_cur = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

    int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return VT_EIO;
    int err = 0;
    if (!t->dents) {
        t->dents = malloc(65536);
        if (!t->dents) {
            err = VT_ENOMEM;
            goto out;
        }
        t->dents_cap = 65536;
    }
    for (;;) {
        long r = syscall(SYS_getdents64, dfd, t->dents, t->dents_cap);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (long off = 0; off < r;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(t->dents + off);
            off += d->d_reclen;
            const char *q = d->d_name;
            if (*q < '1' || *q > '9')
                continue;
            int pid = (int)vt_procfs_u64(&q);
            if (vt_grow(&t->cur, &t->cap_cur, t->n_cur + 1, sizeof(*t->cur), 256)) {
                err = VT_ENOMEM;
                goto out;
            }
            if (read_one(t, dfd, pid, &t->cur[t->n_cur]) == 0)
                t->n_cur++;
        }
    }
    qsort(t->cur, t->n_cur, sizeof(*t->cur), by_pid);
    /* Rates against the previous scan: both are sorted by pid, so one merge pass. A pid
     * reused by a new process (another start time) starts afresh. */
    double dt = t->ns_prev && t->ns_cur > t->ns_prev ? (double)(t->ns_cur - t->ns_prev) : 0;
    size_t j = 0;
    for (size_t i = 0; i < t->n_cur; i++) {
        vt_ptable_entry *e = &t->cur[i];
        while (j < t->n_prev && t->prev[j].pid < e->pid)
            j++;
        if (dt > 0 && j < t->n_prev && t->prev[j].pid == e->pid &&
            t->prev[j].start_ticks == e->start_ticks) {
            const vt_ptable_entry *p = &t->prev[j];
            e->cpu_pct = e->cpu_ns >= p->cpu_ns ? (double)(e->cpu_ns - p->cpu_ns) * 100.0 / dt : 0;
            e->io_rate = e->has_io && p->has_io && e->io_bytes >= p->io_bytes
                             ? (double)(e->io_bytes - p->io_bytes) * 1e9 / dt
                             : 0;
        }
    }
    if (vt_grow(&t->order, &t->order_cap, t->n_cur ? t->n_cur : 1, sizeof(*t->order), 256)) {
        err = VT_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < t->n_cur; i++)
        t->order[i] = i;
out:
    close(dfd);
    return err;
}

static const vt_ptable *sort_table;
static int sort_key;

static int cmp_order(const void *a, const void *b)
{
    const vt_ptable_entry *x = &sort_table->cur[*(const size_t *)a];
    const vt_ptable_entry *y = &sort_table->cur[*(const size_t *)b];
    double vx = 0, vy = 0;
    switch (sort_key) {
    case VT_SORT_CPU:
        vx = x->cpu_pct, vy = y->cpu_pct;
        break;
    case VT_SORT_MEM:
        vx = (double)x->rss, vy = (double)y->rss;
        break;
    case VT_SORT_IO:
        vx = x->io_rate, vy = y->io_rate;
        break;
    case VT_SORT_THREADS:
        vx = (double)x->threads, vy = (double)y->threads;
        break;
    default:
        vx = -x->pid, vy = -y->pid;
    }
    if (vx != vy)
        return vx < vy ? 1 : -1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

void vt_ptable_sort(vt_ptable *t, int key)
{
    sort_table = t;
    sort_key = key;
    qsort(t->order, t->n_cur, sizeof(*t->order), cmp_order);
}

const vt_ptable_entry *vt_ptable_find(const vt_ptable *t, int pid)
{
    size_t lo = 0, hi = t->n_cur;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->cur[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n_cur && t->cur[lo].pid == pid ? &t->cur[lo] : NULL;
}

void vt_ptable_release(vt_ptable *t)
{
    free(t->cur);
    free(t->prev);
    free(t->order);
    free(t->dents);
    vt_procfs_buf_release(&t->buf);
    memset(t, 0, sizeof(*t));
}

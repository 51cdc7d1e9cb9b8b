#include "collect/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t ticks_ns(uint64_t ticks)
{
    return ticks * (1000000000ull / (uint64_t)vt_procfs_hz());
}

int vt_thread_state_class(char state)
{
    switch (state) {
    case 'R':
        return VT_TS_RUNNING;
    case 'S':
    case 'I':
        return VT_TS_SLEEPING;
    case 'D':
        return VT_TS_DISK;
    case 'T':
    case 't':
        return VT_TS_STOPPED;
    case 'Z':
    case 'X':
        return VT_TS_ZOMBIE;
    }
    return VT_TS_OTHER;
}

int vt__parse_stat(const char *text, vt_proc_sample *s, vt_thread_sample *t)
{
    /* "pid (comm) state ppid ..." where comm may hold spaces and parentheses: the last ')'
     * ends it. */
    const char *open = strchr(text, '(');
    const char *close = strrchr(text, ')');
    if (!open || !close || close < open || close[1] != ' ')
        return VT_EINVAL;
    const char *p = text;
    int pid = (int)vt_procfs_u64(&p);
    size_t n = (size_t)(close - open - 1);
    char comm[16];
    if (n > sizeof(comm) - 1)
        n = sizeof(comm) - 1;
    memcpy(comm, open + 1, n);
    comm[n] = 0;
    p = close + 2;
    char state = *p;
    p++;
    /* Fields from 4 (ppid) on, numbered as in proc(5). */
    uint64_t f[53] = {0};
    int i;
    for (i = 4; i <= 52 && *p && *p != '\n'; i++) {
        while (*p == ' ')
            p++;
        if (*p == '-') { /* priority and nice may be negative: not used here */
            p++;
            f[i] = 0;
            vt_procfs_u64(&p);
            continue;
        }
        f[i] = vt_procfs_u64(&p);
    }
    if (i <= 24)
        return VT_EINVAL;
    if (s) {
        s->pid = pid;
        memcpy(s->comm, comm, sizeof(comm));
        s->state = state;
        s->ppid = (int)f[4];
        s->minflt = f[10];
        s->majflt = f[12];
        s->utime_ns = ticks_ns(f[14]);
        s->stime_ns = ticks_ns(f[15]);
        s->num_threads = f[20];
        s->start_ticks = f[22];
        s->vsz = f[23];
        s->rss = f[24] * (uint64_t)vt_procfs_page_size();
        s->processor = (int)f[39];
        s->blkio_delay_ns = ticks_ns(f[42]);
    }
    if (t) {
        t->tid = pid;
        memcpy(t->comm, comm, sizeof(comm));
        t->state = state;
        t->minflt = f[10];
        t->majflt = f[12];
        t->utime_ns = ticks_ns(f[14]);
        t->stime_ns = ticks_ns(f[15]);
        t->processor = (int)f[39];
    }
    return 0;
}

static int parse_status(const char *text, vt_proc_sample *s)
{
    s->rss_anon = vt_procfs_field(text, "RssAnon:", NULL) * 1024;
    s->rss_file = vt_procfs_field(text, "RssFile:", NULL) * 1024;
    s->rss_shmem = vt_procfs_field(text, "RssShmem:", NULL) * 1024;
    s->peak_rss = vt_procfs_field(text, "VmHWM:", NULL) * 1024;
    s->ctx_voluntary = vt_procfs_field(text, "voluntary_ctxt_switches:", NULL);
    s->ctx_involuntary = vt_procfs_field(text, "nonvoluntary_ctxt_switches:", NULL);
    s->uid = (uint32_t)vt_procfs_field(text, "Uid:", NULL);
    s->has_status = 1;
    return 0;
}

static void parse_io(const char *text, vt_proc_sample *s)
{
    s->rchar = vt_procfs_field(text, "rchar:", NULL);
    s->wchar = vt_procfs_field(text, "wchar:", NULL);
    s->syscr = vt_procfs_field(text, "syscr:", NULL);
    s->syscw = vt_procfs_field(text, "syscw:", NULL);
    s->read_bytes = vt_procfs_field(text, "read_bytes:", NULL);
    s->write_bytes = vt_procfs_field(text, "write_bytes:", NULL);
    s->has_io = 1;
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Calls fn for each entry of the directory path (relative to dirfd) whose name is a number,
 * with getdents64 into a kept buffer (opendir would allocate every time). Returns the number
 * of entries, or a negative VT_E* code. */
static long for_each_number(int dirfd, const char *path, char **dents, size_t *cap,
                            int (*fn)(void *arg, int n), void *arg)
{
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ESRCH ? VT_ENOENT : VT_EIO;
    long count = 0;
    if (!*dents) {
        *dents = malloc(32768);
        if (!*dents) {
            count = VT_ENOMEM;
            goto out;
        }
        *cap = 32768;
    }
    for (;;) {
        long r = syscall(SYS_getdents64, fd, *dents, *cap);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            count = VT_EIO;
            goto out;
        }
        if (r == 0)
            break;
        for (long off = 0; off < r;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(*dents + off);
            off += d->d_reclen;
            const char *q = d->d_name;
            if (*q < '0' || *q > '9')
                continue;
            int n = (int)vt_procfs_u64(&q);
            count++;
            if (fn) {
                int e = fn(arg, n);
                if (e < 0) {
                    count = e;
                    goto out;
                }
            }
        }
    }
out:
    close(fd);
    return count;
}

struct thread_walk {
    vt_proc_sample *s;
    vt_procfs_buf *buf;
    int task_fd;
};

static int read_thread(void *arg, int tid)
{
    struct thread_walk *w = arg;
    vt_proc_sample *s = w->s;
    char path[32];
    snprintf(path, sizeof(path), "%d/stat", tid);
    int err = vt_procfs_read(w->buf, w->task_fd, path);
    if (err == VT_ENOENT)
        return 0; /* the thread ended meanwhile */
    if (err)
        return err;
    if (s->n_threads == s->threads_cap) {
        size_t cap = s->threads_cap ? s->threads_cap * 2 : 16;
        vt_thread_sample *t = realloc(s->threads, cap * sizeof(*t));
        if (!t)
            return VT_ENOMEM;
        s->threads = t;
        s->threads_cap = cap;
    }
    vt_thread_sample *t = &s->threads[s->n_threads];
    if (vt__parse_stat(w->buf->p, NULL, t))
        return 0;
    s->n_threads++;
    s->thread_states[vt_thread_state_class(t->state)]++;
    return 0;
}

static int count_fd(void *arg, int n)
{
    (void)arg;
    (void)n;
    return 0;
}

int vt_proc_read(int pid, int parts, vt_procfs_buf *buf, char **dents, size_t *dents_cap,
                 vt_proc_sample *s)
{
    char dir[32];
    snprintf(dir, sizeof(dir), "/proc/%d", pid);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errno == ENOENT || errno == ESRCH ? VT_ENOENT : VT_EIO;
    s->ns = now_ns();
    s->has_status = s->has_io = s->has_fds = 0;
    s->n_threads = 0;
    memset(s->thread_states, 0, sizeof(s->thread_states));
    int err = vt_procfs_read(buf, dfd, "stat");
    if (err)
        goto out;
    if (vt__parse_stat(buf->p, s, NULL)) {
        err = VT_EIO;
        goto out;
    }
    if (parts & VT_PROC_STATUS) {
        err = vt_procfs_read(buf, dfd, "status");
        if (err)
            goto out;
        parse_status(buf->p, s);
    }
    if (parts & VT_PROC_IO) {
        err = vt_procfs_read(buf, dfd, "io");
        if (err == VT_ENOENT)
            goto out;
        if (!err)
            parse_io(buf->p, s);
        err = 0;
    }
    if (parts & VT_PROC_FDS) {
        long n = for_each_number(dfd, "fd", dents, dents_cap, count_fd, NULL);
        if (n >= 0) {
            s->fds = (uint64_t)n;
            s->has_fds = 1;
        } else if (n == VT_ENOMEM || n == VT_ENOENT) {
            err = (int)n;
            goto out;
        }
    }
    if (parts & VT_PROC_THREADS) {
        struct thread_walk w = {s, buf, openat(dfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
        if (w.task_fd < 0) {
            err = VT_ENOENT;
            goto out;
        }
        long n = for_each_number(w.task_fd, ".", dents, dents_cap, read_thread, &w);
        close(w.task_fd);
        if (n == VT_ENOMEM) {
            err = VT_ENOMEM;
            goto out;
        }
    }
out:
    close(dfd);
    return err;
}

void vt_proc_init(vt_proc *c, int pid, int parts)
{
    memset(c, 0, sizeof(*c));
    c->pid = pid;
    c->parts = parts;
}

int vt_proc_collect(vt_proc *c)
{
    int next = c->n_taken ? !c->cur : c->cur;
    int err = vt_proc_read(c->pid, c->parts, &c->buf, &c->dents, &c->dents_cap, &c->s[next]);
    if (err)
        return err;
    c->cur = next;
    c->n_taken++;
    return 0;
}

const vt_proc_sample *vt_proc_now(const vt_proc *c)
{
    return c->n_taken ? &c->s[c->cur] : NULL;
}

const vt_proc_sample *vt_proc_prev(const vt_proc *c)
{
    return c->n_taken > 1 ? &c->s[!c->cur] : NULL;
}

void vt_proc_release(vt_proc *c)
{
    free(c->s[0].threads);
    free(c->s[1].threads);
    free(c->dents);
    vt_procfs_buf_release(&c->buf);
    memset(c, 0, sizeof(*c));
}

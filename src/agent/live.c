/* The live file: the writer's figures for vitals top and vitals monitor, rewritten each round
 * under a sequence lock (collect/live.h). */
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/live-int.h"
#include "agent/sampler.h"
#include "collect/live.h"
#include "collect/proc.h"

static struct vt_live_file *file;
static char path[64];
static int failed;
static int removed; /* the file is gone; the mapping stays until the writer makes a new one */

int vt__self_stat(struct vt_proc_sample *s)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    memset(s, 0, sizeof(*s));
    return vt__parse_stat(buf, s, NULL) ? -1 : 0;
}

/* Creates (or takes back, from an earlier process of this pid that was killed) the file. */
static int create(void)
{
    int err = -1;
    if (vt_live_path(path, sizeof(path), (uint32_t)geteuid(), getpid()))
        return -1;
    /* O_NOFOLLOW, and the owner checked: another user may have put something in its place. */
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        close(fd); /* not ours to use, nor to remove */
        return -1;
    }
    /* From here on the file is ours (left behind by an earlier process of this pid, or new). */
    if (fchmod(fd, 0600) || ftruncate(fd, sizeof(*file)))
        goto out;
    void *m = mmap(NULL, sizeof(*file), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        goto out;
    file = m;
    __atomic_store_n(&file->seq, 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memset(file, 0, offsetof(struct vt_live_file, seq));
    memset(&file->flags, 0, sizeof(*file) - offsetof(struct vt_live_file, flags));
    file->magic = VT_LIVE_MAGIC;
    file->version = VT_LIVE_VERSION;
    file->size = sizeof(*file);
    file->pid = getpid();
    struct vt_proc_sample self;
    file->start_ticks = vt__self_stat(&self) ? 0 : self.start_ticks;
    size_t n = strnlen(vt__config.output, sizeof(file->trace) - 1);
    memcpy(file->trace, vt__config.output, n);
    file->trace[n] = 0;
    __atomic_store_n(&file->seq, 2, __ATOMIC_RELEASE);
    err = 0;
out:
    close(fd);
    if (err)
        unlink(path);
    return err;
}

void vt__live_publish(const struct vt_live_figures *f, uint64_t start_tsc, uint64_t now_ns)
{
    if (removed && file) {
        munmap(file, sizeof(*file));
        file = NULL;
    }
    removed = 0;
    if (!file && (failed || (failed = create() != 0)))
        return;
    uint64_t hz = vt__tsc_hz(), now = vt__now();
    uint64_t seq = file->seq;
    __atomic_store_n(&file->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    file->flags = (vt__config.no_alloc || vt__zones_only ? 0 : VT_LIVE_ALLOC) |
                  (vt__sampler_on() ? VT_LIVE_CPU : 0);
    file->updated_ns = now_ns;
    file->elapsed_ns = hz && now > start_tsc
                           ? (uint64_t)((unsigned __int128)(now - start_tsc) * 1000000000u / hz)
                           : 0;
    file->heap_bytes = f->heap_bytes;
    file->live_blocks = f->live_blocks;
    file->heap_peak = f->heap_peak;
    file->heap_peak_ns =
        hz && f->heap_peak_tsc > start_tsc
            ? (uint64_t)((unsigned __int128)(f->heap_peak_tsc - start_tsc) * 1000000000u / hz)
            : 0;
    file->alloc_calls = f->alloc_calls;
    file->alloc_bytes = f->alloc_bytes;
    file->free_calls = f->free_calls;
    file->free_bytes = f->free_bytes;
    file->trace_bytes = atomic_load_explicit(&vt__writer.offset, memory_order_relaxed);
    file->dropped = atomic_load_explicit(&vt__dropped, memory_order_relaxed);
    file->agent_bytes = vt__map_total();
    file->cpu_samples = f->cpu_samples;
    __atomic_store_n(&file->seq, seq + 2, __ATOMIC_RELEASE);
}

void vt__live_remove(void)
{
    /* The mapping stays: a writer that did not stop in time (a fatal signal) may still be
     * writing to it. */
    if (file && !removed)
        unlink(path);
    removed = 1;
    failed = 0;
}

void vt__live_after_fork(void)
{
    if (file)
        munmap(file, sizeof(*file));
    file = NULL;
    failed = 0;
    removed = 0;
}

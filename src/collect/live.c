#include "collect/live.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

int vt_live_read(int pid, uint32_t uid, uint64_t start_ticks, struct vt_live_file *out)
{
    char path[64];
    if (pid <= 0 || vt_live_path(path, sizeof(path), uid, pid))
        return VT_ENOENT;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return VT_ENOENT;
    int err = VT_ENOENT;
    void *map = MAP_FAILED;
    struct stat st;
    /* Anyone may create a file of that name in /dev/shm: only the process's owner's counts. */
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != uid)
        goto out;
    err = VT_EINVAL;
    if ((size_t)st.st_size < sizeof(*out))
        goto out;
    map = mmap(NULL, sizeof(*out), PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        err = VT_EIO;
        goto out;
    }
    const struct vt_live_file *f = map;
    err = VT_EIO;
    for (int tries = 0; tries < 1000; tries++) {
        uint64_t s0 = __atomic_load_n(&f->seq, __ATOMIC_ACQUIRE);
        if (s0 & 1) {
            usleep(10);
            continue;
        }
        memcpy(out, f, sizeof(*out));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&f->seq, __ATOMIC_RELAXED) == s0) {
            err = 0;
            break;
        }
    }
    if (err)
        goto out;
    out->trace[sizeof(out->trace) - 1] = 0;
    if (out->magic != VT_LIVE_MAGIC || out->version != VT_LIVE_VERSION || out->size != sizeof(*out))
        err = VT_EINVAL;
    else if (out->pid != pid || out->start_ticks != start_ticks)
        err = VT_ENOENT; /* left behind by an earlier process with this pid */
out:
    if (map != MAP_FAILED)
        munmap(map, sizeof(*out));
    close(fd);
    return err;
}

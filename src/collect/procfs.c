#include "collect/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

int vt_procfs_read(vt_procfs_buf *b, int dirfd, const char *path)
{
    int fd;
    do
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return errno == ENOENT || errno == ESRCH ? VT_ENOENT : VT_EIO;
    int err = 0;
    size_t len = 0;
    if (!b->p) {
        b->cap = 4096;
        b->p = malloc(b->cap);
        if (!b->p) {
            b->cap = 0;
            err = VT_ENOMEM;
            goto out;
        }
    }
    for (;;) {
        if (len + 1 >= b->cap) {
            char *q = realloc(b->p, b->cap * 2);
            if (!q) {
                err = VT_ENOMEM;
                goto out;
            }
            b->p = q;
            b->cap *= 2;
        }
        ssize_t r = read(fd, b->p + len, b->cap - 1 - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            /* A process that ended between open and read. */
            err = errno == ESRCH ? VT_ENOENT : VT_EIO;
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
out:
    if (b->p)
        b->p[err ? 0 : len] = 0;
    b->len = err ? 0 : len;
    close(fd);
    return err;
}

void vt_procfs_buf_release(vt_procfs_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->cap = b->len = 0;
}

uint64_t vt_procfs_u64(const char **s)
{
    const char *p = *s;
    uint64_t v = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    while (*p >= '0' && *p <= '9')
        v = v * 10 + (uint64_t)(*p++ - '0');
    *s = p;
    return v;
}

void vt_procfs_skip(const char **s, int n)
{
    const char *p = *s;
    for (int i = 0; i < n; i++) {
        while (*p == ' ' || *p == '\t')
            p++;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
    }
    *s = p;
}

uint64_t vt_procfs_field(const char *text, const char *key, int *found)
{
    size_t k = strlen(key);
    const char *p = text;
    while (p && *p) {
        if (!strncmp(p, key, k)) {
            const char *v = p + k;
            if (found)
                *found = 1;
            return vt_procfs_u64(&v);
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (found)
        *found = 0;
    return 0;
}

long vt_procfs_hz(void)
{
    static long hz;
    if (!hz) {
        long v = sysconf(_SC_CLK_TCK);
        hz = v > 0 ? v : 100;
    }
    return hz;
}

long vt_procfs_page_size(void)
{
    static long ps;
    if (!ps) {
        long v = sysconf(_SC_PAGESIZE);
        ps = v > 0 ? v : 4096;
    }
    return ps;
}

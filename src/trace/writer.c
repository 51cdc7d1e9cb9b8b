#include "trace/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zstd.h>

#include "trace/format.h"
#include "util/error.h"

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t vt__fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

void vt__block_header_encode(uint8_t *out, int kind, int encoding, uint32_t payload_check,
                             uint32_t raw_size, uint32_t stored_size, uint64_t base_time,
                             uint64_t base_ordinal)
{
    put_u32(out, VT_BLOCK_SYNC);
    out[4] = (uint8_t)kind;
    out[5] = (uint8_t)encoding;
    put_u16(out + 6, 0);
    put_u32(out + 8, payload_check);
    put_u32(out + 12, raw_size);
    put_u32(out + 16, stored_size);
    put_u64(out + 20, base_time);
    put_u64(out + 28, base_ordinal);
    put_u32(out + 36, vt__fnv1a(out, 36));
}

/* Writes all of iov at off, retrying on EINTR and short writes. */
static int pwritev_all(int fd, struct iovec *iov, int n_iov, uint64_t off)
{
    while (n_iov > 0) {
        ssize_t r = pwritev(fd, iov, n_iov, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno == ENOSPC || errno == EDQUOT || errno == EFBIG ? VT_ENOSPC : VT_EIO;
        }
        if (r == 0)
            return VT_EIO;
        off += (uint64_t)r;
        while (n_iov > 0 && (size_t)r >= iov->iov_len) {
            r -= (ssize_t)iov->iov_len;
            iov++;
            n_iov--;
        }
        if (n_iov > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + r;
            iov->iov_len -= (size_t)r;
        }
    }
    return 0;
}

int vt_trace_writer_open(vt_trace_writer *w, const char *path)
{
    memset(w, 0, sizeof(*w));
    w->fd = -1;
    int fd;
    do
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return errno == ENOENT   ? VT_ENOENT
               : errno == EEXIST ? VT_EEXIST
               : errno == ENOSPC ? VT_ENOSPC
                                 : VT_EIO;

    uint8_t hdr[VT_TRACE_HEADER_SIZE] = {0};
    memcpy(hdr, VT_TRACE_MAGIC, 8);
    put_u16(hdr + 8, VT_TRACE_MAJOR);
    put_u16(hdr + 10, VT_TRACE_MINOR);
    put_u32(hdr + 12, VT_TRACE_HEADER_SIZE);
    struct iovec iov = {hdr, sizeof(hdr)};
    int err = pwritev_all(fd, &iov, 1, 0);
    if (err) {
        close(fd);
        unlink(path);
        return err;
    }
    /* Keep out of the way of the program's descriptors: programs that close "all the others"
     * usually start from 3, and a low number is the first one reused. */
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 512);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    struct stat st;
    if (fstat(fd, &st) == 0) {
        w->dev = (uint64_t)st.st_dev;
        w->ino = (uint64_t)st.st_ino;
    }
    size_t n = strnlen(path, sizeof(w->path) - 1);
    memcpy(w->path, path, n);
    w->path[n] = 0;
    w->fd = fd;
    atomic_store(&w->offset, VT_TRACE_HEADER_SIZE);
    return 0;
}

/* Makes sure w->fd is still our trace: a program may close every descriptor it did not open
 * and get the number back for a file of its own, which we must never write into. Reopens the
 * trace by path if needed. Async-signal-safe. */
static int ensure_ours(vt_trace_writer *w)
{
    struct stat st;
    if (fstat(w->fd, &st) == 0 && (uint64_t)st.st_dev == w->dev && (uint64_t)st.st_ino == w->ino)
        return 0;
    int fd = open(w->path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return VT_EIO;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_dev != w->dev || (uint64_t)st.st_ino != w->ino) {
        close(fd); /* the path now names another file */
        return VT_EIO;
    }
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 512);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    w->fd = fd; /* the old number is the program's now: not ours to close */
    return 0;
}

int vt_trace_writer_enable_zstd(vt_trace_writer *w, int level)
{
    size_t cap = VT_BLOCK_HEADER_SIZE + ZSTD_compressBound(VT_BLOCK_MAX_RAW);
    void *mem = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return VT_ENOMEM;
    ZSTD_CCtx *z = ZSTD_createCCtx();
    if (!z) {
        munmap(mem, cap);
        return VT_ENOMEM;
    }
    ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
    w->zctx = z;
    w->scratch = mem;
    w->scratch_cap = cap;
    return 0;
}

int vt_trace_write_block(vt_trace_writer *w, int kind, uint64_t base_time, uint64_t base_ordinal,
                         const void *raw, size_t n, int compress)
{
    if (w->fd < 0)
        return VT_EIO;
    if (n > VT_BLOCK_MAX_RAW)
        return VT_EINVAL;

    struct iovec iov[2];
    int n_iov;
    uint8_t hdr[VT_BLOCK_HEADER_SIZE];
    size_t total;
    if (compress && w->zctx) {
        size_t c = ZSTD_compress2(w->zctx, w->scratch + VT_BLOCK_HEADER_SIZE,
                                  w->scratch_cap - VT_BLOCK_HEADER_SIZE, raw, n);
        if (ZSTD_isError(c))
            return VT_ENOMEM;
        vt__block_header_encode(w->scratch, kind, VT_ENC_ZSTD, 0, (uint32_t)n, (uint32_t)c,
                                base_time, base_ordinal);
        total = VT_BLOCK_HEADER_SIZE + c;
        iov[0] = (struct iovec){w->scratch, total};
        n_iov = 1;
    } else {
        /* zstd checks its own frames; a raw payload gets an FNV-1a check in the header. */
        vt__block_header_encode(hdr, kind, VT_ENC_RAW, vt__fnv1a(raw, n), (uint32_t)n, (uint32_t)n,
                                base_time, base_ordinal);
        total = VT_BLOCK_HEADER_SIZE + n;
        iov[0] = (struct iovec){hdr, sizeof(hdr)};
        iov[1] = (struct iovec){(void *)raw, n};
        n_iov = n ? 2 : 1;
    }
    int err = ensure_ours(w);
    if (err)
        return err;
    uint64_t off = atomic_fetch_add(&w->offset, total);
    return pwritev_all(w->fd, iov, n_iov, off);
}

/* Closes w->fd only if it is still the trace (never a descriptor the program got back). */
static void close_if_ours(vt_trace_writer *w)
{
    struct stat st;
    if (w->fd >= 0 && fstat(w->fd, &st) == 0 && (uint64_t)st.st_dev == w->dev &&
        (uint64_t)st.st_ino == w->ino)
        close(w->fd);
}

void vt_trace_writer_close(vt_trace_writer *w)
{
    close_if_ours(w);
    if (w->zctx)
        ZSTD_freeCCtx(w->zctx);
    if (w->scratch)
        munmap(w->scratch, w->scratch_cap);
    w->fd = -1;
    w->zctx = NULL;
    w->scratch = NULL;
}

void vt_trace_writer_abandon(vt_trace_writer *w)
{
    close_if_ours(w);
    w->fd = -1;
    w->zctx = NULL;
    w->scratch = NULL;
}

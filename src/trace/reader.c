#include "trace/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "trace/format.h"
#include "trace/writer.h"
#include "util/array.h"
#include "util/error.h"

struct vt_reader {
    int fd;
    unsigned minor;
    char *path;
    uint64_t size;
    uint64_t end; /* just past the last whole block */
    vt_block_info *blocks;
    size_t n_blocks, cap_blocks;
    ZSTD_DCtx *dctx;
    uint8_t *stored; /* compressed payload being decoded */
    size_t stored_cap;
    char *warnings;
    size_t warnings_len;
};

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (int)done == (int)n ? 0 : 1;
}

void vt_reader_warn(vt_reader *r, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    if ((size_t)len >= sizeof(line))
        len = sizeof(line) - 1;
    char *w = realloc(r->warnings, r->warnings_len + (size_t)len + 2);
    if (!w)
        return;
    r->warnings = w;
    if (r->warnings_len)
        w[r->warnings_len++] = '\n';
    memcpy(w + r->warnings_len, line, (size_t)len + 1);
    r->warnings_len += (size_t)len;
}

static int index_blocks(vt_reader *r)
{
    uint64_t off = VT_TRACE_HEADER_SIZE;
    uint8_t h[VT_BLOCK_HEADER_SIZE];
    while (off < r->size) {
        if (r->size - off < VT_BLOCK_HEADER_SIZE) {
            vt_reader_warn(r,
                           "trace is truncated: %llu stray bytes after the last whole block at "
                           "byte %llu",
                           (unsigned long long)(r->size - off), (unsigned long long)off);
            break;
        }
        if (pread_all(r->fd, h, sizeof(h), off) != 0)
            return VT_EIO;
        if (get_u32(h) != VT_BLOCK_SYNC || get_u32(h + 36) != vt__fnv1a(h, 36)) {
            vt_reader_warn(r,
                           "trace is corrupted at byte %llu (bad block header); read up to "
                           "there, %llu bytes after it ignored",
                           (unsigned long long)off, (unsigned long long)(r->size - off));
            break;
        }
        vt_block_info b = {
            .offset = off,
            .kind = h[4],
            .encoding = h[5],
            .payload_check = get_u32(h + 8),
            .raw_size = get_u32(h + 12),
            .stored_size = get_u32(h + 16),
            .base_time = get_u64(h + 20),
            .base_ordinal = get_u64(h + 28),
        };
        if (b.raw_size > VT_BLOCK_MAX_RAW || b.stored_size > VT_BLOCK_MAX_RAW * 2 ||
            b.kind != VT_BLOCK_STREAM || b.encoding > VT_ENC_ZSTD) {
            vt_reader_warn(r,
                           "trace is corrupted at byte %llu (impossible block header); read up "
                           "to there",
                           (unsigned long long)off);
            break;
        }
        uint64_t next = off + VT_BLOCK_HEADER_SIZE + b.stored_size;
        if (next > r->size) {
            vt_reader_warn(r,
                           "trace is truncated: the block at byte %llu needs %llu bytes but the "
                           "file ends at byte %llu; that block (%u bytes of events) is lost",
                           (unsigned long long)off,
                           (unsigned long long)(VT_BLOCK_HEADER_SIZE + b.stored_size),
                           (unsigned long long)r->size, b.raw_size);
            break;
        }
        if (vt_grow(&r->blocks, &r->cap_blocks, r->n_blocks + 1, sizeof(b), 256))
            return VT_ENOMEM;
        r->blocks[r->n_blocks++] = b;
        off = next;
    }
    r->end = off < r->size ? off : r->size;
    return 0;
}

vt_reader *vt_reader_open(const char *path, int *err, char *msg, size_t msg_size)
{
    vt_reader *r = calloc(1, sizeof(*r));
    uint8_t hdr[VT_TRACE_HEADER_SIZE];
    struct stat st;
    int e = 0;
    if (!r) {
        e = VT_ENOMEM;
        snprintf(msg, msg_size, "out of memory");
        goto fail;
    }
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        e = errno == ENOENT ? VT_ENOENT : VT_EIO;
        snprintf(msg, msg_size, "%s", strerror(errno));
        goto fail;
    }
    if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        e = VT_EIO;
        snprintf(msg, msg_size, "not a regular file");
        goto fail;
    }
    r->size = (uint64_t)st.st_size;
    r->path = strdup(path);
    int got = pread_all(r->fd, hdr, sizeof(hdr), 0);
    if (got < 0) {
        e = VT_EIO;
        snprintf(msg, msg_size, "%s", strerror(errno));
        goto fail;
    }
    if (got > 0 || memcmp(hdr, VT_TRACE_MAGIC, 8) != 0) {
        e = VT_EBADMAGIC;
        snprintf(msg, msg_size,
                 "not a vitals trace (expected the magic bytes \\x89VTR at byte 0%s)",
                 r->size < VT_TRACE_HEADER_SIZE ? "; the file is shorter than a trace header" : "");
        goto fail;
    }
    unsigned major = hdr[8] | hdr[9] << 8, minor = hdr[10] | hdr[11] << 8;
    if (major != VT_TRACE_MAJOR) {
        e = VT_EVERSION;
        snprintf(msg, msg_size,
                 "trace format version %u.%u at byte 8; this vitals reads version %d.x", major,
                 minor, VT_TRACE_MAJOR);
        goto fail;
    }
    r->minor = minor;
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx || !r->path) {
        e = VT_ENOMEM;
        snprintf(msg, msg_size, "out of memory");
        goto fail;
    }
    e = index_blocks(r);
    if (e) {
        snprintf(msg, msg_size, "%s while indexing blocks", vt_strerror(e));
        goto fail;
    }
    return r;
fail:
    *err = e;
    vt_reader_free(r);
    return NULL;
}

void vt_reader_free(vt_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    ZSTD_freeDCtx(r->dctx);
    free(r->blocks);
    free(r->stored);
    free(r->warnings);
    free(r->path);
    free(r);
}

size_t vt_reader_block_count(const vt_reader *r)
{
    return r->n_blocks;
}

const vt_block_info *vt_reader_block(const vt_reader *r, size_t i)
{
    return &r->blocks[i];
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (*cap >= need)
        return 0;
    uint8_t *nb = realloc(*buf, need);
    if (!nb)
        return VT_ENOMEM;
    *buf = nb;
    *cap = need;
    return 0;
}

int vt_reader_load(vt_reader *r, size_t i, uint8_t **buf, size_t *cap, size_t *n)
{
    const vt_block_info *b = &r->blocks[i];
    uint64_t payload = b->offset + VT_BLOCK_HEADER_SIZE;
    *n = 0;
    if (grow(buf, cap, b->raw_size ? b->raw_size : 1))
        return VT_ENOMEM;
    if (b->encoding == VT_ENC_RAW) {
        if (b->raw_size != b->stored_size || pread_all(r->fd, *buf, b->raw_size, payload) != 0)
            goto corrupt;
        if (vt__fnv1a(*buf, b->raw_size) != b->payload_check) {
            vt_reader_warn(r,
                           "block at byte %llu is corrupted (its check does not match) and was "
                           "skipped; its %u bytes of records are lost",
                           (unsigned long long)b->offset, b->raw_size);
            return VT_ECORRUPT;
        }
        *n = b->raw_size;
        return 0;
    }
    if (grow(&r->stored, &r->stored_cap, b->stored_size ? b->stored_size : 1))
        return VT_ENOMEM;
    if (pread_all(r->fd, r->stored, b->stored_size, payload) != 0)
        goto corrupt;
    size_t got = ZSTD_decompressDCtx(r->dctx, *buf, b->raw_size, r->stored, b->stored_size);
    if (ZSTD_isError(got) || got != b->raw_size) {
        vt_reader_warn(r,
                       "block at byte %llu is corrupted (%s) and was skipped; its %u bytes of "
                       "records are lost",
                       (unsigned long long)b->offset,
                       ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size", b->raw_size);
        return VT_ECORRUPT;
    }
    *n = got;
    return 0;
corrupt:
    vt_reader_warn(r, "block at byte %llu cannot be read and was skipped",
                   (unsigned long long)b->offset);
    return VT_ECORRUPT;
}

const char *vt_reader_warnings(const vt_reader *r)
{
    return r->warnings;
}

unsigned vt_reader_minor(const vt_reader *r)
{
    return r->minor;
}

const char *vt_reader_path(const vt_reader *r)
{
    return r->path;
}

uint64_t vt_reader_file_size(const vt_reader *r)
{
    return r->size;
}

uint64_t vt_reader_end_offset(const vt_reader *r)
{
    return r->end;
}

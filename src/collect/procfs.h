/* Reading /proc and /sys without allocating: whole small files into a buffer the caller keeps,
 * and the little parsers the collectors share. */
#ifndef VT_COLLECT_PROCFS_H
#define VT_COLLECT_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/* A buffer a collector keeps between ticks. It grows (realloc) only when a file does not fit,
 * so that a steady state reads every file without allocating. */
typedef struct vt_procfs_buf {
    char *p;
    size_t cap;
    size_t len; /* of the last file read; p[len] is 0 */
} vt_procfs_buf;

/* Reads the whole of path into b (NUL-terminated). Returns 0, VT_ENOENT when the file (or the
 * process it belongs to) does not exist, VT_EIO when it cannot be read (permission), or
 * VT_ENOMEM. dirfd may be AT_FDCWD or a directory descriptor path is relative to. */
int vt_procfs_read(vt_procfs_buf *b, int dirfd, const char *path);

/* Releases b's memory. */
void vt_procfs_buf_release(vt_procfs_buf *b);

/* Parses a decimal number at *s, skipping leading blanks; advances *s past it. Returns 0 when
 * no digit is there. */
uint64_t vt_procfs_u64(const char **s);

/* Skips n blank-separated fields at *s. */
void vt_procfs_skip(const char **s, int n);

/* The value after "key" in a "Key:   value" file (status, meminfo), or 0 and *found = 0. The
 * key must start a line. */
uint64_t vt_procfs_field(const char *text, const char *key, int *found);

/* Clock ticks per second (USER_HZ) and the page size, read once. */
long vt_procfs_hz(void);
long vt_procfs_page_size(void);

#endif

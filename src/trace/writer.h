/* Writes .vtr traces. Used inside the traced process, so it never prints, never allocates
 * through malloc except inside zstd (whose context is made once), and is safe to call from
 * several threads at once: each block reserves its own range of the file. */
#ifndef VT_TRACE_WRITER_H
#define VT_TRACE_WRITER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vt_trace_writer {
    int fd;
    uint64_t dev, ino; /* of the file opened, to notice if the program closed our descriptor */
    char path[4096];
    _Atomic uint64_t offset; /* the next free byte of the file */
    void *zctx;              /* ZSTD_CCtx, NULL until vt_trace_writer_enable_zstd() */
    uint8_t *scratch;        /* header + compressed payload, mmap'd */
    size_t scratch_cap;
} vt_trace_writer;

/* Creates path (which must not exist) and writes the file header. Returns 0 or a negative
 * VT_E* code; on failure errno says why. The descriptor is close-on-exec. */
int vt_trace_writer_open(vt_trace_writer *w, const char *path);

/* Makes the compression context (this allocates through malloc). Returns 0 or VT_ENOMEM. */
int vt_trace_writer_enable_zstd(vt_trace_writer *w, int level);

/* Appends one block holding raw[0..n). With compress set and zstd enabled, the payload is
 * compressed; that path is for one thread at a time (it uses the scratch buffer). Without
 * compress the block is written raw, which is async-signal-safe and allocation-free.
 * Returns 0 or VT_ENOSPC / VT_EIO. */
int vt_trace_write_block(vt_trace_writer *w, int kind, uint64_t base_time, uint64_t base_ordinal,
                         const void *raw, size_t n, int compress);

/* Closes the file; the zstd context and scratch memory are released too. */
void vt_trace_writer_close(vt_trace_writer *w);

/* Forgets the file and the context without touching them (a forked child must not close
 * its parent's trace or reuse its compression state). */
void vt_trace_writer_abandon(vt_trace_writer *w);

/* Encodes the 40-byte block header into out. */
void vt__block_header_encode(uint8_t *out, int kind, int encoding, uint32_t payload_check,
                             uint32_t raw_size, uint32_t stored_size, uint64_t base_time,
                             uint64_t base_ordinal);

/* FNV-1a over n bytes, the block header check. */
uint32_t vt__fnv1a(const uint8_t *p, size_t n);

#endif

/* Reads .vtr traces: indexes the blocks of a file and decodes them one at a time, so that a
 * reader holds memory in proportion to what it keeps, never to the size of the trace. */
#ifndef VT_TRACE_READER_H
#define VT_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct vt_block_info {
    uint64_t offset; /* of the block header in the file */
    uint64_t base_time, base_ordinal;
    uint32_t raw_size, stored_size;
    uint32_t payload_check; /* FNV-1a of a raw payload */
    uint8_t kind, encoding;
} vt_block_info;

typedef struct vt_reader vt_reader;

/* Opens path and indexes its blocks. On failure returns NULL, sets *err to a negative VT_E*
 * code and writes a one-line explanation (naming the byte offset where it applies) to msg.
 * A trace cut short is not a failure: the index stops at the last whole block and
 * vt_reader_warnings() says what happened. Caller frees with vt_reader_free(). */
vt_reader *vt_reader_open(const char *path, int *err, char *msg, size_t msg_size);

void vt_reader_free(vt_reader *r);

size_t vt_reader_block_count(const vt_reader *r);

/* Borrowed, valid until vt_reader_free(). */
const vt_block_info *vt_reader_block(const vt_reader *r, size_t i);

/* Decodes block i into *buf (grown with realloc; the caller owns it and frees it) and sets *n
 * to its size. Returns 0, or VT_ECORRUPT when the block cannot be decoded; the reason is then
 * added to the reader's warnings. */
int vt_reader_load(vt_reader *r, size_t i, uint8_t **buf, size_t *cap, size_t *n);

/* Records a problem found while decoding (for example a malformed record at a given byte);
 * it joins the warnings. */
void vt_reader_warn(vt_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Newline-separated warnings about truncation or corruption, or NULL when there are none.
 * Borrowed, valid until the next call on r. */
const char *vt_reader_warnings(const vt_reader *r);

const char *vt_reader_path(const vt_reader *r);
/* The trace's minor format version (fields added in later minors are read only then). */
unsigned vt_reader_minor(const vt_reader *r);
uint64_t vt_reader_file_size(const vt_reader *r);

/* Byte offset just past the last whole block: where reading stopped. */
uint64_t vt_reader_end_offset(const vt_reader *r);

#endif

/* The .vtr trace format: constants shared by the writer (agent) and the reader (CLI).
 * docs/TRACE_FORMAT.md is the prose version of this file; keep them in step. */
#ifndef VT_TRACE_FORMAT_H
#define VT_TRACE_FORMAT_H

#include <stdint.h>

/* File header: 8-byte magic, u16 major, u16 minor, u32 header size, 16 reserved bytes. */
#define VT_TRACE_MAGIC "\x89VTR\r\n\x1a\n"
#define VT_TRACE_MAJOR 1
#define VT_TRACE_MINOR 0
#define VT_TRACE_HEADER_SIZE 32

/* Every block starts with this 40-byte little-endian header:
 *   u32 sync, u8 kind, u8 encoding, u16 reserved, u32 tid, u32 raw_size, u32 stored_size,
 *   u64 first_tsc, u64 last_tsc, u32 check (FNV-1a of the 36 bytes before it). */
#define VT_BLOCK_SYNC 0x4b4c4256u /* "VBLK" */
#define VT_BLOCK_HEADER_SIZE 40
#define VT_BLOCK_MAX_RAW (1u << 20)

enum vt_block_kind {
    VT_BLOCK_META = 1,   /* definitions: info, modules, stacks, clock, end */
    VT_BLOCK_EVENTS = 2, /* one thread's events, in the order they happened */
};

enum vt_block_encoding {
    VT_ENC_RAW = 0,
    VT_ENC_ZSTD = 1, /* one zstd frame with its content checksum */
};

/* Record tags in event blocks. Each record is the tag byte then varints; the time is a
 * delta in TSC ticks from the previous record of the block (the first from first_tsc), and
 * addresses are zigzag deltas from the previous address in the block. */
enum vt_event_tag {
    VT_EV_ALLOC = 0x10,  /* | fn; dt, size, stack, dptr */
    VT_EV_FREE = 0x20,   /* | fn; dt, dptr */
    VT_EV_MMAP = 0x30,   /* dt, size, stack, daddr */
    VT_EV_MUNMAP = 0x31, /* dt, daddr, size */
    VT_EV_THREAD_START = 0x40, /* dt */
    VT_EV_THREAD_EXIT = 0x41,  /* dt */
};

/* The function that made or released a block, the low nibble of ALLOC and FREE tags. */
#define VT_FN_LIST(X)                                                                              \
    X(MALLOC, "malloc")                                                                            \
    X(CALLOC, "calloc")                                                                            \
    X(REALLOC, "realloc")                                                                          \
    X(REALLOCARRAY, "reallocarray")                                                                \
    X(POSIX_MEMALIGN, "posix_memalign")                                                            \
    X(ALIGNED_ALLOC, "aligned_alloc")                                                              \
    X(MEMALIGN, "memalign")                                                                        \
    X(VALLOC, "valloc")                                                                            \
    X(PVALLOC, "pvalloc")                                                                          \
    X(NEW, "operator new")                                                                         \
    X(NEW_ARRAY, "operator new[]")                                                                 \
    X(FREE, "free")                                                                                \
    X(DELETE, "operator delete")                                                                   \
    X(DELETE_ARRAY, "operator delete[]")

enum vt_fn {
#define VT_FN_ENUM(name, str) VT_FN_##name,
    VT_FN_LIST(VT_FN_ENUM)
#undef VT_FN_ENUM
        VT_FN_COUNT
};

/* Record tags in meta blocks. Strings are a varint length then bytes. */
enum vt_meta_tag {
    /* pid, ppid, tsc_hz, start_tsc, start_ns (CLOCK_MONOTONIC), start_realtime_ns, depth,
     * flags, str exe, varint argc then argc strings */
    VT_META_INFO = 0x01,
    /* str path, bias, start, end, varint build-id length then bytes */
    VT_META_MODULE = 0x02,
    /* id, depth, first frame, then zigzag deltas from the previous frame */
    VT_META_STACK = 0x03,
    /* tsc, ns: a clock pair the reader fits to turn ticks into nanoseconds */
    VT_META_CLOCK = 0x04,
    /* reason, status, dropped events, tsc */
    VT_META_END = 0x05,
    /* reason code, str message: the agent stopped tracing early */
    VT_META_STOPPED = 0x06,
    /* tsc, str path: the image was replaced by exec (a failed exec is followed by events) */
    VT_META_EXEC = 0x07,
};

enum vt_end_reason {
    VT_END_EXIT = 0,   /* exit() or return from main: status unknown to the agent */
    VT_END__EXIT = 1,  /* _exit(status) */
    VT_END_SIGNAL = 2, /* killed by signal 'status' */
};

/* INFO flags. */
#define VT_INFO_FORKED 0x1 /* this process is a forked child of the traced one */

#endif

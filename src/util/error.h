/* Error codes shared by every layer: 0 is success, a negative VT_E* code is failure. */
#ifndef VT_UTIL_ERROR_H
#define VT_UTIL_ERROR_H

/* The one list of error codes; vt_strerror() and the enum are generated from it. */
#define VT_ERRNO_MAP(X)                                                                            \
    X(NOMEM, "out of memory")                                                                      \
    X(IO, "input/output error")                                                                    \
    X(NOENT, "no such file")                                                                       \
    X(EXIST, "file exists")                                                                        \
    X(BADMAGIC, "not a vitals trace")                                                              \
    X(VERSION, "unsupported trace format version")                                                 \
    X(TRUNCATED, "truncated trace")                                                                \
    X(CORRUPT, "corrupted trace")                                                                  \
    X(INVAL, "invalid argument")                                                                   \
    X(NOSPC, "no space left on device")                                                            \
    X(SYMBOLS, "cannot read symbols")

enum {
    VT_OK = 0,
#define VT_ERR_ENUM(name, msg) VT_E##name,
    VT__ERR_FIRST = -100,
    VT_ERRNO_MAP(VT_ERR_ENUM)
#undef VT_ERR_ENUM
};

/* Returns a static description of a VT_E* code (or of 0). */
const char *vt_strerror(int err);

#endif

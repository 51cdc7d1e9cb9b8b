/* Numbers for people: the formats every report and message uses. */
#ifndef VT_UTIL_FMT_H
#define VT_UTIL_FMT_H

#include <stddef.h>
#include <stdint.h>

/* "1.5 MiB" style; returns buf. */
const char *vt_fmt_bytes(uint64_t bytes, char *buf, size_t n);
/* "1,234,567"; returns buf. */
const char *vt_fmt_count(uint64_t v, char *buf, size_t n);

#endif

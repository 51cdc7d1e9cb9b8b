/* Durations on the command line ("100ms", "2s", "1.5", "5m"), shared by vitals top and vitals
 * monitor. */
#ifndef VT_CLI_DURATION_H
#define VT_CLI_DURATION_H

#include <stdint.h>

/* Parses s as a duration: a number with ns, us, ms, s, m or h (no unit: seconds). Returns 0
 * and sets *out_ns when it is one in [lo_ns, hi_ns]; otherwise prints an error naming opt and
 * returns -1. */
int vt_cli_parse_duration(const char *opt, const char *s, uint64_t lo_ns, uint64_t hi_ns,
                          uint64_t *out_ns);

/* "1 ms", "2.5 s"... into buf. */
const char *vt_cli_fmt_duration(uint64_t ns, char *buf, unsigned n);

#endif

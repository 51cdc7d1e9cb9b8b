#include "cli/duration.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

const char *vt_cli_fmt_duration(uint64_t ns, char *buf, unsigned n)
{
    if (ns < 1000000)
        snprintf(buf, n, "%g us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, n, "%g ms", (double)ns / 1e6);
    else
        snprintf(buf, n, "%g s", (double)ns / 1e9);
    return buf;
}

int vt_cli_parse_duration(const char *opt, const char *s, uint64_t lo_ns, uint64_t hi_ns,
                          uint64_t *out_ns)
{
    static const struct {
        const char *name;
        double scale;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    char lo[32], hi[32];
    const char *p = s ? s : "";
    char *end;
    double v;
    double scale = 1e9;
    if (!isdigit((unsigned char)*p) && *p != '.')
        goto bad;
    v = strtod(p, &end);
    if (end == p || !isfinite(v))
        goto bad;
    if (*end) {
        size_t k;
        for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
            if (!strcmp(end, units[k].name))
                break;
        if (k == sizeof(units) / sizeof(units[0]))
            goto bad;
        scale = units[k].scale;
    }
    v *= scale;
    if (v < (double)lo_ns || v > (double)hi_ns)
        goto bad;
    *out_ns = (uint64_t)llround(v);
    return 0;
bad:
    vt_cli_error("option '%s' expects a duration from %s to %s (a number with ns, us, ms, s, m "
                 "or h; no unit means seconds), got '%s'",
                 opt, vt_cli_fmt_duration(lo_ns, lo, sizeof(lo)),
                 vt_cli_fmt_duration(hi_ns, hi, sizeof(hi)), s ? s : "");
    return -1;
}

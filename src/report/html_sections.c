/* The sections of the HTML report's data that other analyses fill: the CPU profile, the monitor
 * series and libvitals' zones, counters, gauges, frames, tasks, pools and caches. They are the
 * JSON report's objects of the same names (docs/JSON.md), written by the same code, so the page
 * shows exactly the figures `vitals report --format json` gives; only the characters an HTML
 * script element must not hold are escaped. */
#include <stdlib.h>

#include "report/cpu-int.h"
#include "report/html-int.h"
#include "report/json-int.h"
#include "report/series-int.h"
#include "util/error.h"

/* Copies buf to out with '<', '>' and '&' as JSON escapes. In JSON text these characters only
 * occur inside strings, where the escape stands for the same character. */
static void copy_escaped(FILE *out, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '<' || c == '>' || c == '&')
            fprintf(out, "\\u%04x", (unsigned char)c);
        else
            fputc(c, out);
    }
}

int vt__html_sections(FILE *out, const vt_model *m, vt_symbols *syms, const vt_report_opts *o)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&buf, &n);
    if (!mem)
        return VT_ENOMEM;
    vt__json_cpu(mem, syms, m, o);
    vt__json_series(mem, m, o);
    vt__json_zones(mem, m);
    int rc = ferror(mem) ? VT_ENOMEM : 0;
    if (fclose(mem) || !buf)
        rc = VT_ENOMEM;
    if (!rc)
        copy_escaped(out, buf, n);
    free(buf);
    return rc;
}

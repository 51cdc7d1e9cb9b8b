/* The bottleneck's phases of a monitor trace (analyze/bottleneck.h: vt_phases), as a text
 * section and a JSON object. */
#include <stdio.h>

#include "analyze/bottleneck.h"
#include "report/json-int.h"
#include "report/series-int.h"

void vt__text_phases(const vt_series *s, const vt_report_opts *o, FILE *out)
{
    vt_phases ph;
    vt_phases_init(&ph, o->window_ns);
    if (vt_phases_of_series(&ph, s) == 0 && ph.n) {
        fprintf(out, "  phases (windows of %g s, equal neighbours joined):\n",
                (double)ph.window_ns / 1e9);
        for (size_t i = 0; i < ph.n; i++) {
            const vt_phase *p = &ph.v[i];
            fprintf(out, "  %8.1f s to %8.1f s  %-12s %s\n", (double)p->from_ns / 1e9,
                    (double)p->to_ns / 1e9, vt_bottleneck_name(p->b.cls), p->b.reason);
        }
    }
    vt_phases_release(&ph);
}

void vt__json_phases(FILE *out, const vt_series *s, const vt_report_opts *o)
{
    vt_phases ph;
    vt_phases_init(&ph, o->window_ns);
    int err = vt_phases_of_series(&ph, s);
    fprintf(out, "{\"window_ns\":%llu,\"phases\":[", (unsigned long long)ph.window_ns);
    for (size_t i = 0; !err && i < ph.n; i++) {
        const vt_phase *p = &ph.v[i];
        fprintf(out,
                "%s{\"from_ns\":%llu,\"to_ns\":%llu,\"snapshots\":%llu,\"class\":", i ? "," : "",
                (unsigned long long)p->from_ns, (unsigned long long)p->to_ns,
                (unsigned long long)p->snapshots);
        vt__json_str(out, vt_bottleneck_name(p->b.cls));
        vt__json_bottleneck_evidence(out, &p->b);
        fputc('}', out);
    }
    fputs("]}", out);
    vt_phases_release(&ph);
}

/* The report sections of a monitor trace (series.h): text_series.c and json_series.c. */
#ifndef VT_REPORT_SERIES_INT_H
#define VT_REPORT_SERIES_INT_H

#include <stdio.h>

#include "analyze/bottleneck.h"
#include "analyze/model.h"
#include "report/report.h"

/* The whole text report of a trace that holds metric series: the process, the summaries of
 * every metric, the series over time, the alerts and the bottleneck class. Returns 0 or -1 on
 * a write error. */
int vt__text_series(const vt_model *m, const vt_report_opts *o, FILE *out);

/* ,"monitor":{...} (or ,"monitor":null), appended to the JSON report (docs/JSON.md). */
void vt__json_series(FILE *out, const vt_model *m, const vt_report_opts *o);

/* The evidence of a bottleneck class as JSON members, each with a leading comma: "cpu_pct"
 * to "steal_pct", then "reason" (json_series.c). */
void vt__json_bottleneck_evidence(FILE *out, const vt_bottleneck *b);

/* The bottleneck's phases over sliding windows of o->window_ns (phases.c): a text section,
 * and a JSON object {"window_ns":...,"phases":[...]}. */
void vt__text_phases(const vt_series *s, const vt_report_opts *o, FILE *out);
void vt__json_phases(FILE *out, const vt_series *s, const vt_report_opts *o);

#endif

/* What the files of the JSON report share: json.c (the report's frame and the site rankings)
 * and json_patterns.c (over time and allocation patterns). */
#ifndef VT_REPORT_JSON_INT_H
#define VT_REPORT_JSON_INT_H

#include <stdio.h>

#include "analyze/advice.h"
#include "analyze/model.h"
#include "analyze/symbols.h"
#include "report/report.h"

/* s as a JSON string, or null. */
void vt__json_str(FILE *out, const char *s);

/* A SITE object (docs/JSON.md). */
void vt__json_site(FILE *out, vt_symbols *syms, const vt_model *m, const vt_site *s);

/* The fields a SITE gets from the pattern analyses, each with a leading comma. */
void vt__json_site_patterns(FILE *out, const vt_model *m, size_t site);

/* The top-level objects of the pattern analyses, each with a leading comma. */
void vt__json_patterns(FILE *out, vt_symbols *syms, const vt_model *m, const vt_report_opts *o);

/* The "health" object of the JSON report (docs/JSON.md), strings written by str (the HTML page
 * escapes more than JSON needs). */
void vt__json_health(FILE *out, const vt_model *m, void (*str)(FILE *, const char *));

/* The fields of an advice item from "kind" to "thread_tid", without braces. */
void vt__json_advice_fields(FILE *out, const vt_model *m, const vt_advice *a,
                            void (*str)(FILE *, const char *));

/* The "zones" object (json_zones.c), with a leading comma. */
void vt__json_zones(FILE *out, const vt_model *m);
/* json_zone_counters.c: the zones object's "zone_counters" member (null without them). */
void vt__json_zone_counters(FILE *out, const vt_model *m);

/* json_cpu.c: a perf event's status (0, or the errno of perf_event_open) as the reports name
 * it: "counted", "unsupported", "refused", "not opened" or "failed". */
const char *vt__json_event_status(int status);

#endif

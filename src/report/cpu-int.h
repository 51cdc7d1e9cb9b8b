/* The CPU profile's sections of the reports (text_cpu.c, json_cpu.c), called by text.c,
 * json.c and the run summary. */
#ifndef VT_REPORT_CPU_INT_H
#define VT_REPORT_CPU_INT_H

#include <stdio.h>

#include "analyze/model.h"
#include "analyze/symbols.h"
#include "report/report.h"

struct ctx;

/* The text sections of the CPU profile (nothing when the trace has none). */
void vt__text_cpu(const struct ctx *c);

/* ,"cpu":{...} (or ,"cpu":null) for the JSON report. */
void vt__json_cpu(FILE *out, vt_symbols *syms, const vt_model *m, const vt_report_opts *o);

/* The lines `vitals run` prints about the CPU profile. */
void vt__summary_cpu(const vt_model *m, vt_symbols *syms, FILE *out);

#endif

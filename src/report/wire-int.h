/* The parts of the formats other tools read that come from libvitals' records (zones, tasks)
 * and from the CPU profile (wire.c), called by csv.c, folded.c and openmetrics.c. Each reads
 * the model only. docs/FORMATS.md lists the columns and families. */
#ifndef VT_REPORT_WIRE_INT_H
#define VT_REPORT_WIRE_INT_H

#include <stdio.h>

#include "analyze/model.h"
#include "analyze/symbols.h"

/* csv part "zones": one row per zone (an empty table when the trace has none). */
void vt__csv_zones(const vt_model *m, FILE *out);

/* csv part "tasks": one row per kind of task. */
void vt__csv_tasks(const vt_model *m, FILE *out);

/* csv part "cpu": one row per sampled function, by self time. Returns 0 or VT_ENOMEM. */
int vt__csv_cpu(const vt_model *m, vt_symbols *syms, FILE *out);

/* folded part "cpu": on-CPU samples per call stack, root first. Returns 0, VT_ENOMEM, or -1
 * when a stack could not be symbolized. */
int vt__folded_cpu(const vt_model *m, vt_symbols *syms, FILE *out);

/* The OpenMetrics families of zones, tasks and the CPU profile (none when the trace has
 * none of them). */
void vt__openmetrics_wire(const vt_model *m, FILE *out);

#endif

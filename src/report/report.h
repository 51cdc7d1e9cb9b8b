/* Renderers: each turns a model (and its symbols) into one output format. They format; the
 * rankings they show come from src/analyze. */
#ifndef VT_REPORT_REPORT_H
#define VT_REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyze/model.h"
#include "analyze/symbols.h"
#include "util/fmt.h"

typedef struct vt_report_opts {
    size_t top;             /* entries per table */
    int frames;             /* frames shown per stack in text (0 = all) */
    int color;              /* ANSI colours (only on a terminal) */
    const char *trace_path; /* as the user named it */
    const char *part;       /* the part of a format with parts (vt_renderer.parts), or NULL */
    const char *function;   /* CPU profile: show this function's callers and callees, or NULL */
    uint64_t window_ns;     /* a monitor trace: the bottleneck's sliding window (0: default) */
} vt_report_opts;

typedef struct vt_renderer {
    const char *name;
    const char *description;
    int (*render)(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out);
} vt_renderer;

/* The renderer called name, or NULL. */
const vt_renderer *vt_renderer_find(const char *name);

/* All renderers, ended by an entry whose name is NULL. */
extern const vt_renderer vt_renderers[];

int vt_render_text(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out);
int vt_render_json(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out);
/* One self-contained HTML page that works offline (docs/HTML.md). */
int vt_render_html(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out);

/* The formats other tools read (docs/FORMATS.md); parts in o->part where they have parts. */
int vt_render_csv(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out);
int vt_render_folded(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out);
int vt_render_pprof(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out);
int vt_render_massif(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out);
int vt_render_openmetrics(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out);
int vt_render_chrome(const vt_model *m, vt_symbols *syms, const vt_report_opts *o, FILE *out);

/* The parts of the csv and folded formats. */
extern const char *const vt_csv_parts[];
extern const char *const vt_folded_parts[];

/* The parts renderer r is made of, ended by NULL (each rendered on its own, o->part naming
 * it), or NULL for a format of one part. */
const char *const *vt_renderer_parts(const vt_renderer *r);

/* The part called name of renderer r, or NULL (also when r has no parts). */
const char *vt_renderer_part(const vt_renderer *r, const char *name);

/* Writes into buf the file name r's output (of part, or NULL) gets in an output directory:
 * "report.txt", "sites.csv", "profile.pb.gz"...; "report.NAME" for a format not listed. */
void vt_renderer_file(const vt_renderer *r, const char *part, char *buf, size_t size);

/* The few lines `vitals run` prints on stderr at the end of a run. */
int vt_render_summary(const vt_model *m, vt_symbols *syms, const char *trace_path, FILE *out);

/* "exit", "_exit", "signal", "exec" or "unknown" (no end record). */
const char *vt_end_name(const vt_model *m);

#endif

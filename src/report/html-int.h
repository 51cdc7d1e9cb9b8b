/* What the files of the HTML report share: html.c (the page and its data), html_flame.c (the
 * call trees of the flame graphs) and the page's assets, embedded at build time from
 * src/report/html/ into a generated file (cmake/embed.cmake). */
#ifndef VT_REPORT_HTML_INT_H
#define VT_REPORT_HTML_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyze/model.h"
#include "analyze/symbols.h"
#include "report/report.h"

/* The page's template, style sheet and script, NUL-terminated (generated). */
extern const char vt__html_page_html[];
extern const char vt__html_page_css[];
extern const char vt__html_page_js[];

/* A flame node's share of its graph's total under which it is merged into its parent's
 * "other" node: one part in VT_HTML_PRUNE_DIVISOR (0.1%). docs/HTML.md says why. */
#define VT_HTML_PRUNE_DIVISOR 1000

/* Interned strings: each distinct string gets the next id from 0, in the order first seen. */
typedef struct vt__html_strs {
    char **strs; /* by id, owned */
    size_t n, cap;
    uint32_t *slots; /* open addressing: id + 1, 0 empty */
    size_t n_slots;
} vt__html_strs;

/* The id of s, interning a copy of it when new; UINT32_MAX on out of memory. */
uint32_t vt__html_intern(vt__html_strs *t, const char *s);

/* Frees what t holds (not t itself). */
void vt__html_strs_release(vt__html_strs *t);

/* s as a JSON string that is safe inside an HTML script element (no '<', '>' or '&'). */
void vt__html_json_str(FILE *out, const char *s);

/* The name a flame graph gives frame f: its function, else module+offset, else the address. */
const char *vt__html_frame_name(const vt_frame_info *f, uint64_t addr, char *buf, size_t n);

/* Writes the "flame" object of the page's data (docs/HTML.md): for each kind, the call tree
 * of every site, outermost frame first, pruned below the documented share. Function names are
 * interned into strs. Returns 0 or VT_ENOMEM. */
int vt__html_flame(FILE *out, const vt_model *m, vt_symbols *syms, vt__html_strs *strs);

/* Writes ,"cpu":...,"monitor":...,"zones":... of the page's data: the JSON report's objects of
 * those names (docs/HTML.md), safe inside a script element. Returns 0 or VT_ENOMEM. */
int vt__html_sections(FILE *out, const vt_model *m, vt_symbols *syms, const vt_report_opts *o);

#endif

/* The HTML output of `vitals diff` (diff_report.h): one self-contained page, the template
 * src/report/diff_html.html (embedded at build time) with the diff's JSON (the same document
 * as --format json) in it, from which the page's script draws the tables and the differential
 * flame graph. docs/DIFF.md describes the page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/diff_report.h"

/* The page (generated from src/report/diff_html.html). */
extern const char vt__diff_html_page[];

#define DATA_MARK "/*VITALS_DIFF_DATA*/"

int vt_render_diff_html(const vt_diff *d, const vt_diff_report_opts *o, FILE *out)
{
    char *json = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&json, &len);
    if (!mem)
        return -1;
    int rc = vt_render_diff_json(d, o, mem);
    if (fclose(mem) != 0 || rc) {
        free(json);
        return -1;
    }
    const char *mark = strstr(vt__diff_html_page, DATA_MARK);
    if (!mark) {
        free(json);
        return -1;
    }
    fwrite(vt__diff_html_page, 1, (size_t)(mark - vt__diff_html_page), out);
    /* '<', '>' and '&' only occur inside JSON strings, where \u escapes mean the same: the
     * script element cannot be closed early by a function or file name. */
    for (size_t i = 0; i < len; i++) {
        char c = json[i];
        if (c == '<' || c == '>' || c == '&')
            fprintf(out, "\\u%04x", (unsigned)c);
        else if (c != '\n')
            fputc(c, out);
    }
    fputs(mark + strlen(DATA_MARK), out);
    free(json);
    return ferror(out) ? -1 : 0;
}

/* libFuzzer target: any bytes, read as a trace, must give a model or a clean error, and the
 * renderers must cope with whatever model comes out. Built with clang (tests/fuzz). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "analyze/model.h"
#include "analyze/symbols.h"
#include "report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static FILE *sink;
    if (!path[0]) {
        snprintf(path, sizeof(path), "/tmp/vitals-fuzz.%d.vtr", (int)getpid());
        sink = fopen("/dev/null", "w");
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    int err;
    char msg[512];
    vt_model *m = vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg));
    if (m) {
        /* No modules: symbolizing would open whatever paths the input names. */
        vt_symbols *syms = vt_symbols_new();
        vt_report_opts o = {.top = 5, .frames = 4, .trace_path = path};
        if (syms) {
            vt_render_text(m, syms, &o, sink);
            vt_render_json(m, syms, &o, sink);
            vt_render_html(m, syms, &o, sink);
            vt_render_summary(m, syms, path, sink);
            /* The formats other tools read, every part of each. */
            for (const vt_renderer *r = vt_renderers; r->name; r++) {
                const char *const *parts = vt_renderer_parts(r);
                if (r->render == vt_render_text || r->render == vt_render_json)
                    continue;
                for (size_t i = 0; parts ? parts[i] != NULL : i == 0; i++) {
                    o.part = parts ? parts[i] : NULL;
                    r->render(m, syms, &o, sink);
                }
                o.part = NULL;
            }
        }
        vt_symbols_free(syms);
        vt_model_free(m);
    }
    return 0;
}

#include "report/frames.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/sites.h"
#include "util/error.h"

void vt__frames_init(vt_frames *fr)
{
    memset(fr, 0, sizeof(*fr));
}

void vt__frames_release(vt_frames *fr)
{
    free(fr->f);
    free(fr->addr);
    vt__frames_init(fr);
}

static int grow(vt_frames *fr, size_t need)
{
    if (need <= fr->cap)
        return 0;
    size_t cap = fr->cap ? fr->cap * 2 : 64;
    while (cap < need)
        cap *= 2;
    vt_frame_info *f = realloc(fr->f, cap * sizeof(*f));
    if (!f)
        return VT_ENOMEM;
    fr->f = f;
    uint64_t *a = realloc(fr->addr, cap * sizeof(*a));
    if (!a)
        return VT_ENOMEM;
    fr->addr = a;
    fr->cap = cap;
    return 0;
}

int vt__frames_of(vt_frames *fr, vt_symbols *syms, const vt_stack *s)
{
    vt_frame_info f[16];
    fr->n = 0;
    for (uint32_t i = 0; i < s->depth; i++) {
        int n = vt_stack_frame(syms, s, i, f, 16);
        if (n < 1)
            continue;
        if (grow(fr, fr->n + (size_t)n))
            return VT_ENOMEM;
        for (int k = 0; k < n; k++) {
            fr->f[fr->n] = f[k];
            fr->addr[fr->n++] = s->frames[i];
        }
    }
    return 0;
}

const char *vt__base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

const char *vt__frame_name(const vt_frame_info *f, uint64_t addr, char *buf, size_t size)
{
    if (f->function)
        return f->function;
    if (f->module)
        snprintf(buf, size, "%s+0x%llx", vt__base_name(f->module), (unsigned long long)f->offset);
    else
        snprintf(buf, size, "0x%llx", (unsigned long long)addr);
    return buf;
}

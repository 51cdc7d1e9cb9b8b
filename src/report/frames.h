/* The frames of a call stack as names, for the renderers that write stacks as text or as
 * tables (csv, folded, pprof, massif): symbolized once, inlined frames expanded. */
#ifndef VT_REPORT_FRAMES_H
#define VT_REPORT_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/model.h"
#include "analyze/symbols.h"

/* A stack's frames, innermost first, each inlined frame its own entry (before the frame it was
 * inlined into). Storage the caller owns: vt__frames_init(), vt__frames_release(). */
typedef struct vt_frames {
    vt_frame_info *f; /* strings borrowed from the vt_symbols */
    uint64_t *addr;   /* the return address each frame comes from */
    size_t n, cap;
} vt_frames;

void vt__frames_init(vt_frames *fr);
void vt__frames_release(vt_frames *fr);

/* Replaces fr's frames with those of stack s. Returns 0 or VT_ENOMEM. */
int vt__frames_of(vt_frames *fr, vt_symbols *syms, const vt_stack *s);

/* A frame's name for the formats: the demangled function, else "module+0xOFFSET", else
 * "0xADDRESS"; written into buf (size bytes) when it is not the function itself. Borrowed. */
const char *vt__frame_name(const vt_frame_info *f, uint64_t addr, char *buf, size_t size);

/* The last part of a path (after its last '/'). */
const char *vt__base_name(const char *path);

#endif

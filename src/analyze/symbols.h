/* Symbolization of run-time addresses through the module map recorded in a trace (libdw). */
#ifndef VT_ANALYZE_SYMBOLS_H
#define VT_ANALYZE_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

typedef struct vt_symbols vt_symbols;

/* One source-level frame. Strings are borrowed from the vt_symbols and stay valid until
 * vt_symbols_free(). */
typedef struct vt_frame_info {
    const char *function; /* demangled name, or NULL when unknown */
    const char *file;     /* source file, or NULL when there is no line information */
    int line;             /* 0 when unknown */
    const char *module;   /* path of the module, or NULL when no module holds the address */
    uint64_t offset;      /* address relative to the module's load bias (the address itself
                           * when module is NULL) */
    int inlined;          /* 1 when this frame was inlined into the next (outer) one */
} vt_frame_info;

/* Returns a new, empty symbolizer; caller frees with vt_symbols_free(). NULL on out of memory. */
vt_symbols *vt_symbols_new(void);

/* Frees everything; vt_symbols_free(NULL) does nothing. */
void vt_symbols_free(vt_symbols *s);

/* Registers a module that was loaded at run time at [start, end) with the given load bias
 * (dlpi_addr). path is copied. build_id (may be NULL) is used to find separate debug info and
 * to notice when the file on disk is not the one that ran. Modules registered later take
 * precedence over earlier ones for overlapping ranges. Returns 0 or a negative VT_E* code. */
int vt_symbols_add_module(vt_symbols *s, const char *path, uint64_t bias, uint64_t start,
                          uint64_t end, const uint8_t *build_id, size_t build_id_len);

/* The same, for a module loaded during code generations [first_gen, last_gen] only (a
 * generation ends when a library is unloaded, so that a later library at the same addresses
 * is told apart). vt_symbols_add_module() registers for every generation. */
int vt_symbols_add_module_gen(vt_symbols *s, const char *path, uint64_t bias, uint64_t start,
                              uint64_t end, const uint8_t *build_id, size_t build_id_len,
                              uint32_t first_gen, uint32_t last_gen);

/* vt_symbols_lookup() for an address recorded in code generation gen: it resolves in the module
 * loaded there then, if one was registered for gen. */
int vt_symbols_lookup_gen(vt_symbols *s, uint32_t gen, uint64_t addr, int is_return,
                          vt_frame_info *out, int max);

/* Resolves addr into at most max frames, innermost (inlined) first, outermost last; returns
 * the number written, at least 1 when max >= 1 (an unresolved address yields one frame with
 * function == NULL). With is_return set, addr is a return address and addr - 1 is looked up,
 * so that the call instruction's line is reported. Results are cached per address. Returns a
 * negative VT_E* code (VT_EINVAL, VT_ENOMEM) on failure. */
int vt_symbols_lookup(vt_symbols *s, uint64_t addr, int is_return, vt_frame_info *out, int max);

#endif

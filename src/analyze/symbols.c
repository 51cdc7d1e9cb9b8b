/* Symbolization through elfutils libdwfl: one Dwfl session for the whole trace, modules opened
 * on first use, results cached per address and strings interned. */
#include "symbols.h"

#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/error.h"
#include "util/hash.h"

/* From the C++ runtime (libstdc++), declared here so this file stays C. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

#define STR_CHUNK_SIZE (64 * 1024)
#define MIN_TABLE_SIZE 256
#define MAX_INLINE_DEPTH 64 /* frames kept per address; deeper inlining is cut at the inside */
#define MAX_WALK_DEPTH 256  /* DIE nesting followed, against malformed DWARF */

/* Where Debian and Fedora keep separate debug files named by build-id. */
static const char build_id_debug_dir[] = "/usr/lib/debug/.build-id/";

enum module_state { MODULE_UNOPENED, MODULE_OPEN, MODULE_FAILED };

struct module {
    const char *path; /* interned, as recorded */
    uint64_t bias;
    uint64_t start;
    uint64_t end;
    uint8_t *build_id; /* NULL when none was recorded */
    size_t build_id_len;
    enum module_state state;
    Dwfl_Module *dwfl_mod;        /* set when MODULE_OPEN; may be shared with another entry */
    const char *opened_path;      /* interned: the file reported to libdwfl */
    uint32_t first_gen, last_gen; /* the code generations it was loaded in */
};

struct cache_slot {
    uint64_t addr;
    uint32_t gen;
    uint32_t first; /* index into vt_symbols.frames */
    uint32_t n;     /* 0 marks an empty slot; a resolved address has at least one frame */
};

struct interned {
    uint64_t hash;
    const char *str; /* NULL marks an empty slot */
};

/* The address ranges of one compile unit, for modules whose DWARF lacks .debug_aranges (clang
 * does not emit it), where libdwfl 0.188 cannot map an address to its unit. */
struct cu_range {
    Dwarf_Addr low; /* in libdw's address space (module address minus the DWARF bias) */
    Dwarf_Addr high;
    Dwarf_Addr max_high; /* the highest high of this and all earlier ranges */
    Dwarf_Die cudie;
};

struct cu_table {
    Dwfl_Module *dwfl_mod;
    Dwarf_Addr bias;
    struct cu_range *ranges; /* sorted by low */
    size_t n_ranges;
};

struct str_chunk {
    struct str_chunk *next;
    size_t used;
    size_t cap;
    char data[];
};

struct vt_symbols {
    Dwfl *dwfl;

    struct module *modules;
    size_t n_modules;
    size_t cap_modules;

    struct cache_slot *slots;
    size_t n_slots; /* a power of two, or 0 before the first insertion */
    size_t n_cached;
    vt_frame_info *frames;
    size_t n_frames;
    size_t cap_frames;

    struct cu_table *cu_tables;
    size_t n_cu_tables;
    size_t cap_cu_tables;

    struct interned *strs;
    size_t n_str_slots; /* a power of two, or 0 before the first insertion */
    size_t n_strs;
    struct str_chunk *chunks;
};

/* libdwfl keeps a pointer to this for the whole session; NULL selects its default search path,
 * which includes /usr/lib/debug and its .build-id directory. */
static char *debuginfo_path;

static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

static uint64_t hash_string(const char *str)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)str; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return vt_hash64(h);
}

static char *arena_alloc(vt_symbols *s, size_t n)
{
    struct str_chunk *c = s->chunks;
    if (c != NULL && c->cap - c->used >= n) {
        char *p = c->data + c->used;
        c->used += n;
        return p;
    }
    size_t cap = n > STR_CHUNK_SIZE / 4 ? n : STR_CHUNK_SIZE;
    struct str_chunk *nc = malloc(sizeof *nc + cap);
    if (nc == NULL)
        return NULL;
    nc->used = n;
    nc->cap = cap;
    /* A string that gets a chunk of its own goes behind the current one, whose free space is
     * still useful. */
    if (cap == n && c != NULL) {
        nc->next = c->next;
        c->next = nc;
    } else {
        nc->next = c;
        s->chunks = nc;
    }
    return nc->data;
}

static int strs_grow(vt_symbols *s)
{
    size_t n_slots = s->n_str_slots ? s->n_str_slots * 2 : MIN_TABLE_SIZE;
    struct interned *slots = calloc(n_slots, sizeof *slots);
    if (slots == NULL)
        return VT_ENOMEM;
    for (size_t i = 0; i < s->n_str_slots; i++) {
        if (s->strs[i].str == NULL)
            continue;
        size_t j = s->strs[i].hash & (n_slots - 1);
        while (slots[j].str != NULL)
            j = (j + 1) & (n_slots - 1);
        slots[j] = s->strs[i];
    }
    free(s->strs);
    s->strs = slots;
    s->n_str_slots = n_slots;
    return 0;
}

/* Stores in *out the interned copy of str, or NULL when str is NULL. */
static int intern(vt_symbols *s, const char *str, const char **out)
{
    *out = NULL;
    if (str == NULL)
        return 0;
    if ((s->n_strs + 1) * 4 > s->n_str_slots * 3) {
        int err = strs_grow(s);
        if (err)
            return err;
    }
    uint64_t h = hash_string(str);
    size_t mask = s->n_str_slots - 1;
    size_t i = h & mask;
    for (; s->strs[i].str != NULL; i = (i + 1) & mask) {
        if (s->strs[i].hash == h && strcmp(s->strs[i].str, str) == 0) {
            *out = s->strs[i].str;
            return 0;
        }
    }
    size_t len = strlen(str) + 1;
    char *copy = arena_alloc(s, len);
    if (copy == NULL)
        return VT_ENOMEM;
    memcpy(copy, str, len);
    s->strs[i].hash = h;
    s->strs[i].str = copy;
    s->n_strs++;
    *out = copy;
    return 0;
}

/* Interns name, demangled first when it is an Itanium C++ ABI name. */
static int intern_demangled(vt_symbols *s, const char *name, const char **out)
{
    if (name == NULL || strncmp(name, "_Z", 2) != 0)
        return intern(s, name, out);
    int status = 0;
    char *demangled = __cxa_demangle(name, NULL, NULL, &status);
    if (status == -1)
        return VT_ENOMEM;
    if (demangled == NULL)
        return intern(s, name, out);
    int err = intern(s, demangled, out);
    free(demangled);
    return err;
}

vt_symbols *vt_symbols_new(void)
{
    vt_symbols *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->dwfl = dwfl_begin(&dwfl_callbacks);
    if (s->dwfl == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void vt_symbols_free(vt_symbols *s)
{
    if (s == NULL)
        return;
    dwfl_end(s->dwfl);
    for (size_t i = 0; i < s->n_modules; i++)
        free(s->modules[i].build_id);
    free(s->modules);
    for (size_t i = 0; i < s->n_cu_tables; i++)
        free(s->cu_tables[i].ranges);
    free(s->cu_tables);
    free(s->slots);
    free(s->frames);
    free(s->strs);
    while (s->chunks != NULL) {
        struct str_chunk *next = s->chunks->next;
        free(s->chunks);
        s->chunks = next;
    }
    free(s);
}

/* Drops every cached result when one of them lies in [start, end), since a module registered
 * now takes those addresses over. */
static void cache_invalidate(vt_symbols *s, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < s->n_slots; i++) {
        if (s->slots[i].n != 0 && s->slots[i].addr >= start && s->slots[i].addr < end) {
            memset(s->slots, 0, s->n_slots * sizeof *s->slots);
            s->n_cached = 0;
            s->n_frames = 0;
            return;
        }
    }
}

int vt_symbols_add_module(vt_symbols *s, const char *path, uint64_t bias, uint64_t start,
                          uint64_t end, const uint8_t *build_id, size_t build_id_len)
{
    return vt_symbols_add_module_gen(s, path, bias, start, end, build_id, build_id_len, 0,
                                     UINT32_MAX);
}

int vt_symbols_add_module_gen(vt_symbols *s, const char *path, uint64_t bias, uint64_t start,
                              uint64_t end, const uint8_t *build_id, size_t build_id_len,
                              uint32_t first_gen, uint32_t last_gen)
{
    if (s == NULL || path == NULL || end < start || (build_id == NULL && build_id_len != 0))
        return VT_EINVAL;
    if (s->n_modules == s->cap_modules) {
        size_t cap = s->cap_modules ? s->cap_modules * 2 : 16;
        struct module *modules = realloc(s->modules, cap * sizeof *modules);
        if (modules == NULL)
            return VT_ENOMEM;
        s->modules = modules;
        s->cap_modules = cap;
    }
    struct module m = {.bias = bias,
                       .start = start,
                       .end = end,
                       .state = MODULE_UNOPENED,
                       .first_gen = first_gen,
                       .last_gen = last_gen};
    int err = intern(s, path, &m.path);
    if (err)
        return err;
    if (build_id_len > 0) {
        m.build_id = malloc(build_id_len);
        if (m.build_id == NULL)
            return VT_ENOMEM;
        memcpy(m.build_id, build_id, build_id_len);
        m.build_id_len = build_id_len;
    }
    s->modules[s->n_modules++] = m;
    cache_invalidate(s, start, end);
    return 0;
}

/* Opens path when it is an ELF file whose build-id is the recorded one (any build-id matches
 * when none was recorded); returns the descriptor or -1. */
/* fd, if it is the ELF file of m (same build-id, when one was recorded); otherwise it is closed
 * and -1 returned. */
static int keep_matching(const struct module *m, int fd)
{
    if (fd < 0)
        return -1;
    bool ok = false;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (elf != NULL && elf_kind(elf) == ELF_K_ELF) {
        const void *bits = NULL;
        ssize_t len = dwelf_elf_gnu_build_id(elf, &bits);
        ok = m->build_id_len == 0 ||
             (len == (ssize_t)m->build_id_len && memcmp(bits, m->build_id, m->build_id_len) == 0);
    }
    elf_end(elf);
    if (!ok) {
        close(fd);
        return -1;
    }
    return fd;
}

static int open_matching(const struct module *m, const char *path)
{
    return keep_matching(m, open(path, O_RDONLY | O_CLOEXEC));
}

/* The kernel's vDSO has no file: when the trace was made under the kernel this report runs on
 * (the build-id recorded for it is that of this process's own vDSO), a copy of this process's
 * image in a memory file stands for it. Returns that file, or -1. */
static int open_vdso(const struct module *m)
{
    if (strncmp(m->path, "linux-vdso", 10) != 0 && strncmp(m->path, "linux-gate", 10) != 0)
        return -1;
    if (m->build_id_len == 0)
        return -1; /* nothing to tell this kernel's from another's */
    const unsigned char *img = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    if (img == NULL || memcmp(img, ELFMAG, SELFMAG) != 0 || img[EI_CLASS] != ELFCLASS64)
        return -1;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    size_t size = (size_t)eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_offset + ph[i].p_filesz > size)
            size = ph[i].p_offset + ph[i].p_filesz;
    if (size > 1u << 20)
        return -1;
    int fd = memfd_create(m->path, MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (write(fd, img, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return keep_matching(m, fd);
}

/* Opens the file to read the module's symbols from: the recorded path, or when the file there
 * is not the one that ran, the separate debug file named by the build-id (it has the same
 * addresses, symbol table and DWARF). Sets *out_fd to the descriptor, or to -1 when there is no
 * such file, and *out_path to the interned name of the file. */
static int open_module_file(vt_symbols *s, const struct module *m, int *out_fd,
                            const char **out_path)
{
    *out_fd = open_matching(m, m->path);
    if (*out_fd < 0)
        *out_fd = open_vdso(m);
    if (*out_fd >= 0) {
        *out_path = m->path;
        return 0;
    }
    if (m->build_id_len < 2 || m->build_id_len > 64)
        return 0;
    char debug_path[sizeof build_id_debug_dir + 2 * 64 + sizeof "/.debug"];
    size_t n = sizeof build_id_debug_dir - 1;
    memcpy(debug_path, build_id_debug_dir, n);
    for (size_t i = 0; i < m->build_id_len; i++) {
        n += (size_t)snprintf(debug_path + n, sizeof debug_path - n, "%02x", m->build_id[i]);
        if (i == 0)
            debug_path[n++] = '/';
    }
    snprintf(debug_path + n, sizeof debug_path - n, ".debug");
    int fd = open_matching(m, debug_path);
    if (fd < 0)
        return 0;
    int err = intern(s, debug_path, out_path);
    if (err) {
        close(fd);
        return err;
    }
    *out_fd = fd;
    return 0;
}

/* Sets *out to the libdwfl module for m, reporting it on first use, or to NULL when its file
 * cannot be read. A missing file is tried once; running out of memory is not remembered. */
static int module_open(vt_symbols *s, struct module *m, Dwfl_Module **out)
{
    *out = m->dwfl_mod;
    if (m->state != MODULE_UNOPENED)
        return 0;
    const char *opened_path = NULL;
    int fd;
    int err = open_module_file(s, m, &fd, &opened_path);
    if (err)
        return err;
    m->state = MODULE_FAILED;
    if (fd < 0)
        return 0;
    /* libdwfl refuses, and then discards, a second report of the same file at the same place,
     * so a module loaded again where it was before shares the first report. */
    for (size_t i = 0; i < s->n_modules; i++) {
        struct module *o = &s->modules[i];
        if (o->state == MODULE_OPEN && o->opened_path == opened_path && o->bias == m->bias) {
            close(fd);
            m->state = MODULE_OPEN;
            m->opened_path = opened_path;
            m->dwfl_mod = o->dwfl_mod;
            *out = m->dwfl_mod;
            return 0;
        }
    }
    dwfl_report_begin_add(s->dwfl);
    Dwfl_Module *dm = dwfl_report_elf(s->dwfl, opened_path, opened_path, fd, m->bias, true);
    dwfl_report_end(s->dwfl, NULL, NULL);
    if (dm == NULL) {
        close(fd);
        return 0;
    }
    /* From here libdwfl owns fd. */
    m->state = MODULE_OPEN;
    m->opened_path = opened_path;
    m->dwfl_mod = dm;
    *out = dm;
    return 0;
}

/* The module at addr in code generation gen: the latest registered one loaded then, or else
 * the latest registered one at all. */
static struct module *module_find(vt_symbols *s, uint64_t addr, uint32_t gen)
{
    struct module *any = NULL;
    for (size_t i = s->n_modules; i-- > 0;) {
        struct module *m = &s->modules[i];
        if (addr < m->start || addr >= m->end)
            continue;
        if (gen >= m->first_gen && gen <= m->last_gen)
            return m;
        if (!any)
            any = m;
    }
    return any;
}

static int frames_push(vt_symbols *s, const vt_frame_info *f)
{
    if (s->n_frames == s->cap_frames) {
        size_t cap = s->cap_frames ? s->cap_frames * 2 : 256;
        if (cap > UINT32_MAX)
            return VT_ENOMEM;
        vt_frame_info *frames = realloc(s->frames, cap * sizeof *frames);
        if (frames == NULL)
            return VT_ENOMEM;
        s->frames = frames;
        s->cap_frames = cap;
    }
    s->frames[s->n_frames++] = *f;
    return 0;
}

static int cu_range_cmp(const void *a, const void *b)
{
    const struct cu_range *x = a, *y = b;
    return x->low < y->low ? -1 : x->low > y->low;
}

static int cu_table_build(struct cu_table *t, Dwfl_Module *dm)
{
    size_t cap = 0;
    t->dwfl_mod = dm;
    Dwarf *dw = dwfl_module_getdwarf(dm, &t->bias);
    if (dw == NULL)
        return 0;
    Dwarf_CU *cu = NULL;
    Dwarf_Die cudie;
    while (dwarf_get_units(dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
        if (dwarf_tag(&cudie) != DW_TAG_compile_unit)
            continue;
        Dwarf_Addr base, low, high;
        for (ptrdiff_t off = 0; (off = dwarf_ranges(&cudie, off, &base, &low, &high)) > 0;) {
            if (low >= high)
                continue;
            if (t->n_ranges == cap) {
                cap = cap ? cap * 2 : 64;
                struct cu_range *r = realloc(t->ranges, cap * sizeof *r);
                if (r == NULL)
                    return VT_ENOMEM;
                t->ranges = r;
            }
            t->ranges[t->n_ranges++] = (struct cu_range){.low = low, .high = high, .cudie = cudie};
        }
    }
    if (t->n_ranges > 1)
        qsort(t->ranges, t->n_ranges, sizeof *t->ranges, cu_range_cmp);
    Dwarf_Addr max_high = 0;
    for (size_t i = 0; i < t->n_ranges; i++) {
        if (t->ranges[i].high > max_high)
            max_high = t->ranges[i].high;
        t->ranges[i].max_high = max_high;
    }
    return 0;
}

/* Finds the compile unit holding pc, as dwfl_module_addrdie does, but also in DWARF without
 * .debug_aranges. Sets *out_cudie to NULL when no unit holds pc. */
static int find_cu(vt_symbols *s, Dwfl_Module *dm, uint64_t pc, Dwarf_Die *cudie,
                   Dwarf_Die **out_cudie, Dwarf_Addr *out_bias)
{
    *out_cudie = dwfl_module_addrdie(dm, pc, out_bias);
    if (*out_cudie != NULL)
        return 0;
    struct cu_table *t = NULL;
    for (size_t i = 0; i < s->n_cu_tables && t == NULL; i++) {
        if (s->cu_tables[i].dwfl_mod == dm)
            t = &s->cu_tables[i];
    }
    if (t == NULL) {
        if (s->n_cu_tables == s->cap_cu_tables) {
            size_t cap = s->cap_cu_tables ? s->cap_cu_tables * 2 : 8;
            struct cu_table *tables = realloc(s->cu_tables, cap * sizeof *tables);
            if (tables == NULL)
                return VT_ENOMEM;
            s->cu_tables = tables;
            s->cap_cu_tables = cap;
        }
        t = &s->cu_tables[s->n_cu_tables];
        memset(t, 0, sizeof *t);
        int err = cu_table_build(t, dm);
        if (err) {
            free(t->ranges);
            return err;
        }
        s->n_cu_tables++;
    }
    /* Ranges can overlap (functions discarded by the linker keep ranges near 0), so the search
     * walks back from the last range starting at or below pc while an earlier one may reach it. */
    Dwarf_Addr dpc = pc - t->bias;
    size_t lo = 0, hi = t->n_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->ranges[mid].low <= dpc)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0 && t->ranges[i].max_high > dpc;) {
        if (dpc < t->ranges[i].high) {
            *cudie = t->ranges[i].cudie;
            *out_cudie = cudie;
            *out_bias = t->bias;
            break;
        }
    }
    return 0;
}

/* The name of a subprogram or inlined subroutine DIE: the demangled linkage name of its
 * declaration when it is a C++ mangled name, since that carries the namespace and parameter
 * types; otherwise the source name, since a plain linkage name is an assembler label such as
 * glibc's internal "__GI_setlocale". */
static int die_function_name(vt_symbols *s, Dwarf_Die *die, const char **out)
{
    Dwarf_Attribute attr;
    const char *linkage_name = NULL;
    const char *name = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) != NULL ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr) != NULL)
        linkage_name = dwarf_formstring(&attr);
    if (linkage_name != NULL && strncmp(linkage_name, "_Z", 2) == 0)
        return intern_demangled(s, linkage_name, out);
    if (dwarf_attr_integrate(die, DW_AT_name, &attr) != NULL)
        name = dwarf_formstring(&attr);
    return intern(s, name != NULL ? name : linkage_name, out);
}

static int symtab_function_name(vt_symbols *s, Dwfl_Module *dm, uint64_t pc, const char **out)
{
    GElf_Off offset;
    GElf_Sym sym;
    GElf_Word shndx;
    Elf *elf;
    Dwarf_Addr bias;
    const char *name = dwfl_module_addrinfo(dm, pc, &offset, &sym, &shndx, &elf, &bias);
    return intern_demangled(s, name, out);
}

/* The DIEs of the functions, real and inlined, that contain one address, outermost first. */
struct scope_chain {
    Dwarf_Die dies[MAX_INLINE_DEPTH];
    int n;
};

/* Appends to chain the function DIEs below parent that contain dpc; returns true when a DIE
 * with code containing dpc was found. This is our own walk rather than dwarf_getscopes, which
 * in libdw 0.188 returns nothing when the abstract origin of the innermost inlined subroutine
 * is not where it looks for it (as in clang's DWARF). */
static bool scope_walk(Dwarf_Die *parent, Dwarf_Addr dpc, struct scope_chain *chain, int depth)
{
    Dwarf_Die child;
    if (depth >= MAX_WALK_DEPTH || dwarf_child(parent, &child) != 0)
        return false;
    do {
        switch (dwarf_tag(&child)) {
        case DW_TAG_subprogram:
        case DW_TAG_inlined_subroutine:
        case DW_TAG_entry_point:
            if (dwarf_haspc(&child, dpc) != 1)
                break;
            if (chain->n < MAX_INLINE_DEPTH)
                chain->dies[chain->n++] = child;
            scope_walk(&child, dpc, chain, depth + 1);
            return true;
        case DW_TAG_lexical_block:
        case DW_TAG_try_block:
        case DW_TAG_catch_block:
        case DW_TAG_with_stmt:
            if (dwarf_haspc(&child, dpc) != 1)
                break;
            scope_walk(&child, dpc, chain, depth + 1);
            return true;
        case DW_TAG_namespace:
        case DW_TAG_module:
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type:
            /* These have no addresses but can hold functions that do. */
            if (scope_walk(&child, dpc, chain, depth + 1))
                return true;
            break;
        default:
            break;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

/* Appends the frames for pc in dm, innermost first: one per inlined subroutine containing pc,
 * then the real function. The innermost frame's line is pc's line; each outer frame's line is
 * the call site recorded on the inlined subroutine it called. */
static int resolve_in_module(vt_symbols *s, Dwfl_Module *dm, uint64_t pc, vt_frame_info *f)
{
    struct scope_chain chain;
    chain.n = 0;
    Dwarf_Addr dwbias = 0;
    Dwarf_Die cudie_mem;
    Dwarf_Die *cudie = NULL;
    int err = find_cu(s, dm, pc, &cudie_mem, &cudie, &dwbias);
    if (err)
        return err;
    if (cudie != NULL) {
        Dwarf_Addr dpc = pc - dwbias;
        Dwarf_Line *line = dwarf_getsrc_die(cudie, dpc);
        if (line != NULL) {
            err = intern(s, dwarf_linesrc(line, NULL, NULL), &f->file);
            if (err)
                return err;
            if (dwarf_lineno(line, &f->line) != 0)
                f->line = 0;
        }
        scope_walk(cudie, dpc, &chain, 0);
    }
    Dwarf_Files *files = NULL;
    for (int i = chain.n - 1; i >= 0; i--) {
        Dwarf_Die *die = &chain.dies[i];
        err = die_function_name(s, die, &f->function);
        if (err)
            return err;
        if (dwarf_tag(die) != DW_TAG_inlined_subroutine) {
            if (f->function == NULL) {
                err = symtab_function_name(s, dm, pc, &f->function);
                if (err)
                    return err;
            }
            f->inlined = 0;
            return frames_push(s, f);
        }
        f->inlined = 1;
        err = frames_push(s, f);
        if (err)
            return err;
        Dwarf_Attribute attr;
        Dwarf_Word value;
        f->function = NULL;
        f->file = NULL;
        f->line = 0;
        if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &value) == 0 &&
            (files != NULL || dwarf_getsrcfiles(cudie, &files, NULL) == 0)) {
            err = intern(s, dwarf_filesrc(files, value, NULL, NULL), &f->file);
            if (err)
                return err;
        }
        if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &value) == 0)
            f->line = (int)value;
    }
    /* No DWARF function holds pc (no debug info, or assembly): the symbol table names the
     * function, at pc's line or at the last inlined call site. */
    err = symtab_function_name(s, dm, pc, &f->function);
    if (err)
        return err;
    f->inlined = 0;
    return frames_push(s, f);
}

/* Resolves pc and appends its frames to s->frames. */
static int resolve(vt_symbols *s, uint64_t pc, uint32_t gen)
{
    vt_frame_info f = {.offset = pc};
    struct module *m = module_find(s, pc, gen);
    if (m == NULL)
        return frames_push(s, &f);
    f.module = m->path;
    f.offset = pc - m->bias;
    Dwfl_Module *dm;
    int err = module_open(s, m, &dm);
    if (err)
        return err;
    if (dm == NULL)
        return frames_push(s, &f);
    return resolve_in_module(s, dm, pc, &f);
}

static int cache_grow(vt_symbols *s)
{
    size_t n_slots = s->n_slots ? s->n_slots * 2 : MIN_TABLE_SIZE;
    struct cache_slot *slots = calloc(n_slots, sizeof *slots);
    if (slots == NULL)
        return VT_ENOMEM;
    for (size_t i = 0; i < s->n_slots; i++) {
        if (s->slots[i].n == 0)
            continue;
        size_t j = vt_hash64(s->slots[i].addr ^ (uint64_t)s->slots[i].gen << 48) & (n_slots - 1);
        while (slots[j].n != 0)
            j = (j + 1) & (n_slots - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->n_slots = n_slots;
    return 0;
}

int vt_symbols_lookup(vt_symbols *s, uint64_t addr, int is_return, vt_frame_info *out, int max)
{
    return vt_symbols_lookup_gen(s, UINT32_MAX, addr, is_return, out, max);
}

int vt_symbols_lookup_gen(vt_symbols *s, uint32_t gen, uint64_t addr, int is_return,
                          vt_frame_info *out, int max)
{
    if (s == NULL || (out == NULL && max > 0))
        return VT_EINVAL;
    if (max <= 0)
        return 0;
    uint64_t pc = is_return && addr > 0 ? addr - 1 : addr;

    if ((s->n_cached + 1) * 10 > s->n_slots * 7) {
        int err = cache_grow(s);
        if (err)
            return err;
    }
    size_t mask = s->n_slots - 1;
    size_t i = vt_hash64(pc ^ (uint64_t)gen << 48) & mask;
    while (s->slots[i].n != 0 && (s->slots[i].addr != pc || s->slots[i].gen != gen))
        i = (i + 1) & mask;
    struct cache_slot *slot = &s->slots[i];
    if (slot->n == 0) {
        size_t first = s->n_frames;
        int err = resolve(s, pc, gen);
        if (err) {
            s->n_frames = first;
            return err;
        }
        slot->addr = pc;
        slot->gen = gen;
        slot->first = (uint32_t)first;
        slot->n = (uint32_t)(s->n_frames - first);
        s->n_cached++;
    }

    int n = slot->n < (uint32_t)max ? (int)slot->n : max;
    for (int k = 0; k < n; k++) {
        out[k] = s->frames[slot->first + k];
        out[k].offset += addr - pc;
    }
    return n;
}

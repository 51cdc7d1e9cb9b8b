/* Unit tests for the symbolizer: the test registers its own process's modules, as the agent
 * records them, and symbolizes addresses of its own functions. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analyze/symbols.h"
#include "util/error.h"

/* Keeps a function out of line and exactly as written (no inlining, cloning, merging or
 * interprocedural shortcuts), so that its return addresses land on the lines the test expects
 * at any optimisation level. */
#if defined(__clang__)
#define TEST_KEEP __attribute__((noinline, optnone))
#else
#define TEST_KEEP __attribute__((noipa))
#endif

#define MAX_FRAMES 16
#define MAX_SELF_MODULES 64

/* From symbols_cxx.cpp. */
uintptr_t vt_test_cxx_fn_address(void);

struct self_module {
    char path[PATH_MAX];
    uint64_t bias;
    uint64_t start;
    uint64_t end;
    uint8_t build_id[64];
    size_t build_id_len;
};

static struct self_module self_modules[MAX_SELF_MODULES];
static int n_self_modules;

/* Reads the GNU build-id from a loaded PT_NOTE segment. */
static void read_build_id(const unsigned char *p, size_t size, size_t align, struct self_module *m)
{
    const unsigned char *end = p + size;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
        const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
        const unsigned char *name = p + sizeof *nh;
        const unsigned char *desc = name + ((nh->n_namesz + align - 1) & ~(align - 1));
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
            nh->n_descsz <= sizeof m->build_id) {
            memcpy(m->build_id, desc, nh->n_descsz);
            m->build_id_len = nh->n_descsz;
            return;
        }
        p = desc + ((nh->n_descsz + align - 1) & ~(align - 1));
    }
}

static int collect_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    if (n_self_modules == MAX_SELF_MODULES)
        return 1;
    struct self_module *m = &self_modules[n_self_modules];
    memset(m, 0, sizeof *m);
    if (info->dlpi_name[0] == '\0') {
        /* Only the main program has no name; it must be the first object. */
        if (n_self_modules != 0)
            return 0;
        ssize_t n = readlink("/proc/self/exe", m->path, sizeof m->path - 1);
        if (n <= 0)
            return 0;
        m->path[n] = '\0';
    } else {
        strncpy(m->path, info->dlpi_name, sizeof m->path - 1);
    }
    m->bias = info->dlpi_addr;
    m->start = UINT64_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD) {
            uint64_t lo = info->dlpi_addr + ph->p_vaddr;
            uint64_t hi = lo + ph->p_memsz;
            if (lo < m->start)
                m->start = lo;
            if (hi > m->end)
                m->end = hi;
        } else if (ph->p_type == PT_NOTE && m->build_id_len == 0) {
            read_build_id((const unsigned char *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz,
                          ph->p_align == 8 ? 8 : 4, m);
        }
    }
    if (m->start < m->end)
        n_self_modules++;
    return 0;
}

static int setup_group(void **state)
{
    (void)state;
    dl_iterate_phdr(collect_module, NULL);
    return n_self_modules > 0 ? 0 : -1;
}

static const struct self_module *self_exe(void)
{
    return &self_modules[0];
}

static const struct self_module *self_module_named(const char *needle)
{
    for (int i = 0; i < n_self_modules; i++) {
        if (strstr(self_modules[i].path, needle) != NULL)
            return &self_modules[i];
    }
    return NULL;
}

static vt_symbols *new_self_symbols(void)
{
    vt_symbols *s = vt_symbols_new();
    assert_non_null(s);
    for (int i = 0; i < n_self_modules; i++) {
        const struct self_module *m = &self_modules[i];
        assert_int_equal(vt_symbols_add_module(s, m->path, m->bias, m->start, m->end,
                                               m->build_id_len ? m->build_id : NULL,
                                               m->build_id_len),
                         0);
    }
    return s;
}

static const char *base_name(const char *path)
{
    assert_non_null(path);
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

TEST_KEEP static uint64_t capture_return_address(void)
{
    return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

TEST_KEEP static uint64_t call_site(int *out_line)
{
    *out_line = __LINE__ + 1;
    uint64_t ra = capture_return_address();
    /* Keeps the call from becoming a tail call. */
    asm volatile("" ::: "memory");
    return ra;
}

TEST_KEEP static int known_function(int x)
{
    asm volatile("" : "+r"(x));
    return x * 3 + 1;
}
static const int known_function_first_line = __LINE__ - 5;
static const int known_function_last_line = __LINE__ - 2;

static inline __attribute__((always_inline)) uint64_t inlined_leaf(int *out_inner_line)
{
    *out_inner_line = __LINE__ + 1;
    uint64_t ra = capture_return_address();
    asm volatile("" ::: "memory");
    return ra;
}

TEST_KEEP static uint64_t inline_caller(int *out_outer_line, int *out_inner_line)
{
    *out_outer_line = __LINE__ + 1;
    uint64_t ra = inlined_leaf(out_inner_line);
    asm volatile("" ::: "memory");
    return ra;
}

static void test_new_free(void **state)
{
    (void)state;
    vt_symbols_free(NULL);
    vt_symbols *s = vt_symbols_new();
    assert_non_null(s);
    vt_symbols_free(s);
}

static void test_return_address_line(void **state)
{
    (void)state;
    vt_symbols *s = new_self_symbols();
    int line = 0;
    uint64_t ra = call_site(&line);
    vt_frame_info f[MAX_FRAMES];
    assert_int_equal(vt_symbols_lookup(s, ra, 1, f, MAX_FRAMES), 1);
    assert_string_equal(f[0].function, "call_site");
    assert_string_equal(base_name(f[0].file), "test_symbols.c");
    assert_int_equal(f[0].line, line);
    assert_int_equal(f[0].inlined, 0);
    assert_string_equal(f[0].module, self_exe()->path);
    assert_int_equal(f[0].offset, ra - self_exe()->bias);
    vt_symbols_free(s);
}

static void test_function_address(void **state)
{
    (void)state;
    vt_symbols *s = new_self_symbols();
    uint64_t addr = (uint64_t)(uintptr_t)&known_function;
    vt_frame_info f[MAX_FRAMES];
    assert_int_equal(vt_symbols_lookup(s, addr, 0, f, MAX_FRAMES), 1);
    assert_string_equal(f[0].function, "known_function");
    assert_string_equal(base_name(f[0].file), "test_symbols.c");
    /* The entry address may carry the line of the declaration or of the first statement. */
    assert_in_range(f[0].line, known_function_first_line, known_function_last_line);
    assert_int_equal(f[0].offset, addr - self_exe()->bias);
    vt_symbols_free(s);
}

static void test_inlined_frames(void **state)
{
    (void)state;
    vt_symbols *s = new_self_symbols();
    int outer_line = 0, inner_line = 0;
    uint64_t ra = inline_caller(&outer_line, &inner_line);
    vt_frame_info f[MAX_FRAMES];
    assert_int_equal(vt_symbols_lookup(s, ra, 1, f, MAX_FRAMES), 2);
    assert_string_equal(f[0].function, "inlined_leaf");
    assert_string_equal(base_name(f[0].file), "test_symbols.c");
    assert_int_equal(f[0].line, inner_line);
    assert_int_equal(f[0].inlined, 1);
    assert_string_equal(f[1].function, "inline_caller");
    assert_string_equal(base_name(f[1].file), "test_symbols.c");
    assert_int_equal(f[1].line, outer_line);
    assert_int_equal(f[1].inlined, 0);
    assert_ptr_equal(f[0].module, f[1].module);

    /* A short output array gets the innermost frames. */
    vt_frame_info one;
    assert_int_equal(vt_symbols_lookup(s, ra, 1, &one, 1), 1);
    assert_ptr_equal(one.function, f[0].function);
    assert_int_equal(one.line, inner_line);
    vt_symbols_free(s);
}

static void test_cxx_demangling(void **state)
{
    (void)state;
    vt_symbols *s = new_self_symbols();
    vt_frame_info f[MAX_FRAMES];
    assert_int_equal(vt_symbols_lookup(s, vt_test_cxx_fn_address(), 0, f, MAX_FRAMES), 1);
    assert_string_equal(f[0].function, "ns::fn(int)");
    assert_string_equal(base_name(f[0].file), "symbols_cxx.cpp");

    /* libstdc++ usually comes without debug info: the name is then its dynamic symbol. */
    void *what = dlsym(RTLD_DEFAULT, "_ZNKSt9bad_alloc4whatEv");
    if (what != NULL) {
        assert_int_equal(vt_symbols_lookup(s, (uint64_t)(uintptr_t)what, 0, f, MAX_FRAMES), 1);
        assert_string_equal(f[0].function, "std::bad_alloc::what() const");
        assert_non_null(strstr(f[0].module, "libstdc++"));
    }
    vt_symbols_free(s);
}

static void test_libc_function(void **state)
{
    (void)state;
    if (self_module_named("libc.so") == NULL)
        skip();
    vt_symbols *s = new_self_symbols();
    void *fn = dlsym(RTLD_DEFAULT, "getpid");
    assert_non_null(fn);
    vt_frame_info f[MAX_FRAMES];
    int n = vt_symbols_lookup(s, (uint64_t)(uintptr_t)fn, 0, f, MAX_FRAMES);
    assert_true(n >= 1);
    assert_non_null(f[n - 1].function);
    assert_non_null(strstr(f[n - 1].function, "getpid"));
    assert_non_null(strstr(f[n - 1].module, "libc.so"));
    vt_symbols_free(s);
}

static void test_unknown_address(void **state)
{
    (void)state;
    vt_symbols *s = new_self_symbols();
    vt_frame_info f[MAX_FRAMES];
    assert_int_equal(vt_symbols_lookup(s, 16, 1, f, MAX_FRAMES), 1);
    assert_null(f[0].function);
    assert_null(f[0].file);
    assert_int_equal(f[0].line, 0);
    assert_null(f[0].module);
    assert_int_equal(f[0].offset, 16);
    assert_int_equal(f[0].inlined, 0);
    vt_symbols_free(s);
}

static void test_missing_module_file(void **state)
{
    (void)state;
    vt_symbols *s = new_self_symbols();
    static const uint8_t build_id[] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
    assert_int_equal(vt_symbols_add_module(s, "/nonexistent/libmissing.so", 0x10000, 0x10000,
                                           0x20000, build_id, sizeof build_id),
                     0);
    vt_frame_info f[MAX_FRAMES];
    assert_int_equal(vt_symbols_lookup(s, 0x10501, 1, f, MAX_FRAMES), 1);
    assert_null(f[0].function);
    assert_null(f[0].file);
    assert_string_equal(f[0].module, "/nonexistent/libmissing.so");
    assert_int_equal(f[0].offset, 0x501);

    /* The vDSO has no file; it is registered by new_self_symbols() when the process has one. */
    const struct self_module *vdso = self_module_named("linux-vdso");
    if (vdso != NULL) {
        assert_int_equal(vt_symbols_lookup(s, vdso->start, 0, f, MAX_FRAMES), 1);
        assert_null(f[0].function);
        assert_string_equal(f[0].module, vdso->path);
    }

    /* Other modules still resolve. */
    int line = 0;
    uint64_t ra = call_site(&line);
    assert_int_equal(vt_symbols_lookup(s, ra, 1, f, MAX_FRAMES), 1);
    assert_string_equal(f[0].function, "call_site");
    vt_symbols_free(s);
}

static void test_later_module_wins(void **state)
{
    (void)state;
    const struct self_module *exe = self_exe();
    vt_symbols *s = new_self_symbols();
    int line = 0;
    uint64_t ra = call_site(&line);
    vt_frame_info f[MAX_FRAMES];
    assert_int_equal(vt_symbols_lookup(s, ra, 1, f, MAX_FRAMES), 1);
    assert_string_equal(f[0].function, "call_site");

    /* Something else mapped over the executable (a dlclose then a dlopen), after a lookup. */
    assert_int_equal(vt_symbols_add_module(s, "/nonexistent/overlay.so", exe->start, exe->start,
                                           exe->end, NULL, 0),
                     0);
    assert_int_equal(vt_symbols_lookup(s, ra, 1, f, MAX_FRAMES), 1);
    assert_null(f[0].function);
    assert_string_equal(f[0].module, "/nonexistent/overlay.so");
    assert_int_equal(f[0].offset, ra - exe->start);

    /* The executable again, at the same place: the same file is reported to libdwfl twice. */
    assert_int_equal(vt_symbols_add_module(s, exe->path, exe->bias, exe->start, exe->end,
                                           exe->build_id, exe->build_id_len),
                     0);
    assert_int_equal(vt_symbols_lookup(s, ra, 1, f, MAX_FRAMES), 1);
    assert_string_equal(f[0].function, "call_site");
    assert_int_equal(f[0].line, line);
    vt_symbols_free(s);
}

static void test_build_id_mismatch(void **state)
{
    (void)state;
    const struct self_module *exe = self_exe();
    if (exe->build_id_len == 0)
        skip();
    uint8_t wrong[sizeof exe->build_id];
    memcpy(wrong, exe->build_id, exe->build_id_len);
    wrong[exe->build_id_len - 1] ^= 0xff;

    vt_symbols *s = vt_symbols_new();
    assert_non_null(s);
    assert_int_equal(vt_symbols_add_module(s, exe->path, exe->bias, exe->start, exe->end, wrong,
                                           exe->build_id_len),
                     0);
    int line = 0;
    uint64_t ra = call_site(&line);
    vt_frame_info f[MAX_FRAMES];
    /* The file on disk is not the one that ran: no name is better than a wrong one. */
    assert_int_equal(vt_symbols_lookup(s, ra, 1, f, MAX_FRAMES), 1);
    assert_null(f[0].function);
    assert_string_equal(f[0].module, exe->path);
    vt_symbols_free(s);
}

static void test_debug_file_by_build_id(void **state)
{
    (void)state;
    const struct self_module *libc = self_module_named("libc.so");
    if (libc == NULL || libc->build_id_len < 2)
        skip();
    char debug_path[PATH_MAX];
    int n = snprintf(debug_path, sizeof debug_path, "/usr/lib/debug/.build-id/%02x/",
                     libc->build_id[0]);
    for (size_t i = 1; i < libc->build_id_len; i++)
        n += snprintf(debug_path + n, sizeof debug_path - (size_t)n, "%02x", libc->build_id[i]);
    snprintf(debug_path + n, sizeof debug_path - (size_t)n, ".debug");
    if (access(debug_path, R_OK) != 0)
        skip(); /* libc's separate debug file (libc6-dbg) is not installed */

    /* The library itself is gone; its separate debug file, found by build-id, stands in. */
    vt_symbols *s = vt_symbols_new();
    assert_non_null(s);
    assert_int_equal(vt_symbols_add_module(s, "/nonexistent/libc.so.6", libc->bias, libc->start,
                                           libc->end, libc->build_id, libc->build_id_len),
                     0);
    void *fn = dlsym(RTLD_DEFAULT, "getpid");
    assert_non_null(fn);
    vt_frame_info f[MAX_FRAMES];
    int count = vt_symbols_lookup(s, (uint64_t)(uintptr_t)fn, 0, f, MAX_FRAMES);
    assert_true(count >= 1);
    assert_non_null(f[count - 1].function);
    assert_non_null(strstr(f[count - 1].function, "getpid"));
    assert_string_equal(f[count - 1].module, "/nonexistent/libc.so.6");
    vt_symbols_free(s);
}

static void test_cached_results(void **state)
{
    (void)state;
    vt_symbols *s = new_self_symbols();
    int line = 0;
    uint64_t ra = call_site(&line);
    vt_frame_info a[MAX_FRAMES], b[MAX_FRAMES], c[MAX_FRAMES];
    assert_int_equal(vt_symbols_lookup(s, ra, 1, a, MAX_FRAMES), 1);
    assert_int_equal(vt_symbols_lookup(s, ra, 1, b, MAX_FRAMES), 1);
    assert_ptr_equal(a[0].function, b[0].function);
    assert_ptr_equal(a[0].file, b[0].file);
    assert_ptr_equal(a[0].module, b[0].module);
    assert_int_equal(a[0].line, b[0].line);

    /* The return address and the address before it are the same lookup; offsets stay exact. */
    assert_int_equal(vt_symbols_lookup(s, ra - 1, 0, c, MAX_FRAMES), 1);
    assert_ptr_equal(c[0].function, a[0].function);
    assert_int_equal(c[0].line, line);
    assert_int_equal(c[0].offset + 1, a[0].offset);

    /* Many distinct addresses grow the cache and keep earlier results. */
    const struct self_module *exe = self_exe();
    for (uint64_t addr = exe->start; addr < exe->end && addr < exe->start + 4096; addr += 3)
        assert_true(vt_symbols_lookup(s, addr, 0, c, MAX_FRAMES) >= 1);
    assert_int_equal(vt_symbols_lookup(s, ra, 1, c, MAX_FRAMES), 1);
    assert_ptr_equal(c[0].function, a[0].function);
    assert_int_equal(c[0].line, line);
    vt_symbols_free(s);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    vt_symbols *s = vt_symbols_new();
    assert_non_null(s);
    vt_frame_info f;
    assert_int_equal(vt_symbols_add_module(s, NULL, 0, 0, 1, NULL, 0), VT_EINVAL);
    assert_int_equal(vt_symbols_add_module(s, "/x", 0, 2, 1, NULL, 0), VT_EINVAL);
    assert_int_equal(vt_symbols_add_module(NULL, "/x", 0, 0, 1, NULL, 0), VT_EINVAL);
    assert_int_equal(vt_symbols_lookup(NULL, 1, 0, &f, 1), VT_EINVAL);
    assert_int_equal(vt_symbols_lookup(s, 1, 0, NULL, 1), VT_EINVAL);
    assert_int_equal(vt_symbols_lookup(s, 1, 0, &f, 0), 0);
    vt_symbols_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_free),
        cmocka_unit_test(test_return_address_line),
        cmocka_unit_test(test_function_address),
        cmocka_unit_test(test_inlined_frames),
        cmocka_unit_test(test_cxx_demangling),
        cmocka_unit_test(test_libc_function),
        cmocka_unit_test(test_unknown_address),
        cmocka_unit_test(test_missing_module_file),
        cmocka_unit_test(test_later_module_wins),
        cmocka_unit_test(test_build_id_mismatch),
        cmocka_unit_test(test_debug_file_by_build_id),
        cmocka_unit_test(test_cached_results),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, setup_group, NULL);
}

/* The interposed functions. Each one only forwards: it resolves the real function once, lets
 * the calling thread's state decide whether to record, and hands the event to thread.c.
 * Allocations that dlsym makes while the real functions are being looked up come from a small
 * static pool. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/sampler.h"

#define VT_EXPORT __attribute__((visibility("default")))

static struct {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    /* NULL when the allocator that serves malloc does not provide it (see resolve()) */
    size_t (*malloc_usable_size)(void *);
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    void *(*mmap64)(void *, size_t, int, int, int, off_t);
    int (*munmap)(void *, size_t);
    void *(*mremap)(void *, size_t, size_t, int, ...);
    void *(*dlopen)(const char *, int);
    int (*dlclose)(void *);
    void (*_exit)(int) __attribute__((noreturn));
    void (*exit)(int) __attribute__((noreturn));
    int (*__libc_start_main)(int (*)(int, char **, char **), int, char **, void (*)(void),
                             void (*)(void), void (*)(void), void *);
    void (*_Exit)(int) __attribute__((noreturn));
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
} real;

/* C++ allocation functions, looked up on first use: the program may load libstdc++ late. */
enum {
    NEW,
    NEW_ARRAY,
    NEW_NOTHROW,
    NEW_ARRAY_NOTHROW,
    NEW_ALIGN,
    NEW_ARRAY_ALIGN,
    NEW_ALIGN_NOTHROW,
    NEW_ARRAY_ALIGN_NOTHROW,
    DELETE,
    DELETE_ARRAY,
    DELETE_SIZED,
    DELETE_ARRAY_SIZED,
    DELETE_ALIGN,
    DELETE_ARRAY_ALIGN,
    DELETE_SIZED_ALIGN,
    DELETE_ARRAY_SIZED_ALIGN,
    DELETE_NOTHROW,
    DELETE_ARRAY_NOTHROW,
    DELETE_ALIGN_NOTHROW,
    DELETE_ARRAY_ALIGN_NOTHROW,
    N_CXX
};
static const char *const cxx_names[N_CXX] = {
    "_Znwm",
    "_Znam",
    "_ZnwmRKSt9nothrow_t",
    "_ZnamRKSt9nothrow_t",
    "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t",
    "_ZnwmSt11align_val_tRKSt9nothrow_t",
    "_ZnamSt11align_val_tRKSt9nothrow_t",
    "_ZdlPv",
    "_ZdaPv",
    "_ZdlPvm",
    "_ZdaPvm",
    "_ZdlPvSt11align_val_t",
    "_ZdaPvSt11align_val_t",
    "_ZdlPvmSt11align_val_t",
    "_ZdaPvmSt11align_val_t",
    "_ZdlPvRKSt9nothrow_t",
    "_ZdaPvRKSt9nothrow_t",
    "_ZdlPvSt11align_val_tRKSt9nothrow_t",
    "_ZdaPvSt11align_val_tRKSt9nothrow_t",
};
static void *cxx[N_CXX];
/* Whether cxx[i] is the C++ library's own, which takes its memory from malloc: only then may
 * malloc_usable_size be asked about its blocks. */
static unsigned char cxx_from_malloc[N_CXX];

static _Alignas(64) uint8_t boot_pool[256 * 1024];
static size_t boot_used;
static int resolving;

static void *boot_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    size_t at = (boot_used + align - 1) & ~(align - 1);
    if (at + n > sizeof(boot_pool))
        return NULL;
    boot_used = at + n;
    return boot_pool + at;
}

static int is_boot(const void *p)
{
    return (const uint8_t *)p >= boot_pool && (const uint8_t *)p < boot_pool + sizeof(boot_pool);
}

#define RESOLVE(name) real.name = (__typeof__(real.name))dlsym(RTLD_NEXT, #name)

static void resolve(void)
{
    resolving = 1;
    RESOLVE(malloc);
    RESOLVE(free);
    RESOLVE(calloc);
    RESOLVE(realloc);
    RESOLVE(reallocarray);
    RESOLVE(posix_memalign);
    RESOLVE(aligned_alloc);
    RESOLVE(memalign);
    RESOLVE(valloc);
    RESOLVE(pvalloc);
    RESOLVE(malloc_usable_size);
    RESOLVE(mmap);
    RESOLVE(mmap64);
    RESOLVE(munmap);
    RESOLVE(mremap);
    RESOLVE(dlopen);
    RESOLVE(dlclose);
    RESOLVE(_exit);
    RESOLVE(exit);
    RESOLVE(__libc_start_main);
    RESOLVE(_Exit);
    RESOLVE(execve);
    RESOLVE(execvpe);
    RESOLVE(fexecve);
    RESOLVE(pthread_create);
    /* malloc_usable_size is asked about blocks malloc made: both must come from the same
     * allocator (a replacement malloc without it would leave the C library's in its place). */
    Dl_info a, b;
    if (!real.malloc || !real.malloc_usable_size || !dladdr((void *)real.malloc, &a) ||
        !dladdr((void *)real.malloc_usable_size, &b) || a.dli_fbase != b.dli_fbase)
        real.malloc_usable_size = NULL;
    resolving = 0;
}

/* The usable size of block p, made for a request of n bytes: what the allocator really set
 * aside for it (n when it cannot be asked). */
static inline size_t usable(void *p, size_t n)
{
    return real.malloc_usable_size ? real.malloc_usable_size(p) : n;
}

/* The first hook to run sets the agent up; until the real functions are known, dlsym's own
 * allocations are served from the boot pool. Returns 1 when the caller must use the pool. */
static inline int starting(void)
{
    if (likely(atomic_load_explicit(&vt__initialized, memory_order_acquire)))
        return 0;
    if (resolving)
        return 1;
    if (!real.malloc)
        resolve();
    vt__agent_init();
    return 0;
}

static void *cxx_fn(int which)
{
    void *f = cxx[which];
    if (unlikely(!f)) {
        f = dlsym(RTLD_NEXT, cxx_names[which]);
        Dl_info info;
        cxx_from_malloc[which] =
            f && dladdr(f, &info) && info.dli_fname &&
            (strstr(info.dli_fname, "libstdc++") || strstr(info.dli_fname, "libc++"));
        cxx[which] = f;
    }
    return f;
}

VT_EXPORT void *malloc(size_t n)
{
    if (unlikely(starting()))
        return boot_alloc(n, 16);
    struct vt_thread *t = vt__enter();
    void *p = real.malloc(n);
    if (t) {
        if (likely(p))
            vt__track_alloc(t, VT_FN_MALLOC, p, n, usable(p, n));
        vt__leave(t);
    }
    return p;
}

VT_EXPORT void free(void *p)
{
    if (unlikely(!p || is_boot(p)))
        return;
    if (unlikely(starting()))
        return;
    struct vt_thread *t = vt__enter();
    if (t) {
        /* Report the free first, so the address cannot be reused in between. */
        vt__track_free(t, VT_FN_FREE, p, vt__now());
        real.free(p);
        vt__leave(t);
        return;
    }
    real.free(p);
}

VT_EXPORT void *calloc(size_t n, size_t size)
{
    if (unlikely(starting())) {
        size_t total;
        if (__builtin_mul_overflow(n, size, &total))
            return NULL;
        return boot_alloc(total, 16); /* the pool is zeroed and never reused */
    }
    struct vt_thread *t = vt__enter();
    void *p = real.calloc(n, size);
    if (t) {
        if (likely(p))
            vt__track_alloc(t, VT_FN_CALLOC, p, n * size, usable(p, n * size));
        vt__leave(t);
    }
    return p;
}

static void *realloc_common(void *old, size_t n, int fn, void *(*call)(void *, size_t, size_t),
                            size_t a, size_t b)
{
    if (unlikely(is_boot(old))) {
        void *p = real.malloc(n);
        if (p) {
            size_t room = (size_t)(boot_pool + sizeof(boot_pool) - (uint8_t *)old);
            memcpy(p, old, n < room ? n : room);
        }
        return p;
    }
    struct vt_thread *t = vt__enter();
    if (!t)
        return call(old, a, b);
    /* The old block is released inside the call: its time is taken before, so that another
     * thread reusing the address is seen after the release. */
    uint64_t free_tsc = vt__now();
    void *p = call(old, a, b);
    if (p)
        vt__track_realloc(t, fn, old, free_tsc, p, n, usable(p, n));
    else if (old && n == 0)
        vt__track_free(t, fn, old, free_tsc); /* realloc(p, 0) freed p */
    vt__leave(t);
    return p;
}

static void *call_realloc(void *old, size_t a, size_t b)
{
    (void)b;
    return real.realloc(old, a);
}

static void *call_reallocarray(void *old, size_t a, size_t b)
{
    return real.reallocarray(old, a, b);
}

VT_EXPORT void *realloc(void *old, size_t n)
{
    if (unlikely(starting())) {
        void *p = boot_alloc(n, 16);
        if (p && old)
            memcpy(p, old, n); /* both in the pool, which is larger than any request */
        return p;
    }
    return realloc_common(old, n, VT_FN_REALLOC, call_realloc, n, 0);
}

VT_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (unlikely(starting()))
        return realloc(old, total);
    return realloc_common(old, total, VT_FN_REALLOCARRAY, call_reallocarray, n, size);
}

VT_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (unlikely(starting())) {
        *out = boot_alloc(n, align);
        return *out ? 0 : ENOMEM;
    }
    struct vt_thread *t = vt__enter();
    int r = real.posix_memalign(out, align, n);
    if (t) {
        if (r == 0)
            vt__track_alloc(t, VT_FN_POSIX_MEMALIGN, *out, n, usable(*out, n));
        vt__leave(t);
    }
    return r;
}

#define ALIGNED_HOOK(name, fn, params, args, size)                                                 \
    VT_EXPORT void *name params                                                                    \
    {                                                                                              \
        if (unlikely(starting()))                                                                  \
            return boot_alloc(size, 4096);                                                         \
        struct vt_thread *t = vt__enter();                                                         \
        void *p = real.name args;                                                                  \
        if (t) {                                                                                   \
            if (likely(p))                                                                         \
                vt__track_alloc(t, fn, p, size, usable(p, size));                                  \
            vt__leave(t);                                                                          \
        }                                                                                          \
        return p;                                                                                  \
    }

ALIGNED_HOOK(aligned_alloc, VT_FN_ALIGNED_ALLOC, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(memalign, VT_FN_MEMALIGN, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(valloc, VT_FN_VALLOC, (size_t n), (n), n)
ALIGNED_HOOK(pvalloc, VT_FN_PVALLOC, (size_t n), (n), n)

/* operator new and new[] in all their forms. */
#define NEW_HOOK(sym, which, fn, params, args, type)                                               \
    VT_EXPORT void *sym params                                                                     \
    {                                                                                              \
        starting();                                                                                \
        struct vt_thread *t = vt__enter();                                                         \
        void *p = ((type)cxx_fn(which))args;                                                       \
        if (t) {                                                                                   \
            if (likely(p))                                                                         \
                vt__track_alloc(t, fn, p, n, cxx_from_malloc[which] ? usable(p, n) : n);           \
            vt__leave(t);                                                                          \
        }                                                                                          \
        return p;                                                                                  \
    }

typedef void *(*new_fn)(size_t);
typedef void *(*new2_fn)(size_t, const void *);
typedef void *(*new_align_fn)(size_t, size_t);
typedef void *(*new_align2_fn)(size_t, size_t, const void *);
NEW_HOOK(_Znwm, NEW, VT_FN_NEW, (size_t n), (n), new_fn)
NEW_HOOK(_Znam, NEW_ARRAY, VT_FN_NEW_ARRAY, (size_t n), (n), new_fn)
NEW_HOOK(_ZnwmRKSt9nothrow_t, NEW_NOTHROW, VT_FN_NEW, (size_t n, const void *nt), (n, nt), new2_fn)
NEW_HOOK(_ZnamRKSt9nothrow_t, NEW_ARRAY_NOTHROW, VT_FN_NEW_ARRAY, (size_t n, const void *nt),
         (n, nt), new2_fn)
NEW_HOOK(_ZnwmSt11align_val_t, NEW_ALIGN, VT_FN_NEW, (size_t n, size_t al), (n, al), new_align_fn)
NEW_HOOK(_ZnamSt11align_val_t, NEW_ARRAY_ALIGN, VT_FN_NEW_ARRAY, (size_t n, size_t al), (n, al),
         new_align_fn)
NEW_HOOK(_ZnwmSt11align_val_tRKSt9nothrow_t, NEW_ALIGN_NOTHROW, VT_FN_NEW,
         (size_t n, size_t al, const void *nt), (n, al, nt), new_align2_fn)
NEW_HOOK(_ZnamSt11align_val_tRKSt9nothrow_t, NEW_ARRAY_ALIGN_NOTHROW, VT_FN_NEW_ARRAY,
         (size_t n, size_t al, const void *nt), (n, al, nt), new_align2_fn)

/* operator delete and delete[] in all their forms. */
#define DELETE_HOOK(sym, which, fn, params, args, type)                                            \
    VT_EXPORT void sym params                                                                      \
    {                                                                                              \
        if (!p)                                                                                    \
            return;                                                                                \
        starting();                                                                                \
        struct vt_thread *t = vt__enter();                                                         \
        if (t)                                                                                     \
            vt__track_free(t, fn, p, vt__now());                                                   \
        ((type)cxx_fn(which)) args;                                                                \
        if (t)                                                                                     \
            vt__leave(t);                                                                          \
    }

typedef void (*del_fn)(void *);
typedef void (*del2_fn)(void *, size_t);
typedef void (*del3_fn)(void *, size_t, size_t);
typedef void (*delp_fn)(void *, const void *);
typedef void (*del2p_fn)(void *, size_t, const void *);
DELETE_HOOK(_ZdlPv, DELETE, VT_FN_DELETE, (void *p), (p), del_fn)
DELETE_HOOK(_ZdaPv, DELETE_ARRAY, VT_FN_DELETE_ARRAY, (void *p), (p), del_fn)
DELETE_HOOK(_ZdlPvm, DELETE_SIZED, VT_FN_DELETE, (void *p, size_t n), (p, n), del2_fn)
DELETE_HOOK(_ZdaPvm, DELETE_ARRAY_SIZED, VT_FN_DELETE_ARRAY, (void *p, size_t n), (p, n), del2_fn)
DELETE_HOOK(_ZdlPvSt11align_val_t, DELETE_ALIGN, VT_FN_DELETE, (void *p, size_t al), (p, al),
            del2_fn)
DELETE_HOOK(_ZdaPvSt11align_val_t, DELETE_ARRAY_ALIGN, VT_FN_DELETE_ARRAY, (void *p, size_t al),
            (p, al), del2_fn)
DELETE_HOOK(_ZdlPvmSt11align_val_t, DELETE_SIZED_ALIGN, VT_FN_DELETE,
            (void *p, size_t n, size_t al), (p, n, al), del3_fn)
DELETE_HOOK(_ZdaPvmSt11align_val_t, DELETE_ARRAY_SIZED_ALIGN, VT_FN_DELETE_ARRAY,
            (void *p, size_t n, size_t al), (p, n, al), del3_fn)
DELETE_HOOK(_ZdlPvRKSt9nothrow_t, DELETE_NOTHROW, VT_FN_DELETE, (void *p, const void *nt), (p, nt),
            delp_fn)
DELETE_HOOK(_ZdaPvRKSt9nothrow_t, DELETE_ARRAY_NOTHROW, VT_FN_DELETE_ARRAY,
            (void *p, const void *nt), (p, nt), delp_fn)
DELETE_HOOK(_ZdlPvSt11align_val_tRKSt9nothrow_t, DELETE_ALIGN_NOTHROW, VT_FN_DELETE,
            (void *p, size_t al, const void *nt), (p, al, nt), del2p_fn)
DELETE_HOOK(_ZdaPvSt11align_val_tRKSt9nothrow_t, DELETE_ARRAY_ALIGN_NOTHROW, VT_FN_DELETE_ARRAY,
            (void *p, size_t al, const void *nt), (p, al, nt), del2p_fn)

/* Anonymous mappings are the "mapped" category; file mappings are not heap. */
static void *mmap_common(void *(*call)(void *, size_t, int, int, int, off_t), void *addr,
                         size_t len, int prot, int flags, int fd, off_t off)
{
    starting();
    struct vt_thread *t = (flags & MAP_ANONYMOUS) ? vt__enter() : NULL;
    void *p = call(addr, len, prot, flags, fd, off);
    if (t) {
        if (p != MAP_FAILED)
            vt__track_mmap(t, p, len);
        vt__leave(t);
    }
    return p;
}

VT_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (unlikely(!real.mmap))
        resolve();
    return mmap_common(real.mmap, addr, len, prot, flags, fd, off);
}

VT_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (unlikely(!real.mmap64))
        resolve();
    return mmap_common(real.mmap64, addr, len, prot, flags, fd, off);
}

VT_EXPORT int munmap(void *addr, size_t len)
{
    if (unlikely(!real.munmap))
        resolve();
    starting();
    struct vt_thread *t = vt__enter();
    if (t)
        vt__track_munmap(t, addr, len);
    int r = real.munmap(addr, len);
    if (t)
        vt__leave(t);
    return r;
}

VT_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    void *new_addr = va_arg(ap, void *);
    va_end(ap);
    if (unlikely(!real.mremap))
        resolve();
    starting();
    struct vt_thread *t = vt__enter();
    void *p = real.mremap(old, old_len, new_len, flags, new_addr);
    if (t) {
        /* Only anonymous mappings were recorded; the reader ignores unknown ranges. */
        if (p != MAP_FAILED) {
            vt__track_munmap(t, old, old_len);
            vt__track_mmap(t, p, new_len);
        }
        vt__leave(t);
    }
    return p;
}

VT_EXPORT void *dlopen(const char *file, int mode)
{
    starting();
    void *h = real.dlopen(file, mode);
    vt__modules_dirty();
    return h;
}

VT_EXPORT int dlclose(void *h)
{
    starting();
    vt__modules_sync();
    int r = real.dlclose(h);
    vt__unwind_code_changed();
    vt__modules_dirty();
    return r;
}

/* exit() and main's return value give the exit status, which the flush at the end of the
 * process (a destructor) could not learn otherwise. */
VT_EXPORT void exit(int status)
{
    starting();
    vt__note_exit_status(status);
    vt__scrub_stack();
    real.exit(status);
}

static int (*program_main)(int, char **, char **);

static int main_wrapper(int argc, char **argv, char **envp)
{
    int status = program_main(argc, argv, envp);
    vt__note_exit_status(status);
    vt__scrub_stack();
    return status;
}

VT_EXPORT int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
                                void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
                                void *stack_end)
{
    if (unlikely(!real.__libc_start_main))
        resolve();
    program_main = main;
    return real.__libc_start_main(main_wrapper, argc, argv, init, fini, rtld_fini, stack_end);
}

VT_EXPORT void _exit(int status)
{
    starting();
    vt__final_flush(VT_END__EXIT, status, 0);
    real._exit(status);
}

VT_EXPORT void _Exit(int status)
{
    starting();
    vt__final_flush(VT_END__EXIT, status, 0);
    real._Exit(status);
}

/* A thread made with pthread_create starts in thread_start, which lets the CPU sampler open
 * the thread's events before the program's start routine runs (sampler.c). The agent's own
 * threads (made with the guard set) and all threads when nothing is sampled start as asked. */
struct start_arg {
    void *(*fn)(void *);
    void *arg;
};

static void *thread_start(void *p)
{
    struct start_arg a = *(struct start_arg *)p;
    real.free(p);
    vt__guard = 1; /* what the sampler maps for the thread is the agent's own */
    vt__sampler_thread_start();
    vt__guard = 0;
    return a.fn(a.arg);
}

VT_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
                             void *arg)
{
    if (unlikely(!real.pthread_create))
        resolve();
    starting();
    struct start_arg *a = NULL;
    if (!vt__guard && vt__sampler_thread_wanted() && (a = real.malloc(sizeof(*a)))) {
        a->fn = fn;
        a->arg = arg;
        int err = real.pthread_create(th, attr, thread_start, a);
        if (err)
            real.free(a);
        return err;
    }
    return real.pthread_create(th, attr, fn, arg);
}

/* exec replaces the image without running destructors: the trace is written first, and
 * tracing resumes if exec fails (the result, with its errno, is passed through). */
static int after_exec(int r)
{
    int e = errno;
    vt__resume_after_exec_failure();
    errno = e;
    return r;
}

VT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    starting();
    vt__flush_before_exec(path);
    return after_exec(real.execve(path, argv, envp));
}

VT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    starting();
    vt__flush_before_exec(file);
    return after_exec(real.execvpe(file, argv, envp));
}

VT_EXPORT int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

VT_EXPORT int execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

VT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    starting();
    vt__flush_before_exec("(fexecve)");
    return after_exec(real.fexecve(fd, argv, envp));
}

/* Collects the variadic arguments of the execl family into an argv array. */
#define COLLECT_ARGS(arg0, last, extra)                                                            \
    va_list ap;                                                                                    \
    size_t argc = 1;                                                                               \
    va_start(ap, arg0);                                                                            \
    while (va_arg(ap, char *))                                                                     \
        argc++;                                                                                    \
    va_end(ap);                                                                                    \
    char **argv = __builtin_alloca((argc + 1) * sizeof(char *));                                   \
    argv[0] = (char *)arg0;                                                                        \
    va_start(ap, arg0);                                                                            \
    for (size_t i = 1; i <= argc; i++)                                                             \
        argv[i] = va_arg(ap, char *);                                                              \
    extra;                                                                                         \
    va_end(ap)

VT_EXPORT int execl(const char *path, const char *arg, ...)
{
    COLLECT_ARGS(arg, NULL, (void)0);
    return execve(path, argv, environ);
}

VT_EXPORT int execlp(const char *file, const char *arg, ...)
{
    COLLECT_ARGS(arg, NULL, (void)0);
    return execvpe(file, argv, environ);
}

VT_EXPORT int execle(const char *path, const char *arg, ...)
{
    char *const *envp;
    COLLECT_ARGS(arg, NULL, envp = va_arg(ap, char *const *));
    return execve(path, argv, envp);
}

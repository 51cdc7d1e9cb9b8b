/* Start-up of the agent: configuration from the environment that `vitals run` prepares, the
 * trace path, fork and fatal-signal handling, and the flush at exit. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/zone_agg.h"
#include "agent/sampler.h"
#include "agent/zone_counters.h"
#include "util/error.h"

_Atomic int vt__state;
_Atomic int vt__initialized;
struct vt_config vt__config = {.depth = 64, .zstd_level = 1};

static char out_dir[4096];
static char prog_name[256];

/* Parses a decimal environment value; def when absent or malformed. */
static long env_long(const char *name, long def, long lo, long hi)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    long v = strtol(s, &end, 10);
    return *end || v < lo || v > hi ? def : v;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Appends s at *n in dst (capacity cap); returns -1 when it does not fit. */
static int append(char *dst, size_t cap, size_t *n, const char *s)
{
    size_t l = strlen(s);
    if (*n + l >= cap)
        return -1;
    memcpy(dst + *n, s, l + 1);
    *n += l;
    return 0;
}

void vt__utoa(unsigned long v, char *out)
{
    char tmp[24];
    int i = 0;
    do
        tmp[i++] = (char)('0' + v % 10);
    while (v /= 10);
    while (i)
        *out++ = tmp[--i];
    *out = 0;
}

int vt__pick_output(void)
{
    if (vt__config.output[0])
        return 0;
    char pid[24], num[24];
    vt__utoa((unsigned long)getpid(), pid);
    for (unsigned k = 0; k < 1000; k++) {
        size_t n = 0;
        char *o = vt__config.output;
        size_t cap = sizeof(vt__config.output);
        if ((out_dir[0] && (append(o, cap, &n, out_dir) || append(o, cap, &n, "/"))) ||
            append(o, cap, &n, "vitals.") || append(o, cap, &n, prog_name) ||
            append(o, cap, &n, ".") || append(o, cap, &n, pid))
            return VT_EINVAL;
        if (k) {
            vt__utoa(k, num);
            if (append(o, cap, &n, ".") || append(o, cap, &n, num))
                return VT_EINVAL;
        }
        if (append(o, cap, &n, ".vtr"))
            return VT_EINVAL;
        if (access(o, F_OK) != 0)
            return 0;
    }
    return VT_EINVAL;
}

static void set_prog_name(void)
{
    char *exe = vt__config.exe;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(vt__config.exe) - 1);
    exe[n > 0 ? n : 0] = 0;
    const char *base = strrchr(exe, '/');
    copy_str(prog_name, sizeof(prog_name), base ? base + 1 : (n > 0 ? exe : "program"));
}

/* Removes this library from LD_PRELOAD in place (no allocation), so that programs the target
 * executes are not traced unless --follow asked for it. */
static void drop_from_preload(const char *self_path)
{
    extern char **environ;
    const char *self_base = strrchr(self_path, '/');
    self_base = self_base ? self_base + 1 : self_path;
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
            continue;
        char *w = *e + 11, *r = w;
        while (*r) {
            size_t len = strcspn(r, ": ");
            const char *slash = memrchr(r, '/', len);
            const char *base = slash ? slash + 1 : r;
            size_t blen = len - (size_t)(base - r);
            int mine = blen == strlen(self_base) && memcmp(base, self_base, blen) == 0;
            if (!mine) {
                if (w != *e + 11)
                    *w++ = ':';
                memmove(w, r, len);
                w += len;
            }
            r += len;
            while (*r == ':' || *r == ' ')
                r++;
        }
        *w = 0;
        if (!(*e)[11]) {
            /* Nothing else was preloaded: remove the variable altogether. */
            char **d = e;
            do
                d[0] = d[1];
            while (*d++);
        }
        return;
    }
}

/* Takes VITALS_OUTPUT for this image only: blanked in place, a later image started by exec
 * with --follow picks its own name. */
static void take_output(void)
{
    extern char **environ;
    const char *want_pid = getenv("VITALS_OUTPUT_PID");
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "VITALS_OUTPUT=", 14) == 0 && (*e)[14]) {
            if (!want_pid || strtol(want_pid, NULL, 10) == getpid())
                copy_str(vt__config.output, sizeof(vt__config.output), *e + 14);
            (*e)[14] = 0;
        }
    }
}

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t base = (uintptr_t)arg;
    if (info->dlpi_addr != base)
        return 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        lo = s < lo ? s : lo;
        hi = e > hi ? e : hi;
    }
    vt__set_agent_range(lo, hi);
    return 1;
}

static const int fatal_signals[] = {SIGHUP,  SIGINT, SIGQUIT, SIGILL,  SIGTRAP, SIGABRT,
                                    SIGBUS,  SIGFPE, SIGSEGV, SIGPIPE, SIGTERM, SIGXCPU,
                                    SIGXFSZ, SIGSYS, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM};

/* A signal whose default action ends the process: write the trace, then let the default
 * action happen exactly as it would have. */
static void on_fatal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int saved = errno;
    vt__final_flush(VT_END_SIGNAL, sig, 1);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    errno = saved;
    int synchronous = si && si->si_code > 0 &&
                      (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
                       sig == SIGTRAP || sig == SIGSYS);
    if (synchronous)
        return; /* the faulting instruction runs again and the default action follows */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

static void install_signal_handlers(void)
{
    for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
        struct sigaction old;
        if (sigaction(fatal_signals[i], NULL, &old) != 0)
            continue;
        /* Leave ignored signals ignored and the program's own handlers alone. */
        if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
            continue;
        struct sigaction sa = {.sa_sigaction = on_fatal};
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal_signals[i], &sa, NULL);
    }
}

_Atomic int vt__forking;
static _Atomic int own_pid;

int vt__own_process(void)
{
    return (int)getpid() == atomic_load_explicit(&own_pid, memory_order_relaxed);
}

/* Before fork: no thread of ours may hold a lock the child would inherit held. Threads leave
 * the hooks (new ones wait at the door) and the writer finishes any walk of the module list. */
static void before_fork(void)
{
    if (atomic_load(&vt__state) == VT_STATE_OFF || vt__guard)
        return;
    int guard = vt__guard;
    vt__guard = 1;
    atomic_store(&vt__forking, 1);
    vt__barrier();
    for (struct vt_thread *t = vt__threads(); t; t = t->next_all) {
        if (t == vt__self)
            continue;
        for (int i = 0; i < 100000 && atomic_load(&t->in_hook); i++)
            sched_yield();
    }
    vt__modules_lock(1);
    vt__guard = guard;
}

static void after_fork_parent(void)
{
    if (!atomic_load(&vt__forking))
        return;
    vt__modules_lock(0);
    atomic_store(&vt__forking, 0);
}

static void after_fork_child(void)
{
    if (atomic_load(&vt__forking)) {
        vt__modules_lock_reset();
        atomic_store(&vt__forking, 0);
    }
    if (atomic_load(&vt__state) == VT_STATE_OFF)
        return;
    int guard = vt__guard;
    vt__guard = 1; /* what the agent maps for the child is its own */
    atomic_store(&own_pid, (int)getpid());
    vt__config.output[0] = 0; /* the child writes its own trace, named with its pid */
    vt__flush_after_fork_child();
    vt__guard = guard;
}

void vt__agent_init(void)
{
    static int in_init;
    if (in_init || atomic_load(&vt__initialized))
        return;
    in_init = 1;
    int guard = vt__guard;
    vt__guard = 1;
    atomic_store(&own_pid, (int)getpid());

    Dl_info self;
    memset(&self, 0, sizeof(self));
    if (dladdr((void *)vt__agent_init, &self) && self.dli_fbase)
        dl_iterate_phdr(find_self, self.dli_fbase);

    vt__config.depth = (int)env_long("VITALS_DEPTH", 64, 1, VT_MAX_DEPTH);
    vt__config.follow = (int)env_long("VITALS_FOLLOW", 0, 0, 1);
    vt__config.zstd_level = (int)env_long("VITALS_ZSTD_LEVEL", 1, -7, 19);
    vt__config.leak_check = (int)env_long("VITALS_LEAK_CHECK", 1, 0, 1);
    vt__config.no_alloc = (int)env_long("VITALS_ALLOC", 1, 0, 1) == 0;
    vt__config.zone_spans = env_long("VITALS_ZONE_SPANS", VT_ZONE_SPANS_DEFAULT, 0, 1000000000);
    if (vt__zones_only)
        vt__config.leak_check = 0; /* no allocation is recorded */
    const char *s = getenv("VITALS_MANIFEST");
    if (s)
        copy_str(vt__config.manifest, sizeof(vt__config.manifest), s);
    s = getenv("VITALS_DIR");
    if (s)
        copy_str(out_dir, sizeof(out_dir), s);
    set_prog_name();
    take_output();
    if (!vt__config.follow && self.dli_fname)
        drop_from_preload(self.dli_fname);

    if (vt__stacks_init() != 0 || vt__merge_init() != 0 ||
        vt__unwind_init((int)env_long("VITALS_CHECK_UNWIND", 0, 0, 1)) != 0) {
        vt__say("cannot reserve memory for call stacks; the program runs untraced");
        goto out;
    }
    vt__thread_key_init();
    vt__membarrier_init();
    vt__clock_init();
    vt__zagg_init();
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    install_signal_handlers();
    atomic_store(&vt__state, VT_STATE_TRACING);
    vt__sampler_init();
    vt__zc_init();
    vt__writer_start();
out:
    atomic_store(&vt__initialized, 1);
    vt__guard = guard;
}

int vt__preloaded(void)
{
    Dl_info program_malloc, self;
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    return m && dladdr(m, &program_malloc) && dladdr((void *)vt__preloaded, &self) &&
           program_malloc.dli_fbase == self.dli_fbase;
}

__attribute__((constructor)) static void agent_ctor(void)
{
    /* Loaded by libvitals with dlopen (VITALS_TRACE), the agent's malloc is not the program's:
     * it waits for libvitals to start it in zones-only mode (zones.c). */
    if (!atomic_load(&vt__initialized) && !vt__preloaded())
        return;
    vt__agent_init();
}

static _Atomic int exit_status_known;
static int exit_status;

void vt__note_exit_status(int status)
{
    int expected = 0;
    if (!vt__own_process())
        return;
    if (atomic_compare_exchange_strong(&exit_status_known, &expected, 2)) {
        exit_status = status & 0xff;
        atomic_store(&exit_status_known, 1);
    }
}

__attribute__((destructor)) static void agent_dtor(void)
{
    if (atomic_load(&exit_status_known) == 1)
        vt__final_flush(VT_END_EXIT_STATUS, exit_status, 0);
    else
        vt__final_flush(VT_END_EXIT, 0, 0);
}

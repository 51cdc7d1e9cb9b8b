/* CPU profiling inside the agent: every thread is sampled on its own CPU time, and its stacks
 * reach the trace through the writer thread.
 *
 * Nothing that samples runs code of the program's libraries at the moment of the sample, so a
 * sample cannot deadlock or crash whatever the thread was doing (inside malloc, inside the
 * dynamic loader with its lock held, forking, or in its own signal handler):
 * - with perf events (the default), the kernel takes the sample: a task-clock event per thread
 *   with PERF_SAMPLE_CALLCHAIN walks the user stack by frame pointers, in the kernel, and
 *   writes the record into a ring the writer thread drains every round;
 * - with the timer fallback (perf events refused, or VITALS_CPU_SAMPLER=timer), a POSIX timer
 *   per thread on that thread's CPU clock sends it a signal; the handler copies a bounded slice
 *   of the stack with process_vm_readv (which cannot fault), walks the frame pointers inside
 *   the copy, and stores the addresses in the thread's own ring. It calls nothing but
 *   process_vm_readv and gettid: no loader, no libunwind, no lock.
 * The writer finds threads as they start and end by reading /proc/self/task each round, so
 * threads made by any means are followed, and a forked child samples its own threads. A thread
 * made with pthread_create does not wait for that: before the program's code runs in it, it
 * opens its own events or starts its own timer (vt__sampler_thread_start, from hooks.c) and
 * leaves them for the writer to take over at its next round, so that a thread shorter than a
 * round is profiled whole. */
#include "agent/sampler.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <asm/perf_regs.h>
#include <ucontext.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "collect/perf.h"
#include "util/hash.h"

#define MAX_THREADS 8192
#define MAX_EVENTS 32
#define RING_PAGES 8    /* 32 KiB of records per thread: a round holds about 10 samples */
#define ARENA_SLOTS 512 /* rings side by side (18 MiB of address space, no memory until used) */
#define TIMER_SLOTS 32  /* samples a thread's timer ring holds between two rounds */
#define TIMER_DEPTH 64
#define SLICE (16 * 1024) /* bytes of stack the timer handler copies */
#define CPU_SIGNAL (SIGRTMAX - 3)
#define STACK_WORDS 8 /* words of the user stack each perf sample copies */

/* The timer handler's ring: written by the thread's handler only, read by the writer. A
 * ring is never unmapped (a signal queued before its timer was deleted still points at it):
 * a slot that lets it go puts it on a free list for the next thread, after two rounds of the
 * writer, so that a handler of its former thread still running then is long gone. */
struct tsample {
    uint64_t tsc;
    uint32_t n, overrun;
    uint64_t ip[TIMER_DEPTH];
};
struct tring {
    _Atomic uint32_t head, tail;
    _Atomic uint32_t lost;
    _Atomic int tid;             /* the thread whose handler may write here */
    _Atomic uint64_t end_cpu_ns; /* its CPU time as it ended (a thread made by pthread_create) */
    struct tring *next_free;
    struct tsample s[TIMER_SLOTS];
    uint8_t slice[SLICE];
};
static struct tring *tr_free, *tr_cooling[2]; /* [0] let go this round, [1] the last */
static atomic_flag tr_lock = ATOMIC_FLAG_INIT;
/* The perf rings, unmapped many at a time by the writer after each round (collect/perf.h). */
static vt_perf_arena arena;
static _Atomic uint8_t arena_state[ARENA_SLOTS];
/* A thread that started its own timer leaves its CPU time in its ring as it ends (the key's
 * destructor): the writer, which reads the CPU clocks of live threads only, would otherwise
 * not know that of a thread shorter than a round. */
static pthread_key_t end_key;
static int has_end_key;

struct cthread {
    int used, seen, tid;
    int fd; /* the sampling event, or -1 */
    vt_perf_ring ring;
    int fd_switch; /* --wall: context switches, sampled at each switch-out */
    vt_perf_ring sring;
    int fd_mig, fd_cs, fd_clock;
    int fd_cnt[MAX_EVENTS];
    timer_t timer;
    int has_timer;
    struct tring *tr;
    uint64_t start_tsc, cpu_ns;
    uint64_t samples, lost;
    int off_pending; /* --wall: switched out at off_tsc with stack off_stack */
    uint32_t off_stack;
    uint64_t off_ns;
    char comm[16];
};

struct pend {
    uint64_t tsc, weight;
    uint32_t stack, tid;
    uint32_t kind;
};

/* A user event: perf type and config, from VITALS_EVENTS (the CLI resolves names). */
struct event {
    char name[64];
    uint32_t type;
    uint64_t config, config1, config2;
    int status; /* 0, or the errno of the first failed open */
    int flags;
    int tried;
};

static int hz, wall, counters;
static int sampler; /* VT_SAMPLER_* */
static uint64_t period_ns;
static char note[256];
static struct cthread *threads;
static int n_slots; /* slots ever used: [0, n_slots) */
static struct event events[MAX_EVENTS];
static int n_events;
static struct pend *pend;
static size_t n_pend, cap_pend;
static int announced;
static pid_t writer_tid;
static uint64_t ref_tsc, ref_ns; /* a clock pair, renewed each round */
static uint64_t lost_unrecorded; /* samples with no room in the pending list */

int vt__sampler_on(void)
{
    return sampler != VT_SAMPLER_NONE;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A CLOCK_MONOTONIC time as TSC ticks, through the pair taken at the start of the round: the
 * samples are at most a round old, so the frequency's error hardly matters. */
static uint64_t ns_to_tsc(uint64_t ns)
{
    uint64_t hz_tsc = vt__tsc_hz();
    if (ns >= ref_ns)
        return ref_tsc + (uint64_t)((double)(ns - ref_ns) * (double)hz_tsc / 1e9);
    uint64_t back = (uint64_t)((double)(ref_ns - ns) * (double)hz_tsc / 1e9);
    return back < ref_tsc ? ref_tsc - back : 0;
}

static long env_num(const char *name, long def)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    long v = strtol(s, &end, 10);
    return *end ? def : v;
}

static void set_note(const char *a, const char *b)
{
    size_t n = 0;
    for (const char *p = a; p && *p && n + 1 < sizeof(note); p++)
        note[n++] = *p;
    for (const char *p = b; p && *p && n + 1 < sizeof(note); p++)
        note[n++] = *p;
    note[n] = 0;
}

/* VITALS_EVENTS: "name=type:config:config1:config2:flags;..." (decimal), made by vitals run. */
static void parse_events(const char *s)
{
    while (s && *s && n_events < MAX_EVENTS) {
        struct event *e = &events[n_events];
        memset(e, 0, sizeof(*e));
        size_t k = 0;
        while (*s && *s != '=' && *s != ';') {
            if (k + 1 < sizeof(e->name))
                e->name[k++] = *s;
            s++;
        }
        e->name[k] = 0;
        if (*s != '=')
            break;
        s++;
        char *end;
        uint64_t v[5] = {0};
        for (int i = 0; i < 5; i++) {
            v[i] = strtoull(s, &end, 10);
            s = end;
            if (*s == ':')
                s++;
        }
        e->type = (uint32_t)v[0];
        e->config = v[1];
        e->config1 = v[2];
        e->config2 = v[3];
        e->flags = (int)v[4];
        n_events++;
        while (*s && *s != ';')
            s++;
        if (*s == ';')
            s++;
    }
}

/* The events' file descriptors count against the program's RLIMIT_NOFILE: the sampler keeps
 * to a quarter of it, so that the program never runs out because of it. */
static _Atomic int held_fds;
static int max_fds = 256;

static int ev_open(struct perf_event_attr *a, int tid)
{
    if (atomic_load_explicit(&held_fds, memory_order_relaxed) >= max_fds)
        return -EMFILE;
    int fd = vt_perf_open(a, tid, -1);
    if (fd >= 0)
        atomic_fetch_add_explicit(&held_fds, 1, memory_order_relaxed);
    return fd;
}

static void ev_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        atomic_fetch_sub_explicit(&held_fds, 1, memory_order_relaxed);
    }
    *fd = -1;
}

static struct cthread *find(int tid)
{
    for (int i = 0; i < n_slots; i++)
        if (threads[i].used && threads[i].tid == tid)
            return &threads[i];
    return NULL;
}

static void read_comm(struct cthread *c)
{
    char path[64] = "/proc/self/task/", num[24];
    vt__utoa((unsigned long)c->tid, num);
    strcat(path, num);
    strcat(path, "/comm");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, c->comm, sizeof(c->comm) - 1) : 0;
    if (fd >= 0)
        close(fd);
    n = n < 0 ? 0 : n;
    while (n > 0 && (c->comm[n - 1] == '\n' || c->comm[n - 1] == 0))
        n--;
    c->comm[n] = 0;
}

/* Counts user and kernel mode (context switches and migrations happen in the kernel), or user
 * mode only where perf_event_paranoid allows no more. */
static int open_count(int tid, uint32_t type, uint64_t config, uint64_t c1, uint64_t c2)
{
    struct perf_event_attr a;
    vt_perf_attr_count(&a, type, config);
    a.config1 = c1;
    a.config2 = c2;
    a.exclude_kernel = 0;
    int fd = ev_open(&a, tid);
    if (fd == -EACCES || fd == -EPERM) {
        a.exclude_kernel = 1;
        fd = ev_open(&a, tid);
    }
    return fd;
}

static int kernel_refused; /* set (by the first open, on the main thread) when refused */

static int open_sampler(int tid)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = period_ns;
    a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_PERIOD |
                    PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
    /* The words at the stack pointer, for the leaf's caller (fix_leaf, find_caller). */
    a.sample_regs_user = 1ull << PERF_REG_X86_SP;
    a.sample_stack_user = STACK_WORDS * 8;
    a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    /* A sample taken in a system call keeps the user stack that made it (the kernel's frames
     * are left out), so that time in the kernel is charged to its caller, as the timer
     * sampler's signal charges it. Where perf_event_paranoid refuses kernel-mode samples,
     * they are lost, and the run's note says so. */
    a.exclude_kernel = kernel_refused;
    a.exclude_hv = 1;
    a.exclude_callchain_kernel = 1;
    a.use_clockid = 1;
    a.clockid = CLOCK_MONOTONIC;
    a.sample_max_stack = (uint16_t)(vt__config.depth + 1 < 127 ? vt__config.depth + 1 : 127);
    a.wakeup_events = 1u << 30; /* nobody polls: the writer drains every round */
    int fd = ev_open(&a, tid);
    if ((fd == -EACCES || fd == -EPERM) && !a.exclude_kernel) {
        a.exclude_kernel = 1;
        if ((fd = ev_open(&a, tid)) >= 0)
            kernel_refused = 1;
    }
    return fd;
}

/* --wall: a sample at each switch-out (its user stack), and the switch records that say when
 * the thread ran again. */
static int open_switches(int tid)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_CONTEXT_SWITCHES;
    a.sample_period = 1;
    a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN;
    a.exclude_callchain_kernel = 1;
    a.exclude_hv = 1;
    a.context_switch = 1;
    a.sample_id_all = 1;
    a.use_clockid = 1;
    a.clockid = CLOCK_MONOTONIC;
    a.sample_max_stack = (uint16_t)(vt__config.depth + 1 < 127 ? vt__config.depth + 1 : 127);
    a.wakeup_events = 1u << 30;
    return ev_open(&a, tid);
}

static void on_cpu_signal(int sig, siginfo_t *si, void *ucv);

/* Takes spin lock l, held only for a copy or a few pointer moves; in a signal handler
 * (try_only), which may have interrupted its holder, it gives up at once. Returns 0 when
 * taken. */
static int spin_take(atomic_flag *l, int try_only)
{
    while (atomic_flag_test_and_set_explicit(l, memory_order_acquire)) {
        if (try_only)
            return -1;
        sched_yield();
    }
    return 0;
}

static void spin_give(atomic_flag *l)
{
    atomic_flag_clear_explicit(l, memory_order_release);
}

/* The CPU clock of thread tid (what pthread_getcpuclockid gives, made from its tid). */
static clockid_t thread_clock(int tid)
{
    return (clockid_t)((~(unsigned)tid << 3) | 6);
}

/* The CPU time of thread tid from its clock, or 0 (the timer sampler has no task-clock
 * count). */
static uint64_t thread_clock_ns(int tid)
{
    struct timespec ts;
    if (syscall(SYS_clock_gettime, thread_clock(tid), &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A timer ring from the free list, or a new one; NULL when out of memory. */
static struct tring *tr_get(void)
{
    spin_take(&tr_lock, 0);
    struct tring *r = tr_free;
    if (r)
        tr_free = r->next_free;
    spin_give(&tr_lock);
    return r ? r : vt__map(sizeof(struct tring), 0);
}

/* Puts c's timer ring, if any, on the free list; in a signal handler, if the list is busy
 * then, the ring is left unused instead of waiting. */
static void tr_put(struct cthread *c, int in_signal)
{
    struct tring *r = c->tr;
    c->tr = NULL;
    if (!r)
        return;
    atomic_store(&r->tid, 0);
    if (spin_take(&tr_lock, in_signal))
        return;
    r->next_free = tr_cooling[0];
    tr_cooling[0] = r;
    spin_give(&tr_lock);
}

/* Each round: the rings let go two rounds ago may serve again. */
static void tr_round(void)
{
    spin_take(&tr_lock, 0);
    struct tring *r = tr_cooling[1];
    while (r) {
        struct tring *next = r->next_free;
        r->next_free = tr_free;
        tr_free = r;
        r = next;
    }
    tr_cooling[1] = tr_cooling[0];
    tr_cooling[0] = NULL;
    spin_give(&tr_lock);
}

static int start_timer(struct cthread *c)
{
    if (!c->tr && !(c->tr = tr_get()))
        return -ENOMEM;
    atomic_store(&c->tr->head, 0);
    atomic_store(&c->tr->tail, 0);
    atomic_store(&c->tr->lost, 0);
    atomic_store(&c->tr->end_cpu_ns, 0);
    atomic_store(&c->tr->tid, c->tid);
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = CPU_SIGNAL;
    sev.sigev_value.sival_ptr = c->tr;
    sev._sigev_un._tid = c->tid;
    if (syscall(SYS_timer_create, thread_clock(c->tid), &sev, &c->timer) != 0)
        return -errno;
    struct itimerspec its;
    its.it_interval.tv_sec = (time_t)(period_ns / 1000000000u);
    its.it_interval.tv_nsec = (long)(period_ns % 1000000000u);
    its.it_value = its.it_interval;
    if (syscall(SYS_timer_settime, c->timer, 0, &its, NULL) != 0) {
        int e = errno;
        syscall(SYS_timer_delete, c->timer);
        return -e;
    }
    c->has_timer = 1;
    return 0;
}

/* A slot for thread tid, nothing open yet. */
static void init_slot(struct cthread *c, int tid)
{
    memset(c, 0, sizeof(*c));
    c->used = 1;
    c->seen = 1;
    c->tid = tid;
    c->fd = c->fd_switch = c->fd_mig = c->fd_cs = c->fd_clock = -1;
    for (int i = 0; i < MAX_EVENTS; i++)
        c->fd_cnt[i] = -1;
    c->start_tsc = vt__now();
}

/* Opens thread tid's sampling events into c (the task-clock sampler, and with --wall the
 * switch sampler). By the writer (early clear), or by the thread itself as it starts (early
 * set: nothing shared is written). */
static void open_samplers(struct cthread *c, int tid, int early)
{
    c->fd = open_sampler(tid);
    if (c->fd >= 0 && vt_perf_ring_map_in(&arena, c->fd, RING_PAGES, &c->ring) != 0)
        ev_close(&c->fd);
    if (c->fd < 0 && c->fd != -ESRCH)
        c->lost++; /* not sampled: counted once, said in the thread's record */
    if (wall) {
        c->fd_switch = open_switches(tid);
        if (!early && (c->fd_switch == -EACCES || c->fd_switch == -EPERM) &&
            !strstr(note, "--wall"))
            set_note(note, note[0] ? "; --wall: context-switch events refused "
                                     "(perf_event_paranoid): off-CPU time not recorded"
                                   : "--wall: context-switch events refused "
                                     "(perf_event_paranoid): off-CPU time not recorded");
        if (c->fd_switch >= 0 &&
            vt_perf_ring_map_in(&arena, c->fd_switch, RING_PAGES, &c->sring) != 0)
            ev_close(&c->fd_switch);
    }
}

/* Opens thread tid's counting events into c: migrations and context switches with perf
 * events, and those of VITALS_EVENTS (by the writer only). */
static void open_counts(struct cthread *c, int tid)
{
    if (sampler == VT_SAMPLER_PERF) {
        c->fd_mig = open_count(tid, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, 0, 0);
        c->fd_cs = open_count(tid, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, 0, 0);
    }
    for (int i = 0; i < n_events; i++) {
        struct event *e = &events[i];
        if (e->tried && e->status)
            continue; /* unsupported here: said once in its EVENT record */
        int fd = open_count(tid, e->type, e->config, e->config1, e->config2);
        if (!e->tried) {
            e->tried = 1;
            e->status = fd < 0 ? -fd : 0;
        }
        c->fd_cnt[i] = fd;
    }
}

/* Closes what c holds and frees its slot (in_signal: from a signal handler). */
static void close_slot(struct cthread *c, int in_signal)
{
    if (c->has_timer)
        syscall(SYS_timer_delete, c->timer);
    c->has_timer = 0;
    tr_put(c, in_signal);
    vt_perf_ring_release(&arena, &c->ring);
    vt_perf_ring_release(&arena, &c->sring);
    int *fds[] = {&c->fd, &c->fd_switch, &c->fd_mig, &c->fd_cs, &c->fd_clock};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        ev_close(fds[i]);
    for (int i = 0; i < n_events; i++)
        ev_close(&c->fd_cnt[i]);
    c->used = 0;
}

static struct cthread *new_slot(void)
{
    for (int i = 0; i < n_slots; i++)
        if (!threads[i].used)
            return &threads[i];
    return n_slots < MAX_THREADS ? &threads[n_slots++] : NULL;
}

/* Starts following thread tid. */
static void attach(int tid)
{
    struct cthread *c = new_slot();
    if (!c)
        return;
    init_slot(c, tid);
    read_comm(c);
    if (sampler == VT_SAMPLER_PERF)
        open_samplers(c, tid, 0);
    else if (sampler == VT_SAMPLER_TIMER)
        start_timer(c);
    open_counts(c, tid);
}

/* Threads that opened their own sampling events as they started, waiting for the writer. The
 * lock is held only to copy a slot in or out. The writer is woken each time 64 more wait (a
 * program starting threads by the thousand a second); the list holds 1024, for bursts while the
 * writer waits for a CPU on a busy machine (a slot is about 300 bytes, touched only when used).
 * A thread that finds it full leaves itself to the writer's next look at /proc/self/task. */
#define EARLY_SLOTS 1024
#define EARLY_WAKE 64
static struct cthread early[EARLY_SLOTS];
static int n_early;
static atomic_flag early_lock = ATOMIC_FLAG_INIT;
static _Atomic int early_on; /* set once the main thread's slot has tried every event */

int vt__sampler_thread_wanted(void)
{
    return atomic_load_explicit(&early_on, memory_order_acquire);
}

static void timer_thread_end(void *arg)
{
    struct tring *r = arg;
    int tid = (int)syscall(SYS_gettid);
    if (atomic_load(&r->tid) == tid)
        atomic_store(&r->end_cpu_ns, thread_clock_ns(tid));
}

void vt__sampler_thread_start(void)
{
    if (!atomic_load_explicit(&early_on, memory_order_acquire))
        return;
    struct cthread c;
    int tid = (int)syscall(SYS_gettid);
    init_slot(&c, tid);
    prctl(PR_GET_NAME, c.comm); /* the creator's name until the writer reads the thread's own */
    /* The counts wait for the writer: a system call costs here. */
    if (sampler == VT_SAMPLER_PERF)
        open_samplers(&c, tid, 1);
    else if (start_timer(&c) == 0 && has_end_key)
        pthread_setspecific(end_key, c.tr);
    int kept = 0, wake = 0;
    spin_take(&early_lock, 0);
    if (n_early < EARLY_SLOTS) {
        early[n_early++] = c;
        kept = 1;
        wake = n_early % EARLY_WAKE == 0;
    }
    spin_give(&early_lock);
    if (wake)
        vt__writer_wake();
    if (!kept) {
        if (c.tr && has_end_key)
            pthread_setspecific(end_key, NULL);
        close_slot(&c, 0);
    }
}

/* The writer takes over the threads that opened their own events. One that /proc/self/task
 * showed it first, while it was starting, has a slot already: the events the writer opened
 * for it then (later than its own, and with no more than a few microseconds of samples drained
 * since) are closed. In a signal handler the list is left alone if its lock is held. */
static void adopt_early(int in_signal)
{
    static struct cthread got[EARLY_SLOTS];
    if (spin_take(&early_lock, in_signal))
        return;
    int n = n_early;
    memcpy(got, early, (size_t)n * sizeof(*got));
    n_early = 0;
    spin_give(&early_lock);
    for (int i = 0; i < n; i++) {
        struct cthread *c = find(got[i].tid);
        if (c)
            close_slot(c, in_signal);
        else if (!(c = new_slot())) {
            close_slot(&got[i], in_signal);
            continue;
        }
        *c = got[i];
        if (in_signal)
            continue;
        /* The name it has now, and its counts from now on, if it is still running (a thread
         * that ended before has no counts: its record says so). */
        char comm[sizeof(c->comm)];
        memcpy(comm, c->comm, sizeof(comm));
        read_comm(c);
        if (c->comm[0])
            open_counts(c, c->tid);
        else
            memcpy(c->comm, comm, sizeof(comm));
    }
}

static int add_pend(uint64_t tsc, uint32_t stack, uint32_t tid, uint32_t kind, uint64_t weight)
{
    if (n_pend == cap_pend) {
        size_t cap = cap_pend ? cap_pend * 2 : 4096;
        struct pend *n = vt__map(cap * sizeof(*n), 1);
        if (!n) {
            lost_unrecorded++;
            return -1;
        }
        if (pend) {
            memcpy(n, pend, n_pend * sizeof(*n));
            vt__unmap(pend, cap_pend * sizeof(*pend));
        }
        pend = n;
        cap_pend = cap;
    }
    pend[n_pend++] =
        (struct pend){.tsc = tsc, .stack = stack, .tid = tid, .kind = kind, .weight = weight};
    return 0;
}

/* Whether v is a return address: the instruction before it is a call (e8 rel32, or ff /2 with
 * a register, disp8 or disp32/RIP operand). The code is read with process_vm_readv, which
 * fails instead of faulting where nothing is mapped; safe in a signal handler. */
static int looks_like_return(uint64_t v, pid_t pid)
{
    uint8_t b[8];
    if (v < 4096 + 8 || v >> 47)
        return 0;
    struct iovec local = {b, 8}, remote = {(void *)(v - 8), 8};
    if (syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0) != 8)
        return 0;
    if (b[3] == 0xe8)
        return 1;
    if (b[6] == 0xff && (b[7] & 0xf8) == 0xd0) /* call *%reg */
        return 1;
    if (b[5] == 0xff && (b[6] & 0xf8) == 0x50) /* call *disp8(%reg) */
        return 1;
    if (b[2] == 0xff && (b[3] == 0x15 || (b[3] & 0xf8) == 0x90)) /* disp32(%rip or %reg) */
        return 1;
    return 0;
}

/* The writer's looks_like_return, without a system call for most samples (two per sample
 * cost the writer more than the rest of its work): the word at the stack pointer repeats (the
 * leaf's return address, or the saved frame pointer of a function that keeps one), so the
 * verdicts are remembered, both ways. Until a library is unloaded (vt__code_gen), the only way
 * code leaves an address; and a second at most, so that a word that was no code and became
 * some (a library mapped where data was) is soon checked again. */
#define RET_SLOTS 4096
struct ret_slot {
    uint64_t v, is_ret;
};
static struct ret_slot ret_seen[RET_SLOTS];
/* call_target's answers, kept as those (the GOT slot of a function bound lazily changes once,
 * from its PLT entry to the function). */
static struct ret_slot target_seen[RET_SLOTS];
static uint32_t ret_gen;
static uint64_t ret_since_ns;
static pid_t self_pid; /* the writer's process (a handler reads getpid(): it may run in a child) */

static int writer_looks_like_return(uint64_t v)
{
    if (v < 4096 + 8 || v >> 47)
        return 0;
    uint32_t gen = vt__code_gen();
    if (gen != ret_gen || ref_ns - ret_since_ns > 1000000000u) {
        memset(ret_seen, 0, sizeof(ret_seen));
        memset(target_seen, 0, sizeof(target_seen));
        ret_gen = gen;
        ret_since_ns = ref_ns;
    }
    struct ret_slot *slot = &ret_seen[vt_hash64(v) & (RET_SLOTS - 1)];
    if (slot->v != v) {
        slot->v = v;
        slot->is_ret = (uint64_t)looks_like_return(v, self_pid);
    }
    return (int)slot->is_ret;
}

/* The frame a frame-pointer walk misses: a leaf function sampled where its frame pointer is
 * not set up (it keeps none, or is in its prologue) still has its return address on top of
 * the stack, and the walk, starting from the caller's frame pointer, skips the caller. top is
 * the word at the stack pointer; it is inserted after the leaf when it is a return address the
 * walk does not have next. */
static uint32_t fix_leaf(uint64_t *frames, uint32_t n, uint32_t max, uint64_t top, int writer)
{
    if (n == 0 || n >= max || (n > 1 && frames[1] == top))
        return n;
    if (writer ? !writer_looks_like_return(top) : !looks_like_return(top, getpid()))
        return n;
    memmove(frames + 2, frames + 1, (n - 1) * sizeof(uint64_t));
    frames[1] = top;
    return n + 1;
}

/* Where the call that returns to ret went: its target, through a PLT entry or a GOT slot to
 * the function itself; 0 when it is not a direct call or one through the GOT, or the code
 * cannot be read. */
static uint64_t call_target(uint64_t ret)
{
    uint8_t b[8], t[16];
    struct iovec local = {b, 8}, remote = {(void *)(ret - 8), 8};
    if (ret < 4096 + 8 || ret >> 47 ||
        syscall(SYS_process_vm_readv, self_pid, &local, 1, &remote, 1, 0) != 8)
        return 0;
    int32_t rel;
    memcpy(&rel, b + 4, 4);
    uint64_t target = 0, got = 0;
    if (b[3] == 0xe8) /* call rel32 */
        target = ret + (uint64_t)(int64_t)rel;
    else if (b[2] == 0xff && b[3] == 0x15) /* call *disp32(%rip): -fno-plt */
        got = ret + (uint64_t)(int64_t)rel;
    else
        return 0;
    if (target) {
        /* A PLT entry: [endbr64] [bnd] jmp *disp32(%rip) */
        local = (struct iovec){t, sizeof(t)};
        remote = (struct iovec){(void *)target, sizeof(t)};
        if (syscall(SYS_process_vm_readv, self_pid, &local, 1, &remote, 1, 0) != sizeof(t))
            return target;
        size_t i = 0;
        if (t[0] == 0xf3 && t[1] == 0x0f && t[2] == 0x1e && t[3] == 0xfa)
            i = 4;
        if (t[i] == 0xf2)
            i++;
        if (t[i] != 0xff || t[i + 1] != 0x25)
            return target;
        memcpy(&rel, t + i + 2, 4);
        got = target + i + 6 + (uint64_t)(int64_t)rel;
    }
    local = (struct iovec){&target, 8};
    remote = (struct iovec){(void *)got, 8};
    if (syscall(SYS_process_vm_readv, self_pid, &local, 1, &remote, 1, 0) != 8)
        return 0;
    return target;
}

static int calls_into(uint64_t ret, uint64_t ip)
{
    if (!writer_looks_like_return(ret)) /* renews the tables when their time is up */
        return 0;
    struct ret_slot *slot = &target_seen[vt_hash64(ret) & (RET_SLOTS - 1)];
    if (slot->v != ret) {
        slot->v = ret;
        slot->is_ret = call_target(ret);
    }
    /* The leaf is the function the call went to: it starts there and is not large (C
     * library wrappers are a few dozen bytes). */
    return slot->is_ret && slot->is_ret <= ip && ip - slot->is_ret < 8192;
}

/* The caller a frame-pointer walk misses when the leaf keeps no frame pointer (w: the nw
 * words at the stack pointer). When the walk's next frame is a call into the leaf, nothing is
 * missing. Otherwise the first word that is such a call is inserted: the caller's return
 * address is at the stack pointer in a leaf that uses no stack, a few words above it in one
 * that does (a system-call wrapper of the C library). Failing that (the leaf was called
 * through a pointer), the word at the stack pointer if it follows some call (fix_leaf). */
static uint32_t find_caller(uint64_t *frames, uint32_t n, uint32_t max, const uint64_t *w,
                            size_t nw)
{
    if (n == 0 || n >= max || (n > 1 && calls_into(frames[1], frames[0])))
        return n;
    for (size_t i = 0; i < nw; i++) {
        if (n > 1 && w[i] == frames[1])
            break; /* the walk's own frame: nothing was missed below it */
        if (calls_into(w[i], frames[0])) {
            memmove(frames + 2, frames + 1, (n - 1) * sizeof(uint64_t));
            frames[1] = w[i];
            return n + 1;
        }
    }
    return fix_leaf(frames, n, max, w[0], 1);
}

/* The user part of a kernel callchain (the context markers left out), with the leaf's caller
 * that the walk missed, from the nw words at the stack pointer (w, or NULL). */
static uint32_t chain_stack(const uint64_t *ips, uint64_t nr, const uint64_t *w, size_t nw)
{
    uint64_t frames[VT_MAX_DEPTH];
    uint32_t n = 0, max = (uint32_t)vt__config.depth;
    for (uint64_t i = 0; i < nr && n < max; i++) {
        if (ips[i] >= (uint64_t)PERF_CONTEXT_MAX)
            continue;
        frames[n++] = ips[i];
    }
    if (w && nw)
        n = find_caller(frames, n, max, w, nw);
    return vt__stack_intern(frames, n);
}

/* The words at the stack pointer from a sample's REGS_USER (SP only) and STACK_USER parts,
 * which follow its callchain at p: sets *nw to how many the kernel could copy (0: none, and
 * NULL is returned). */
static const uint64_t *stack_words(const uint64_t *p, const uint8_t *end, size_t *nw)
{
    *nw = 0;
    if ((const uint8_t *)(p + 1) > end)
        return NULL;
    if (p[0] != PERF_SAMPLE_REGS_ABI_NONE)
        p += 2; /* abi, sp */
    else
        p += 1;
    if ((const uint8_t *)(p + 1) > end || p[0] < 8)
        return NULL;
    uint64_t size = p[0];
    const uint64_t *data = p + 1;
    if ((const uint8_t *)(data + size / 8 + 1) > end || data[size / 8] < 8)
        return NULL; /* dyn_size: how much of the copy is real */
    *nw = (size_t)(data[size / 8] < size ? data[size / 8] : size) / 8;
    return data;
}

struct drain_arg {
    struct cthread *c;
};

/* A record of a thread's sampling ring. */
static void on_record(const struct perf_event_header *h, void *argp)
{
    struct cthread *c = ((struct drain_arg *)argp)->c;
    const uint64_t *p = (const uint64_t *)(h + 1);
    const uint8_t *end = (const uint8_t *)h + h->size;
    if (h->type == PERF_RECORD_LOST) {
        if ((const uint8_t *)(p + 2) <= end)
            c->lost += p[1];
        return;
    }
    if (h->type != PERF_RECORD_SAMPLE || (const uint8_t *)(p + 4) > end)
        return;
    /* TID, TIME, PERIOD, CALLCHAIN */
    uint64_t ns = p[1], period = p[2], nr = p[3];
    if ((const uint8_t *)(p + 4 + nr) > end)
        return;
    size_t nw;
    const uint64_t *w = stack_words(p + 4 + nr, end, &nw);
    uint32_t stack = chain_stack(p + 4, nr, w, nw);
    if (add_pend(ns_to_tsc(ns), stack, (uint32_t)c->tid, VT_CPU_ON, period) == 0)
        c->samples++;
    else
        c->lost++;
}

/* A record of a thread's switch ring (--wall). */
static void on_switch(const struct perf_event_header *h, void *argp)
{
    struct cthread *c = ((struct drain_arg *)argp)->c;
    const uint64_t *p = (const uint64_t *)(h + 1);
    const uint8_t *end = (const uint8_t *)h + h->size;
    if (h->type == PERF_RECORD_LOST) {
        c->off_pending = 0;
        return;
    }
    if (h->type == PERF_RECORD_SAMPLE) {
        /* TID, TIME, CALLCHAIN: the stack as the thread was switched out. */
        if ((const uint8_t *)(p + 3) > end)
            return;
        uint64_t nr = p[2];
        if ((const uint8_t *)(p + 3 + nr) > end)
            return;
        c->off_stack = chain_stack(p + 3, nr, NULL, 0);
        c->off_ns = p[1];
        c->off_pending = 1;
        return;
    }
    if (h->type == PERF_RECORD_SWITCH && !(h->misc & PERF_RECORD_MISC_SWITCH_OUT)) {
        /* sample_id: TID, TIME */
        if ((const uint8_t *)(p + 2) > end || !c->off_pending)
            return;
        uint64_t in_ns = p[1];
        c->off_pending = 0;
        if (in_ns > c->off_ns)
            add_pend(ns_to_tsc(c->off_ns), c->off_stack, (uint32_t)c->tid, VT_CPU_OFF,
                     in_ns - c->off_ns);
    }
}

static void drain_timer(struct cthread *c)
{
    struct tring *r = c->tr;
    if (!r)
        return;
    uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    for (; tail != head; tail++) {
        const struct tsample *s = &r->s[tail % TIMER_SLOTS];
        uint32_t n = s->n < (uint32_t)vt__config.depth ? s->n : (uint32_t)vt__config.depth;
        uint32_t stack = vt__stack_intern(s->ip, n);
        /* A timer that overran stood for several periods at once. */
        if (add_pend(s->tsc, stack, (uint32_t)c->tid, VT_CPU_ON,
                     period_ns * (1 + (uint64_t)s->overrun)) == 0)
            c->samples++;
        else
            c->lost++;
    }
    atomic_store_explicit(&r->tail, tail, memory_order_release);
    c->lost += atomic_exchange(&r->lost, 0);
}

static void drain(struct cthread *c)
{
    static uint8_t scratch[65536];
    struct drain_arg a = {c};
    if (c->fd >= 0)
        vt_perf_ring_drain(&c->ring, on_record, &a, scratch, sizeof(scratch));
    if (c->fd_switch >= 0)
        vt_perf_ring_drain(&c->sring, on_switch, &a, scratch, sizeof(scratch));
    if (c->has_timer)
        drain_timer(c);
}

static uint64_t read_value(int fd, int *ok)
{
    vt_perf_count v;
    if (fd < 0 || vt_perf_read(fd, &v) != 0) {
        *ok = 0;
        return 0;
    }
    return v.value;
}

/* The thread's CPU_COUNTERS and CPU_THREAD records; closes what it holds when done is set. */
static void finish(struct cthread *c, int ended, int done)
{
    uint64_t v[2 + 4 * MAX_EVENTS];
    size_t n = 2;
    v[0] = (uint64_t)c->tid;
    for (int i = 0; i < n_events; i++) {
        vt_perf_count pc;
        if (c->fd_cnt[i] < 0 || vt_perf_read(c->fd_cnt[i], &pc) != 0)
            continue;
        v[n++] = (uint64_t)i;
        v[n++] = pc.value;
        v[n++] = pc.enabled;
        v[n++] = pc.running;
    }
    v[1] = (n - 2) / 4;
    if (n_events)
        vt__merge_put_cpu(&(struct vt_cpu_rec){.tag = VT_TAG_CPU_COUNTERS, .n = n, .v = v});
    uint64_t flags = ended ? VT_CPU_T_ENDED : 0, cpu_ns = c->cpu_ns;
    vt_perf_count tc;
    if (c->fd >= 0 && vt_perf_read(c->fd, &tc) == 0) {
        cpu_ns = tc.value;
        flags |= VT_CPU_T_CPU_EXACT;
    } else if (c->tr && atomic_load(&c->tr->end_cpu_ns)) {
        cpu_ns = atomic_load(&c->tr->end_cpu_ns);
        flags |= VT_CPU_T_CPU_EXACT;
    } else if (!ended && c->has_timer) {
        uint64_t ns = thread_clock_ns(c->tid);
        cpu_ns = ns ? ns : cpu_ns;
    }
    int ok = 1;
    uint64_t mig = read_value(c->fd_mig, &ok), cs = read_value(c->fd_cs, &ok);
    if (ok)
        flags |= VT_CPU_T_SWITCHES;
    uint64_t t[9] = {(uint64_t)c->tid, c->start_tsc, vt__now(), cpu_ns, c->samples,
                     c->lost,          mig,          cs,        flags};
    vt__merge_put_cpu(&(struct vt_cpu_rec){
        .tag = VT_TAG_CPU_THREAD, .n = 9, .v = t, .str = c->comm, .str_len = strlen(c->comm)});
    if (done)
        close_slot(c, 0);
}

/* /proc/self/task, kept open from round to round: opening it (a path walk) cost the writer
 * more than the rest of its round. Each round checks that the descriptor is still that
 * directory (the program may have closed it, and the number been reused) before rewinding it. */
static int task_fd = -1;
static dev_t task_dev;
static ino_t task_ino;

static int task_dir(void)
{
    struct stat st;
    if (task_fd >= 0 && fstat(task_fd, &st) == 0 && st.st_dev == task_dev &&
        st.st_ino == task_ino && lseek(task_fd, 0, SEEK_SET) == 0)
        return task_fd;
    task_fd = -1; /* not ours any more: left alone */
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    task_fd = fd;
    task_dev = st.st_dev;
    task_ino = st.st_ino;
    return fd;
}

/* Marks every thread of /proc/self/task as seen, attaching those not yet followed unless
 * mark_only is set (the final round: the threads that ended are told apart, none is begun). */
static int scan_tasks(int mark_only)
{
    static char buf[16384];
    int fd = task_dir();
    if (fd < 0)
        return -1;
    for (int i = 0; i < n_slots; i++)
        threads[i].seen = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '0' || d->d_name[0] > '9')
                continue;
            int tid = (int)strtol(d->d_name, NULL, 10);
            if (tid == writer_tid)
                continue;
            struct cthread *c = find(tid);
            if (c)
                c->seen = 1;
            else if (!mark_only)
                attach(tid);
        }
    }
    return 0;
}

static void put_meta(void)
{
    uint64_t flags = (wall ? VT_CPU_F_WALL : 0) | (vt__config.no_alloc ? VT_CPU_F_NO_ALLOC : 0) |
                     (counters ? VT_CPU_F_COUNTERS : 0);
    uint64_t v[4] = {(uint64_t)sampler, (uint64_t)hz, flags, period_ns};
    vt__merge_put_cpu(&(struct vt_cpu_rec){
        .tag = VT_TAG_CPU_SAMPLER, .n = 4, .v = v, .str = note, .str_len = strlen(note)});
}

static void put_events(void)
{
    for (int i = 0; i < n_events; i++) {
        const struct event *e = &events[i];
        uint64_t v[5] = {(uint64_t)i, (uint64_t)(e->tried ? e->status : ENODATA), e->type,
                         e->config, (uint64_t)e->flags};
        vt__merge_put_cpu(&(struct vt_cpu_rec){
            .tag = VT_TAG_CPU_EVENT, .n = 5, .v = v, .str = e->name, .str_len = strlen(e->name)});
    }
}

/* Sorts the pending samples by time (heapsort: no allocation, no recursion). */
static void sift(size_t i, size_t n)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && pend[l].tsc > pend[m].tsc)
            m = l;
        if (r < n && pend[r].tsc > pend[m].tsc)
            m = r;
        if (m == i)
            return;
        struct pend x = pend[i];
        pend[i] = pend[m];
        pend[m] = x;
        i = m;
    }
}

static void sort_pending(void)
{
    for (size_t i = n_pend / 2; i-- > 0;)
        sift(i, n_pend);
    for (size_t n = n_pend; n > 1; n--) {
        struct pend x = pend[0];
        pend[0] = pend[n - 1];
        pend[n - 1] = x;
        sift(0, n - 1);
    }
}

static int has_pending(int tid)
{
    for (size_t i = 0; i < n_pend; i++)
        if (pend[i].tid == (uint32_t)tid)
            return 1;
    return 0;
}

long vt__sampler_round(uint64_t watermark, int final, int in_signal)
{
    if (sampler == VT_SAMPLER_NONE && !n_events)
        return 0;
    if (!writer_tid && !final)
        writer_tid = (pid_t)syscall(SYS_gettid);
    ref_tsc = vt__now();
    ref_ns = mono_ns();
    if (!announced) {
        put_meta();
        announced = 1;
    }
    adopt_early(in_signal);
    if (!in_signal)
        scan_tasks(final);
    for (int i = 0; i < n_slots; i++)
        if (threads[i].used)
            drain(&threads[i]);
    sort_pending();
    long written = 0;
    size_t i = 0;
    for (; i < n_pend && (final || pend[i].tsc < watermark); i++) {
        long k = vt__merge_until(pend[i].tsc);
        if (k > 0)
            written += k;
        uint64_t v[2] = {pend[i].kind, pend[i].weight};
        vt__merge_put_cpu(&(struct vt_cpu_rec){.tag = VT_TAG_CPU_SAMPLE,
                                               .timed = 1,
                                               .tsc = pend[i].tsc,
                                               .stack = pend[i].stack,
                                               .tid = pend[i].tid,
                                               .n = 2,
                                               .v = v});
        written++;
    }
    memmove(pend, pend + i, (n_pend - i) * sizeof(*pend));
    n_pend -= i;
    /* Threads that ended: their last samples are out, now their figures. */
    for (int t = 0; t < n_slots; t++) {
        struct cthread *c = &threads[t];
        if (!c->used)
            continue;
        if (c->has_timer && !final) {
            uint64_t ns = thread_clock_ns(c->tid);
            c->cpu_ns = ns ? ns : c->cpu_ns;
        }
        if (!final && !c->seen && has_pending(c->tid))
            continue; /* ended, but samples of it wait for the watermark: finish it later */
        if (final || !c->seen)
            finish(c, !c->seen, !final || !in_signal);
    }
    /* The rings of the threads that ended, unmapped together. */
    if (!in_signal) {
        vt_perf_arena_sweep(&arena);
        tr_round();
    }
    if (final) {
        put_events();
        announced = 0;
    }
    return written;
}

/* Walks the frame pointers of the interrupted code inside a copy of its stack. */
static uint32_t walk(const ucontext_t *uc, struct tring *r, uint64_t *ip)
{
    uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    uint64_t rbp = (uint64_t)uc->uc_mcontext.gregs[REG_RBP];
    uint64_t rsp = (uint64_t)uc->uc_mcontext.gregs[REG_RSP];
    uint32_t n = 0;
    ip[n++] = rip;
    /* One iovec per page: process_vm_readv stops at the first page it cannot read instead of
     * faulting, and never splits an element. */
    struct iovec local = {r->slice, SLICE}, remote[SLICE / 4096 + 1];
    int k = 0;
    uint64_t a = rsp, end = rsp + SLICE;
    while (a < end && k < (int)(sizeof(remote) / sizeof(remote[0]))) {
        uint64_t next = (a & ~4095ull) + 4096;
        if (next > end)
            next = end;
        remote[k].iov_base = (void *)a;
        remote[k].iov_len = next - a;
        k++;
        a = next;
    }
    ssize_t got = syscall(SYS_process_vm_readv, getpid(), &local, 1, remote, k, 0);
    if (got <= 0)
        return n;
    uint64_t hi = rsp + (uint64_t)got;
    uint64_t top = got >= 8 ? *(const uint64_t *)r->slice : 0;
    while (n < TIMER_DEPTH && rbp >= rsp && rbp + 16 <= hi && !(rbp & 7)) {
        const uint64_t *f = (const uint64_t *)(r->slice + (rbp - rsp));
        if (!f[1])
            break;
        ip[n++] = f[1];
        if (f[0] <= rbp)
            break;
        rbp = f[0];
    }
    return top ? fix_leaf(ip, n, TIMER_DEPTH, top, 0) : n;
}

static void on_cpu_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    int saved = errno;
    struct tring *r = si ? si->si_value.sival_ptr : NULL;
    if (!si || si->si_code != SI_TIMER || !r ||
        atomic_load_explicit(&r->tid, memory_order_relaxed) != (int)syscall(SYS_gettid))
        goto out;
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail >= TIMER_SLOTS) {
        atomic_fetch_add_explicit(&r->lost, 1 + (uint32_t)si->si_overrun, memory_order_relaxed);
        goto out;
    }
    struct tsample *s = &r->s[head % TIMER_SLOTS];
    s->tsc = vt__now();
    s->overrun = (uint32_t)si->si_overrun;
    s->n = walk(ucv, r, s->ip);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
out:
    errno = saved;
}

int vt__sampler_round_ms(void)
{
    if (hz <= 999)
        return VT_ROUND_MS_CPU_ONLY;
    int ms = VT_ROUND_MS_CPU_ONLY * 999 / hz;
    return ms > 1 ? ms : 1;
}

void vt__sampler_init(void)
{
    self_pid = getpid();
    hz = (int)env_num("VITALS_CPU", 0);
    wall = (int)env_num("VITALS_CPU_WALL", 0);
    const char *ev = getenv("VITALS_EVENTS");
    if (ev && *ev)
        parse_events(ev);
    counters = n_events > 0;
    if (hz <= 0 && !n_events)
        return;
    threads = vt__map(sizeof(*threads) * MAX_THREADS, 1);
    if (!threads) {
        vt__say("no memory for the CPU sampler; CPU profiling is off");
        n_events = 0;
        return;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        max_fds = (int)(rl.rlim_cur / 4);
    if (hz > 0) {
        period_ns = 1000000000ull / (uint64_t)hz;
        const char *want = getenv("VITALS_CPU_SAMPLER");
        int force_timer = want && !strcmp(want, "timer");
        if (!force_timer) {
            int fd = open_sampler(0);
            if (fd >= 0) {
                ev_close(&fd);
                sampler = VT_SAMPLER_PERF;
                /* Where it cannot be reserved, rings are mapped one by one. */
                int guard = vt__guard;
                vt__guard = 1;
                vt_perf_arena_init(&arena, RING_PAGES, ARENA_SLOTS, arena_state);
                vt__guard = guard;
                if (kernel_refused)
                    set_note("perf_event_paranoid allows user-mode samples only: time in "
                             "system calls is not sampled",
                             "");
            } else {
                const char *why = -fd == EACCES || -fd == EPERM
                                      ? "perf events refused (perf_event_paranoid or seccomp)"
                                  : -fd == ENOSYS ? "this kernel has no perf events"
                                                  : "perf_event_open failed";
                set_note(why, "; using per-thread CPU-time timers");
            }
        } else {
            set_note("VITALS_CPU_SAMPLER=timer", "");
        }
        if (sampler != VT_SAMPLER_PERF) {
            struct sigaction sa;
            memset(&sa, 0, sizeof(sa));
            sa.sa_sigaction = on_cpu_signal;
            sa.sa_flags = SA_SIGINFO | SA_RESTART;
            sigemptyset(&sa.sa_mask);
            if (sigaction(CPU_SIGNAL, &sa, NULL) == 0) {
                sampler = VT_SAMPLER_TIMER;
                has_end_key = pthread_key_create(&end_key, timer_thread_end) == 0;
                /* CPU-time timers are checked at the kernel's tick (docs/BENCHMARKS.md). */
                set_note(note, "; CPU-time timers fire at the kernel's tick whatever the "
                               "rate: shares need a longer run than with perf");
                if (wall)
                    set_note(note, "; --wall needs perf events: off-CPU time not recorded");
            }
        }
    }
    attach((int)syscall(SYS_gettid));
    if (sampler != VT_SAMPLER_NONE)
        atomic_store_explicit(&early_on, 1, memory_order_release);
}

void vt__sampler_after_fork(void)
{
    if (!threads)
        return;
    /* Timers are not inherited; the events watch the parent's threads. A thread of the
     * parent may have held the free rings' lock as the process forked: this one alone runs. */
    if (atomic_flag_test_and_set(&tr_lock))
        tr_free = tr_cooling[0] = tr_cooling[1] = NULL; /* maybe torn: its rings are left */
    atomic_flag_clear(&tr_lock);
    vt_perf_arena_after_fork(&arena);
    for (int i = 0; i < n_slots; i++) {
        if (threads[i].used) {
            threads[i].has_timer = 0;
            close_slot(&threads[i], 0);
        }
    }
    /* Threads of the parent left their events here; if one was copying its slot in as the
     * process forked, the list may be torn: then its descriptors are left open, not guessed. */
    if (!atomic_flag_test_and_set(&early_lock))
        for (int i = 0; i < n_early; i++)
            close_slot(&early[i], 0);
    n_early = 0;
    atomic_flag_clear(&early_lock);
    n_pend = 0;
    announced = 0;
    writer_tid = 0;
    self_pid = getpid();
    struct stat st; /* the parent's threads: closed if the descriptor is still it */
    if (task_fd >= 0 && fstat(task_fd, &st) == 0 && st.st_dev == task_dev && st.st_ino == task_ino)
        close(task_fd);
    task_fd = -1;
    for (int i = 0; i < n_events; i++)
        events[i].tried = 0;
    attach((int)syscall(SYS_gettid));
    vt__writer_start();
}

int vt__sampler_event(int i, const char **name, uint32_t *type, uint64_t config[3], int *flags)
{
    if (i < 0 || i >= n_events)
        return -1;
    *name = events[i].name;
    *type = events[i].type;
    config[0] = events[i].config;
    config[1] = events[i].config1;
    config[2] = events[i].config2;
    *flags = events[i].flags;
    return 0;
}

/* Counters at zone boundaries: see zone_counters.h.
 *
 * A thread opens its groups at its first zone (on itself, tid 0, so it reads them without
 * asking anyone), keeps the counts read at each begin on a small stack of its own, and at the
 * end writes the differences. The descriptors are moved above 511, out of the way of programs
 * that reuse low numbers, and each group read is checked against the events' kernel ids
 * (PERF_FORMAT_ID); before the outermost zone of a thread reads, an ioctl that only a perf
 * event answers confirms the leader is still ours, so that a program that closed every
 * descriptor and reused the number never has a read taken from its own file. */
#include "agent/zone_counters.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/sampler.h"
#include "collect/perf.h"
#include "util/varint.h"

int vt__zc_on;

struct zc_event {
    char name[64];
    uint32_t type;
    uint64_t config[3];
    int flags;
    int status; /* 0, or the errno of the main thread's open */
    int group;  /* VT_ZC_GROUP_* */
};

/* The --counters set as perf's generic events, for VITALS_TRACE (no CLI to resolve names with
 * libpfm4); `vitals run` passes the set it resolved in VITALS_EVENTS instead. */
#define HW(x) PERF_TYPE_HARDWARE, PERF_COUNT_HW_##x
#define CACHE(c, r)                                                                                \
    PERF_TYPE_HW_CACHE, (PERF_COUNT_HW_CACHE_##c | PERF_COUNT_HW_CACHE_OP_READ << 8 |              \
                         PERF_COUNT_HW_CACHE_RESULT_##r << 16)
#define SW(x) PERF_TYPE_SOFTWARE, PERF_COUNT_SW_##x
static const struct {
    const char *name;
    uint32_t type;
    uint64_t config;
} generic[] = {
    {"cycles", HW(CPU_CYCLES)},
    {"instructions", HW(INSTRUCTIONS)},
    {"branches", HW(BRANCH_INSTRUCTIONS)},
    {"branch-misses", HW(BRANCH_MISSES)},
    {"L1-dcache-loads", CACHE(L1D, ACCESS)},
    {"L1-dcache-load-misses", CACHE(L1D, MISS)},
    {"LLC-loads", CACHE(LL, ACCESS)},
    {"LLC-load-misses", CACHE(LL, MISS)},
    {"dTLB-load-misses", CACHE(DTLB, MISS)},
    {"iTLB-load-misses", CACHE(ITLB, MISS)},
    {"task-clock", SW(TASK_CLOCK)},
    {"minor-faults", SW(PAGE_FAULTS_MIN)},
    {"major-faults", SW(PAGE_FAULTS_MAJ)},
    {"context-switches", SW(CONTEXT_SWITCHES)},
    {"cpu-migrations", SW(CPU_MIGRATIONS)},
};
#undef HW
#undef CACHE
#undef SW

static struct zc_event events[VT_ZC_MAX_EVENTS];
static int n_events;
static int configured, announced;
static size_t stride; /* u64 per stack level: start, then per group enabled, running, counts */
static _Atomic int held_fds;
static int max_fds = 256;

struct zc_group {
    int fd; /* the leader, or -1 */
    int n;
    int fds[VT_ZC_MAX_EVENTS]; /* fds[0] == fd */
    uint8_t idx[VT_ZC_MAX_EVENTS];
    uint64_t id[VT_ZC_MAX_EVENTS];
};

/* A thread's groups and stack, in agent-owned memory; reused after its thread ends. */
struct zc_thread {
    struct zc_thread *next_all;
    int in_use;
    struct zc_group g[2]; /* VT_ZC_GROUP_SOFTWARE, VT_ZC_GROUP_HARDWARE */
    int depth;            /* levels on the stack */
    uint64_t deeper;      /* zones open above the deepest level (no counts kept) */
    uint64_t levels[];    /* VT_ZC_DEPTH levels of stride u64 */
};

enum { ZC_NEW = 0, ZC_OPEN = 1, ZC_NONE = 2 };
static __thread struct zc_thread *self;
static __thread int self_state; /* ZC_* */
static struct zc_thread *all;
static atomic_flag all_lock = ATOMIC_FLAG_INIT;
static pthread_key_t exit_key;

static void lock_all(void)
{
    while (atomic_flag_test_and_set_explicit(&all_lock, memory_order_acquire))
        sched_yield();
}

static void unlock_all(void)
{
    atomic_flag_clear_explicit(&all_lock, memory_order_release);
}

static size_t state_size(void)
{
    return sizeof(struct zc_thread) + (size_t)VT_ZC_DEPTH * stride * sizeof(uint64_t);
}

/* Whether fd is still the perf event whose kernel id is id (the program may have closed it
 * and opened something else under its number). */
static int still_ours(int fd, uint64_t id)
{
    uint64_t got = 0;
    return fd >= 0 && ioctl(fd, PERF_EVENT_IOC_ID, &got) == 0 && got == id;
}

static void close_groups(struct zc_thread *z, int check)
{
    for (int gi = 0; gi < 2; gi++) {
        struct zc_group *g = &z->g[gi];
        for (int i = 0; i < g->n; i++) {
            if (!check || still_ours(g->fds[i], g->id[i])) {
                close(g->fds[i]);
                atomic_fetch_sub(&held_fds, 1);
            }
        }
        g->n = 0;
        g->fd = -1;
    }
    z->depth = 0;
    z->deeper = 0;
}

/* Opens event e on the calling thread into group g; returns 0 or a negative errno, and sets
 * *user_only when only user mode could be counted. */
static int open_into(struct zc_group *g, const struct zc_event *e, int index, int *user_only)
{
    if (g->n == VT_ZC_MAX_EVENTS || atomic_load(&held_fds) >= max_fds)
        return -EMFILE;
    struct perf_event_attr a;
    vt_perf_attr_count(&a, e->type, e->config[0]);
    a.config1 = e->config[1];
    a.config2 = e->config[2];
    a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID | PERF_FORMAT_TOTAL_TIME_ENABLED |
                    PERF_FORMAT_TOTAL_TIME_RUNNING;
    /* Kernel mode too (context switches and faults are counted there), or user mode only where
     * perf_event_paranoid allows no more. */
    a.exclude_kernel = 0;
    /* The leader starts disabled and the whole group is enabled once complete: a sibling
     * added to a group that is already counting only counts from the group's next schedule-in
     * (a page-fault event under a running task-clock leader missed the faults of the first
     * milliseconds). */
    a.disabled = g->n == 0;
    int fd = vt_perf_open(&a, 0, g->fd);
    *user_only = 0;
    if (fd == -EACCES || fd == -EPERM) {
        a.exclude_kernel = 1;
        fd = vt_perf_open(&a, 0, g->fd);
        *user_only = 1;
    }
    if (fd < 0)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 512);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    uint64_t id;
    if (ioctl(fd, PERF_EVENT_IOC_ID, &id) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    atomic_fetch_add(&held_fds, 1);
    if (!g->n)
        g->fd = fd;
    g->fds[g->n] = fd;
    g->idx[g->n] = (uint8_t)index;
    g->id[g->n] = id;
    g->n++;
    return 0;
}

/* Opens the calling thread's groups; with probe set (the main thread at start-up) each event's
 * status is settled here. Returns how many events are counted. */
static int open_groups(struct zc_thread *z, int probe)
{
    int counted = 0;
    z->g[0].fd = z->g[1].fd = -1;
    z->g[0].n = z->g[1].n = 0;
    for (int i = 0; i < n_events; i++) {
        struct zc_event *e = &events[i];
        if (!probe && e->status)
            continue; /* not on this machine: said once in its ZONE_COUNTER_EVENT record */
        int gi = e->type == PERF_TYPE_SOFTWARE ? VT_ZC_GROUP_SOFTWARE : VT_ZC_GROUP_HARDWARE;
        int user_only;
        int r = open_into(&z->g[gi], e, i, &user_only);
        if (probe) {
            e->status = r < 0 ? -r : 0;
            e->group = r < 0 ? VT_ZC_GROUP_NONE : gi;
            if (r == 0 && user_only)
                e->flags |= VT_CPU_EV_USER_ONLY;
        }
        counted += r == 0;
    }
    for (int gi = 0; gi < 2; gi++)
        if (z->g[gi].n)
            ioctl(z->g[gi].fd, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
    return counted;
}

static struct zc_thread *state_get(void)
{
    struct zc_thread *z;
    lock_all();
    for (z = all; z && z->in_use; z = z->next_all)
        ;
    if (z)
        z->in_use = 1;
    unlock_all();
    if (z)
        return z;
    z = vt__map(state_size(), 0);
    if (!z)
        return NULL;
    z->in_use = 1;
    lock_all();
    z->next_all = all;
    all = z;
    unlock_all();
    return z;
}

static void state_put(struct zc_thread *z)
{
    z->depth = 0;
    z->deeper = 0;
    lock_all();
    z->in_use = 0;
    unlock_all();
}

/* The thread's key destructor: its groups go (if still ours), its state is free for another. */
static void thread_gone(void *arg)
{
    struct zc_thread *z = arg;
    int saved = errno;
    close_groups(z, 1);
    state_put(z);
    if (self == z) {
        self = NULL;
        self_state = ZC_NONE; /* zones in later destructors carry no counts */
    }
    errno = saved;
}

static struct zc_thread *attach(int probe)
{
    struct zc_thread *z = state_get();
    if (!z) {
        self_state = ZC_NONE;
        return NULL;
    }
    if (open_groups(z, probe) == 0) {
        state_put(z);
        self_state = ZC_NONE;
        return NULL;
    }
    self = z;
    self_state = ZC_OPEN;
    pthread_setspecific(exit_key, z);
    return z;
}

/* In a forked child: every group holds events of the parent's threads. The forking thread,
 * the child's only one, opens its own at its next zone. */
static void after_fork_child(void)
{
    for (struct zc_thread *z = all; z; z = z->next_all) {
        if (!z->in_use)
            continue;
        close_groups(z, 0);
        z->in_use = 0;
    }
    atomic_flag_clear(&all_lock);
    atomic_store(&held_fds, 0);
    self = NULL;
    self_state = ZC_NEW;
    announced = 0;
}

static void add_event(const char *name, uint32_t type, const uint64_t config[3], int flags)
{
    if (n_events == VT_ZC_MAX_EVENTS)
        return;
    struct zc_event *e = &events[n_events++];
    memset(e, 0, sizeof(*e));
    size_t n = strnlen(name, sizeof(e->name) - 1);
    memcpy(e->name, name, n);
    e->type = type;
    memcpy(e->config, config, sizeof(e->config));
    e->flags = flags;
}

void vt__zc_init(void)
{
    const char *on = getenv("VITALS_ZONE_COUNTERS");
    if (!on || strcmp(on, "1") != 0)
        return;
    const char *name;
    uint32_t type;
    uint64_t config[3];
    int flags;
    for (int i = 0; vt__sampler_event(i, &name, &type, config, &flags) == 0; i++)
        add_event(name, type, config, flags);
    size_t n_generic = n_events ? 0 : sizeof(generic) / sizeof(generic[0]);
    for (size_t i = 0; i < n_generic; i++) {
        uint64_t c[3] = {generic[i].config, 0, 0};
        add_event(generic[i].name, generic[i].type, c,
                  generic[i].type == PERF_TYPE_SOFTWARE ? VT_CPU_EV_SOFTWARE : 0);
    }
    for (int i = 0; i < n_events; i++)
        events[i].status = ENODATA; /* until the probe below */
    stride = 1 + 2 * (2 + (size_t)n_events);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        max_fds = (int)(rl.rlim_cur / 4);
    if (pthread_key_create(&exit_key, thread_gone) != 0)
        return;
    pthread_atfork(NULL, NULL, after_fork_child);
    /* The main thread's groups settle what this machine counts; the records say it even when
     * nothing is. */
    configured = 1;
    vt__zc_on = attach(1) != NULL;
}

/* Reads group g into out: enabled, running, then its counts. 0, or -1 when the group is not
 * (or no longer) ours. */
static int read_group(const struct zc_group *g, uint64_t *out)
{
    uint64_t buf[3 + 2 * VT_ZC_MAX_EVENTS];
    size_t want = (3 + 2 * (size_t)g->n) * sizeof(uint64_t);
    ssize_t r;
    do
        r = read(g->fd, buf, want);
    while (r < 0 && errno == EINTR);
    if (r != (ssize_t)want || buf[0] != (uint64_t)g->n)
        return -1;
    out[0] = buf[1];
    out[1] = buf[2];
    for (int i = 0; i < g->n; i++) {
        if (buf[4 + 2 * i] != g->id[i])
            return -1;
        out[2 + i] = buf[3 + 2 * i];
    }
    return 0;
}

/* Reads both groups into a level (after its start word). 0, or -1 when a group is lost: the
 * thread then counts no more (its descriptors may be the program's now: they stay open). */
static int read_all(struct zc_thread *z, uint64_t *level)
{
    uint64_t *p = level + 1;
    for (int gi = 0; gi < 2; gi++) {
        const struct zc_group *g = &z->g[gi];
        if (g->n && read_group(g, p) != 0) {
            z->g[0].n = z->g[1].n = 0;
            z->depth = 0;
            self_state = ZC_NONE;
            return -1;
        }
        p += 2 + n_events;
    }
    return 0;
}

void vt__zc_begin(uint64_t tsc)
{
    struct zc_thread *z = self;
    int saved = errno;
    if (!z) {
        if (self_state != ZC_NEW || !(z = attach(0)))
            goto out;
    }
    if (z->depth == VT_ZC_DEPTH || z->deeper) {
        z->deeper++;
        goto out;
    }
    if (!z->depth) {
        for (int gi = 0; gi < 2; gi++) {
            if (z->g[gi].n && !still_ours(z->g[gi].fd, z->g[gi].id[0])) {
                z->g[0].n = z->g[1].n = 0;
                self = NULL;
                self_state = ZC_NONE;
                goto out;
            }
        }
    }
    uint64_t *level = z->levels + (size_t)z->depth * stride;
    level[0] = tsc;
    if (read_all(z, level) == 0)
        z->depth++;
out:
    errno = saved;
}

void vt__zc_end(struct vt_thread *t, uint64_t start, const void *site)
{
    struct zc_thread *z = self;
    if (!z)
        return;
    if (z->deeper) {
        z->deeper--;
        return;
    }
    int i = z->depth - 1;
    while (i >= 0 && z->levels[(size_t)i * stride] != start)
        i--;
    if (i < 0)
        return; /* its begin was not counted */
    z->depth = i;
    int saved = errno;
    uint64_t now[1 + 2 * (2 + VT_ZC_MAX_EVENTS)];
    if (read_all(z, now) != 0)
        goto out;
    const uint64_t *before = z->levels + (size_t)i * stride + 1, *after = now + 1;
    uint8_t body[16 + VT_VARINT_MAX + 2 * 3 * VT_VARINT_MAX + 2 * VT_ZC_MAX_EVENTS * VT_VARINT_MAX], *p = body;
    p = vt_varint_put(p, (uint64_t)(uintptr_t)site); /* the writer makes it a location id */
    p = vt_varint_put(p, (uint64_t)(z->g[0].n > 0) + (uint64_t)(z->g[1].n > 0));
    for (int gi = 0; gi < 2; gi++) {
        const struct zc_group *g = &z->g[gi];
        if (g->n) {
            for (int k = 0; k < 2 + g->n; k++) {
                if (k == 2)
                    p = vt_varint_put(p, (uint64_t)g->n);
                if (k >= 2)
                    p = vt_varint_put(p, g->idx[k - 2]);
                p = vt_varint_put(p, after[k] > before[k] ? after[k] - before[k] : 0);
            }
        }
        before += 2 + n_events;
        after += 2 + n_events;
    }
    vt__track_fields(t, VT_TAG_ZONE_COUNTERS, vt__now(), body, (size_t)(p - body));
out:
    errno = saved;
}

void vt__zc_round(void)
{
    if (!configured || announced)
        return;
    announced = 1;
    for (int i = 0; i < n_events; i++) {
        const struct zc_event *e = &events[i];
        uint64_t v[6] = {(uint64_t)i,       (uint64_t)e->status, (uint64_t)e->group,
                         (uint64_t)e->type, e->config[0],        (uint64_t)e->flags};
        vt__merge_put_cpu(&(struct vt_cpu_rec){.tag = VT_TAG_ZONE_COUNTER_EVENT,
                                               .n = 6,
                                               .v = v,
                                               .str = e->name,
                                               .str_len = strlen(e->name)});
    }
}

/* libvitals' door into the agent (lib-api.h): zones, counters, gauges, frame marks and tasks
 * recorded into the calling thread's buffer, the source of pool and cache figures, and the
 * zones-only mode in which libvitals loads the agent itself (VITALS_TRACE=FILE). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/lib-api.h"
#include "util/error.h"
#include "util/varint.h"

int vt__zones_only;
static _Atomic(vt_lib_stats_collect_fn) stats_source;

static int api_recording(void)
{
    return atomic_load_explicit(&vt__state, memory_order_relaxed) == VT_STATE_TRACING;
}

static void named(int tag, const void *name, uint64_t value)
{
    struct vt_thread *t = vt__enter();
    if (!t)
        return;
    vt__track_named(t, tag, name, value);
    vt__leave(t);
}

static void api_counter_add(const char *name, int64_t n)
{
    named(VT_TAG_COUNTER, name, vt_zigzag(n));
}

static void api_gauge_set(const char *name, double value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof(bits));
    named(VT_TAG_GAUGE, name, bits);
}

static void api_frame_mark(const char *name)
{
    named(VT_TAG_FRAME, name, 0);
}

/* Parses "name: value" lines of /proc/thread-self/io. */
static uint64_t io_field(const char *buf, size_t n, const char *name)
{
    size_t l = strlen(name);
    for (size_t i = 0; i + l < n; i++) {
        if ((i == 0 || buf[i - 1] == '\n') && memcmp(buf + i, name, l) == 0 && buf[i + l] == ':') {
            uint64_t v = 0;
            for (i += l + 1; i < n && buf[i] == ' '; i++)
                ;
            for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
                v = v * 10 + (uint64_t)(buf[i] - '0');
            return v;
        }
    }
    return 0;
}

/* The calling thread's usage now: CPU times and context switches (getrusage), I/O bytes
 * (/proc/thread-self/io, absent without task accounting in the kernel). */
static void usage_now(uint64_t *u)
{
    int saved_errno = errno;
    memset(u, 0, VT_TASK_FIELDS * sizeof(*u));
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) == 0) {
        u[VT_TASK_FLAGS] |= VT_TASK_HAS_RUSAGE;
        u[VT_TASK_USER_NS] =
            (uint64_t)ru.ru_utime.tv_sec * 1000000000u + (uint64_t)ru.ru_utime.tv_usec * 1000u;
        u[VT_TASK_SYS_NS] =
            (uint64_t)ru.ru_stime.tv_sec * 1000000000u + (uint64_t)ru.ru_stime.tv_usec * 1000u;
        u[VT_TASK_VCSW] = (uint64_t)ru.ru_nvcsw;
        u[VT_TASK_IVCSW] = (uint64_t)ru.ru_nivcsw;
    }
    int fd = open("/proc/thread-self/io", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[512];
        ssize_t n;
        do
            n = read(fd, buf, sizeof(buf));
        while (n < 0 && errno == EINTR);
        close(fd);
        if (n > 0) {
            u[VT_TASK_FLAGS] |= VT_TASK_HAS_IO;
            u[VT_TASK_RCHAR] = io_field(buf, (size_t)n, "rchar");
            u[VT_TASK_WCHAR] = io_field(buf, (size_t)n, "wchar");
            u[VT_TASK_READ_BYTES] = io_field(buf, (size_t)n, "read_bytes");
            u[VT_TASK_WRITE_BYTES] = io_field(buf, (size_t)n, "write_bytes");
        }
    }
    fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[128];
        ssize_t n;
        do
            n = read(fd, buf, sizeof(buf));
        while (n < 0 && errno == EINTR);
        close(fd);
        /* "on-CPU ns, runqueue wait ns, timeslices" */
        ssize_t i = 0;
        while (i < n && buf[i] != ' ')
            i++;
        if (i < n) {
            uint64_t v = 0;
            for (i++; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
                v = v * 10 + (uint64_t)(buf[i] - '0');
            u[VT_TASK_FLAGS] |= VT_TASK_HAS_SCHED;
            u[VT_TASK_RUN_DELAY_NS] = v;
        }
    }
    errno = saved_errno;
}

static void task(const char *name, const char *kind)
{
    uint64_t u[VT_TASK_FIELDS];
    /* Measured outside the agent's critical section: reading /proc takes microseconds. At the
     * start the usage is taken last, at the end first, so the agent's own reads count little. */
    if (!api_recording())
        return;
    usage_now(u);
    struct vt_thread *t = vt__enter();
    if (!t)
        return;
    vt__track_task(t, name, kind, u);
    vt__leave(t);
}

static void api_task_begin(const char *name, const char *kind)
{
    task(name, kind);
}

static void api_task_end(void)
{
    task(NULL, NULL);
}

static void api_set_stats_source(vt_lib_stats_collect_fn collect)
{
    atomic_store(&stats_source, collect);
}

int vt__lib_stats_collect(struct vt_lib_stats_sink *sink)
{
    vt_lib_stats_collect_fn fn = atomic_load(&stats_source);
    if (!fn)
        return 0;
    fn(sink);
    return 1;
}

/* Final figures of pools and caches the program freed, until the writer takes them. */
#define VT_FINAL_MAX 64
static struct final_stats {
    const void *id;
    int cache;
    struct vt_pool_stats pool;
    struct vt_cache_stats cache_stats;
    char name[128];
} finals[VT_FINAL_MAX];
static size_t n_finals;
static atomic_flag finals_lock = ATOMIC_FLAG_INIT;

static void finals_take_lock(void)
{
    while (atomic_flag_test_and_set_explicit(&finals_lock, memory_order_acquire))
        sched_yield();
}

void vt__lib_stats_final(const void *id, const struct vt_pool_stats *pool,
                         const struct vt_cache_stats *cache)
{
    if (!api_recording())
        return;
    finals_take_lock();
    if (n_finals < VT_FINAL_MAX) {
        struct final_stats *f = &finals[n_finals++];
        const char *name = pool ? pool->name : cache->name;
        size_t n = name ? strnlen(name, sizeof(f->name) - 1) : 0;
        f->id = id;
        f->cache = !pool;
        if (pool)
            f->pool = *pool;
        else
            f->cache_stats = *cache;
        memcpy(f->name, name ? name : "", n);
        f->name[n] = 0;
        f->pool.name = f->cache_stats.name = f->name;
    }
    atomic_flag_clear_explicit(&finals_lock, memory_order_release);
}

void vt__lib_stats_take_final(void (*fn)(const void *id, const struct vt_pool_stats *pool,
                                         const struct vt_cache_stats *cache))
{
    finals_take_lock();
    for (size_t i = 0; i < n_finals; i++)
        fn(finals[i].id, finals[i].cache ? NULL : &finals[i].pool,
           finals[i].cache ? &finals[i].cache_stats : NULL);
    n_finals = 0;
    atomic_flag_clear_explicit(&finals_lock, memory_order_release);
}

static void api_final_stats(const void *id, const struct vt_pool_stats *pool,
                            const struct vt_cache_stats *cache)
{
    if (id && (pool || cache))
        vt__lib_stats_final(id, pool, cache);
}

static int api_start_zones_only(const char *path)
{
    if (atomic_load(&vt__initialized))
        return api_recording() ? 0 : VT_EINVAL;
    if (!path || !*path || strlen(path) >= sizeof(vt__config.output))
        return VT_EINVAL;
    vt__zones_only = 1;
    memcpy(vt__config.output, path, strlen(path) + 1);
    vt__agent_init();
    return api_recording() ? 0 : VT_EIO;
}

static const struct vt_agent_lib_api api = {
    .version = VT_AGENT_LIB_API_VERSION,
    .size = sizeof(struct vt_agent_lib_api),
    .start_zones_only = api_start_zones_only,
    .recording = api_recording,
    .zone_begin = vt__zone_begin_now,
    .zone_end = vt__zone_end_now,
    .counter_add = api_counter_add,
    .gauge_set = api_gauge_set,
    .frame_mark = api_frame_mark,
    .task_begin = api_task_begin,
    .task_end = api_task_end,
    .set_stats_source = api_set_stats_source,
    .final_stats = api_final_stats,
};

/* The agent's one entry point for libvitals (exported by agent.map). */
__attribute__((visibility("default"))) const struct vt_agent_lib_api *vt__agent_lib_api(void)
{
    /* Preloaded, the agent may not have started yet when libvitals' constructor asks. */
    if (!vt__zones_only && !atomic_load(&vt__initialized) && vt__preloaded())
        vt__agent_init();
    return &api;
}

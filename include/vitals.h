/* vitals.h: the public API of libvitals, the library a program links to instrument itself.
 * It is the only installed header of vitals. It compiles as C (C99 and later) and as C++, and
 * includes standard headers only. Link with `pkg-config --cflags --libs vitals`.
 *
 * Conventions: every name is prefixed vt_ or VT_. Functions returning int return 0 on success
 * and a negative VT_E* code on failure (vt_strerror() describes it); functions returning a
 * pointer return NULL on failure. The comment above each function says who owns what.
 *
 * Contents: error codes; object pools (vt_pool); caches (vt_cache). Zones and counters, the
 * instrumentation macros that compile to nothing under VITALS_DISABLE, come in a section of
 * their own. Pools and caches are working data structures, not instrumentation: they stay
 * when VITALS_DISABLE is defined. docs/API.md has examples. */
#ifndef VITALS_H
#define VITALS_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define VT_API __attribute__((visibility("default")))
#else
#define VT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Errors. The one list of error codes of vitals; the enum and vt_strerror() are generated from
 * it. */
#define VT_ERRNO_MAP(X)                                                                            \
    X(NOMEM, "out of memory")                                                                      \
    X(IO, "input/output error")                                                                    \
    X(NOENT, "no such file")                                                                       \
    X(EXIST, "file exists")                                                                        \
    X(BADMAGIC, "not a vitals trace")                                                              \
    X(VERSION, "unsupported trace format version")                                                 \
    X(TRUNCATED, "truncated trace")                                                                \
    X(CORRUPT, "corrupted trace")                                                                  \
    X(INVAL, "invalid argument")                                                                   \
    X(NOSPC, "no space left on device")                                                            \
    X(SYMBOLS, "cannot read symbols")                                                              \
    X(NOTFOUND, "no such entry")                                                                   \
    X(TOOBIG, "too large")

enum {
    VT_OK = 0,
#define VT_ERR_ENUM(name, msg) VT_E##name,
    VT__ERR_FIRST = -100,
    VT_ERRNO_MAP(VT_ERR_ENUM)
#undef VT_ERR_ENUM
};

/* Returns a static description of a VT_E* code (or of 0). */
VT_API const char *vt_strerror(int err);

/* Object pools: fixed-size objects recycled instead of freed.
 *
 * acquire hands out an object, release takes it back for the next acquire. Each thread keeps a
 * small cache of free objects per pool, so acquire and release take no lock in the common case;
 * a thread's cache refills from and spills to the pool's shared free list under a lock, and is
 * given back to the pool when the thread exits. Objects are made in slabs of many at a time.
 *
 * An object comes back from acquire either new (all bytes zero) or as the reset callback left it
 * when it was released. Objects are aligned to 16 bytes. Releasing an object to a pool other
 * than its own, or twice, is undefined behaviour. */
typedef struct vt_pool vt_pool;

/* Called by vt_pool_release() on the object before it is kept for reuse: puts it back into the
 * state acquire should hand out. user is the pointer given to vt_pool_new(). */
typedef void (*vt_pool_reset_fn)(void *object, void *user);

/* Figures of a pool, filled by vt_pool_stats(); the struct and the function share a name, as
 * struct stat and stat() do. */
struct vt_pool_stats {
    const char *name;       /* borrowed from the pool, valid until vt_pool_free() */
    size_t object_size;     /* as given to vt_pool_new() */
    uint64_t max;           /* the most objects the pool makes (0: no limit) */
    uint64_t created;       /* objects the pool has made (never more than max) */
    uint64_t in_use;        /* acquired and not yet released, pool and malloc objects alike */
    uint64_t high_water;    /* the most objects in use at one time (see docs/API.md) */
    uint64_t acquires;      /* calls of vt_pool_acquire() that returned an object */
    uint64_t served_pool;   /* acquires served by an object of the pool */
    uint64_t served_malloc; /* acquires served by malloc because the pool was at max */
    uint64_t reused;        /* acquires served by an object released before */
    uint64_t releases;      /* calls of vt_pool_release() */
    double reuse_ratio;     /* reused / acquires; 0 before the first acquire */
};

/* Makes a pool of objects of object_size bytes (at least 1), named name (copied; for reports).
 * initial objects are made at once; max bounds how many the pool makes in all (0: no bound):
 * an acquire when all max objects are in use is served by malloc instead, counted in
 * served_malloc, and such an object is freed by its release. reset (may be NULL) is called on
 * every released object, with user. Returns NULL when out of memory or when initial > max > 0.
 * The caller frees the pool with vt_pool_free(). */
VT_API vt_pool *vt_pool_new(const char *name, size_t object_size, size_t initial, size_t max,
                            vt_pool_reset_fn reset, void *user);

/* Frees the pool and every object it made, in use or not (objects malloc served beyond max are
 * freed by their release only). No thread may use the pool, or any of its objects, during or
 * after the call. vt_pool_free(NULL) does nothing. */
VT_API void vt_pool_free(vt_pool *pool);

/* Returns an object of the pool, owned by the caller until vt_pool_release(); NULL only when
 * out of memory. Thread-safe. */
VT_API void *vt_pool_acquire(vt_pool *pool);

/* Gives object (from vt_pool_acquire() on the same pool; NULL does nothing) back: calls the
 * reset callback on it, then keeps it for reuse, or frees it if malloc served it. Any thread
 * may release an object any thread acquired. */
VT_API void vt_pool_release(vt_pool *pool, void *object);

/* Fills *out with the pool's figures: exact when no other thread is using the pool, otherwise
 * a consistent-enough snapshot (each counter is read once). Returns 0, or VT_EINVAL for NULL
 * arguments. */
VT_API int vt_pool_stats(const vt_pool *pool, struct vt_pool_stats *out);

/* Caches: byte-string keys mapped to byte-string values, both copied in; thread-safe (one lock
 * per cache, or per shard); every operation O(1) except clear and clear_expired.
 *
 * An entry costs its key, its value and VT_CACHE_ENTRY_OVERHEAD bytes against the byte budget;
 * when a put takes the cache over budget the least recently used entries leave. With a
 * compressed tier (compressed_max_bytes > 0), they are compressed with zstd and kept there,
 * under their own budget, instead; a get of such an entry decompresses it and moves it back to
 * the main tier. Entries may carry a time to live; an expired entry is never returned. */
typedef struct vt_cache vt_cache;

/* What each entry costs beyond its key and value bytes (its header), in either tier. */
#define VT_CACHE_ENTRY_OVERHEAD 64

/* Why an entry left the cache, given to the eviction callback. */
enum vt_cache_reason {
    VT_CACHE_EVICTED = 1, /* out of budget: the least recently used entry of the last tier */
    VT_CACHE_EXPIRED = 2  /* its time to live ran out (seen by get, put or clear_expired) */
};

/* Called when an entry leaves the cache by eviction or expiry (not by remove, clear, a put of
 * the same key or vt_cache_free()). key is borrowed for the call. It runs with the cache's lock
 * held: it must not call functions of the same cache. */
typedef void (*vt_cache_evict_fn)(const void *key, size_t key_len, size_t value_len,
                                  enum vt_cache_reason reason, void *user);

/* Returns the current time in nanoseconds; used for times to live. */
typedef uint64_t (*vt_cache_clock_fn)(void *user);

/* Settings of vt_cache_new(); zero means the default for every field. */
struct vt_cache_config {
    const char *name;            /* for reports (copied); default "cache" */
    size_t max_bytes;            /* budget of the main tier; required (> 0) */
    size_t compressed_max_bytes; /* budget of the compressed tier; 0: no such tier */
    int compression_level;       /* zstd level; default 1 */
    uint64_t default_ttl_ns;     /* time to live of a put with ttl_ns 0; default 0: none */
    vt_cache_clock_fn now_fn;    /* default: CLOCK_MONOTONIC */
    void *clock_user;
    vt_cache_evict_fn on_evict; /* may be NULL */
    void *evict_user;
    unsigned lookup_sample; /* time one get in this many (a power of two); default 16 */
    unsigned shards;        /* independent LRU shards, each with its own lock and 1/shards of
                               both budgets (a power of two, at most 1024); default 1: one
                               lock, exact LRU order over the whole cache */
};

/* Figures of a cache, filled by vt_cache_stats(). Times are of the sampled gets (see
 * docs/API.md for the method and its error). */
struct vt_cache_stats {
    const char *name;              /* borrowed, valid until vt_cache_free() */
    uint64_t gets;                 /* calls of vt_cache_get() */
    uint64_t hits;                 /* gets that found the key, in either tier */
    uint64_t hits_compressed;      /* of which in the compressed tier */
    uint64_t misses;               /* gets that did not (expired entries included) */
    uint64_t puts;                 /* successful calls of vt_cache_put() */
    uint64_t evictions;            /* entries that left the last tier for the budget */
    uint64_t demotions;            /* entries moved from the main to the compressed tier */
    uint64_t expirations;          /* entries dropped because their time ran out */
    uint64_t entries;              /* entries now in the main tier */
    uint64_t entries_compressed;   /* entries now in the compressed tier */
    uint64_t bytes;                /* bytes charged to the main tier (<= max_bytes) */
    uint64_t bytes_compressed;     /* bytes charged to the compressed tier */
    uint64_t raw_bytes_compressed; /* what the compressed tier's values hold uncompressed */
    double compression_ratio;      /* raw / compressed value bytes of that tier; 0 if empty */
    double hit_rate;               /* hits / gets; 0 before the first get */
    uint64_t timed_gets;           /* gets whose time was measured */
    double lookup_avg_ns;          /* mean time of the measured gets */
    double lookup_p99_ns;          /* 99th percentile, from a log-scale histogram (within 3.2%) */
};

/* Makes a cache with the settings in *config (read during the call only). Returns NULL when out
 * of memory or when a setting is invalid (max_bytes 0 or not over VT_CACHE_ENTRY_OVERHEAD per
 * shard, lookup_sample or shards not a power of two). The caller frees it with
 * vt_cache_free(). */
VT_API vt_cache *vt_cache_new(const struct vt_cache_config *config);

/* Frees the cache and every entry, without calling the eviction callback. vt_cache_free(NULL)
 * does nothing. */
VT_API void vt_cache_free(vt_cache *cache);

/* Stores a copy of key (key_len bytes, at least 1) and value (value_len bytes, may be 0),
 * replacing any entry of that key, as the most recently used. ttl_ns is its time to live (0:
 * the default of the config). Evicts (or demotes) least recently used entries to stay within
 * budget. Returns 0, VT_ETOOBIG if the entry alone is over the main budget (of its shard),
 * VT_ENOMEM, or VT_EINVAL. */
VT_API int vt_cache_put(vt_cache *cache, const void *key, size_t key_len, const void *value,
                        size_t value_len, uint64_t ttl_ns);

/* Looks key up. On a hit, copies up to buf_size bytes of the value into buf (which may be NULL
 * when buf_size is 0), sets *value_len (if not NULL) to the value's whole length, makes the
 * entry the most recently used and returns 0; the copy was cut short if *value_len > buf_size.
 * Returns VT_ENOTFOUND on a miss (or an expired entry), VT_ENOMEM if a compressed entry could
 * not be brought back, VT_EINVAL for bad arguments. */
VT_API int vt_cache_get(vt_cache *cache, const void *key, size_t key_len, void *buf,
                        size_t buf_size, size_t *value_len);

/* Removes key's entry. Returns 0, or VT_ENOTFOUND if there was none. */
VT_API int vt_cache_remove(vt_cache *cache, const void *key, size_t key_len);

/* Removes every entry (no callbacks); the statistics stay. */
VT_API void vt_cache_clear(vt_cache *cache);

/* Removes every expired entry, calling the eviction callback for each; returns how many. */
VT_API size_t vt_cache_clear_expired(vt_cache *cache);

/* Fills *out with the cache's figures. Returns 0, or VT_EINVAL for NULL arguments. */
VT_API int vt_cache_stats(vt_cache *cache, struct vt_cache_stats *out);

/* Zones, counters, gauges, frame marks and tasks: instrumentation recorded into the trace of
 * `vitals run`, or of VITALS_TRACE=FILE when the program runs without it. Recording is off
 * otherwise, and then each call costs one predictable branch. With VITALS_DISABLE defined
 * every macro and function of this section compiles to nothing, and a program that uses only
 * this section needs no libvitals at all.
 *
 *   void parse(const char *s)
 *   {
 *       VT_ZONE("parse");            // ends with the scope
 *       if (!*s)
 *           VT_ZONE_FAIL();          // counted as an error when the zone ends
 *       vt_counter_add("bytes parsed", strlen(s));
 *   }
 *
 * Names given to the functions below (counters, gauges, frames, tasks) are read later by the
 * recorder: they must stay valid and unchanged while the program runs (string literals). */

/* Where a zone is: one static const object per call site, made by the macros below. */
struct vt_source_location {
    const char *name;     /* the zone's name; NULL: the function's */
    const char *function; /* __func__ */
    const char *file;
    uint32_t line;
};

/* An open zone, from vt_zone_begin(); ended by vt_zone_end() on the same thread, innermost
 * first. Its fields are private. */
typedef struct vt_zone {
    uint64_t start; /* when it began, in the recorder's clock; 0: not recorded */
    int failed;     /* set by vt_zone_fail() */
} vt_zone;

#ifndef VITALS_DISABLE
#if defined(__GNUC__) || defined(__clang__)
#define VT__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define VT__UNLIKELY(x) (x)
#endif

/* Private: non-zero while a recorder takes events. Read by the inline functions below. */
VT_API extern int vt__recording;
VT_API extern uint64_t (*vt__zone_begin_fn)(const struct vt_source_location *loc);
VT_API extern void (*vt__zone_end_fn)(uint64_t start, int failed);
VT_API void vt__counter_add(const char *name, int64_t n);
VT_API void vt__gauge_set(const char *name, double value);
VT_API void vt__frame_mark(const char *name);
VT_API void vt__task_begin(const char *name, const char *kind);
VT_API void vt__task_end(void);

/* Opens a zone at loc (static, from VT_ZONE_BEGIN or a struct of the caller's that lives as
 * long as the program). Returns its handle for vt_zone_end(). */
static inline vt_zone vt_zone_begin(const struct vt_source_location *loc)
{
    vt_zone z = {0, 0};
    if (VT__UNLIKELY(vt__recording))
        z.start = vt__zone_begin_fn(loc);
    return z;
}

/* Ends zone z (its duration is recorded; as an error if vt_zone_fail() marked it). */
static inline void vt_zone_end(vt_zone z)
{
    if (VT__UNLIKELY(z.start))
        vt__zone_end_fn(z.start, z.failed);
}

/* Ends zone z and counts it as an error (a failed call, a rejected request). */
static inline void vt_zone_end_error(vt_zone z)
{
    if (VT__UNLIKELY(z.start))
        vt__zone_end_fn(z.start, 1);
}

/* Marks zone *z so that it ends as an error. */
static inline void vt_zone_fail(vt_zone *z)
{
    z->failed = 1;
}

/* Adds n to the counter called name (created at its first use, from 0). */
static inline void vt_counter_add(const char *name, int64_t n)
{
    if (VT__UNLIKELY(vt__recording))
        vt__counter_add(name, n);
}

/* Sets the gauge called name to value (a level: queue length, bytes held...). */
static inline void vt_gauge_set(const char *name, double value)
{
    if (VT__UNLIKELY(vt__recording))
        vt__gauge_set(name, value);
}

/* Marks the end of a frame or iteration of the loop called name (NULL: the main loop). */
static inline void vt_frame_mark(const char *name)
{
    if (VT__UNLIKELY(vt__recording))
        vt__frame_mark(name);
}

/* Starts a task (a unit of work: a request, a job) called name, of kind kind (tasks of a kind
 * are compared with each other), on the calling thread: its wall time, CPU time, allocations,
 * I/O and context switches until vt_task_end() on the same thread are recorded. Tasks nest;
 * vt_task_end() ends the innermost. */
static inline void vt_task_begin(const char *name, const char *kind)
{
    if (VT__UNLIKELY(vt__recording))
        vt__task_begin(name, kind);
}

static inline void vt_task_end(void)
{
    if (VT__UNLIKELY(vt__recording))
        vt__task_end();
}

#define VT__CAT2(a, b) a##b
#define VT__CAT(a, b) VT__CAT2(a, b)
#define VT__LOC(name) VT__CAT(vt__loc_, __LINE__)
#define VT__DEFINE_LOC(name)                                                                       \
    static const struct vt_source_location VT__LOC(name) = {name, __func__, __FILE__, __LINE__}

/* Declares zone variable var and opens it at this line, called name (a string literal). */
#define VT_ZONE_BEGIN(var, name)                                                                   \
    VT__DEFINE_LOC(name);                                                                          \
    vt_zone var = vt_zone_begin(&VT__LOC(name))

#ifdef __cplusplus
#define VT__SCOPED(name)                                                                           \
    VT__DEFINE_LOC(name);                                                                          \
    vt__scoped_zone vt__zone_scope(&VT__LOC(name))
#define VT_ZONE_FAIL() vt_zone_fail(&vt__zone_scope.zone)
#else
static inline void vt__zone_cleanup(vt_zone *z)
{
    vt_zone_end(*z);
}
#define VT__SCOPED(name)                                                                           \
    VT__DEFINE_LOC(name);                                                                          \
    vt_zone vt__zone_scope __attribute__((cleanup(vt__zone_cleanup))) =                            \
        vt_zone_begin(&VT__LOC(name))
#define VT_ZONE_FAIL() vt_zone_fail(&vt__zone_scope)
#endif

/* A zone called name from here to the end of the scope (one per scope). */
#define VT_ZONE(name) VT__SCOPED(name)
/* The same, named after the enclosing function. */
#define VT_ZONE_FN() VT__SCOPED(NULL)
/* The end of an iteration of the main loop. */
#define VT_FRAME_MARK vt_frame_mark(NULL)

#else /* VITALS_DISABLE: nothing is recorded and nothing refers to libvitals */

static inline vt_zone vt_zone_begin(const struct vt_source_location *loc)
{
    vt_zone z = {0, 0};
    (void)loc;
    return z;
}
static inline void vt_zone_end(vt_zone z)
{
    (void)z;
}
static inline void vt_zone_end_error(vt_zone z)
{
    (void)z;
}
static inline void vt_zone_fail(vt_zone *z)
{
    (void)z;
}
static inline void vt_counter_add(const char *name, int64_t n)
{
    (void)name;
    (void)n;
}
static inline void vt_gauge_set(const char *name, double value)
{
    (void)name;
    (void)value;
}
static inline void vt_frame_mark(const char *name)
{
    (void)name;
}
static inline void vt_task_begin(const char *name, const char *kind)
{
    (void)name;
    (void)kind;
}
static inline void vt_task_end(void) {}
#define VT_ZONE_BEGIN(var, name) vt_zone var = {0, 0}
#define VT_ZONE(name)
#define VT_ZONE_FN()
#define VT_ZONE_FAIL() ((void)0)
#define VT_FRAME_MARK ((void)0)
#endif /* VITALS_DISABLE */

#ifdef __cplusplus
}
#endif

#if defined(__cplusplus) && !defined(VITALS_DISABLE)
/* Private: the RAII form of VT_ZONE. */
struct vt__scoped_zone {
    vt_zone zone;
    explicit vt__scoped_zone(const struct vt_source_location *loc) : zone(vt_zone_begin(loc)) {}
    ~vt__scoped_zone()
    {
        vt_zone_end(zone);
    }
    vt__scoped_zone(const vt__scoped_zone &) = delete;
    vt__scoped_zone &operator=(const vt__scoped_zone &) = delete;
};
#endif

#endif

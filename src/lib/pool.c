/* vt_pool: fixed-size objects recycled through per-thread magazines and a shared free list.
 *
 * Every object has a 16-byte header in front of it: the link of the free lists and a tag (the
 * pool, whether malloc served it, whether it was ever handed out). A thread keeps, per pool, a
 * magazine of up to MAG_CAP free objects; acquire pops from it and release pushes to it with no
 * lock and no atomic read-modify-write. An empty magazine takes MAG_MOVE objects from the
 * pool's free list (making a new slab if that is empty and the pool is under its max); a full
 * one gives MAG_MOVE back. The counters of a magazine are written by its thread only (relaxed
 * atomic stores, so that vt_pool_stats() may read them) and summed on demand.
 *
 * Lifetimes: a magazine is on its thread's list (the thread alone walks it) and on its pool's
 * list (under the pool's lock). At thread exit a key destructor gives each magazine's objects
 * and counters back to its pool; vt_pool_free() instead marks the pool's magazines dead, and
 * their threads free them later. Both hold vt__lib_lock, so that neither sees the other half
 * done. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib-int.h"

#define MAG_CAP 64
#define MAG_MOVE 32
#define SLAB_MAX_BYTES (1u << 20)

#define TAG_MALLOC ((uintptr_t)1) /* served by malloc: freed by its release */
#define TAG_SERVED ((uintptr_t)2) /* handed out at least once */
#define TAG_FLAGS (TAG_MALLOC | TAG_SERVED)

struct hdr {
    struct hdr *next;
    uintptr_t tag; /* the pool's address | TAG_* */
};

struct slab {
    struct slab *next;
    size_t pad; /* keeps the objects after it 16-byte aligned */
};

/* Counters of a magazine (and, for magazines given back, of the pool): written by one thread,
 * read by any. */
struct counts {
    _Atomic uint64_t acq_pool, acq_malloc, reused, releases, high_water;
};

struct mag {
    vt_pool *pool;
    struct mag *pnext, *pprev; /* on the pool's list, under its lock */
    struct mag *tnext;         /* on the thread's list, the thread's own */
    _Atomic int dead;          /* the pool was freed */
    unsigned count;
    int64_t delta; /* acquires minus releases not yet published to the pool */
    struct counts c;
    struct hdr *objs[MAG_CAP];
};

struct vt_pool {
    struct vt__lib_node node;
    pthread_mutex_t lock;
    char *name;
    size_t object_size, stride;
    uint64_t max;
    vt_pool_reset_fn reset;
    void *user;
    /* Under the lock. */
    struct hdr *free_list;
    struct slab *slabs;
    uint64_t created, next_slab;
    struct mag mags;    /* head of the list of live magazines */
    struct counts gone; /* of magazines given back, and of calls made without a magazine */
    /* The sum of the magazines' published deltas: objects in use, give or take what the other
     * threads have not published yet (at most MAG_CAP each). */
    _Atomic int64_t in_use_pub;
};

struct tls {
    struct mag *last; /* the magazine used last: the fast path */
    struct mag *list;
    int keyed;
};

/* initial-exec: a plain %fs-relative access instead of a __tls_get_addr call on every acquire
 * and release through libvitals.so (12.5 against 7 ns a pair in bench/lib.sh). The few bytes
 * fit the static TLS that glibc keeps for libraries loaded with dlopen. */
static _Thread_local struct tls tls __attribute__((tls_model("initial-exec")));
static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;

static inline uint64_t get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* An increment by the counter's only writer: a plain load and store, no locked instruction. */
static inline void bump(_Atomic uint64_t *c, uint64_t by)
{
    atomic_store_explicit(c, get(c) + by, memory_order_relaxed);
}

static inline void raise_to(_Atomic uint64_t *c, uint64_t v)
{
    if (v > get(c))
        atomic_store_explicit(c, v, memory_order_relaxed);
}

vt_pool *vt__pool_of_node(struct vt__lib_node *node)
{
    return (vt_pool *)((char *)node - offsetof(vt_pool, node));
}

/* Adds one slab of n new objects to the free list. Called with the lock held. */
static int grow(vt_pool *p, uint64_t n)
{
    struct slab *s = calloc(1, sizeof(*s) + n * p->stride);
    if (!s)
        return VT_ENOMEM;
    s->next = p->slabs;
    p->slabs = s;
    char *base = (char *)(s + 1);
    for (uint64_t i = n; i-- > 0;) {
        struct hdr *h = (struct hdr *)(base + i * p->stride);
        h->tag = (uintptr_t)p;
        h->next = p->free_list;
        p->free_list = h;
    }
    p->created += n;
    return 0;
}

/* How many objects the next slab holds: as many as the pool has (so that slabs double), at
 * least MAG_MOVE, at most SLAB_MAX_BYTES' worth (but one), never beyond max. */
static uint64_t slab_size(const vt_pool *p)
{
    uint64_t n = p->created < MAG_MOVE ? MAG_MOVE : p->created;
    uint64_t cap = SLAB_MAX_BYTES / p->stride;
    if (n > cap)
        n = cap ? cap : 1;
    if (p->max && n > p->max - p->created)
        n = p->max - p->created;
    return n;
}

static void publish(vt_pool *p, struct mag *m)
{
    if (m->delta) {
        atomic_fetch_add_explicit(&p->in_use_pub, m->delta, memory_order_relaxed);
        m->delta = 0;
    }
}

vt_pool *vt_pool_new(const char *name, size_t object_size, size_t initial, size_t max,
                     vt_pool_reset_fn reset, void *user)
{
    if (object_size == 0 || (max && initial > max) || object_size > SIZE_MAX / 4)
        return NULL;
    vt_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->name = strdup(name ? name : "pool");
    if (!p->name)
        goto fail;
    p->object_size = object_size;
    p->stride = sizeof(struct hdr) + ((object_size + 15) & ~(size_t)15);
    p->max = max;
    p->reset = reset;
    p->user = user;
    p->mags.pnext = p->mags.pprev = &p->mags;
    if (pthread_mutex_init(&p->lock, NULL) != 0)
        goto fail;
    if (initial && grow(p, initial) < 0) {
        pthread_mutex_destroy(&p->lock);
        goto fail;
    }
    vt__lib_register_pool(&p->node);
    return p;
fail:
    free(p->name);
    free(p);
    return NULL;
}

/* Gives a magazine's objects and counters back to its pool. Called with the pool's lock. */
static void give_back(vt_pool *p, struct mag *m)
{
    publish(p, m);
    for (unsigned i = 0; i < m->count; i++) {
        m->objs[i]->next = p->free_list;
        p->free_list = m->objs[i];
    }
    m->count = 0;
    bump(&p->gone.acq_pool, get(&m->c.acq_pool));
    bump(&p->gone.acq_malloc, get(&m->c.acq_malloc));
    bump(&p->gone.reused, get(&m->c.reused));
    bump(&p->gone.releases, get(&m->c.releases));
    raise_to(&p->gone.high_water, get(&m->c.high_water));
    m->pnext->pprev = m->pprev;
    m->pprev->pnext = m->pnext;
}

static void thread_exit(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&vt__lib_lock);
    for (struct mag *m = tls.list, *next; m; m = next) {
        next = m->tnext;
        if (!atomic_load_explicit(&m->dead, memory_order_relaxed)) {
            pthread_mutex_lock(&m->pool->lock);
            give_back(m->pool, m);
            pthread_mutex_unlock(&m->pool->lock);
        }
        free(m);
    }
    pthread_mutex_unlock(&vt__lib_lock);
    tls.list = tls.last = NULL;
    tls.keyed = 0;
}

static void make_thread_key(void)
{
    pthread_key_create(&thread_key, thread_exit);
}

/* Frees the calling thread's magazines whose pool is gone. */
static void reap_dead(void)
{
    struct mag **link = &tls.list;
    while (*link) {
        struct mag *m = *link;
        if (atomic_load_explicit(&m->dead, memory_order_relaxed)) {
            *link = m->tnext;
            if (tls.last == m)
                tls.last = NULL;
            free(m);
        } else {
            link = &m->tnext;
        }
    }
}

/* The calling thread's magazine for p, made if need be; NULL when out of memory. */
static struct mag *mag_find(vt_pool *p)
{
    reap_dead();
    for (struct mag *m = tls.list; m; m = m->tnext) {
        if (m->pool == p)
            return tls.last = m;
    }
    if (!tls.keyed) {
        pthread_once(&thread_key_once, make_thread_key);
        if (pthread_setspecific(thread_key, &tls) != 0)
            return NULL;
        tls.keyed = 1;
    }
    struct mag *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->pool = p;
    m->tnext = tls.list;
    tls.list = m;
    pthread_mutex_lock(&p->lock);
    m->pnext = p->mags.pnext;
    m->pprev = &p->mags;
    p->mags.pnext->pprev = m;
    p->mags.pnext = m;
    pthread_mutex_unlock(&p->lock);
    return tls.last = m;
}

static inline struct mag *mag_get(vt_pool *p)
{
    struct mag *m = tls.last;
    if (m && m->pool == p && !atomic_load_explicit(&m->dead, memory_order_relaxed))
        return m;
    return mag_find(p);
}

/* Takes a free object from the shared list, making a slab if it is empty and the pool may grow,
 * and moves up to MAG_MOVE - 1 more into the magazine. NULL when the pool is at max. */
static struct hdr *refill(vt_pool *p, struct mag *m)
{
    pthread_mutex_lock(&p->lock);
    publish(p, m);
    if (!p->free_list && (!p->max || p->created < p->max))
        grow(p, slab_size(p));
    struct hdr *h = p->free_list;
    if (h) {
        p->free_list = h->next;
        while (m->count < MAG_MOVE - 1 && p->free_list) {
            m->objs[m->count++] = p->free_list;
            p->free_list = p->free_list->next;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return h;
}

/* Moves the MAG_MOVE oldest objects of a full magazine to the shared list. */
static void spill(vt_pool *p, struct mag *m)
{
    pthread_mutex_lock(&p->lock);
    publish(p, m);
    for (unsigned i = 0; i < MAG_MOVE; i++) {
        m->objs[i]->next = p->free_list;
        p->free_list = m->objs[i];
    }
    pthread_mutex_unlock(&p->lock);
    memmove(m->objs, m->objs + MAG_MOVE, (m->count - MAG_MOVE) * sizeof(m->objs[0]));
    m->count -= MAG_MOVE;
}

/* Acquire without a magazine (the thread could not make one): everything under the lock. */
static void *acquire_locked(vt_pool *p)
{
    pthread_mutex_lock(&p->lock);
    if (!p->free_list && (!p->max || p->created < p->max))
        grow(p, slab_size(p));
    struct hdr *h = p->free_list;
    if (h) {
        p->free_list = h->next;
        if (h->tag & TAG_SERVED)
            bump(&p->gone.reused, 1);
        h->tag |= TAG_SERVED;
        bump(&p->gone.acq_pool, 1);
    } else {
        h = calloc(1, p->stride);
        if (h) {
            h->tag = (uintptr_t)p | TAG_MALLOC | TAG_SERVED;
            bump(&p->gone.acq_malloc, 1);
        }
    }
    if (h) {
        int64_t now = atomic_fetch_add_explicit(&p->in_use_pub, 1, memory_order_relaxed) + 1;
        raise_to(&p->gone.high_water, (uint64_t)now);
    }
    pthread_mutex_unlock(&p->lock);
    return h ? h + 1 : NULL;
}

void *vt_pool_acquire(vt_pool *p)
{
    struct mag *m = mag_get(p);
    if (!m)
        return acquire_locked(p);
    struct hdr *h = m->count ? m->objs[--m->count] : refill(p, m);
    if (h) {
        if (h->tag & TAG_SERVED)
            bump(&m->c.reused, 1);
        else
            h->tag |= TAG_SERVED;
        bump(&m->c.acq_pool, 1);
    } else {
        h = calloc(1, p->stride);
        if (!h)
            return NULL;
        h->tag = (uintptr_t)p | TAG_MALLOC | TAG_SERVED;
        bump(&m->c.acq_malloc, 1);
    }
    /* Exact when one thread uses the pool; otherwise off by what the other threads have not
     * published yet (at most MAG_CAP objects each). */
    m->delta++;
    int64_t now = atomic_load_explicit(&p->in_use_pub, memory_order_relaxed) + m->delta;
    if (now > 0)
        raise_to(&m->c.high_water, (uint64_t)now);
    if (h->tag & TAG_MALLOC)
        publish(p, m);
    return h + 1;
}

void vt_pool_release(vt_pool *p, void *object)
{
    if (!object)
        return;
    struct hdr *h = (struct hdr *)object - 1;
    if (p->reset)
        p->reset(object, p->user);
    struct mag *m = mag_get(p);
    if (!m) {
        /* No magazine (out of memory): straight to the shared list. */
        atomic_fetch_sub_explicit(&p->in_use_pub, 1, memory_order_relaxed);
        pthread_mutex_lock(&p->lock);
        bump(&p->gone.releases, 1);
        if (!(h->tag & TAG_MALLOC)) {
            h->next = p->free_list;
            p->free_list = h;
        }
        pthread_mutex_unlock(&p->lock);
        if (h->tag & TAG_MALLOC)
            free(h);
        return;
    }
    bump(&m->c.releases, 1);
    m->delta--;
    if (h->tag & TAG_MALLOC) {
        publish(p, m);
        free(h);
        return;
    }
    if (m->count == MAG_CAP)
        spill(p, m);
    m->objs[m->count++] = h;
}

static void add_counts(struct vt_pool_stats *out, struct counts *c)
{
    out->served_pool += get(&c->acq_pool);
    out->served_malloc += get(&c->acq_malloc);
    out->reused += get(&c->reused);
    out->releases += get(&c->releases);
    if (get(&c->high_water) > out->high_water)
        out->high_water = get(&c->high_water);
}

int vt_pool_stats(const vt_pool *pool, struct vt_pool_stats *out)
{
    if (!pool || !out)
        return VT_EINVAL;
    vt_pool *p = (vt_pool *)pool;
    memset(out, 0, sizeof(*out));
    out->name = p->name;
    out->object_size = p->object_size;
    out->max = p->max;
    pthread_mutex_lock(&p->lock);
    out->created = p->created;
    add_counts(out, &p->gone);
    for (struct mag *m = p->mags.pnext; m != &p->mags; m = m->pnext)
        add_counts(out, &m->c);
    pthread_mutex_unlock(&p->lock);
    out->acquires = out->served_pool + out->served_malloc;
    out->in_use = out->acquires >= out->releases ? out->acquires - out->releases : 0;
    if (out->high_water < out->in_use)
        out->high_water = out->in_use;
    out->reuse_ratio = out->acquires ? (double)out->reused / (double)out->acquires : 0.0;
    return 0;
}

void vt_pool_free(vt_pool *p)
{
    if (!p)
        return;
    vt__lib_final_pool(p);
    pthread_mutex_lock(&vt__lib_lock);
    vt__lib_unregister_locked(&p->node);
    pthread_mutex_lock(&p->lock);
    for (struct mag *m = p->mags.pnext; m != &p->mags; m = m->pnext)
        atomic_store_explicit(&m->dead, 1, memory_order_relaxed);
    p->mags.pnext = p->mags.pprev = &p->mags;
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&vt__lib_lock);
    reap_dead();
    for (struct slab *s = p->slabs, *next; s; s = next) {
        next = s->next;
        free(s);
    }
    pthread_mutex_destroy(&p->lock);
    free(p->name);
    free(p);
}

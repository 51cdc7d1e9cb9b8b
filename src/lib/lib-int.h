/* What the files of libvitals share: the registry of live pools and caches, through which
 * other parts of vitals (the agent, to put their figures into a trace) can enumerate them. */
#ifndef VT_LIB_INT_H
#define VT_LIB_INT_H

#include <pthread.h>
#include <stddef.h>

#include "vitals.h"

/* A link in the registry, embedded in every pool and cache. */
struct vt__lib_node {
    struct vt__lib_node *prev, *next;
};

/* Adds a new pool or cache to the registry (pools and caches are kept on separate lists). */
void vt__lib_register_pool(struct vt__lib_node *node);
void vt__lib_register_cache(struct vt__lib_node *node);

/* Removes a node added above; the caller then frees its object. The _locked form is for a
 * caller that holds vt__lib_lock. */
void vt__lib_unregister(struct vt__lib_node *node);
void vt__lib_unregister_locked(struct vt__lib_node *node);

/* Calls fn(pool, arg) for every live pool, oldest first, with the registry's lock held: fn may
 * call vt_pool_stats() but must not make or free a pool. Returns how many pools there were. */
size_t vt__lib_pools_foreach(void (*fn)(vt_pool *pool, void *arg), void *arg);

/* The same for caches: fn may call vt_cache_stats() but must not make or free a cache. */
size_t vt__lib_caches_foreach(void (*fn)(vt_cache *cache, void *arg), void *arg);

/* The registry's lock; the pool takes it before a pool's own lock when a thread exits or a pool
 * is freed (pool.c). */
extern pthread_mutex_t vt__lib_lock;

/* The pool and cache behind a registry node (defined in pool.c and cache.c). */
vt_pool *vt__pool_of_node(struct vt__lib_node *node);
vt_cache *vt__cache_of_node(struct vt__lib_node *node);

/* zones.c: hands the last figures of a pool or cache about to be freed to the recorder, if one
 * is recording. */
void vt__lib_final_pool(const vt_pool *pool);
void vt__lib_final_cache(vt_cache *cache);

#endif

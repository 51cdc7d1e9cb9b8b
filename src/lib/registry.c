/* The process-wide registry of live pools and caches. */
#include "lib-int.h"

pthread_mutex_t vt__lib_lock = PTHREAD_MUTEX_INITIALIZER;

/* Circular lists with a head node each: insertion at the tail keeps the oldest first. */
static struct vt__lib_node pools = {&pools, &pools};
static struct vt__lib_node caches = {&caches, &caches};

static void insert_tail(struct vt__lib_node *head, struct vt__lib_node *node)
{
    pthread_mutex_lock(&vt__lib_lock);
    node->prev = head->prev;
    node->next = head;
    head->prev->next = node;
    head->prev = node;
    pthread_mutex_unlock(&vt__lib_lock);
}

void vt__lib_register_pool(struct vt__lib_node *node)
{
    insert_tail(&pools, node);
}

void vt__lib_register_cache(struct vt__lib_node *node)
{
    insert_tail(&caches, node);
}

void vt__lib_unregister_locked(struct vt__lib_node *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = node;
}

void vt__lib_unregister(struct vt__lib_node *node)
{
    pthread_mutex_lock(&vt__lib_lock);
    vt__lib_unregister_locked(node);
    pthread_mutex_unlock(&vt__lib_lock);
}

size_t vt__lib_pools_foreach(void (*fn)(vt_pool *pool, void *arg), void *arg)
{
    size_t n = 0;
    pthread_mutex_lock(&vt__lib_lock);
    for (struct vt__lib_node *it = pools.next; it != &pools; it = it->next, n++)
        fn(vt__pool_of_node(it), arg);
    pthread_mutex_unlock(&vt__lib_lock);
    return n;
}

size_t vt__lib_caches_foreach(void (*fn)(vt_cache *cache, void *arg), void *arg)
{
    size_t n = 0;
    pthread_mutex_lock(&vt__lib_lock);
    for (struct vt__lib_node *it = caches.next; it != &caches; it = it->next, n++)
        fn(vt__cache_of_node(it), arg);
    pthread_mutex_unlock(&vt__lib_lock);
    return n;
}

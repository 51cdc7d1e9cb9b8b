/* Pools and caches whose figures are known by construction (the e2e case pool_cache checks
 * what the trace recorded of them against these):
 *   pool "messages" (64-byte objects, unbounded), live at exit: 100 acquired and released,
 *     50 more acquired and released, 3 acquired and kept: 153 acquires, 150 releases, 3 in
 *     use, high water 100, every acquire served by the pool, 53 of them reused objects
 *   pool "bounded" (32-byte objects, at most 10), freed before exit: 15 acquired (5 served by
 *     malloc), all released: created 10, high water 15
 *   cache "pages" (one shard, room for 10 entries of a 4-byte key and a 100-byte value), live
 *     at exit: 20 puts (10 evictions), then gets of keys 10-19 (hits) and 0-4 (misses)
 * It prints the pools' figures as vt_pool_stats() gives them. */
#include <stdio.h>
#include <string.h>

#include <vitals.h>

int main(void)
{
    vt_pool *messages = vt_pool_new("messages", 64, 16, 0, NULL, NULL);
    vt_pool *bounded = vt_pool_new("bounded", 32, 0, 10, NULL, NULL);
    struct vt_cache_config cc = {.name = "pages",
                                 .max_bytes = 10 * (VT_CACHE_ENTRY_OVERHEAD + 4 + 100)};
    vt_cache *pages = vt_cache_new(&cc);
    void *held[100];
    if (!messages || !bounded || !pages)
        return 1;
    for (int round = 0; round < 2; round++) {
        int n = round ? 50 : 100;
        for (int i = 0; i < n; i++)
            held[i] = vt_pool_acquire(messages);
        for (int i = 0; i < n; i++)
            vt_pool_release(messages, held[i]);
    }
    for (int i = 0; i < 3; i++)
        held[i] = vt_pool_acquire(messages);
    for (int i = 0; i < 15; i++)
        held[10 + i] = vt_pool_acquire(bounded);
    for (int i = 0; i < 15; i++)
        vt_pool_release(bounded, held[10 + i]);
    struct vt_pool_stats st;
    vt_pool_stats(messages, &st);
    printf("messages: created %llu\n", (unsigned long long)st.created);
    vt_pool_free(bounded);
    char value[100];
    memset(value, 'p', sizeof(value));
    for (int i = 0; i < 20; i++) {
        char key[5];
        snprintf(key, sizeof(key), "k%03d", i);
        if (vt_cache_put(pages, key, 4, value, sizeof(value), 0) != 0)
            return 1;
    }
    for (int i = 0; i < 15; i++) {
        char key[5];
        snprintf(key, sizeof(key), "k%03d", i < 10 ? 10 + i : i - 10);
        vt_cache_get(pages, key, 4, NULL, 0, NULL);
    }
    printf("pool_cache done\n");
    return 0;
}

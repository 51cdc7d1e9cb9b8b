/* Builds against include/vitals.h as strict C (see CMakeLists.txt for the flags) and uses a pool,
 * a cache and every zone, counter and task macro through the public API only. */
#include <vitals.h>

#include <stdio.h>
#include <string.h>

static int instrumented(int n)
{
    VT_ZONE("header_c");
    VT_ZONE_BEGIN(inner, "header_c inner");
    vt_counter_add("header_c calls", 1);
    vt_gauge_set("header_c n", (double)n);
    vt_task_begin("header_c task", "header");
    vt_task_end();
    if (n < 0) {
        VT_ZONE_FAIL();
        vt_zone_end_error(inner);
        return -1;
    }
    vt_zone_end(inner);
    VT_FRAME_MARK;
    return n;
}

static int by_function(void)
{
    VT_ZONE_FN();
    return 1;
}

int main(void)
{
    struct vt_pool_stats ps;
    struct vt_cache_stats cs;
    struct vt_cache_config cfg;
    vt_pool *pool = vt_pool_new("header_c", 24, 4, 0, NULL, NULL);
    vt_cache *cache;
    char out[8];
    size_t len = 0;
    void *obj;

    if (!pool || instrumented(2) != 2 || instrumented(-1) != -1 || by_function() != 1)
        return 1;
    obj = vt_pool_acquire(pool);
    vt_pool_release(pool, obj);
    if (vt_pool_stats(pool, &ps) != 0 || ps.acquires != 1)
        return 2;
    vt_pool_free(pool);

    memset(&cfg, 0, sizeof(cfg));
    cfg.max_bytes = 4096;
    cache = vt_cache_new(&cfg);
    if (!cache || vt_cache_put(cache, "k", 1, "value", 5, 0) != 0)
        return 3;
    if (vt_cache_get(cache, "k", 1, out, sizeof(out), &len) != 0 || len != 5)
        return 4;
    if (vt_cache_get(cache, "x", 1, NULL, 0, NULL) != VT_ENOTFOUND)
        return 5;
    vt_cache_stats(cache, &cs);
    vt_cache_free(cache);
    printf("header_c: ok (%s)\n", vt_strerror(VT_ENOTFOUND));
    return cs.hits == 1 ? 0 : 6;
}

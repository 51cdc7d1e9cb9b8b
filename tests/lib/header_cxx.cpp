// Builds against include/vitals.h as C++ and uses a pool, a cache and the zone, counter and task
// macros through the public API.
#include <vitals.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace
{
struct Point {
    double x, y;
};

void reset_point(void *object, void *)
{
    static_cast<Point *>(object)->x = 0;
}
int instrumented(int n)
{
    VT_ZONE("header_cxx");
    VT_ZONE_BEGIN(inner, "header_cxx inner");
    vt_counter_add("header_cxx calls", 1);
    vt_gauge_set("header_cxx n", n);
    vt_task_begin("header_cxx task", "header");
    vt_task_end();
    if (n < 0) {
        VT_ZONE_FAIL();
        vt_zone_end_error(inner);
        return -1;
    }
    vt_zone_end(inner);
    vt_frame_mark("header_cxx loop");
    return n;
}

int by_function()
{
    VT_ZONE_FN();
    return 1;
}
} // namespace

int main()
{
    vt_pool *pool = vt_pool_new("header_cxx", sizeof(Point), 0, 16, reset_point, nullptr);
    if (!pool || instrumented(2) != 2 || instrumented(-1) != -1 || by_function() != 1)
        return 1;
    Point *p = static_cast<Point *>(vt_pool_acquire(pool));
    p->x = 1;
    vt_pool_release(pool, p);
    struct vt_pool_stats ps;
    if (vt_pool_stats(pool, &ps) != 0 || ps.releases != 1)
        return 2;
    vt_pool_free(pool);

    vt_cache_config cfg = {};
    cfg.max_bytes = 1 << 16;
    cfg.compressed_max_bytes = 1 << 16;
    vt_cache *cache = vt_cache_new(&cfg);
    std::string key = "key", value(100, 'v');
    if (!cache || vt_cache_put(cache, key.data(), key.size(), value.data(), value.size(), 0) != 0)
        return 3;
    char buf[128];
    size_t len = 0;
    if (vt_cache_get(cache, key.data(), key.size(), buf, sizeof(buf), &len) != 0 ||
        std::string(buf, len) != value)
        return 4;
    struct vt_cache_stats cs;
    vt_cache_stats(cache, &cs);
    vt_cache_free(cache);
    std::printf("header_cxx: ok (%s)\n", vt_strerror(VT_ETOOBIG));
    return cs.hits == 1 ? 0 : 5;
}

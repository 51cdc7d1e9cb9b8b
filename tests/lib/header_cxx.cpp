// Builds against include/vitals.h as C++ and uses a pool and a cache through the public API.
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
} // namespace

int main()
{
    vt_pool *pool = vt_pool_new("header_cxx", sizeof(Point), 0, 16, reset_point, nullptr);
    if (!pool)
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

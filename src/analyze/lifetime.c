/* Lifetimes of blocks (lifetime.h). */
#include "analyze/lifetime.h"

#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/error.h"

#define NS_PER_S 1000000000ull

int vt_lifetime_bucket(uint64_t ns)
{
    if (ns < (1ull << 10))
        return 0;
    int b = 63 - __builtin_clzll(ns) - 9; /* ns in [2^(9+b), 2^(10+b)) */
    return b < VT_LIFETIME_BUCKETS - 1 ? b : VT_LIFETIME_BUCKETS - 1;
}

uint64_t vt_lifetime_bucket_floor(int i)
{
    return i <= 0 ? 0 : 1ull << (9 + i);
}

uint64_t vt_lifetime_percentile(const uint64_t hist[VT_LIFETIME_BUCKETS], unsigned pct)
{
    uint64_t n = 0, seen = 0;
    for (int i = 0; i < VT_LIFETIME_BUCKETS; i++)
        n += hist[i];
    if (!n)
        return 0;
    for (int i = 0; i < VT_LIFETIME_BUCKETS - 1; i++) {
        seen += hist[i];
        /* seen / n >= pct / 100, without overflow for any count */
        if ((double)seen * 100.0 >= (double)n * pct)
            return vt_lifetime_bucket_floor(i + 1);
    }
    return UINT64_MAX;
}

enum vt_life_class vt_life_class_of(uint64_t ns)
{
    if (ns < NS_PER_S)
        return VT_LIFE_SHORT;
    if (ns < 60 * NS_PER_S)
        return VT_LIFE_MEDIUM;
    if (ns < 3600 * NS_PER_S)
        return VT_LIFE_LONG;
    return VT_LIFE_PERMANENT;
}

const char *vt_life_class_name(enum vt_life_class c)
{
    static const char *const names[VT_LIFE_CLASSES] = {"short", "medium", "long", "permanent"};
    return c < VT_LIFE_CLASSES ? names[c] : "?";
}

static __attribute__((noinline)) vt_site_lifetimes *site_grow(vt_lifetimes *lt, uint32_t site)
{
    if (vt_grow(&lt->sites, &lt->sites_cap, (size_t)site + 1, sizeof(*lt->sites), 64))
        return NULL;
    memset(lt->sites + lt->n_sites, 0, (site + 1 - lt->n_sites) * sizeof(*lt->sites));
    lt->n_sites = (size_t)site + 1;
    return &lt->sites[site];
}

static inline vt_site_lifetimes *site_at(vt_lifetimes *lt, uint32_t site)
{
    return site < lt->n_sites ? &lt->sites[site] : site_grow(lt, site);
}

int vt__lifetimes_free(vt_lifetimes *lt, uint32_t site, uint64_t ns)
{
    vt_site_lifetimes *s = site_at(lt, site);
    if (!s)
        return VT_ENOMEM;
    int b = vt_lifetime_bucket(ns);
    enum vt_life_class c = vt_life_class_of(ns);
    s->freed_class[c]++;
    lt->freed[b]++;
    lt->freed_class[c]++;
    return vt_hist_add(&s->freed, b, VT_LIFETIME_BUCKETS);
}

int vt__lifetimes_live(vt_lifetimes *lt, uint32_t site, uint64_t age_ns)
{
    vt_site_lifetimes *s = site_at(lt, site);
    if (!s)
        return VT_ENOMEM;
    enum vt_life_class c = vt_life_class_of(age_ns);
    s->live_class[c]++;
    lt->live_class[c]++;
    lt->live_age[vt_lifetime_bucket(age_ns)]++;
    if (age_ns > s->oldest_ns)
        s->oldest_ns = age_ns;
    if (!lt->live_blocks++ || age_ns > lt->oldest_ns) {
        lt->oldest_ns = age_ns;
        lt->oldest_site = site;
    }
    return 0;
}

void vt__lifetimes_release(vt_lifetimes *lt)
{
    for (size_t i = 0; i < lt->n_sites; i++)
        vt_hist_release(&lt->sites[i].freed);
    free(lt->sites);
    lt->sites = NULL;
    lt->n_sites = lt->sites_cap = 0;
}

/* How long blocks live: per site and overall, a histogram of lifetimes (release time minus
 * allocation time) in powers of two of nanoseconds and four classes; blocks still live at the
 * end counted apart, by their age. Rules in docs/REPORT.md. */
#ifndef VT_ANALYZE_LIFETIME_H
#define VT_ANALYZE_LIFETIME_H

#include <stddef.h>
#include <stdint.h>

#include "util/hist.h"

/* Bucket 0 holds lifetimes under 2^10 ns (about 1 us); bucket i, [2^(9+i), 2^(10+i)) ns; the
 * last, 2^42 ns (about 73 min) and more. */
#define VT_LIFETIME_BUCKETS 34

enum vt_life_class {
    VT_LIFE_SHORT,     /* under 1 s */
    VT_LIFE_MEDIUM,    /* 1 s to under 1 min */
    VT_LIFE_LONG,      /* 1 min to under 1 h */
    VT_LIFE_PERMANENT, /* 1 h or more */
    VT_LIFE_CLASSES
};

typedef struct vt_site_lifetimes {
    vt_hist freed; /* released blocks by lifetime bucket (vt_hist_get) */
    uint64_t freed_class[VT_LIFE_CLASSES];
    uint64_t live_class[VT_LIFE_CLASSES]; /* blocks live at the end, by age */
    uint64_t oldest_ns;                   /* the age of its oldest block live at the end */
} vt_site_lifetimes;

typedef struct vt_lifetimes {
    uint64_t freed[VT_LIFETIME_BUCKETS]; /* every site's released blocks by lifetime */
    uint64_t freed_class[VT_LIFE_CLASSES];
    uint64_t live_class[VT_LIFE_CLASSES];
    uint64_t oldest_ns;                     /* the age of the oldest block live at the end */
    uint64_t live_age[VT_LIFETIME_BUCKETS]; /* blocks live at the end, by age */
    uint32_t oldest_site;     /* the site of the oldest live block (when there is one) */
    uint64_t live_blocks;     /* blocks live at the end */
    vt_site_lifetimes *sites; /* indexed like vt_model.sites */
    size_t n_sites;
    /* private to the module */
    size_t sites_cap;
} vt_lifetimes;

/* The bucket of a lifetime of ns nanoseconds. */
int vt_lifetime_bucket(uint64_t ns);

/* The first lifetime in bucket i, in ns (0 for bucket 0). */
uint64_t vt_lifetime_bucket_floor(int i);

/* The lifetime under which pct percent of the blocks counted in hist lie, rounded up to the end
 * of a bucket (UINT64_MAX in the last, open-ended bucket; 0 when hist is empty). */
uint64_t vt_lifetime_percentile(const uint64_t hist[VT_LIFETIME_BUCKETS], unsigned pct);

/* The class of a lifetime of ns nanoseconds. */
enum vt_life_class vt_life_class_of(uint64_t ns);

/* The name of a class: "short", "medium", "long", "permanent". */
const char *vt_life_class_name(enum vt_life_class c);

/* Records the release of a block of site that lived ns nanoseconds. Returns 0 or VT_ENOMEM. */
int vt__lifetimes_free(vt_lifetimes *lt, uint32_t site, uint64_t ns);

/* Records a block of site live at the end, age_ns old. Returns 0 or VT_ENOMEM. */
int vt__lifetimes_live(vt_lifetimes *lt, uint32_t site, uint64_t age_ns);

/* Frees what lt holds (not lt itself). */
void vt__lifetimes_release(vt_lifetimes *lt);

#endif

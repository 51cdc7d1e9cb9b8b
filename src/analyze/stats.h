/* Two-sample tests for repeated runs (docs/DIFF.md, "Noise"). */
#ifndef VT_ANALYZE_STATS_H
#define VT_ANALYZE_STATS_H

#include <stddef.h>

enum vt_stat_test {
    VT_TEST_WELCH,        /* Welch's unequal-variances t-test */
    VT_TEST_MANN_WHITNEY, /* Mann-Whitney U (Wilcoxon rank-sum) */
};

typedef struct vt_test_result {
    int valid;        /* 0: too few runs (fewer than 2 on a side) */
    double statistic; /* t, or U of the first sample */
    double df;        /* Welch's degrees of freedom (0 for Mann-Whitney) */
    double p;         /* two-sided p-value */
    int exact;        /* Mann-Whitney: exact distribution (no ties, small samples) */
} vt_test_result;

/* Mean and sample standard deviation (0 for fewer than 2 values). */
double vt_mean(const double *x, size_t n);
double vt_stddev(const double *x, size_t n);

/* Runs test t on samples a (na values) and b (nb values). For Welch's test, two samples that
 * are each constant give p = 1 when equal and p = 0 when not (no run-to-run noise at all). */
vt_test_result vt_stat_test(enum vt_stat_test t, const double *a, size_t na, const double *b,
                            size_t nb);

/* The two-sided p-value of Student's t with df degrees of freedom. */
double vt_student_p(double t, double df);

/* "welch" or "mann-whitney". */
const char *vt_stat_test_name(enum vt_stat_test t);

#endif

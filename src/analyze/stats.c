/* Welch's t-test (the p-value from the regularized incomplete beta function, by the continued
 * fraction of Numerical Recipes, 6.4) and the Mann-Whitney U test (exact for small samples
 * without ties, else the normal approximation with the tie correction). */
#include "analyze/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double vt_mean(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return n ? s / (double)n : 0;
}

double vt_stddev(const double *x, size_t n)
{
    if (n < 2)
        return 0;
    double m = vt_mean(x, n), s = 0;
    for (size_t i = 0; i < n; i++)
        s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (double)(n - 1));
}

static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-14;
    double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 300; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < eps)
            break;
    }
    return h;
}

/* The regularized incomplete beta function I_x(a, b). */
static double inc_beta(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x);
    double bt = exp(lbt);
    if (x < (a + 1) / (a + b + 2))
        return bt * beta_cf(a, b, x) / a;
    return 1 - bt * beta_cf(b, a, 1 - x) / b;
}

double vt_student_p(double t, double df)
{
    if (isinf(t))
        return 0;
    if (df <= 0 || isnan(t))
        return 1;
    return inc_beta(df / 2, 0.5, df / (df + t * t));
}

static vt_test_result welch(const double *a, size_t na, const double *b, size_t nb)
{
    vt_test_result r = {.valid = 1};
    double ma = vt_mean(a, na), mb = vt_mean(b, nb);
    double va = vt_stddev(a, na), vb = vt_stddev(b, nb);
    va *= va;
    vb *= vb;
    double sa = va / (double)na, sb = vb / (double)nb, se2 = sa + sb;
    if (se2 == 0) {
        r.statistic = ma == mb ? 0 : (mb > ma ? INFINITY : -INFINITY);
        r.p = ma == mb ? 1 : 0;
        r.df = (double)(na + nb - 2);
        return r;
    }
    r.statistic = (mb - ma) / sqrt(se2);
    r.df = se2 * se2 / (sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1));
    r.p = vt_student_p(r.statistic, r.df);
    return r;
}

struct ranked {
    double v;
    int side;
};

static int cmp_ranked(const void *x, const void *y)
{
    double a = ((const struct ranked *)x)->v, b = ((const struct ranked *)y)->v;
    return a < b ? -1 : a > b;
}

/* The number of arrangements of m values of one sample among n of the other whose U is u,
 * for every u: the recurrence f(m, n, u) = f(m - 1, n, u - n) + f(m, n - 1, u). */
static double *u_counts(size_t m, size_t n)
{
    size_t umax = m * n;
    /* dp[j][u] for the current m, j = 0..n */
    double *prev = calloc((n + 1) * (umax + 1), sizeof(double));
    double *cur = calloc((n + 1) * (umax + 1), sizeof(double));
    if (!prev || !cur) {
        free(prev);
        free(cur);
        return NULL;
    }
    for (size_t j = 0; j <= n; j++)
        prev[j * (umax + 1)] = 1; /* m = 0: one arrangement, U = 0 */
    for (size_t i = 1; i <= m; i++) {
        memset(cur, 0, (n + 1) * (umax + 1) * sizeof(double));
        cur[0] = 1; /* n = 0 */
        for (size_t j = 1; j <= n; j++)
            for (size_t u = 0; u <= i * j; u++) {
                double v = cur[(j - 1) * (umax + 1) + u];
                if (u >= j)
                    v += prev[j * (umax + 1) + u - j];
                cur[j * (umax + 1) + u] = v;
            }
        double *t = prev;
        prev = cur;
        cur = t;
    }
    double *out = malloc((umax + 1) * sizeof(double));
    if (out)
        memcpy(out, prev + n * (umax + 1), (umax + 1) * sizeof(double));
    free(prev);
    free(cur);
    return out;
}

static vt_test_result mann_whitney(const double *a, size_t na, const double *b, size_t nb)
{
    vt_test_result r = {.valid = 1};
    size_t n = na + nb;
    struct ranked *x = malloc(n * sizeof(*x));
    if (!x)
        return (vt_test_result){0};
    for (size_t i = 0; i < na; i++)
        x[i] = (struct ranked){a[i], 0};
    for (size_t i = 0; i < nb; i++)
        x[na + i] = (struct ranked){b[i], 1};
    qsort(x, n, sizeof(*x), cmp_ranked);
    double ra = 0, ties = 0;
    int has_ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && x[j].v == x[i].v)
            j++;
        double rank = (double)(i + 1 + j) / 2, t = (double)(j - i);
        if (t > 1) {
            has_ties = 1;
            ties += t * t * t - t;
        }
        for (size_t k = i; k < j; k++)
            if (x[k].side == 0)
                ra += rank;
        i = j;
    }
    free(x);
    double ua = ra - (double)na * (double)(na + 1) / 2, mu = (double)na * (double)nb / 2;
    r.statistic = ua;
    if (!has_ties && na * nb <= 2500) {
        double *f = u_counts(na, nb);
        if (f) {
            double total = 0, tail = 0, lo = ua < mu ? ua : 2 * mu - ua;
            for (size_t u = 0; u <= na * nb; u++) {
                total += f[u];
                if ((double)u <= lo + 1e-9)
                    tail += f[u];
            }
            free(f);
            r.p = fmin(1, 2 * tail / total);
            r.exact = 1;
            return r;
        }
    }
    double nn = (double)n;
    double var = (double)na * (double)nb / 12 * ((nn + 1) - ties / (nn * (nn - 1)));
    if (var <= 0) {
        r.p = 1;
        return r;
    }
    double z = (fabs(ua - mu) - 0.5) / sqrt(var);
    if (z < 0)
        z = 0;
    r.p = erfc(z / sqrt(2));
    return r;
}

vt_test_result vt_stat_test(enum vt_stat_test t, const double *a, size_t na, const double *b,
                            size_t nb)
{
    if (na < 2 || nb < 2)
        return (vt_test_result){0};
    return t == VT_TEST_WELCH ? welch(a, na, b, nb) : mann_whitney(a, na, b, nb);
}

const char *vt_stat_test_name(enum vt_stat_test t)
{
    return t == VT_TEST_WELCH ? "welch" : "mann-whitney";
}

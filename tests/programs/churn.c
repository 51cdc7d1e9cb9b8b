/* Many allocations, for the tests that make the trace fail (disk full, no file): ITERATIONS
 * (or argv[1]) malloc/free pairs of sizes 1 to 4096 from four sites, with one block in a
 * thousand kept to the end. The sizes come from a fixed generator, so the output is known:
 * "checksum N" (the sum of the sizes) and "churn done" on stdout, one line on stderr, and exit
 * status 42. */
#include <stdlib.h>

#include "e2e-prog.h"

#define ITERATIONS 300000
#define KEEP_EVERY 1000

static void *kept[ITERATIONS / KEEP_EVERY + 1];

NOINLINE char *site_0(size_t n)
{
    return malloc(n);
}
NOINLINE char *site_1(size_t n)
{
    return malloc(n);
}
NOINLINE char *site_2(size_t n)
{
    return malloc(n);
}
NOINLINE char *site_3(size_t n)
{
    return malloc(n);
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : ITERATIONS;
    if (iterations < 0 || iterations > ITERATIONS)
        return 2;
    char *(*const sites[4])(size_t) = {site_0, site_1, site_2, site_3};
    unsigned long x = 12345, sum = 0;
    long n_kept = 0;
    for (long i = 0; i < iterations; i++) {
        x = x * 6364136223846793005ul + 1442695040888963407ul;
        size_t n = 1 + (x >> 33) % 4096;
        char *p = sites[(x >> 20) & 3](n);
        if (!p)
            return 3;
        p[0] = (char)n;
        p[n - 1] = (char)i;
        sum += n;
        if (i % KEEP_EVERY == 0)
            kept[n_kept++] = p;
        else
            free(p);
    }
    e2e_say_num("checksum", (long)sum);
    e2e_say_num("kept", n_kept);
    e2e_write(2, "churn: a line on stderr\n");
    e2e_write(1, "churn done\n");
    return 42;
}

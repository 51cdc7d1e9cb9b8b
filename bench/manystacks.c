/* A workload with many distinct call stacks, for the HTML report's pruning (bench/html_load.py):
 * allocation i is made at the end of a chain of DEPTH calls, each through one of two functions
 * chosen by a bit of i, so 2^DEPTH distinct stacks allocate; one block in 64 is never freed.
 * Usage: manystacks ALLOCATIONS */
#include <stdint.h>
#include <stdlib.h>

#define DEPTH 16

static void *kept[1 << 20];
static size_t n_kept;

__attribute__((noinline, noipa)) static void *left(unsigned long i, int d);
__attribute__((noinline, noipa)) static void *right(unsigned long i, int d);

static void *step(unsigned long i, int d)
{
    if (d == DEPTH)
        return malloc(16 + i % 512);
    return (i >> d) & 1 ? right(i, d + 1) : left(i, d + 1);
}

__attribute__((noinline, noipa)) static void *left(unsigned long i, int d)
{
    void *p = step(i, d);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((noinline, noipa)) static void *right(unsigned long i, int d)
{
    void *p = step(i, d);
    __asm__ volatile("" ::: "memory");
    return p;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    for (unsigned long i = 0; i < n; i++) {
        void *p = step(i * 2654435761u, 0);
        if (i % 64 == 0 && n_kept < sizeof(kept) / sizeof(kept[0]))
            kept[n_kept++] = p;
        else
            free(p);
    }
    return 0;
}

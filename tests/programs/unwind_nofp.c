/* Built with -O2 -fomit-frame-pointer (see CMakeLists.txt): functions whose frames a
 * frame-pointer walk cannot step, with rbp holding data instead of a frame address. */
#include <stdlib.h>

#include "unwind_nofp.h"

__attribute__((noinline)) long nofp_level(int depth, long acc, unwind_step_fn next)
{
    /* Six values live across the call: more than the callee-saved registers other than
     * rbp can hold. The asm keeps the compiler from folding them away. */
    long a = acc * 3 + depth, b = acc ^ 0x5a5a, c = acc + 7 * depth, d = acc - depth;
    long e = (acc << 3) | 1, f = acc * acc + 11;
    __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f));
    long r = next(depth - 1, a ^ b);
    __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f));
    return r + (a ^ c) + (b & d) + (e | f) + (long)(r == 0);
}

__attribute__((noinline)) void *nofp_alloc(size_t n)
{
    char *p = malloc(n);
    if (p)
        *(volatile char *)p = (char)n;
    __asm__ volatile("" ::: "memory");
    return p;
}

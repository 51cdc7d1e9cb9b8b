/* The half of unwind_mix compiled with -O2 -fomit-frame-pointer (unwind_nofp.c). */
#ifndef VT_E2E_UNWIND_NOFP_H
#define VT_E2E_UNWIND_NOFP_H

#include <stddef.h>

/* One level of the descent: calls next(depth, acc) through the pointer it is given. */
typedef long (*unwind_step_fn)(int depth, long acc);

/* A level without a frame pointer: keeps six values alive across the indirect call to
 * next(depth - 1, ...), so that the compiler uses rbp as an ordinary register. */
long nofp_level(int depth, long acc, unwind_step_fn next);

/* Allocates n bytes from a function without a frame pointer, touches the block and returns
 * it. */
void *nofp_alloc(size_t n);

#endif

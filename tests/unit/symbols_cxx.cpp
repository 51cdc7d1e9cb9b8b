/* The C++ half of test_symbols.c: a function in a namespace, so that demangling is tested. */
#include <stdint.h>

namespace ns
{
__attribute__((noinline)) int fn(int x)
{
    asm volatile("" : "+r"(x));
    return x * 2 + 1;
}
} // namespace ns

/* Returns the address of ns::fn(int), for test_symbols.c to look up. */
extern "C" uintptr_t vt_test_cxx_fn_address(void)
{
    return reinterpret_cast<uintptr_t>(&ns::fn);
}

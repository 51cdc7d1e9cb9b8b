/* Leaks from code that is unloaded before the end: dlopens argv[1] (libdl_leak_a.so), calls
 * leak_a (3 blocks of 24 B leaked), dlcloses it, then dlopens argv[2] (libdl_leak_b.so) and
 * calls leak_b (4 blocks of 40 B leaked) without dlclose. The second library is usually
 * mapped where the first one was.
 *
 * With "two-sites" as argv[3], main calls each library from a call site of its own; with
 * "one-site", both calls go through the same loop, so that the two stacks differ only in the
 * library's own frame, whose addresses are the same in both (the libraries are built alike);
 * with "a-only", only the first library is loaded, called and unloaded (argv[2] is unused).
 * Prints "a unloaded" once dlopen(RTLD_NOLOAD) confirms the first library is gone, then
 * "done"; exit status 0. */
#include <dlfcn.h>
#include <string.h>

#include "e2e-prog.h"

static int a_unloaded;

NOINLINE int call(const char *path, const char *fn, int close_it)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        e2e_write(2, dlerror());
        e2e_write(2, "\n");
        return -1;
    }
    void (*f)(void) = (void (*)(void))dlsym(h, fn);
    if (!f)
        return -1;
    f();
    if (close_it) {
        if (dlclose(h) != 0)
            return -1;
        a_unloaded = dlopen(path, RTLD_NOW | RTLD_NOLOAD) == NULL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    if (!strcmp(argv[3], "two-sites")) {
        if (call(argv[1], "leak_a", 1) != 0)
            return 1;
        if (call(argv[2], "leak_b", 0) != 0)
            return 1;
    } else if (!strcmp(argv[3], "one-site")) {
        const char *fn[2] = {"leak_a", "leak_b"};
        for (int i = 0; i < 2; i++)
            if (call(argv[1 + i], fn[i], i == 0) != 0)
                return 1;
    } else if (!strcmp(argv[3], "a-only")) {
        if (call(argv[1], "leak_a", 1) != 0)
            return 1;
    } else {
        return 2;
    }
    if (a_unloaded)
        e2e_write(1, "a unloaded\n");
    e2e_write(1, "done\n");
    return 0;
}

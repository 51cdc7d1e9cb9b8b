/* Anonymous mappings of 64 KiB, 128 KiB and 1 MiB; the 128 KiB one is unmapped and so is the
 * second half of the 1 MiB one. Peak 1245184 B, live at the end 589824 B. */
#include <sys/mman.h>

#include "e2e-prog.h"

#define KIB 1024

static void *map_anon(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(3);
    ((char *)p)[0] = 1;
    return p;
}

NOINLINE void map_regions(void)
{
    void *a = map_anon(64 * KIB);
    void *b = map_anon(128 * KIB);
    char *c = map_anon(1024 * KIB);
    (void)a;
    if (munmap(b, 128 * KIB) != 0 || munmap(c + 512 * KIB, 512 * KIB) != 0)
        _exit(4);
}

int main(void)
{
    map_regions();
    e2e_write(1, "mmap done\n");
    return 0;
}

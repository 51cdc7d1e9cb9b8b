/* A 32 GiB mapping reserved and barely touched, holding the only pointer to a 40-byte block in
 * its middle; a 24-byte block is dropped. The leak check must find the first still reachable
 * and the second definitely lost without reading 32 GiB of zeros. */
#include <sys/mman.h>

#include "e2e-prog.h"

static void **reserved;

static NOINLINE void drop(void)
{
    void *volatile p = malloc(24);
    (void)p;
}

int main(void)
{
    reserved = mmap(NULL, 32ul << 30, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reserved == MAP_FAILED)
        return 1;
    reserved[(16ul << 30) / sizeof(void *)] = malloc(40);
    drop();
    e2e_write(1, "leak_reserved done\n");
    return 0;
}

/* A process with a heap known by construction, for the live figures of vitals top and vitals
 * monitor: it allocates exactly 1000 blocks of 10,000 bytes (10,000,000 bytes) with malloc,
 * writes "ready\n" to stdout, then waits until stdin has a line or ends; then it frees every
 * block and exits 0. It uses no stdio, so that the C library allocates nothing of its own. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCKS 1000
#define SIZE 10000

int main(void)
{
    static void *blocks[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
        blocks[i] = malloc(SIZE);
        if (!blocks[i])
            return 3;
        memset(blocks[i], i & 0xff, SIZE);
    }
    if (write(1, "ready\n", 6) != 6)
        return 4;
    char c;
    while (read(0, &c, 1) == 1 && c != '\n')
        ;
    for (int i = 0; i < BLOCKS; i++)
        free(blocks[i]);
    return 0;
}

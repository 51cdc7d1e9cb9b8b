/* Closes every descriptor above stderr (as daemons do), opens a file of its own, which may get
 * the number the trace had, writes to it while allocating, and leaks 6 x 72 B. The file must
 * hold exactly what the program wrote and the trace must be whole. argv[1] is the file. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e-prog.h"

static void *kept[6];

NOINLINE void after_close(void)
{
    for (int i = 0; i < 6; i++)
        kept[i] = malloc(72); /* @CLOSEFDS */
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    for (int i = 0; i < 100000; i++)
        free(malloc(32 + i % 100));
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    int fd = -1;
    /* Take many numbers, so that whichever the trace had is reused. */
    for (int i = 0; i < 600; i++) {
        int x = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (x < 0)
            return 3;
        if (fd >= 0)
            close(fd);
        fd = x;
        if (i < 599)
            continue;
    }
    for (int i = 0; i < 200000; i++) {
        free(malloc(16 + i % 300));
        if (i % 1000 == 0 && write(fd, "line of the program\n", 20) != 20)
            return 4;
    }
    close(fd);
    after_close();
    e2e_write(1, "closed and wrote\n");
    return 0;
}

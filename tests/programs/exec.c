/* Leaks 2 x 40 B, then replaces itself with the program named by argv[1] (exec_target). */
#include <stdlib.h>

#include "e2e-prog.h"

static void *kept[2];

NOINLINE void before_exec(void)
{
    for (int i = 0; i < 2; i++)
        kept[i] = malloc(40); /* @BEFORE */
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    before_exec();
    e2e_say_num("exec pid", (long)getpid());
    execv(argv[1], argv + 1);
    e2e_write(2, "exec: execv failed\n");
    return 127;
}

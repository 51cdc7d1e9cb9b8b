/* The parent leaks 3 x 64 B and forks; the child leaks 5 x 128 B and exits with exit(0); the
 * parent waits for it and prints the child's pid. */
#include <stdlib.h>
#include <sys/wait.h>

#include "e2e-prog.h"

static void *kept[8];

NOINLINE void parent_leak(void)
{
    for (int i = 0; i < 3; i++)
        kept[i] = malloc(64); /* @PARENT */
}

NOINLINE void child_leak(void)
{
    for (int i = 0; i < 5; i++)
        kept[3 + i] = malloc(128); /* @CHILD */
}

int main(void)
{
    parent_leak();
    pid_t pid = fork();
    if (pid < 0)
        return 3;
    if (pid == 0) {
        child_leak();
        exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 4;
    e2e_say_num("child", (long)pid);
    return 0;
}

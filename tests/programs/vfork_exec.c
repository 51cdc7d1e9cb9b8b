/* vfork then exec (as gcc's driver starts cc1), three times; then the parent leaks 4 x 56 B
 * and exits with status 5. A vfork child shares the parent's memory: the agent must not flush
 * or stop the parent's trace from it. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e-prog.h"

static void *kept[4];

NOINLINE void after_children(void)
{
    for (int i = 0; i < 4; i++)
        kept[i] = malloc(56); /* @VFORK */
}

int main(void)
{
    for (int i = 0; i < 3; i++) {
        pid_t pid = vfork();
        if (pid == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        int status;
        waitpid(pid, &status, 0);
    }
    after_children();
    e2e_write(1, "children done\n");
    exit(5);
}

/* Tasks whose resource use is known by construction (the e2e case tasks checks them), three of
 * each kind, each of them on the main thread:
 *   "burn"  kind "cpu":    spins until the thread has used 40 ms of CPU, no allocation, no I/O
 *   "nap"   kind "sleep":  sleeps 40 ms (nanosleep)
 *   "save"  kind "io":     writes 1 MiB to DIR/tasks.out in 64 KiB writes, then fsync
 *   "fill"  kind "memory": 16 blocks of 1 MiB from malloc, each filled, then freed
 * The third task of each kind takes twice as long (the cpu and sleep ones) or does twice the
 * work (io: 2 MiB, memory: 32 blocks), so that it stands out against its kind's median.
 * Usage: tasks DIR */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vitals.h>

static volatile unsigned long sink;

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void burn(int scale)
{
    uint64_t until = thread_cpu_ns() + (uint64_t)scale * 40000000u;
    while (thread_cpu_ns() < until)
        for (int i = 0; i < 1000; i++)
            sink += (unsigned long)i;
}

static void nap(int scale)
{
    struct timespec ts = {0, scale * 40000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int save(const char *path, int scale)
{
    static char chunk[64 * 1024];
    memset(chunk, 'v', sizeof(chunk));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    for (int i = 0; i < 16 * scale; i++)
        if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
            return -1;
    if (fsync(fd) != 0)
        return -1;
    return close(fd);
}

static int fill(int scale)
{
    void *blocks[32];
    for (int i = 0; i < 16 * scale; i++) {
        blocks[i] = malloc(1 << 20);
        if (!blocks[i])
            return -1;
        memset(blocks[i], i, 1 << 20);
    }
    for (int i = 0; i < 16 * scale; i++)
        free(blocks[i]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tasks DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/tasks.out", argv[1]);
    for (int i = 0; i < 3; i++) {
        int scale = i == 2 ? 2 : 1;
        vt_task_begin("burn", "cpu");
        burn(scale);
        vt_task_end();
        vt_task_begin("nap", "sleep");
        nap(scale);
        vt_task_end();
        vt_task_begin("save", "io");
        if (save(path, scale) != 0) {
            perror("tasks: cannot write the file");
            return 1;
        }
        vt_task_end();
        vt_task_begin("fill", "memory");
        if (fill(scale) != 0)
            return 1;
        vt_task_end();
    }
    unlink(path);
    printf("tasks done\n");
    return 0;
}

/* A process whose behaviour is known by construction, for the collector tests and vitals
 * monitor's end-to-end cases. It reads commands, one per line, from stdin and answers each
 * with "ok\n" on stdout once it is done (so the caller samples before and after):
 *   touch MIB        map MIB MiB of anonymous memory (no huge pages) and write every page
 *   burn MS          run on the CPU until this process has used MS ms of CPU time more
 *   write BYTES N    write BYTES bytes to /dev/null in N calls of equal size
 *   threads N        start N threads that sleep until exit
 *   fds N            open /dev/null N more times
 *   sleep MS         sleep
 *   dwrite MS        for MS ms (wall time), write 4 MiB with O_DIRECT and O_DSYNC to a file
 *                    in the working directory, again and again (removed at the end)
 *   exit STATUS      exit with STATUS
 * With arguments instead (for vitals monitor -- monitor_child ...), it runs them as commands
 * in order without answering, e.g. `monitor_child touch 200 sleep 500 exit 0`. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void run(const char *cmd, long a, long b)
{
    if (!strcmp(cmd, "touch")) {
        size_t n = (size_t)a << 20;
        char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            exit(3);
        madvise(p, n, MADV_NOHUGEPAGE);
        for (size_t i = 0; i < n; i += 4096)
            p[i] = 1;
    } else if (!strcmp(cmd, "burn")) {
        double end = cpu_ms() + (double)a;
        volatile unsigned long x = 0;
        while (cpu_ms() < end)
            for (int i = 0; i < 10000; i++)
                x += (unsigned long)i;
    } else if (!strcmp(cmd, "write")) {
        int fd = open("/dev/null", O_WRONLY);
        static char buf[1 << 20];
        long each = a / b;
        for (long i = 0; i < b; i++)
            if (write(fd, buf, (size_t)each) != each)
                exit(4);
        close(fd);
    } else if (!strcmp(cmd, "threads")) {
        for (long i = 0; i < a; i++) {
            pthread_t t;
            pthread_create(&t, NULL, sleeper, NULL);
        }
    } else if (!strcmp(cmd, "fds")) {
        for (long i = 0; i < a; i++)
            open("/dev/null", O_RDONLY);
    } else if (!strcmp(cmd, "dwrite")) {
        /* Straight to the disk, each call waiting for it (state D): a page-cache write and
         * fsync wait too briefly on a machine whose storage caches writes. */
        enum { BLOCK = 4 << 20 };
        void *buf;
        char name[64];
        snprintf(name, sizeof(name), "monitor_child.dwrite.%d", (int)getpid());
        int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_DSYNC, 0600);
        if (fd < 0 || posix_memalign(&buf, 4096, BLOCK))
            exit(7);
        memset(buf, 1, BLOCK);
        double end = wall_ms() + (double)a;
        for (long i = 0; wall_ms() < end; i++)
            if (pwrite(fd, buf, BLOCK, (off_t)(i % 16) * BLOCK) != BLOCK)
                exit(8);
        close(fd);
        unlink(name);
        free(buf);
    } else if (!strcmp(cmd, "sleep")) {
        struct timespec ts = {a / 1000, (a % 1000) * 1000000};
        nanosleep(&ts, NULL);
    } else if (!strcmp(cmd, "exit")) {
        exit((int)a);
    } else {
        exit(5);
    }
}

static int args_of(const char *cmd)
{
    return !strcmp(cmd, "write") ? 2 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc;) {
            const char *cmd = argv[i++];
            long a = i < argc ? atol(argv[i++]) : 0, b = 0;
            if (args_of(cmd) == 2)
                b = i < argc ? atol(argv[i++]) : 1;
            run(cmd, a, b);
        }
        return 0;
    }
    char line[256];
    while (fgets(line, sizeof(line), stdin)) {
        char cmd[32];
        long a = 0, b = 1;
        if (sscanf(line, "%31s %ld %ld", cmd, &a, &b) < 1)
            continue;
        run(cmd, a, b);
        if (write(1, "ok\n", 3) != 3)
            return 6;
    }
    return 0;
}

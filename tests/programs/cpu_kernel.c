/* CPU time spent in system calls is charged to the function that made them: user_part() burns
 * CPU in user mode, kernel_part() reads /dev/zero 64 KiB at a time (the kernel clears the
 * buffer: nearly all of its time is in kernel mode). They take turns, 25 ms of the thread's CPU
 * time each, for 40 turns; the program prints the CPU time each part used, in ns, measured by
 * the thread's own clock, so that a profile's shares can be checked against them. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
static char buf[65536];

static uint64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static uint64_t user_part(uint64_t ns)
{
    uint64_t start = thread_ns(), now;
    unsigned long x = 0;
    do {
        for (unsigned long i = 0; i < 200000; i++)
            x += i * i ^ (x >> 3);
        sink += x;
    } while ((now = thread_ns()) - start < ns);
    return now - start;
}

__attribute__((noinline)) static uint64_t kernel_part(int fd, uint64_t ns)
{
    uint64_t start = thread_ns(), now;
    do {
        for (int i = 0; i < 16; i++)
            if (read(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
                return 0;
    } while ((now = thread_ns()) - start < ns);
    return now - start;
}

int main(void)
{
    int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror("/dev/zero");
        return 1;
    }
    uint64_t user = 0, kernel = 0;
    for (int turn = 0; turn < 40; turn++) {
        user += user_part(25000000);
        kernel += kernel_part(fd, 25000000);
    }
    close(fd);
    printf("user_part %llu kernel_part %llu\n", (unsigned long long)user,
           (unsigned long long)kernel);
    return 0;
}

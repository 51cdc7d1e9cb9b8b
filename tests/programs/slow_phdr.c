/* Fault injection for fork_many: a dl_iterate_phdr that, called from any thread but the main
 * one, holds the dynamic loader's lock 5 ms longer than it needs to. It widens the window in
 * which a fork by the main thread leaves the lock held in the child, so that a tracer which
 * walks the module list from a thread of its own shows the resulting hang at once instead of
 * once in thousands of forks. Loaded with LD_PRELOAD, after the agent. */
#include <dlfcn.h>
#include <link.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef int (*phdr_cb)(struct dl_phdr_info *, size_t, void *);

static int (*real_iterate)(phdr_cb, void *);

struct wrap {
    phdr_cb cb;
    void *data;
    int slept;
};

__attribute__((constructor)) static void resolve(void)
{
    real_iterate = (int (*)(phdr_cb, void *))dlsym(RTLD_NEXT, "dl_iterate_phdr");
}

static int slow_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct wrap *w = arg;
    if (!w->slept) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        w->slept = 1;
        nanosleep(&ts, NULL);
    }
    return w->cb(info, size, w->data);
}

int dl_iterate_phdr(phdr_cb cb, void *data)
{
    if (!real_iterate)
        resolve();
    if (syscall(SYS_gettid) == getpid())
        return real_iterate(cb, data);
    struct wrap w = {cb, data, 0};
    return real_iterate(slow_cb, &w);
}

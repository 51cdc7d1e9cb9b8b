/* libvitals.so loaded with dlopen (its thread-local state is initial-exec TLS): a pool used from
 * a thread, which exits while the library is loaded. argv[1] is the library's path. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include <vitals.h>

static vt_pool *(*pool_new)(const char *, size_t, size_t, size_t, vt_pool_reset_fn, void *);
static void *(*acquire)(vt_pool *);
static void (*release)(vt_pool *, void *);
static int (*stats)(const vt_pool *, struct vt_pool_stats *);
static void (*pool_free)(vt_pool *);

static void *work(void *arg)
{
    for (int i = 0; i < 1000; i++)
        release(arg, acquire(arg));
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen_test: %s\n", dlerror());
        return 1;
    }
    *(void **)&pool_new = dlsym(lib, "vt_pool_new");
    *(void **)&acquire = dlsym(lib, "vt_pool_acquire");
    *(void **)&release = dlsym(lib, "vt_pool_release");
    *(void **)&stats = dlsym(lib, "vt_pool_stats");
    *(void **)&pool_free = dlsym(lib, "vt_pool_free");
    if (!pool_new || !acquire || !release || !stats || !pool_free) {
        fprintf(stderr, "dlopen_test: missing symbol\n");
        return 1;
    }
    vt_pool *p = pool_new("dlopen", 32, 0, 0, NULL, NULL);
    pthread_t t;
    pthread_create(&t, NULL, work, p);
    pthread_join(t, NULL);
    work(p);
    struct vt_pool_stats s;
    stats(p, &s);
    pool_free(p);
    dlclose(lib);
    printf("dlopen_test: %llu acquires, %llu made\n", (unsigned long long)s.acquires,
           (unsigned long long)s.created);
    return s.acquires == 2000 && s.in_use == 0 ? 0 : 1;
}

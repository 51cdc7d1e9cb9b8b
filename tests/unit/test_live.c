/* The reader of the agent's live figures (collect/live.c): a file of this process's own in
 * /dev/shm, good, stale (another start time or pid), of another version or size, and one the
 * writer never finishes updating. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "collect/live.h"
#include "collect/proc.h"
#include "util/error.h"

static char path[64];
static uint64_t my_start;

static void put(const struct vt_live_file *f, size_t n)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, f, n), (ssize_t)n);
    close(fd);
}

static void good(struct vt_live_file *f)
{
    memset(f, 0, sizeof(*f));
    f->magic = VT_LIVE_MAGIC;
    f->version = VT_LIVE_VERSION;
    f->size = sizeof(*f);
    f->pid = getpid();
    f->start_ticks = my_start;
    f->seq = 42;
    f->flags = VT_LIVE_ALLOC;
    f->heap_bytes = 10000000;
    f->live_blocks = 1000;
    strcpy(f->trace, "run.vtr");
}

static int setup(void **state)
{
    (void)state;
    vt_proc c;
    vt_proc_init(&c, getpid(), 0);
    assert_int_equal(vt_proc_collect(&c), 0);
    my_start = vt_proc_now(&c)->start_ticks;
    vt_proc_release(&c);
    assert_int_equal(vt_live_path(path, sizeof(path), (uint32_t)geteuid(), getpid()), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void test_read(void **state)
{
    (void)state;
    struct vt_live_file f, out;
    uint32_t uid = (uint32_t)geteuid();
    unlink(path);
    assert_int_equal(vt_live_read(getpid(), uid, my_start, &out), VT_ENOENT);
    good(&f);
    put(&f, sizeof(f));
    assert_int_equal(vt_live_read(getpid(), uid, my_start, &out), 0);
    assert_int_equal(out.heap_bytes, 10000000);
    assert_int_equal(out.live_blocks, 1000);
    assert_string_equal(out.trace, "run.vtr");
    /* another process that had this pid before */
    assert_int_equal(vt_live_read(getpid(), uid, my_start + 1, &out), VT_ENOENT);
    f.pid = getpid() + 1;
    put(&f, sizeof(f));
    assert_int_equal(vt_live_read(getpid(), uid, my_start, &out), VT_ENOENT);
    /* another user's name for it: the file is not that user's */
    good(&f);
    put(&f, sizeof(f));
    char other[64];
    vt_live_path(other, sizeof(other), uid + 1, getpid());
    assert_int_equal(rename(path, other), 0);
    assert_int_equal(vt_live_read(getpid(), uid + 1, my_start, &out), VT_ENOENT);
    unlink(other);
    /* a version or size this reader does not know, a short file */
    f.version = VT_LIVE_VERSION + 1;
    put(&f, sizeof(f));
    assert_int_equal(vt_live_read(getpid(), uid, my_start, &out), VT_EINVAL);
    good(&f);
    f.size = sizeof(f) + 8;
    put(&f, sizeof(f));
    assert_int_equal(vt_live_read(getpid(), uid, my_start, &out), VT_EINVAL);
    good(&f);
    put(&f, 100);
    assert_int_equal(vt_live_read(getpid(), uid, my_start, &out), VT_EINVAL);
    /* a writer that stopped half-way through an update (killed): never a torn copy */
    good(&f);
    f.seq = 43;
    put(&f, sizeof(f));
    assert_int_equal(vt_live_read(getpid(), uid, my_start, &out), VT_EIO);
    /* a symbolic link in its place is not followed */
    unlink(path);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    assert_int_equal(vt_live_read(getpid(), uid, my_start, &out), VT_ENOENT);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Helpers the unit tests share: a scratch directory per test process and whole-file I/O.
 * Failures abort the test through cmocka's assertions, so the callers need no error paths. */
#ifndef VT_TESTS_UNIT_UTIL_H
#define VT_TESTS_UNIT_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* Makes a fresh directory under $TMPDIR (or /tmp); caller removes it with ut_rmtree() and
 * frees the string. */
static inline char *ut_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = NULL;
    if (!base || !*base)
        base = "/tmp";
    if (asprintf(&dir, "%s/vt-unit-XXXXXX", base) < 0)
        return NULL;
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* Removes dir and the files directly inside it (the tests make no subdirectories). */
static inline void ut_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Returns dir/name in a buffer of one of a few rotating static slots. */
static inline const char *ut_path(const char *dir, const char *name)
{
    static char slots[4][4096];
    static int next;
    char *p = slots[next++ & 3];
    snprintf(p, sizeof(slots[0]), "%s/%s", dir, name);
    return p;
}

/* Reads the whole file; caller frees. */
static inline uint8_t *ut_read_file(const char *path, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    size_t done = 0;
    while (done < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + done, (size_t)st.st_size - done);
        assert_true(r > 0);
        done += (size_t)r;
    }
    close(fd);
    *n = done;
    return buf;
}

/* Replaces path with n bytes of data. It makes a new file rather than truncating the old one:
 * ext4 flushes a file rewritten in place when it is closed, which made the tests slow. */
static inline void ut_write_file(const char *path, const void *data, size_t n)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    size_t done = 0;
    while (done < n) {
        ssize_t r = write(fd, (const uint8_t *)data + done, n - done);
        assert_true(r > 0);
        done += (size_t)r;
    }
    assert_int_equal(close(fd), 0);
}

/* Checks that text (which may be NULL) contains the formatted string. */
static inline void ut_assert_contains(const char *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void ut_assert_contains(const char *text, const char *fmt, ...)
{
    char want[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want, sizeof(want), fmt, ap);
    va_end(ap);
    if (!text || !strstr(text, want))
        fail_msg("expected \"%s\" in \"%s\"", want, text ? text : "(null)");
}

/* The scratch directory of a test process: cmocka group set-up and tear-down make and remove
 * it; tests name files in it with ut_path(ut_tmp_dir, name). */
static char *ut_tmp_dir;

static inline int ut_setup_tmp_dir(void **state)
{
    (void)state;
    ut_tmp_dir = ut_mkdtemp();
    return ut_tmp_dir ? 0 : -1;
}

static inline int ut_teardown_tmp_dir(void **state)
{
    (void)state;
    ut_rmtree(ut_tmp_dir);
    free(ut_tmp_dir);
    return 0;
}

#endif

/* Unit tests for report/html.c: what the page's data is escaped into (nothing a program's names
 * hold can end the data's script element), string interning, and the page written for a
 * recorded trace (tests/fixtures). The page in a browser is tested in tests/html. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/model.h"
#include "analyze/sites.h"
#include "report/html-int.h"
#include "report/report.h"

static const char *fixture_dir;

/* What fn wrote to a stream, NUL-terminated; the caller frees it. */
#define CAPTURE(buf, call)                                                                         \
    do {                                                                                           \
        size_t len_;                                                                               \
        FILE *out = open_memstream(&(buf), &len_);                                                 \
        assert_non_null(out);                                                                      \
        call;                                                                                      \
        assert_int_equal(fclose(out), 0);                                                          \
    } while (0)

static void test_json_str(void **state)
{
    (void)state;
    char *s = NULL;
    CAPTURE(s, vt__html_json_str(out, "a\"b\\c</script><!--&\n\x01 \xc3\xa9"));
    assert_string_equal(s, "\"a\\\"b\\\\c\\u003c/script\\u003e\\u003c!--\\u0026\\u000a\\u0001 "
                           "\xc3\xa9\"");
    free(s);
    CAPTURE(s, vt__html_json_str(out, NULL));
    assert_string_equal(s, "null");
    free(s);
}

static void test_intern(void **state)
{
    (void)state;
    vt__html_strs t = {0};
    assert_int_equal(vt__html_intern(&t, "main"), 0);
    assert_int_equal(vt__html_intern(&t, "leaf"), 1);
    assert_int_equal(vt__html_intern(&t, "main"), 0);
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        assert_int_equal(vt__html_intern(&t, name), (uint32_t)i + 2);
    }
    for (int i = 0; i < 5000; i += 7) {
        snprintf(name, sizeof(name), "f%d", i);
        assert_int_equal(vt__html_intern(&t, name), (uint32_t)i + 2);
        assert_string_equal(t.strs[i + 2], name);
    }
    assert_int_equal(t.n, 5002);
    vt__html_strs_release(&t);
}

static vt_model *load(const char *name)
{
    char path[4096], msg[512];
    int err = 0;
    snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
    vt_model *m = vt_model_load(path, NULL, NULL, &err, msg, sizeof(msg));
    if (!m)
        fail_msg("cannot read '%s': %s", path, msg);
    return m;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static void test_page_of_fixture(void **state)
{
    (void)state;
    vt_model *m = load("leaks_c-v1.0.vtr");
    /* Hostile names: the program's goes into the title and the data, the trace's into the data;
     * both escaped. */
    free(m->exe);
    m->exe = strdup("/x/a<b>&\"c");
    assert_non_null(m->exe);
    vt_symbols *syms = vt_symbols_new(); /* no modules: addresses only */
    assert_non_null(syms);
    vt_report_opts o = {.top = 10, .trace_path = "t</script><script>alert(1)</script>.vtr"};
    char *page = NULL;
    CAPTURE(page, assert_int_equal(vt_render_html(m, syms, &o, out), 0));

    assert_true(!strncmp(page, "<!DOCTYPE html>", 15));
    assert_null(strstr(page, "<!--VITALS:"));
    assert_int_equal(count(page, "id=\"vitals-data\""), 1);
    assert_int_equal(count(page, "<script"), 2);
    assert_int_equal(count(page, "</script>"), 2);
    assert_non_null(strstr(page, "<title>vitals: a&lt;b&gt;&amp;&quot;c</title>"));
    const char *data = strstr(page, "id=\"vitals-data\">") + 17, *end = strstr(data, "</script>");
    assert_non_null(end);
    assert_true(!strncmp(data, "{\"schema\":\"vitals-html\",\"version\":1,", 35));
    assert_true(end[-1] == '}');
    /* The figures are the fixture's (test_fixture.c checks them against the model). */
    assert_non_null(strstr(data, "\"alloc_calls\":75,\"free_calls\":22,\"realloc_calls\":3,"
                                 "\"bytes_allocated\":8987,"));
    assert_non_null(strstr(data, "{\"key\":\"alloc_calls\",\"label\":\"Allocation calls\","
                                 "\"unit\":\"calls\",\"total\":75,\"threshold\":1,"));
    assert_non_null(strstr(data, "{\"key\":\"alloc_bytes\",\"label\":\"Allocated bytes\","
                                 "\"unit\":\"bytes\",\"total\":8987,\"threshold\":9,"));
    /* The fixture has no CPU profile, monitor series or libvitals records. */
    assert_non_null(strstr(data, "\"cpu\":null,\"monitor\":null,\"zones\":{\"present\":false,"));
    const char *cpu_kind = strstr(data, "cpu_samples"); /* page.js names it after the data */
    assert_true(!cpu_kind || cpu_kind > end);
    assert_non_null(strstr(data, "\"exe\":\"/x/a\\u003cb\\u003e\\u0026\\\"c\""));
    assert_non_null(strstr(data, "\"path\":\"t\\u003c/script\\u003e\\u003cscript\\u003e"));
    free(page);
    vt_symbols_free(syms);
    vt_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_html FIXTURE_DIR\n");
        return 2;
    }
    fixture_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_str),
        cmocka_unit_test(test_intern),
        cmocka_unit_test(test_page_of_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

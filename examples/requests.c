/* A toy request handler instrumented with libvitals: zones per stage, a counter and a gauge, a
 * frame mark per batch, a task per request and a cache of rendered pages. Profile it with
 *
 *   build/vitals run -o requests.vtr -- build/examples/requests
 *   build/vitals report requests.vtr          (sections "Zones", "Tasks", "Pools and caches")
 *
 * or without vitals run: VITALS_TRACE=requests.vtr build/examples/requests */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vitals.h>

static volatile unsigned long sink;

/* Parsing costs CPU in proportion to the request's size. */
static void parse(int size)
{
    VT_ZONE_FN();
    for (int i = 0; i < size * 1000; i++)
        sink += (unsigned long)i;
}

/* A lookup sleeps as if it waited for a database; one in ten fails. */
static int lookup(int id)
{
    VT_ZONE("db lookup");
    struct timespec ts = {0, 200000L * (1 + id % 3)};
    nanosleep(&ts, NULL);
    if (id % 10 == 9) {
        VT_ZONE_FAIL();
        return -1;
    }
    return 0;
}

static void render(vt_cache *pages, int id)
{
    VT_ZONE("render");
    char key[16], page[2048];
    int n = snprintf(key, sizeof(key), "page%d", id % 12);
    if (vt_cache_get(pages, key, (size_t)n, NULL, 0, NULL) == 0)
        return;
    char *tmp = malloc(sizeof(page));
    if (!tmp)
        return;
    memset(tmp, 'a' + id % 26, sizeof(page));
    memcpy(page, tmp, sizeof(page));
    free(tmp);
    vt_cache_put(pages, key, (size_t)n, page, sizeof(page), 0);
}

int main(void)
{
    struct vt_cache_config cc = {.name = "rendered pages", .max_bytes = 32 * 1024};
    vt_cache *pages = vt_cache_new(&cc);
    if (!pages)
        return 1;
    int failed = 0;
    for (int batch = 0; batch < 20; batch++) {
        for (int i = 0; i < 10; i++) {
            int id = batch * 10 + i;
            vt_task_begin("request", id % 4 == 0 ? "upload" : "view");
            parse(id % 4 == 0 ? 400 : 20);
            if (lookup(id) != 0)
                failed++;
            render(pages, id);
            vt_counter_add("requests", 1);
            vt_task_end();
        }
        vt_gauge_set("failed so far", failed);
        VT_FRAME_MARK;
    }
    struct vt_cache_stats st;
    vt_cache_stats(pages, &st);
    printf("200 requests, %d failed, cache hit rate %.0f%%\n", failed, 100 * st.hit_rate);
    vt_cache_free(pages);
    return 0;
}

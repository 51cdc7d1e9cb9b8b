/* Built by install_test.sh against an installed libvitals, with nothing but
 * `pkg-config --cflags --libs vitals`. */
#include <vitals.h>

#include <stdio.h>

int main(void)
{
    vt_pool *pool = vt_pool_new("installed", 32, 0, 0, NULL, NULL);
    struct vt_pool_stats st;
    void *a, *b;

    if (!pool)
        return 1;
    a = vt_pool_acquire(pool);
    vt_pool_release(pool, a);
    b = vt_pool_acquire(pool);
    vt_pool_release(pool, b);
    vt_pool_stats(pool, &st);
    vt_pool_free(pool);
    printf("installed libvitals: %llu acquires, %llu reused\n", (unsigned long long)st.acquires,
           (unsigned long long)st.reused);
    return a == b && st.reused == 1 ? 0 : 2;
}

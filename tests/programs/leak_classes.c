/* Every leak class of memcheck, with counts known by construction. The expected figures
 * (tests/e2e/e2e.py, case leak_classes) are, by class:
 *   definitely lost  11 blocks, 205,128 bytes: a list's head (48), a cycle's entry (32), seven
 *                    dropped blocks (7 x 24), a dropped 200 KiB block (mapped by malloc) and
 *                    a dropped 80-byte block that points to a reachable one
 *   indirectly lost  11 blocks, 496 bytes: the list's other 9 nodes (9 x 48) and the cycle's
 *                    other 2 nodes (2 x 32)
 *   possibly lost     2 blocks, 104 bytes: a 64-byte block known only by a pointer into its
 *                    middle, and the 40-byte block that it points to
 *   still reachable  17 blocks, 1,049,596 bytes: a table of 5 x 100 with a 16-byte child each,
 *                    a block held in thread-local storage (56), one held from an mmap page
 *                    (72), a 1 MiB block held by a global (mapped by malloc) and the 88-byte
 *                    block it points to, the 120-byte block the dropped 80-byte one points to
 *                    (also held by a global), and two blocks held only by interior pointers
 *                    that memcheck's heuristics accept: 8 bytes into a 48-byte block whose
 *                    first word is 40 (length64) and 8 bytes into a 56-byte block whose first
 *                    word is 3, an element count (newarray)
 * The pointers to lost blocks die in the frames of functions that have returned. */
#include <stdint.h>
#include <sys/mman.h>

#include "e2e-prog.h"

struct node {
    struct node *next;
    char pad[40];
};

static void *table[5];
static char *interior;
static __thread void *tls_block;
static void **mapped_page;
static void **big_kept;
static void *shared_target;
static char *length64, *new_array;

static NOINLINE void drop_list(void)
{
    struct node *head = NULL;
    for (int i = 0; i < 10; i++) {
        struct node *n = calloc(1, sizeof(*n));
        n->next = head;
        head = n;
    }
}

static NOINLINE void drop_cycle(void)
{
    void **a = calloc(4, sizeof(void *)), **b = calloc(4, sizeof(void *)),
         **c = calloc(4, sizeof(void *));
    a[0] = b;
    b[0] = c;
    c[0] = a;
}

static NOINLINE void keep_table(void)
{
    for (int i = 0; i < 5; i++) {
        void **row = calloc(1, 100);
        row[0] = calloc(1, 16);
        table[i] = row;
    }
}

static NOINLINE void keep_interior(void)
{
    void **block = calloc(1, 64);
    block[0] = calloc(1, 40);
    interior = (char *)block + 16;
}

static NOINLINE void drop_small(void)
{
    for (int i = 0; i < 7; i++) {
        void *volatile p = calloc(1, 24);
        (void)p;
    }
}

static NOINLINE void drop_big(void)
{
    void *volatile p = calloc(1, 200 * 1024);
    (void)p;
}

static NOINLINE void keep_elsewhere(void)
{
    tls_block = calloc(1, 56);
    mapped_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mapped_page[3] = calloc(1, 72);
    big_kept = calloc(1, 1024 * 1024);
    big_kept[1000] = calloc(1, 88);
    shared_target = calloc(1, 120);
    void **dropped = calloc(1, 80);
    dropped[2] = shared_target;
}

static NOINLINE void keep_by_heuristics(void)
{
    uint64_t *a = calloc(1, 48), *b = calloc(1, 8 + 3 * 16);
    a[0] = 40;
    b[0] = 3;
    length64 = (char *)a + 8;
    new_array = (char *)b + 8;
}

int main(void)
{
    drop_list();
    drop_cycle();
    keep_table();
    keep_interior();
    drop_small();
    drop_big();
    keep_elsewhere();
    keep_by_heuristics();
    e2e_write(1, "leak_classes done\n");
    return 0;
}

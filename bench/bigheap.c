/* A large heap for measuring the leak check: KEPT lists of LEN 64-byte nodes reachable from
 * one table, LOST lists of the same length whose heads are dropped. By construction:
 *   still reachable  KEPT * LEN + 1 blocks   definitely lost  LOST blocks
 *   indirectly lost  LOST * (LEN - 1) blocks
 * usage: bigheap [KEPT [LOST [LEN]]] (defaults 90000 10000 10: a million nodes, 64 MiB) */
#include <stdlib.h>

struct node {
    struct node *next;
    char pad[56];
};

/* Not static: the compiler must keep the stores that make the lists reachable. */
struct node **table;

static __attribute__((noinline)) struct node *list(long len)
{
    struct node *head = NULL;
    for (long i = 0; i < len; i++) {
        struct node *n = calloc(1, sizeof(*n));
        if (!n)
            exit(1);
        n->next = head;
        head = n;
    }
    return head;
}

static __attribute__((noinline)) void drop(long len)
{
    struct node *volatile head = list(len);
    (void)head;
}

int main(int argc, char **argv)
{
    long kept = argc > 1 ? atol(argv[1]) : 90000, lost = argc > 2 ? atol(argv[2]) : 10000,
         len = argc > 3 ? atol(argv[3]) : 10;
    table = calloc((size_t)kept, sizeof(*table));
    if (!table)
        return 1;
    for (long i = 0; i < kept || i < lost; i++) {
        if (i < kept)
            table[i] = list(len);
        if (i < lost)
            drop(len);
    }
    return 0;
}

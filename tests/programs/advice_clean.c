/* A clean program for the advice engine: a list of 1,000 nodes built and freed in order, a
 * buffer made once at its final size. No rule of docs/REPORT.md fires; the memory health is
 * 100, "excellent". */
#include "e2e-prog.h"

struct node {
    struct node *next;
    char data[56];
};

int main(void)
{
    struct node *head = NULL, **tail = &head;
    for (int i = 0; i < 1000; i++) {
        struct node *n = calloc(1, sizeof(*n));
        *tail = n;
        tail = &n->next;
    }
    char *buf = malloc(4096);
    buf[0] = 0;
    while (head) {
        struct node *next = head->next;
        free(head);
        head = next;
    }
    free(buf);
    e2e_write(1, "advice_clean done\n");
    return 0;
}

/* Reads all of stdin, then writes known text to stdout and stderr through stdio and exits with
 * status 7. The test runs it with and without vitals and compares. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    size_t cap = 4096, len = 0;
    char *in = malloc(cap);
    int c;
    if (!in)
        return 3;
    while ((c = getchar()) != EOF) {
        if (len == cap) {
            char *bigger = realloc(in, cap *= 2);
            if (!bigger)
                return 3;
            in = bigger;
        }
        in[len++] = (char)c;
    }
    unsigned long sum = 0;
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) {
        sum = sum * 31 + (unsigned char)in[i];
        lines += in[i] == '\n';
    }
    printf("argc %d, first arg '%s'\n", argc, argc > 1 ? argv[1] : "");
    printf("read %zu bytes, checksum %lu\n", len, sum);
    fwrite(in, 1, len, stdout);
    fprintf(stderr, "to stderr: line one\n");
    fprintf(stderr, "to stderr: %zu lines of input\n", lines);
    printf("last line of stdout\n");
    free(in);
    exit(7);
}

/* The demo program of `make demo`: a small "log indexer" with the memory problems vitals is
 * built to find. It keeps an index of words (growing a table with realloc), makes many
 * short-lived temporary strings, and forgets to free two things: the parsed records of every
 * tenth line and the table of a cache it never tears down. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct record {
    char *text;
    size_t len;
};

struct index {
    char **words;
    size_t n, cap;
};

static void index_add(struct index *ix, const char *word)
{
    if (ix->n == ix->cap) {
        ix->cap = ix->cap ? ix->cap * 2 : 16;
        ix->words = realloc(ix->words, ix->cap * sizeof(*ix->words));
    }
    ix->words[ix->n++] = strdup(word);
}

/* Returns a lower-cased copy of s: a temporary the caller frees at once. */
static char *lowercase(const char *s)
{
    size_t n = strlen(s);
    char *t = malloc(n + 1);
    for (size_t i = 0; i <= n; i++)
        t[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    return t;
}

static struct record *parse_line(const char *line)
{
    struct record *r = malloc(sizeof(*r));
    r->len = strlen(line);
    r->text = malloc(r->len + 1);
    memcpy(r->text, line, r->len + 1);
    return r;
}

static void **make_cache(size_t slots)
{
    return calloc(slots, sizeof(void *));
}

int main(void)
{
    static const char *const words[] = {"Alpha", "beta", "Gamma", "delta", "Epsilon"};
    struct index ix = {0};
    void **cache = make_cache(512);
    long kept = 0;
    for (int i = 0; i < 2000; i++) {
        char line[64];
        snprintf(line, sizeof(line), "line %d: %s", i, words[i % 5]);
        struct record *r = parse_line(line);
        char *low = lowercase(r->text);
        if (i % 40 == 0)
            index_add(&ix, low);
        free(low);
        if (i % 10 == 0) {
            kept++; /* "kept for later", then forgotten: a leak */
            continue;
        }
        free(r->text);
        free(r);
    }
    printf("indexed %zu words, kept %ld records, cache of %d slots at %p\n", ix.n, kept, 512,
           (void *)cache);
    for (size_t i = 0; i < ix.n; i++)
        free(ix.words[i]);
    free(ix.words);
    return 0;
}

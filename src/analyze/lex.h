/* The words that vitals' rule grammars share: comparisons, numbers and units. The budget
 * grammar of `vitals diff --fail-on` (budget.h) and the alert grammar of `vitals monitor --alert`
 * (expr.h) differ in how they name a figure and what a limit means; both read the rest with
 * these, so that `> 2GiB` or `>= 250ms` means the same thing everywhere. */
#ifndef VT_ANALYZE_LEX_H
#define VT_ANALYZE_LEX_H

#include <stddef.h>

enum vt_cmp { VT_CMP_GT, VT_CMP_GE, VT_CMP_LT, VT_CMP_LE, VT_CMP_EQ, VT_CMP_NE };

/* What a number's unit says it measures. */
enum vt_qty {
    VT_QTY_PLAIN = 0, /* no unit */
    VT_QTY_COUNT,     /* a plain number with k, M or G */
    VT_QTY_BYTES,     /* bytes: B, kB, KB, MB, GB, TB, KiB, MiB, GiB, TiB */
    VT_QTY_PERCENT,   /* % */
    VT_QTY_TIME,      /* nanoseconds: ns, us, ms, s, m, h */
};

typedef struct vt_unit_word {
    const char *name;
    double scale; /* to the quantity's base: bytes, nanoseconds, a plain count */
    enum vt_qty qty;
} vt_unit_word;

/* The index of the first character at or after s[i] that is not a space or a tab. */
size_t vt_lex_space(const char *s, size_t i);

/* A number at s[i]: digits with an optional fraction ("12", "2.5"). Returns the index after
 * it with *v set, or i when there is none. A '.' not followed by a digit is not read. */
size_t vt_lex_number(const char *s, size_t i, double *v);

/* A comparison at s[i] (>, >=, <, <=, ==, !=). Returns its length with *cmp set, or 0. */
size_t vt_lex_cmp(const char *s, size_t i, enum vt_cmp *cmp);

/* The unit word at s[i] ('%' or a run of letters): *len gets its length (0 when s[i] starts no
 * word). Returns the unit, or NULL when there is no word or the word is no unit. */
const vt_unit_word *vt_lex_unit(const char *s, size_t i, size_t *len);

/* The operator as written (">", ">="...). */
const char *vt_cmp_str(enum vt_cmp cmp);

/* Whether lhs cmp rhs holds. */
int vt_cmp_holds(enum vt_cmp cmp, double lhs, double rhs);

#endif

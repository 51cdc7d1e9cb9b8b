/* Comparisons, numbers and units of the rule grammars. See lex.h. */
#include "analyze/lex.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const vt_unit_word units[] = {
    {"B", 1, VT_QTY_BYTES},
    {"kB", 1e3, VT_QTY_BYTES},
    {"KB", 1e3, VT_QTY_BYTES},
    {"MB", 1e6, VT_QTY_BYTES},
    {"GB", 1e9, VT_QTY_BYTES},
    {"TB", 1e12, VT_QTY_BYTES},
    {"KiB", 1024.0, VT_QTY_BYTES},
    {"MiB", 1024.0 * 1024, VT_QTY_BYTES},
    {"GiB", 1024.0 * 1024 * 1024, VT_QTY_BYTES},
    {"TiB", 1024.0 * 1024 * 1024 * 1024, VT_QTY_BYTES},
    {"%", 1, VT_QTY_PERCENT},
    {"ns", 1, VT_QTY_TIME},
    {"us", 1e3, VT_QTY_TIME},
    {"ms", 1e6, VT_QTY_TIME},
    {"s", 1e9, VT_QTY_TIME},
    {"m", 60e9, VT_QTY_TIME},
    {"h", 3600e9, VT_QTY_TIME},
    {"k", 1e3, VT_QTY_COUNT},
    {"M", 1e6, VT_QTY_COUNT},
    {"G", 1e9, VT_QTY_COUNT},
};

size_t vt_lex_space(const char *s, size_t i)
{
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    return i;
}

size_t vt_lex_number(const char *s, size_t i, double *v)
{
    size_t j = i;
    while (isdigit((unsigned char)s[j]))
        j++;
    if (j == i)
        return i;
    if (s[j] == '.' && isdigit((unsigned char)s[j + 1])) {
        j++;
        while (isdigit((unsigned char)s[j]))
            j++;
    }
    char buf[64];
    size_t n = j - i < sizeof(buf) - 1 ? j - i : sizeof(buf) - 1;
    memcpy(buf, s + i, n);
    buf[n] = 0;
    *v = strtod(buf, NULL);
    return j;
}

size_t vt_lex_cmp(const char *s, size_t i, enum vt_cmp *cmp)
{
    if (!s[i])
        return 0;
    int eq = s[i + 1] == '=';
    switch (s[i]) {
    case '>':
        *cmp = eq ? VT_CMP_GE : VT_CMP_GT;
        return eq ? 2 : 1;
    case '<':
        *cmp = eq ? VT_CMP_LE : VT_CMP_LT;
        return eq ? 2 : 1;
    case '=':
        *cmp = VT_CMP_EQ;
        return eq ? 2 : 0;
    case '!':
        *cmp = VT_CMP_NE;
        return eq ? 2 : 0;
    }
    return 0;
}

const vt_unit_word *vt_lex_unit(const char *s, size_t i, size_t *len)
{
    size_t n = 0;
    if (s[i] == '%')
        n = 1;
    else
        while (isalpha((unsigned char)s[i + n]))
            n++;
    *len = n;
    for (size_t k = 0; n && k < sizeof(units) / sizeof(units[0]); k++)
        if (strlen(units[k].name) == n && !memcmp(units[k].name, s + i, n))
            return &units[k];
    return NULL;
}

const char *vt_cmp_str(enum vt_cmp cmp)
{
    static const char *const s[] = {">", ">=", "<", "<=", "==", "!="};
    return (unsigned)cmp < 6 ? s[cmp] : "?";
}

int vt_cmp_holds(enum vt_cmp cmp, double a, double b)
{
    switch (cmp) {
    case VT_CMP_GT:
        return a > b;
    case VT_CMP_GE:
        return a >= b;
    case VT_CMP_LT:
        return a < b;
    case VT_CMP_LE:
        return a <= b;
    case VT_CMP_EQ:
        return a == b;
    case VT_CMP_NE:
        return a != b;
    }
    return 0;
}

/* The budget grammar (docs/DIFF.md):
 *
 *   rule   = figure [":" qualifier] [stat] op limit
 *   figure = [a-z_][a-z0-9_]*            peak, leaked, allocs, zone...
 *   qualifier = one or more of [A-Za-z0-9_.\-/]      zone:parse
 *   stat   = [a-z][a-z0-9.]*             p99, mean, max...
 *   op     = ">" | ">=" | "<" | "<=" | "==" | "!="
 *   limit  = ["+" | "-"] number [unit]   number = digits ["." digits]
 *   unit   = "%" | B | KB | MB | GB | TB | KiB | MiB | GiB | TiB | k | M | G | ns | us | ms | s
 *
 * Spaces may separate the parts. A signed limit is a change from the base ("+10%" relative,
 * "+1MiB" absolute); an unsigned one is the value itself. A percentage must be signed. */
#include "analyze/budget.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

struct unit {
    const char *name;
    double factor;
    enum vt_limit_unit kind;
};

/* Longest names first within a prefix group, so that "KiB" is not read as "K". */
static const struct unit units[] = {
    {"KiB", 1024.0, VT_LUNIT_BYTES},
    {"MiB", 1024.0 * 1024, VT_LUNIT_BYTES},
    {"GiB", 1024.0 * 1024 * 1024, VT_LUNIT_BYTES},
    {"TiB", 1024.0 * 1024 * 1024 * 1024, VT_LUNIT_BYTES},
    {"KB", 1e3, VT_LUNIT_BYTES},
    {"kB", 1e3, VT_LUNIT_BYTES},
    {"MB", 1e6, VT_LUNIT_BYTES},
    {"GB", 1e9, VT_LUNIT_BYTES},
    {"TB", 1e12, VT_LUNIT_BYTES},
    {"B", 1, VT_LUNIT_BYTES},
    {"ns", 1, VT_LUNIT_TIME},
    {"us", 1e3, VT_LUNIT_TIME},
    {"ms", 1e6, VT_LUNIT_TIME},
    {"s", 1e9, VT_LUNIT_TIME},
    {"k", 1e3, VT_LUNIT_NONE},
    {"M", 1e6, VT_LUNIT_NONE},
    {"G", 1e9, VT_LUNIT_NONE},
    {"%", 1, VT_LUNIT_PERCENT},
};

static int fail(size_t *err_at, size_t at, char *msg, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(size_t *err_at, size_t at, char *msg, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (msg && n)
        vsnprintf(msg, n, fmt, ap);
    va_end(ap);
    if (err_at)
        *err_at = at;
    return VT_EINVAL;
}

static size_t skip_space(const char *s, size_t i)
{
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    return i;
}

static int is_qual_char(int c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '/';
}

/* The parser: with rest NULL the whole text must be one rule; otherwise the rule may be
 * followed by more text, whose offset goes to *rest. */
static int parse(const char *text, vt_budget_expr *out, size_t *rest, size_t *err_at, char *msg,
                 size_t msg_size)
{
    memset(out, 0, sizeof(*out));
    size_t len = strlen(text);
    if (len >= sizeof(out->text))
        return fail(err_at, sizeof(out->text) - 1, msg, msg_size,
                    "the rule is too long (at most "
                    "%zu characters)",
                    sizeof(out->text) - 1);
    memcpy(out->text, text, len + 1);
    const char *s = text;
    size_t i = skip_space(s, 0), start;

    /* figure */
    if (!s[i])
        return fail(err_at, i, msg, msg_size, "empty rule; expected e.g. 'peak > +10%%'");
    if (!(islower((unsigned char)s[i]) || s[i] == '_'))
        return fail(err_at, i, msg, msg_size,
                    "expected a figure name (lower case, like 'peak') "
                    "at '%c'",
                    s[i]);
    start = i;
    while (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_')
        i++;
    if (i - start >= sizeof(out->figure))
        return fail(err_at, start, msg, msg_size, "figure name too long");
    memcpy(out->figure, s + start, i - start);
    out->figure_at = start;

    /* [":" qualifier] */
    if (s[i] == ':') {
        i++;
        start = i;
        while (is_qual_char((unsigned char)s[i]))
            i++;
        if (i == start)
            return fail(err_at, i, msg, msg_size,
                        "expected a name after ':' (as in "
                        "'zone:parse')");
        if (i - start >= sizeof(out->qualifier))
            return fail(err_at, start, msg, msg_size, "name after ':' too long");
        memcpy(out->qualifier, s + start, i - start);
    }

    /* [stat] */
    i = skip_space(s, i);
    if (islower((unsigned char)s[i])) {
        start = i;
        while (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '.')
            i++;
        if (i - start >= sizeof(out->stat))
            return fail(err_at, start, msg, msg_size, "statistic name too long");
        memcpy(out->stat, s + start, i - start);
        i = skip_space(s, i);
    }

    /* op */
    switch (s[i]) {
    case '>':
        out->cmp = s[i + 1] == '=' ? VT_CMP_GE : VT_CMP_GT;
        break;
    case '<':
        out->cmp = s[i + 1] == '=' ? VT_CMP_LE : VT_CMP_LT;
        break;
    case '=':
        if (s[i + 1] != '=')
            return fail(err_at, i + 1, msg, msg_size,
                        "expected '==' (a single '=' is not a "
                        "comparison)");
        out->cmp = VT_CMP_EQ;
        break;
    case '!':
        if (s[i + 1] != '=')
            return fail(err_at, i + 1, msg, msg_size, "expected '!='");
        out->cmp = VT_CMP_NE;
        break;
    case 0:
        return fail(err_at, i, msg, msg_size,
                    "the rule ends here; expected a comparison "
                    "(>, >=, <, <=, ==, !=) and a limit");
    default:
        return fail(err_at, i, msg, msg_size,
                    "expected a comparison (>, >=, <, <=, ==, !=) "
                    "at '%c'",
                    s[i]);
    }
    i += (out->cmp == VT_CMP_GT || out->cmp == VT_CMP_LT) ? 1 : 2;

    /* limit */
    i = skip_space(s, i);
    out->limit_at = i;
    int sign = 0;
    if (s[i] == '+' || s[i] == '-') {
        sign = s[i] == '+' ? 1 : -1;
        i++;
    }
    if (!isdigit((unsigned char)s[i])) {
        if (!s[i])
            return fail(err_at, i, msg, msg_size, "the rule ends here; expected a number");
        return fail(err_at, i, msg, msg_size, "expected a number at '%c'", s[i]);
    }
    start = i;
    while (isdigit((unsigned char)s[i]))
        i++;
    if (s[i] == '.') {
        i++;
        if (!isdigit((unsigned char)s[i]))
            return fail(err_at, i, msg, msg_size, "expected a digit after '.'");
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    char num[64];
    if (i - start >= sizeof(num))
        return fail(err_at, start, msg, msg_size, "number too long");
    memcpy(num, s + start, i - start);
    num[i - start] = 0;
    double v = strtod(num, NULL);
    size_t unit_at = skip_space(s, i);
    const struct unit *u = NULL;
    if (s[unit_at]) {
        for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
            size_t n = strlen(units[k].name);
            if (!strncmp(s + unit_at, units[k].name, n) &&
                !isalnum((unsigned char)s[unit_at + n])) {
                u = &units[k];
                break;
            }
        }
        if (!u && rest && unit_at > i) {
            unit_at = i; /* a word after the number and a space: the caller's */
        } else if (!u) {
            size_t n = 0;
            while (s[unit_at + n] && s[unit_at + n] != ' ')
                n++;
            return fail(err_at, unit_at, msg, msg_size,
                        "unknown unit '%.*s'; expected %%, B, "
                        "KB, KiB, MB, MiB, GB, GiB, TB, TiB, k, M, G, ns, us, ms or s",
                        (int)n, s + unit_at);
        }
        if (u) {
            i = unit_at + strlen(u->name);
            v *= u->factor;
            out->unit = u->kind;
        }
    }
    if (out->unit == VT_LUNIT_PERCENT && !sign)
        return fail(err_at, out->limit_at, msg, msg_size,
                    "a percentage is a change from the base: write '+%s%%' or '-%s%%'", num, num);
    out->kind = out->unit == VT_LUNIT_PERCENT ? VT_LIMIT_RELATIVE
                : sign                        ? VT_LIMIT_CHANGE
                                              : VT_LIMIT_VALUE;
    out->limit = sign < 0 ? -v : v;
    size_t end = i;
    i = skip_space(s, i);
    if (rest)
        *rest = i;
    else if (s[i])
        return fail(err_at, i, msg, msg_size, "unexpected '%c' after the limit", s[i]);
    /* trim the copy */
    while (end && (text[end - 1] == ' ' || text[end - 1] == '\t'))
        end--;
    size_t lead = skip_space(text, 0);
    memmove(out->text, text + lead, end - lead);
    out->text[end - lead] = 0;
    out->figure_at -= lead;
    out->limit_at -= lead;
    return 0;
}

int vt_budget_parse(const char *text, vt_budget_expr *out, size_t *err_at, char *msg,
                    size_t msg_size)
{
    return parse(text, out, NULL, err_at, msg, msg_size);
}

int vt_budget_parse_prefix(const char *text, vt_budget_expr *out, size_t *rest, size_t *err_at,
                           char *msg, size_t msg_size)
{
    return parse(text, out, rest, err_at, msg, msg_size);
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

int vt_budget_measure(const vt_budget_expr *e, double base, double new_value, int has_base,
                      double *out)
{
    switch (e->kind) {
    case VT_LIMIT_VALUE:
        *out = new_value;
        return 0;
    case VT_LIMIT_CHANGE:
        if (!has_base)
            return VT_EINVAL;
        *out = new_value - base;
        return 0;
    case VT_LIMIT_RELATIVE:
        if (!has_base)
            return VT_EINVAL;
        if (base == 0)
            *out = new_value == 0 ? 0 : new_value > 0 ? INFINITY : -INFINITY;
        else
            *out = (new_value - base) / fabs(base) * 100.0;
        return 0;
    }
    return VT_EINVAL;
}

int vt_budget_broken(const vt_budget_expr *e, double base, double new_value, int has_base,
                     double *measured)
{
    double q;
    int rc = vt_budget_measure(e, base, new_value, has_base, &q);
    if (rc)
        return rc;
    if (measured)
        *measured = q;
    return vt_cmp_holds(e->cmp, q, e->limit);
}

const char *vt_budget_limit_str(const vt_budget_expr *e, char *buf, size_t n)
{
    const char *sign = e->kind == VT_LIMIT_VALUE ? "" : e->limit >= 0 ? "+" : "-";
    double v = fabs(e->limit);
    switch (e->unit) {
    case VT_LUNIT_PERCENT:
        snprintf(buf, n, "%s%g%%", sign, v);
        break;
    case VT_LUNIT_BYTES:
        snprintf(buf, n, "%s%.0f B", sign, v);
        break;
    case VT_LUNIT_TIME:
        snprintf(buf, n, "%s%.0f ns", sign, v);
        break;
    default:
        snprintf(buf, n, "%s%g", sign, v);
    }
    return buf;
}

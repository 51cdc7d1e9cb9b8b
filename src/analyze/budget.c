/* The budget grammar (docs/DIFF.md):
 *
 *   rule   = figure [":" qualifier] [stat] op limit
 *   figure = [a-z_][a-z0-9_]*            peak, leaked, allocs, zone...
 *   qualifier = one or more of [A-Za-z0-9_.\-/]      zone:parse
 *   stat   = [a-z][a-z0-9.]*             p99, mean, max...
 *   op     = ">" | ">=" | "<" | "<=" | "==" | "!="
 *   limit  = ["+" | "-"] number [unit]   number = digits ["." digits]
 *   unit   = "%" | B | KB | MB | GB | TB | KiB | MiB | GiB | TiB | k | M | G | ns | us | ms | s
 *            | m | h                   (comparisons, numbers and units: lex.h)
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
    size_t i = vt_lex_space(s, 0), start;

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
    i = vt_lex_space(s, i);
    if (islower((unsigned char)s[i])) {
        start = i;
        while (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '.')
            i++;
        if (i - start >= sizeof(out->stat))
            return fail(err_at, start, msg, msg_size, "statistic name too long");
        memcpy(out->stat, s + start, i - start);
        i = vt_lex_space(s, i);
    }

    /* op */
    size_t k = vt_lex_cmp(s, i, &out->cmp);
    if (!k) {
        if (s[i] == '=')
            return fail(err_at, i + 1, msg, msg_size,
                        "expected '==' (a single '=' is not a comparison)");
        if (s[i] == '!')
            return fail(err_at, i + 1, msg, msg_size, "expected '!='");
        if (!s[i])
            return fail(err_at, i, msg, msg_size,
                        "the rule ends here; expected a comparison (>, >=, <, <=, ==, !=) and a "
                        "limit");
        return fail(err_at, i, msg, msg_size,
                    "expected a comparison (>, >=, <, <=, ==, !=) at '%c'", s[i]);
    }
    i += k;

    /* limit */
    i = vt_lex_space(s, i);
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
    double v;
    i = vt_lex_number(s, i, &v);
    if (s[i] == '.')
        return fail(err_at, i + 1, msg, msg_size, "expected a digit after '.'");
    char num[64];
    snprintf(num, sizeof(num), "%.*s", (int)(i - start < 63 ? i - start : 63), s + start);
    size_t unit_at = vt_lex_space(s, i), un;
    const vt_unit_word *u = vt_lex_unit(s, unit_at, &un);
    if (!u && rest && unit_at > i) {
        unit_at = i; /* a word after the number and a space: the caller's */
    } else if (!u && s[unit_at]) {
        size_t n = 0;
        while (s[unit_at + n] && s[unit_at + n] != ' ')
            n++;
        return fail(err_at, unit_at, msg, msg_size,
                    "unknown unit '%.*s'; expected %%, B, KB, KiB, MB, MiB, GB, GiB, TB, TiB, k, "
                    "M, G, ns, us, ms, s, m or h",
                    (int)n, s + unit_at);
    } else if (u) {
        i = unit_at + un;
        v *= u->scale;
        out->unit = u->qty;
    }
    if (out->unit == VT_QTY_PERCENT && !sign)
        return fail(err_at, out->limit_at, msg, msg_size,
                    "a percentage is a change from the base: write '+%s%%' or '-%s%%'", num, num);
    out->kind = out->unit == VT_QTY_PERCENT ? VT_LIMIT_RELATIVE
                : sign                      ? VT_LIMIT_CHANGE
                                            : VT_LIMIT_VALUE;
    out->limit = sign < 0 ? -v : v;
    size_t end = i;
    i = vt_lex_space(s, i);
    if (rest)
        *rest = i;
    else if (s[i])
        return fail(err_at, i, msg, msg_size, "unexpected '%c' after the limit", s[i]);
    /* trim the copy */
    while (end && (text[end - 1] == ' ' || text[end - 1] == '\t'))
        end--;
    size_t lead = vt_lex_space(text, 0);
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
    case VT_QTY_PERCENT:
        snprintf(buf, n, "%s%g%%", sign, v);
        break;
    case VT_QTY_BYTES:
        snprintf(buf, n, "%s%.0f B", sign, v);
        break;
    case VT_QTY_TIME:
        snprintf(buf, n, "%s%.0f ns", sign, v);
        break;
    default:
        snprintf(buf, n, "%s%g", sign, v);
    }
    return buf;
}

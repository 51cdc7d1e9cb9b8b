#include "analyze/expr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

struct unit {
    const char *name;
    int unit;
    double scale;
};

static const struct unit units[] = {
    {"B", VT_EXPR_BYTES, 1},
    {"kB", VT_EXPR_BYTES, 1e3},
    {"KB", VT_EXPR_BYTES, 1e3},
    {"MB", VT_EXPR_BYTES, 1e6},
    {"GB", VT_EXPR_BYTES, 1e9},
    {"TB", VT_EXPR_BYTES, 1e12},
    {"KiB", VT_EXPR_BYTES, 1024.0},
    {"MiB", VT_EXPR_BYTES, 1024.0 * 1024},
    {"GiB", VT_EXPR_BYTES, 1024.0 * 1024 * 1024},
    {"TiB", VT_EXPR_BYTES, 1024.0 * 1024 * 1024 * 1024},
    {"%", VT_EXPR_PERCENT, 1},
    {"ns", VT_EXPR_TIME, 1},
    {"us", VT_EXPR_TIME, 1e3},
    {"ms", VT_EXPR_TIME, 1e6},
    {"s", VT_EXPR_TIME, 1e9},
    {"m", VT_EXPR_TIME, 60e9},
    {"h", VT_EXPR_TIME, 3600e9},
    {"k", VT_EXPR_COUNT, 1e3},
    {"M", VT_EXPR_COUNT, 1e6},
    {"G", VT_EXPR_COUNT, 1e9},
};

const char *vt_expr_op_name(int op)
{
    static const char *const n[] = {">", ">=", "<", "<=", "==", "!="};
    return op >= 0 && op <= VT_OP_NE ? n[op] : "?";
}

int vt_expr_holds(const vt_expr *e, double v)
{
    switch (e->op) {
    case VT_OP_GT:
        return v > e->value;
    case VT_OP_GE:
        return v >= e->value;
    case VT_OP_LT:
        return v < e->value;
    case VT_OP_LE:
        return v <= e->value;
    case VT_OP_EQ:
        return v == e->value;
    case VT_OP_NE:
        return v != e->value;
    }
    return 0;
}

static int fail(vt_expr_error *err, size_t pos, const char *fmt, const char *arg)
{
    err->pos = pos;
    snprintf(err->msg, sizeof(err->msg), fmt, arg);
    return VT_EINVAL;
}

static size_t skip_blanks(const char *s, size_t i)
{
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    return i;
}

/* A number at s[i]: digits with an optional fraction. Returns the index after it, or i when
 * there is none. */
static size_t number(const char *s, size_t i, double *v)
{
    size_t j = i;
    while (isdigit((unsigned char)s[j]))
        j++;
    if (s[j] == '.' && isdigit((unsigned char)s[j + 1])) {
        j++;
        while (isdigit((unsigned char)s[j]))
            j++;
    }
    if (j == i)
        return i;
    char buf[64];
    size_t n = j - i < sizeof(buf) - 1 ? j - i : sizeof(buf) - 1;
    memcpy(buf, s + i, n);
    buf[n] = 0;
    *v = strtod(buf, NULL);
    return j;
}

/* A unit word at s[i] (letters or '%'): its length, 0 if none. */
static size_t unit_word(const char *s, size_t i)
{
    if (s[i] == '%')
        return 1;
    size_t j = i;
    while (isalpha((unsigned char)s[j]))
        j++;
    return j - i;
}

static const struct unit *find_unit(const char *s, size_t n)
{
    for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++)
        if (strlen(units[k].name) == n && !memcmp(units[k].name, s, n))
            return &units[k];
    return NULL;
}

int vt_expr_parse(const char *text, vt_expr *e, vt_expr_error *err)
{
    memset(e, 0, sizeof(*e));
    memset(err, 0, sizeof(*err));
    e->severity = 1;
    size_t len = strlen(text);
    if (len >= sizeof(e->text))
        return fail(err, sizeof(e->text) - 1, "the condition is too long (at most %s characters)",
                    "255");
    memcpy(e->text, text, len + 1);
    const char *s = e->text;
    size_t i = skip_blanks(s, 0);

    /* An identifier: the severity (when a ':' follows) or the metric. */
    size_t at = i;
    if (!(islower((unsigned char)s[i]) || s[i] == '_'))
        return fail(err, i, "%s",
                    s[i] ? "expected a metric name (a-z, 0-9, '_', '.')"
                         : "expected a metric name, found the end");
    while (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' ||
           s[i] == '.')
        i++;
    size_t j = skip_blanks(s, i);
    if (s[j] == ':') {
        static const char *const sev[] = {"info", "warning", "critical"};
        int found = -1;
        for (int k = 0; k < 3; k++)
            if (strlen(sev[k]) == i - at && !memcmp(s + at, sev[k], i - at))
                found = k;
        if (found < 0)
            return fail(err, at, "%s", "unknown severity (info, warning or critical)");
        e->severity = found;
        i = skip_blanks(s, j + 1);
        at = i;
        if (!(islower((unsigned char)s[i]) || s[i] == '_'))
            return fail(err, i, "%s", "expected a metric name after the severity");
        while (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' ||
               s[i] == '.')
            i++;
    }
    if (i - at >= sizeof(e->metric))
        return fail(err, at, "%s", "the metric name is too long");
    memcpy(e->metric, s + at, i - at);
    e->metric[i - at] = 0;
    e->metric_at = at;
    if (s[i] == '/') {
        if (s[i + 1] != 's' || isalnum((unsigned char)s[i + 2]))
            return fail(err, i + 1, "%s", "expected 's' after '/' (a rate per second: name/s)");
        e->rate = 1;
        i += 2;
    }
    i = skip_blanks(s, i);

    /* The comparison. */
    if (s[i] == '>' || s[i] == '<') {
        int eq = s[i + 1] == '=';
        e->op = s[i] == '>' ? (eq ? VT_OP_GE : VT_OP_GT) : (eq ? VT_OP_LE : VT_OP_LT);
        i += eq ? 2 : 1;
    } else if ((s[i] == '=' || s[i] == '!') && s[i + 1] == '=') {
        e->op = s[i] == '=' ? VT_OP_EQ : VT_OP_NE;
        i += 2;
    } else {
        return fail(err, i, "%s",
                    s[i] ? "expected a comparison (>, >=, <, <=, ==, !=)"
                         : "expected a comparison (>, >=, <, <=, ==, !=), found the end");
    }
    i = skip_blanks(s, i);

    /* The threshold and its unit. */
    double v;
    size_t k = number(s, i, &v);
    if (k == i)
        return fail(err, i, "%s", s[i] ? "expected a number" : "expected a number, found the end");
    i = k;
    size_t u_at = skip_blanks(s, i);
    size_t un = unit_word(s, u_at);
    e->unit = VT_EXPR_PLAIN;
    e->unit_at = u_at;
    if (un && !(un == 3 && !memcmp(s + u_at, "for", 3) && !isalpha((unsigned char)s[u_at + 3]))) {
        const struct unit *u = find_unit(s + u_at, un);
        if (!u) {
            char w[32];
            snprintf(w, sizeof(w), "%.*s", (int)(un < 20 ? un : 20), s + u_at);
            return fail(err, u_at,
                        "unknown unit '%s' (B, kB, MB, GB, KiB, MiB, GiB, %%, ns, us, ms, s, m, h,"
                        " k, M, G)",
                        w);
        }
        v *= u->scale;
        e->unit = u->unit;
        i = u_at + un;
    }
    e->value = v;
    i = skip_blanks(s, i);

    /* 'for' DURATION */
    if (!strncmp(s + i, "for", 3) && !isalnum((unsigned char)s[i + 3])) {
        i = skip_blanks(s, i + 3);
        double d;
        k = number(s, i, &d);
        if (k == i)
            return fail(err, i, "%s", "expected a duration after 'for' (10s, 500ms, 5m)");
        size_t d_at = skip_blanks(s, k);
        size_t dn = unit_word(s, d_at);
        const struct unit *u = dn ? find_unit(s + d_at, dn) : NULL;
        if (!u || u->unit != VT_EXPR_TIME)
            return fail(err, d_at, "%s", "expected a duration unit (ns, us, ms, s, m, h)");
        e->for_ns = (uint64_t)(d * u->scale);
        i = skip_blanks(s, d_at + dn);
    }
    if (s[i])
        return fail(err, i, "%s", "unexpected text after the condition");
    return 0;
}

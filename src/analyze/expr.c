/* The alert grammar: conditions parsed into a struct. See expr.h. */
#include "analyze/expr.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"

static int fail(vt_expr_error *err, size_t pos, const char *fmt, const char *arg)
{
    err->pos = pos;
    snprintf(err->msg, sizeof(err->msg), fmt, arg);
    return VT_EINVAL;
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
    size_t i = vt_lex_space(s, 0);

    /* An identifier: the severity (when a ':' follows) or the metric. */
    size_t at = i;
    if (!(islower((unsigned char)s[i]) || s[i] == '_'))
        return fail(err, i, "%s",
                    s[i] ? "expected a metric name (a-z, 0-9, '_', '.')"
                         : "expected a metric name, found the end");
    while (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' ||
           s[i] == '.')
        i++;
    size_t j = vt_lex_space(s, i);
    if (s[j] == ':') {
        static const char *const sev[] = {"info", "warning", "critical"};
        int found = -1;
        for (int k = 0; k < 3; k++)
            if (strlen(sev[k]) == i - at && !memcmp(s + at, sev[k], i - at))
                found = k;
        if (found < 0)
            return fail(err, at, "%s", "unknown severity (info, warning or critical)");
        e->severity = found;
        i = vt_lex_space(s, j + 1);
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
    i = vt_lex_space(s, i);

    /* The comparison. */
    size_t k = vt_lex_cmp(s, i, &e->op);
    if (!k)
        return fail(err, i, "%s",
                    s[i] ? "expected a comparison (>, >=, <, <=, ==, !=)"
                         : "expected a comparison (>, >=, <, <=, ==, !=), found the end");
    i = vt_lex_space(s, i + k);

    /* The threshold and its unit. */
    double v;
    k = vt_lex_number(s, i, &v);
    if (k == i)
        return fail(err, i, "%s", s[i] ? "expected a number" : "expected a number, found the end");
    i = k;
    size_t u_at = vt_lex_space(s, i);
    size_t un;
    const vt_unit_word *u = vt_lex_unit(s, u_at, &un);
    e->unit = VT_QTY_PLAIN;
    e->unit_at = u_at;
    if (un && !(un == 3 && !memcmp(s + u_at, "for", 3))) {
        if (!u) {
            char w[32];
            snprintf(w, sizeof(w), "%.*s", (int)(un < 20 ? un : 20), s + u_at);
            return fail(err, u_at,
                        "unknown unit '%s' (B, kB, MB, GB, KiB, MiB, GiB, %%, ns, us, ms, s, m, h,"
                        " k, M, G)",
                        w);
        }
        v *= u->scale;
        e->unit = u->qty;
        i = u_at + un;
    }
    e->value = v;
    i = vt_lex_space(s, i);

    /* 'for' DURATION */
    if (!strncmp(s + i, "for", 3) && !isalnum((unsigned char)s[i + 3])) {
        i = vt_lex_space(s, i + 3);
        double d;
        k = vt_lex_number(s, i, &d);
        if (k == i)
            return fail(err, i, "%s", "expected a duration after 'for' (10s, 500ms, 5m)");
        size_t d_at = vt_lex_space(s, k);
        size_t dn;
        u = vt_lex_unit(s, d_at, &dn);
        if (!u || u->qty != VT_QTY_TIME)
            return fail(err, d_at, "%s", "expected a duration unit (ns, us, ms, s, m, h)");
        e->for_ns = (uint64_t)(d * u->scale);
        i = vt_lex_space(s, d_at + dn);
    }
    if (s[i])
        return fail(err, i, "%s", "unexpected text after the condition");
    return 0;
}

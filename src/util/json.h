/* JSON values for the writers of JSON output (the JSON report, the Chrome trace, vitals diff
 * and vitals history). */
#ifndef VT_UTIL_JSON_H
#define VT_UTIL_JSON_H

#include <stdio.h>

/* Writes s as a JSON string (quotes, backslashes and control characters escaped), or null when
 * s is NULL. */
void vt_json_str(FILE *out, const char *s);

/* Writes v as a JSON number: an integer when it is one (below 9e15), else 10 significant
 * digits; null when it is not finite. */
void vt_json_num(FILE *out, double v);

/* The same with digits significant digits for a number that is not an integer (17: exact). */
void vt_json_num_digits(FILE *out, double v, int digits);

#endif

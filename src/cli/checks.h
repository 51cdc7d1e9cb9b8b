/* What `vitals run` does besides running: --repeat, --budget and the run history. cmd_run.c
 * hands these options to vt_run_checks_option() and calls vt_run_checks_finish() at the end
 * of a run. Also the rule messages `vitals diff --fail-on` shares. */
#ifndef VT_CLI_CHECKS_H
#define VT_CLI_CHECKS_H

#include <stddef.h>

#include "analyze/budget.h"
#include "analyze/figures.h"
#include "analyze/model.h"

/* The option codes of vitals run that this module owns (cmd_run.c's getopt table has their
 * rows, and its usage their lines). */
enum {
    VT_RUN_OPT_REPEAT = 0x2100,
    VT_RUN_OPT_BUDGET,
    VT_RUN_OPT_BUDGET_STATUS,
    VT_RUN_OPT_HISTORY,
    VT_RUN_OPT_NO_HISTORY,
};

typedef struct vt_run_checks {
    long repeat;
    const char *budget_path;
    vt_budget_expr *rules;
    const vt_figure **figs;
    size_t n_rules;
    long budget_status;
    const char *history_path;
    int no_history;
} vt_run_checks;

/* Storage the caller owns: init before parsing options, release after the run. */
void vt_run_checks_init(vt_run_checks *c);
void vt_run_checks_release(vt_run_checks *c);

/* Handles option code opt with its argument; prints a message and returns -1 on a bad value
 * (a budget file that cannot be read or parsed included). */
int vt_run_checks_option(vt_run_checks *c, int opt, const char *arg);

/* With --repeat N (N > 1): runs `vitals run` N times with the same options, each writing its
 * own trace (named from output, which may be NULL), and returns the exit status to use: the
 * first non-zero status of a run, or 0. Returns -1 when there is nothing to repeat (N <= 1),
 * and the caller goes on with a single run. argv is cmd_run's; prog_index where the program
 * starts. */
int vt_run_repeat(const vt_run_checks *c, const char *output, int argc, char **argv,
                  int prog_index);

/* At the end of a run: records it in the history and checks the budget. model is the trace's
 * model when the caller has read it already (borrowed; NULL: read here when needed), trace is
 * the trace's path (it may be missing), prog_argv the program's command line, status the exit
 * status vitals is about to return. Returns the exit status to return. */
int vt_run_checks_finish(const vt_run_checks *c, const vt_model *model, const char *trace,
                         char **prog_argv, int status);

/* Parses rule for option (or file:line) where, checks its figure, and prints a message with a
 * caret under the offending character when it is bad. Returns 0, or -1 after the message. */
int vt_cli_parse_rule(const char *where, const char *rule, vt_budget_expr *out,
                      const vt_figure **fig);

#endif

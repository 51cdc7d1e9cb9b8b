/* The vitals command line: one table of subcommands (main.c), one cmd_*.c per subcommand.
 *
 * To add a command:
 *   1. write src/cli/cmd_NAME.c with `int cmd_NAME(int argc, char **argv)`; argv[0] is the
 *      command's name and --help must print its usage to stdout and return 0;
 *   2. declare it below and add a row to the table in main.c (name, flags, one-line summary);
 *      `vitals help` is generated from that table;
 *   3. add the file to CMakeLists.txt, document it in docs/CLI.md, and test it in tests/e2e.
 *
 * Exit status: 0 success, 1 failure, 2 usage or input error (vitals run: the program's).
 */
#ifndef VT_CLI_H
#define VT_CLI_H

#include <stdarg.h>
#include <stddef.h>

enum vt_cmd_flags {
    VT_CMD_SPAWNS = 1,      /* starts the program under the agent */
    VT_CMD_READS_TRACE = 2, /* takes a trace file */
};

struct vt_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    int flags;
    const char *summary;
};

int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_top(int argc, char **argv);

/* Prints "vitals: <message>" on stderr. */
void vt_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a whole decimal number in [lo, hi] for option opt; prints an error and returns -1 if
 * it is not one. */
int vt_cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out);

/* Whether colours should be used on fd for --color=WHEN (auto|always|never); -1 if WHEN is
 * none of those. */
int vt_cli_color(const char *when, int fd);

#endif

/* The ncurses screen of vitals top: a system header and a sortable process table, a process
 * view with its threads and NUMA placement, a help screen, light and dark themes. */
#ifndef VT_TUI_TOP_H
#define VT_TUI_TOP_H

#include <stdint.h>

enum vt_top_theme { VT_THEME_DARK = 0, VT_THEME_LIGHT = 1 };

typedef struct vt_top_opts {
    uint64_t delay_ns; /* between refreshes */
    int pid;           /* > 0: open on this process's view */
    int theme;
    int sort; /* VT_SORT_* */
} vt_top_opts;

/* Runs the screen until the user quits. Returns 0, or a negative VT_E* code with msg saying
 * why (no terminal, /proc unreadable). */
int vt_top_run(const vt_top_opts *o, char *msg, unsigned msg_size);

#endif

/* The run history: one row per `vitals run` (command, git commit, host, date, exit status and
 * the run's figures) in a SQLite database, by default ~/.local/share/vitals/history.db.
 * The schema is versioned (PRAGMA user_version) and migrated on open; the database is in WAL
 * mode with a busy timeout, so that concurrent runs add their rows without losing any.
 * docs/DIFF.md describes the schema and the rule that flags a sudden change. */
#ifndef VT_STORE_HISTORY_H
#define VT_STORE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

typedef struct vt_history vt_history;

/* The schema version this build writes. */
#define VT_HISTORY_SCHEMA 2

typedef struct vt_history_figure {
    const char *name; /* a figure of figures.h, or any name */
    double value;
} vt_history_figure;

typedef struct vt_history_run {
    int64_t id;       /* assigned by vt_history_add() */
    int64_t time;     /* seconds since the epoch (UTC) */
    char *program;    /* the program's basename */
    char *command;    /* the command line, shell-quoted */
    char *cwd;        /* where it ran */
    char *git_commit; /* HEAD of the git work tree it ran in, or NULL */
    char *host;
    char *trace; /* the trace written, or NULL */
    int exit_status;
    vt_history_figure *figures;
    size_t n_figures;
} vt_history_run;

/* A point of a figure's trend. */
typedef struct vt_history_point {
    int64_t id, time;
    double value;
    char *program, *git_commit;
    int flagged;     /* a sudden change (vt_history_flag) */
    double baseline; /* the median it was compared with (NAN when too few runs before) */
} vt_history_point;

/* Where the history lives: $VITALS_HISTORY if set (empty: nowhere, NULL is returned), else
 * $XDG_DATA_HOME/vitals/history.db, else ~/.local/share/vitals/history.db. Returns buf, or
 * NULL when there is no history. */
const char *vt_history_default_path(char *buf, size_t n);

/* Opens the history at path, creating it (and its directory) when create is set and migrating
 * its schema to VT_HISTORY_SCHEMA. Returns NULL on failure with *err (VT_ECORRUPT: damaged or
 * not a database; VT_EVERSION: written by a newer vitals; VT_ENOENT: missing and !create;
 * VT_EIO otherwise) and a one-line reason in msg. Caller closes with vt_history_close(). */
vt_history *vt_history_open(const char *path, int create, int *err, char *msg, size_t msg_size);

/* Closes h; vt_history_close(NULL) does nothing. */
void vt_history_close(vt_history *h);

/* Adds run (its id is set) in one transaction. Returns 0 or a negative VT_E* code with msg. */
int vt_history_add(vt_history *h, vt_history_run *run, char *msg, size_t msg_size);

/* The last limit runs (all when 0), of program only when not NULL, oldest first, with their
 * figures. Caller frees with vt_history_runs_free(). Returns 0 or a negative VT_E* code. */
int vt_history_list(vt_history *h, const char *program, size_t limit, vt_history_run **out,
                    size_t *n, char *msg, size_t msg_size);

void vt_history_runs_free(vt_history_run *runs, size_t n);

/* The values of figure over the last limit runs that recorded it (all when 0), of program
 * only when not NULL, oldest first, flagged by vt_history_flag(). Caller frees with
 * vt_history_points_free(). Returns 0 or a negative VT_E* code. */
int vt_history_trend(vt_history *h, const char *figure, const char *program, size_t limit,
                     vt_history_point **out, size_t *n, char *msg, size_t msg_size);

void vt_history_points_free(vt_history_point *p, size_t n);

/* Flags sudden changes: point i is flagged when at least VT_HISTORY_WINDOW_MIN points precede
 * it and its value differs from the median m of the (up to VT_HISTORY_WINDOW) points before it
 * by more than max(3 * 1.4826 * MAD, 10% of |m|), MAD being their median absolute deviation
 * from m. */
#define VT_HISTORY_WINDOW 8
#define VT_HISTORY_WINDOW_MIN 3
void vt_history_flag(vt_history_point *p, size_t n);

/* Moves a damaged history aside (to PATH.damaged-N, with its -wal and -shm files) so that the
 * next run starts a new one; the new name goes to moved_to. Returns 0 or a negative VT_E*
 * code. */
int vt_history_reset(const char *path, char *moved_to, size_t n);

#endif

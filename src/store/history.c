/* The run history in SQLite (history.h). */
#include "store/history.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

struct vt_history {
    sqlite3 *db;
    char *path;
};

/* Migrations: entry i takes the schema from version i to i + 1. Never edit one that shipped;
 * append a new one and raise VT_HISTORY_SCHEMA. */
static const char *const migrations[VT_HISTORY_SCHEMA] = {
    "CREATE TABLE runs("
    " id INTEGER PRIMARY KEY,"
    " time INTEGER NOT NULL,"
    " program TEXT NOT NULL,"
    " command TEXT NOT NULL,"
    " cwd TEXT,"
    " git_commit TEXT,"
    " host TEXT,"
    " trace TEXT,"
    " exit_status INTEGER);"
    "CREATE TABLE figures("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " value REAL NOT NULL,"
    " PRIMARY KEY(run_id, name)) WITHOUT ROWID;",
    "CREATE INDEX runs_program_time ON runs(program, time);"
    "CREATE INDEX figures_name ON figures(name, run_id);",
};

#define BUSY_TIMEOUT_MS 15000

static int code_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return VT_ECORRUPT;
    case SQLITE_NOMEM:
        return VT_ENOMEM;
    case SQLITE_FULL:
        return VT_ENOSPC;
    case SQLITE_CANTOPEN:
        return VT_ENOENT;
    }
    return VT_EIO;
}

static int fail(sqlite3 *db, int rc, char *msg, size_t n, const char *what)
{
    snprintf(msg, n, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return code_of(rc);
}

const char *vt_history_default_path(char *buf, size_t n)
{
    const char *env = getenv("VITALS_HISTORY");
    if (env) {
        if (!*env)
            return NULL;
        snprintf(buf, n, "%s", env);
        return buf;
    }
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg && *xdg == '/') {
        snprintf(buf, n, "%s/vitals/history.db", xdg);
        return buf;
    }
    const char *home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    snprintf(buf, n, "%s/.local/share/vitals/history.db", home);
    return buf;
}

/* mkdir -p of path's directory. */
static int make_parent(const char *path)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
        return -1;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(dir, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int exec_retry(sqlite3 *db, const char *sql)
{
    int rc;
    /* The busy handler does not cover every case of a lock (taking WAL mode, a read
     * transaction turning into a write one): retry those for a while too. */
    for (int tries = 0;; tries++) {
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries >= 300)
            return rc;
        sqlite3_sleep(50);
    }
}

static int user_version(sqlite3 *db, int *v)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *v = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int migrate(vt_history *h, char *msg, size_t n)
{
    int v = 0, rc;
    if ((rc = user_version(h->db, &v)) != SQLITE_OK)
        return fail(h->db, rc, msg, n, "cannot read the schema version");
    if (v == VT_HISTORY_SCHEMA)
        return 0;
    if (v > VT_HISTORY_SCHEMA) {
        snprintf(msg, n,
                 "its schema is version %d, newer than this vitals knows (%d); use a "
                 "newer vitals",
                 v, VT_HISTORY_SCHEMA);
        return VT_EVERSION;
    }
    /* Take the write lock first, then read the version again: another process may have
     * migrated in between. */
    if ((rc = exec_retry(h->db, "BEGIN IMMEDIATE")) != SQLITE_OK)
        return fail(h->db, rc, msg, n, "cannot lock the database");
    if ((rc = user_version(h->db, &v)) != SQLITE_OK) {
        fail(h->db, rc, msg, n, "cannot read the schema version");
        goto rollback;
    }
    for (; v < VT_HISTORY_SCHEMA; v++) {
        char sql[64];
        if ((rc = sqlite3_exec(h->db, migrations[v], NULL, NULL, NULL)) != SQLITE_OK) {
            fail(h->db, rc, msg, n, "cannot migrate the schema");
            goto rollback;
        }
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
        if ((rc = sqlite3_exec(h->db, sql, NULL, NULL, NULL)) != SQLITE_OK) {
            fail(h->db, rc, msg, n, "cannot migrate the schema");
            goto rollback;
        }
    }
    if ((rc = exec_retry(h->db, "COMMIT")) != SQLITE_OK) {
        fail(h->db, rc, msg, n, "cannot migrate the schema");
        goto rollback;
    }
    return 0;
rollback:
    sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    return code_of(rc);
}

vt_history *vt_history_open(const char *path, int create, int *err, char *msg, size_t msg_size)
{
    vt_history *h = calloc(1, sizeof(*h));
    int rc;
    *err = VT_ENOMEM;
    snprintf(msg, msg_size, "out of memory");
    if (!h || !(h->path = strdup(path)))
        goto fail;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (!create) {
            snprintf(msg, msg_size, "no run history yet (it is written by 'vitals run')");
            *err = VT_ENOENT;
            goto fail;
        }
        if (make_parent(path) != 0) {
            snprintf(msg, msg_size, "cannot create its directory: %s", strerror(errno));
            *err = VT_EIO;
            goto fail;
        }
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(msg, msg_size, "not a regular file");
        *err = VT_EINVAL;
        goto fail;
    }
    rc = sqlite3_open_v2(
        path, &h->db,
        SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        *err = fail(h->db, rc, msg, msg_size, "cannot open");
        goto fail;
    }
    sqlite3_extended_result_codes(h->db, 0);
    sqlite3_busy_timeout(h->db, BUSY_TIMEOUT_MS);
    if ((rc = exec_retry(h->db, "PRAGMA journal_mode=WAL")) != SQLITE_OK ||
        (rc = sqlite3_exec(h->db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL", NULL, NULL,
                           NULL)) != SQLITE_OK) {
        *err = fail(h->db, rc, msg, msg_size, "cannot set it up");
        goto fail;
    }
    if ((*err = migrate(h, msg, msg_size)) != 0)
        goto fail;
    return h;
fail:
    vt_history_close(h);
    return NULL;
}

void vt_history_close(vt_history *h)
{
    if (!h)
        return;
    sqlite3_close(h->db);
    free(h->path);
    free(h);
}

int vt_history_add(vt_history *h, vt_history_run *run, char *msg, size_t n)
{
    sqlite3_stmt *ins = NULL, *fig = NULL;
    int rc = exec_retry(h->db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return fail(h->db, rc, msg, n, "cannot lock the database");
    rc = sqlite3_prepare_v2(h->db,
                            "INSERT INTO runs(time, program, command, cwd, git_commit, host, "
                            "trace, exit_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            -1, &ins, NULL);
    if (rc != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(ins, 1, run->time);
    sqlite3_bind_text(ins, 2, run->program, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, run->command, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 4, run->cwd, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 5, run->git_commit, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 6, run->host, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 7, run->trace, -1, SQLITE_STATIC);
    sqlite3_bind_int(ins, 8, run->exit_status);
    if ((rc = sqlite3_step(ins)) != SQLITE_DONE)
        goto out;
    run->id = sqlite3_last_insert_rowid(h->db);
    rc = sqlite3_prepare_v2(h->db, "INSERT INTO figures(run_id, name, value) VALUES (?, ?, ?)", -1,
                            &fig, NULL);
    if (rc != SQLITE_OK)
        goto out;
    for (size_t i = 0; i < run->n_figures; i++) {
        sqlite3_reset(fig);
        sqlite3_bind_int64(fig, 1, run->id);
        sqlite3_bind_text(fig, 2, run->figures[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_double(fig, 3, run->figures[i].value);
        if ((rc = sqlite3_step(fig)) != SQLITE_DONE)
            goto out;
    }
    rc = exec_retry(h->db, "COMMIT");
out:
    sqlite3_finalize(ins);
    sqlite3_finalize(fig);
    if (rc == SQLITE_OK || rc == SQLITE_DONE)
        return 0;
    int e = fail(h->db, rc, msg, n, "cannot add the run");
    sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

int vt_history_list(vt_history *h, const char *program, size_t limit, vt_history_run **out,
                    size_t *n, char *msg, size_t msg_size)
{
    sqlite3_stmt *st = NULL, *fig = NULL;
    vt_history_run *runs = NULL;
    size_t count = 0, cap = 0;
    *out = NULL;
    *n = 0;
    int rc = sqlite3_prepare_v2(
        h->db,
        "SELECT * FROM (SELECT id, time, program, command, cwd, git_commit, host, trace, "
        "exit_status FROM runs WHERE ?1 IS NULL OR program = ?1 ORDER BY id DESC LIMIT ?2) "
        "ORDER BY id",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto out;
    rc = sqlite3_prepare_v2(h->db,
                            "SELECT name, value FROM figures WHERE run_id = ? ORDER BY "
                            "name",
                            -1, &fig, NULL);
    if (rc != SQLITE_OK)
        goto out;
    sqlite3_bind_text(st, 1, program, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            vt_history_run *r = realloc(runs, ncap * sizeof(*r));
            if (!r) {
                rc = SQLITE_NOMEM;
                goto out;
            }
            runs = r;
            cap = ncap;
        }
        vt_history_run *r = &runs[count++];
        memset(r, 0, sizeof(*r));
        r->id = sqlite3_column_int64(st, 0);
        r->time = sqlite3_column_int64(st, 1);
        r->program = col_text(st, 2);
        r->command = col_text(st, 3);
        r->cwd = col_text(st, 4);
        r->git_commit = col_text(st, 5);
        r->host = col_text(st, 6);
        r->trace = col_text(st, 7);
        r->exit_status = sqlite3_column_int(st, 8);
        sqlite3_reset(fig);
        sqlite3_bind_int64(fig, 1, r->id);
        size_t fcap = 0;
        int frc;
        while ((frc = sqlite3_step(fig)) == SQLITE_ROW) {
            if (r->n_figures == fcap) {
                fcap = fcap ? fcap * 2 : 16;
                vt_history_figure *f = realloc(r->figures, fcap * sizeof(*f));
                if (!f) {
                    rc = SQLITE_NOMEM;
                    goto out;
                }
                r->figures = f;
            }
            r->figures[r->n_figures].name = (const char *)col_text(fig, 0);
            r->figures[r->n_figures++].value = sqlite3_column_double(fig, 1);
        }
        if (frc != SQLITE_DONE) {
            rc = frc;
            goto out;
        }
    }
out:
    if (rc != SQLITE_DONE) {
        int e = fail(h->db, rc, msg, msg_size, "cannot read the runs");
        sqlite3_finalize(st);
        sqlite3_finalize(fig);
        vt_history_runs_free(runs, count);
        return e;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(fig);
    *out = runs;
    *n = count;
    return 0;
}

void vt_history_runs_free(vt_history_run *runs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(runs[i].program);
        free(runs[i].command);
        free(runs[i].cwd);
        free(runs[i].git_commit);
        free(runs[i].host);
        free(runs[i].trace);
        for (size_t k = 0; k < runs[i].n_figures; k++)
            free((char *)runs[i].figures[k].name);
        free(runs[i].figures);
    }
    free(runs);
}

int vt_history_trend(vt_history *h, const char *figure, const char *program, size_t limit,
                     vt_history_point **out, size_t *n, char *msg, size_t msg_size)
{
    sqlite3_stmt *st = NULL;
    vt_history_point *p = NULL;
    size_t count = 0, cap = 0;
    *out = NULL;
    *n = 0;
    int rc = sqlite3_prepare_v2(
        h->db,
        "SELECT * FROM (SELECT r.id, r.time, f.value, r.program, r.git_commit FROM figures f "
        "JOIN runs r ON r.id = f.run_id WHERE f.name = ?1 AND (?2 IS NULL OR r.program = ?2) "
        "ORDER BY r.id DESC LIMIT ?3) ORDER BY id",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto out;
    sqlite3_bind_text(st, 1, figure, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, program, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, limit ? (sqlite3_int64)limit : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            vt_history_point *q = realloc(p, ncap * sizeof(*q));
            if (!q) {
                rc = SQLITE_NOMEM;
                goto out;
            }
            p = q;
            cap = ncap;
        }
        vt_history_point *q = &p[count++];
        memset(q, 0, sizeof(*q));
        q->id = sqlite3_column_int64(st, 0);
        q->time = sqlite3_column_int64(st, 1);
        q->value = sqlite3_column_double(st, 2);
        q->program = col_text(st, 3);
        q->git_commit = col_text(st, 4);
    }
out:
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        int e = fail(h->db, rc, msg, msg_size, "cannot read the trend");
        vt_history_points_free(p, count);
        return e;
    }
    vt_history_flag(p, count);
    *out = p;
    *n = count;
    return 0;
}

void vt_history_points_free(vt_history_point *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].program);
        free(p[i].git_commit);
    }
    free(p);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void vt_history_flag(vt_history_point *p, size_t n)
{
    double w[VT_HISTORY_WINDOW], dev[VT_HISTORY_WINDOW];
    for (size_t i = 0; i < n; i++) {
        p[i].flagged = 0;
        p[i].baseline = NAN;
        if (i < VT_HISTORY_WINDOW_MIN)
            continue;
        size_t k = i < VT_HISTORY_WINDOW ? i : VT_HISTORY_WINDOW;
        for (size_t j = 0; j < k; j++)
            w[j] = p[i - k + j].value;
        double m = median(w, k);
        for (size_t j = 0; j < k; j++)
            dev[j] = fabs(w[j] - m);
        double mad = median(dev, k);
        double limit = fmax(3 * 1.4826 * mad, 0.10 * fabs(m));
        p[i].baseline = m;
        p[i].flagged = fabs(p[i].value - m) > limit;
    }
}

int vt_history_reset(const char *path, char *moved_to, size_t n)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return VT_ENOENT;
    for (int i = 1; i < 1000; i++) {
        char dst[PATH_MAX + 32], src2[PATH_MAX + 8], dst2[PATH_MAX + 48];
        snprintf(dst, sizeof(dst), "%s.damaged-%d", path, i);
        if (access(dst, F_OK) == 0)
            continue;
        if (rename(path, dst) != 0)
            return VT_EIO;
        for (int k = 0; k < 2; k++) {
            const char *sfx = k ? "-shm" : "-wal";
            snprintf(src2, sizeof(src2), "%s%s", path, sfx);
            snprintf(dst2, sizeof(dst2), "%s%s", dst, sfx);
            if (rename(src2, dst2) != 0 && errno != ENOENT)
                return VT_EIO;
        }
        snprintf(moved_to, n, "%s", dst);
        return 0;
    }
    return VT_EEXIST;
}

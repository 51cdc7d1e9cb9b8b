#include "tui/top.h"

#include <curses.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui/topdata.h"
#include "util/error.h"
#include "util/fmt.h"

enum pair { P_TITLE = 1, P_LOW, P_MID, P_HIGH, P_TABLE, P_SELECT, P_DIM };

struct screen {
    vt_top_data d;
    const vt_top_opts *o;
    int theme;
    int help;
    int view_pid; /* process view open on this pid (0: the table) */
    size_t sel;   /* selected row of the table */
    size_t top;   /* first row shown */
    int sel_pid;  /* the selected process, kept across re-sorting */
    int colors;
};

static void set_theme(struct screen *s)
{
    if (!s->colors)
        return;
    short fg = -1, bg = -1;
    if (s->theme == VT_THEME_DARK) {
        init_pair(P_TITLE, COLOR_CYAN, bg);
        init_pair(P_LOW, COLOR_GREEN, bg);
        init_pair(P_MID, COLOR_YELLOW, bg);
        init_pair(P_HIGH, COLOR_RED, bg);
        init_pair(P_TABLE, COLOR_BLACK, COLOR_CYAN);
        init_pair(P_SELECT, COLOR_BLACK, COLOR_WHITE);
        init_pair(P_DIM, COLOR_BLUE, bg);
    } else {
        init_pair(P_TITLE, COLOR_BLUE, bg);
        init_pair(P_LOW, COLOR_BLUE, bg);
        init_pair(P_MID, COLOR_MAGENTA, bg);
        init_pair(P_HIGH, COLOR_RED, bg);
        init_pair(P_TABLE, COLOR_WHITE, COLOR_BLUE);
        init_pair(P_SELECT, COLOR_WHITE, COLOR_BLACK);
        init_pair(P_DIM, COLOR_BLACK, bg);
    }
    (void)fg;
}

static int attr_of(const struct screen *s, int pair, int fallback)
{
    return s->colors ? (int)COLOR_PAIR(pair) : fallback;
}

/* Prints at (y, x), clipped to the screen's width. */
static void put(int y, int x, int attr, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(int y, int x, int attr, const char *fmt, ...)
{
    if (y < 0 || y >= LINES || x >= COLS)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    attron(attr);
    mvaddnstr(y, x, buf, COLS - x);
    attroff(attr);
}

/* A bar of width w (brackets included) filled to pct, with label inside on the right. */
static void bar(struct screen *s, int y, int x, int w, double pct, const char *label)
{
    if (w < 4 || y >= LINES)
        return;
    int inner = w - 2;
    int fill = isnan(pct) ? 0 : (int)lround(pct / 100.0 * inner);
    if (fill > inner)
        fill = inner;
    int pair = pct >= 90 ? P_HIGH : pct >= 60 ? P_MID : P_LOW;
    put(y, x, A_BOLD, "[");
    char cells[256];
    int n = inner < (int)sizeof(cells) - 1 ? inner : (int)sizeof(cells) - 1;
    memset(cells, ' ', (size_t)n);
    cells[n] = 0;
    int ll = (int)strlen(label);
    if (ll <= n)
        memcpy(cells + n - ll, label, (size_t)ll);
    for (int i = 0; i < fill && i < n; i++)
        if (cells[i] == ' ')
            cells[i] = '|';
    char left[256];
    snprintf(left, sizeof(left), "%.*s", fill < n ? fill : n, cells);
    put(y, x + 1, attr_of(s, pair, A_BOLD), "%s", left);
    put(y, x + 1 + (fill < n ? fill : n), 0, "%s", cells + (fill < n ? fill : n));
    put(y, x + w - 1, A_BOLD, "]");
}

static const char *user_name(uint32_t uid, char *buf, size_t n)
{
    static uint32_t last_uid = UINT32_MAX;
    static char last[32];
    if (uid != last_uid) {
        struct passwd *pw = getpwuid(uid);
        if (pw)
            snprintf(last, sizeof(last), "%s", pw->pw_name);
        else
            snprintf(last, sizeof(last), "%u", uid);
        last_uid = uid;
    }
    snprintf(buf, n, "%s", last);
    return buf;
}

/* The system header; returns the next free line. */
static int draw_header(struct screen *s, const char *title)
{
    vt_top_data *d = &s->d;
    const vt_system_sample *now = vt_system_now(&d->sys), *prev = vt_system_prev(&d->sys);
    char b1[32], b2[32], b3[32];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    int y = 0;
    put(y, 0, attr_of(s, P_TITLE, 0) | A_BOLD, "vitals top");
    put(y, 11, 0, "%02d:%02d:%02d  load %.2f %.2f %.2f  tasks %zu  %s", tm.tm_hour, tm.tm_min,
        tm.tm_sec, now ? now->load1 : 0, now ? now->load5 : 0, now ? now->load15 : 0, d->pt.n_cur,
        title);
    y++;
    if (!now)
        return y;
    /* Per-core bars: as many per row as fit at 30 columns, at most 4 rows (narrower bars for
     * many cores). */
    int n = (int)now->n_cpus;
    int per_row = COLS / 30 > 0 ? COLS / 30 : 1;
    if ((n + per_row - 1) / per_row > 4)
        per_row = (n + 3) / 4;
    int cw = COLS / per_row;
    for (int i = 0; i < n; i++) {
        int row = i / per_row, col = i % per_row;
        char label[16], pct[16];
        snprintf(label, sizeof(label), "%-3d", now->cpu_id[i]);
        double p = vt_top_cpu_busy(d, i);
        snprintf(pct, sizeof(pct), "%.0f%%", isnan(p) ? 0 : p);
        put(y + row, col * cw, attr_of(s, P_TITLE, 0), "%s", label);
        bar(s, y + row, col * cw + 4, cw - 5, p, pct);
    }
    y += (n + per_row - 1) / per_row;
    int half = COLS / 2;
    uint64_t used = now->mem_total > now->mem_available ? now->mem_total - now->mem_available : 0;
    char lbl[64];
    snprintf(lbl, sizeof(lbl), "%s/%s", vt_fmt_bytes(used, b1, sizeof(b1)),
             vt_fmt_bytes(now->mem_total, b2, sizeof(b2)));
    put(y, 0, attr_of(s, P_TITLE, 0), "Mem");
    bar(s, y, 4, half - 5, now->mem_total ? 100.0 * (double)used / (double)now->mem_total : 0, lbl);
    uint64_t sw = now->swap_total - now->swap_free;
    snprintf(lbl, sizeof(lbl), "%s/%s", vt_fmt_bytes(sw, b1, sizeof(b1)),
             vt_fmt_bytes(now->swap_total, b2, sizeof(b2)));
    put(y, half, attr_of(s, P_TITLE, 0), "Swp");
    bar(s, y, half + 4, COLS - half - 4,
        now->swap_total ? 100.0 * (double)sw / (double)now->swap_total : 0, lbl);
    y++;
    /* Network and disks: as many as fit on one line each. */
    char line[512];
    size_t o = 0;
    line[0] = 0;
    for (size_t i = 0; i < now->n_net && o < sizeof(line) - 80; i++) {
        const vt_net_if *ni = &now->net[i];
        if (!strcmp(ni->name, "lo"))
            continue;
        uint64_t rx0 = 0, tx0 = 0;
        for (size_t k = 0; prev && k < prev->n_net; k++)
            if (!strcmp(prev->net[k].name, ni->name))
                rx0 = prev->net[k].rx_bytes, tx0 = prev->net[k].tx_bytes;
        o += (size_t)snprintf(line + o, sizeof(line) - o, "%s rx %s/s tx %s/s  ", ni->name,
                              vt_fmt_bytes((uint64_t)vt_top_rate(d, rx0, ni->rx_bytes), b1, 32),
                              vt_fmt_bytes((uint64_t)vt_top_rate(d, tx0, ni->tx_bytes), b2, 32));
    }
    put(y, 0, attr_of(s, P_TITLE, 0), "Net");
    put(y, 4, 0, "%s", o ? line : "no interfaces but lo");
    y++;
    o = 0;
    line[0] = 0;
    for (size_t i = 0; i < now->n_disk && o < sizeof(line) - 80; i++) {
        const vt_disk *dk = &now->disk[i];
        uint64_t r0 = 0, w0 = 0, b0 = 0;
        for (size_t k = 0; prev && k < prev->n_disk; k++)
            if (!strcmp(prev->disk[k].name, dk->name))
                r0 = prev->disk[k].read_bytes, w0 = prev->disk[k].write_bytes,
                b0 = prev->disk[k].busy_ns;
        o += (size_t)snprintf(line + o, sizeof(line) - o, "%s r %s/s w %s/s %.0f%%  ", dk->name,
                              vt_fmt_bytes((uint64_t)vt_top_rate(d, r0, dk->read_bytes), b1, 32),
                              vt_fmt_bytes((uint64_t)vt_top_rate(d, w0, dk->write_bytes), b2, 32),
                              vt_top_rate(d, b0, dk->busy_ns) / 1e7);
    }
    put(y, 0, attr_of(s, P_TITLE, 0), "Dsk");
    put(y, 4, 0, "%s", o ? line : "no disks");
    y++;
    put(y, 0, attr_of(s, P_TITLE, 0), "GPU");
    if (!d->gpu.n_gpus) {
        put(y, 4, attr_of(s, P_DIM, A_DIM), "%s", d->gpu.why);
    } else {
        o = 0;
        for (int i = 0; i < d->gpu.n_gpus && o < sizeof(line) - 100; i++) {
            const vt_gpu_sample *g = &d->gpu.s[i];
            o += (size_t)snprintf(line + o, sizeof(line) - o, "%d %s %u%% mem %s/%s %uC %.0fW  ", i,
                                  g->name, g->util_gpu, vt_fmt_bytes(g->mem_used, b1, 32),
                                  vt_fmt_bytes(g->mem_total, b2, 32), g->temperature_c,
                                  g->power_mw / 1000.0);
        }
        put(y, 4, 0, "%s", line);
    }
    y++;
    if (now->psi[VT_PSI_CPU].present) {
        put(y, 0, attr_of(s, P_TITLE, 0), "PSI");
        put(y, 4, 0, "some, 10 s average: cpu %.1f%%  memory %.1f%%  io %.1f%%",
            now->psi[VT_PSI_CPU].some_avg10, now->psi[VT_PSI_MEMORY].some_avg10,
            now->psi[VT_PSI_IO].some_avg10);
        y++;
    }
    (void)b3;
    return y;
}

static void draw_table(struct screen *s, int y)
{
    vt_ptable *pt = &s->d.pt;
    char b1[32], b2[32], u[32];
    static const char *const keys[] = {"CPU%", "RSS", "IO/s", "THR"};
    char head[160];
    snprintf(head, sizeof(head), "%7s %-9s S %6s %9s %5s %9s  %s", "PID", "USER", "CPU%", "RSS",
             "THR", "IO/s", "COMMAND");
    (void)keys;
    attron(attr_of(s, P_TABLE, A_REVERSE));
    mvhline(y, 0, ' ', COLS);
    attroff(attr_of(s, P_TABLE, A_REVERSE));
    put(y, 0, attr_of(s, P_TABLE, A_REVERSE), "%s", head);
    y++;
    int rows = LINES - y;
    if (rows < 1 || !pt->n_cur)
        return;
    /* Keep the selected process selected when the order changes. */
    for (size_t i = 0; s->sel_pid && i < pt->n_cur; i++)
        if (pt->cur[pt->order[i]].pid == s->sel_pid) {
            s->sel = i;
            break;
        }
    if (s->sel >= pt->n_cur)
        s->sel = pt->n_cur - 1;
    if (s->sel < s->top)
        s->top = s->sel;
    if (s->sel >= s->top + (size_t)rows)
        s->top = s->sel - (size_t)rows + 1;
    for (int r = 0; r < rows && s->top + (size_t)r < pt->n_cur; r++) {
        size_t i = s->top + (size_t)r;
        const vt_ptable_entry *e = &pt->cur[pt->order[i]];
        int attr = i == s->sel ? attr_of(s, P_SELECT, A_REVERSE) : 0;
        if (i == s->sel) {
            s->sel_pid = e->pid;
            attron(attr);
            mvhline(y + r, 0, ' ', COLS);
            attroff(attr);
        }
        char io[32];
        if (e->has_io)
            snprintf(io, sizeof(io), "%s", vt_fmt_bytes((uint64_t)e->io_rate, b2, sizeof(b2)));
        else
            snprintf(io, sizeof(io), "-");
        put(y + r, 0, attr, "%7d %-9.9s %c %6.1f %9s %5llu %9s  %s", e->pid,
            user_name(e->uid, u, sizeof(u)), e->state, e->cpu_pct,
            vt_fmt_bytes(e->rss, b1, sizeof(b1)), (unsigned long long)e->threads, io, e->comm);
    }
}

static void draw_process(struct screen *s, int y)
{
    vt_top_data *d = &s->d;
    const vt_proc_sample *p = vt_proc_now(&d->proc), *q = vt_proc_prev(&d->proc);
    char b1[32], b2[32], b3[32], b4[32];
    if (!p) {
        put(y, 0, A_BOLD, "process %d cannot be read (it has ended, or /proc refuses it)",
            s->view_pid);
        return;
    }
    if (d->proc_gone)
        put(y++, 0, attr_of(s, P_HIGH, A_BOLD),
            "process %d has ended; its last figures:", s->view_pid);
    double dt = q && p->ns > q->ns ? (double)(p->ns - q->ns) : 0;
#define RATE(f) (dt > 0 && p->f >= q->f ? (double)(p->f - q->f) * 1e9 / dt : 0)
#define PCT(f) (dt > 0 && p->f >= q->f ? (double)(p->f - q->f) * 100.0 / dt : 0)
    put(y++, 0, A_BOLD, "Process %d (%s)  state %c  parent %d", p->pid, p->comm, p->state, p->ppid);
    put(y++, 0, 0, "CPU %.1f%% (user %.1f%%, system %.1f%%)  threads %llu  fds %s",
        PCT(utime_ns) + PCT(stime_ns), PCT(utime_ns), PCT(stime_ns),
        (unsigned long long)p->num_threads,
        p->has_fds ? vt_fmt_count(p->fds, b1, sizeof(b1)) : "?");
    put(y++, 0, 0, "RSS %s (anon %s, file %s, shmem %s)  peak %s  virtual %s",
        vt_fmt_bytes(p->rss, b1, 32), vt_fmt_bytes(p->rss_anon, b2, 32),
        vt_fmt_bytes(p->rss_file, b3, 32), vt_fmt_bytes(p->rss_shmem, b4, 32),
        vt_fmt_bytes(p->peak_rss, b1, 32), vt_fmt_bytes(p->vsz, b2, 32));
    put(y++, 0, 0, "faults minor %.0f/s major %.0f/s  switches voluntary %.0f/s involuntary %.0f/s",
        RATE(minflt), RATE(majflt), RATE(ctx_voluntary), RATE(ctx_involuntary));
    if (p->has_io)
        put(y++, 0, 0, "I/O read %s/s write %s/s (storage %s/s, %s/s)  calls %.0f/s, %.0f/s",
            vt_fmt_bytes((uint64_t)RATE(rchar), b1, 32),
            vt_fmt_bytes((uint64_t)RATE(wchar), b2, 32),
            vt_fmt_bytes((uint64_t)RATE(read_bytes), b3, 32),
            vt_fmt_bytes((uint64_t)RATE(write_bytes), b4, 32), RATE(syscr), RATE(syscw));
    else
        put(y++, 0, attr_of(s, P_DIM, A_DIM), "I/O: not readable (another user's process)");
    {
        char h1[256], h2[4400];
        vt_top_heap_lines(d, h1, h2, sizeof(h1));
        put(y++, 0, d->has_live ? 0 : attr_of(s, P_DIM, A_DIM), "%s", h1);
        if (h2[0])
            put(y++, 0, attr_of(s, P_DIM, A_DIM), "%s", h2);
    }
    /* NUMA placement. */
    if (d->numa.n_nodes > 1) {
        char line[512];
        size_t o = 0;
        for (int i = 0; i < d->numa.n_nodes; i++)
            o += (size_t)snprintf(line + o, sizeof(line) - o, "node%d %s (free %s)  ",
                                  d->numa.nodes[i].id,
                                  vt_fmt_bytes(d->numa.nodes[i].proc_bytes, b1, 32),
                                  vt_fmt_bytes(d->numa.nodes[i].mem_free, b2, 32));
        put(y++, 0, 0, "NUMA memory: %s", line);
    } else {
        put(y++, 0, attr_of(s, P_DIM, A_DIM), "NUMA: %s",
            d->numa.n_nodes ? "one node: every thread is local" : "no NUMA topology shown");
    }
#undef RATE
#undef PCT
    y++;
    attron(attr_of(s, P_TABLE, A_REVERSE));
    mvhline(y, 0, ' ', COLS);
    attroff(attr_of(s, P_TABLE, A_REVERSE));
    put(y, 0, attr_of(s, P_TABLE, A_REVERSE), "%7s %-16s S %6s %9s %4s %4s", "TID", "NAME", "CPU%",
        "CPU TIME", "CORE", "NODE");
    y++;
    for (size_t i = 0; i < p->n_threads && y < LINES; i++, y++) {
        const vt_thread_sample *t = &p->threads[i];
        double c = vt_top_thread_cpu(d, i);
        int node = vt_numa_node_of_cpu(&d->numa, t->processor);
        char nb[8];
        snprintf(nb, sizeof(nb), node >= 0 ? "%d" : "-", node);
        put(y, 0, 0, "%7d %-16.16s %c %6.1f %8.2fs %4d %4s", t->tid, t->comm, t->state,
            isnan(c) ? 0 : c, (double)(t->utime_ns + t->stime_ns) / 1e9, t->processor, nb);
    }
}

static void draw_help(struct screen *s)
{
    static const char *const lines[] = {
        "vitals top: keys",
        "",
        "  c  sort by CPU          m  sort by memory (RSS)",
        "  i  sort by I/O rate     t  sort by threads",
        "  p  sort by pid",
        "  Up/Down, PgUp/PgDn, Home/End   select a process",
        "  Enter  open the process view (threads, NUMA placement)",
        "  Esc, Left or Backspace         back to the table",
        "  T  switch light/dark theme      +/-  refresh slower/faster",
        "  h or ?  this help               q  quit",
        "",
        "CPU% of one core since the last refresh, RSS resident memory,",
        "THR threads, IO/s bytes read and written by system calls.",
        "",
        "any key closes this help",
    };
    int n = (int)(sizeof(lines) / sizeof(lines[0]));
    int w = 66 < COLS ? 66 : COLS, h = n + 2 < LINES ? n + 2 : LINES;
    int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
    for (int r = 0; r < h; r++) {
        move(y0 + r, x0);
        attron(attr_of(s, P_SELECT, A_REVERSE));
        hline(' ', w);
        attroff(attr_of(s, P_SELECT, A_REVERSE));
    }
    for (int i = 0; i < n && i + 1 < h; i++)
        put(y0 + 1 + i, x0 + 2, attr_of(s, P_SELECT, A_REVERSE) | (i == 0 ? A_BOLD : 0), "%.*s",
            w - 3, lines[i]);
}

static void draw(struct screen *s)
{
    erase();
    char title[96];
    if (s->view_pid)
        snprintf(title, sizeof(title), "process  Esc back, h help");
    else
        snprintf(title, sizeof(title), "sort %s  h help", vt_ptable_key_name(s->d.sort));
    int y = draw_header(s, title);
    if (s->view_pid)
        draw_process(s, y);
    else
        draw_table(s, y);
    if (s->help)
        draw_help(s);
    refresh();
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int vt_top_run(const vt_top_opts *o, char *msg, unsigned msg_size)
{
    struct screen s = {.o = o, .theme = o->theme};
    int err = vt_top_data_init(&s.d);
    if (err) {
        snprintf(msg, msg_size, "%s", vt_strerror(err));
        return err;
    }
    s.d.sort = o->sort;
    if (o->pid > 0) {
        s.view_pid = o->pid;
        vt_top_data_focus(&s.d, o->pid);
    }
    /* Two samples before the first screen, so that it shows rates. */
    if ((err = vt_top_data_collect(&s.d))) {
        snprintf(msg, msg_size, "cannot read /proc: %s", vt_strerror(err));
        goto out;
    }
    usleep(100000);
    vt_top_data_collect(&s.d);
    if (!newterm(NULL, stdout, stdin)) {
        err = VT_EINVAL;
        snprintf(msg, msg_size, "cannot use the terminal (TERM='%s')",
                 getenv("TERM") ? getenv("TERM") : "");
        goto out;
    }
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    if (has_colors()) {
        start_color();
        use_default_colors();
        s.colors = 1;
    }
    set_theme(&s);
    uint64_t delay = o->delay_ns;
    uint64_t next = mono_ns() + delay;
    draw(&s);
    for (;;) {
        uint64_t now = mono_ns();
        int wait_ms = next > now ? (int)((next - now) / 1000000) : 0;
        timeout(wait_ms > 100 ? 100 : wait_ms);
        int ch = getch();
        if (ch == ERR) {
            if (mono_ns() >= next) {
                vt_top_data_collect(&s.d);
                next = mono_ns() + delay;
                draw(&s);
            }
            continue;
        }
        if (s.help) {
            s.help = 0;
            if (ch == 'q')
                break;
            draw(&s);
            continue;
        }
        size_t n = s.d.pt.n_cur;
        switch (ch) {
        case 'q':
        case 'Q':
            goto done;
        case 'h':
        case '?':
            s.help = 1;
            break;
        case 'c':
        case 'm':
        case 'i':
        case 't':
        case 'p':
            s.d.sort = ch == 'c'   ? VT_SORT_CPU
                       : ch == 'm' ? VT_SORT_MEM
                       : ch == 'i' ? VT_SORT_IO
                       : ch == 't' ? VT_SORT_THREADS
                                   : VT_SORT_PID;
            vt_ptable_sort(&s.d.pt, s.d.sort);
            break;
        case 'T':
            s.theme = !s.theme;
            set_theme(&s);
            break;
        case '+':
            delay = delay * 2 > 60000000000ull ? 60000000000ull : delay * 2;
            break;
        case '-':
            delay = delay / 2 < 100000000ull ? 100000000ull : delay / 2;
            break;
        case KEY_UP:
            if (s.sel)
                s.sel--;
            s.sel_pid = 0;
            break;
        case KEY_DOWN:
            if (s.sel + 1 < n)
                s.sel++;
            s.sel_pid = 0;
            break;
        case KEY_PPAGE:
            s.sel = s.sel > (size_t)(LINES / 2) ? s.sel - (size_t)(LINES / 2) : 0;
            s.sel_pid = 0;
            break;
        case KEY_NPAGE:
            s.sel = s.sel + (size_t)(LINES / 2) < n ? s.sel + (size_t)(LINES / 2) : (n ? n - 1 : 0);
            s.sel_pid = 0;
            break;
        case KEY_HOME:
            s.sel = 0;
            s.sel_pid = 0;
            break;
        case KEY_END:
            s.sel = n ? n - 1 : 0;
            s.sel_pid = 0;
            break;
        case '\n':
        case '\r':
        case KEY_ENTER:
        case KEY_RIGHT:
            if (!s.view_pid && s.sel_pid) {
                s.view_pid = s.sel_pid;
                vt_top_data_focus(&s.d, s.view_pid);
                next = mono_ns(); /* a second sample soon, for its rates */
                if (delay > 300000000ull)
                    next += 300000000ull;
            }
            break;
        case 27:
        case KEY_LEFT:
        case KEY_BACKSPACE:
        case 127:
            if (s.view_pid) {
                s.view_pid = 0;
                vt_top_data_focus(&s.d, 0);
            }
            break;
        case KEY_RESIZE:
            break;
        }
        draw(&s);
    }
done:
    endwin();
    err = 0;
out:
    vt_top_data_release(&s.d);
    return err;
}

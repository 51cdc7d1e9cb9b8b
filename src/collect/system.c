#include "collect/system.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/array.h"
#include "util/error.h"

static const char *const psi_names[VT_PSI_COUNT] = {"cpu", "memory", "io"};
static const char *const psi_paths[VT_PSI_COUNT] = {"/proc/pressure/cpu", "/proc/pressure/memory",
                                                    "/proc/pressure/io"};

const char *vt_psi_name(int r)
{
    return r >= 0 && r < VT_PSI_COUNT ? psi_names[r] : "?";
}

uint64_t vt_cpu_total(const vt_cpu_times *t)
{
    return t->user + t->nice + t->system + t->idle + t->iowait + t->irq + t->softirq + t->steal;
}

static uint64_t ticks_ns(uint64_t ticks)
{
    return ticks * (1000000000ull / (uint64_t)vt_procfs_hz());
}

static void parse_cpu(const char *p, vt_cpu_times *t)
{
    t->user = ticks_ns(vt_procfs_u64(&p));
    t->nice = ticks_ns(vt_procfs_u64(&p));
    t->system = ticks_ns(vt_procfs_u64(&p));
    t->idle = ticks_ns(vt_procfs_u64(&p));
    t->iowait = ticks_ns(vt_procfs_u64(&p));
    t->irq = ticks_ns(vt_procfs_u64(&p));
    t->softirq = ticks_ns(vt_procfs_u64(&p));
    t->steal = ticks_ns(vt_procfs_u64(&p));
}

int vt__system_parse_stat(vt_system_sample *s, const char *text)
{
    s->n_cpus = 0;
    for (const char *p = text; p && *p;) {
        if (!strncmp(p, "cpu ", 4)) {
            parse_cpu(p + 4, &s->total);
        } else if (!strncmp(p, "cpu", 3) && p[3] >= '0' && p[3] <= '9') {
            const char *q = p + 3;
            int id = (int)vt_procfs_u64(&q);
            if (s->n_cpus == s->cpus_cap) {
                size_t cap = s->cpus_cap;
                if (vt_grow(&s->cpu, &cap, s->n_cpus + 1, sizeof(*s->cpu), 8) ||
                    vt_grow(&s->cpu_id, &s->cpus_cap, cap, sizeof(*s->cpu_id), cap))
                    return VT_ENOMEM;
                s->cpus_cap = cap;
            }
            s->cpu_id[s->n_cpus] = id;
            parse_cpu(q, &s->cpu[s->n_cpus++]);
        } else if (!strncmp(p, "ctxt ", 5)) {
            const char *q = p + 5;
            s->ctxt = vt_procfs_u64(&q);
        } else if (!strncmp(p, "procs_running ", 14)) {
            const char *q = p + 14;
            s->procs_running = vt_procfs_u64(&q);
        } else if (!strncmp(p, "procs_blocked ", 14)) {
            const char *q = p + 14;
            s->procs_blocked = vt_procfs_u64(&q);
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

void vt__system_parse_meminfo(vt_system_sample *s, const char *t)
{
    s->mem_total = vt_procfs_field(t, "MemTotal:", NULL) * 1024;
    s->mem_free = vt_procfs_field(t, "MemFree:", NULL) * 1024;
    s->mem_available = vt_procfs_field(t, "MemAvailable:", NULL) * 1024;
    s->buffers = vt_procfs_field(t, "Buffers:", NULL) * 1024;
    s->cached = vt_procfs_field(t, "Cached:", NULL) * 1024;
    s->shmem = vt_procfs_field(t, "Shmem:", NULL) * 1024;
    s->swap_total = vt_procfs_field(t, "SwapTotal:", NULL) * 1024;
    s->swap_free = vt_procfs_field(t, "SwapFree:", NULL) * 1024;
}

/* "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and the same for "full". */
void vt__system_parse_psi(vt_psi *p, const char *text)
{
    memset(p, 0, sizeof(*p));
    p->present = 1;
    for (const char *l = text; l && *l;) {
        int full = !strncmp(l, "full", 4);
        const char *a = strstr(l, "avg10=");
        const char *t = strstr(l, "total=");
        const char *nl = strchr(l, '\n');
        if (a && (!nl || a < nl))
            (full ? &p->full_avg10 : &p->some_avg10)[0] = strtod(a + 6, NULL);
        if (t && (!nl || t < nl)) {
            const char *q = t + 6;
            (full ? &p->full_ns : &p->some_ns)[0] = vt_procfs_u64(&q) * 1000;
        }
        l = nl ? nl + 1 : NULL;
    }
}

int vt__system_parse_net(vt_system_sample *s, const char *text)
{
    s->n_net = 0;
    const char *p = strchr(text, '\n');
    p = p ? strchr(p + 1, '\n') : NULL; /* two header lines */
    while (p && *++p) {
        const char *colon = strchr(p, ':');
        const char *nl = strchr(p, '\n');
        if (!colon || (nl && colon > nl))
            break;
        while (*p == ' ')
            p++;
        if (vt_grow(&s->net, &s->net_cap, s->n_net + 1, sizeof(*s->net), 8))
            return VT_ENOMEM;
        vt_net_if *n = &s->net[s->n_net++];
        size_t len = (size_t)(colon - p);
        if (len > sizeof(n->name) - 1)
            len = sizeof(n->name) - 1;
        memcpy(n->name, p, len);
        n->name[len] = 0;
        const char *q = colon + 1;
        n->rx_bytes = vt_procfs_u64(&q);
        n->rx_packets = vt_procfs_u64(&q);
        n->rx_errors = vt_procfs_u64(&q);
        n->rx_drops = vt_procfs_u64(&q);
        vt_procfs_skip(&q, 4);
        n->tx_bytes = vt_procfs_u64(&q);
        n->tx_packets = vt_procfs_u64(&q);
        n->tx_errors = vt_procfs_u64(&q);
        n->tx_drops = vt_procfs_u64(&q);
        p = nl;
    }
    return 0;
}

/* Whether name is a whole disk worth showing (has /sys/block/NAME, is not a loop or RAM
 * device); decided once per name. */
static int disk_whole(vt_system *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->n_disk_names; i++)
        if (strlen(c->disk_names[i]) == len && !memcmp(c->disk_names[i], name, len))
            return c->disk_whole[i];
    size_t cap = c->disk_names_cap;
    if (vt_grow(&c->disk_names, &cap, c->n_disk_names + 1, sizeof(*c->disk_names), 16) ||
        vt_grow(&c->disk_whole, &c->disk_names_cap, cap, 1, cap))
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/sys/block/%.*s", (int)len, name);
    struct stat st;
    int whole = stat(path, &st) == 0 && strncmp(name, "loop", 4) && strncmp(name, "ram", 3);
    snprintf(c->disk_names[c->n_disk_names], 32, "%.*s", (int)len, name);
    c->disk_whole[c->n_disk_names++] = (unsigned char)whole;
    return whole;
}

static int parse_diskstats(vt_system *c, vt_system_sample *s, const char *text)
{
    s->n_disk = 0;
    for (const char *p = text; p && *p;) {
        const char *q = p;
        vt_procfs_skip(&q, 2);
        while (*q == ' ')
            q++;
        const char *name = q;
        while (*q && *q != ' ')
            q++;
        size_t len = (size_t)(q - name);
        if (len && len < 32 && disk_whole(c, name, len)) {
            if (vt_grow(&s->disk, &s->disk_cap, s->n_disk + 1, sizeof(*s->disk), 8))
                return VT_ENOMEM;
            vt_disk *d = &s->disk[s->n_disk++];
            memcpy(d->name, name, len);
            d->name[len] = 0;
            d->reads = vt_procfs_u64(&q);
            vt_procfs_u64(&q);
            d->read_bytes = vt_procfs_u64(&q) * 512;
            d->read_ns = vt_procfs_u64(&q) * 1000000;
            d->writes = vt_procfs_u64(&q);
            vt_procfs_u64(&q);
            d->write_bytes = vt_procfs_u64(&q) * 512;
            d->write_ns = vt_procfs_u64(&q) * 1000000;
            d->in_flight = vt_procfs_u64(&q);
            d->busy_ns = vt_procfs_u64(&q) * 1000000;
            d->queue_ns = vt_procfs_u64(&q) * 1000000;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

void vt_system_init(vt_system *c)
{
    memset(c, 0, sizeof(*c));
}

int vt_system_collect(vt_system *c)
{
    int next = c->n_taken ? !c->cur : c->cur;
    vt_system_sample *s = &c->s[next];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s->ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    int err = vt_procfs_read(&c->buf, AT_FDCWD, "/proc/stat");
    if (err)
        return err == VT_ENOMEM ? err : VT_EIO;
    if ((err = vt__system_parse_stat(s, c->buf.p)))
        return err;
    if (vt_procfs_read(&c->buf, AT_FDCWD, "/proc/loadavg") == 0) {
        s->load1 = strtod(c->buf.p, NULL);
        const char *p = c->buf.p;
        vt_procfs_skip(&p, 1);
        s->load5 = strtod(p, NULL);
        vt_procfs_skip(&p, 1);
        s->load15 = strtod(p, NULL);
    }
    if (vt_procfs_read(&c->buf, AT_FDCWD, "/proc/meminfo") == 0)
        vt__system_parse_meminfo(s, c->buf.p);
    for (int r = 0; r < VT_PSI_COUNT; r++) {
        s->psi[r].present = 0;
        if (c->psi_absent[r])
            continue;
        if (vt_procfs_read(&c->buf, AT_FDCWD, psi_paths[r]) == 0)
            vt__system_parse_psi(&s->psi[r], c->buf.p);
        else
            c->psi_absent[r] = 1;
    }
    s->n_net = 0;
    if (vt_procfs_read(&c->buf, AT_FDCWD, "/proc/net/dev") == 0 &&
        (err = vt__system_parse_net(s, c->buf.p)))
        return err;
    s->n_disk = 0;
    if (vt_procfs_read(&c->buf, AT_FDCWD, "/proc/diskstats") == 0 &&
        (err = parse_diskstats(c, s, c->buf.p)))
        return err;
    c->cur = next;
    c->n_taken++;
    return 0;
}

const vt_system_sample *vt_system_now(const vt_system *c)
{
    return c->n_taken ? &c->s[c->cur] : NULL;
}

const vt_system_sample *vt_system_prev(const vt_system *c)
{
    return c->n_taken > 1 ? &c->s[!c->cur] : NULL;
}

void vt_system_release(vt_system *c)
{
    for (int i = 0; i < 2; i++) {
        free(c->s[i].cpu);
        free(c->s[i].cpu_id);
        free(c->s[i].net);
        free(c->s[i].disk);
    }
    free(c->disk_names);
    free(c->disk_whole);
    vt_procfs_buf_release(&c->buf);
    memset(c, 0, sizeof(*c));
}

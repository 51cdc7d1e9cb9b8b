#include "collect/numa.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* Calls the CPUs of a list like "0-3,8,10-11" into map. */
static int parse_cpulist(vt_numa *n, const char *s, int node)
{
    const char *p = s;
    while (*p >= '0' && *p <= '9') {
        int a = (int)vt_procfs_u64(&p), b = a;
        if (*p == '-') {
            p++;
            b = (int)vt_procfs_u64(&p);
        }
        if (b >= 4096 || b < a)
            break;
        if (b >= n->n_cpu_node) {
            int *m = realloc(n->cpu_node, (size_t)(b + 1) * sizeof(int));
            if (!m)
                return VT_ENOMEM;
            for (int i = n->n_cpu_node; i <= b; i++)
                m[i] = -1;
            n->cpu_node = m;
            n->n_cpu_node = b + 1;
        }
        for (int c = a; c <= b; c++) {
            n->cpu_node[c] = node;
            n->nodes[n->n_nodes].n_cpus++;
        }
        if (*p == ',')
            p++;
    }
    return 0;
}

int vt_numa_init(vt_numa *n)
{
    memset(n, 0, sizeof(*n));
    DIR *d = opendir("/sys/devices/system/node");
    if (!d)
        return 0;
    int err = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n->n_nodes < VT_NUMA_MAX_NODES) {
        if (strncmp(e->d_name, "node", 4) || e->d_name[4] < '0' || e->d_name[4] > '9')
            continue;
        const char *q = e->d_name + 4;
        int id = (int)vt_procfs_u64(&q);
        char path[96];
        snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", id);
        n->nodes[n->n_nodes].id = id;
        if (vt_procfs_read(&n->buf, AT_FDCWD, path) == 0 && (err = parse_cpulist(n, n->buf.p, id)))
            goto out;
        n->n_nodes++;
    }
    /* Order nodes by id, as numactl shows them. */
    for (int i = 1; i < n->n_nodes; i++)
        for (int j = i; j > 0 && n->nodes[j - 1].id > n->nodes[j].id; j--) {
            vt_numa_node t = n->nodes[j];
            n->nodes[j] = n->nodes[j - 1];
            n->nodes[j - 1] = t;
        }
out:
    closedir(d);
    return err;
}

int vt_numa_collect_nodes(vt_numa *n)
{
    for (int i = 0; i < n->n_nodes; i++) {
        char path[96], key[48];
        snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", n->nodes[i].id);
        int err = vt_procfs_read(&n->buf, AT_FDCWD, path);
        if (err)
            return err;
        /* "Node 0 MemTotal:       16384 kB" */
        snprintf(key, sizeof(key), "Node %d MemTotal:", n->nodes[i].id);
        n->nodes[i].mem_total = vt_procfs_field(n->buf.p, key, NULL) * 1024;
        snprintf(key, sizeof(key), "Node %d MemFree:", n->nodes[i].id);
        n->nodes[i].mem_free = vt_procfs_field(n->buf.p, key, NULL) * 1024;
    }
    return 0;
}

void vt__numa_parse_maps(const char *text, uint64_t *bytes, int max, long page_size)
{
    for (const char *l = text; l && *l;) {
        const char *nl = strchr(l, '\n');
        const char *end = nl ? nl : l + strlen(l);
        long ps = page_size;
        const char *k = strstr(l, "kernelpagesize_kB=");
        if (k && k < end) {
            const char *q = k + 18;
            ps = (long)vt_procfs_u64(&q) * 1024;
        }
        for (const char *p = l; p < end; p++) {
            if (*p == ' ' && p[1] == 'N' && p[2] >= '0' && p[2] <= '9') {
                const char *q = p + 2;
                uint64_t node = vt_procfs_u64(&q);
                if (*q != '=')
                    continue;
                q++;
                uint64_t pages = vt_procfs_u64(&q);
                if (node < (uint64_t)max)
                    bytes[node] += pages * (uint64_t)ps;
            }
        }
        l = nl ? nl + 1 : NULL;
    }
}

int vt_numa_collect_process(vt_numa *n, int pid)
{
    char path[48];
    snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
    int err = vt_procfs_read(&n->buf, AT_FDCWD, path);
    if (err)
        return err;
    uint64_t bytes[VT_NUMA_MAX_NODES] = {0};
    vt__numa_parse_maps(n->buf.p, bytes, VT_NUMA_MAX_NODES, vt_procfs_page_size());
    for (int i = 0; i < n->n_nodes; i++)
        n->nodes[i].proc_bytes = n->nodes[i].id < VT_NUMA_MAX_NODES ? bytes[n->nodes[i].id] : 0;
    return 0;
}

int vt_numa_node_of_cpu(const vt_numa *n, int cpu)
{
    return cpu >= 0 && cpu < n->n_cpu_node ? n->cpu_node[cpu] : -1;
}

int vt_numa_remote_node(const uint64_t *bytes, int n_nodes, int run_node)
{
    uint64_t total = 0;
    for (int i = 0; i < n_nodes; i++)
        total += bytes[i];
    for (int i = 0; i < n_nodes; i++)
        if (i != run_node && total && bytes[i] * 2 > total)
            return i;
    return -1;
}

void vt_numa_release(vt_numa *n)
{
    free(n->cpu_node);
    vt_procfs_buf_release(&n->buf);
    memset(n, 0, sizeof(*n));
}

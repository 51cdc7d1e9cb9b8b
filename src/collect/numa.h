/* The NUMA collector: the machine's nodes (their CPUs and free memory, from
 * /sys/devices/system/node) and a process's memory per node (/proc/PID/numa_maps), with the
 * warning that a thread runs on one node while most of the memory sits on another. */
#ifndef VT_COLLECT_NUMA_H
#define VT_COLLECT_NUMA_H

#include <stddef.h>
#include <stdint.h>

#include "collect/procfs.h"

#define VT_NUMA_MAX_NODES 64

typedef struct vt_numa_node {
    int id;
    uint64_t mem_total, mem_free; /* bytes */
    uint64_t n_cpus;
    uint64_t proc_bytes; /* the process's pages on this node, from numa_maps */
} vt_numa_node;

typedef struct vt_numa {
    vt_numa_node nodes[VT_NUMA_MAX_NODES];
    int n_nodes;   /* 0: the kernel shows no NUMA topology */
    int *cpu_node; /* node of each CPU number, -1 if unknown */
    int n_cpu_node;
    vt_procfs_buf buf;
} vt_numa;

/* Reads the topology (nodes and their CPUs), once. Returns 0 (a machine without
 * /sys/devices/system/node has n_nodes 0) or VT_ENOMEM. */
int vt_numa_init(vt_numa *n);

/* Refreshes each node's free memory. Returns 0 or a negative VT_E* code. */
int vt_numa_collect_nodes(vt_numa *n);

/* Reads pid's numa_maps into each node's proc_bytes. Returns 0, VT_ENOENT when the process is
 * gone, VT_EIO when the file cannot be read. */
int vt_numa_collect_process(vt_numa *n, int pid);

/* The node CPU cpu belongs to, or -1. */
int vt_numa_node_of_cpu(const vt_numa *n, int cpu);

/* The remote-memory check for a thread running on node run_node: returns the node that holds
 * more than half of the process's memory when that is another node, else -1. bytes[i] is the
 * process's memory on node i (n_nodes entries), as in nodes[i].proc_bytes. */
int vt_numa_remote_node(const uint64_t *bytes, int n_nodes, int run_node);

/* Parses numa_maps text into per-node bytes (adds to bytes[node] for node < max). Exposed for
 * tests. */
void vt__numa_parse_maps(const char *text, uint64_t *bytes, int max, long page_size);

void vt_numa_release(vt_numa *n);

#endif

#include "collect/metrics.h"

#include <string.h>

const vt_metric_def vt_metric_defs[VT_M_COUNT] = {
#define VT_METRIC_DEF(id, name, kind, unit, help) {name, VT_METRIC_##kind, VT_UNIT_##unit, help},
    VT_METRIC_LIST(VT_METRIC_DEF)
#undef VT_METRIC_DEF
};

const char *vt_metric_unit_name(int unit)
{
    switch (unit) {
    case VT_UNIT_COUNT:
        return "count";
    case VT_UNIT_BYTES:
        return "bytes";
    case VT_UNIT_NS:
        return "ns";
    case VT_UNIT_MILLI:
        return "thousandths";
    }
    return "?";
}

#define SET(id, val)                                                                               \
    do {                                                                                           \
        v[VT_M_##id] = (val);                                                                      \
        present[VT_M_##id] = 1;                                                                    \
    } while (0)

void vt_metrics_fill(const vt_proc_sample *p, const vt_system_sample *s, const vt_gpu *g,
                     uint64_t *v, uint8_t *present)
{
    memset(v, 0, VT_M_COUNT * sizeof(*v));
    memset(present, 0, VT_M_COUNT);
    if (p) {
        SET(CPU, p->utime_ns + p->stime_ns);
        SET(CPU_USER, p->utime_ns);
        SET(CPU_SYSTEM, p->stime_ns);
        SET(RSS, p->rss);
        SET(VSZ, p->vsz);
        SET(THREADS, p->num_threads);
        SET(MINOR_FAULTS, p->minflt);
        SET(MAJOR_FAULTS, p->majflt);
        SET(BLKIO_WAIT, p->blkio_delay_ns);
        if (p->has_status) {
            SET(RSS_ANON, p->rss_anon);
            SET(RSS_FILE, p->rss_file);
            SET(RSS_SHMEM, p->rss_shmem);
            SET(PEAK_RSS, p->peak_rss);
            SET(CTX_VOLUNTARY, p->ctx_voluntary);
            SET(CTX_INVOLUNTARY, p->ctx_involuntary);
        }
        if (p->has_fds)
            SET(FDS, p->fds);
        if (p->has_io) {
            SET(READ_BYTES, p->rchar);
            SET(WRITE_BYTES, p->wchar);
            SET(READ_CALLS, p->syscr);
            SET(WRITE_CALLS, p->syscw);
            SET(DISK_READ_BYTES, p->read_bytes);
            SET(DISK_WRITE_BYTES, p->write_bytes);
        }
        if (p->n_threads) {
            SET(THREADS_RUNNING, p->thread_states[VT_TS_RUNNING]);
            SET(THREADS_SLEEPING, p->thread_states[VT_TS_SLEEPING]);
            SET(THREADS_DISK, p->thread_states[VT_TS_DISK]);
        }
    }
    if (s) {
        uint64_t n = s->n_cpus ? s->n_cpus : 1;
        const vt_cpu_times *t = &s->total;
        SET(SYS_CPU_USER, (t->user + t->nice) / n);
        SET(SYS_CPU_SYSTEM, (t->system + t->irq + t->softirq) / n);
        SET(SYS_CPU_IOWAIT, t->iowait / n);
        SET(SYS_CPU_STEAL, t->steal / n);
        SET(SYS_CPU_IDLE, t->idle / n);
        SET(SYS_LOAD1, (uint64_t)(s->load1 * 1000 + 0.5));
        SET(SYS_MEM_AVAILABLE, s->mem_available);
        SET(SYS_MEM_USED, s->mem_total > s->mem_available ? s->mem_total - s->mem_available : 0);
        SET(SYS_MEM_CACHED, s->cached);
        SET(SYS_SWAP_USED, s->swap_total > s->swap_free ? s->swap_total - s->swap_free : 0);
        if (s->psi[VT_PSI_CPU].present)
            SET(SYS_PSI_CPU, s->psi[VT_PSI_CPU].some_ns);
        if (s->psi[VT_PSI_MEMORY].present)
            SET(SYS_PSI_MEMORY, s->psi[VT_PSI_MEMORY].some_ns);
        if (s->psi[VT_PSI_IO].present)
            SET(SYS_PSI_IO, s->psi[VT_PSI_IO].some_ns);
        uint64_t rx = 0, tx = 0, errs = 0;
        for (size_t i = 0; i < s->n_net; i++) {
            const vt_net_if *ni = &s->net[i];
            if (!strcmp(ni->name, "lo"))
                continue;
            rx += ni->rx_bytes;
            tx += ni->tx_bytes;
            errs += ni->rx_errors + ni->rx_drops + ni->tx_errors + ni->tx_drops;
        }
        SET(SYS_NET_RX_BYTES, rx);
        SET(SYS_NET_TX_BYTES, tx);
        SET(SYS_NET_ERRORS, errs);
        uint64_t rd = 0, wr = 0, busy = 0;
        for (size_t i = 0; i < s->n_disk; i++) {
            rd += s->disk[i].read_bytes;
            wr += s->disk[i].write_bytes;
            if (s->disk[i].busy_ns > busy)
                busy = s->disk[i].busy_ns;
        }
        SET(SYS_DISK_READ_BYTES, rd);
        SET(SYS_DISK_WRITE_BYTES, wr);
        if (s->n_disk)
            SET(SYS_DISK_BUSY, busy);
    }
    if (g && g->n_gpus) {
        uint64_t util = 0, used = 0, mine = 0;
        for (int i = 0; i < g->n_gpus; i++) {
            if (g->s[i].util_gpu > util)
                util = g->s[i].util_gpu;
            used += g->s[i].mem_used;
            mine += g->s[i].proc_mem;
        }
        SET(GPU_UTIL, util);
        SET(GPU_MEM_USED, used);
        SET(GPU_PROC_MEM, mine);
    }
}

void vt_metrics_fill_live(const struct vt_live_file *l, uint64_t *v, uint8_t *present)
{
    if (!(l->flags & VT_LIVE_ALLOC))
        return;
    SET(HEAP, l->heap_bytes);
    SET(HEAP_PEAK, l->heap_peak);
    SET(HEAP_BLOCKS, l->live_blocks);
    SET(ALLOCS, l->alloc_calls);
    SET(FREES, l->free_calls);
    SET(ALLOC_BYTES, l->alloc_bytes);
}

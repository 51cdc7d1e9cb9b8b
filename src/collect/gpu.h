/* The GPU collector: NVIDIA GPUs through NVML, loaded with dlopen when the driver is present.
 * Never a hard dependency: without libnvidia-ml.so.1 (or without a GPU) vt_gpu_init says why
 * and the caller shows that no GPU was found. */
#ifndef VT_COLLECT_GPU_H
#define VT_COLLECT_GPU_H

#include <stddef.h>
#include <stdint.h>

#define VT_GPU_MAX 16

typedef struct vt_gpu_sample {
    char name[96];
    unsigned util_gpu, util_mem;  /* percent over the driver's last sample period */
    uint64_t mem_used, mem_total; /* bytes */
    unsigned temperature_c;
    unsigned power_mw;
    unsigned clock_sm_mhz, clock_mem_mhz;
    uint64_t proc_mem; /* the watched process's GPU memory (0 if none or unknown) */
} vt_gpu_sample;

typedef struct vt_gpu {
    void *lib; /* dlopen handle, NULL when NVML is absent */
    int n_gpus;
    void *dev[VT_GPU_MAX];
    vt_gpu_sample s[VT_GPU_MAX];
    char why[160]; /* when n_gpus is 0: why ("NVML not found: ...") */
    void *fn[16];
} vt_gpu;

/* Loads NVML and counts the GPUs. Always returns 0: a machine without them has n_gpus 0 and a
 * reason in why. */
int vt_gpu_init(vt_gpu *g);

/* Reads every GPU's figures; pid (> 0) is the process whose GPU memory is wanted. Returns 0 or
 * VT_EIO. */
int vt_gpu_collect(vt_gpu *g, int pid);

void vt_gpu_release(vt_gpu *g);

#endif

#include "collect/gpu.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"

/* The few NVML declarations used (nvml.h is not packaged in Debian main; these are its stable
 * ABI). */
typedef int nvmlReturn_t;
typedef void *nvmlDevice_t;
typedef struct {
    unsigned gpu, memory;
} nvmlUtilization_t;
typedef struct {
    unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct {
    unsigned pid;
    unsigned long long usedGpuMemory;
    unsigned gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;

enum {
    F_INIT,
    F_SHUTDOWN,
    F_COUNT,
    F_HANDLE,
    F_NAME,
    F_UTIL,
    F_MEM,
    F_TEMP,
    F_POWER,
    F_CLOCK,
    F_PROCS,
    F_N
};
static const char *const fn_names[F_N] = {
    "nvmlInit_v2",
    "nvmlShutdown",
    "nvmlDeviceGetCount_v2",
    "nvmlDeviceGetHandleByIndex_v2",
    "nvmlDeviceGetName",
    "nvmlDeviceGetUtilizationRates",
    "nvmlDeviceGetMemoryInfo",
    "nvmlDeviceGetTemperature",
    "nvmlDeviceGetPowerUsage",
    "nvmlDeviceGetClockInfo",
    "nvmlDeviceGetComputeRunningProcesses_v3",
};

int vt_gpu_init(vt_gpu *g)
{
    memset(g, 0, sizeof(*g));
    g->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!g->lib) {
        snprintf(g->why, sizeof(g->why),
                 "no GPU found (no NVIDIA driver: libnvidia-ml.so.1 "
                 "cannot be loaded)");
        return 0;
    }
    for (int i = 0; i < F_N; i++) {
        g->fn[i] = dlsym(g->lib, fn_names[i]);
        if (!g->fn[i] && i != F_PROCS) {
            snprintf(g->why, sizeof(g->why), "no GPU found (NVML lacks %s)", fn_names[i]);
            goto fail;
        }
    }
    nvmlReturn_t (*init)(void) = (nvmlReturn_t(*)(void))g->fn[F_INIT];
    nvmlReturn_t (*count)(unsigned *) = (nvmlReturn_t(*)(unsigned *))g->fn[F_COUNT];
    nvmlReturn_t (*handle)(unsigned, nvmlDevice_t *) =
        (nvmlReturn_t(*)(unsigned, nvmlDevice_t *))g->fn[F_HANDLE];
    unsigned n = 0;
    if (init() != 0) {
        snprintf(g->why, sizeof(g->why), "no GPU found (NVML did not initialise)");
        goto fail;
    }
    if (count(&n) != 0 || n == 0) {
        snprintf(g->why, sizeof(g->why), "no GPU found (NVML sees no device)");
        ((nvmlReturn_t(*)(void))g->fn[F_SHUTDOWN])();
        goto fail;
    }
    for (unsigned i = 0; i < n && g->n_gpus < VT_GPU_MAX; i++)
        if (handle(i, &g->dev[g->n_gpus]) == 0)
            g->n_gpus++;
    return 0;
fail:
    dlclose(g->lib);
    g->lib = NULL;
    return 0;
}

int vt_gpu_collect(vt_gpu *g, int pid)
{
    if (!g->lib)
        return 0;
    for (int i = 0; i < g->n_gpus; i++) {
        vt_gpu_sample *s = &g->s[i];
        nvmlDevice_t d = g->dev[i];
        nvmlUtilization_t u = {0};
        nvmlMemory_t m = {0};
        ((nvmlReturn_t(*)(nvmlDevice_t, char *, unsigned))g->fn[F_NAME])(d, s->name,
                                                                         sizeof(s->name));
        if (((nvmlReturn_t(*)(nvmlDevice_t, nvmlUtilization_t *))g->fn[F_UTIL])(d, &u) == 0) {
            s->util_gpu = u.gpu;
            s->util_mem = u.memory;
        }
        if (((nvmlReturn_t(*)(nvmlDevice_t, nvmlMemory_t *))g->fn[F_MEM])(d, &m) == 0) {
            s->mem_used = m.used;
            s->mem_total = m.total;
        }
        ((nvmlReturn_t(*)(nvmlDevice_t, int, unsigned *))g->fn[F_TEMP])(d, 0, &s->temperature_c);
        ((nvmlReturn_t(*)(nvmlDevice_t, unsigned *))g->fn[F_POWER])(d, &s->power_mw);
        ((nvmlReturn_t(*)(nvmlDevice_t, int, unsigned *))g->fn[F_CLOCK])(d, 1, &s->clock_sm_mhz);
        ((nvmlReturn_t(*)(nvmlDevice_t, int, unsigned *))g->fn[F_CLOCK])(d, 2, &s->clock_mem_mhz);
        s->proc_mem = 0;
        if (g->fn[F_PROCS] && pid > 0) {
            nvmlProcessInfo_t procs[64];
            unsigned np = 64;
            if (((nvmlReturn_t(*)(nvmlDevice_t, unsigned *, nvmlProcessInfo_t *))g->fn[F_PROCS])(
                    d, &np, procs) == 0)
                for (unsigned k = 0; k < np && k < 64; k++)
                    if ((int)procs[k].pid == pid)
                        s->proc_mem += procs[k].usedGpuMemory;
        }
    }
    return 0;
}

void vt_gpu_release(vt_gpu *g)
{
    if (g->lib) {
        ((nvmlReturn_t(*)(void))g->fn[F_SHUTDOWN])();
        dlclose(g->lib);
    }
    memset(g, 0, sizeof(*g));
}

/* Event names through libpfm4 (Debian libpfm4): see events.h. */
#include "collect/events.h"

#include <perfmon/pfmlib_perf_event.h>
#include <stdio.h>
#include <string.h>

#include "trace/format.h"
#include "util/error.h"

const char *const vt_counter_names[] = {
    "cycles",           "instructions",          "branches",       "branch-misses",
    "L1-dcache-loads",  "L1-dcache-load-misses", "LLC-loads",      "LLC-load-misses",
    "dTLB-load-misses", "iTLB-load-misses",      "task-clock",     "minor-faults",
    "major-faults",     "context-switches",      "cpu-migrations",
};
const size_t vt_n_counter_names = sizeof(vt_counter_names) / sizeof(vt_counter_names[0]);

int vt_event_resolve(const char *name, vt_event_spec *out, char *msg, size_t msg_size)
{
    static int initialized;
    memset(out, 0, sizeof(*out));
    if (strlen(name) >= sizeof(out->name) || strpbrk(name, "=;")) {
        snprintf(msg, msg_size, "'%s' is not an event name", name);
        return VT_EINVAL;
    }
    if (!initialized) {
        int r = pfm_initialize();
        if (r != PFM_SUCCESS) {
            snprintf(msg, msg_size, "libpfm4 cannot start: %s", pfm_strerror(r));
            return VT_EINVAL;
        }
        initialized = 1;
    }
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    pfm_perf_encode_arg_t arg;
    memset(&arg, 0, sizeof(arg));
    arg.attr = &attr;
    arg.size = sizeof(arg);
    int r = pfm_get_os_event_encoding(name, PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
    if (r != PFM_SUCCESS) {
        snprintf(msg, msg_size, "libpfm4 does not know the event '%s' (%s)", name, pfm_strerror(r));
        return r == PFM_ERR_NOTFOUND ? VT_ENOTFOUND : VT_EINVAL;
    }
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->type = attr.type;
    out->config = attr.config;
    out->config1 = attr.config1;
    out->config2 = attr.config2;
    out->flags = attr.type == PERF_TYPE_SOFTWARE ? VT_CPU_EV_SOFTWARE : 0;
    return 0;
}

int vt_events_env(const vt_event_spec *specs, size_t n, char *out, size_t out_size)
{
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const vt_event_spec *e = &specs[i];
        int w = snprintf(out + len, out_size - len, "%s%s=%u:%llu:%llu:%llu:%d", i ? ";" : "",
                         e->name, e->type, (unsigned long long)e->config,
                         (unsigned long long)e->config1, (unsigned long long)e->config2, e->flags);
        if (w < 0 || (size_t)w >= out_size - len)
            return VT_ETOOBIG;
        len += (size_t)w;
    }
    return 0;
}

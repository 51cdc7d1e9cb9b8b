/* The CPU-profiling options of `vitals run`: see run_cpu.h. */
#include "cli/run_cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "trace/format.h"

const char vt_run_cpu_usage[] =
    "      --cpu[=HZ]     sample every thread on its CPU time, HZ times a second of CPU\n"
    "                     (1-10000, default 999); perf events, or per-thread timers where\n"
    "                     perf events are refused (VITALS_CPU_SAMPLER=timer forces them)\n"
    "      --wall         also record the time threads spend switched out (off-CPU), with\n"
    "                     the stack they blocked in (needs perf events)\n"
    "      --counters     count cycles, instructions, branches and misses, L1d/LLC loads\n"
    "                     and misses, TLB misses, task-clock, page faults, context switches\n"
    "                     and migrations per thread (hardware ones where the CPU has a PMU)\n"
    "      --event NAME   count NAME too (any event libpfm4 knows; repeatable)\n"
    "      --no-alloc, --cpu-only\n"
    "                     do not trace allocations: CPU profile only (implies --cpu)\n"
    "      --zone-counters\n"
    "                     also read the counters of --counters (and --event) at each libvitals\n"
    "                     zone's begin and end: per-zone task-clock, faults, switches, and\n"
    "                     IPC and miss rates where the CPU has a PMU (implies --counters;\n"
    "                     one read(2) per counter group at each zone boundary)\n";

static int add_event(vt_run_cpu *o, const char *name, int flags)
{
    for (size_t i = 0; i < o->n_events; i++)
        if (!strcmp(o->events[i].name, name))
            return 0;
    if (o->n_events == VT_RUN_CPU_MAX_EVENTS) {
        vt_cli_error("--event: at most %d events in all", VT_RUN_CPU_MAX_EVENTS);
        return 2;
    }
    char msg[256];
    vt_event_spec *e = &o->events[o->n_events];
    if (vt_event_resolve(name, e, msg, sizeof(msg)) != 0) {
        vt_cli_error("--event: %s", msg);
        return 2;
    }
    e->flags |= flags;
    o->n_events++;
    return 0;
}

int vt_run_cpu_option(vt_run_cpu *o, int code, const char *arg)
{
    switch (code) {
    case VT_OPT_CPU:
        o->hz = VT_RUN_CPU_DEFAULT_HZ;
        if (arg && vt_cli_parse_int("--cpu", arg, 1, 10000, &o->hz))
            return 2;
        return 0;
    case VT_OPT_WALL:
        o->wall = 1;
        return 0;
    case VT_OPT_COUNTERS:
        o->counters = 1;
        return 0;
    case VT_OPT_EVENT:
        return add_event(o, arg, VT_CPU_EV_USER);
    case VT_OPT_NO_ALLOC:
        o->no_alloc = 1;
        return 0;
    case VT_OPT_ZONE_COUNTERS:
        o->zone_counters = 1;
        o->counters = 1;
        return 0;
    }
    return 2;
}

int vt_run_cpu_finish(vt_run_cpu *o)
{
    if (o->zone_counters && o->no_alloc) {
        vt_cli_error("--zone-counters: zones are not recorded with --no-alloc (a CPU profile "
                     "only); drop one of the two");
        return 2;
    }
    if ((o->no_alloc || o->wall) && !o->hz)
        o->hz = VT_RUN_CPU_DEFAULT_HZ;
    if (o->counters) {
        /* The standard set goes first, then the --event ones in the order given. */
        vt_run_cpu user = *o;
        o->n_events = 0;
        for (size_t i = 0; i < vt_n_counter_names; i++)
            if (add_event(o, vt_counter_names[i], 0))
                return 2;
        for (size_t i = 0; i < user.n_events; i++)
            if (add_event(o, user.events[i].name, VT_CPU_EV_USER))
                return 2;
    }
    return 0;
}

void vt_run_cpu_env(const vt_run_cpu *o)
{
    char buf[64];
    if (o->hz) {
        snprintf(buf, sizeof(buf), "%ld", o->hz);
        setenv("VITALS_CPU", buf, 1);
    }
    if (o->wall)
        setenv("VITALS_CPU_WALL", "1", 1);
    if (o->zone_counters)
        setenv("VITALS_ZONE_COUNTERS", "1", 1);
    if (o->no_alloc) {
        setenv("VITALS_ALLOC", "0", 1);
        setenv("VITALS_LEAK_CHECK", "0", 1);
    }
    if (o->n_events) {
        static char env[VT_RUN_CPU_MAX_EVENTS * 160];
        if (vt_events_env(o->events, o->n_events, env, sizeof(env)) == 0)
            setenv("VITALS_EVENTS", env, 1);
    }
}

/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stddef.h>

#include "scenario.h"

const char *fault_type_to_string(int t) {
        return t >= 0 && (size_t)t < n_fault_kinds ? fault_kinds[t]->name : "?";
}

int fault_type_from_string(const char *s) {
        for (size_t t = 0; t < n_fault_kinds; t++)
                if (streq(s, fault_kinds[t]->name))
                        return (int)t;
        return FAULT_TYPE_INVALID;
}

uint32_t fault_types_all(void) {
        return (uint32_t)((1ULL << n_fault_kinds) - 1);
}

/* "latency, loss, ...": every kind's name, in the registry's order. */
static const char *fault_types_allowed(void) {
        static char buf[256];
        if (!buf[0])
                for (size_t t = 0; t < n_fault_kinds; t++)
                        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", t ? ", " : "", fault_kinds[t]->name);
        return buf;
}

static int parse_fault_type(const char *value, void *field, char *err) {
        int t = fault_type_from_string(value);
        if (t < 0) {
                snprintf(err, PARSE_ERR_MAX, "unknown fault type '%s'; use one of %s", value, fault_types_allowed());
                return -EINVAL;
        }
        *(int *)field = t;
        return 0;
}

int parse_fault_types(const char *value, void *field, char *err) {
        uint32_t mask = 0;
        _cleanup_free_ char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                while (*tok == ' ' || *tok == '\t')
                        tok++;
                size_t l = strlen(tok);
                while (l > 0 && (tok[l - 1] == ' ' || tok[l - 1] == '\t'))
                        tok[--l] = '\0';
                int t = fault_type_from_string(tok);
                if (t < 0) {
                        snprintf(err, PARSE_ERR_MAX, "unknown fault type '%s'; use a list of %s", tok, fault_types_allowed());
                        return -EINVAL;
                }
                mask |= FAULT_MASK(t);
        }
        *(uint32_t *)field = mask;
        return 0;
}

int parse_reserve(const char *value, void *field, char *err) {
        struct reserve r = {0};
        int q = strchr(value, '%') ? parse_ratio(value, &r.share, err) : parse_size(value, &r.bytes, err);
        if (q < 0)
                return q;
        r.is_share = strchr(value, '%') != NULL;
        *(struct reserve *)field = r;
        return 0;
}

uint64_t reserve_bytes(const struct reserve *r, uint64_t total) {
        return r->is_share ? (uint64_t)((unsigned __int128)total * r->share / RATIO_ONE) : r->bytes;
}

/* Keyword parsers: a word from a fixed list into an int. */
#define DEFINE_WORD_PARSER(fn, what, ...)                                                          \
        static int fn(const char *value, void *field, char *err) {                                \
                static const struct {                                                              \
                        const char *w;                                                             \
                        int v;                                                                     \
                } words[] = {__VA_ARGS__};                                                         \
                char allowed[160] = "";                                                            \
                for (size_t i = 0; i < ELEMENTSOF(words); i++) {                                   \
                        if (streq(value, words[i].w)) {                                            \
                                *(int *)field = words[i].v;                                        \
                                return 0;                                                          \
                        }                                                                          \
                        snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed),      \
                                 "%s%s", i ? " | " : "", words[i].w);                              \
                }                                                                                  \
                snprintf(err, PARSE_ERR_MAX, "unknown " what " '%s'; use %s", value, allowed);     \
                return -EINVAL;                                                                    \
        }

DEFINE_WORD_PARSER(parse_direction, "direction", {"egress", DIR_EGRESS}, {"ingress", DIR_INGRESS})
DEFINE_WORD_PARSER(parse_protocol, "protocol", {"tcp", PROTO_TCP}, {"udp", PROTO_UDP}, {"icmp", PROTO_ICMP},
                   {"icmpv6", PROTO_ICMPV6})
DEFINE_WORD_PARSER(parse_distribution, "distribution", {"uniform", DIST_UNIFORM}, {"normal", DIST_NORMAL},
                   {"pareto", DIST_PARETO}, {"paretonormal", DIST_PARETONORMAL})
DEFINE_WORD_PARSER(parse_loss_model, "loss model", {"4state", LOSS_MODEL_4STATE})
DEFINE_WORD_PARSER(parse_backend, "backend", {"auto", BACKEND_AUTO}, {"bpf", BACKEND_BPF},
                   {"seccomp", BACKEND_SECCOMP})
DEFINE_WORD_PARSER(parse_probe, "probe", {"http", PROBE_HTTP}, {"exec", PROBE_EXEC},
                   {"prometheus", PROBE_PROMETHEUS}, {"psi", PROBE_PSI})
DEFINE_WORD_PARSER(parse_psi_resource, "resource", {"cpu", PSI_CPU}, {"memory", PSI_MEMORY}, {"io", PSI_IO})
DEFINE_WORD_PARSER(parse_psi_kind, "pressure", {"some", PSI_SOME}, {"full", PSI_FULL})
DEFINE_WORD_PARSER(parse_dns_answer, "answer", {"nxdomain", DNS_ANSWER_NXDOMAIN}, {"servfail", DNS_ANSWER_SERVFAIL},
                   {"refused", DNS_ANSWER_REFUSED}, {"timeout", DNS_ANSWER_TIMEOUT})
DEFINE_WORD_PARSER(parse_service_action, "action", {"stop", SERVICE_STOP}, {"restart", SERVICE_RESTART},
                   {"kill", SERVICE_KILL})
DEFINE_WORD_PARSER(parse_yes_no, "value", {"yes", 1}, {"no", 0})

/* Which kind takes which of the K keys: struct fault_kind.keys. */
#define K FAULT_KEY_OF_KIND
#define P(p) PROBE_MASK(PROBE_##p)

static const struct conf_key scenario_keys[] = {
        {SEC_SCENARIO, "name", parse_name, offsetof(struct scenario_head, name), 0,
         "a-z, 0-9 and '-', 1 to 63 characters", "required",
         "names the run, its journal and its report"},
        {SEC_SCENARIO, "description", parse_text, offsetof(struct scenario_head, description), 0,
         "text, at most 1024 characters", "none",
         "shown in the plan and the report"},
        {SEC_SCENARIO, "duration", parse_duration, offsetof(struct scenario_head, duration), 0,
         "duration > 0", "required",
         "the hard end of the run, at most the policy's max_duration: every fault is reverted by then"},
        {SEC_SCENARIO, "steady_state", parse_duration, offsetof(struct scenario_head, steady_state), 0,
         "duration", "three intervals of the slowest SLO",
         "how long every SLO must hold, continuously, before the first fault"},
        {SEC_SCENARIO, "steady_state_timeout", parse_duration, offsetof(struct scenario_head, steady_state_timeout), 0,
         "duration > 0, at least steady_state", "max(15s, 3 x steady_state)",
         "how long the run waits for the steady state before it gives up with exit 7"},
        {SEC_SCENARIO, "cooldown", parse_duration, offsetof(struct scenario_head, cooldown), 0, "duration", "0",
         "how long to keep probing after the faults are reverted, to measure recovery"},

        {SEC_TARGET, "unit", parse_unit_name, offsetof(struct target, unit), 0,
         "systemd unit (.service, .scope, .slice, .socket, .mount, .swap)", "none",
         "selector: the processes of the unit's cgroup and every cgroup below it"},
        {SEC_TARGET, "cgroup", parse_cgroup_path, offsetof(struct target, cgroup), 0,
         "path below the cgroup2 mount", "none",
         "selector: the processes of that cgroup and below"},
        {SEC_TARGET, "pid", parse_pid, offsetof(struct target, pid), 0, "process id, 2 to 4194304", "none",
         "selector: one process (PID 1 is refused)"},
        {SEC_TARGET, "pidfile", parse_abs_path, offsetof(struct target, pidfile), 0, "absolute path", "none",
         "selector: the process whose pid the file holds when the run starts"},
        {SEC_TARGET, "comm", parse_comm, offsetof(struct target, comm), 0, "process name, 1 to 15 characters", "none",
         "selector: processes whose /proc/PID/comm is exactly this"},
        {SEC_TARGET, "exe", parse_abs_path, offsetof(struct target, exe), 0, "absolute path", "none",
         "selector: processes running this executable"},
        {SEC_TARGET, "exec", parse_command, offsetof(struct target, exec), 0,
         "command: absolute program path and arguments, no shell", "none",
         "selector: a process the run launches under its control and terminates at its end"},
        {SEC_TARGET, "optional", parse_yes_no, offsetof(struct target, optional), 0, "yes | no", "no",
         "yes: a fault whose target matches nothing when its window opens is skipped instead of making the run exit 7"},

        {SEC_FAULT, "type", parse_fault_type, offsetof(struct fault, type), 0, "fault type", "required",
         "the fault kind; its keys are listed under FAULT TYPES"},
        {SEC_FAULT, "start", parse_duration, offsetof(struct fault, start), 0, "duration", "0",
         "offset of the fault's window from the run's start"},
        {SEC_FAULT, "duration", parse_duration, offsetof(struct fault, duration), 0,
         "duration > 0", "until the scenario ends",
         "length of the window; start + duration must be within the scenario"},
        {SEC_FAULT, "interface", parse_ifname, offsetof(struct fault, interface), K,
         "interface name, 1 to 15 characters", "required",
         "the interface to disturb; not one the policy protects"},
        {SEC_FAULT, "direction", parse_direction, offsetof(struct fault, direction), K, "egress | ingress", "egress",
         "which way the matching packets go"},
        {SEC_FAULT, "delay", parse_duration, offsetof(struct fault, delay), K,
         "duration", "required",
         "added delay, per packet or per system call; at most the policy's max_delay"},
        {SEC_FAULT, "jitter", parse_duration, offsetof(struct fault, jitter), K, "duration, at most delay", "0",
         "random variation around delay"},
        {SEC_FAULT, "distribution", parse_distribution, offsetof(struct fault, distribution), K,
         "uniform | normal | pareto | paretonormal", "netem's default",
         "shape of the jitter; needs jitter"},
        {SEC_FAULT, "correlation", parse_ratio, offsetof(struct fault, correlation), K, "percentage, 0% to 100%", "0",
         "how much each packet's fate depends on the previous one's (netem's correlation); not with burst"},
        {SEC_FAULT, "percent", parse_ratio, offsetof(struct fault, percent), K,
         "percentage, 0% to 100%", "required",
         "share of matching packets, or of the target's processes, affected"},
        {SEC_FAULT, "rate", parse_rate, offsetof(struct fault, rate), K,
         "rate of at least 8bit: bit, kbit, mbit, gbit", "required",
         "the rate matching packets are paced to, Ethernet header included"},
        {SEC_FAULT, "burst", parse_uint32, offsetof(struct fault, burst), K, "count, at least 1", "none",
         "lose packets in bursts of this many on average (Gilbert-Elliott); percent stays the long-run share"},
        {SEC_FAULT, "model", parse_loss_model, offsetof(struct fault, loss_model), K, "4state", "none",
         "netem's 4-state Markov loss model, set by p13, p31, p32, p23 and p14 instead of percent"},
        {SEC_FAULT, "p13", parse_ratio, offsetof(struct fault, p13), K, "percentage, 0% to 100%", "required with model",
         "4state: chance that a packet passed in a gap is followed by a burst's first loss"},
        {SEC_FAULT, "p31", parse_ratio, offsetof(struct fault, p31), K, "percentage, 0% to 100%", "100% - p13",
         "4state: chance that a loss in a burst is followed by a packet passed in a gap (the burst ends)"},
        {SEC_FAULT, "p32", parse_ratio, offsetof(struct fault, p32), K, "percentage, 0% to 100%", "0",
         "4state: chance that a loss in a burst is followed by a packet passed within the burst"},
        {SEC_FAULT, "p23", parse_ratio, offsetof(struct fault, p23), K, "percentage, 0% to 100%", "100% (as in tc)",
         "4state: chance that a packet passed within a burst is followed by a loss in it"},
        {SEC_FAULT, "p14", parse_ratio, offsetof(struct fault, p14), K, "percentage, 0% to 100%", "0",
         "4state: chance that a packet passed in a gap is followed by an isolated loss"},
        {SEC_FAULT, "dst", parse_cidr_list, offsetof(struct fault, dst), K, "CIDR list, at most 64", "any",
         "only packets to these addresses"},
        {SEC_FAULT, "src", parse_cidr_list, offsetof(struct fault, src), K, "CIDR list, at most 64", "any",
         "only packets from these addresses"},
        {SEC_FAULT, "dport", parse_port_list, offsetof(struct fault, dport), K,
         "port list, at most 16 ports or ranges", "any",
         "only packets to these TCP or UDP ports"},
        {SEC_FAULT, "sport", parse_port_list, offsetof(struct fault, sport), K,
         "port list, at most 16 ports or ranges", "any",
         "only packets from these TCP or UDP ports"},
        {SEC_FAULT, "protocol", parse_protocol, offsetof(struct fault, protocol), K, "tcp | udp | icmp | icmpv6",
         "any", "only packets of this protocol (icmp: ICMP, and ICMPv6 in IPv6 packets; icmpv6: ICMPv6 alone); "
         "neighbour discovery always passes"},
        {SEC_FAULT, "answer", parse_dns_answer, offsetof(struct fault, answer), K, "nxdomain | servfail | refused | timeout",
         "nxdomain", "what a matching DNS query gets: a response with that RCODE, or none at all (timeout)"},
        {SEC_FAULT, "domains", parse_text, offsetof(struct fault, domains), K, "list of up to 16 domain names", "every name",
         "only queries for these names or names below them, compared case-insensitively"},
        {SEC_FAULT, "target", parse_name, offsetof(struct fault, target), 0,
         "target name", "required, except any traffic for network kinds",
         "the [target] whose processes (or, for network kinds, whose cgroup's egress traffic) the fault acts on"},
        {SEC_FAULT, "syscalls", parse_syscall_list, offsetof(struct fault, syscalls), K,
         "syscall list of this architecture", "required",
         "which system calls"},
        {SEC_FAULT, "errno", parse_errno, offsetof(struct fault, err), K, "errno name", "required",
         "the error the calls return"},
        {SEC_FAULT, "probability", parse_ratio, offsetof(struct fault, probability), K,
         "percentage, 0% to 100%", "100%",
         "share of matching calls affected"},
        {SEC_FAULT, "path", parse_abs_path, offsetof(struct fault, path), K, "absolute path prefix", "any",
         "only calls on files under this prefix"},
        {SEC_FAULT, "backend", parse_backend, offsetof(struct fault, backend), K, "auto | bpf | seccomp", "auto",
         "seccomp for launched targets, bpf (LSM hooks) for running ones; auto chooses by the target"},
        {SEC_FAULT, "signal", parse_signal, offsetof(struct fault, signal), K,
         "signal name, SIG optional; not stop or continue signals", "SIGKILL",
         "the signal sent through a pidfd"},
        {SEC_FAULT, "count", parse_uint32, offsetof(struct fault, count), K, "count, at least 1", "1",
         "processes per strike"},
        {SEC_FAULT, "every", parse_duration, offsetof(struct fault, every), K,
         "duration, at least 100ms", "once, at the window's start",
         "repeat strikes during the window"},
        {SEC_FAULT, "min_survivors", parse_uint32, offsetof(struct fault, min_survivors), K, "count", "the policy's",
         "processes of the target always left alive; may only be raised above the policy's"},
        {SEC_FAULT, "quota", parse_ratio, offsetof(struct fault, quota), K, "percentage, 1% to 100%", "required",
         "the share of one CPU the target's cgroup gets (its cpu.max)"},
        {SEC_FAULT, "high", parse_size, offsetof(struct fault, high), K, "size, at least 1M", "required",
         "the target's cgroup's memory.high: reclaim and throttling above it"},
        {SEC_FAULT, "device", parse_block_device, offsetof(struct fault, device), K,
         "MAJ:MIN or block device path", "required",
         "the block device whose io.max line is written"},
        {SEC_FAULT, "rbps", parse_size, offsetof(struct fault, rbps), K, "size, at least 1", "none",
         "read bytes a second (io.max)"},
        {SEC_FAULT, "wbps", parse_size, offsetof(struct fault, wbps), K, "size, at least 1", "none",
         "write bytes a second (io.max)"},
        {SEC_FAULT, "riops", parse_uint32, offsetof(struct fault, riops), K, "count, at least 1", "none",
         "read operations a second (io.max)"},
        {SEC_FAULT, "wiops", parse_uint32, offsetof(struct fault, wiops), K, "count, at least 1", "none",
         "write operations a second (io.max)"},
        {SEC_FAULT, "limit", parse_uint32, offsetof(struct fault, limit), K, "count, at least 1", "required",
         "the target's cgroup's pids.max: forks past it fail with EAGAIN"},
        {SEC_FAULT, "size", parse_size, offsetof(struct fault, size), K, "size > 0", "none",
         "instead of percent: the bytes to allocate"},
        {SEC_FAULT, "cpu", parse_uint32, offsetof(struct fault, cpu), K, "count, 0-1024", "0",
         "stress-ng CPU workers (--cpu)"},
        {SEC_FAULT, "cpu_load", parse_ratio, offsetof(struct fault, cpu_load), K, "percentage, 1%-100%", "none: full load",
         "the load of each CPU worker (--cpu-load); needs cpu"},
        {SEC_FAULT, "vm", parse_uint32, offsetof(struct fault, vm), K, "count, 0-1024", "0",
         "stress-ng memory workers (--vm)"},
        {SEC_FAULT, "vm_bytes", parse_size, offsetof(struct fault, vm_bytes), K, "size >= 4M", "required with vm",
         "the memory each vm worker keeps touching (--vm-bytes), cut down to keep the policy's min_free_memory"},
        {SEC_FAULT, "io", parse_uint32, offsetof(struct fault, io), K, "count, 0-1024", "0",
         "stress-ng IO workers (--io: sync(2) in a loop)"},
        {SEC_FAULT, "backoff_psi", parse_ratio, offsetof(struct fault, backoff_psi), K, "percentage", "10%",
         "memory pressure (PSI full avg10) at which every stress worker is frozen until it eases"},
        {SEC_FAULT, "action", parse_service_action, offsetof(struct fault, action), K, "stop | restart | kill", "stop",
         "what is done to the target's systemd unit (StopUnit, RestartUnit or KillUnit)"},
        {SEC_FAULT, "offset", parse_clock_offset, offsetof(struct fault, clock_offset), K,
         "signed whole s, m, h or d (-2h, +30d)", "required",
         "how far the launched target's wall clock is set ahead (+) or behind (-) for the window"},

        {SEC_SLO, "probe", parse_probe, offsetof(struct slo, probe), 0, "http | exec | prometheus | psi", "required",
         "how health is measured"},
        {SEC_SLO, "url", parse_url, offsetof(struct slo, url), P(HTTP) | P(PROMETHEUS),
         "http:// or https:// URL", "required",
         "the URL to GET, or the Prometheus server's base URL"},
        {SEC_SLO, "status", parse_status_list, offsetof(struct slo, status), P(HTTP),
         "status list, 100 to 599", "200-399",
         "healthy HTTP statuses"},
        {SEC_SLO, "command", parse_command, offsetof(struct slo, command), P(EXEC),
         "command: absolute program path and arguments", "required",
         "a Nagios-style check run as the policy's probe user: exit 0 is healthy"},
        {SEC_SLO, "query", parse_text, offsetof(struct slo, query), P(PROMETHEUS), "PromQL text", "required",
         "an instant query whose value is judged against max and min"},
        {SEC_SLO, "resource", parse_psi_resource, offsetof(struct slo, resource), P(PSI),
         "cpu | memory | io", "required",
         "which /proc/pressure file"},
        {SEC_SLO, "pressure", parse_psi_kind, offsetof(struct slo, pressure), P(PSI), "some | full", "some",
         "which line of it"},
        {SEC_SLO, "interval", parse_duration, offsetof(struct slo, interval), 0, "duration, at least 100ms", "1s",
         "time between probes"},
        {SEC_SLO, "timeout", parse_duration, offsetof(struct slo, timeout), 0,
         "duration > 0, at most interval", "interval",
         "a probe that takes longer is a failure"},
        {SEC_SLO, "window", parse_duration, offsetof(struct slo, window), 0,
         "duration, at least interval", "10 x interval",
         "the judgement covers this much history"},
        {SEC_SLO, "min_samples", parse_uint32, offsetof(struct slo, min_samples), 0, "count, at least 1", "3",
         "samples needed before judging"},
        {SEC_SLO, "max_error_rate", parse_ratio, offsetof(struct slo, max_error_rate), P(HTTP) | P(EXEC),
         "percentage, 0% to 100%", "none (required for exec)",
         "breached when failed probes over the window exceed it"},
        {SEC_SLO, "max_latency", parse_duration, offsetof(struct slo, max_latency), P(HTTP), "duration", "none",
         "breached when the p99 latency over the window exceeds it"},
        {SEC_SLO, "max", parse_double, offsetof(struct slo, max), P(PROMETHEUS) | P(PSI),
         "number (psi: avg10 percentage, 0 to 100)", "none",
         "breached when the value is above it"},
        {SEC_SLO, "min", parse_double, offsetof(struct slo, min), P(PROMETHEUS), "number, at most max", "none",
         "breached when the value is below it"},

        LIMIT_KEYS(SEC_LIMITS, struct limits),
};
#undef K
#undef P

static const char *const scenario_kinds[_SEC_MAX] = {
        [SEC_SCENARIO] = "scenario", [SEC_TARGET] = "target", [SEC_FAULT] = "fault",
        [SEC_SLO] = "slo",           [SEC_LIMITS] = "limits",
};

static size_t name_hash(const char *name) {
        uint64_t h = 14695981039346656037ULL;
        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        return (size_t)(h ^ (h >> 29));
}

/* Index in objs of the object named name, or -1. */
static int name_find(const struct name_index *ix, struct conf_obj *const *objs, const char *name) {
        if (!ix->cap)
                return -1;
        for (size_t h = name_hash(name) & (ix->cap - 1); ix->slot[h]; h = (h + 1) & (ix->cap - 1))
                if (streq(objs[ix->slot[h] - 1]->name, name))
                        return (int)(ix->slot[h] - 1);
        return -1;
}

static void name_insert(struct name_index *ix, const char *name, size_t at) {
        size_t h = name_hash(name) & (ix->cap - 1);
        while (ix->slot[h])
                h = (h + 1) & (ix->cap - 1);
        ix->slot[h] = (uint32_t)(at + 1);
        ix->n++;
}

/* Room for one more name: at most half full, rehashed on growth. */
static int name_reserve(struct name_index *ix, struct conf_obj *const *objs) {
        if ((ix->n + 1) * 2 <= ix->cap)
                return 0;
        size_t cap = ix->cap ? ix->cap * 2 : 64;
        uint32_t *slot = calloc(cap, sizeof *slot);
        if (!slot)
                return -ENOMEM;
        struct name_index grown = {.slot = slot, .cap = cap};
        for (size_t i = 0; i < ix->cap; i++)
                if (ix->slot[i])
                        name_insert(&grown, objs[ix->slot[i] - 1]->name, ix->slot[i] - 1);
        free(ix->slot);
        *ix = grown;
        return 0;
}

int scenario_target_index(const struct scenario *s, const char *name) {
        return name ? name_find(&s->names[SEC_TARGET], (struct conf_obj *const *)s->targets, name) : -1;
}

static size_t scenario_ceiling(int kind) {
        return kind == SEC_TARGET ? SCENARIO_MAX_TARGETS : kind == SEC_FAULT ? SCENARIO_MAX_FAULTS : SCENARIO_MAX_SLOS;
}

static struct conf_obj *scenario_section(void *ctx, int kind, const char *name, unsigned line,
                                         struct diags *d, const char *file) {
        struct scenario *s = ctx;
        bool named = kind == SEC_TARGET || kind == SEC_FAULT || kind == SEC_SLO;
        if (named && !name) {
                diag_error(d, file, line, "[%s] needs a name: [%s NAME], NAME of a-z, 0-9 and '-'",
                           scenario_kinds[kind], scenario_kinds[kind]);
                return NULL;
        }
        if (!named && name) {
                diag_error(d, file, line, "[%s] takes no name; write [%s]", scenario_kinds[kind],
                           scenario_kinds[kind]);
                return NULL;
        }
        if (named && !name_is_valid(name)) {
                diag_error(d, file, line, "invalid %s name '%s'; use 1 to %d characters of a-z, 0-9 and "
                           "'-', not starting with '-'", scenario_kinds[kind], name, NAME_MAX_LEN);
                return NULL;
        }

        struct conf_obj *obj = NULL;
        void ***arr = NULL;
        size_t *n = NULL, size = 0;
        switch (kind) {
        case SEC_SCENARIO:
        case SEC_LIMITS: {
                bool *has = kind == SEC_SCENARIO ? &s->has_head : &s->has_limits;
                obj = kind == SEC_SCENARIO ? &s->head.hdr : &s->limits.hdr;
                if (*has) {
                        diag_error(d, file, line, "[%s] appears twice (first at line %u); merge them",
                                   scenario_kinds[kind], obj->line);
                        return NULL;
                }
                *has = true;
                obj->kind = kind;
                obj->line = line;
                return obj;
        }
        case SEC_TARGET:
                arr = (void ***)&s->targets, n = &s->n_targets, size = sizeof(struct target);
                break;
        case SEC_FAULT:
                arr = (void ***)&s->faults, n = &s->n_faults, size = sizeof(struct fault);
                break;
        default:
                arr = (void ***)&s->slos, n = &s->n_slos, size = sizeof(struct slo);
                break;
        }
        /* Past a ceiling, only counted: the one just over it is kept for the
         * message (scenario_check), the rest are neither checked nor kept. */
        if (*n > scenario_ceiling(kind)) {
                s->n_over[kind]++;
                return NULL;
        }
        struct name_index *ix = &s->names[kind];
        int found = name_find(ix, (struct conf_obj *const *)*arr, name);
        if (found >= 0) {
                struct conf_obj *o = (*arr)[found];
                diag_error(d, file, line, "%s '%s' is defined twice (first at line %u); names "
                           "must be unique", scenario_kinds[kind], name, o->line);
                return NULL;
        }
        obj = calloc(1, size);
        if (!obj || !(obj->name = strdup(name)) || name_reserve(ix, (struct conf_obj *const *)*arr) < 0 ||
            array_push(arr, n, sizeof obj, &obj) < 0) {
                if (obj)
                        free(obj->name);
                free(obj);
                diag_error(d, file, line, "out of memory");
                return NULL;
        }
        name_insert(ix, obj->name, *n - 1);
        obj->kind = kind;
        obj->line = line;
        if (kind == SEC_FAULT) {
                struct fault *f = (struct fault *)obj;
                f->type = FAULT_TYPE_INVALID;
                f->target_index = -1;
                f->probability = RATIO_ONE;
                f->signal = SIGKILL;
        } else if (kind == SEC_SLO) {
                struct slo *o = (struct slo *)obj;
                o->interval = NSEC_PER_SEC;
                o->min_samples = 3;
        }
        return obj;
}

static bool kind_takes(const struct fault_kind *k, const char *key) {
        for (const char *const *p = k->keys; p && *p; p++)
                if (streq(*p, key))
                        return true;
        return false;
}

static bool takes_key(const struct fault_kind *kind, const struct conf_key *k) {
        return !(k->only & FAULT_KEY_OF_KIND) || kind_takes(kind, k->key);
}

/* A fault's keys are those of its type, an slo's those of its probe. */
static bool scenario_narrows(const struct conf_obj *obj, char *buf, size_t len) {
        if (obj->kind == SEC_FAULT) {
                const struct fault *f = (const struct fault *)obj;
                if (f->type == FAULT_TYPE_INVALID)
                        return false;
                snprintf(buf, len, "%s", fault_kinds[f->type]->name);
                return true;
        }
        if (obj->kind == SEC_SLO) {
                const struct slo *o = (const struct slo *)obj;
                if (o->probe == PROBE_NONE)
                        return false;
                snprintf(buf, len, "probe = %s", slo_probe_to_string(o->probe));
                return true;
        }
        return false;
}

static bool scenario_applies(const struct conf_obj *obj, const struct conf_key *k) {
        if (obj->kind == SEC_FAULT)
                return takes_key(fault_kinds[((const struct fault *)obj)->type], k);
        if (obj->kind == SEC_SLO)
                return !k->only || (k->only & PROBE_MASK(((const struct slo *)obj)->probe));
        return true;
}

const struct conf_spec scenario_spec = {
        .kinds = scenario_kinds,
        .n_kinds = _SEC_MAX,
        .keys = scenario_keys,
        .n_keys = ELEMENTSOF(scenario_keys),
        .section = scenario_section,
        .narrows = scenario_narrows,
        .applies = scenario_applies,
};

#define LINE(obj, key) conf_line(&scenario_spec, &(obj)->hdr, key)
#define OK(obj, key) conf_ok(&scenario_spec, &(obj)->hdr, key)
#define LINE_BAD(obj, key) (LINE(obj, key) && !OK(obj, key))

const char *slo_probe_to_string(int p) {
        static const char *const n[] = {"?", "http", "exec", "prometheus", "psi"};
        return p > 0 && p < (int)ELEMENTSOF(n) ? n[p] : "?";
}

const char *selector_to_string(enum selector s) {
        static const char *const n[] = {"none", "unit", "cgroup", "pid", "pidfile", "comm", "exe", "exec"};
        return n[s];
}

const char *target_value(const struct target *t, char buf[static FORMAT_MAX]) {
        switch (t->sel) {
        case SEL_UNIT: return t->unit;
        case SEL_CGROUP: return t->cgroup;
        case SEL_PID: snprintf(buf, FORMAT_MAX, "%d", (int)t->pid); return buf;
        case SEL_PIDFILE: return t->pidfile;
        case SEL_COMM: return t->comm;
        case SEL_EXE: return t->exe;
        case SEL_EXEC: return t->exec;
        default: return "";
        }
}

uint64_t fault_end(const struct scenario *s, const struct fault *f) {
        return f->has_duration ? f->start + f->duration : s->head.duration;
}

static void check_target(struct scenario *s, struct target *t, struct diags *d) {
        static const char *const sel_keys[] = {"unit", "cgroup", "pid", "pidfile", "comm", "exe", "exec"};
        unsigned first = 0;
        for (size_t i = 0; i < ELEMENTSOF(sel_keys); i++) {
                unsigned l = LINE(t, sel_keys[i]);
                if (!l)
                        continue;
                if (first) {
                        diag_error(d, s->file, l, "target '%s' has a second selector '%s' (the first is "
                                   "'%s' at line %u); use exactly one of unit, cgroup, pid, pidfile, "
                                   "comm, exe, exec", t->hdr.name, sel_keys[i], selector_to_string(t->sel),
                                   first);
                        continue;
                }
                first = l;
                t->sel = (enum selector)(i + 1);
                t->sel_line = l;
        }
        if (!first)
                diag_error(d, s->file, t->hdr.line, "target '%s' has no selector; set exactly one of unit, "
                           "cgroup, pid, pidfile, comm, exe, exec", t->hdr.name);
}

static void check_window(struct scenario *s, struct fault *f, struct diags *d) {
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX];
        f->has_duration = OK(f, "duration");
        if (!s->head.duration)
                return; /* reported on [scenario] */
        if (f->start >= s->head.duration) {
                diag_error(d, s->file, LINE(f, "start"), "fault '%s' starts at %s, not before the scenario "
                           "ends (duration = %s); start must be less than the scenario's duration",
                           f->hdr.name, format_duration(a, f->start), format_duration(b, s->head.duration));
                return;
        }
        if (f->has_duration && f->duration == 0)
                diag_error(d, s->file, LINE(f, "duration"), "fault '%s' has a zero duration; omit it to "
                           "last until the scenario ends", f->hdr.name);
        /* start < duration here: the subtraction cannot wrap, a sum could. */
        else if (f->has_duration && f->duration > s->head.duration - f->start)
                diag_error(d, s->file, LINE(f, "duration"), "fault '%s' window %s + %s ends after the "
                           "scenario (duration = %s); a fault must end within its scenario", f->hdr.name,
                           format_duration(a, f->start), format_duration(b, f->duration),
                           format_duration(c, s->head.duration));
}

unsigned fault_line(const struct fault *f, const char *key) {
        return LINE(f, key);
}

bool fault_ok(const struct fault *f, const char *key) {
        return OK(f, key);
}

void fault_require(struct scenario *s, const struct fault *f, const char *key, const char *why, struct diags *d) {
        if (!LINE(f, key))
                diag_error(d, s->file, f->hdr.line, "fault '%s' (type = %s) needs '%s'%s", f->hdr.name,
                           fault_type_to_string(f->type), key, why);
}


/* What every kind shares (type, keys, window, target); the rest is the
 * kind's own check. */
static void check_fault(struct scenario *s, struct fault *f, struct diags *d) {
        if (f->type == FAULT_TYPE_INVALID) {
                if (!LINE(f, "type"))
                        diag_error(d, s->file, f->hdr.line, "fault '%s' has no type; set type = one of %s",
                                   f->hdr.name, fault_types_allowed());
                return; /* a bad type was reported by its parser */
        }
        const struct fault_kind *kind = fault_kinds[f->type];
        /* Keys that do not belong to this type. */
        for (size_t i = 0; i < scenario_spec.n_keys; i++) {
                const struct conf_key *k = &scenario_spec.keys[i];
                if (k->kind != SEC_FAULT || !f->hdr.key_line[i] || takes_key(kind, k))
                        continue;
                char allowed[512] = "";
                for (size_t j = 0; j < scenario_spec.n_keys; j++) {
                        const struct conf_key *q = &scenario_spec.keys[j];
                        if (q->kind == SEC_FAULT && takes_key(kind, q))
                                snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed),
                                         "%s%s", allowed[0] ? ", " : "", q->key);
                }
                diag_error(d, s->file, f->hdr.key_line[i], "'%s' does not apply to type = %s; keys for %s: %s",
                           k->key, kind->name, kind->name, allowed);
        }
        check_window(s, f, d);

        if (OK(f, "target"))
                f->target_index = scenario_target_index(s, f->target);
        kind->check(s, f, d);
        if (OK(f, "target") && f->target_index < 0) {
                char names[512] = "";
                size_t used = 0;
                /* Once full, a name more changes nothing: stop there. */
                for (size_t i = 0; i < s->n_targets && used + 1 < sizeof names; i++) {
                        snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", s->targets[i]->hdr.name);
                        used += strlen(names + used);
                }
                diag_error(d, s->file, LINE(f, "target"), "fault '%s' names target '%s', which is "
                           "not defined; define [target %s] or use one of: %s", f->hdr.name,
                           f->target, f->target, names[0] ? names : "(no targets defined)");
        }
}

static void check_slo(struct scenario *s, struct slo *o, struct diags *d) {
        char a[FORMAT_MAX], b[FORMAT_MAX];
        if (!LINE(o, "probe")) {
                diag_error(d, s->file, o->hdr.line, "slo '%s' has no probe; set probe = http | exec | "
                           "prometheus | psi", o->hdr.name);
                return;
        }
        if (o->probe == PROBE_NONE)
                return; /* reported by its parser */
        for (size_t i = 0; i < scenario_spec.n_keys; i++) {
                const struct conf_key *k = &scenario_spec.keys[i];
                if (k->kind == SEC_SLO && o->hdr.key_line[i] && k->only && !(k->only & PROBE_MASK(o->probe)))
                        diag_error(d, s->file, o->hdr.key_line[i], "'%s' does not apply to this probe; see "
                                   "scenarios/README.md for the keys of each probe", k->key);
        }
        static const struct {
                int probe;
                const char *key, *example;
        } required[] = {
                {PROBE_HTTP, "url", "url = http://127.0.0.1:8080/healthz"},
                {PROBE_EXEC, "command", "command = /usr/lib/nagios/plugins/check_http -H localhost"},
                {PROBE_EXEC, "max_error_rate", "max_error_rate = 10%"},
                {PROBE_PROMETHEUS, "url", "url = http://127.0.0.1:9090"},
                {PROBE_PROMETHEUS, "query", "query = sum(rate(errors_total[1m]))"},
                {PROBE_PSI, "resource", "resource = memory"},
                {PROBE_PSI, "max", "max = 20 (avg10 percent)"},
        };
        for (size_t i = 0; i < ELEMENTSOF(required); i++)
                if (required[i].probe == o->probe && !LINE(o, required[i].key))
                        diag_error(d, s->file, o->hdr.line, "slo '%s' needs '%s' (e.g. %s)", o->hdr.name,
                                   required[i].key, required[i].example);
        if (o->probe == PROBE_HTTP && !LINE(o, "max_error_rate") && !LINE(o, "max_latency"))
                diag_error(d, s->file, o->hdr.line, "slo '%s' has no threshold; set max_error_rate and/or "
                           "max_latency", o->hdr.name);
        if (o->probe == PROBE_PROMETHEUS && !LINE(o, "max") && !LINE(o, "min"))
                diag_error(d, s->file, o->hdr.line, "slo '%s' has no threshold; set max and/or min",
                           o->hdr.name);
        if (o->probe == PROBE_PSI && OK(o, "max") && (o->max < 0 || o->max > 100))
                diag_error(d, s->file, LINE(o, "max"), "psi max is a percentage of time stalled; use 0 to 100");
        if (OK(o, "max") && OK(o, "min") && o->min > o->max)
                diag_error(d, s->file, LINE(o, "min"), "min %g is above max %g; nothing could be healthy",
                           o->min, o->max);
        if (o->probe == PROBE_HTTP && !LINE(o, "status")) {
                struct port_range ok = {200, 399};
                if (array_push(&o->status.v, &o->status.n, sizeof ok, &ok) < 0)
                        diag_error(d, s->file, o->hdr.line, "out of memory");
        }
        if (o->interval < 100 * NSEC_PER_MSEC && !LINE_BAD(o, "interval"))
                diag_error(d, s->file, LINE(o, "interval") ? LINE(o, "interval") : o->hdr.line,
                           "interval = %s is too short; use 100ms or more", format_duration(a, o->interval));
        if (!LINE(o, "timeout"))
                o->timeout = o->interval;
        else if (OK(o, "timeout") && (o->timeout == 0 || o->timeout > o->interval))
                diag_error(d, s->file, LINE(o, "timeout"), "timeout = %s must be above 0 and at most the "
                           "interval (%s), so probes never pile up", format_duration(a, o->timeout),
                           format_duration(b, o->interval));
        if (!LINE(o, "window"))
                o->window = 10 * o->interval;
        else if (OK(o, "window") && o->window < o->interval)
                diag_error(d, s->file, LINE(o, "window"), "window = %s is shorter than the interval (%s); "
                           "use a window of several intervals", format_duration(a, o->window),
                           format_duration(b, o->interval));
        if (OK(o, "min_samples") && o->min_samples == 0)
                diag_error(d, s->file, LINE(o, "min_samples"), "min_samples must be at least 1");
}

/* The objects of a section kind, for checks that go by the key table. */
static size_t section_objects(struct scenario *s, int kind, struct conf_obj ***ret) {
        static struct conf_obj *one[1];
        switch (kind) {
        case SEC_SCENARIO:
                one[0] = &s->head.hdr;
                *ret = one;
                return s->has_head;
        case SEC_TARGET: *ret = (struct conf_obj **)s->targets; return s->n_targets;
        case SEC_FAULT: *ret = (struct conf_obj **)s->faults; return s->n_faults;
        case SEC_SLO: *ret = (struct conf_obj **)s->slos; return s->n_slos;
        default: return 0; /* [limits] only tighten the policy: any value is safe */
        }
}

/* Every duration is bounded, so that no sum of them (a window's end, the
 * guardian's deadline: start + steady state + duration + cooldown) wraps
 * 64-bit nanoseconds; and every port list fits the classifier. */
static void check_bounds(struct scenario *s, struct diags *d) {
        char a[FORMAT_MAX], b[FORMAT_MAX];
        for (size_t i = 0; i < scenario_spec.n_keys; i++) {
                const struct conf_key *k = &scenario_spec.keys[i];
                struct conf_obj **objs;
                size_t n = section_objects(s, k->kind, &objs);
                for (size_t j = 0; j < n; j++) {
                        const struct conf_obj *o = objs[j];
                        /* conf_ok() by index: keys are unique in a kind. */
                        if (!o->key_line[i] || o->key_bad[i])
                                continue;
                        const char *field = (const char *)o + k->offset;
                        if (k->parse == parse_duration) {
                                uint64_t v;
                                memcpy(&v, field, sizeof v);
                                if (v > SCENARIO_DURATION_MAX)
                                        diag_error(d, s->file, o->key_line[i], "%s = %s is too long; a "
                                                   "duration in a scenario is at most %s", k->key,
                                                   format_duration(a, v), format_duration(b, SCENARIO_DURATION_MAX));
                        } else if (k->parse == parse_port_list && k->kind == SEC_FAULT) {
                                const struct port_list *l = (const struct port_list *)(const void *)field;
                                if (l->n > SCENARIO_MAX_PORT_RANGES)
                                        diag_error(d, s->file, o->key_line[i], "%s has %zu ports or ranges; "
                                                   "the network classifier holds at most %d per list (merge "
                                                   "neighbours into ranges like 8000-8010)", k->key, l->n,
                                                   SCENARIO_MAX_PORT_RANGES);
                        } else if (k->parse == parse_cidr_list) {
                                const struct cidr_list *l = (const struct cidr_list *)(const void *)field;
                                if (l->n > SCENARIO_MAX_CIDRS)
                                        diag_error(d, s->file, o->key_line[i], "%s has %zu CIDRs; the network "
                                                   "classifier holds at most %d per list (use wider "
                                                   "prefixes)", k->key, l->n, SCENARIO_MAX_CIDRS);
                        }
                }
        }
}

/* The first section of a kind over its ceiling, at its line; every
 * section of the kind counted, those past it too. */
static void check_ceiling(struct scenario *s, int kind, struct conf_obj **objs, size_t n, const char *what,
                          struct diags *d) {
        size_t max = scenario_ceiling(kind);
        if (n <= max)
                return;
        diag_error(d, s->file, objs[max]->line, "%s '%s' is %s %zu of %zu: a scenario holds at most %zu %s; split it "
                   "into several scenarios", scenario_kinds[kind], objs[max]->name ? objs[max]->name : "?",
                   scenario_kinds[kind], max + 1, n + s->n_over[kind], max, what);
}

static void scenario_check(struct scenario *s, struct diags *d) {
        check_bounds(s, d);
        if (!s->has_head) {
                diag_error(d, s->file, 0, "no [scenario] section; add one with name and duration");
        } else {
                if (!LINE(&s->head, "name"))
                        diag_error(d, s->file, s->head.hdr.line, "[scenario] needs 'name' ([a-z0-9-]+)");
                if (!LINE(&s->head, "duration"))
                        diag_error(d, s->file, s->head.hdr.line, "[scenario] needs 'duration', the hard end "
                                   "of the run (e.g. duration = 5m)");
                else if (OK(&s->head, "duration") && s->head.duration == 0)
                        diag_error(d, s->file, LINE(&s->head, "duration"), "duration must be greater than 0");
                if (LINE(&s->head, "steady_state_timeout") && OK(&s->head, "steady_state_timeout") &&
                    s->head.steady_state_timeout == 0)
                        diag_error(d, s->file, LINE(&s->head, "steady_state_timeout"), "steady_state_timeout must "
                                   "be greater than 0 (leave it out for the default, max(15s, 3 x steady_state))");
                else if (LINE(&s->head, "steady_state_timeout") && OK(&s->head, "steady_state_timeout") &&
                    OK(&s->head, "steady_state") && s->head.steady_state_timeout < s->head.steady_state) {
                        char a[FORMAT_MAX], b[FORMAT_MAX];
                        diag_error(d, s->file, LINE(&s->head, "steady_state_timeout"), "steady_state_timeout = %s is "
                                   "shorter than steady_state = %s; it must be at least as long (the default is "
                                   "max(15s, 3 x steady_state))", format_duration(a, s->head.steady_state_timeout),
                                   format_duration(b, s->head.steady_state));
                }
        }
        for (size_t i = 0; i < s->n_targets; i++) {
                check_target(s, s->targets[i], d);
                s->n_launched += s->targets[i]->sel == SEL_EXEC;
        }
        for (size_t i = 0; i < s->n_faults; i++)
                check_fault(s, s->faults[i], d);
        check_ceiling(s, SEC_FAULT, (struct conf_obj **)s->faults, s->n_faults, "faults", d);
        for (size_t i = 0; i < s->n_slos; i++)
                check_slo(s, s->slos[i], d);
        check_ceiling(s, SEC_TARGET, (struct conf_obj **)s->targets, s->n_targets, "targets", d);
        check_ceiling(s, SEC_SLO, (struct conf_obj **)s->slos, s->n_slos, "SLOs", d);
        if (s->has_head && s->n_faults == 0)
                diag_warning(d, s->file, s->head.hdr.line, "the scenario has no [fault] sections; it "
                             "injects nothing");
}

int scenario_parse(const char *file, const char *buf, size_t len, struct scenario **ret,
                   struct diags *d) {
        _cleanup_(scenario_freep) struct scenario *s = calloc(1, sizeof *s);
        if (!s || !(s->file = strdup(file)))
                return -ENOMEM;
        int r = conf_parse(&scenario_spec, file, buf, len, s, d);
        if (r < 0)
                return r;
        scenario_check(s, d);
        *ret = TAKE_PTR(s);
        return 0;
}

int scenario_load(const char *path, struct scenario **ret, struct diags *d) {
        return scenario_load_trusted(path, false, ret, d);
}

int scenario_load_trusted(const char *path, bool require_trust, struct scenario **ret, struct diags *d) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        /* Opened once and parsed from that open file: a path swapped
         * between a check and a read cannot slip another file in. */
        int r = conf_read(path, require_trust, DIAG_ERROR, &buf, &len, NULL, d);
        if (r == -EPERM && require_trust)
                return r;
        if (r == -EFBIG) {
                diag_error(d, path, 0, "file is larger than %d bytes", CONF_MAX_FILE);
                return r;
        }
        if (r < 0) {
                diag_error(d, path, 0, "cannot read: %s", strerror(-r));
                return r;
        }
        return scenario_parse(path, buf, len, ret, d);
}

void scenario_free(struct scenario *s) {
        if (!s)
                return;
        free(s->file);
        free(s->head.name);
        free(s->head.description);
        for (size_t i = 0; i < s->n_targets; i++) {
                struct target *t = s->targets[i];
                free(t->hdr.name);
                free(t->unit), free(t->cgroup), free(t->pidfile), free(t->comm), free(t->exe), free(t->exec);
                free(t);
        }
        free(s->targets);
        for (size_t i = 0; i < s->n_faults; i++) {
                struct fault *f = s->faults[i];
                free(f->hdr.name);
                free(f->interface), free(f->target), free(f->path), free(f->device), free(f->domains);
                cidr_list_free(&f->dst), cidr_list_free(&f->src);
                port_list_free(&f->dport), port_list_free(&f->sport);
                syscall_list_free(&f->syscalls);
                free(f);
        }
        free(s->faults);
        for (size_t i = 0; i < s->n_slos; i++) {
                struct slo *o = s->slos[i];
                free(o->hdr.name);
                free(o->url), free(o->command), free(o->query);
                port_list_free(&o->status);
                free(o);
        }
        free(s->slos);
        for (size_t k = 0; k < ELEMENTSOF(s->names); k++)
                free(s->names[k].slot);
        free(s);
}

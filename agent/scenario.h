/* SPDX-License-Identifier: MIT */
#pragma once

#include "conf.h"
#include "diag.h"
#include "kind.h"
#include "parse.h"

enum section_kind { SEC_SCENARIO, SEC_TARGET, SEC_FAULT, SEC_SLO, SEC_LIMITS, _SEC_MAX };

enum selector { SEL_NONE, SEL_UNIT, SEL_CGROUP, SEL_PID, SEL_PIDFILE, SEL_COMM, SEL_EXE, SEL_EXEC };

/* A fault's type is the index of its kind in the registry (agent/kind.h,
 * faults/registry.c); the model names no kind. */
#define FAULT_TYPE_INVALID (-1)
#define FAULT_MASK(t) (1U << (t))

enum direction { DIR_EGRESS, DIR_INGRESS };
enum protocol { PROTO_ANY, PROTO_TCP, PROTO_UDP, PROTO_ICMP, PROTO_ICMPV6 };
/* loss: netem's loss model named by `model` (0: unset; percent [burst] decides). */
enum loss_model { LOSS_MODEL_NONE, LOSS_MODEL_4STATE };
enum distribution { DIST_NONE, DIST_UNIFORM, DIST_NORMAL, DIST_PARETO, DIST_PARETONORMAL };
enum backend { BACKEND_AUTO, BACKEND_BPF, BACKEND_SECCOMP };
/* dns: what a matching query gets (0: unset, nxdomain). */
enum dns_answer { DNS_ANSWER_NXDOMAIN, /* the default */ DNS_ANSWER_SERVFAIL, DNS_ANSWER_REFUSED, DNS_ANSWER_TIMEOUT };
/* service: what is done to the unit (0: unset, stop). */
enum service_action { SERVICE_STOP, /* the default */ SERVICE_RESTART, SERVICE_KILL };
enum probe_kind { PROBE_NONE, PROBE_HTTP, PROBE_EXEC, PROBE_PROMETHEUS, PROBE_PSI };
#define PROBE_MASK(p) (1U << (p))
enum psi_resource { PSI_NONE, PSI_CPU, PSI_MEMORY, PSI_IO };
enum psi_kind { PSI_SOME, PSI_FULL };

/* What must stay free (min_free_disk, min_free_memory): bytes, or a share
 * of the whole when is_share (min_free_disk = 10%: of the filesystem). */
struct reserve {
        uint64_t bytes;
        ratio_t share;
        uint32_t is_share; /* a bool, a whole word: no padding in struct limits */
};
/* The reserve's bytes out of a whole of total bytes. */
uint64_t reserve_bytes(const struct reserve *r, uint64_t total);
int parse_reserve(const char *value, void *field /* struct reserve */, char *err);

/* Ceilings: in the host policy and, only tighter, in a scenario's [limits]. */
struct limits {
        struct conf_obj hdr;
        uint64_t max_duration;
        uint64_t max_delay;
        ratio_t max_loss;
        ratio_t max_corrupt;    /* corrupt: also within max_loss (receivers drop what it corrupts) */
        uint64_t min_bandwidth; /* bandwidth: the lowest rate a fault may set, bit/s */
        ratio_t max_dns_percent; /* dns: share of matching queries failed, whatever the answer */
        ratio_t max_tcp_reset_percent; /* tcp-reset: share of matching connections reset */
        uint32_t max_kill_count;
        ratio_t max_kill_percent;
        uint32_t min_survivors;
        struct reserve min_free_disk;   /* disk-fill: what its filesystem keeps free */
        struct reserve min_free_memory; /* stress: MemAvailable kept */
        uint64_t max_clock_offset;      /* clock: seconds either way */
        uint32_t allowed_types; /* FAULT_MASK bits */
};

/* The limits by key, in the order of LIMIT_KEYS. */
enum limit_key {
        LIMIT_DURATION,
        LIMIT_DELAY,
        LIMIT_LOSS,
        LIMIT_CORRUPT,
        LIMIT_BANDWIDTH,
        LIMIT_DNS_PERCENT,
        LIMIT_TCP_RESET_PERCENT,
        LIMIT_KILL_COUNT,
        LIMIT_KILL_PERCENT,
        LIMIT_SURVIVORS,
        LIMIT_FREE_DISK,
        LIMIT_FREE_MEMORY,
        LIMIT_CLOCK_OFFSET,
        LIMIT_TYPES,
        _LIMIT_MAX
};

struct scenario_head {
        struct conf_obj hdr;
        char *name;
        char *description;
        uint64_t duration;
        uint64_t steady_state; /* 0: three intervals of the slowest SLO */
        /* How long the run waits for steady state before it gives up
         * (exit 7); 0: the default, max(15s, 3 x steady_state). */
        uint64_t steady_state_timeout;
        uint64_t cooldown;
};

struct target {
        struct conf_obj hdr;
        enum selector sel;
        unsigned sel_line;
        char *unit, *cgroup, *pidfile, *comm, *exe, *exec;
        pid_t pid;
        int optional; /* optional = yes: matching nothing when a window opens is no failure */
};

struct fault {
        struct conf_obj hdr;
        int type; /* index in fault_kinds[] (agent/kind.h), FAULT_TYPE_INVALID until set */
        uint64_t start, duration;
        bool has_duration;
        /* network */
        char *interface;
        int direction;
        uint64_t delay, jitter;
        ratio_t correlation;
        int distribution;
        ratio_t percent; /* loss, corrupt, duplicate, reorder; or share of targets for kill/pause */
        uint64_t rate;   /* bandwidth: bits per second */
        uint32_t burst;  /* loss: mean packets lost in a row (netem's Gilbert-Elliott); 0: independent */
        /* loss, model = 4state: netem's 4-state Markov chain's transition
         * probabilities (state 1: passed in a gap, 2: passed in a burst,
         * 3: lost in a burst, 4: lost alone); faults/loss.c fills the defaults */
        int loss_model;
        ratio_t p13, p31, p32, p23, p14;
        struct cidr_list dst, src;
        struct port_list dport, sport;
        int protocol;
        /* dns: the answer, and the names (suffixes) it is for as written; checked by the kind */
        int answer;
        char *domains;
        /* process and syscall */
        char *target;
        int target_index;
        struct syscall_list syscalls;
        int err;
        ratio_t probability;
        char *path;
        int backend;
        int signal;
        uint32_t count;
        uint64_t every;
        uint32_t min_survivors;
        /* cgroup squeezes (faults/cgroup.c) */
        ratio_t quota;       /* cpu: of one CPU */
        uint64_t high;       /* memory: memory.high, bytes */
        char *device;        /* io: MAJ:MIN or a block device path */
        uint64_t rbps, wbps; /* io: bytes a second */
        uint32_t riops, wiops;
        uint32_t limit;      /* pids: pids.max */
        /* disk-fill (path: the directory; percent: of the filesystem used) */
        uint64_t size;
        /* stress: stress-ng's workers */
        uint32_t cpu, vm, io;
        ratio_t cpu_load;
        uint64_t vm_bytes;   /* each vm worker's */
        ratio_t backoff_psi; /* memory PSI full avg10 at which its workers stop */
        /* clock: the launched target's wall clock offset, seconds */
        int64_t clock_offset;
        /* service (signal: for action = kill) */
        int action;
};

struct slo {
        struct conf_obj hdr;
        int probe;
        char *url, *command, *query;
        struct port_list status;
        int resource, pressure;
        uint64_t interval, timeout, window;
        ratio_t max_error_rate;
        uint64_t max_latency;
        double max, min;
        uint32_t min_samples;
};

/* The most [fault] sections a scenario may hold: each network fault has
 * its own tc priority (faults/net.c), and the run's schedule is a heap of
 * this size. Documented in scenarios/README.md and sabot(1). */
#define SCENARIO_MAX_FAULTS 1024
/* And [target] and [slo] sections: a fault names one target, so more
 * targets than faults can never all be used; each SLO is a probe the run
 * makes every interval (100ms or more). With these, every file that
 * CONF_MAX_FILE lets in is checked in well under 100 ms: sections past a
 * ceiling + 1 are only counted, not parsed. Documented in
 * scenarios/README.md. */
#define SCENARIO_MAX_TARGETS 1024
#define SCENARIO_MAX_SLOS 256

/* Section names of one kind, hashed: duplicates and a fault's target are
 * found in constant time, so a file of many sections checks in linear
 * time. Slots hold an index into the kind's array, plus one (0: empty). */
struct name_index {
        uint32_t *slot;
        size_t cap; /* a power of two, or 0 */
        size_t n;
};

struct scenario {
        char *file;
        struct scenario_head head;
        bool has_head;
        struct limits limits;
        bool has_limits;
        struct target **targets;
        size_t n_targets;
        struct fault **faults;
        size_t n_faults;
        struct slo **slos;
        size_t n_slos;
        struct name_index names[_SEC_MAX]; /* by section kind: targets, faults, slos */
        size_t n_launched;                 /* targets that select by exec */
        /* Sections of a kind past its ceiling + 1: counted for the message,
         * not kept (the one just past the ceiling is, for its name). */
        size_t n_over[_SEC_MAX];
};

/* The index of the target named name in s->targets, or -1. */
int scenario_target_index(const struct scenario *s, const char *name);

extern const struct conf_spec scenario_spec;

/* Every duration in a scenario is at most this (a year): far from the 584
 * years where sums of nanoseconds wrap, and longer than any run. */
#define SCENARIO_DURATION_MAX (366ULL * 24 * 3600 * NSEC_PER_SEC)
/* What the network classifier holds (bpf/net_filter.h), checked when the
 * file is validated rather than when the program is loaded. */
#define SCENARIO_MAX_PORT_RANGES 16
#define SCENARIO_MAX_CIDRS 64
#define SCENARIO_MAX_PROTECTED_PORTS 16 /* the policy's [protect] ports, in the same program */

/* Parse and check a scenario on its own (no host policy). Problems go to d;
 * a scenario is returned whenever memory allows, even with errors, so that
 * callers can report everything at once. */
int scenario_parse(const char *file, const char *buf, size_t len, struct scenario **ret,
                   struct diags *d);
int scenario_load(const char *path, struct scenario **ret, struct diags *d);
/* The same, refusing (-EPERM, with a diagnostic) a file that someone other
 * than root could change or swap: for unattended runs. */
int scenario_load_trusted(const char *path, bool require_trust, struct scenario **ret, struct diags *d);
void scenario_free(struct scenario *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct scenario *, scenario_free);

const char *fault_type_to_string(int t);
/* Every kind: the mask of allowed_types that allows all. */
uint32_t fault_types_all(void);
const char *slo_probe_to_string(int p);
int fault_type_from_string(const char *s);
const char *selector_to_string(enum selector s);
const char *target_value(const struct target *t, char buf[static FORMAT_MAX]);
/* End of a fault's window, from the scenario start. */
uint64_t fault_end(const struct scenario *s, const struct fault *f);

/* For the kinds' checks (struct fault_kind.check): the line where key was
 * set in f (0: unset), whether its value parsed, and "fault 'F' (type = T)
 * needs 'KEY'WHY" on the section's line when it is unset. */
unsigned fault_line(const struct fault *f, const char *key);
bool fault_ok(const struct fault *f, const char *key);
void fault_require(struct scenario *s, const struct fault *f, const char *key, const char *why, struct diags *d);

/* In the key table's "only" field: a [fault] key that only the kinds
 * listing it take (struct fault_kind.keys); 0: every kind takes it. */
#define FAULT_KEY_OF_KIND 1U

/* Shared with the policy file. */
int parse_fault_types(const char *value, void *field /* uint32_t mask */, char *err);
#define LIMIT_KEYS(kind, type)                                                                                            \
        {kind, "max_duration", parse_duration, offsetof(type, max_duration), 0, "duration", "1h",                         \
         "longest scenario duration"},                                                                                    \
        {kind, "max_delay", parse_duration, offsetof(type, max_delay), 0, "duration", "5s",                               \
         "largest added delay (delay + jitter), network or system call"},                                                 \
        {kind, "max_loss", parse_ratio, offsetof(type, max_loss), 0, "percentage", "50%",                                 \
         "largest share of packets lost or corrupted"},                                                                   \
        {kind, "max_corrupt", parse_ratio, offsetof(type, max_corrupt), 0, "percentage", "50%",                      \
         "largest share of packets a corrupt fault damages (it is held to max_loss as well)"},                            \
        {kind, "min_bandwidth", parse_rate, offsetof(type, min_bandwidth), 0, "rate", "1mbit",                          \
         "lowest rate a bandwidth fault may set"},                                                                        \
        {kind, "max_dns_percent", parse_ratio, offsetof(type, max_dns_percent), 0, "percentage", "100%",                  \
         "largest share of matching DNS queries a dns fault fails, timeout included"},                                    \
        {kind, "max_tcp_reset_percent", parse_ratio, offsetof(type, max_tcp_reset_percent), 0, "percentage", "100%",      \
         "largest share of matching TCP connections a tcp-reset fault resets"},                                           \
        {kind, "max_kill_count", parse_uint32, offsetof(type, max_kill_count), 0, "count", "10",                          \
         "most processes killed per strike"},                                                                             \
        {kind, "max_kill_percent", parse_ratio, offsetof(type, max_kill_percent), 0, "percentage", "50%",                 \
         "largest share of a target's processes killed per strike"},                                                      \
        {kind, "min_survivors", parse_uint32, offsetof(type, min_survivors), 0, "count", "1",                             \
         "fewest eligible processes of a target each strike leaves alive"},                                               \
        {kind, "min_free_disk", parse_reserve, offsetof(type, min_free_disk), 0, "size or percentage", "5%",                \
         "disk-fill: free space (df's Avail) a filled filesystem keeps; a size (10G) or a share of it"},                 \
        {kind, "min_free_memory", parse_reserve, offsetof(type, min_free_memory), 0, "size or percentage", "10%",           \
         "stress: MemAvailable kept while memory workers run; a size (2G) or a share of MemTotal"},                      \
        {kind, "max_clock_offset", parse_clock_span, offsetof(type, max_clock_offset), 0, "whole s, m, h or d", "365d",   \
         "clock: the largest offset, ahead or behind, of a launched target's wall clock"},                               \
        {kind, "allowed_types", parse_fault_types, offsetof(type, allowed_types), 0, "list of fault types", "every type", \
         "the fault types scenarios may use"}

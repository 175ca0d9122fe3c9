/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include "../faults/bpf_common.h"
#include "control.h"
#include "prepare.h"
#include "doctor.h"
#include "html.h"
#include "log.h"
#include "plan.h"
#include "policy.h"
#include "run.h"
#include "scenario.h"

#ifndef SABOT_VERSION
#define SABOT_VERSION "0.1.0"
#endif

struct globals {
        const char *policy;
        bool policy_is_default;
        const char *state_dir;
        const char *run_dir;
};

static struct globals G = {
        .policy = POLICY_DEFAULT_PATH,
        .policy_is_default = true,
        .state_dir = "/var/lib/sabot",
        .run_dir = "/run/sabot",
};

struct command {
        const char *name;
        const char *args;
        const char *summary;
        const char *help;
        int (*run)(int argc, char **argv);
};

static const struct command *find_command(const char *name);

static void print_command_help(const struct command *c) {
        printf("Usage: sabot [GLOBAL OPTIONS] %s %s\n\n%s\n\n%s\n", c->name, c->args, c->summary, c->help);
        printf("\nGlobal options:\n"
               "  --policy PATH     host policy (default " POLICY_DEFAULT_PATH "; built-in default if absent)\n"
               "  --state-dir PATH  persistent state: latch, reports (default /var/lib/sabot)\n"
               "  --run-dir PATH    runtime state: journals, locks (default /run/sabot)\n");
}

enum { OPT_POLICY = 0x100, OPT_STATE, OPT_RUN, OPT_VERSION, OPT_REPORT, OPT_YES, OPT_REASON, OPT_JSON, OPT_HTML, OPT_METRICS,
       OPT_SKIP, OPT_REQUIRE_EFFECT };

/* Global options, accepted before or after the command. */
static bool global_option(int o, const char *arg) {
        switch (o) {
        case OPT_POLICY:
                G.policy = arg;
                G.policy_is_default = false;
                return true;
        case OPT_STATE:
                G.state_dir = arg;
                return true;
        case OPT_RUN:
                G.run_dir = arg;
                return true;
        case 'v':
                log_set_max_level(LOG_DEBUG);
                return true;
        }
        return false;
}

#define GLOBAL_OPTIONS                                                                             \
        {"policy", required_argument, NULL, OPT_POLICY}, {"state-dir", required_argument, NULL, OPT_STATE}, \
                {"run-dir", required_argument, NULL, OPT_RUN}, {"verbose", no_argument, NULL, 'v'},          \
                {"help", no_argument, NULL, 'h'}

/* Parse a command's options: its own (handled by `own`, which returns false
 * for an option it does not know), the global ones, and --help. Returns 1
 * after printing help, 0 to go on, negative on a usage error. */
static int parse_command_options(const struct command *c, int argc, char **argv, const struct option *opts,
                                 bool (*own)(int o, const char *arg), int *ret_optind) {
        static const struct option none[] = {GLOBAL_OPTIONS, {}};
        /* 0, not 1: glibc then starts afresh, forgetting main()'s "+" mode,
         * so options may follow the command's arguments. */
        optind = 0;
        int o;
        while ((o = getopt_long(argc, argv, "hv", opts ? opts : none, NULL)) >= 0) {
                if (o == 'h') {
                        print_command_help(c);
                        return 1;
                }
                if (global_option(o, optarg) || (own && own(o, optarg)))
                        continue;
                fprintf(stderr, "Try 'sabot %s --help'.\n", c->name);
                return -EINVAL;
        }
        *ret_optind = optind;
        return 0;
}

/* Load the policy; policy problems are printed. NULL on failure. */
static struct policy *load_policy(struct diags *d) {
        struct policy *p = NULL;
        return prepare_policy(G.policy, G.policy_is_default, &p, d) < 0 ? NULL : p;
}

/* Parse and check one scenario against the policy. Returns the scenario when
 * it is valid, NULL (with diagnostics) otherwise. */
static struct scenario *check_scenario(const char *path, const struct policy *p, struct limits *eff,
                                       struct diags *d) {
        struct scenario *s = NULL;
        int r = prepare_scenario(path, false, p, eff, &s, d);
        if (r == -ENOMEM)
                log_error_errno(r, "%s: out of memory", path);
        return r < 0 ? NULL : s;
}

static int cmd_validate(int argc, char **argv) {
        int i, r = parse_command_options(find_command("validate"), argc, argv, NULL, NULL, &i);
        if (r != 0)
                return r > 0 ? EXIT_HELD : EXIT_INVALID;
        if (i >= argc) {
                log_error("validate: no scenario file given; usage: sabot validate FILE...");
                return EXIT_INVALID;
        }
        struct diags d = {0};
        _cleanup_(policy_freep) struct policy *p = load_policy(&d);
        if (!p) {
                diags_print(&d, stderr);
                diags_free(&d);
                return EXIT_INVALID;
        }
        bool ok = true;
        for (; i < argc; i++) {
                struct diags fd = {0};
                struct limits eff;
                _cleanup_(scenario_freep) struct scenario *s = check_scenario(argv[i], p, &eff, &fd);
                if (s) {
                        /* Explain, without failing, what an unattended run would refuse. */
                        (void)file_is_trusted(argv[i], &fd, DIAG_NOTE);
                        printf("%s: valid: scenario %s, %zu target%s, %zu fault%s, %zu SLO%s\n", argv[i],
                               s->head.name, s->n_targets, s->n_targets == 1 ? "" : "s", s->n_faults,
                               s->n_faults == 1 ? "" : "s", s->n_slos, s->n_slos == 1 ? "" : "s");
                } else
                        ok = false;
                fflush(stdout);
                diags_print(&fd, stderr);
                diags_free(&fd);
        }
        return ok ? EXIT_HELD : EXIT_INVALID;
}

static int cmd_plan(int argc, char **argv) {
        int i, r = parse_command_options(find_command("plan"), argc, argv, NULL, NULL, &i);
        if (r != 0)
                return r > 0 ? EXIT_HELD : EXIT_INVALID;
        if (argc - i != 1) {
                log_error("plan: give exactly one scenario file; usage: sabot plan FILE");
                return EXIT_INVALID;
        }
        struct diags d = {0};
        _cleanup_(policy_freep) struct policy *p = load_policy(&d);
        struct limits eff;
        _cleanup_(scenario_freep) struct scenario *s = p ? check_scenario(argv[i], p, &eff, &d) : NULL;
        if (!s) {
                diags_print(&d, stderr);
                diags_free(&d);
                return EXIT_INVALID;
        }
        _cleanup_(plan_freep) struct plan *pl = NULL;
        r = plan_build(s, p, &eff, &pl, &d);
        if (r < 0) {
                diags_print(&d, stderr);
                diags_free(&d);
                log_error_errno(r, "plan: cannot resolve targets: %m");
                return EXIT_INTERNAL;
        }
        plan_print(pl, stdout);
        fflush(stdout);
        diags_print(&d, stderr);
        /* What this host makes impossible (a missing interface or program,
         * a pidfile naming PID 1): a run would refuse it. */
        r = d.errors ? EXIT_INVALID : EXIT_HELD;
        diags_free(&d);
        return r;
}

static struct dirs dirs(void) { return (struct dirs){.state = G.state_dir, .run = G.run_dir}; }

static const char *opt_report, *opt_reason, *opt_html, *opt_metrics;
static bool opt_yes, opt_json, opt_skip, opt_require_effect;

static bool own_option(int o, const char *arg) {
        switch (o) {
        case OPT_REPORT:
                opt_report = arg;
                return true;
        case OPT_YES:
                opt_yes = true;
                return true;
        case OPT_REASON:
                opt_reason = arg;
                return true;
        case OPT_JSON:
                opt_json = true;
                return true;
        case OPT_HTML:
                opt_html = arg;
                return true;
        case OPT_METRICS:
                opt_metrics = arg;
                return true;
        case OPT_SKIP:
                opt_skip = true;
                return true;
        case OPT_REQUIRE_EFFECT:
                opt_require_effect = true;
                return true;
        }
        return false;
}

static int cmd_run(int argc, char **argv) {
        static const struct option opts[] = {
                GLOBAL_OPTIONS, {"report", required_argument, NULL, OPT_REPORT}, {"yes", no_argument, NULL, OPT_YES},
                {"metrics-file", required_argument, NULL, OPT_METRICS},
                {"skip-unsupported", no_argument, NULL, OPT_SKIP},
                {"require-effect", no_argument, NULL, OPT_REQUIRE_EFFECT}, {}};
        int i, r = parse_command_options(find_command("run"), argc, argv, opts, own_option, &i);
        if (r != 0)
                return r > 0 ? EXIT_HELD : EXIT_INVALID;
        if (argc - i != 1) {
                log_error("run: give exactly one scenario file; usage: sabot run FILE [--report PATH] [--yes]");
                return EXIT_INVALID;
        }
        struct run_opts o = {
                .file = argv[i],
                .report = opt_report,
                .metrics = opt_metrics,
                .policy = G.policy,
                .policy_is_default = G.policy_is_default,
                .dirs = dirs(),
                .yes = opt_yes,
                .skip_unsupported = opt_skip,
                .require_effect = opt_require_effect,
        };
        return run_main(&o);
}

static int cmd_abort(int argc, char **argv) {
        static const struct option opts[] = {GLOBAL_OPTIONS, {"reason", required_argument, NULL, OPT_REASON}, {}};
        int i, r = parse_command_options(find_command("abort"), argc, argv, opts, own_option, &i);
        if (r != 0)
                return r > 0 ? EXIT_HELD : EXIT_INVALID;
        if (i != argc) {
                log_error("abort takes no arguments; usage: sabot abort [--reason TEXT]");
                return EXIT_INVALID;
        }
        struct dirs d = dirs();
        return control_abort(&d, opt_reason);
}

static int cmd_disarm(int argc, char **argv) {
        static const struct option opts[] = {GLOBAL_OPTIONS, {"reason", required_argument, NULL, OPT_REASON}, {}};
        int i, r = parse_command_options(find_command("disarm"), argc, argv, opts, own_option, &i);
        if (r != 0)
                return r > 0 ? EXIT_HELD : EXIT_INVALID;
        struct dirs d = dirs();
        return i == argc ? control_disarm(&d, opt_reason) : EXIT_INVALID;
}

static int cmd_arm(int argc, char **argv) {
        int i, r = parse_command_options(find_command("arm"), argc, argv, NULL, NULL, &i);
        if (r != 0)
                return r > 0 ? EXIT_HELD : EXIT_INVALID;
        struct dirs d = dirs();
        return i == argc ? control_arm(&d) : EXIT_INVALID;
}

static int cmd_status(int argc, char **argv) {
        static const struct option opts[] = {GLOBAL_OPTIONS, {"json", no_argument, NULL, OPT_JSON}, {}};
        int i, r = parse_command_options(find_command("status"), argc, argv, opts, own_option, &i);
        if (r != 0)
                return r > 0 ? EXIT_HELD : EXIT_INVALID;
        struct dirs d = dirs();
        return i == argc ? control_status(&d, opt_json) : EXIT_INVALID;
}

static int cmd_recover(int argc, char **argv) {
        int i, r = parse_command_options(find_command("recover"), argc, argv, NULL, NULL, &i);
        if (r != 0)
                return r > 0 ? EXIT_HELD : EXIT_INVALID;
        struct dirs d = dirs();
        return i == argc ? control_recover(&d) : EXIT_INVALID;
}

static int cmd_report(int argc, char **argv) {
        static const struct option opts[] = {GLOBAL_OPTIONS, {"html", required_argument, NULL, OPT_HTML}, {}};
        int i, r = parse_command_options(find_command("report"), argc, argv, opts, own_option, &i);
        if (r != 0)
                return r > 0 ? EXIT_HELD : EXIT_INVALID;
        if (argc - i != 1 || !opt_html) {
                log_error("report: usage: sabot report RUN.json --html OUT.html");
                return EXIT_INVALID;
        }
        r = report_html(argv[i], opt_html);
        if (r == -EBADMSG) {
                log_error("report: %s is not a sabot run report", argv[i]);
                return EXIT_INVALID;
        }
        if (r < 0)
                return log_error_errno(r, "report: cannot write %s: %m", opt_html), EXIT_INTERNAL;
        printf("%s\n", opt_html);
        return EXIT_HELD;
}

static int cmd_doctor(int argc, char **argv) {
        int i, r = parse_command_options(find_command("doctor"), argc, argv, NULL, NULL, &i);
        if (r != 0)
                return r > 0 ? EXIT_HELD : EXIT_INVALID;
        return i == argc ? doctor_main() : EXIT_INVALID;
}

static const struct command commands[] = {
        {"validate", "FILE...", "Parse scenario files and check them against the host policy.",
         "Prints FILE:LINE: problem; what is allowed, for every problem found. Touches nothing.\n"
         "Also notes when a file could not be used by an unattended run (not owned by root, or\n"
         "writable by others).\n\nExit status: 0 all valid, 2 some invalid.", cmd_validate},
        {"plan", "FILE", "Show what a run of FILE would do on this host, touching nothing.",
         "Resolves targets (unit -> cgroup -> pids, pid, pidfile, comm, exe), interfaces and\n"
         "the effective limits, and prints every fault with its window, matches and the kernel\n"
         "objects it would create. A target that matches nothing is flagged. Checks what 'validate'\n"
         "cannot (it may run elsewhere): interfaces in this network namespace, exec programs,\n"
         "pidfiles.\n\n"
         "Exit status: 0 planned, 2 invalid, over policy or impossible on this host.", cmd_plan},
        {"run", "FILE", "Run a scenario: inject its faults on schedule, revert them, report.",
         "Validates and plans FILE, checks the disarm latch and that no other run is active, shows\n"
         "the plan and asks for confirmation on a terminal (--yes skips it; without a terminal it\n"
         "never asks, and FILE must be owned by root and not writable by others). Every change is\n"
         "journaled under the run dir before it is made; a guardian process reverts it if this run\n"
         "dies or hangs. Ctrl-C or SIGTERM reverts everything. A JSON report is written under the\n"
         "state dir's reports/ and, with --report PATH, to PATH.\n\n"
         "  --report PATH   also write the JSON report to PATH\n"
         "  --metrics-file PATH  write node_exporter textfile metrics (last run, counters)\n"
         "  --yes           do not ask for confirmation\n"
         "  --skip-unsupported  leave out, with a warning, faults this host cannot inject (by\n"
         "                  default the run refuses with exit 6); they show as skipped in the report\n"
         "  --require-effect  a fault that acted on nothing (killed, stopped, dropped, delayed or\n"
         "                  failed nothing) makes a completed run exit 7\n\n"
         "Exit status: 0 held, 3 SLO breach, 4 aborted (kill switch or signal, during start-up\n"
         "too), 5 skipped, benignly (disarmed, another run active, not confirmed), 7 chaos did not\n"
         "happen (steady state not met; a target matched nothing when its fault's window opened,\n"
         "unless optional = yes), 2 invalid or over policy, 6 unsupported here, 1 internal error.\n"
         "In every case but 1, nothing stays applied. A timer counts 5 as success, 7 as failure.", cmd_run},
        {"abort", "", "The kill switch: disarm, stop every run, revert every fault.",
         "Sets the persistent disarm latch, signals every run, reverts at once whatever any journal\n"
         "still holds (also of dead, hung or stopped runs), and prints what it reverted and how\n"
         "long it took. Runs stay refused until 'sabot arm'.\n\n"
         "  --reason TEXT   recorded with the latch\n\n"
         "Exit status: 0 when nothing of sabot's remains applied.", cmd_abort},
        {"arm", "", "Clear the disarm latch: runs may start again.", "Exit status: 0.", cmd_arm},
        {"disarm", "", "Set the disarm latch: no run starts until 'sabot arm'.",
         "The latch persists across reboots (it lives in the state dir).\n\n"
         "  --reason TEXT   recorded with the latch\n\nExit status: 0.", cmd_disarm},
        {"status", "", "Armed or not, active runs, the faults they hold, their SLOs' states.",
         "  --json   machine-readable output\n\nExit status: 0.", cmd_status},
        {"recover", "", "Revert what journals of dead runs still hold.",
         "Run at boot and after a run's unit stops. Journals of live runs are left to them.\n\n"
         "Exit status: 0 when nothing failed.", cmd_recover},
        {"report", "RUN.json", "Render a run's JSON report as a self-contained HTML page.",
         "  --html OUT.html   where to write it (required)\n\n"
         "The page has an SVG timeline per SLO (samples, thresholds, fault windows, the abort)\n"
         "and the fault and event tables; it loads nothing from elsewhere.\n\n"
         "Exit status: 0 written, 2 not a sabot report.", cmd_report},
        {"doctor", "", "Which fault kinds and backends this host supports, by trying.",
         "Tries each mechanism without touching the host (network ones in a throwaway network\n"
         "namespace; eBPF programs that match nothing) and prints the reason and remedy for\n"
         "each that fails. Needs root.\n\nExit status: 0 all supported, 6 some unsupported.", cmd_doctor},
};

static const struct command *find_command(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

static void print_help(void) {
        printf("Usage: sabot [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
               "sabot injects network latency, packet loss, syscall errors and process kills\n"
               "from scenario files, within the host policy's limits.\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                printf("  %-9s %-8s %s\n", commands[i].name, commands[i].args, commands[i].summary);
        printf("\nGlobal options:\n"
               "  --policy PATH     host policy (default " POLICY_DEFAULT_PATH "; built-in default if absent)\n"
               "  --state-dir PATH  persistent state: latch, reports (default /var/lib/sabot)\n"
               "  --run-dir PATH    runtime state: journals, locks (default /run/sabot)\n"
               "  -v, --verbose     debug logging\n"
               "  -h, --help        this help; 'sabot COMMAND --help' for a command\n"
               "  --version         print the version\n\n"
               "The scenario language: scenarios/README.md, sabot-scenario(5).\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {GLOBAL_OPTIONS, {"version", no_argument, NULL, OPT_VERSION}, {}};
        bpf_log_setup();
        int o;
        /* '+': stop at the command; its own options follow it. */
        while ((o = getopt_long(argc, argv, "+hv", opts, NULL)) >= 0) {
                if (global_option(o, optarg))
                        continue;
                switch (o) {
                case OPT_VERSION:
                        printf("sabot %s\n", SABOT_VERSION);
                        return EXIT_HELD;
                case 'h':
                        print_help();
                        return EXIT_HELD;
                default:
                        fprintf(stderr, "Try 'sabot --help'.\n");
                        return EXIT_INVALID;
                }
        }
        if (optind >= argc) {
                print_help();
                return EXIT_INVALID;
        }
        const struct command *c = find_command(argv[optind]);
        if (!c) {
                log_error("unknown command '%s'; see 'sabot --help'", argv[optind]);
                return EXIT_INVALID;
        }
        return c->run(argc - optind, argv + optind);
}

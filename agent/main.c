/* SPDX-License-Identifier: MIT */
#include "../faults/bpf_common.h"
#include "control.h"
#include "prepare.h"
#include "doctor.h"
#include "html.h"
#include "json.h"
#include "log.h"
#include "options.h"
#include "plan_json.h"
#include "policy.h"
#include "run.h"
#include "scenario.h"

#ifndef SABOT_VERSION
#define SABOT_VERSION "0.1.0"
#endif

/* Every option's value, by field: the global ones and each command's. */
struct cli {
        const char *policy, *state_dir, *run_dir;
        bool verbose, help, version;
        const char *report, *reason, *html, *metrics;
        bool yes, json, skip_unsupported, require_effect;
};

static struct cli A;

static const char *policy_path(void) { return A.policy ? A.policy : POLICY_DEFAULT_PATH; }
static bool policy_is_default(void) { return !A.policy; }

/* Options, each declared once. Global ones are taken before or after the
 * command. */
static const struct option_def opt_policy = DEFINE_STRING(
        "policy", struct cli, policy, "PATH",
        "host policy (default " POLICY_DEFAULT_PATH "; built-in default if absent)");
static const struct option_def opt_state_dir = DEFINE_STRING(
        "state-dir", struct cli, state_dir, "PATH", "persistent state: latch, reports (default /var/lib/sabot)");
static const struct option_def opt_run_dir = DEFINE_STRING(
        "run-dir", struct cli, run_dir, "PATH", "runtime state: journals, locks (default /run/sabot)");
static const struct option_def opt_verbose = DEFINE_FLAG("verbose", 'v', struct cli, verbose, "debug logging");
static const struct option_def opt_help = {
        .name = "help", .short_name = 'h', .type = OPTION_FLAG, .offset = offsetof(struct cli, help), .stop = true,
        .help = "this help; 'sabot COMMAND --help' for a command"};
static const struct option_def opt_version = {
        .name = "version", .type = OPTION_FLAG, .offset = offsetof(struct cli, version), .stop = true,
        .help = "print the version"};

static const struct option_def opt_report = DEFINE_STRING(
        "report", struct cli, report, "PATH", "also write the JSON report to PATH");
static const struct option_def opt_metrics = DEFINE_STRING(
        "metrics-file", struct cli, metrics, "PATH", "write node_exporter textfile metrics (last run, counters)");
static const struct option_def opt_yes = DEFINE_FLAG("yes", 0, struct cli, yes, "do not ask for confirmation");
static const struct option_def opt_skip = DEFINE_FLAG(
        "skip-unsupported", 0, struct cli, skip_unsupported,
        "leave out, with a warning, faults this host cannot inject (by\ndefault the run refuses with exit 6); "
        "they show as skipped in the report");
static const struct option_def opt_require_effect = DEFINE_FLAG(
        "require-effect", 0, struct cli, require_effect,
        "a fault that acted on nothing (killed, stopped, dropped, delayed or\nfailed nothing) makes a completed "
        "run exit 7");
static const struct option_def opt_reason = DEFINE_STRING("reason", struct cli, reason, "TEXT",
                                                          "recorded with the latch");
static const struct option_def opt_html = DEFINE_STRING("html", struct cli, html, "OUT.html",
                                                        "where to write it (required)");
static const struct option_def opt_json = DEFINE_FLAG("json", 0, struct cli, json,
                                                      "machine-readable output (agent/schema/)");

static const struct option_def *const global_options[] = {&opt_policy, &opt_state_dir, &opt_run_dir, &opt_verbose,
                                                          &opt_help, NULL};
static const struct option_def *const main_options[] = {&opt_version, NULL};

struct command {
        const char *name;
        const char *args;
        const char *summary;
        const char *help; /* what it does, before its options */
        const char *exit_status;
        const struct option_def *const *opts; /* its own, NULL-terminated; NULL: none */
        /* How many operands it takes (max -1: any number), and what it says
         * otherwise (NULL: "NAME takes no arguments"). */
        int min_args, max_args;
        const char *usage_error;
        int (*run)(int argc, char **argv);
};

static void print_command_help(const struct command *c) {
        printf("Usage: sabot [GLOBAL OPTIONS] %s %s\n\n%s\n", c->name, c->args, c->summary);
        if (c->help)
                printf("\n%s\n", c->help);
        if (c->opts && c->opts[0]) {
                printf("\nOptions:\n");
                options_print_help(c->opts, stdout);
        }
        printf("\nExit status: %s\n", c->exit_status);
        printf("\nGlobal options:\n");
        options_print_help(global_options, stdout);
}

/* Parse a command's options (its own and the global ones) and check its
 * operands. Returns 1 after printing help, 0 to go on, negative on a usage
 * error (said). */
static int command_options(const struct command *c, int argc, char **argv, int *ret_optind) {
        const struct option_set set = {{global_options, c->opts}};
        const struct option_def *stop = NULL;
        int i, r = options_parse(&set, argc, argv, false, &A, &stop, &i);
        if (r > 0) {
                print_command_help(c);
                return 1;
        }
        if (r < 0) {
                fprintf(stderr, "Try 'sabot %s --help'.\n", c->name);
                return -EINVAL;
        }
        if (A.verbose)
                log_set_max_level(LOG_DEBUG);
        int n = argc - i;
        if (n < c->min_args || (c->max_args >= 0 && n > c->max_args)) {
                if (c->usage_error)
                        log_error("%s", c->usage_error);
                else
                        log_error("%s takes no arguments; usage: sabot %s", c->name, c->name);
                return -EINVAL;
        }
        *ret_optind = i;
        return 0;
}

/* Load the policy; policy problems are printed. NULL on failure. */
static struct policy *load_policy(struct diags *d) {
        struct policy *p = NULL;
        return prepare_policy(policy_path(), policy_is_default(), &p, d) < 0 ? NULL : p;
}

/* "-": the scenario is read from standard input, and named so. */
#define STDIN_NAME "<stdin>"

static int load_scenario(const char *path, struct scenario **ret, struct diags *d) {
        if (!streq(path, "-"))
                return scenario_load(path, ret, d);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = read_full_fd(STDIN_FILENO, CONF_MAX_FILE, &buf, &len);
        if (r == -EFBIG)
                diag_error(d, STDIN_NAME, 0, "file is larger than %d bytes", CONF_MAX_FILE);
        else if (r < 0)
                diag_error(d, STDIN_NAME, 0, "cannot read: %s", strerror(-r));
        if (r < 0)
                return r;
        return scenario_parse(STDIN_NAME, buf, len, ret, d);
}

/* Parse and check one scenario against the policy. Returns the scenario when
 * it is valid, NULL (with diagnostics) otherwise. */
static struct scenario *check_scenario(const char *path, const struct policy *p, struct limits *eff,
                                       struct diags *d) {
        _cleanup_(scenario_freep) struct scenario *s = NULL;
        size_t before = d->errors;
        int r = load_scenario(path, &s, d);
        if (r == -ENOMEM)
                log_error_errno(r, "%s: out of memory", path);
        if (r < 0 || !s)
                return NULL;
        policy_check(p, s, eff, d);
        return d->errors > before ? NULL : TAKE_PTR(s);
}

/* Diagnostics: printed, or (--json) into the document's "diagnostics". */
static void diags_out(struct diags *d, struct json_object *doc) {
        if (doc)
                json_add(doc, "diagnostics", json_diags(d));
        else
                diags_print(d, stderr);
}

/* The commands get their operands only: options are parsed already. */
static int cmd_validate(int argc, char **argv) {
        _cleanup_(json_object_putp) struct json_object *doc = A.json ? json_doc_new("validate") : NULL;
        struct json_object *files = NULL;
        if (A.json && !doc)
                return log_error_errno(-ENOMEM, "validate: %m"), EXIT_INTERNAL;
        if (doc)
                json_add(doc, "files", files = json_object_new_array());
        /* Every file's diagnostics in one list (--json), the policy's too. */
        struct diags all = {.want_keys = true};
        struct diags d = {.want_keys = A.json};
        _cleanup_(policy_freep) struct policy *p = load_policy(&d);
        if (!p) {
                diags_out(&d, doc);
                if (doc) {
                        json_add(doc, "valid", json_object_new_boolean(false));
                        (void)json_print(doc, stdout);
                }
                diags_free(&d);
                return EXIT_INVALID;
        }
        bool ok = true;
        for (int i = 0; i < argc; i++) {
                struct diags one = {0}, *fd = doc ? &all : &one;
                struct limits eff;
                _cleanup_(scenario_freep) struct scenario *s = check_scenario(argv[i], p, &eff, fd);
                const char *name = streq(argv[i], "-") ? STDIN_NAME : argv[i];
                if (s) {
                        /* Explain, without failing, what an unattended run would refuse. */
                        if (!streq(argv[i], "-"))
                                (void)file_is_trusted(argv[i], fd, DIAG_NOTE);
                        if (!doc)
                                printf("%s: valid: scenario %s, %zu target%s, %zu fault%s, %zu SLO%s\n", name,
                                       s->head.name, s->n_targets, s->n_targets == 1 ? "" : "s", s->n_faults,
                                       s->n_faults == 1 ? "" : "s", s->n_slos, s->n_slos == 1 ? "" : "s");
                } else
                        ok = false;
                if (doc) {
                        struct json_object *o = json_object_new_object();
                        json_add(o, "file", json_str(name));
                        json_add(o, "valid", json_object_new_boolean(s != NULL));
                        json_add(o, "scenario", json_str(s ? s->head.name : NULL));
                        json_add(o, "targets", s ? json_object_new_int64((int64_t)s->n_targets) : NULL);
                        json_add(o, "faults", s ? json_object_new_int64((int64_t)s->n_faults) : NULL);
                        json_add(o, "slos", s ? json_object_new_int64((int64_t)s->n_slos) : NULL);
                        json_object_array_add(files, o);
                        continue;
                }
                fflush(stdout);
                diags_print(&one, stderr);
                diags_free(&one);
        }
        if (doc) {
                json_add(doc, "valid", json_object_new_boolean(ok));
                diags_out(&all, doc);
                (void)json_print(doc, stdout);
        }
        diags_free(&all);
        diags_free(&d);
        return ok ? EXIT_HELD : EXIT_INVALID;
}

static int cmd_plan(int argc, char **argv) {
        (void)argc;
        _cleanup_(json_object_putp) struct json_object *doc = NULL;
        struct diags d = {.want_keys = A.json};
        _cleanup_(policy_freep) struct policy *p = load_policy(&d);
        struct limits eff;
        _cleanup_(scenario_freep) struct scenario *s = p ? check_scenario(argv[0], p, &eff, &d) : NULL;
        if (!s) {
                if (A.json && (doc = json_doc_new("plan"))) {
                        /* Nothing to plan: only why. */
                        json_add(doc, "runnable", json_object_new_boolean(false));
                        diags_out(&d, doc);
                        (void)json_print(doc, stdout);
                } else
                        diags_print(&d, stderr);
                diags_free(&d);
                return EXIT_INVALID;
        }
        _cleanup_(plan_freep) struct plan *pl = NULL;
        int r = plan_build(s, p, &eff, &pl, &d);
        if (r >= 0)
                r = plan_probe(pl, &d); /* what this host cannot do: a run would exit 6 */
        if (r < 0) {
                diags_print(&d, stderr);
                diags_free(&d);
                log_error_errno(r, "plan: cannot resolve targets: %m");
                return EXIT_INTERNAL;
        }
        if (A.json) {
                doc = plan_json(pl, &d);
                if (!doc || json_print(doc, stdout) < 0) {
                        diags_free(&d);
                        return log_error_errno(-ENOMEM, "plan: cannot write the plan: %m"), EXIT_INTERNAL;
                }
        } else {
                plan_print(pl, stdout);
                fflush(stdout);
                diags_print(&d, stderr);
        }
        /* What this host makes impossible (a missing interface or program,
         * a pidfile naming PID 1): a run would refuse it. */
        r = d.errors ? EXIT_INVALID : EXIT_HELD;
        diags_free(&d);
        return r;
}

static struct dirs dirs(void) {
        return (struct dirs){.state = A.state_dir ? A.state_dir : "/var/lib/sabot",
                             .run = A.run_dir ? A.run_dir : "/run/sabot"};
}

static int cmd_run(int argc, char **argv) {
        (void)argc;
        struct run_opts o = {
                .file = argv[0],
                .report = A.report,
                .metrics = A.metrics,
                .policy = policy_path(),
                .policy_is_default = policy_is_default(),
                .dirs = dirs(),
                .yes = A.yes,
                .skip_unsupported = A.skip_unsupported,
                .require_effect = A.require_effect,
        };
        return run_main(&o);
}

static int cmd_abort(int argc, char **argv) {
        (void)argc, (void)argv;
        struct dirs d = dirs();
        return control_abort(&d, A.reason, A.json);
}

static int cmd_disarm(int argc, char **argv) {
        (void)argc, (void)argv;
        struct dirs d = dirs();
        return control_disarm(&d, A.reason);
}

static int cmd_arm(int argc, char **argv) {
        (void)argc, (void)argv;
        struct dirs d = dirs();
        return control_arm(&d);
}

static int cmd_status(int argc, char **argv) {
        (void)argc, (void)argv;
        struct dirs d = dirs();
        return control_status(&d, A.json);
}

static int cmd_recover(int argc, char **argv) {
        (void)argc, (void)argv;
        struct dirs d = dirs();
        return control_recover(&d);
}

static int cmd_report(int argc, char **argv) {
        (void)argc;
        if (!A.html) {
                log_error("report: usage: sabot report RUN.json --html OUT.html");
                return EXIT_INVALID;
        }
        int r = report_html(argv[0], A.html);
        if (r == -EBADMSG) {
                log_error("report: %s is not a sabot run report", argv[0]);
                return EXIT_INVALID;
        }
        if (r < 0)
                return log_error_errno(r, "report: cannot write %s: %m", A.html), EXIT_INTERNAL;
        printf("%s\n", A.html);
        return EXIT_HELD;
}

static int cmd_doctor(int argc, char **argv) {
        (void)argc, (void)argv;
        return doctor_main(A.json);
}

#define OPTIONS(...) ((const struct option_def *const[]){__VA_ARGS__, NULL})

static const struct command commands[] = {
        {"validate", "FILE...", "Parse scenario files and check them against the host policy.",
         "Prints FILE:LINE: problem; what is allowed, for every problem found. Touches nothing.\n"
         "FILE - reads the scenario from standard input.\n"
         "Also notes when a file could not be used by an unattended run (not owned by root, or\n"
         "writable by others).",
         "0 all valid, 2 some invalid.", OPTIONS(&opt_json), 1, -1,
         "validate: no scenario file given; usage: sabot validate FILE...", cmd_validate},
        {"plan", "FILE", "Show what a run of FILE would do on this host, touching nothing.",
         "Resolves targets (unit -> cgroup -> pids, pid, pidfile, comm, exe), interfaces and\n"
         "the effective limits, and prints every fault with its window, matches and the kernel\n"
         "objects it would create. A target that matches nothing is flagged. Checks what 'validate'\n"
         "cannot (it may run elsewhere): interfaces in this network namespace, exec programs,\n"
         "pidfiles. A fault this host cannot inject (its kind's probe, as a run asks it) is marked,\n"
         "with why: a run would exit 6. FILE - reads the scenario from standard input.",
         "0 planned, 2 invalid, over policy or impossible on this host.", OPTIONS(&opt_json), 1, 1,
         "plan: give exactly one scenario file; usage: sabot plan FILE", cmd_plan},
        {"run", "FILE", "Run a scenario: inject its faults on schedule, revert them, report.",
         "Validates and plans FILE, checks the disarm latch and that no other run is active, shows\n"
         "the plan and asks for confirmation on a terminal (--yes skips it; without a terminal it\n"
         "never asks, and FILE must be owned by root and not writable by others). Every change is\n"
         "journaled under the run dir before it is made; a guardian process reverts it if this run\n"
         "dies or hangs. Ctrl-C or SIGTERM reverts everything. A JSON report is written under the\n"
         "state dir's reports/ and, with --report PATH, to PATH.",
         "0 held, 3 SLO breach, 4 aborted (kill switch or signal, during start-up\n"
         "too), 5 skipped, benignly (disarmed, another run active, not confirmed), 7 chaos did not\n"
         "happen (steady state not met; a target matched nothing when its fault's window opened,\n"
         "unless optional = yes), 2 invalid or over policy, 6 unsupported here, 1 internal error.\n"
         "In every case but 1, nothing stays applied. A timer counts 5 as success, 7 as failure.",
         OPTIONS(&opt_report, &opt_metrics, &opt_yes, &opt_skip, &opt_require_effect), 1, 1,
         "run: give exactly one scenario file; usage: sabot run FILE [--report PATH] [--yes]", cmd_run},
        {"abort", "", "The kill switch: disarm, stop every run, revert every fault.",
         "Sets the persistent disarm latch, signals every run, reverts at once whatever any journal\n"
         "still holds (also of dead, hung or stopped runs), and prints what it reverted and how\n"
         "long it took. Runs stay refused until 'sabot arm'.",
         "0 when nothing of sabot's remains applied.", OPTIONS(&opt_reason, &opt_json), 0, 0,
         "abort takes no arguments; usage: sabot abort [--reason TEXT]", cmd_abort},
        {"arm", "", "Clear the disarm latch: runs may start again.", NULL, "0.", NULL, 0, 0, NULL, cmd_arm},
        {"disarm", "", "Set the disarm latch: no run starts until 'sabot arm'.",
         "The latch persists across reboots (it lives in the state dir).", "0.", OPTIONS(&opt_reason), 0, 0,
         NULL, cmd_disarm},
        {"status", "", "Armed or not, active runs, the faults they hold, their SLOs' states.", NULL, "0.",
         OPTIONS(&opt_json), 0, 0, NULL, cmd_status},
        {"recover", "", "Revert what journals of dead runs still hold.",
         "Run at boot and after a run's unit stops. Journals of live runs are left to them.",
         "0 when nothing failed.", NULL, 0, 0, NULL, cmd_recover},
        {"report", "RUN.json", "Render a run's JSON report as a self-contained HTML page.",
         "The page has an SVG timeline per SLO (samples, thresholds, fault windows, the abort)\n"
         "and the fault and event tables; it loads nothing from elsewhere.",
         "0 written, 2 not a sabot report.", OPTIONS(&opt_html), 1, 1,
         "report: usage: sabot report RUN.json --html OUT.html", cmd_report},
        {"doctor", "", "Which fault kinds and backends this host supports, by trying.",
         "Tries each mechanism without touching the host (network ones in a throwaway network\n"
         "namespace; eBPF programs that match nothing) and prints the reason and remedy for\n"
         "each that fails. Needs root.",
         "0 all supported, 6 some unsupported.", OPTIONS(&opt_json), 0, 0, NULL, cmd_doctor},
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
        printf("\nGlobal options:\n");
        options_print_help(global_options, stdout);
        options_print_help(main_options, stdout);
        printf("\nThe scenario language: scenarios/README.md, sabot-scenario(5).\n");
}

int main(int argc, char **argv) {
        bpf_log_setup();
        const struct option_set set = {{global_options, main_options}};
        const struct option_def *stop = NULL;
        int i = 0;
        /* Stop at the command; its own options follow it. */
        int r = options_parse(&set, argc, argv, true, &A, &stop, &i);
        if (r > 0 && stop == &opt_version) {
                printf("sabot %s\n", SABOT_VERSION);
                return EXIT_HELD;
        }
        if (r > 0) {
                print_help();
                return EXIT_HELD;
        }
        if (r < 0) {
                fprintf(stderr, "Try 'sabot --help'.\n");
                return EXIT_INVALID;
        }
        if (A.verbose)
                log_set_max_level(LOG_DEBUG);
        if (i >= argc) {
                print_help();
                return EXIT_INVALID;
        }
        const struct command *c = find_command(argv[i]);
        if (!c) {
                log_error("unknown command '%s'; see 'sabot --help'", argv[i]);
                return EXIT_INVALID;
        }
        int k;
        r = command_options(c, argc - i, argv + i, &k);
        if (r != 0)
                return r > 0 ? EXIT_HELD : EXIT_INVALID;
        return c->run(argc - i - k, argv + i + k);
}

/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include "log.h"
#include "plan.h"
#include "policy.h"
#include "scenario.h"

#ifndef SABOT_VERSION
#define SABOT_VERSION "0.1.0"
#endif

/* Exit codes of CONTRACT.md. */
enum {
        EXIT_HELD = 0,
        EXIT_INTERNAL = 1,
        EXIT_INVALID = 2,
        EXIT_BREACH = 3,
        EXIT_ABORTED = 4,
        EXIT_REFUSED = 5,
        EXIT_UNSUPPORTED = 6,
};

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

/* Command-local options: only --help; anything else is a usage error. */
static int parse_command_options(const struct command *c, int argc, char **argv, int *ret_optind) {
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        optind = 1;
        int o;
        while ((o = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                if (o == 'h') {
                        print_command_help(c);
                        return 1;
                }
                fprintf(stderr, "Try 'sabot %s --help'.\n", c->name);
                return -EINVAL;
        }
        *ret_optind = optind;
        return 0;
}

/* Load the policy; policy problems are printed. NULL on failure. */
static struct policy *load_policy(struct diags *d) {
        struct policy *p = NULL;
        int r = policy_load(G.policy, G.policy_is_default, &p, d);
        if (r < 0 || d->errors) {
                policy_free(p);
                return NULL;
        }
        return p;
}

/* Parse and check one scenario against the policy. Returns the scenario when
 * it is valid, NULL (with diagnostics) otherwise. */
static struct scenario *check_scenario(const char *path, const struct policy *p, struct limits *eff,
                                       struct diags *d) {
        _cleanup_(scenario_freep) struct scenario *s = NULL;
        size_t before = d->errors;
        int r = scenario_load(path, &s, d);
        if (r == -ENOMEM)
                log_error_errno(r, "%s: out of memory", path);
        if (r < 0 || !s)
                return NULL;
        policy_check(p, s, eff, d);
        return d->errors > before ? NULL : TAKE_PTR(s);
}

static int cmd_validate(int argc, char **argv) {
        int i, r = parse_command_options(find_command("validate"), argc, argv, &i);
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
        int i, r = parse_command_options(find_command("plan"), argc, argv, &i);
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
        diags_free(&d);
        return EXIT_HELD;
}

static const struct command commands[] = {
        {"validate", "FILE...", "Parse scenario files and check them against the host policy.",
         "Prints FILE:LINE: problem; what is allowed, for every problem found. Touches nothing.\n"
         "Also notes when a file could not be used by an unattended run (not owned by root, or\n"
         "writable by others).\n\nExit status: 0 all valid, 2 some invalid.", cmd_validate},
        {"plan", "FILE", "Show what a run of FILE would do on this host, touching nothing.",
         "Resolves targets (unit -> cgroup -> pids, pid, pidfile, comm, exe), interfaces and\n"
         "the effective limits, and prints every fault with its window, matches and the kernel\n"
         "objects it would create. A target that matches nothing is flagged.\n\n"
         "Exit status: 0 planned, 2 invalid or over policy.", cmd_plan},
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
        enum { OPT_POLICY = 0x100, OPT_STATE, OPT_RUN, OPT_VERSION };
        static const struct option opts[] = {
                {"policy", required_argument, NULL, OPT_POLICY},
                {"state-dir", required_argument, NULL, OPT_STATE},
                {"run-dir", required_argument, NULL, OPT_RUN},
                {"version", no_argument, NULL, OPT_VERSION},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int o;
        /* '+': stop at the command; its own options follow it. */
        while ((o = getopt_long(argc, argv, "+hv", opts, NULL)) >= 0) {
                switch (o) {
                case OPT_POLICY:
                        G.policy = optarg;
                        G.policy_is_default = false;
                        break;
                case OPT_STATE:
                        G.state_dir = optarg;
                        break;
                case OPT_RUN:
                        G.run_dir = optarg;
                        break;
                case OPT_VERSION:
                        printf("sabot %s\n", SABOT_VERSION);
                        return EXIT_HELD;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
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

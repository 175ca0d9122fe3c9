/* SPDX-License-Identifier: MIT */
/* The manual's tables, from the tables the code parses with: every key of
 * the scenario and policy files (struct conf_key: type and range, default,
 * description), every fault kind and the keys it takes (struct
 * fault_kind), and the CLI's commands and options (agent/main.c). So a key,
 * a kind or an option cannot be added without appearing here.
 *
 *   gen-man TEMPLATE > PAGE   copy TEMPLATE, replacing each marker line
 *                             (@SCENARIO_KEYS SECTION@, @FAULT_KINDS@,
 *                             @POLICY_KEYS SECTION@, @COMMANDS@, @OPTIONS@)
 *                             with its table in roff; the rest, prose, is
 *                             hand-written
 *   gen-man --keys            every key the parsers accept, a line each:
 *                             "scenario SECTION KEY", "fault KIND KEY",
 *                             "slo PROBE KEY", "policy SECTION KEY"
 *
 * The command and option tables are static in agent/main.c: it is
 * compiled in here, its main() renamed, rather than moved or copied. */
#include <stdarg.h>

#define main sabot_main
int sabot_main(int argc, char **argv);
#include "../../agent/main.c"
#undef main

/* Roff text, filled to lines of at most TEXT_WIDTH bytes (mandoc's style
 * check wants 80): '-' as \-, '\' as \e, '"' in macro arguments as \(dq,
 * a line that would start with '.' or '\'' guarded. */
#define TEXT_WIDTH 78
static size_t col; /* bytes on the current text line */

static void escape(char *buf, size_t len, const char *w, size_t n, bool in_quotes) {
        size_t o = 0;
        for (size_t i = 0; i < n && o + 5 < len; i++) {
                const char *rep = w[i] == '-' ? "\\-" : w[i] == '\\' ? "\\e" : w[i] == '"' && in_quotes ? "\\(dq" : NULL;
                if (rep)
                        o += (size_t)snprintf(buf + o, len - o, "%s", rep);
                else
                        buf[o++] = w[i];
        }
        buf[o] = '\0';
}

/* Pre-escaped text as one unbreakable word. */
static void word(FILE *out, const char *esc) {
        size_t l = strlen(esc);
        if (col && col + 1 + l > TEXT_WIDTH) {
                fputc('\n', out);
                col = 0;
        } else if (col) {
                fputc(' ', out);
                col++;
        }
        if (!col && (*esc == '.' || *esc == '\'')) {
                fputs("\\&", out);
                col += 2;
        }
        fputs(esc, out);
        col += l;
}

static void roff(FILE *out, const char *s) {
        while (*s) {
                s += strspn(s, " \n\t");
                size_t n = strcspn(s, " \n\t");
                if (!n)
                        break;
                char buf[1024];
                escape(buf, sizeof buf, s, n, false);
                word(out, buf);
                s += n;
        }
}

static void end_line(FILE *out) {
        if (col)
                fputc('\n', out);
        col = 0;
}

/* A macro line: .MACRO "ARG" "ARG"... (NULL ends them). */
static void macro(FILE *out, const char *m, ...) {
        end_line(out);
        va_list ap;
        va_start(ap, m);
        fprintf(out, ".%s", m);
        for (const char *a; (a = va_arg(ap, const char *));) {
                char buf[1024];
                escape(buf, sizeof buf, a, strlen(a), true);
                fprintf(out, " \"%s\"", buf);
        }
        va_end(ap);
        fputc('\n', out);
}

/* A sentence of s: upper-case first letter, a full stop unless it ends in one. */
static void sentence(FILE *out, const char *s) {
        if (!s || !*s)
                return;
        char buf[1024];
        snprintf(buf, sizeof buf, "%s%s", s, s[strlen(s) - 1] == '.' ? "" : ".");
        if (buf[0] >= 'a' && buf[0] <= 'z')
                buf[0] = (char)(buf[0] - 'a' + 'A');
        roff(out, buf);
}

/* A table row the manual cannot be made from: the build stops, naming it. */
static int undocumented(const char *what, const char *name, const char *fix) {
        fprintf(stderr, "gen-man: %s '%s' is not documented: %s\n", what, name, fix);
        return -EINVAL;
}

static int key_entry_as(FILE *out, const struct conf_key *k, const char *extra, const char *def_override,
                        const struct fault_key_doc *own);

/* One key: tag "key = type", then what it does, its default and where it
 * applies (extra, or NULL). def_override: the section's defaults, said
 * once for all (the scenario's [limits]: the policy's). */
static int key_entry(FILE *out, const struct conf_key *k, const char *extra, const char *def_override) {
        return key_entry_as(out, k, extra, def_override, NULL);
}

/* The same, in a kind's own words where it has them (fault_kind.key_docs). */
static int key_entry_as(FILE *out, const struct conf_key *k, const char *extra, const char *def_override,
                        const struct fault_key_doc *own) {
        const char *def = own && own->def ? own->def : def_override ? def_override : k->def;
        const char *desc = own && own->desc ? own->desc : k->desc;
        if (!k->help || !def || !desc || !*desc)
                return undocumented("key", k->key, "give its row type and range, default and description");
        char tag[128];
        snprintf(tag, sizeof tag, "%s = ", k->key);
        macro(out, "TP", NULL);
        macro(out, "BI", tag, k->help, NULL);
        sentence(out, desc);
        roff(out, "Default:");
        char d[256];
        snprintf(d, sizeof d, "%s.", def);
        roff(out, d);
        if (extra)
                roff(out, extra);
        end_line(out);
        return 0;
}

static int section_kind(const struct conf_spec *spec, const char *word) {
        for (size_t i = 0; i < spec->n_kinds; i++)
                if (spec->kinds[i] && streq(spec->kinds[i], word))
                        return (int)i;
        return -1;
}

static const struct conf_key *find_key(const struct conf_spec *spec, int kind, const char *key) {
        int i = conf_key_index(spec, kind, key);
        return i < 0 ? NULL : &spec->keys[i];
}

/* "probes: http, prometheus" from an slo key's mask. */
static void probes_of(uint32_t mask, char *buf, size_t len) {
        snprintf(buf, len, "Only with probe = ");
        bool first = true;
        for (int p = 1; p < 32; p++)
                if (mask & PROBE_MASK(p)) {
                        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", first ? "" : " or ",
                                 slo_probe_to_string(p));
                        first = false;
                }
        snprintf(buf + strlen(buf), len - strlen(buf), ".");
}

/* The keys of one section of spec, in the table's order; for [fault], the
 * keys every kind takes (the others are under each kind). */
static int section_keys(FILE *out, const struct conf_spec *spec, const char *word, const char *def_override) {
        int kind = section_kind(spec, word);
        if (kind < 0) {
                fprintf(stderr, "gen-man: no section [%s]\n", word);
                return -EINVAL;
        }
        bool is_fault = spec == &scenario_spec && kind == SEC_FAULT;
        bool is_slo = spec == &scenario_spec && kind == SEC_SLO;
        for (size_t i = 0; i < spec->n_keys; i++) {
                const struct conf_key *k = &spec->keys[i];
                if (k->kind != kind || (is_fault && (k->only & FAULT_KEY_OF_KIND)))
                        continue;
                char extra[128];
                if (is_slo && k->only)
                        probes_of(k->only, extra, sizeof extra);
                int r = key_entry(out, k, is_slo && k->only ? extra : NULL, def_override);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Every kind of the registry, with the keys it takes beyond those of
 * every [fault]. */
static int fault_kinds_section(FILE *out) {
        for (size_t t = 0; t < n_fault_kinds; t++) {
                const struct fault_kind *fk = fault_kinds[t];
                char title[128];
                snprintf(title, sizeof title, "type = %s", fk->name);
                macro(out, "SS", title, NULL);
                if (!fk->summary)
                        return undocumented("fault kind", fk->name, "set .kind.summary in its faults/*.c");
                sentence(out, fk->summary);
                if (!fk->keys || !fk->keys[0]) {
                        roff(out, "It takes no keys beyond those of every fault.");
                        end_line(out);
                        continue;
                }
                end_line(out);
                for (const char *const *p = fk->keys; *p; p++) {
                        const struct conf_key *k = find_key(&scenario_spec, SEC_FAULT, *p);
                        if (!k) {
                                fprintf(stderr, "gen-man: kind %s takes '%s', which the key table lacks\n",
                                        fk->name, *p);
                                return -EINVAL;
                        }
                        const struct fault_key_doc *own = NULL;
                        for (const struct fault_key_doc *o = fk->key_docs; o && o->key && !own; o++)
                                if (streq(o->key, *p))
                                        own = o;
                        int r = key_entry_as(out, k, NULL, NULL, own);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* "-v, --verbose" or "--policy PATH", in words (escaped later). */
static void option_name(const struct option_def *d, char *buf, size_t len) {
        snprintf(buf, len, "%s%s%s--%s", d->short_name ? "-" : "", d->short_name ? (char[]){d->short_name, 0} : "",
                 d->short_name ? ", " : "", d->name);
}

static void option_entry(FILE *out, const struct option_def *d, const char *commands_with) {
        char name[128];
        option_name(d, name, sizeof name);
        macro(out, "TP", NULL);
        if (d->metavar) {
                strncat(name, " ", sizeof name - strlen(name) - 1);
                macro(out, "BI", name, d->metavar, NULL);
        } else
                macro(out, "B", name, NULL);
        sentence(out, d->help);
        if (commands_with) {
                char with[300];
                snprintf(with, sizeof with, "Taken by %s.", commands_with);
                roff(out, with);
        }
        end_line(out);
}

static void options_section(FILE *out) {
        macro(out, "SS", "Global options", NULL);
        roff(out, "Taken before or after the command.");
        for (const struct option_def *const *p = global_options; *p; p++)
                option_entry(out, *p, NULL);
        for (const struct option_def *const *p = main_options; *p; p++)
                option_entry(out, *p, "sabot alone, before a command");
        macro(out, "SS", "Options of the commands", NULL);
        /* Each option once, with the commands that take it. */
        const struct option_def *seen[64];
        size_t n_seen = 0;
        for (size_t c = 0; c < ELEMENTSOF(commands); c++)
                for (const struct option_def *const *p = commands[c].opts; p && *p; p++) {
                        bool dup = false;
                        for (size_t s = 0; s < n_seen; s++)
                                dup |= seen[s] == *p;
                        if (dup || n_seen == ELEMENTSOF(seen))
                                continue;
                        seen[n_seen++] = *p;
                        char with[256] = "";
                        for (size_t c2 = 0; c2 < ELEMENTSOF(commands); c2++)
                                for (const struct option_def *const *q = commands[c2].opts; q && *q; q++)
                                        if (*q == *p)
                                                snprintf(with + strlen(with), sizeof with - strlen(with), "%s%s",
                                                         with[0] ? ", " : "", commands[c2].name);
                        option_entry(out, *p, with);
                }
}

static void commands_section(FILE *out) {
        for (size_t c = 0; c < ELEMENTSOF(commands); c++) {
                const struct command *cm = &commands[c];
                char name[64];
                snprintf(name, sizeof name, "%s%s", cm->name, *cm->args ? " " : "");
                macro(out, "TP", NULL);
                if (*cm->args)
                        macro(out, "BI", name, cm->args, NULL);
                else
                        macro(out, "B", name, NULL);
                sentence(out, cm->summary);
                if (cm->help)
                        roff(out, cm->help);
                if (cm->opts && cm->opts[0]) {
                        char opts[512] = "Options:";
                        for (const struct option_def *const *p = cm->opts; *p; p++) {
                                char o[128];
                                option_name(*p, o, sizeof o);
                                snprintf(opts + strlen(opts), sizeof opts - strlen(opts), " %s%s%s%s", o,
                                         (*p)->metavar ? " " : "", (*p)->metavar ? (*p)->metavar : "", p[1] ? "," : ".");
                        }
                        roff(out, opts);
                }
                roff(out, "Exit status:");
                sentence(out, cm->exit_status);
                end_line(out);
        }
}

static void list_keys(void) {
        for (size_t i = 0; i < scenario_spec.n_keys; i++) {
                const struct conf_key *k = &scenario_spec.keys[i];
                if (k->kind == SEC_FAULT && (k->only & FAULT_KEY_OF_KIND))
                        continue;
                if (k->kind == SEC_SLO && k->only) {
                        for (int p = 1; p < 32; p++)
                                if (k->only & PROBE_MASK(p))
                                        printf("slo %s %s\n", slo_probe_to_string(p), k->key);
                        continue;
                }
                printf("scenario %s %s\n", scenario_spec.kinds[k->kind], k->key);
        }
        for (size_t t = 0; t < n_fault_kinds; t++)
                for (const char *const *p = fault_kinds[t]->keys; p && *p; p++)
                        printf("fault %s %s\n", fault_kinds[t]->name, *p);
        for (size_t i = 0; i < policy_spec.n_keys; i++)
                printf("policy %s %s\n", policy_spec.kinds[policy_spec.keys[i].kind], policy_spec.keys[i].key);
}

static int expand(FILE *in, FILE *out) {
        char line[4096];
        while (fgets(line, sizeof line, in)) {
                char what[64] = "", arg[64] = "";
                int r = 0;
                if (line[0] != '@' || sscanf(line, "@%63[A-Z_] %63[a-z]@", what, arg) < 1) {
                        fputs(line, out);
                        continue;
                }
                if (streq(what, "SCENARIO_KEYS"))
                        r = section_keys(out, &scenario_spec, arg,
                                         streq(arg, "limits") ? "the host policy's (see sabot-policy(5))" : NULL);
                else if (streq(what, "POLICY_KEYS"))
                        r = section_keys(out, &policy_spec, arg, NULL);
                else if (streq(what, "FAULT_KINDS"))
                        r = fault_kinds_section(out);
                else if (streq(what, "COMMANDS"))
                        commands_section(out);
                else if (streq(what, "OPTIONS"))
                        options_section(out);
                else
                        fputs(line, out); /* @VERSION@ and the like: the Makefile's */
                end_line(out);
                if (r < 0)
                        return r;
        }
        return ferror(in) ? -EIO : 0;
}

int main(int argc, char **argv) {
        if (argc == 2 && streq(argv[1], "--keys")) {
                list_keys();
                return fflush(stdout) == 0 ? 0 : 1;
        }
        if (argc != 2) {
                fprintf(stderr, "usage: gen-man TEMPLATE > PAGE | gen-man --keys\n");
                return 2;
        }
        FILE *in = fopen(argv[1], "re");
        if (!in) {
                fprintf(stderr, "gen-man: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        int r = expand(in, stdout);
        fclose(in);
        if (r < 0 || fflush(stdout) != 0)
                return 1;
        return 0;
}

/* SPDX-License-Identifier: MIT */
/* The key tables the man pages are made from (packaging/man/gen-man.c):
 * every row documented, every kind summarized and its keys in the table,
 * and the policy's documented defaults are its defaults. */
#include "../../faults/registry.h"
#include "testutil.h"

static bool said(const char *s) { return s && *s; }

START_TEST(test_every_row_documented) {
        const struct conf_spec *specs[] = {&scenario_spec, &policy_spec};
        for (size_t s = 0; s < ELEMENTSOF(specs); s++)
                for (size_t i = 0; i < specs[s]->n_keys; i++) {
                        const struct conf_key *k = &specs[s]->keys[i];
                        ck_assert_msg(said(k->help) && said(k->def) && said(k->desc),
                                      "[%s] %s: its type, default or description is missing", specs[s]->kinds[k->kind],
                                      k->key);
                }
}
END_TEST

START_TEST(test_every_kind_summarized) {
        for (size_t t = 0; t < n_fault_kinds; t++) {
                const struct fault_kind *fk = fault_kinds[t];
                ck_assert_msg(said(fk->summary), "kind %s has no .kind.summary", fk->name);
                for (const char *const *p = fk->keys; p && *p; p++) {
                        int i = conf_key_index(&scenario_spec, SEC_FAULT, *p);
                        ck_assert_msg(i >= 0, "kind %s takes '%s', which the key table lacks", fk->name, *p);
                        ck_assert_msg(scenario_spec.keys[i].only & FAULT_KEY_OF_KIND,
                                      "kind %s lists '%s', which every kind takes", fk->name, *p);
                }
                for (const struct fault_key_doc *o = fk->key_docs; o && o->key; o++) {
                        bool takes = false;
                        for (const char *const *p = fk->keys; p && *p; p++)
                                takes |= streq(*p, o->key);
                        ck_assert_msg(takes, "kind %s documents '%s', which it does not take", fk->name, o->key);
                        ck_assert_msg(said(o->def) && said(o->desc), "kind %s: '%s' without a default or description",
                                      fk->name, o->key);
                }
        }
}
END_TEST

static void *section_of(struct policy *p, int kind) {
        return kind == POL_LIMITS ? (void *)&p->limits : kind == POL_PROTECT ? (void *)&p->protect : (void *)&p->probes;
}

/* A policy file of every key set to its documented default parses to the
 * built-in default; the defaults documented in words ("none", "every
 * type") are the empty list and every type. */
START_TEST(test_policy_defaults_documented) {
        char text[4096] = "";
        int sec = -1;
        struct policy *def = policy_new_default();
        ck_assert_ptr_nonnull(def);
        for (size_t i = 0; i < policy_spec.n_keys; i++) {
                const struct conf_key *k = &policy_spec.keys[i];
                char *field = (char *)section_of(def, k->kind) + k->offset;
                if (streq(k->def, "none")) {
                        ck_assert_msg(k->parse == parse_ifname_list || k->parse == parse_unit_list ||
                                              k->parse == parse_comm_list,
                                      "%s: 'none' documented for a key that is no list", k->key);
                        ck_assert_msg(((struct strv *)field)->n == 0, "%s: documented none, default is not empty",
                                      k->key);
                        continue;
                }
                if (streq(k->def, "every type")) {
                        ck_assert_msg(k->parse == parse_fault_types && *(uint32_t *)field == fault_types_all(),
                                      "%s: documented every type, the default is not", k->key);
                        continue;
                }
                if (k->kind != sec)
                        snprintf(text + strlen(text), sizeof text - strlen(text), "[%s]\n",
                                 policy_spec.kinds[sec = k->kind]);
                snprintf(text + strlen(text), sizeof text - strlen(text), "%s = %s\n", k->key, k->def);
        }
        struct diags d = {0};
        struct policy *p = NULL;
        ck_assert_int_eq(policy_parse("doc.ini", text, strlen(text), &p, &d), 0);
        if (d.errors)
                diags_print(&d, stderr);
        ck_assert_msg(d.errors == 0, "a documented default does not parse:\n%s", text);
        ck_assert_mem_eq(&((char *)&p->limits)[sizeof(struct conf_obj)], &((char *)&def->limits)[sizeof(struct conf_obj)],
                         sizeof(struct limits) - sizeof(struct conf_obj));
        char *a = format_port_list(&p->protect.ports), *b = format_port_list(&def->protect.ports);
        ck_assert_str_eq(a, b);
        free(a), free(b);
        const struct strv *pv[] = {&p->protect.units, &p->protect.comms, &p->protect.interfaces};
        const struct strv *dv[] = {&def->protect.units, &def->protect.comms, &def->protect.interfaces};
        for (size_t i = 0; i < ELEMENTSOF(pv); i++) {
                a = format_strv(pv[i]), b = format_strv(dv[i]);
                ck_assert_str_eq(a, b);
                free(a), free(b);
        }
        ck_assert_str_eq(p->probes.user, def->probes.user);
        diags_free(&d);
        policy_free(p);
        policy_free(def);
}
END_TEST

/* The section object of a scenario with one section of kind, holding
 * KEY = VALUE when key is set (errors or not: only the field counts). */
static struct conf_obj *one_section(struct scenario **s, const struct conf_key *k, const char *value) {
        char text[1024] = "[scenario]\nname = x\nduration = 10s\n";
        const char *kind = scenario_spec.kinds[k->kind];
        if (k->kind == SEC_FAULT) {
                const char *type = fault_kinds[0]->name;
                for (size_t t = 0; (k->only & FAULT_KEY_OF_KIND) && t < n_fault_kinds; t++)
                        for (const char *const *p = fault_kinds[t]->keys; p && *p; p++)
                                if (streq(*p, k->key))
                                        type = fault_kinds[t]->name, t = n_fault_kinds - 1;
                snprintf(text + strlen(text), sizeof text - strlen(text), "[fault f]\ntype = %s\n", type);
        } else if (k->kind == SEC_SLO) {
                int probe = PROBE_HTTP;
                while (k->only && !(k->only & PROBE_MASK(probe)))
                        probe++;
                snprintf(text + strlen(text), sizeof text - strlen(text), "[slo s]\nprobe = %s\n",
                         slo_probe_to_string(probe));
        } else if (k->kind == SEC_TARGET)
                snprintf(text + strlen(text), sizeof text - strlen(text), "[target t]\ncomm = x\n");
        else if (k->kind != SEC_SCENARIO)
                snprintf(text + strlen(text), sizeof text - strlen(text), "[%s]\n", kind);
        if (value && !strstr(text, k->key))
                snprintf(text + strlen(text), sizeof text - strlen(text), "%s = %s\n", k->key, value);
        struct diags d = {0};
        (void)scenario_parse("t.ini", text, strlen(text), s, &d);
        diags_free(&d);
        ck_assert_ptr_nonnull(*s);
        switch (k->kind) {
        case SEC_SCENARIO: return &(*s)->head.hdr;
        case SEC_LIMITS: return &(*s)->limits.hdr;
        case SEC_TARGET: return &(*s)->targets[0]->hdr;
        case SEC_FAULT: return &(*s)->faults[0]->hdr;
        default: return &(*s)->slos[0]->hdr;
        }
}

/* The bytes of key k's field: up to the next field of the table in the
 * same section, at most 8 (the scalars'). */
static size_t field_size(const struct conf_key *k) {
        size_t size = k->kind == SEC_SCENARIO ? sizeof(struct scenario_head)
                      : k->kind == SEC_TARGET ? sizeof(struct target)
                      : k->kind == SEC_FAULT  ? sizeof(struct fault)
                                              : sizeof(struct slo);
        size_t n = size - k->offset < 8 ? size - k->offset : 8;
        for (size_t i = 0; i < scenario_spec.n_keys; i++) {
                const struct conf_key *o = &scenario_spec.keys[i];
                if (o->kind == k->kind && o->offset > k->offset && o->offset - k->offset < n)
                        n = o->offset - k->offset;
        }
        return n;
}

/* A scenario key whose documented default is a value its parser takes
 * gets that value when it is left out. (Defaults in words, "required",
 * "none", "10 x interval", and values held by pointer are not asked.) */
START_TEST(test_scenario_defaults_documented) {
        unsigned asked = 0;
        for (size_t i = 0; i < scenario_spec.n_keys; i++) {
                const struct conf_key *k = &scenario_spec.keys[i];
                if (k->kind == SEC_LIMITS)
                        continue; /* the policy's: test_policy_defaults_documented */
                if (streq(k->def, "required"))
                        continue; /* and the sections below set them */
                struct scenario *a = NULL, *b = NULL, *b2 = NULL;
                struct conf_obj *unset = one_section(&a, k, NULL), *set = one_section(&b, k, k->def),
                                *set2 = one_section(&b2, k, k->def);
                size_t n = field_size(k);
                const char *fa = (char *)unset + k->offset, *fb = (char *)set + k->offset,
                           *fb2 = (char *)set2 + k->offset;
                /* Set, parsed, and not a pointer (the same bytes twice). */
                if (conf_ok(&scenario_spec, set, k->key) && memcmp(fb, fb2, n) == 0) {
                        ck_assert_msg(memcmp(fa, fb, n) == 0,
                                      "[%s] %s: documented default '%s' is not what it gets when left out",
                                      scenario_spec.kinds[k->kind], k->key, k->def);
                        asked++;
                }
                scenario_free(a), scenario_free(b), scenario_free(b2);
        }
        ck_assert_uint_ge(asked, 8);
}
END_TEST

int main(void) {
        Suite *s = suite_create("keydocs");
        TCase *tc = tcase_create("keydocs");
        tcase_add_test(tc, test_every_row_documented);
        tcase_add_test(tc, test_every_kind_summarized);
        tcase_add_test(tc, test_policy_defaults_documented);
        tcase_add_test(tc, test_scenario_defaults_documented);
        suite_add_tcase(s, tc);
        return run_suite(s);
}

/* SPDX-License-Identifier: MIT */
/* `sabot plan --json`: the plan as data. What each fault would do is its
 * kind's own text (the lines plan_print writes under it), so that this
 * file names no fault kind. */
#include "plan_json.h"
#include "run.h" /* EXIT_UNSUPPORTED */

static struct json_object *strv_json(const struct strv *v) {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < v->n; i++)
                json_object_array_add(a, json_str(v->v[i]));
        return a;
}

static struct json_object *ports_json(const struct port_list *l) {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < l->n; i++) {
                struct json_object *r = json_object_new_array_ext(2);
                json_object_array_add(r, json_object_new_int(l->v[i].lo));
                json_object_array_add(r, json_object_new_int(l->v[i].hi));
                json_set_inline(r);
                json_object_array_add(a, r);
        }
        return a;
}

static double percent(ratio_t r) { return (double)r / RATIO_ONE * 100; }

/* The lines plan_print writes under each fault, by fault. */
static struct json_object **fault_lines(const struct plan *pl) {
        size_t n = pl->s->n_faults;
        struct json_object **v = calloc(n + 1, sizeof *v);
        if (!v)
                return NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return v;
        plan_print(pl, f);
        fclose(f);
        char *p = text ? strstr(text, "\nfaults\n") : NULL;
        ssize_t cur = -1;
        for (char *save = NULL, *line = p ? strtok_r(p + 8, "\n", &save) : NULL; line && *line != '\0';
             line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "      ", 6) == 0) {
                        if (cur >= 0 && (size_t)cur < n) {
                                if (!v[cur])
                                        v[cur] = json_object_new_array();
                                json_object_array_add(v[cur], json_str(line + 6));
                        }
                } else if (strncmp(line, "  ", 2) == 0)
                        cur++;
                else
                        break; /* the next section */
        }
        return v;
}

/* What this host cannot do for a fault (a run exits 6), or null. */
static struct json_object *unsupported_json(const struct resolved_fault *rf) {
        if (!rf->unsupported)
                return NULL;
        struct json_object *u = json_object_new_object();
        json_add(u, "why", json_str(rf->unsupported));
        json_add(u, "run_exit", json_object_new_int(EXIT_UNSUPPORTED));
        return u;
}

struct json_object *plan_json(const struct plan *pl, struct diags *d) {
        const struct scenario *s = pl->s;
        struct json_object *doc = json_doc_new("plan"), *o, *a;
        if (!doc)
                return NULL;
        json_add(doc, "scenario", o = json_object_new_object());
        json_add(o, "name", json_str(s->head.name));
        json_add(o, "file", json_str(s->file));
        json_add(o, "description", json_str(s->head.description));
        json_add(o, "duration_ms", json_ms(s->head.duration));

        json_add(doc, "policy", o = json_object_new_object());
        json_add(o, "path", json_str(pl->p->path));
        struct json_object *l = json_object_new_object();
        json_add(o, "limits", l);
        json_add(l, "max_duration_ms", json_ms(pl->eff.max_duration));
        json_add(l, "max_delay_ms", json_ms(pl->eff.max_delay));
        json_add_number(l, "max_loss", percent(pl->eff.max_loss));
        json_add_number(l, "max_corrupt", percent(pl->eff.max_corrupt));
        json_add(l, "min_bandwidth_bps", json_object_new_int64((int64_t)pl->eff.min_bandwidth));
        json_add_number(l, "max_dns_percent", percent(pl->eff.max_dns_percent));
        json_add_number(l, "max_tcp_reset_percent", percent(pl->eff.max_tcp_reset_percent));
        json_add(l, "max_kill_count", json_object_new_int64(pl->eff.max_kill_count));
        json_add_number(l, "max_kill_percent", percent(pl->eff.max_kill_percent));
        json_add(l, "min_survivors", json_object_new_int64(pl->eff.min_survivors));
        const struct reserve *rv[2] = {&pl->eff.min_free_disk, &pl->eff.min_free_memory};
        static const char *const rk[2] = {"min_free_disk", "min_free_memory"};
        for (int k = 0; k < 2; k++) {
                struct json_object *r = json_object_new_object();
                json_add(l, rk[k], r);
                json_add(r, "bytes", rv[k]->is_share ? NULL : json_object_new_int64((int64_t)rv[k]->bytes));
                if (rv[k]->is_share)
                        json_add_number(r, "percent", percent(rv[k]->share));
                else
                        json_add(r, "percent", NULL);
        }
        json_add(l, "max_clock_offset_s", json_object_new_int64((int64_t)pl->eff.max_clock_offset));
        json_add(l, "allowed_types", a = json_object_new_array());
        for (size_t t = 0; t < n_fault_kinds; t++)
                if (pl->eff.allowed_types & FAULT_MASK(t))
                        json_object_array_add(a, json_str(fault_type_to_string((int)t)));
        struct json_object *pr = json_object_new_object();
        json_add(o, "protected", pr);
        json_add(pr, "ports", ports_json(&pl->p->protect.ports));
        json_add(pr, "units", strv_json(&pl->p->protect.units));
        json_add(pr, "comms", strv_json(&pl->p->protect.comms));
        json_add(pr, "interfaces", strv_json(&pl->p->protect.interfaces));
        json_add(doc, "cgroup2", json_str(pl->cgroup_root));

        json_add(doc, "targets", a = json_object_new_array());
        for (size_t i = 0; i < s->n_targets; i++) {
                const struct resolved_target *rt = &pl->targets[i];
                char buf[FORMAT_MAX];
                json_object_array_add(a, o = json_object_new_object());
                json_add(o, "name", json_str(rt->t->hdr.name));
                json_add(o, "selector", json_str(selector_to_string(rt->t->sel)));
                json_add(o, "value", json_str(target_value(rt->t, buf)));
                json_add(o, "cgroup", json_str(rt->cgroup));
                struct json_object *pids = json_object_new_array(), *ex = json_object_new_array();
                for (size_t k = 0; k < rt->n_pids; k++)
                        json_object_array_add(pids, json_object_new_int((int)rt->pids[k]));
                for (size_t k = 0; k < rt->n_ex; k++) {
                        struct json_object *e = json_object_new_object();
                        json_add(e, "pid", json_object_new_int((int)rt->ex[k].pid));
                        json_add(e, "why", json_str(rt->ex[k].why));
                        json_object_array_add(ex, e);
                }
                json_add(o, "pids", pids);
                json_add(o, "excluded", ex);
                json_add(o, "problem", json_str(rt->problem));
                json_add(o, "refused", json_object_new_boolean(rt->refused));
        }

        struct json_object **lines = fault_lines(pl);
        json_add(doc, "faults", a = json_object_new_array());
        for (size_t i = 0; i < s->n_faults; i++) {
                const struct fault *f = pl->faults[i].f;
                json_object_array_add(a, o = json_object_new_object());
                json_add(o, "name", json_str(f->hdr.name));
                json_add(o, "type", json_str(fault_type_to_string(f->type)));
                json_add(o, "target", json_str(f->target));
                struct json_object *w = json_object_new_array_ext(2);
                json_object_array_add(w, json_ms(f->start));
                json_object_array_add(w, json_ms(fault_end(s, f)));
                json_set_inline(w);
                json_add(o, "window_ms", w);
                json_add(o, "plan", lines && lines[i] ? lines[i] : json_object_new_array());
                json_add(o, "unsupported", unsupported_json(&pl->faults[i]));
        }
        free(lines);

        json_add(doc, "slos", a = json_object_new_array());
        for (size_t i = 0; i < s->n_slos; i++) {
                const struct slo *so = s->slos[i];
                json_object_array_add(a, o = json_object_new_object());
                json_add(o, "name", json_str(so->hdr.name));
                json_add(o, "probe", json_str(slo_probe_to_string(so->probe)));
                json_add(o, "interval_ms", json_ms(so->interval));
                json_add(o, "timeout_ms", json_ms(so->timeout));
                json_add(o, "window_ms", json_ms(so->window));
        }
        json_add(doc, "diagnostics", json_diags(d));
        /* What this host makes impossible: a run would refuse it (exit 2). */
        json_add(doc, "runnable", json_object_new_boolean(d->errors == 0));
        return doc;
}

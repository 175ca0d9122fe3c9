/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <time.h>

#include "diag.h"
#include "json.h"

struct json_object *json_doc_new(const char *kind) {
        struct json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "schema_version", json_object_new_int(SABOT_SCHEMA_VERSION));
        json_object_object_add(o, "kind", json_object_new_string(kind));
        return o;
}

struct json_object *json_str(const char *s) { return s ? json_object_new_string(s) : NULL; }

/* A double written as the text given: json-c's own "%.17g" prints 0.1 as
 * 0.10000000000000001. */
static struct json_object *number(double v, int decimals) {
        if (!isfinite(v))
                return NULL;
        char buf[64];
        snprintf(buf, sizeof buf, "%.*f", decimals, v);
        if (strchr(buf, '.')) {
                size_t l = strlen(buf);
                while (buf[l - 1] == '0')
                        buf[--l] = '\0';
                if (buf[l - 1] == '.')
                        buf[--l] = '\0';
        }
        if (streq(buf, "-0"))
                snprintf(buf, sizeof buf, "0");
        return json_object_new_double_s(v, buf);
}

struct json_object *json_ms(uint64_t ns) {
        /* Whole ms and the rest apart: exact for any uint64_t. */
        char buf[64];
        uint64_t us = ns / NSEC_PER_USEC;
        snprintf(buf, sizeof buf, "%llu.%03llu", (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
        size_t l = strlen(buf);
        while (buf[l - 1] == '0')
                buf[--l] = '\0';
        if (buf[l - 1] == '.')
                buf[--l] = '\0';
        return json_object_new_double_s((double)ns / 1e6, buf);
}

struct json_object *json_num(double v) {
        if (!isfinite(v))
                return NULL;
        /* Six significant digits, as %g, but never an exponent: JSON allows
         * one, but people and greps read 0.0001 better than 1e-04. */
        double a = fabs(v);
        int decimals = a >= 1e5 ? 0 : a >= 1 ? 6 - 1 - (int)floor(log10(a)) : 6;
        if (decimals < 0)
                decimals = 0;
        return number(v, decimals);
}

struct json_object *json_time(uint64_t wall_ns) {
        time_t t = (time_t)(wall_ns / NSEC_PER_SEC);
        struct tm tm;
        if (!gmtime_r(&t, &tm))
                return NULL;
        char buf[64], out[80];
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out, sizeof out, "%s.%03lluZ", buf, (unsigned long long)(wall_ns % NSEC_PER_SEC / NSEC_PER_MSEC));
        return json_object_new_string(out);
}

const char *json_nonfinite(double v) {
        if (isnan(v))
                return "NaN";
        if (isinf(v))
                return v > 0 ? "+Inf" : "-Inf";
        return NULL;
}

void json_add(struct json_object *obj, const char *key, struct json_object *v) {
        json_object_object_add(obj, key, v);
}

void json_add_number(struct json_object *obj, const char *key, double v) {
        json_object_object_add(obj, key, json_num(v));
        const char *why = json_nonfinite(v);
        if (why) {
                char k[128];
                snprintf(k, sizeof k, "%s_nonfinite", key);
                json_object_object_add(obj, k, json_object_new_string(why));
        }
}

static int inline_serializer(struct json_object *jso, struct printbuf *pb, int level, int flags) {
        (void)level;
        flags &= ~JSON_C_TO_STRING_PRETTY;
        printbuf_strappend(pb, "[");
        size_t n = json_object_array_length(jso);
        for (size_t i = 0; i < n; i++) {
                struct json_object *v = json_object_array_get_idx(jso, i);
                if (i)
                        printbuf_strappend(pb, ", ");
                const char *s = v ? json_object_to_json_string_ext(v, flags) : "null";
                printbuf_memappend(pb, s, (int)strlen(s));
        }
        printbuf_strappend(pb, "]");
        return 0;
}

void json_set_inline(struct json_object *array) { json_object_set_serializer(array, inline_serializer, NULL, NULL); }

const char *json_text(struct json_object *doc, bool pretty) {
        int flags = JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE;
        if (pretty)
                flags |= JSON_C_TO_STRING_PRETTY;
        return json_object_to_json_string_ext(doc, flags);
}

int json_print(struct json_object *doc, FILE *out) {
        const char *s = doc ? json_text(doc, false) : NULL;
        if (!s)
                return -ENOMEM;
        fputs(s, out);
        fputc('\n', out);
        return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

struct json_object *json_diags(struct diags *d) {
        struct json_object *a = json_object_new_array();
        if (!a)
                return NULL;
        diags_sort(d);
        size_t key_pos = 0;
        for (size_t i = 0; i < d->n; i++) {
                const struct diag *x = &d->v[i];
                struct json_object *o = json_object_new_object();
                json_add(o, "file", json_str(x->file));
                json_add(o, "line", x->line ? json_object_new_int64(x->line) : NULL);
                json_add(o, "level", json_str(diag_level_to_string(x->level)));
                json_add(o, "key", json_str(diags_key_next(d, x, &key_pos)));
                json_add(o, "message", json_str(x->msg));
                json_object_array_add(a, o);
        }
        return a;
}

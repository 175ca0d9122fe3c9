/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>

#include "html.h"
#include "util.h"

static void esc(FILE *f, const char *s) {
        for (; s && *s; s++)
                switch (*s) {
                case '<': fputs("&lt;", f); break;
                case '>': fputs("&gt;", f); break;
                case '&': fputs("&amp;", f); break;
                case '"': fputs("&quot;", f); break;
                default: fputc(*s, f);
                }
}

static struct json_object *get(struct json_object *o, const char *k) {
        struct json_object *v = NULL;
        return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}
static const char *str(struct json_object *o, const char *k) {
        struct json_object *v = get(o, k);
        return v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : NULL;
}
static double num(struct json_object *o, const char *k, double dflt) {
        struct json_object *v = get(o, k);
        return v && !json_object_is_type(v, json_type_null) ? json_object_get_double(v) : dflt;
}

/* Element i of an array as a number; NaN for null (a value that was not
 * finite, or none). */
static double at(struct json_object *a, size_t i) {
        struct json_object *v = json_object_array_get_idx(a, i);
        return v && !json_object_is_type(v, json_type_null) ? json_object_get_double(v) : NAN;
}

/* A time in ms: KEY_ms, or KEY_ns of reports from before schema_version 1. */
static double ms(struct json_object *o, const char *key, double dflt) {
        char k[64];
        snprintf(k, sizeof k, "%s_ms", key);
        if (get(o, k))
                return num(o, k, dflt);
        snprintf(k, sizeof k, "%s_ns", key);
        return get(o, k) ? num(o, k, dflt * 1e6) / 1e6 : dflt;
}

/* A round step for about n ticks over span. */
static double nice_step(double span, int n) {
        double raw = span / n, mag = pow(10, floor(log10(raw > 0 ? raw : 1)));
        double r = raw / mag;
        return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

enum { W = 960, H = 240, ML = 64, MR = 16, MT = 24, MB = 34 };

static void timeline(FILE *f, struct json_object *slo, struct json_object *faults, struct json_object *breach,
                     double end_ms) {
        const char *probe = str(slo, "probe");
        bool by_value = probe && (streq(probe, "prometheus") || streq(probe, "psi"));
        struct json_object *samples = get(slo, "samples"), *th = get(slo, "thresholds");
        size_t n = samples ? json_object_array_length(samples) : 0;
        double ymax = 0;
        for (size_t i = 0; i < n; i++) {
                struct json_object *s = json_object_array_get_idx(samples, i);
                double y = at(s, by_value ? 3 : 2);
                if (isfinite(y) && y > ymax)
                        ymax = y;
        }
        double lines[2] = {NAN, NAN};
        const char *names[2] = {NULL, NULL};
        if (by_value) {
                lines[0] = num(th, "max", NAN), names[0] = "max";
                lines[1] = num(th, "min", NAN), names[1] = "min";
        } else {
                lines[0] = num(th, "max_latency_ms", NAN), names[0] = "max_latency";
                lines[1] = num(slo, "timeout_ms", NAN), names[1] = "timeout";
        }
        for (int k = 0; k < 2; k++)
                if (isfinite(lines[k]) && lines[k] > ymax)
                        ymax = lines[k];
        ymax = ymax > 0 ? ymax * 1.15 : 1;
        double xs = (W - ML - MR) / (end_ms > 0 ? end_ms : 1), ys = (H - MT - MB) / ymax;
#define X(t) (ML + (t) * xs)
#define Y(v) (H - MB - (v) * ys)
        fprintf(f, "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n", W, H, W, H);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"plot\"/>\n", ML, MT, W - ML - MR, H - MT - MB);
        /* Fault windows. */
        size_t nf = faults ? json_object_array_length(faults) : 0;
        for (size_t i = 0; i < nf; i++) {
                struct json_object *fa = json_object_array_get_idx(faults, i);
                double a = ms(fa, "applied", NAN), b = ms(fa, "reverted", end_ms);
                if (!isfinite(a))
                        continue;
                fprintf(f, "<rect class=\"fault\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"><title>", X(a), MT,
                        fmax(1, (b - a) * xs), H - MT - MB);
                esc(f, str(fa, "name"));
                fprintf(f, "</title></rect>\n<text class=\"flabel\" x=\"%.1f\" y=\"%d\">", X(a) + 3, MT + 12 + 12 * (int)(i % 3));
                esc(f, str(fa, "name"));
                fputs("</text>\n", f);
        }
        /* Axes and grid. */
        double xstep = nice_step(end_ms / 1000, 10) * 1000, ystep = nice_step(ymax, 4);
        for (double t = 0; t <= end_ms + 1e-9; t += xstep)
                fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/><text class=\"tick\" x=\"%.1f\" "
                           "y=\"%d\" text-anchor=\"middle\">%gs</text>\n",
                        X(t), MT, X(t), H - MB, X(t), H - MB + 14, t / 1000);
        for (double v = 0; v <= ymax + 1e-9; v += ystep)
                fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/><text class=\"tick\" x=\"%d\" "
                           "y=\"%.1f\" text-anchor=\"end\">%g%s</text>\n",
                        ML, Y(v), W - MR, Y(v), ML - 6, Y(v) + 4, v, by_value ? "" : " ms");
        /* Thresholds. */
        for (int k = 0; k < 2; k++)
                if (isfinite(lines[k]))
                        fprintf(f, "<line class=\"%s\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/><text class=\"tlabel\" "
                                   "x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s %g%s</text>\n",
                                k == 0 || by_value ? "threshold" : "timeout", ML, Y(lines[k]), W - MR, Y(lines[k]),
                                W - MR - 4, Y(lines[k]) - 4, names[k], lines[k], by_value ? "" : " ms");
        /* Samples: a line through them, failures marked. */
        fputs("<polyline class=\"samples\" points=\"", f);
        for (size_t i = 0; i < n; i++) {
                struct json_object *s = json_object_array_get_idx(samples, i);
                double t = at(s, 0),
                       y = at(s, by_value ? 3 : 2);
                if (isfinite(y))
                        fprintf(f, "%.1f,%.1f ", X(t), Y(y));
        }
        fputs("\"/>\n", f);
        for (size_t i = 0; i < n; i++) {
                struct json_object *s = json_object_array_get_idx(samples, i);
                double t = at(s, 0),
                       y = at(s, by_value ? 3 : 2);
                if (!json_object_get_int(json_object_array_get_idx(s, 1)))
                        fprintf(f, "<circle class=\"fail\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"><title>failed at %.1f s</title></circle>\n",
                                X(t), Y(isfinite(y) ? y : 0), t / 1000);
        }
        /* The abort. */
        if (breach && !json_object_is_type(breach, json_type_null) && streq(str(breach, "slo") ?: "", str(slo, "name") ?: "")) {
                double t = ms(breach, "at", 0);
                fprintf(f, "<line class=\"abort\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/><text class=\"alabel\" x=\"%.1f\" "
                           "y=\"%d\">abort</text>\n",
                        X(t), MT - 4, X(t), H - MB, X(t) + 4, MT - 8 + 12);
        }
        fputs("</svg>\n", f);
#undef X
#undef Y
}

static const char css[] =
        "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px auto;max-width:1000px;color:#1f2328;padding:0 16px}"
        "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}"
        "h3{font-size:15px;margin:18px 0 4px}.sum{color:#57606a;margin:0}"
        ".exit{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;color:#fff}"
        ".e0{background:#1a7f37}.e3{background:#cf222e}.e4,.e5{background:#9a6700}.e1,.e2,.e6{background:#57606a}"
        ".breach{background:#fff1f0;border:1px solid #ffcecb;border-radius:6px;padding:8px 12px;margin:12px 0}"
        "table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}"
        "th{background:#f6f8fa}td.t{white-space:nowrap;color:#57606a;font-variant-numeric:tabular-nums}"
        ".lv-error td{color:#cf222e}.lv-warning td.m{color:#9a6700}"
        "svg{background:#fff;display:block}.plot{fill:#fff;stroke:#d0d7de}.grid{stroke:#eaeef2}.tick{font-size:11px;fill:#57606a}"
        ".fault{fill:#bf8700;fill-opacity:.13}.flabel{font-size:11px;fill:#7d4e00}"
        ".samples{fill:none;stroke:#0969da;stroke-width:1.5}.fail{fill:#cf222e}"
        ".threshold{stroke:#cf222e;stroke-dasharray:6 4}.timeout{stroke:#8c959f;stroke-dasharray:2 3}.tlabel{font-size:11px;fill:#cf222e}"
        ".abort{stroke:#cf222e;stroke-width:2}.alabel{font-size:12px;font-weight:600;fill:#cf222e}"
        ".legend span{margin-right:14px;font-size:12px;color:#57606a}.sw{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}";

int report_html(const char *json_path, const char *out_path) {
        struct json_object *r = json_object_from_file(json_path);
        if (!r)
                return -EBADMSG;
        struct json_object *sc = get(r, "scenario"), *faults = get(r, "faults"), *slos = get(r, "slos"),
                           *events = get(r, "events"), *breach = get(r, "breach");
        if (!sc || !faults || !events) {
                json_object_put(r);
                return -EBADMSG;
        }
        /* OUT.tmp created afresh, never through a link someone left at
         * that name: root may write the page into a directory others can
         * write to. */
        const char *base = NULL;
        _cleanup_close_ int dfd = dir_open_parent(out_path, &base);
        FILE *f = dfd >= 0 ? replace_fopen(dfd, base, 0644) : NULL;
        if (!f) {
                int e = dfd < 0 ? dfd : -errno;
                json_object_put(r);
                return e;
        }
        double end_ms = get(get(r, "end"), "t_ms") ? num(get(r, "end"), "t_ms", 0) : ms(get(r, "end"), "mono", 0);
        int code = (int)num(r, "exit_code", 1);
        fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>sabot: ", f);
        esc(f, str(sc, "name"));
        fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>Game day: ", css);
        esc(f, str(sc, "name"));
        fputs("</h1>\n<p class=\"sum\">", f);
        esc(f, str(sc, "description"));
        fputs("</p>\n<p class=\"sum\">", f);
        esc(f, str(get(r, "host"), "hostname"));
        fputs(" · ", f);
        esc(f, str(get(r, "start"), "wall"));
        fprintf(f, " · %.1f s · <span class=\"exit e%d\">exit %d</span> ", end_ms / 1000, code, code);
        esc(f, str(r, "exit_reason"));
        fputs("</p>\n", f);
        if (breach && !json_object_is_type(breach, json_type_null)) {
                fputs("<div class=\"breach\"><b>Aborted: SLO ", f);
                esc(f, str(breach, "slo"));
                fputs(" breached</b> — ", f);
                esc(f, str(breach, "why"));
                fprintf(f, ". Every fault was reverted %.2f ms after the breach.</div>\n", num(breach, "breach_to_reverted_ms", 0));
        }
        size_t ns = slos ? json_object_array_length(slos) : 0;
        if (ns) {
                fputs("<h2>SLOs</h2>\n<div class=\"legend\"><span><i class=\"sw\" style=\"background:#0969da\"></i>samples</span>"
                      "<span><i class=\"sw\" style=\"background:#cf222e\"></i>failed sample</span>"
                      "<span><i class=\"sw\" style=\"background:#bf8700;opacity:.3\"></i>fault window</span>"
                      "<span>- - threshold</span></div>\n", f);
        }
        for (size_t i = 0; i < ns; i++) {
                struct json_object *o = json_object_array_get_idx(slos, i);
                fputs("<h3>", f);
                esc(f, str(o, "name"));
                fputs(" <small>(", f);
                esc(f, str(o, "probe"));
                fputs(") — ", f);
                esc(f, str(o, "why"));
                double rec = num(o, "recovered_after_ms", NAN);
                if (isfinite(rec))
                        fprintf(f, "; healthy again %.1f s after the revert", rec / 1000);
                fputs("</small></h3>\n", f);
                timeline(f, o, faults, breach, end_ms);
        }
        double off = ms(r, "faults_start", 0) / 1e3;
        fputs("<h2>Faults</h2>\n<table><tr><th>fault</th><th>type</th><th>window</th><th>applied</th><th>reverted</th><th>outcome</th></tr>\n", f);
        for (size_t i = 0; i < json_object_array_length(faults); i++) {
                struct json_object *fa = json_object_array_get_idx(faults, i), *w = get(fa, "window_ms");
                /* Seconds from ms, or from the ns of older reports. */
                double unit = w ? 1e3 : 1e9;
                if (!w)
                        w = get(fa, "window_ns");
                fputs("<tr><td>", f);
                esc(f, str(fa, "name"));
                fputs("</td><td>", f);
                esc(f, str(fa, "type"));
                fprintf(f, "</td><td class=\"t\">%.1f – %.1f s</td>",
                        off + (w ? json_object_get_double(json_object_array_get_idx(w, 0)) / unit : 0),
                        off + (w ? json_object_get_double(json_object_array_get_idx(w, 1)) / unit : 0));
                double a = ms(fa, "applied", NAN), b = ms(fa, "reverted", NAN);
                isfinite(a) ? fprintf(f, "<td class=\"t\">%.3f s</td>", a / 1e3) : fputs("<td class=\"t\">—</td>", f);
                isfinite(b) ? fprintf(f, "<td class=\"t\">%.3f s</td>", b / 1e3) : fputs("<td class=\"t\">—</td>", f);
                fputs("<td>", f);
                esc(f, str(fa, "outcome"));
                fputs("</td></tr>\n", f);
        }
        fputs("</table>\n<h2>Events</h2>\n<table><tr><th>time</th><th>fault</th><th>event</th></tr>\n", f);
        for (size_t i = 0; i < json_object_array_length(events); i++) {
                struct json_object *e = json_object_array_get_idx(events, i);
                fputs("<tr class=\"lv-", f);
                esc(f, str(e, "level"));
                fprintf(f, "\"><td class=\"t\">%.3f s</td><td>", (get(e, "t_ms") ? num(e, "t_ms", 0) : ms(e, "mono", 0)) / 1e3);
                esc(f, str(e, "fault"));
                fputs("</td><td class=\"m\">", f);
                esc(f, str(e, "message"));
                fputs("</td></tr>\n", f);
        }
        fputs("</table>\n</body></html>\n", f);
        json_object_put(r);
        /* Not durable, as it always was: the page is made again from the
         * JSON report at will. */
        return replace_fclose(dfd, f, base, false);
}

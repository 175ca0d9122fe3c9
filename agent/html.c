/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>

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

/* The run's clock and phases, in scenario ms (0: the faults start). */
struct clock {
        double zero;           /* subtracted from every offset: faults_start_ms of older reports, else 0 */
        double x0, x1;         /* the x axis */
        double steady0, steady1, cool0, cool1; /* NAN: none */
        double breach, reverted;
        const char *breach_slo;
        double breach_value, breach_threshold;
};

/* Every label of a plot is a box: x, baseline y, width (the text is drawn
 * to that width, textLength), FONT px high. None overlaps another. */
enum { FONT = 11, ROW = 15 };
struct label {
        double x, y, w;
        const char *cls;
        char text[128];
};
struct labels {
        struct label v[64];
        size_t n;
};

static double text_w(const char *s) {
        size_t n = 0;
        for (; *s; s++)
                n += ((unsigned char)*s & 0xc0) != 0x80;
        return (double)n * 6.3 + 2;
}

static struct label *label_add(struct labels *L, double x, double y, const char *cls, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static struct label *label_add(struct labels *L, double x, double y, const char *cls, const char *fmt, ...) {
        if (L->n == ELEMENTSOF(L->v))
                return NULL;
        struct label *l = &L->v[L->n++];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(l->text, sizeof l->text, fmt, ap);
        va_end(ap);
        l->x = x, l->y = y, l->w = text_w(l->text), l->cls = cls;
        return l;
}

static void label_emit(FILE *f, const struct label *l) {
        fprintf(f, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" textLength=\"%.1f\" lengthAdjust=\"spacingAndGlyphs\">", l->cls,
                l->x, l->y, l->w);
        esc(f, l->text);
        fputs("</text>\n", f);
}

/* Rows of labels above the plot, each placed at its x (moved left to
 * stay inside) in the first row where it overlaps nothing. */
struct row_item {
        double x;
        const char *cls;
        char text[128];
};

static int cmp_item(const void *a, const void *b) {
        double x = ((const struct row_item *)a)->x, y = ((const struct row_item *)b)->x;
        return x < y ? -1 : x > y;
}

static int pack_rows(struct labels *L, struct row_item *it, size_t n, double xmin, double xmax, double top) {
        double end[16];
        int rows = 0;
        for (size_t i = 0; i < n; i++) {
                double w = text_w(it[i].text);
                if (it[i].x + w > xmax)
                        it[i].x = xmax - w;
                if (it[i].x < xmin)
                        it[i].x = xmin;
        }
        qsort(it, n, sizeof *it, cmp_item);
        for (size_t i = 0; i < n; i++) {
                int r = 0;
                while (r < rows && end[r] + 6 > it[i].x)
                        r++;
                if (r == (int)ELEMENTSOF(end))
                        r = rows - 1; /* never: 16 rows of labels */
                if (r == rows)
                        rows++;
                struct label *l = label_add(L, it[i].x, top + ROW * (r + 1) - 4, it[i].cls, "%s", it[i].text);
                if (l)
                        end[r] = l->x + l->w;
        }
        return rows;
}

enum metric { M_RATE, M_P99, M_VALUE };

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* The metric an SLO is judged on, at each sample, as agent/slo.c's judge
 * computes it: the samples of the last window (none from before
 * judged_from once the faults' judgement began), unknown (NaN) below
 * min_samples; the error rate in percent, the p99 latency in ms; for a
 * value probe the last value. */
static double *series(struct json_object *slo, enum metric m) {
        struct json_object *samples = get(slo, "samples");
        size_t n = samples ? json_object_array_length(samples) : 0;
        double *y = calloc(n + 1, sizeof *y), lat[4096];
        if (!y)
                return NULL;
        double window = num(slo, "window_ms", 1e300), from = num(slo, "judged_from_ms", -1e300);
        double min_samples = num(slo, "min_samples", 1);
        /* A long run's report holds one sample in samples_every before
         * samples_whole_from_ms: there the window holds that many fewer. */
        double every = num(slo, "samples_every", 1), whole = num(slo, "samples_whole_from_ms", -1e300);
        for (size_t i = 0; i < n; i++) {
                struct json_object *s = json_object_array_get_idx(samples, i);
                double t = at(s, 0);
                if (m == M_VALUE) {
                        y[i] = at(s, 3);
                        continue;
                }
                size_t k = 0, bad = 0;
                for (size_t j = i + 1; j-- > 0 && k < ELEMENTSOF(lat);) {
                        struct json_object *sj = json_object_array_get_idx(samples, j);
                        double tj = at(sj, 0);
                        if (t - tj > window || (t >= from && tj < from))
                                break;
                        lat[k++] = at(sj, 2);
                        bad += !json_object_get_int(json_object_array_get_idx(sj, 1));
                }
                if ((double)k < (t < whole && every > 1 ? fmax(1, min_samples / every) : min_samples) || !k)
                        y[i] = NAN;
                else if (m == M_RATE)
                        y[i] = (double)bad / (double)k * 100;
                else {
                        qsort(lat, k, sizeof lat[0], cmp_double);
                        y[i] = lat[(size_t)ceil(0.99 * (double)k) - 1];
                }
        }
        return y;
}

static const char *metric_name(enum metric m, const char *probe) {
        return m == M_RATE ? "error rate" : m == M_P99 ? "p99 latency" : streq(probe ?: "", "psi") ? "avg10" : "value";
}

static void fmt_value(char *buf, size_t sz, enum metric m, double v, bool pct) {
        if (!isfinite(v))
                snprintf(buf, sz, "no value");
        else if (m == M_RATE)
                snprintf(buf, sz, "%.0f%%", v);
        else if (m == M_P99)
                snprintf(buf, sz, v < 10 ? "%.2f ms" : "%.0f ms", v);
        else
                snprintf(buf, sz, "%g%s", v, pct ? "%" : "");
}

enum { W = 960, ML = 64, MR = 150, PLOT_H = 170, PHASE_H = 12 };

static void plot(FILE *f, struct json_object *slo, enum metric m, struct json_object *faults, const struct clock *c) {
        const char *name = str(slo, "name") ?: "";
        bool psi = streq(str(slo, "probe") ?: "", "psi");
        struct json_object *samples = get(slo, "samples"), *th = get(slo, "thresholds");
        size_t n = samples ? json_object_array_length(samples) : 0;
        _cleanup_free_ double *y = series(slo, m);
        if (!y)
                return;
        /* Thresholds of this metric. */
        double lines[2] = {NAN, NAN};
        const char *names[2] = {NULL, NULL};
        if (m == M_RATE)
                lines[0] = num(th, "max_error_rate", NAN), names[0] = "max_error_rate";
        else if (m == M_P99)
                lines[0] = num(th, "max_latency_ms", NAN), names[0] = "max_latency";
        else
                lines[0] = num(th, "max", NAN), names[0] = "max", lines[1] = num(th, "min", NAN), names[1] = "min";
        /* The y scale: from the data and the thresholds (never the probe's
         * timeout); latency on a log scale when it spans decades. */
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
                double v = m == M_P99 ? at(json_object_array_get_idx(samples, i), 2) : y[i];
                if (isfinite(v))
                        lo = fmin(lo, v), hi = fmax(hi, v);
        }
        for (int k = 0; k < 2; k++)
                if (isfinite(lines[k]))
                        lo = fmin(lo, lines[k]), hi = fmax(hi, lines[k]);
        if (!isfinite(lo))
                lo = 0, hi = 1;
        bool logy = false;
        if (m == M_RATE)
                lo = 0, hi = fmin(100, fmax(hi * 1.2, 1));
        else if (m == M_P99) {
                lo = fmax(lo, 0.001);
                logy = hi / lo > 30;
                if (logy)
                        lo = pow(10, floor(log10(lo))), hi = pow(10, ceil(log10(hi * 1.01)));
                else
                        lo = 0, hi = hi > 0 ? hi * 1.2 : 1;
        } else {
                double pad = hi > lo ? (hi - lo) * 0.15 : fmax(fabs(hi) * 0.1, 1);
                if (lo >= 0 && lo - pad < 0)
                        lo = 0;
                else
                        lo -= pad;
                hi += pad;
        }
        /* The labels above the plot: phases, faults, the breach, the revert. */
        struct row_item it[40];
        size_t ni = 0;
        double xs = (W - ML - MR) / (c->x1 - c->x0);
#define X(t) (ML + ((t) - c->x0) * xs)
        if (isfinite(c->steady0))
                it[ni++] = (struct row_item){X(c->steady0), "phase-l", "steady state"};
        it[ni++] = (struct row_item){X(0), "phase-l", "faults"};
        if (isfinite(c->cool0))
                it[ni++] = (struct row_item){X(c->cool0), "phase-l", "cooldown"};
        size_t nf = faults ? json_object_array_length(faults) : 0;
        for (size_t i = 0; i < nf && ni < ELEMENTSOF(it) - 2; i++) {
                struct json_object *fa = json_object_array_get_idx(faults, i), *w = get(fa, "window_ms");
                double a = ms(fa, "applied", NAN) - c->zero;
                const char *state = str(fa, "state") ?: "";
                if (!isfinite(a))
                        a = w ? at(w, 0) : 0;
                struct row_item *x = &it[ni++];
                *x = (struct row_item){X(a), streq(state, "skipped") || streq(state, "failed") ? "skip-l" : "fault-l", ""};
                snprintf(x->text, sizeof x->text, "%s%s%s", str(fa, "name") ?: "?",
                         streq(state, "skipped") ? " (skipped)" : streq(state, "failed") ? " (failed)" : "", "");
        }
        bool here = c->breach_slo && streq(c->breach_slo, name);
        if (isfinite(c->breach)) {
                struct row_item *x = &it[ni++];
                *x = (struct row_item){X(c->breach), "breach-l", ""};
                if (here) {
                        char a[32], b[32];
                        fmt_value(a, sizeof a, m, c->breach_value, psi);
                        fmt_value(b, sizeof b, m, c->breach_threshold, psi);
                        snprintf(x->text, sizeof x->text, "breach at %.3f s: %s > %s", c->breach / 1e3, a, b);
                } else
                        snprintf(x->text, sizeof x->text, "breach (slo %s) at %.3f s", c->breach_slo, c->breach / 1e3);
                if (isfinite(c->reverted)) {
                        x = &it[ni++];
                        *x = (struct row_item){X(c->reverted), "revert-l", ""};
                        snprintf(x->text, sizeof x->text, "reverted %.2f ms later", c->reverted - c->breach);
                }
        }
        struct labels L = {.n = 0};
        int rows = pack_rows(&L, it, ni, ML, W - MR, 0);
        double pt = ROW * rows + 4, ph0 = pt, top = pt + PHASE_H + 4, bot = top + PLOT_H;
        int H = (int)bot + 28;
        double ys = PLOT_H / (logy ? log10(hi) - log10(lo) : hi - lo);
#define Y(v) (logy ? bot - (log10(fmax(v, lo)) - log10(lo)) * ys : bot - (fmin(fmax(v, lo), hi) - lo) * ys)
        fprintf(f, "<svg class=\"slo\" data-slo=\"");
        esc(f, name);
        fprintf(f, "\" data-metric=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n",
                m == M_RATE ? "error_rate" : m == M_P99 ? "p99" : "value", W, H, W, H);
        fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" class=\"plot\"/>\n", ML, top, W - ML - MR, PLOT_H);
        /* Phases: a strip above the plot, and a shade in it. */
        struct {
                const char *cls;
                double a, b;
        } phases[] = {{"steady", c->steady0, isfinite(c->steady1) ? c->steady1 : 0},
                      {"faults", 0, isfinite(c->cool0) ? c->cool0 : isfinite(c->reverted) ? c->reverted : c->x1},
                      {"cooldown", c->cool0, c->cool1}};
        for (size_t k = 0; k < ELEMENTSOF(phases); k++)
                if (isfinite(phases[k].a) && isfinite(phases[k].b) && phases[k].b > phases[k].a)
                        fprintf(f, "<rect class=\"phase %s\" data-t0=\"%g\" data-t1=\"%g\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                   "height=\"%d\"/><rect class=\"shade %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\"/>\n",
                                phases[k].cls, phases[k].a, phases[k].b, X(phases[k].a), ph0, (phases[k].b - phases[k].a) * xs,
                                PHASE_H, phases[k].cls, X(phases[k].a), top, (phases[k].b - phases[k].a) * xs, PLOT_H);
        /* Fault windows: applied to reverted; a skipped one's planned
         * window dashed, empty. */
        for (size_t i = 0; i < nf; i++) {
                struct json_object *fa = json_object_array_get_idx(faults, i), *w = get(fa, "window_ms");
                double a = ms(fa, "applied", NAN) - c->zero, b = ms(fa, "reverted", c->x1 + c->zero) - c->zero;
                bool skipped = !isfinite(a);
                if (skipped)
                        a = w ? at(w, 0) : 0, b = w ? at(w, 1) : a;
                a = fmax(a, c->x0), b = fmin(b, c->x1);
                fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\"><title>", skipped ? "skipped" : "fault",
                        X(a), top, fmax(1, (b - a) * xs), PLOT_H);
                esc(f, str(fa, "name"));
                fputs(skipped ? " (not applied: " : " (", f);
                esc(f, str(fa, "outcome"));
                fputs(")</title></rect>\n", f);
        }
        /* Axes and grid: x ticks every round step, y ticks round (decades
         * on a log scale). Tick labels are boxes too. */
        double xstep = nice_step((c->x1 - c->x0) / 1000, 8) * 1000;
        for (double t = ceil(c->x0 / xstep) * xstep; t <= c->x1 + 1e-9; t += xstep) {
                char txt[32];
                snprintf(txt, sizeof txt, "%gs", fabs(t) < 1e-9 ? 0 : t / 1000);
                fprintf(f, "<line class=\"grid xgrid\" data-v=\"%g\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", t,
                        X(t), top, X(t), bot);
                /* Below the y axis' lowest label, inside the plot's width. */
                struct label l = {fmin(fmax(X(t) - text_w(txt) / 2, ML), W - MR - text_w(txt)), bot + 20, text_w(txt),
                                  "tick xtick", ""};
                snprintf(l.text, sizeof l.text, "%s", txt);
                fprintf(f, "<text class=\"tick xtick\" data-v=\"%g\" x=\"%.1f\" y=\"%.1f\" textLength=\"%.1f\" "
                           "lengthAdjust=\"spacingAndGlyphs\">%s</text>\n", t, l.x, l.y, l.w, txt);
        }
        const char *unit = m == M_RATE || psi ? "%" : m == M_P99 ? " ms" : "";
        double ystep = nice_step(hi - lo, 4);
        for (double v = logy ? lo : ceil(lo / ystep) * ystep; v <= hi * (1 + 1e-9) + 1e-12; v = logy ? v * 10 : v + ystep) {
                char txt[32];
                snprintf(txt, sizeof txt, "%g%s", fabs(v) < 1e-12 ? 0 : v, unit);
                fprintf(f, "<line class=\"grid ygrid\" data-v=\"%g\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", v, ML,
                        Y(v), W - MR, Y(v));
                fprintf(f, "<text class=\"tick ytick\" data-v=\"%g\" x=\"%.1f\" y=\"%.1f\" textLength=\"%.1f\" "
                           "lengthAdjust=\"spacingAndGlyphs\">%s</text>\n",
                        v, ML - 6 - text_w(txt), Y(v) + 4, text_w(txt), txt);
        }
        /* The samples: raw latencies as dots under a p99; the metric as a
         * line (broken where it is unknown); failed samples marked. */
        if (m == M_P99)
                for (size_t i = 0; i < n; i++) {
                        struct json_object *s = json_object_array_get_idx(samples, i);
                        if (isfinite(at(s, 2)) && at(s, 0) >= c->x0)
                                fprintf(f, "<circle class=\"raw\" cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\"/>\n", X(at(s, 0)), Y(at(s, 2)));
                }
        bool open = false;
        for (size_t i = 0; i < n; i++) {
                double t = at(json_object_array_get_idx(samples, i), 0);
                if (!isfinite(y[i]) || t < c->x0) {
                        if (open)
                                fputs("\"/>\n", f);
                        open = false;
                        continue;
                }
                if (!open)
                        fputs("<polyline class=\"metric\" points=\"", f);
                open = true;
                fprintf(f, "%.1f,%.1f ", X(t), Y(y[i]));
        }
        if (open)
                fputs("\"/>\n", f);
        for (size_t i = 0; i < n; i++) {
                struct json_object *s = json_object_array_get_idx(samples, i);
                if (!json_object_get_int(json_object_array_get_idx(s, 1)) && at(s, 0) >= c->x0)
                        fprintf(f, "<circle class=\"fail\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>failed at %.3f s</title></circle>\n",
                                X(at(s, 0)), m == M_RATE ? bot - 4 : isfinite(y[i]) ? Y(y[i]) : top + 4, at(s, 0) / 1000);
        }
        /* Thresholds: the SLO's, dashed, labelled in the right margin. */
        double ly[2] = {NAN, NAN};
        for (int k = 0; k < 2; k++)
                if (isfinite(lines[k])) {
                        ly[k] = Y(lines[k]) + 4;
                        fprintf(f, "<line class=\"threshold\" data-v=\"%g\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", lines[k], ML,
                                Y(lines[k]), W - MR, Y(lines[k]));
                }
        if (isfinite(ly[0]) && isfinite(ly[1]) && fabs(ly[0] - ly[1]) < ROW) {
                double mid = (ly[0] + ly[1]) / 2, d = ly[0] <= ly[1] ? -1 : 1;
                ly[0] = mid + d * ROW / 2.0, ly[1] = mid - d * ROW / 2.0;
        }
        for (int k = 0; k < 2; k++)
                if (isfinite(ly[k])) {
                        char v[32];
                        fmt_value(v, sizeof v, m, lines[k], psi);
                        label_add(&L, W - MR + 6, ly[k], "tlabel", "%s %s", names[k], v);
                }
        /* The breach and the revert. */
        if (isfinite(c->breach))
                fprintf(f, "<line class=\"breach%s\" data-t=\"%g\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                        here ? "" : " other", c->breach, X(c->breach), ph0, X(c->breach), bot);
        if (isfinite(c->breach) && isfinite(c->reverted))
                fprintf(f, "<line class=\"revert\" data-t=\"%g\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", c->reverted,
                        X(c->reverted), ph0, X(c->reverted), bot);
        for (size_t i = 0; i < L.n; i++)
                label_emit(f, &L.v[i]);
        fputs("</svg>\n", f);
#undef X
#undef Y
}

/* The metrics an SLO is judged on. */
static size_t metrics_of(struct json_object *slo, enum metric out[2]) {
        const char *probe = str(slo, "probe") ?: "";
        struct json_object *th = get(slo, "thresholds");
        if (streq(probe, "prometheus") || streq(probe, "psi")) {
                out[0] = M_VALUE;
                return 1;
        }
        size_t n = 0;
        if (get(th, "max_error_rate") || !get(th, "max_latency_ms"))
                out[n++] = M_RATE;
        if (get(th, "max_latency_ms"))
                out[n++] = M_P99;
        return n;
}

/* The heading's verdict: at the breach for the SLO that breached and for
 * the others (their metric then), else the worst over the faults. */
static void verdict(FILE *f, struct json_object *slo, const struct clock *c) {
        const char *name = str(slo, "name") ?: "";
        if (c->breach_slo && streq(c->breach_slo, name)) {
                fprintf(f, "<span class=\"v-breached\">breached at %.3f s</span>: ", c->breach / 1e3);
                return;
        }
        enum metric ms_[2];
        size_t nm = metrics_of(slo, ms_);
        struct json_object *samples = get(slo, "samples");
        size_t n = samples ? json_object_array_length(samples) : 0;
        fprintf(f, "<span class=\"v-held\">%s</span>", isfinite(c->breach) ? "held at the breach" : "held");
        for (size_t k = 0; k < nm; k++) {
                _cleanup_free_ double *y = series(slo, ms_[k]);
                double v = NAN;
                for (size_t i = 0; y && i < n; i++) {
                        double t = at(json_object_array_get_idx(samples, i), 0);
                        if (isfinite(c->breach) ? t <= c->breach : t >= 0 && (!isfinite(c->cool0) || t <= c->cool0))
                                if (isfinite(y[i]))
                                        v = isfinite(c->breach) || !isfinite(v) ? y[i]
                                            : ms_[k] == M_VALUE && get(get(slo, "thresholds"), "min") && !get(get(slo, "thresholds"), "max")
                                                    ? fmin(v, y[i])
                                                    : fmax(v, y[i]);
                }
                char a[32];
                fmt_value(a, sizeof a, ms_[k], v, streq(str(slo, "probe") ?: "", "psi"));
                fprintf(f, "%s%s%s %s", k ? ", " : ": ", isfinite(c->breach) ? "" : "worst ", metric_name(ms_[k], str(slo, "probe")), a);
        }
        fputs(isfinite(c->breach) ? ". At the end: " : ". At the end: ", f);
}

static const char css[] =
        "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px auto;max-width:1000px;color:#1f2328;padding:0 16px}"
        "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}"
        "h3{font-size:15px;margin:18px 0 4px}h3 small{font-weight:normal;color:#57606a}.sum{color:#57606a;margin:0}"
        ".v-breached{color:#cf222e;font-weight:600}.v-held{color:#1a7f37;font-weight:600}"
        ".exit{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;color:#fff}"
        ".e0{background:#1a7f37}.e3{background:#cf222e}.e4,.e5{background:#9a6700}.e1,.e2,.e6,.e7{background:#57606a}"
        ".breach{background:#fff1f0;border:1px solid #ffcecb;border-radius:6px;padding:8px 12px;margin:12px 0}"
        "table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}"
        "th{background:#f6f8fa}td.t{white-space:nowrap;color:#57606a;font-variant-numeric:tabular-nums}"
        ".lv-error td{color:#cf222e}.lv-warning td.m{color:#9a6700}"
        "svg{background:#fff;display:block;margin-bottom:6px}svg text{font-size:11px;font-family:system-ui,sans-serif}"
        ".plot{fill:none;stroke:#d0d7de}.grid{stroke:#eaeef2}.tick{fill:#57606a}"
        ".phase.steady{fill:#8c959f}.phase.faults{fill:#bf8700}.phase.cooldown{fill:#1a7f37;fill-opacity:.6}"
        ".shade{fill-opacity:.05}.shade.steady{fill:#8c959f}.shade.faults{fill:#bf8700}.shade.cooldown{fill:#1a7f37}"
        ".phase-l{fill:#424a53;font-weight:600}"
        ".fault{fill:#bf8700;fill-opacity:.18}.skipped{fill:none;stroke:#8c959f;stroke-dasharray:3 3}"
        ".fault-l{fill:#7d4e00}.skip-l{fill:#6e7781;font-style:italic}"
        ".metric{fill:none;stroke:#0969da;stroke-width:1.8}.raw{fill:#0969da;fill-opacity:.55}.fail{fill:#cf222e}"
        ".threshold{stroke:#cf222e;stroke-dasharray:6 4;stroke-width:1.3}.tlabel{fill:#cf222e}"
        ".breach{stroke:#cf222e;stroke-width:2}.breach.other{stroke-dasharray:2 3;stroke-width:1.3}"
        ".revert{stroke:#1a7f37;stroke-width:2;stroke-dasharray:4 2}"
        ".breach-l{fill:#cf222e;font-weight:600}.revert-l{fill:#1a7f37;font-weight:600}"
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
        /* Scenario time: reports of this version count from faults_start;
         * older ones from the run's start, and said when the faults
         * started (faults_start_ms). */
        struct clock c = {.zero = ms(r, "faults_start", 0)};
        struct json_object *st = get(r, "steady_state"), *cool = get(r, "cooldown");
        double start_ms = ms(get(r, "start"), "mono", 0) - c.zero, end_ms = ms(get(r, "end"), "mono", 0) - c.zero;
        if (get(get(r, "start"), "t_ms"))
                start_ms = num(get(r, "start"), "t_ms", 0) - c.zero, end_ms = num(get(r, "end"), "t_ms", 0) - c.zero;
        c.steady0 = st ? num(st, "start_ms", NAN) - c.zero : NAN;
        c.steady1 = st ? num(st, "reached_ms", NAN) - c.zero : NAN;
        c.cool0 = cool ? num(cool, "start_ms", NAN) - c.zero : NAN;
        c.cool1 = end_ms;
        c.x0 = fmin(fmin(start_ms, 0), isfinite(c.steady0) ? c.steady0 : 0), c.x1 = fmax(end_ms, c.x0 + 1);
        c.breach = c.reverted = c.breach_value = c.breach_threshold = NAN;
        if (breach && !json_object_is_type(breach, json_type_null)) {
                c.breach = ms(breach, "at", NAN) - c.zero;
                c.reverted = c.breach + num(breach, "breach_to_reverted_ms", NAN);
                c.breach_slo = str(breach, "slo");
                c.breach_value = num(breach, "value", NAN);
                c.breach_threshold = num(breach, "threshold", NAN);
        }
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
        fprintf(f, " · %.1f s · <span class=\"exit e%d\">exit %d</span> ", (end_ms - start_ms) / 1000, code, code);
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
                fputs("<h2>SLOs</h2>\n<div class=\"legend\"><span><i class=\"sw\" style=\"background:#0969da\"></i>the judged "
                      "metric (dots: each sample's latency)</span><span><i class=\"sw\" style=\"background:#cf222e\"></i>failed "
                      "sample</span><span><i class=\"sw\" style=\"background:#bf8700;opacity:.3\"></i>fault applied</span>"
                      "<span><i class=\"sw\" style=\"border:1px dashed #8c959f\"></i>fault skipped</span>"
                      "<span>- - the SLO's threshold</span><span>| breach, revert</span></div>\n"
                      "<p class=\"sum\">Each plot shows the metric the SLO is judged on, as the run judged it: over its window, "
                      "from the start of the steady state that let the faults begin. Time is scenario time: 0 is when the "
                      "faults started, the steady state is before it.</p>\n", f);
        }
        for (size_t i = 0; i < ns; i++) {
                struct json_object *o = json_object_array_get_idx(slos, i);
                fputs("<h3>", f);
                esc(f, str(o, "name"));
                fputs(" <small>(", f);
                esc(f, str(o, "probe"));
                fputs(") — ", f);
                bool breached_here = c.breach_slo && streq(c.breach_slo, str(o, "name") ?: "");
                verdict(f, o, &c);
                /* The breached SLO: why it breached, then; the others:
                 * their state at the end of the run. */
                esc(f, breached_here ? str(breach, "why") : str(o, "why"));
                double rec = num(o, "recovered_after_ms", NAN);
                if (isfinite(rec))
                        fprintf(f, "; healthy again %.1f s after the revert", rec / 1000);
                fputs("</small></h3>\n", f);
                enum metric m[2];
                size_t nm = metrics_of(o, m);
                for (size_t k = 0; k < nm; k++)
                        plot(f, o, m[k], faults, &c);
        }
        /* Windows: scenario time, from ms, or ns of older reports. */
        double off = 0;
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
                a -= c.zero, b -= c.zero;
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
                fprintf(f, "\"><td class=\"t\">%.3f s</td><td>", ((get(e, "t_ms") ? num(e, "t_ms", 0) : ms(e, "mono", 0)) - c.zero) / 1e3);
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

#!/usr/bin/env python3
"""What the tests ask of the HTML report's plots (agent/html.c).

  html_check.py REPORT.json PAGE.html   check each SLO's plots against the
                                        report; print PASS/FAIL lines, exit 1
                                        on any failure

Positions are checked from the emitted coordinates: a value's y from the
y axis' ticks (data-v), a time's x from the x axis' ticks, each label a
box (x, baseline y, textLength wide, 11 px high) that overlaps no other.
"""
import json
import math
import re
import sys
import xml.etree.ElementTree as ET

FAILS = 0


def check(ok, what):
    global FAILS
    print(("PASS: " if ok else "FAIL: ") + what)
    FAILS += not ok


def fit(ticks, coord, log=False):
    """A map value -> coordinate from the ticks (value, coordinate)."""
    pts = [(math.log10(v) if log else v, c) for v, c in ticks]
    (v0, c0), (v1, c1) = pts[0], pts[-1]
    k = (c1 - c0) / (v1 - v0)
    return lambda v: c0 + ((math.log10(v) if log else v) - v0) * k


def boxes_overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def main(report, page):
    d = json.load(open(report))
    html = open(page).read()
    svgs = {}
    for m in re.finditer(r"<svg class=\"slo\".*?</svg>", html, re.S):
        e = ET.fromstring(m.group(0))
        svgs[(e.get("data-slo"), e.get("data-metric"))] = e
    b = d["breach"]
    for o in d["slos"]:
        th = o["thresholds"]
        if o["probe"] in ("prometheus", "psi"):
            want = [("value", [th[k] for k in ("max", "min") if k in th])]
        else:
            want = []
            if "max_error_rate" in th or "max_latency_ms" not in th:
                want.append(("error_rate", [th["max_error_rate"]] if "max_error_rate" in th else []))
            if "max_latency_ms" in th:
                want.append(("p99", [th["max_latency_ms"]]))
        for metric, lines in want:
            name = "%s/%s" % (o["name"], metric)
            e = svgs.get((o["name"], metric))
            check(e is not None, "%s: a plot of the metric the SLO is judged on" % name)
            if e is None:
                continue
            yt = sorted((float(t.get("data-v")), float(t.get("y1"))) for t in e.iter("line") if "ygrid" in (t.get("class") or ""))
            xt = sorted((float(t.get("data-v")), float(t.get("x1"))) for t in e.iter("line") if "xgrid" in (t.get("class") or ""))
            log = len(yt) > 2 and yt[0][0] > 0 and abs((yt[2][0] / yt[1][0]) - (yt[1][0] / yt[0][0])) < 1e-9 and yt[1][0] / yt[0][0] == 10
            Y, X = fit(yt, None, log), fit(xt, None)
            tl = [l for l in e.iter("line") if l.get("class") == "threshold"]
            check(sorted(float(l.get("data-v")) for l in tl) == sorted(lines),
                  "%s: dashed threshold lines at the SLO's %s, no other (not the timeout)" % (name, lines))
            for l in tl:
                v = float(l.get("data-v"))
                check(abs(float(l.get("y1")) - Y(v)) < 1.0, "%s: the threshold %g is drawn at its value on the y axis (y %s, axis says %.1f)" % (name, v, l.get("y1"), Y(v)))
            # The scale shows the data: the samples' metric spans more than
            # a sliver of the plot (unless it never moves).
            plotr = [r for r in e.iter("rect") if r.get("class") == "plot"][0]
            ph = float(plotr.get("height"))
            ys = [float(p.split(",")[1]) for pl in e.iter("polyline") for p in pl.get("points").split()]
            check(len(ys) > 3, "%s: the metric is plotted (%d points)" % (name, len(ys)))
            if metric == "p99":
                raw = [float(c.get("cy")) for c in e.iter("circle") if c.get("class") == "raw"]
                spread = max(raw) - min(raw) if raw else 0
                low = [s[2] for s in o["samples"] if s[2] is not None]
                check(min(raw) >= float(plotr.get("y")) - 0.5 and max(raw) <= float(plotr.get("y")) + ph + 0.5 and
                      (max(low) < 2 * min(low) or spread > ph / 4),
                      "%s: the latencies (%.2f to %.1f ms) spread over %.0f of %.0f px, not flat on the axis" % (name, min(low), max(low), spread, ph))
            # Phases.
            for cls, t0 in (("steady", d["steady_state"]["start_ms"]), ("faults", 0),
                            ("cooldown", d["cooldown"]["start_ms"])):
                r = [r for r in e.iter("rect") if r.get("class") == "phase " + cls]
                check(len(r) == 1 and abs(float(r[0].get("x")) - X(t0)) < 1.5,
                      "%s: the %s phase starts at %s ms" % (name, cls, t0))
            # Fault windows, skipped ones marked.
            for fa in d["faults"]:
                if fa["applied_ms"] is not None:
                    r = [r for r in e.iter("rect") if r.get("class") == "fault" and r.find("title").text.startswith(fa["name"] + " ")]
                    check(len(r) == 1 and abs(float(r[0].get("x")) - X(fa["applied_ms"])) < 1.5,
                          "%s: fault %s's band starts at %s ms" % (name, fa["name"], fa["applied_ms"]))
                if fa["state"] == "skipped":
                    check(any(t.text == fa["name"] + " (skipped)" for t in e.iter("text")) and
                          any(r.get("class") == "skipped" for r in e.iter("rect")),
                          "%s: fault %s marked as skipped" % (name, fa["name"]))
            # The breach and the revert.
            if b:
                bl = [l for l in e.iter("line") if (l.get("class") or "").startswith("breach")]
                check(len(bl) == 1 and abs(float(bl[0].get("x1")) - X(b["at_ms"])) < 1.5,
                      "%s: the breach marked at %s ms" % (name, b["at_ms"]))
                rv = [l for l in e.iter("line") if l.get("class") == "revert"]
                check(len(rv) == 1 and abs(float(rv[0].get("x1")) - X(b["at_ms"] + b["breach_to_reverted_ms"])) < 1.5,
                      "%s: the revert marked %s ms later" % (name, b["breach_to_reverted_ms"]))
                if b["slo"] == o["name"] and b["value"] is not None:
                    # The page judged as the run did: its metric at the
                    # breach is the breach's value.
                    pts = [tuple(map(float, p.split(","))) for pl in e.iter("polyline") for p in pl.get("points").split()]
                    last = [p for p in pts if p[0] <= X(b["at_ms"]) + 0.2]
                    check(last and abs(last[-1][1] - Y(b["value"])) < 1.0,
                          "%s: the plotted metric at the breach is the breach's value %g (y %.1f, want %.1f)" % (name, b["value"], last[-1][1] if last else -1, Y(b["value"])))
                check(any(re.fullmatch(r"reverted [0-9.]+ ms later", t.text or "") for t in e.iter("text")),
                      "%s: labelled 'reverted N ms later'" % name)
            # No label overlaps another.
            bx = [(float(t.get("x")), float(t.get("y")) - 11, float(t.get("x")) + float(t.get("textLength")), float(t.get("y")) + 3, t.text)
                  for t in e.iter("text")]
            bad = [(p[4], q[4]) for i, p in enumerate(bx) for q in bx[i + 1:] if boxes_overlap(p, q)]
            check(not bad and all(t.get("textLength") for t in e.iter("text")),
                  "%s: %d labels, none overlapping another%s" % (name, len(bx), ": %s" % bad[:3] if bad else ""))
            W = float(e.get("width"))
            check(all(p[0] >= 0 and p[2] <= W for p in bx), "%s: every label inside the plot's width" % name)
        # The heading tells the verdict at the breach.
        h = re.search(r"<h3>%s <small>.*?</small></h3>" % re.escape(o["name"]), html, re.S)
        if b and b["slo"] == o["name"]:
            check(h is not None and "breached at" in h.group(0) and "healthy: " not in h.group(0).split("At the end")[0],
                  "%s: its heading says it breached" % o["name"])
        elif b:
            check(h is not None and "held at the breach" in h.group(0), "%s: its heading says it held at the breach" % o["name"])
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

/* SPDX-License-Identifier: MIT */
#pragma once

/* sabot report RUN.json --html OUT.html: a self-contained page (no external
 * assets) with an SVG timeline per SLO — samples, thresholds, fault windows
 * as shaded bands, the abort — and the fault and event tables. Returns 0 or
 * a negative errno; -EBADMSG when the JSON is not a sabot report. */
int report_html(const char *json_path, const char *out_path);

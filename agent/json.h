/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

/* Every JSON sabot writes is built with json-c through these helpers, so
 * that one rule holds everywhere (agent/schema/README.md):
 *   - each document starts with "schema_version" (SABOT_SCHEMA_VERSION);
 *   - durations and offsets are numbers of milliseconds ("_ms"), to the
 *     microsecond, never integers of nanoseconds (above 2^53 they lose
 *     precision in JavaScript and jq);
 *   - points in time are RFC 3339 strings in UTC, to the millisecond;
 *   - proportions are percentages (0-100);
 *   - a number that is not finite is null, and KEY_nonfinite says which
 *     ("+Inf", "-Inf", "NaN"). */

#define SABOT_SCHEMA_VERSION 1

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put);

/* A new object with "schema_version" and "kind" (which schema it follows). */
struct json_object *json_doc_new(const char *kind);
/* A string, or null for NULL. */
struct json_object *json_str(const char *s);
/* ms from ns, as a number with at most three decimals. */
struct json_object *json_ms(uint64_t ns);
/* A finite double as a short number (%.6g-like, at most 3 decimals for
 * ms), or NULL (JSON null) when it is not finite. */
struct json_object *json_num(double v);
/* RFC 3339 UTC, milliseconds: "2026-12-01T13:04:43.123Z". */
struct json_object *json_time(uint64_t wall_ns);
/* "+Inf", "-Inf", "NaN", or NULL when v is finite. */
const char *json_nonfinite(double v);

/* obj[key] = v; when v is not finite, null and obj[key_nonfinite]. */
void json_add_number(struct json_object *obj, const char *key, double v);
/* Shorthands; the value object may be NULL (null). */
void json_add(struct json_object *obj, const char *key, struct json_object *v);

/* An array printed on one line even inside a pretty document (samples). */
void json_set_inline(struct json_object *array);

/* The document as text: pretty (files) or one line (stdout). */
const char *json_text(struct json_object *doc, bool pretty);
/* One line on out, then a newline; -EIO when out failed. */
int json_print(struct json_object *doc, FILE *out);

struct diags;
/* [{file, line (null: the whole file), level, key (null: none), message}],
 * sorted by file and line. */
struct json_object *json_diags(struct diags *d);

/* SPDX-License-Identifier: MIT */
#include <math.h>

#include "../../agent/json.h"
#include "testutil.h"

static const char *text(struct json_object *o) {
        return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE) : "null";
}

START_TEST(test_numbers) {
        struct json_object *o;
        ck_assert_str_eq(text(o = json_ms(2634306123ULL)), "2634.306");
        json_object_put(o);
        ck_assert_str_eq(text(o = json_ms(5 * NSEC_PER_SEC)), "5000");
        json_object_put(o);
        ck_assert_str_eq(text(o = json_ms(1500)), "0.001");
        json_object_put(o);
        /* Past 2^53 ns the ms stay exact to the microsecond. */
        ck_assert_str_eq(text(o = json_ms(18446744073709551615ULL)), "18446744073709.551");
        json_object_put(o);
        ck_assert_str_eq(text(o = json_num(0.1)), "0.1");
        json_object_put(o);
        ck_assert_str_eq(text(o = json_num(30)), "30");
        json_object_put(o);
        ck_assert_str_eq(text(o = json_num(-2.5)), "-2.5");
        json_object_put(o);
        ck_assert_str_eq(text(o = json_num(123456789.0)), "123456789");
        json_object_put(o);
        ck_assert_ptr_null(json_num(INFINITY));
        ck_assert_ptr_null(json_num(NAN));
        ck_assert_str_eq(json_nonfinite(-INFINITY), "-Inf");
        ck_assert_ptr_null(json_nonfinite(1.0));
        ck_assert_str_eq(text(o = json_time(1796131438359291261ULL)), "\"2026-12-01T13:23:58.359Z\"");
        json_object_put(o);
}
END_TEST

START_TEST(test_nonfinite) {
        struct json_object *o = json_object_new_object();
        json_add_number(o, "value", INFINITY);
        json_add_number(o, "threshold", 5);
        ck_assert_str_eq(text(o), "{ \"value\": null, \"value_nonfinite\": \"+Inf\", \"threshold\": 5 }");
        json_object_put(o);
        struct json_object *a = json_object_new_array();
        json_object_array_add(a, json_ms(NSEC_PER_MSEC));
        json_object_array_add(a, NULL);
        json_set_inline(a);
        o = json_object_new_object();
        json_add(o, "s", a);
        ck_assert_str_eq(json_text(o, true), "{\n  \"s\": [1, null]\n}");
        json_object_put(o);
}
END_TEST

START_TEST(test_diag_keys) {
        struct diags d = {.want_keys = true};
        struct scenario *s = NULL;
        const char *t = HEAD "[fault f]\ntype = latency\ninterface = lo\ndelay = 10ms\njitter = 2s\nprecent = 3\n";
        ck_assert_int_eq(scenario_parse("t.ini", t, strlen(t), &s, &d), 0);
        struct json_object *a = json_diags(&d);
        ck_assert_str_eq(text(a), "[ { \"file\": \"t.ini\", \"line\": 8, \"level\": \"error\", \"key\": \"jitter\", \"message\": "
                                  "\"jitter 2s is larger than delay 10ms; netem would clamp negative delays to 0 and reorder "
                                  "packets; use jitter <= delay\" }, { \"file\": \"t.ini\", \"line\": 9, \"level\": \"error\", "
                                  "\"key\": \"precent\", \"message\": \"unknown key 'precent' in [fault]; keys for latency: type, "
                                  "start, duration, interface, direction, delay, jitter, distribution, correlation, "
                                  "dst, src, dport, sport, protocol, target\" } ]");
        json_object_put(a);
        scenario_free(s);
        diags_free(&d);
        /* Keys are noted only when wanted. */
        struct diags e = {0};
        ck_assert_int_eq(scenario_parse("t.ini", t, strlen(t), &s, &e), 0);
        ck_assert_uint_eq(e.n_keys, 0);
        ck_assert_ptr_null(diags_key(&e, &e.v[0]));
        scenario_free(s);
        diags_free(&e);
}
END_TEST

/* Many keys, two files noted out of order, a line in 7 with no key: every
 * diagnostic gets its own line's key (the first noted for it), through
 * the sort and one pass (json_diags) and through the binary search. (The
 * lookup was a scan of every key for each diagnostic.) Hundreds, not
 * thousands: array_push grows one element at a time, and under ASan each
 * realloc moves, so filling 3000 took 1 to 2.3 s on a loaded machine. */
START_TEST(test_diag_keys_many) {
        enum { N = 400 };
        struct diags d = {.want_keys = true};
        char key[32];
        for (int f = 0; f < 2; f++)
                for (unsigned line = 1; line <= N; line++) {
                        if (line % 7 == 0)
                                continue;
                        snprintf(key, sizeof key, "%c%u", "ba"[f], line);
                        diags_note_key(&d, f ? "a.ini" : "b.ini", line, key);
                        if (line % 100 == 1) /* a second key on a line: not it */
                                diags_note_key(&d, f ? "a.ini" : "b.ini", line, "second");
                }
        for (unsigned line = N; line >= 1; line--) {
                diag_error(&d, "a.ini", line, "x");
                diag_error(&d, "b.ini", line, "x");
        }
        diag_error(&d, "a.ini", 0, "the whole file");
        struct json_object *a = json_diags(&d);
        ck_assert_uint_eq(json_object_array_length(a), 2 * N + 1);
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                struct json_object *o = json_object_array_get_idx(a, i), *k = NULL, *f = NULL, *l = NULL;
                json_object_object_get_ex(o, "key", &k);
                json_object_object_get_ex(o, "file", &f);
                json_object_object_get_ex(o, "line", &l);
                unsigned line = l ? (unsigned)json_object_get_int64(l) : 0;
                if (!line || line % 7 == 0) {
                        ck_assert_msg(!k, "%s:%u has key %s", json_object_get_string(f), line, json_object_get_string(k));
                        continue;
                }
                snprintf(key, sizeof key, "%c%u", json_object_get_string(f)[0], line);
                ck_assert_msg(k && streq(json_object_get_string(k), key), "%s:%u: key %s, want %s",
                              json_object_get_string(f), line, k ? json_object_get_string(k) : "none", key);
                /* The lookup on its own agrees. */
                ck_assert_str_eq(diags_key(&d, &d.v[i]), key);
        }
        json_object_put(a);
        diags_free(&d);
}
END_TEST

int main(void) {
        Suite *s = suite_create("json");
        TCase *tc = tcase_create("json");
        tcase_add_test(tc, test_numbers);
        tcase_add_test(tc, test_nonfinite);
        tcase_add_test(tc, test_diag_keys);
        tcase_add_test(tc, test_diag_keys_many);
        suite_add_tcase(s, tc);
        return run_suite(s);
}

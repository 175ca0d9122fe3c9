/* SPDX-License-Identifier: MIT */
#include "../../agent/options.h"
#include "testutil.h"

struct args {
        const char *path;
        bool flag, help;
};

static const struct option_def o_path = DEFINE_STRING("path", struct args, path, "PATH", "where\nand more");
static const struct option_def o_flag = DEFINE_FLAG("flag", 'f', struct args, flag, "a flag");
static const struct option_def o_help = {.name = "help", .short_name = 'h', .type = OPTION_FLAG,
                                         .offset = offsetof(struct args, help), .stop = true, .help = "help"};
static const struct option_def *const own[] = {&o_path, &o_flag, NULL};
static const struct option_def *const common[] = {&o_help, NULL};
static const struct option_set set = {{common, own}};

START_TEST(test_parse) {
        char *argv[] = {"cmd", "x.ini", "--path", "/p", "-f", "y.ini", NULL};
        struct args a = {0};
        const struct option_def *stop = NULL;
        int i = -1;
        ck_assert_int_eq(options_parse(&set, 6, argv, false, &a, &stop, &i), 0);
        ck_assert_str_eq(a.path, "/p");
        ck_assert(a.flag);
        ck_assert(!a.help);
        /* Operands permuted to the end, in order. */
        ck_assert_int_eq(i, 4);
        ck_assert_str_eq(argv[i], "x.ini");
        ck_assert_str_eq(argv[i + 1], "y.ini");

        /* "+": stops at the first operand. */
        char *argv2[] = {"sabot", "-f", "cmd", "--path", "/q", NULL};
        struct args b = {0};
        ck_assert_int_eq(options_parse(&set, 5, argv2, true, &b, &stop, &i), 0);
        ck_assert(b.flag);
        ck_assert_ptr_null(b.path);
        ck_assert_int_eq(i, 2);

        /* A stop option ends parsing at once, before a later error. */
        char *argv3[] = {"cmd", "--help", "--nope", NULL};
        struct args c = {0};
        ck_assert_int_eq(options_parse(&set, 3, argv3, false, &c, &stop, &i), 1);
        ck_assert_ptr_eq(stop, &o_help);

        /* Unknown option, missing value: usage errors. */
        char *argv4[] = {"cmd", "--nope", NULL};
        struct args d = {0};
        ck_assert_int_eq(options_parse(&set, 2, argv4, false, &d, &stop, &i), -EINVAL);
        char *argv5[] = {"cmd", "--path", NULL};
        ck_assert_int_eq(options_parse(&set, 2, argv5, false, &d, &stop, &i), -EINVAL);
}
END_TEST

START_TEST(test_help) {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        options_print_help(own, f);
        fclose(f);
        ck_assert_str_eq(out, "  --path PATH          where\n"
                              "                       and more\n"
                              "  -f, --flag           a flag\n");
        free(out);
}
END_TEST

int main(void) {
        Suite *s = suite_create("options");
        TCase *tc = tcase_create("options");
        tcase_add_test(tc, test_parse);
        tcase_add_test(tc, test_help);
        suite_add_tcase(s, tc);
        return run_suite(s);
}

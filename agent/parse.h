/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* Strict value parsers for scenario and policy files.
 *
 * Every parser has the same shape so that the key tables can point at it:
 * it reads `value`, stores into `field` (whose type the parser defines) and
 * returns 0, or returns a negative errno and writes "what is wrong; what is
 * allowed" into err (PARSE_ERR_MAX bytes). On failure the field is left as it
 * was. */
#define PARSE_ERR_MAX 320
typedef int (*value_parser_t)(const char *value, void *field, char *err);

/* A proportion: RATIO_ONE is 100%. Parts per billion fit in 32 bits and
 * compare directly against bpf_get_prandom_u32()-derived values later. */
typedef uint32_t ratio_t;
#define RATIO_ONE 1000000000U

struct cidr {
        uint8_t family; /* AF_INET or AF_INET6 */
        uint8_t prefix;
        uint8_t addr[16];
};
struct cidr_list {
        struct cidr *v;
        size_t n;
};
struct port_range {
        uint16_t lo, hi;
};
struct port_list {
        struct port_range *v;
        size_t n;
};
struct strv {
        char **v;
        size_t n;
};
struct syscall_list {
        int *nr;
        char **name;
        size_t n;
};

int parse_duration(const char *value, void *field /* uint64_t ns */, char *err);
int parse_ratio(const char *value, void *field /* ratio_t */, char *err);
int parse_uint32(const char *value, void *field /* uint32_t */, char *err);
/* A rate in bits per second: 10mbit, 512kbit, 1.5gbit (tc's bit units; bytes refused). */
int parse_rate(const char *value, void *field /* uint64_t bit/s */, char *err);
int parse_double(const char *value, void *field /* double */, char *err);
/* A clock offset, signed, in whole units s, m, h or d ("-2h", "+30d"):
 * seconds, at most CLOCK_OFFSET_MAX either way. */
#define CLOCK_OFFSET_MAX (100LL * 365 * 86400)
int parse_clock_offset(const char *value, void *field /* int64_t s */, char *err);
/* The same without a sign, for the policy's max_clock_offset. */
int parse_clock_span(const char *value, void *field /* uint64_t s */, char *err);
/* "256M": bytes, with a binary unit (B, K, M, G, T; KiB ... too). */
int parse_size(const char *value, void *field /* uint64_t */, char *err);
/* "8:0" or an absolute path (a block device's, checked by its user). */
int parse_block_device(const char *value, void *field /* char * */, char *err);
int parse_port_list(const char *value, void *field /* struct port_list */, char *err);
int parse_status_list(const char *value, void *field /* struct port_list: HTTP 100-599 */,
                      char *err);
int parse_cidr_list(const char *value, void *field /* struct cidr_list */, char *err);
int parse_signal(const char *value, void *field /* int */, char *err);
int parse_errno(const char *value, void *field /* int */, char *err);
int parse_syscall_list(const char *value, void *field /* struct syscall_list */, char *err);
int parse_ifname(const char *value, void *field /* char * */, char *err);
int parse_ifname_list(const char *value, void *field /* struct strv */, char *err);
int parse_unit_name(const char *value, void *field /* char * */, char *err);
int parse_unit_list(const char *value, void *field /* struct strv */, char *err);
int parse_comm(const char *value, void *field /* char * */, char *err);
int parse_comm_list(const char *value, void *field /* struct strv */, char *err);
int parse_abs_path(const char *value, void *field /* char * */, char *err);
int parse_cgroup_path(const char *value, void *field /* char * */, char *err);
int parse_pid(const char *value, void *field /* pid_t */, char *err);
int parse_command(const char *value, void *field /* char * */, char *err);
/* 0 if url is an http(s) URL an SLO probe can fetch; else -EINVAL and why. */
int url_check(const char *url, char *err);
int parse_url(const char *value, void *field /* char * */, char *err);
int parse_text(const char *value, void *field /* char * */, char *err);
int parse_name(const char *value, void *field /* char * */, char *err);
int parse_user_name(const char *value, void *field /* char * */, char *err);

/* Names: [a-z0-9][a-z0-9-]*, at most NAME_MAX_LEN characters. */
#define NAME_MAX_LEN 63
bool name_is_valid(const char *s);
bool ifname_is_valid(const char *s);
bool unit_name_is_valid(const char *s, char *err);

/* Look-ups, also for printing. NULL when unknown. */
const char *signal_to_name(int sig);
const char *errno_to_name(int e);

/* Formatting for messages and plans; return buf. */
#define FORMAT_MAX 64
char *format_duration(char buf[static FORMAT_MAX], uint64_t ns);
/* "-2h", "+30d", "+90s"; with sign false: the magnitude only ("365d"). */
char *format_clock_offset(char buf[static FORMAT_MAX], int64_t s, bool sign);
char *format_ratio(char buf[static FORMAT_MAX], ratio_t r);
char *format_rate(char buf[static FORMAT_MAX], uint64_t bits_per_s);
char *format_cidr(char buf[static FORMAT_MAX], const struct cidr *c);
/* Comma-separated; allocates. */
char *format_port_list(const struct port_list *l);
char *format_cidr_list(const struct cidr_list *l);
char *format_strv(const struct strv *l);

bool port_list_contains(const struct port_list *l, uint16_t port);

void cidr_list_free(struct cidr_list *l);
void port_list_free(struct port_list *l);
void strv_free(struct strv *l);
int strv_push(struct strv *l, const char *s);
bool strv_contains(const struct strv *l, const char *s);
void syscall_list_free(struct syscall_list *l);

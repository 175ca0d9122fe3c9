/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <strings.h>

#include "parse.h"

static int fail(char *err, const char *fmt, ...) _printf_(2, 3);
static int fail(char *err, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, PARSE_ERR_MAX, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* Items of a comma-separated list, trimmed. Empty items are errors. */
static int split_list(const char *value, struct strv *ret, char *err) {
        struct strv l = {0};
        const char *p = value;
        for (;;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t)(comma - p) : strlen(p);
                while (len > 0 && isspace((unsigned char)*p))
                        p++, len--;
                while (len > 0 && isspace((unsigned char)p[len - 1]))
                        len--;
                if (len == 0) {
                        strv_free(&l);
                        return fail(err, "empty item in the list '%s'; separate items with "
                                         "single commas", value);
                }
                char *item = strndup(p, len);
                if (!item || array_push(&l.v, &l.n, sizeof item, &item) < 0) {
                        free(item);
                        strv_free(&l);
                        return -ENOMEM;
                }
                if (!comma)
                        break;
                p = comma + 1;
        }
        *ret = l;
        return 0;
}

/* digits[.digits]: the integer part and the fraction in billionths. */
static int parse_decimal(const char **pp, uint64_t *ret_int, uint64_t *ret_frac, unsigned *ret_fdigits) {
        const char *p = *pp;
        uint64_t ip = 0, frac = 0;
        unsigned nd = 0, fd = 0;
        while (isdigit((unsigned char)*p)) {
                if (ip > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                ip = ip * 10 + (uint64_t)(*p++ - '0');
                nd++;
        }
        if (*p == '.') {
                p++;
                uint64_t scale = 100000000; /* first decimal digit is 1e8 billionths */
                while (isdigit((unsigned char)*p)) {
                        if (fd == 9)
                                return -EDOM;
                        frac += (uint64_t)(*p++ - '0') * scale;
                        scale /= 10;
                        fd++;
                }
                if (fd == 0)
                        return -EINVAL;
        }
        if (nd == 0)
                return -EINVAL;
        *pp = p;
        *ret_int = ip;
        *ret_frac = frac;
        if (ret_fdigits)
                *ret_fdigits = fd;
        return 0;
}

static const struct {
        const char *suffix;
        uint64_t ns;
} duration_units[] = {
        /* Longest suffix first so that "ms" is not read as "m" + garbage. */
        {"ns", 1},
        {"us", NSEC_PER_USEC},
        {"ms", NSEC_PER_MSEC},
        {"h", 3600 * NSEC_PER_SEC},
        {"m", 60 * NSEC_PER_SEC},
        {"s", NSEC_PER_SEC},
};

#define DURATION_ALLOWED "a number with a unit, largest first: h, m, s, ms, us, ns (e.g. 250ms, 10s, 1m30s, 1.5s)"

int parse_duration(const char *value, void *field, char *err) {
        const char *p = value;
        if (streq(value, "0")) {
                *(uint64_t *)field = 0;
                return 0;
        }
        unsigned __int128 total = 0;
        uint64_t last_unit = UINT64_MAX;
        while (*p) {
                uint64_t ip, frac;
                int r = parse_decimal(&p, &ip, &frac, NULL);
                if (r == -EDOM)
                        return fail(err, "'%s' has more than 9 decimal places; durations have "
                                         "nanosecond resolution", value);
                if (r < 0)
                        return fail(err, "invalid duration '%s'; use " DURATION_ALLOWED, value);
                const char *unit = NULL;
                uint64_t ns = 0;
                for (size_t i = 0; i < ELEMENTSOF(duration_units); i++) {
                        size_t l = strlen(duration_units[i].suffix);
                        if (strncmp(p, duration_units[i].suffix, l) == 0 &&
                            !isalpha((unsigned char)p[l])) {
                                unit = duration_units[i].suffix;
                                ns = duration_units[i].ns;
                                p += l;
                                break;
                        }
                }
                if (!unit)
                        return fail(err, "'%s' lacks a valid unit; use " DURATION_ALLOWED, value);
                if (ns >= last_unit)
                        return fail(err, "'%s' repeats a unit or puts a smaller unit first; use " DURATION_ALLOWED, value);
                last_unit = ns;
                total += (unsigned __int128)ip * ns + (unsigned __int128)frac * ns / NSEC_PER_SEC;
                if (total > (unsigned __int128)UINT64_MAX)
                        return fail(err, "duration '%s' is too long; the maximum is about 584 years", value);
                if (frac && ns == 1)
                        return fail(err, "'%s' has a fraction of a nanosecond; durations have "
                                         "nanosecond resolution", value);
        }
        *(uint64_t *)field = (uint64_t)total;
        return 0;
}

#define RATIO_ALLOWED "a percentage from 0%% to 100%% (e.g. 5%%, 0.5%%) or a fraction from 0 to 1.0 (e.g. 0.05)"

int parse_ratio(const char *value, void *field, char *err) {
        const char *p = value;
        uint64_t ip, frac;
        unsigned fd;
        int r = parse_decimal(&p, &ip, &frac, &fd);
        if (r == -EDOM)
                return fail(err, "'%s' has too many decimal places; use " RATIO_ALLOWED, value);
        if (r < 0 || ip > 1000)
                return fail(err, "invalid proportion '%s'; use " RATIO_ALLOWED, value);
        uint64_t ppb;
        if (*p == '%' && p[1] == '\0') {
                if (fd > 7)
                        return fail(err, "'%s' is finer than 0.0000001%%; use at most 7 decimal places", value);
                ppb = (ip * NSEC_PER_SEC + frac) / 100;
                if (ppb > RATIO_ONE)
                        return fail(err, "%s is more than 100%%; use " RATIO_ALLOWED, value);
        } else if (*p == '\0') {
                /* A bare "5" is ambiguous (5%? 500%?): a fraction must be
                 * written with a decimal point, except 0. */
                if (fd == 0 && ip != 0)
                        return fail(err, "'%s' is ambiguous; write %s%% for a percentage or %s.0 "
                                         "for a fraction; use " RATIO_ALLOWED, value, value, value);
                ppb = ip * NSEC_PER_SEC + frac;
                if (ppb > RATIO_ONE)
                        return fail(err, "%s is more than 1.0 (100%%); write %s%% for a percentage; "
                                         "use " RATIO_ALLOWED, value, value);
        } else
                return fail(err, "invalid proportion '%s'; use " RATIO_ALLOWED, value);
        *(ratio_t *)field = (ratio_t)ppb;
        return 0;
}

static int parse_u64_strict(const char *s, uint64_t max, uint64_t *ret) {
        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        uint64_t v = 0;
        for (; *s; s++) {
                if (!isdigit((unsigned char)*s))
                        return -EINVAL;
                v = v * 10 + (uint64_t)(*s - '0');
                if (v > max)
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

#define RATE_ALLOWED "a number with a unit in bits per second: bit, kbit, mbit, gbit (e.g. 10mbit, 512kbit, 1.5gbit)"

int parse_rate(const char *value, void *field, char *err) {
        static const struct {
                const char *suffix;
                uint64_t bits;
        } units[] = {{"gbit", 1000000000ULL}, {"mbit", 1000000ULL}, {"kbit", 1000ULL}, {"bit", 1ULL}};
        const char *p = value;
        uint64_t ip, frac;
        int r = parse_decimal(&p, &ip, &frac, NULL);
        if (r < 0)
                return fail(err, "invalid rate '%s'; use " RATE_ALLOWED, value);
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(p, units[i].suffix)) {
                        unsigned __int128 v = (unsigned __int128)ip * units[i].bits +
                                              (unsigned __int128)frac * units[i].bits / NSEC_PER_SEC;
                        if (v > 1000ULL * 1000000000ULL)
                                return fail(err, "rate '%s' is above 1000gbit; use " RATE_ALLOWED, value);
                        if ((unsigned __int128)frac * units[i].bits % NSEC_PER_SEC)
                                return fail(err, "'%s' has a fraction of a bit per second", value);
                        *(uint64_t *)field = (uint64_t)v;
                        return 0;
                }
        /* tc's own "kbps" means kilobytes per second: too easy to misread. */
        if (strstr(p, "bps") || strstr(p, "Bps") || strstr(p, "B/s"))
                return fail(err, "'%s': bytes per second are not accepted (tc's kbps means kilobytes per second, "
                                 "a common mistake); write bits: " RATE_ALLOWED, value);
        return fail(err, "'%s' lacks a valid unit; use " RATE_ALLOWED, value);
}

int parse_uint32(const char *value, void *field, char *err) {
        uint64_t v;
        int r = parse_u64_strict(value, UINT32_MAX, &v);
        if (r == -ERANGE)
                return fail(err, "%s is too large; the maximum is %u", value, UINT32_MAX);
        if (r < 0)
                return fail(err, "invalid number '%s'; use a whole number from 0 to %u", value, UINT32_MAX);
        *(uint32_t *)field = (uint32_t)v;
        return 0;
}

int parse_size(const char *value, void *field, char *err) {
        static const struct {
                const char *suffix;
                unsigned shift;
        } units[] = {{"B", 0}, {"K", 10}, {"KiB", 10}, {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30}, {"T", 40}, {"TiB", 40}};
        size_t digits = strspn(value, "0123456789");
        char num[32];
        if (streq(value, "0")) { /* no unit needed for nothing */
                *(uint64_t *)field = 0;
                return 0;
        }
        if (digits == 0 || digits >= sizeof num)
                return fail(err, "invalid size '%s'; use a whole number with a unit: B, K, M, G or T "
                                 "(binary: 1K = 1024 bytes), e.g. 256M", value);
        memcpy(num, value, digits);
        num[digits] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(value + digits, units[i].suffix)) {
                        uint64_t v;
                        if (parse_u64_strict(num, UINT64_MAX >> units[i].shift, &v) < 0)
                                return fail(err, "size '%s' is too large", value);
                        *(uint64_t *)field = v << units[i].shift;
                        return 0;
                }
        return fail(err, "invalid size '%s'; use a whole number with a unit: B, K, M, G or T "
                         "(binary: 1K = 1024 bytes), e.g. 256M", value);
}

static int set_string(void *field, const char *value);

int parse_block_device(const char *value, void *field, char *err) {
        unsigned maj, min;
        int n = 0;
        if (value[0] == '/')
                return parse_abs_path(value, field, err);
        if (sscanf(value, "%u:%u%n", &maj, &min, &n) == 2 && value[n] == '\0' && isdigit((unsigned char)value[0]) &&
            strspn(value, "0123456789:") == strlen(value))
                return set_string(field, value);
        return fail(err, "invalid device '%s'; use MAJOR:MINOR (e.g. 8:0, see lsblk) or a block device path "
                         "(e.g. /dev/sda)", value);
}

int parse_double(const char *value, void *field, char *err) {
        /* strtod alone accepts "inf", "nan", hex floats and leading space. */
        if (value[strspn(value, "0123456789.eE+-")] != '\0' || !*value)
                return fail(err, "invalid number '%s'; use a decimal number such as 0.5, 100 or 1e6", value);
        char *end;
        errno = 0;
        double d = strtod(value, &end);
        if (errno != 0 || *end || !isfinite(d))
                return fail(err, "invalid number '%s'; use a finite decimal number such as 0.5, 100 or 1e6", value);
        *(double *)field = d;
        return 0;
}

static int parse_range_list(const char *value, void *field, char *err, unsigned lo_lim,
                            unsigned hi_lim, const char *what) {
        struct strv items = {0};
        struct port_list l = {0};
        int r = split_list(value, &items, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < items.n; i++) {
                char *it = items.v[i];
                char *dash = strchr(it, '-');
                uint64_t lo, hi;
                if (dash)
                        *dash = '\0';
                r = parse_u64_strict(it, hi_lim, &lo);
                if (r >= 0 && dash)
                        r = parse_u64_strict(dash + 1, hi_lim, &hi);
                else
                        hi = lo;
                if (dash)
                        *dash = '-';
                if (r < 0 || lo < lo_lim) {
                        r = fail(err, "invalid %s '%s'; use numbers from %u to %u or ranges like "
                                      "%u-%u, separated by commas", what, it, lo_lim, hi_lim,
                                 lo_lim == 1 ? 8000 : 200, lo_lim == 1 ? 8080 : 299);
                        goto out;
                }
                if (lo > hi) {
                        r = fail(err, "%s range '%s' is backwards; write the smaller number first", what, it);
                        goto out;
                }
                struct port_range pr = {(uint16_t)lo, (uint16_t)hi};
                r = array_push(&l.v, &l.n, sizeof pr, &pr);
                if (r < 0)
                        goto out;
        }
        port_list_free(field);
        *(struct port_list *)field = l;
        l = (struct port_list){0};
        r = 0;
out:
        port_list_free(&l);
        strv_free(&items);
        return r;
}

int parse_port_list(const char *value, void *field, char *err) {
        return parse_range_list(value, field, err, 1, 65535, "port");
}

int parse_status_list(const char *value, void *field, char *err) {
        return parse_range_list(value, field, err, 100, 599, "HTTP status");
}

static int parse_cidr(const char *s, struct cidr *ret, char *err) {
        char addr[INET6_ADDRSTRLEN + 1];
        const char *slash = strchr(s, '/');
        size_t alen = slash ? (size_t)(slash - s) : strlen(s);
        if (alen == 0 || alen >= sizeof addr)
                return fail(err, "invalid address '%s'; use an IPv4 or IPv6 CIDR such as "
                                 "10.1.2.0/24 or fd00::/64", s);
        memcpy(addr, s, alen);
        addr[alen] = '\0';

        struct cidr c = {0};
        c.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(c.family, addr, c.addr) != 1)
                return fail(err, "invalid address '%s'; use an IPv4 or IPv6 CIDR such as "
                                 "10.1.2.0/24 or fd00::/64", s);
        unsigned maxp = c.family == AF_INET ? 32 : 128;
        uint64_t prefix = maxp;
        if (slash && (parse_u64_strict(slash + 1, 255, &prefix) < 0 || prefix > maxp))
                return fail(err, "invalid prefix length in '%s'; use /0 to /%u", s, maxp);
        c.prefix = (uint8_t)prefix;
        /* Host bits set usually means a typo in the prefix: refuse it. */
        for (unsigned bit = c.prefix; bit < maxp; bit++)
                if (c.addr[bit / 8] & (0x80 >> (bit % 8))) {
                        struct cidr fixed = c;
                        for (unsigned b = c.prefix; b < maxp; b++)
                                fixed.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
                        char buf[FORMAT_MAX];
                        return fail(err, "'%s' has bits set after the /%u prefix; did you mean %s?", s,
                                    c.prefix, format_cidr(buf, &fixed));
                }
        *ret = c;
        return 0;
}

int parse_cidr_list(const char *value, void *field, char *err) {
        struct strv items = {0};
        struct cidr_list l = {0};
        int r = split_list(value, &items, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < items.n; i++) {
                struct cidr c;
                r = parse_cidr(items.v[i], &c, err);
                if (r < 0)
                        goto out;
                r = array_push(&l.v, &l.n, sizeof c, &c);
                if (r < 0)
                        goto out;
        }
        cidr_list_free(field);
        *(struct cidr_list *)field = l;
        l = (struct cidr_list){0};
out:
        cidr_list_free(&l);
        strv_free(&items);
        return r;
}

static const struct {
        const char *name;
        int sig;
} signals[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},
        {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"BUS", SIGBUS},   {"FPE", SIGFPE},
        {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
        {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM}, {"CHLD", SIGCHLD},
        {"CONT", SIGCONT}, {"STOP", SIGSTOP},     {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
        {"TTOU", SIGTTOU}, {"URG", SIGURG},       {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
        {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
        {"PWR", SIGPWR},   {"SYS", SIGSYS},
};

const char *signal_to_name(int sig) {
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (signals[i].sig == sig)
                        return signals[i].name;
        return NULL;
}

int parse_signal(const char *value, void *field, char *err) {
        const char *v = strncasecmp(value, "SIG", 3) == 0 ? value + 3 : value;
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (strcasecmp(v, signals[i].name) == 0) {
                        int s = signals[i].sig;
                        if (s == SIGSTOP || s == SIGTSTP || s == SIGTTIN || s == SIGTTOU || s == SIGCONT)
                                return fail(err, "SIG%s stops or resumes processes and would leave them "
                                                 "stopped; use type = pause, which resumes them at the "
                                                 "window's end", signals[i].name);
                        *(int *)field = s;
                        return 0;
                }
        return fail(err, "unknown signal '%s'; use a name such as SIGKILL, SIGTERM, SIGINT, SIGHUP, "
                         "SIGQUIT, SIGABRT, SIGSEGV, SIGUSR1 or SIGUSR2", value);
}

const char *errno_to_name(int e) { return e > 0 ? strerrorname_np(e) : NULL; }

int parse_errno(const char *value, void *field, char *err) {
        /* glibc knows the names: strerrorname_np() since 2.32. */
        for (int e = 1; e < 256; e++) {
                const char *n = strerrorname_np(e);
                if (n && strcasecmp(n, value) == 0) {
                        *(int *)field = e;
                        return 0;
                }
        }
        return fail(err, "unknown errno '%s'; use a name such as EIO, ENOSPC, EACCES, EPERM, "
                         "ECONNREFUSED, ETIMEDOUT, EAGAIN or EINTR", value);
}

int parse_syscall_list(const char *value, void *field, char *err) {
        struct strv items = {0};
        struct syscall_list l = {0};
        int r = split_list(value, &items, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < items.n; i++) {
                const char *n = items.v[i];
                if (n[strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_")] != '\0') {
                        r = fail(err, "invalid system call name '%s'; use lower-case names such as "
                                      "write, openat, connect", n);
                        goto out;
                }
                int nr = seccomp_syscall_resolve_name(n);
                /* Negative numbers are libseccomp's pseudo-syscalls: names that
                 * exist on some architecture but not on this one. */
                if (nr < 0) {
                        r = fail(err, "'%s' is not a system call on this architecture; use names "
                                      "from syscalls(2) such as write, openat, connect", n);
                        goto out;
                }
                for (size_t j = 0; j < l.n; j++)
                        if (l.nr[j] == nr) {
                                r = fail(err, "system call '%s' is listed twice", n);
                                goto out;
                        }
                char *dup = strdup(n);
                size_t n2 = l.n;
                if (!dup || array_push(&l.nr, &n2, sizeof nr, &nr) < 0 ||
                    array_push(&l.name, &l.n, sizeof dup, &dup) < 0) {
                        free(dup);
                        r = -ENOMEM;
                        goto out;
                }
        }
        syscall_list_free(field);
        *(struct syscall_list *)field = l;
        l = (struct syscall_list){0};
out:
        syscall_list_free(&l);
        strv_free(&items);
        return r;
}

static int set_string(void *field, const char *value) {
        char *d = strdup(value);
        if (!d)
                return -ENOMEM;
        free(*(char **)field);
        *(char **)field = d;
        return 0;
}

static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

bool ifname_is_valid(const char *s) {
        /* The kernel's dev_valid_name(). */
        size_t l = strlen(s);
        if (l == 0 || l >= IFNAMSIZ || streq(s, ".") || streq(s, ".."))
                return false;
        for (; *s; s++)
                if (*s == '/' || *s == ':' || isspace((unsigned char)*s) || !isprint((unsigned char)*s))
                        return false;
        return true;
}

int parse_ifname(const char *value, void *field, char *err) {
        if (!ifname_is_valid(value))
                return fail(err, "invalid interface name '%s'; use 1 to %d characters without '/', "
                                 "':' or spaces (e.g. eth0)", value, IFNAMSIZ - 1);
        return set_string(field, value);
}

static int parse_strv_with(const char *value, void *field, char *err,
                           int (*one)(const char *, void *, char *)) {
        struct strv items = {0};
        int r = split_list(value, &items, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < items.n; i++) {
                char *tmp = NULL;
                r = one(items.v[i], &tmp, err);
                free(tmp);
                if (r < 0) {
                        strv_free(&items);
                        return r;
                }
        }
        strv_free(field);
        *(struct strv *)field = items;
        return 0;
}

int parse_ifname_list(const char *value, void *field, char *err) {
        return parse_strv_with(value, field, err, parse_ifname);
}

static const char *const unit_suffixes[] = {"service", "scope", "slice", "socket", "mount", "swap"};

bool unit_name_is_valid(const char *s, char *err) {
        /* systemd's unit_name_is_valid(), restricted to the unit types that
         * can own processes. */
        const char *dot = strrchr(s, '.');
        size_t l = strlen(s);
        char dummy[PARSE_ERR_MAX];
        if (!err)
                err = dummy;
        if (l == 0 || l > 255 || !dot || dot == s) {
                fail(err, "invalid unit name '%s'; use a full systemd unit name such as "
                          "checkout.service, with at most 255 characters", s);
                return false;
        }
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(unit_suffixes); i++)
                known = known || streq(dot + 1, unit_suffixes[i]);
        if (!known) {
                fail(err, "unit '%s' has no processes to target; use a .service, .scope, .slice, "
                          ".socket, .mount or .swap unit", s);
                return false;
        }
        const char *at = memchr(s, '@', (size_t)(dot - s));
        if (at && (at == s || at + 1 == dot || memchr(at + 1, '@', (size_t)(dot - at - 1)))) {
                fail(err, "'%s' is a unit template or malformed instance; name an instance such as "
                          "worker@1.service", s);
                return false;
        }
        for (const char *p = s; p < dot; p++)
                if (!isalnum((unsigned char)*p) && !strchr(":-_.\\@", *p)) {
                        fail(err, "invalid character '%c' in unit name '%s'; allowed are letters, "
                                  "digits and : - _ . \\ @", *p, s);
                        return false;
                }
        return true;
}

int parse_unit_name(const char *value, void *field, char *err) {
        if (!unit_name_is_valid(value, err))
                return -EINVAL;
        return set_string(field, value);
}

int parse_unit_list(const char *value, void *field, char *err) {
        return parse_strv_with(value, field, err, parse_unit_name);
}

int parse_comm(const char *value, void *field, char *err) {
        /* TASK_COMM_LEN is 16 including the NUL: the kernel truncates longer
         * names, so a longer selector could never match. */
        size_t l = strlen(value);
        if (l == 0 || l > 15 || strchr(value, '/') || has_control_chars(value))
                return fail(err, "invalid process name '%s'; use 1 to 15 characters without '/', "
                                 "as in /proc/PID/comm (the kernel truncates names to 15)", value);
        return set_string(field, value);
}

int parse_comm_list(const char *value, void *field, char *err) {
        return parse_strv_with(value, field, err, parse_comm);
}

static bool path_has_dotdot(const char *p) {
        for (const char *c = p; (c = strstr(c, "..")); c += 2)
                if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
                        return true;
        return false;
}

int parse_abs_path(const char *value, void *field, char *err) {
        if (value[0] != '/' || strlen(value) >= PATH_MAX || has_control_chars(value) ||
            path_has_dotdot(value))
                return fail(err, "invalid path '%s'; use an absolute path without '..' components "
                                 "(e.g. /run/app.pid)", value);
        return set_string(field, value);
}

int parse_cgroup_path(const char *value, void *field, char *err) {
        const char *v = value;
        while (*v == '/')
                v++;
        if (!*v || strlen(v) >= PATH_MAX || has_control_chars(v) || path_has_dotdot(v) ||
            strstr(v, "//") || strstr(v, "/./") || v[strlen(v) - 1] == '/')
                return fail(err, "invalid cgroup path '%s'; use a path below the cgroup2 mount such "
                                 "as system.slice/checkout.service", value);
        return set_string(field, v);
}

int parse_pid(const char *value, void *field, char *err) {
        uint64_t v;
        /* PID_MAX_LIMIT on 64-bit kernels is 2^22. */
        if (parse_u64_strict(value, 4194304, &v) < 0 || v == 0)
                return fail(err, "invalid pid '%s'; use a number from 2 to 4194304", value);
        if (v == 1)
                return fail(err, "PID 1 is always protected; target another process");
        *(pid_t *)field = (pid_t)v;
        return 0;
}

int parse_command(const char *value, void *field, char *err) {
        if (value[0] != '/' || has_control_chars(value) || strlen(value) > 4096)
                return fail(err, "invalid command '%s'; use an absolute program path and its "
                                 "arguments separated by spaces (no shell), e.g. /usr/bin/app --port 8080",
                            value);
        return set_string(field, value);
}

/* A strict URL parser for what the SLO probes fetch, checked where the
 * file is validated: `sabot validate` may run on a machine without libcurl,
 * which a run loads only when it starts (curl_lib.c). It follows libcurl's
 * URL API (curl_url_set) for what matters here and is stricter where that
 * is lenient: scheme http or https; an optional user[:password]@; a host
 * that is a bracketed IPv6 address (optionally with a %zone) or a name
 * without the characters libcurl's hostname check rejects; a port of 1 to
 * 65535 if one is given (libcurl takes an empty one, and parses 99999 only
 * to fail at connect); then a path, query or fragment. A run checks the URL
 * with curl_url_set as well before it touches anything. */
int url_check(const char *url, char *err) {
        const char *rest = NULL;
        if (strncasecmp(url, "http://", 7) == 0)
                rest = url + 7;
        else if (strncasecmp(url, "https://", 8) == 0)
                rest = url + 8;
        if (!rest)
                return fail(err, "invalid URL '%s'; use http://HOST[:PORT]/PATH or https://…", url);
        if (has_control_chars(url) || strchr(url, ' ') || strlen(url) > 2048)
                return fail(err, "invalid URL '%s': spaces, control characters or more than 2048 characters", url);
        size_t alen = strcspn(rest, "/?#");
        char auth[2049];
        memcpy(auth, rest, alen);
        auth[alen] = '\0';
        char *host = strrchr(auth, '@');
        host = host ? host + 1 : auth;
        char *port = NULL;
        if (*host == '[') {
                char *close = strchr(host, ']');
                if (!close)
                        return fail(err, "invalid URL '%s': '[' opens an IPv6 address that ']' does not close", url);
                *close = '\0';
                char addr[INET6_ADDRSTRLEN + 64];
                snprintf(addr, sizeof addr, "%s", host + 1);
                char *zone = strchr(addr, '%');
                if (zone)
                        *zone = '\0';
                struct in6_addr a6;
                if (inet_pton(AF_INET6, addr, &a6) != 1 || (zone && !zone[1]))
                        return fail(err, "invalid URL '%s': '%s' is not an IPv6 address", url, host + 1);
                if (close[1] == ':')
                        port = close + 2;
                else if (close[1])
                        return fail(err, "invalid URL '%s': after ']' only ':PORT' may follow", url);
        } else {
                char *colon = strchr(host, ':');
                if (colon) {
                        *colon = '\0';
                        port = colon + 1;
                }
                if (!*host)
                        return fail(err, "invalid URL '%s': no host; use http://HOST[:PORT]/PATH", url);
                for (const char *c = host; *c; c++)
                        if (!((unsigned char)*c >= 0x80 || isalnum((unsigned char)*c) || strchr("-._~", *c)))
                                return fail(err, "invalid URL '%s': '%c' cannot be in a host name", url, *c);
        }
        if (port) {
                uint64_t v;
                if (parse_u64_strict(port, 65535, &v) < 0 || v == 0 || strlen(port) > 5)
                        return fail(err, "invalid URL '%s': port '%s' is not a number from 1 to 65535", url, port);
        }
        return 0;
}

int parse_url(const char *value, void *field, char *err) {
        int r = url_check(value, err);
        if (r < 0)
                return r;
        return set_string(field, value);
}

int parse_text(const char *value, void *field, char *err) {
        if (has_control_chars(value) || strlen(value) > 1024)
                return fail(err, "text has control characters or is longer than 1024 characters");
        return set_string(field, value);
}

bool name_is_valid(const char *s) {
        size_t l = strlen(s);
        if (l == 0 || l > NAME_MAX_LEN || s[0] == '-')
                return false;
        return s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-")] == '\0';
}

int parse_name(const char *value, void *field, char *err) {
        if (!name_is_valid(value))
                return fail(err, "invalid name '%s'; use 1 to %d characters of a-z, 0-9 and '-', "
                                 "not starting with '-'", value, NAME_MAX_LEN);
        return set_string(field, value);
}

/* A local user's name as Debian's adduser allows it by default
 * (NAME_REGEX ^[a-z][-a-z0-9_]*\$?$), at most 32 characters. */
int parse_user_name(const char *value, void *field, char *err) {
        size_t n = strlen(value);
        bool ok = n >= 1 && n <= 32 && value[0] >= 'a' && value[0] <= 'z';
        for (size_t i = 1; ok && i < n; i++) {
                char c = value[i];
                ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                     (c == '$' && i == n - 1);
        }
        if (!ok)
                return fail(err, "invalid user name '%s'; use 1 to 32 characters of a-z, 0-9, '-' and '_', "
                                 "starting with a letter (a trailing '$' is allowed)", value);
        return set_string(field, value);
}

/* One format: whole minutes or hours as such ("5m", "2h"), anything else
 * of a second or more in seconds with the fraction it has ("11.008s",
 * "1.5s", "20s"), below that milliseconds, microseconds, nanoseconds
 * ("200ms", "1.25ms"). parse_duration reads every one back. */
char *format_duration(char buf[static FORMAT_MAX], uint64_t ns) {
        if (ns == 0)
                return strcpy(buf, "0");
        if (ns % (3600 * NSEC_PER_SEC) == 0)
                snprintf(buf, FORMAT_MAX, "%lluh", (unsigned long long)(ns / (3600 * NSEC_PER_SEC)));
        else if (ns % (60 * NSEC_PER_SEC) == 0)
                snprintf(buf, FORMAT_MAX, "%llum", (unsigned long long)(ns / (60 * NSEC_PER_SEC)));
        else {
                static const struct {
                        const char *u;
                        uint64_t ns;
                        int digits;
                } units[] = {{"s", NSEC_PER_SEC, 9}, {"ms", NSEC_PER_MSEC, 6}, {"us", NSEC_PER_USEC, 3}, {"ns", 1, 0}};
                size_t i = 0;
                while (ns < units[i].ns)
                        i++;
                int n = snprintf(buf, FORMAT_MAX, "%llu.%0*llu", (unsigned long long)(ns / units[i].ns), units[i].digits,
                                 (unsigned long long)(ns % units[i].ns));
                while (n > 0 && buf[n - 1] == '0')
                        buf[--n] = '\0';
                if (n > 0 && buf[n - 1] == '.')
                        buf[--n] = '\0';
                snprintf(buf + n, FORMAT_MAX - (size_t)n, "%s", units[i].u);
        }
        return buf;
}

char *format_ratio(char buf[static FORMAT_MAX], ratio_t r) {
        /* 1% is 10^7 ppb. */
        snprintf(buf, FORMAT_MAX, "%u.%07u", r / 10000000U, r % 10000000U);
        char *e = buf + strlen(buf) - 1;
        while (*e == '0')
                *e-- = '\0';
        if (*e == '.')
                *e = '\0';
        strcat(buf, "%");
        return buf;
}

char *format_rate(char buf[static FORMAT_MAX], uint64_t bits) {
        static const struct {
                const char *suffix;
                uint64_t bits;
        } units[] = {{"gbit", 1000000000ULL}, {"mbit", 1000000ULL}, {"kbit", 1000ULL}};
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (bits >= units[i].bits) {
                        uint64_t w = bits / units[i].bits, f = bits % units[i].bits;
                        if (!f)
                                snprintf(buf, FORMAT_MAX, "%llu%s", (unsigned long long)w, units[i].suffix);
                        else {
                                /* As many decimals as the unit has digits, trailing zeros dropped. */
                                int digits = i == 0 ? 9 : i == 1 ? 6 : 3;
                                snprintf(buf, FORMAT_MAX, "%llu.%0*llu", (unsigned long long)w, digits,
                                         (unsigned long long)f);
                                char *e = buf + strlen(buf) - 1;
                                while (*e == '0')
                                        *e-- = '\0';
                                strcat(buf, units[i].suffix);
                        }
                        return buf;
                }
        snprintf(buf, FORMAT_MAX, "%llubit", (unsigned long long)bits);
        return buf;
}

char *format_cidr(char buf[static FORMAT_MAX], const struct cidr *c) {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(c->family, c->addr, a, sizeof a);
        snprintf(buf, FORMAT_MAX, "%s/%u", a, c->prefix);
        return buf;
}

static char *join(size_t n, char *(*one)(const void *, size_t, char *), const void *arr) {
        size_t cap = 1, len = 0;
        char *out = calloc(1, 1);
        for (size_t i = 0; out && i < n; i++) {
                char tmp[FORMAT_MAX * 4];
                const char *s = one(arr, i, tmp);
                size_t l = strlen(s) + 2;
                char *no = realloc(out, cap + l);
                if (!no) {
                        free(out);
                        return NULL;
                }
                out = no;
                cap += l;
                len += (size_t)sprintf(out + len, "%s%s", i ? ", " : "", s);
        }
        return out;
}

static char *one_port(const void *arr, size_t i, char *tmp) {
        const struct port_range *p = (const struct port_range *)arr + i;
        if (p->lo == p->hi)
                sprintf(tmp, "%u", p->lo);
        else
                sprintf(tmp, "%u-%u", p->lo, p->hi);
        return tmp;
}
static char *one_cidr(const void *arr, size_t i, char *tmp) {
        return format_cidr(tmp, (const struct cidr *)arr + i);
}
static char *one_str(const void *arr, size_t i, char *tmp) {
        (void)tmp;
        return ((char *const *)arr)[i];
}

char *format_port_list(const struct port_list *l) { return join(l->n, one_port, l->v); }
char *format_cidr_list(const struct cidr_list *l) { return join(l->n, one_cidr, l->v); }
char *format_strv(const struct strv *l) { return join(l->n, one_str, l->v); }

bool port_list_contains(const struct port_list *l, uint16_t port) {
        for (size_t i = 0; i < l->n; i++)
                if (port >= l->v[i].lo && port <= l->v[i].hi)
                        return true;
        return false;
}

void cidr_list_free(struct cidr_list *l) {
        free(l->v);
        *l = (struct cidr_list){0};
}
void port_list_free(struct port_list *l) {
        free(l->v);
        *l = (struct port_list){0};
}
void strv_free(struct strv *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (struct strv){0};
}
int strv_push(struct strv *l, const char *s) {
        char *d = strdup(s);
        if (!d || array_push(&l->v, &l->n, sizeof d, &d) < 0) {
                free(d);
                return -ENOMEM;
        }
        return 0;
}
bool strv_contains(const struct strv *l, const char *s) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->v[i], s))
                        return true;
        return false;
}
void syscall_list_free(struct syscall_list *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->name[i]);
        free(l->name);
        free(l->nr);
        *l = (struct syscall_list){0};
}

#define CLOCK_OFFSET_ALLOWED "a whole number with one unit of s, m, h, d (e.g. -2h, +30d)"

static int clock_amount(const char *value, const char *p, uint64_t *ret, char *err) {
        static const struct {
                char u;
                uint64_t s;
        } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
        uint64_t n = 0;
        size_t nd = 0;
        /* Past the ceiling the digits are still read (n stays above it),
         * so that a long number is "too large", not "lacks a unit". */
        for (; isdigit((unsigned char)*p); p++, nd++)
                if (n <= (uint64_t)CLOCK_OFFSET_MAX)
                        n = n * 10 + (uint64_t)(*p - '0');
        if (nd == 0)
                return fail(err, "invalid clock offset '%s'; use " CLOCK_OFFSET_ALLOWED, value);
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (p[0] == units[i].u && p[1] == '\0') {
                        if (n > (uint64_t)CLOCK_OFFSET_MAX / units[i].s)
                                return fail(err, "clock offset '%s' is too large; the most is 36500d (100 years)",
                                            value);
                        *ret = n * units[i].s;
                        return 0;
                }
        return fail(err, "'%s' lacks a valid unit; use " CLOCK_OFFSET_ALLOWED, value);
}

int parse_clock_offset(const char *value, void *field, char *err) {
        if (value[0] != '+' && value[0] != '-')
                return fail(err, "clock offset '%s' needs a sign: + (ahead) or - (behind); use " CLOCK_OFFSET_ALLOWED,
                            value);
        uint64_t n;
        int r = clock_amount(value, value + 1, &n, err);
        if (r < 0)
                return r;
        *(int64_t *)field = value[0] == '-' ? -(int64_t)n : (int64_t)n;
        return 0;
}

int parse_clock_span(const char *value, void *field, char *err) {
        if (streq(value, "0")) {
                *(uint64_t *)field = 0;
                return 0;
        }
        return clock_amount(value, value, (uint64_t *)field, err);
}

char *format_clock_offset(char buf[static FORMAT_MAX], int64_t s, bool sign) {
        uint64_t m = s < 0 ? (uint64_t)(-s) : (uint64_t)s;
        const char *pre = !sign ? "" : s < 0 ? "-" : "+";
        if (m && m % 86400 == 0)
                snprintf(buf, FORMAT_MAX, "%s%llud", pre, (unsigned long long)(m / 86400));
        else if (m && m % 3600 == 0)
                snprintf(buf, FORMAT_MAX, "%s%lluh", pre, (unsigned long long)(m / 3600));
        else if (m && m % 60 == 0)
                snprintf(buf, FORMAT_MAX, "%s%llum", pre, (unsigned long long)(m / 60));
        else
                snprintf(buf, FORMAT_MAX, "%s%llus", pre, (unsigned long long)m);
        return buf;
}

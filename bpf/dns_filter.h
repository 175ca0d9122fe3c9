/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by bpf/dns_filter.bpf.c and faults/dns_filter_loader.c. */
#pragma once

#define DNS_MAX_DOMAINS 16
#define DNS_MAX_PORT_RANGES 16
#define DNS_MAX_PROTECTED 16
#define DNS_MAX_CIDRS 64
/* A name in wire form: at most 255 bytes, the root label's 0 included. */
#define DNS_NAME_MAX 255

/* What a matching query gets: a response with this RCODE (RFC 1035
 * 4.1.1, RFC 6895), or nothing at all (the query is dropped). */
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_REFUSED 5
#define DNS_DROP 0xff

/* A domain the fault is for, in wire form ("\7example\3com\0"),
 * lower case; the name of a query must end with it on a label boundary. */
struct dns_domain {
        __u32 len; /* bytes of name, the final 0 included */
        __u8 name[256];
};

struct dns_lpm4 {
        __u32 prefixlen;
        __u8 addr[4];
};

struct dns_lpm6 {
        __u32 prefixlen;
        __u8 addr[16];
};

struct dns_port_range {
        __u16 lo, hi;
};

/* Counters, per CPU: DNS queries seen (UDP to a matching port, parsed),
 * of them matched (name, resolver, target), and what was done to them:
 * answered with the RCODE, or dropped. Protected: left alone because of a
 * protected port. */
enum dns_counter { DNS_SEEN, DNS_PROTECTED, DNS_MATCHED, DNS_ANSWERED, DNS_DROPPED, DNS_FAILED, _DNS_COUNTERS };

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by bpf/tcp_reset.bpf.c and faults/tcp_reset_loader.c. */
#pragma once

#define TR_MAX_PORT_RANGES 16
#define TR_MAX_PROTECTED 16
#define TR_MAX_CIDRS 64
#define TR_MAX_CONNS 4096

struct tr_lpm4 {
        __u32 prefixlen;
        __u8 addr[4];
};

struct tr_lpm6 {
        __u32 prefixlen;
        __u8 addr[16];
};

struct tr_port_range {
        __u16 lo, hi;
};

/* A connection as its segments name it (addresses zero-padded for IPv4). */
struct tr_conn {
        __u8 saddr[16], daddr[16];
        __u16 sport, dport;
        __u32 family;
};

/* Counters, per CPU: TCP segments seen, left alone for a protected port,
 * matched (addresses, ports, target, the connection's share), turned
 * into a RST (reset), failed to rewrite (then dropped), the connections
 * hit (first reset of a 4-tuple, up to TR_MAX_CONNS remembered), and on
 * ingress the matching segments let through for their socket to say its
 * rcv_nxt (passed). */
enum tr_counter { TR_SEEN, TR_PROTECTED, TR_MATCHED, TR_RESET, TR_FAILED, TR_CONNS, TR_PASSED, _TR_COUNTERS };

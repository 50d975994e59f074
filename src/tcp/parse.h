/* SPDX-License-Identifier: BSD-2-Clause */
/* ebee tcp: pure parsers and formatters (state names, ports, CIDRs), unit-tested. */
#ifndef EBEE_TCP_PARSE_H
#define EBEE_TCP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcp/tcp.h"

/* "ESTABLISHED", ..., or NULL for a number that is no state. */
const char *tcp_state_name(int state);
/* A state by name, case-insensitive, '-' or '_': its number, or -1. */
int tcp_state_parse(const char *s);
/* Comma-free list of every valid name, for error messages. */
const char *tcp_state_names(void);
/* A port 1..65535 (decimal): 0 or -EINVAL. */
int tcp_port_parse(const char *s, uint16_t *port);
/* "ADDR" or "ADDR/LEN", IPv4 or IPv6: 0 or -EINVAL. Host bits are masked off. */
int tcp_cidr_parse(const char *s, struct tcp_cidr *c);
/* Address of a family into buf (>= 46 bytes). */
const char *tcp_addr_fmt(int family, const uint8_t *addr, char *buf, size_t len);
/* "local", "remote", "reset", "abort" or "-" (enum tcp_first). */
const char *tcp_first_name(int first);

#endif

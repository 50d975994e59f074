/* SPDX-License-Identifier: BSD-2-Clause */
/* ebee tcp: pure parsers and formatters (state names, CIDR masks), unit-tested. */
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
/* A CIDR of the typed option (--laddr/--raddr) as the kernel side matches it: the address
 * with host bits masked off and the prefix as a byte mask. */
struct opt_cidr;
void tcp_cidr_from(const struct opt_cidr *o, struct tcp_cidr *c);
/* Address of a family into buf (>= 46 bytes). */
const char *tcp_addr_fmt(int family, const uint8_t *addr, char *buf, size_t len);
/* "local", "remote", "reset", "abort" or "-" (enum tcp_first). */
const char *tcp_first_name(int first);

#endif

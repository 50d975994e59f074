/* SPDX-License-Identifier: BSD-2-Clause */
/* Every subcommand, one line each; main.c orders them into the table. */
#ifndef EBEE_COMMANDS_H
#define EBEE_COMMANDS_H
#include "core/cmd.h"

extern const struct ebee_cmd doctor_cmd;    /* src/doctor */
extern const struct ebee_cmd count_cmd;     /* src/count */
extern const struct ebee_cmd tcp_cmd;       /* src/tcp */
extern const struct ebee_cmd prog_cmd;      /* src/prog */
extern const struct ebee_cmd top_cmd;       /* src/top */
extern const struct ebee_cmd bench_cmd;     /* src/bench */
extern const struct ebee_cmd netwatch_cmd;  /* src/netwatch */
extern const struct ebee_cmd cleanup_cmd;   /* src/netwatch */
extern const struct ebee_cmd geoip_cmd;     /* src/geoip */
extern const struct ebee_cmd serve_cmd;     /* src/serve */
extern const struct ebee_cmd uprobe_cmd;    /* src/uprobe */
extern const struct ebee_cmd policy_cmd;    /* src/policy */
extern const struct ebee_cmd http_cmd;      /* src/http */
extern const struct ebee_cmd exec_cmd;      /* src/events */
extern const struct ebee_cmd open_cmd;      /* src/events */
extern const struct ebee_cmd events_cmd;    /* src/events */
extern const struct ebee_cmd graph_cmd;     /* src/graph */
extern const struct ebee_cmd guard_cmd;     /* src/guard */

#endif

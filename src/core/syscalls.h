/* SPDX-License-Identifier: BSD-2-Clause */
/* Syscall numbers and names of the architecture ebee was built for, as the kernel names them. */
#ifndef EBEE_SYSCALLS_H
#define EBEE_SYSCALLS_H

#define EBEE_MAX_SYSCALLS 1024   /* above the highest x86_64/arm64 number; ids are checked */

const char *syscall_name(int nr);            /* NULL when unknown */
int syscall_nr(const char *name);            /* -1 when unknown; accepts "sys_clone" too */
/* The known name closest to `name` (for "did you mean"), or NULL. */
const char *syscall_suggest(const char *name);
/* Iteration: fills nr/name of the i-th known syscall; returns 0 past the end. */
int syscall_at(int i, int *nr, const char **name);

#endif

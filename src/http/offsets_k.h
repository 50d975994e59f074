/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* The Go struct offsets ebee http reads, shared by the kernel side and offsets.c. Apart from
 * http.h because offsets.c includes <elf.h> (libdw), whose EV_NONE/EV_CURRENT macros collide
 * with core/event.h's enum. */
#ifndef EBEE_HTTP_OFFSETS_K_H
#define EBEE_HTTP_OFFSETS_K_H

/* Field offsets in the traced binary's Go structs (DWARF or the table in offsets.c), set as a
 * rodata constant. 0xffff = unknown (that field is not read). */
struct http_offsets {
	__u16 req_method;         /* http.Request.Method (string) */
	__u16 req_url;            /* http.Request.URL (*url.URL) */
	__u16 req_content_length; /* http.Request.ContentLength (int64) */
	__u16 req_remote_addr;    /* http.Request.RemoteAddr (string) */
	__u16 url_host;           /* url.URL.Host (string) */
	__u16 url_path;           /* url.URL.Path (string) */
	__u16 resp_status_code;   /* http.Response.StatusCode (int) */
	__u16 g_goid;             /* runtime.g.goid (int64) */
	__u16 rw_status;          /* http.response.status (int): the code WriteHeader set */
};

#endif

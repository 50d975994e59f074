// SPDX-License-Identifier: BSD-2-Clause
/* libmicrohttpd, opened when the daemon starts its HTTP server rather than linked: linking it
 * maps it and its TLS stack (gnutls, p11-kit, nettle, gmp...) into every ebee command, 3.1 MB
 * of peak RSS for `ebee count` that only `serve` uses (bench/memory). serve.c calls the MHD_*
 * functions as usual; these definitions forward to the library's, looked up on first use. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "core/ebee.h"

static struct {
	void *lib;
	struct MHD_Daemon *(*start_va)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
				       MHD_AccessHandlerCallback, void *, va_list);
	void (*stop)(struct MHD_Daemon *);
	const union MHD_DaemonInfo *(*info)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
	enum MHD_Result (*get_timeout)(struct MHD_Daemon *, MHD_UNSIGNED_LONG_LONG *);
	enum MHD_Result (*run)(struct MHD_Daemon *);
	const char *(*lookup)(struct MHD_Connection *, enum MHD_ValueKind, const char *);
	enum MHD_Result (*queue)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
	struct MHD_Response *(*create)(size_t, void *, enum MHD_ResponseMemoryMode);
	void (*destroy)(struct MHD_Response *);
	enum MHD_Result (*header)(struct MHD_Response *, const char *, const char *);
} mhd;

/* Only MHD_start_daemon can be the first call: the others need what it returned. */
static int mhd_load(void)
{
	if (mhd.lib)
		return 0;
	mhd.lib = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
	if (!mhd.lib) {
		ebee_err("cannot load libmicrohttpd: %s (package libmicrohttpd12)", dlerror());
		return -1;
	}
	*(void **)&mhd.start_va = dlsym(mhd.lib, "MHD_start_daemon_va");
	*(void **)&mhd.stop = dlsym(mhd.lib, "MHD_stop_daemon");
	*(void **)&mhd.info = dlsym(mhd.lib, "MHD_get_daemon_info");
	*(void **)&mhd.get_timeout = dlsym(mhd.lib, "MHD_get_timeout");
	*(void **)&mhd.run = dlsym(mhd.lib, "MHD_run");
	*(void **)&mhd.lookup = dlsym(mhd.lib, "MHD_lookup_connection_value");
	*(void **)&mhd.queue = dlsym(mhd.lib, "MHD_queue_response");
	*(void **)&mhd.create = dlsym(mhd.lib, "MHD_create_response_from_buffer");
	*(void **)&mhd.destroy = dlsym(mhd.lib, "MHD_destroy_response");
	*(void **)&mhd.header = dlsym(mhd.lib, "MHD_add_response_header");
	if (!mhd.start_va || !mhd.stop || !mhd.info || !mhd.get_timeout || !mhd.run || !mhd.lookup ||
	    !mhd.queue || !mhd.create || !mhd.destroy || !mhd.header) {
		ebee_err("cannot load libmicrohttpd: a function is missing (%s)", dlerror());
		dlclose(mhd.lib);
		mhd.lib = NULL;
		return -1;
	}
	return 0;
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
				    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	struct MHD_Daemon *d;
	va_list ap;

	if (mhd_load())
		return NULL;
	va_start(ap, dh_cls);
	d = mhd.start_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

void MHD_stop_daemon(struct MHD_Daemon *d)
{
	mhd.stop(d);
}

/* The info types ebee asks for take no further argument. */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType t, ...)
{
	return mhd.info(d, t);
}

enum MHD_Result MHD_get_timeout(struct MHD_Daemon *d, MHD_UNSIGNED_LONG_LONG *timeout)
{
	return mhd.get_timeout(d, timeout);
}

enum MHD_Result MHD_run(struct MHD_Daemon *d)
{
	return mhd.run(d);
}

const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
					const char *key)
{
	return mhd.lookup(c, kind, key);
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int status,
				   struct MHD_Response *r)
{
	return mhd.queue(c, status, r);
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buf,
						     enum MHD_ResponseMemoryMode mode)
{
	return mhd.create(size, buf, mode);
}

void MHD_destroy_response(struct MHD_Response *r)
{
	mhd.destroy(r);
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *h, const char *v)
{
	return mhd.header(r, h, v);
}

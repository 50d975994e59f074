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

/* Every function serve uses but the variadic ones: X(return type, name, parameters, arguments). */
#define MHD_FUNCS(X)                                                                              \
	X(void, MHD_stop_daemon, (struct MHD_Daemon * d), (d))                                    \
	X(enum MHD_Result, MHD_get_timeout, (struct MHD_Daemon * d, MHD_UNSIGNED_LONG_LONG * t),  \
	  (d, t))                                                                                 \
	X(enum MHD_Result, MHD_run, (struct MHD_Daemon * d), (d))                                 \
	X(const char *, MHD_lookup_connection_value,                                              \
	  (struct MHD_Connection * c, enum MHD_ValueKind k, const char *key), (c, k, key))        \
	X(int, MHD_get_connection_values,                                                         \
	  (struct MHD_Connection * c, enum MHD_ValueKind k, MHD_KeyValueIterator it, void *cls),  \
	  (c, k, it, cls))                                                                        \
	X(enum MHD_Result, MHD_queue_response,                                                    \
	  (struct MHD_Connection * c, unsigned int status, struct MHD_Response *r),               \
	  (c, status, r))                                                                         \
	X(struct MHD_Response *, MHD_create_response_from_buffer,                                 \
	  (size_t size, void *buf, enum MHD_ResponseMemoryMode mode), (size, buf, mode))          \
	X(struct MHD_Response *, MHD_create_response_from_callback,                               \
	  (uint64_t size, size_t block, MHD_ContentReaderCallback crc, void *cls,                 \
	   MHD_ContentReaderFreeCallback crfc),                                                   \
	  (size, block, crc, cls, crfc))                                                          \
	X(void, MHD_destroy_response, (struct MHD_Response * r), (r))                             \
	X(enum MHD_Result, MHD_add_response_header,                                               \
	  (struct MHD_Response * r, const char *h, const char *v), (r, h, v))                     \
	X(void, MHD_suspend_connection, (struct MHD_Connection * c), (c))                         \
	X(void, MHD_resume_connection, (struct MHD_Connection * c), (c))

#define MHD_PTR(ret, name, params, args) ret(*name) params;
static struct {
	void *lib;
	struct MHD_Daemon *(*MHD_start_daemon_va)(unsigned int, uint16_t, MHD_AcceptPolicyCallback,
						  void *, MHD_AccessHandlerCallback, void *, va_list);
	const union MHD_DaemonInfo *(*MHD_get_daemon_info)(struct MHD_Daemon *,
							   enum MHD_DaemonInfoType, ...);
	enum MHD_Result (*MHD_set_connection_option)(struct MHD_Connection *,
						     enum MHD_CONNECTION_OPTION, ...);
	MHD_FUNCS(MHD_PTR)
} mhd;

static int mhd_sym(void **slot, const char *name)
{
	*slot = dlsym(mhd.lib, name);
	if (*slot)
		return 0;
	ebee_err("cannot load libmicrohttpd: %s is missing", name);
	return -1;
}

#define MHD_LOAD(ret, name, params, args) || mhd_sym((void **)&mhd.name, #name)
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
	if (mhd_sym((void **)&mhd.MHD_start_daemon_va, "MHD_start_daemon_va") ||
	    mhd_sym((void **)&mhd.MHD_get_daemon_info, "MHD_get_daemon_info") ||
	    mhd_sym((void **)&mhd.MHD_set_connection_option, "MHD_set_connection_option")
	    MHD_FUNCS(MHD_LOAD)) {
		dlclose(mhd.lib);
		mhd.lib = NULL;
		return -1;
	}
	return 0;
}

#define MHD_DEF(ret, name, params, args)                                                          \
	ret name params                                                                           \
	{                                                                                         \
		return mhd.name args;                                                             \
	}
MHD_FUNCS(MHD_DEF)

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
				    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	struct MHD_Daemon *d;
	va_list ap;

	if (mhd_load())
		return NULL;
	va_start(ap, dh_cls);
	d = mhd.MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

/* The info types ebee asks for take no further argument. */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType t, ...)
{
	return mhd.MHD_get_daemon_info(d, t);
}

/* The one option ebee sets, MHD_CONNECTION_OPTION_TIMEOUT, takes an unsigned int. */
enum MHD_Result MHD_set_connection_option(struct MHD_Connection *c, enum MHD_CONNECTION_OPTION o, ...)
{
	va_list ap;
	unsigned int v;

	va_start(ap, o);
	v = va_arg(ap, unsigned int);
	va_end(ap);
	return mhd.MHD_set_connection_option(c, o, v);
}

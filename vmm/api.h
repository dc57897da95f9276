/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Firecracker-compatible control API: routing and validation of
 * requests (api.c), the HTTP server on a UNIX socket (api_server.c) and the
 * Firecracker-style command line (api_cli.c). docs/api.md lists the
 * endpoints and where cvmm differs from Firecracker.
 *
 * Everything here runs on the main thread's loop: a request changes the one
 * struct vmm_config that `cvmm run` also fills, and VM actions go through
 * struct vmm_api_ops, so the router is testable without KVM.
 */
#ifndef CVMM_VMM_API_H
#define CVMM_VMM_API_H

#include "cli.h"
#include <cvmm/ratelimit.h>
#include <cvmm/sys.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_API_DEFAULT_SOCK "/run/firecracker.socket"
#define VMM_API_DEFAULT_ID "anonymous-instance"
#define VMM_API_DEFAULT_MAX_PAYLOAD 51200
#define VMM_API_MAX_ID 64

enum vmm_state { VMM_STATE_NOT_STARTED, VMM_STATE_RUNNING, VMM_STATE_PAUSED };

enum vmm_log_level {
	VMM_LOG_OFF,
	VMM_LOG_ERROR,
	VMM_LOG_WARNING,
	VMM_LOG_INFO,
	VMM_LOG_DEBUG,
	VMM_LOG_TRACE
};

/* What the monitor does for the router. Each returns 0 or a negative errno
 * with a cvmm_err() message that becomes the fault_message. */
struct vmm_api_ops {
	/* Build and start the VM from api->cfg; on failure nothing of it is left. */
	int (*start)(void *opaque);
	int (*pause)(void *opaque);
	int (*resume)(void *opaque);
	int (*ctrl_alt_del)(void *opaque);
	int (*flush_metrics)(void *opaque);
	/* Running VM, disk index: new limits (NULL: keep that bucket). */
	int (*drive_limit)(void *opaque, unsigned int disk,
			   const struct cvmm_ratelimit_bucket *bytes,
			   const struct cvmm_ratelimit_bucket *ops);
	/* Running VM, disk index: replace the backing file (the guest sees a
	 * media change with the new capacity); the old one is kept on failure. */
	int (*drive_swap)(void *opaque, unsigned int disk, const char *path);
	/* Running VM, interface index, rx or tx: new limits (NULL: keep). */
	int (*net_limit)(void *opaque, unsigned int iface, bool rx,
			 const struct cvmm_ratelimit_bucket *bytes,
			 const struct cvmm_ratelimit_bucket *ops);
	/* Open the log (path NULL: stderr) or the metrics output. */
	int (*logger)(void *opaque, const char *path, enum vmm_log_level level, bool show_level,
		      bool show_origin);
	int (*metrics)(void *opaque, const char *path);
};

struct vmm_api_stats {
	uint64_t requests;
	uint64_t errors;
	uint64_t latency_ns_total;
	uint64_t latency_ns_max;
};

struct vmm_api {
	struct vmm_config cfg; /* the VM's configuration; strings owned below */
	char *kernel, *initrd, *boot_args;
	char id[VMM_API_MAX_ID + 1];
	enum vmm_state state;
	size_t max_payload;
	/* Firecracker fields kept for GET (cvmm has no use for them). */
	char *log_path, *metrics_path;
	enum vmm_log_level log_level;
	bool log_show_level, log_show_origin, logger_set;
	const struct vmm_api_ops *ops;
	void *opaque;
	struct vmm_api_stats stats;
};

struct vmm_api_response {
	int status; /* 200, 204 or 400 */
	char *body; /* malloc'd JSON, NULL for 204 */
};

/* Defaults as Firecracker's (1 vCPU, 128 MiB), no boot source, no drives. */
void vmm_api_init(struct vmm_api *api, const struct vmm_api_ops *ops, void *opaque);
void vmm_api_free(struct vmm_api *api);

/*
 * Handle one request. path may carry a query string (ignored). body may be
 * NULL when len is 0. Always fills resp: 2xx, or 400 with
 * {"fault_message": ...}; the VM is left as it was on any 400.
 */
void vmm_api_handle(struct vmm_api *api, const char *method, const char *path, const char *body,
		    size_t len, struct vmm_api_response *resp);
/* A 400 response carrying msg, for errors found before routing. */
void vmm_api_fault(struct vmm_api_response *resp, const char *msg);

/*
 * Apply a Firecracker JSON configuration file's text (boot-source, drives,
 * machine-config, network-interfaces, vsock, entropy, logger, metrics) as
 * the matching PUT requests would. Returns 0 or -EINVAL with a message
 * naming the key path (e.g. "drives[1].path_on_host: ...").
 */
int vmm_api_load_config(struct vmm_api *api, const char *text, size_t len);

/* Log-level name (case-insensitive, Firecracker's) to enum; -EINVAL if unknown. */
int vmm_api_parse_level(const char *name, enum vmm_log_level *out);
const char *vmm_api_level_name(enum vmm_log_level level);
const char *vmm_api_state_name(enum vmm_state state);

/* api_http.c: one connection's HTTP/1.1 state, without I/O. */
struct vmm_api_http;
int vmm_api_http_create(struct vmm_api_http **out, struct vmm_api *api);
void vmm_api_http_destroy(struct vmm_api_http *h);
/* Parse bytes from the client, handling each complete request and queueing
 * its response. Returns false once the connection is to be closed after the
 * queued output is sent (bad HTTP, body over the limit, Connection: close). */
bool vmm_api_http_input(struct vmm_api_http *h, const char *data, size_t len);
/* Queued output, and how much of it was sent. */
const char *vmm_api_http_output(const struct vmm_api_http *h, size_t *len);
void vmm_api_http_consume(struct vmm_api_http *h, size_t n);
bool vmm_api_http_closing(const struct vmm_api_http *h);

/* api_server.c: the HTTP/1.1 server on a UNIX socket, on the given loop. */
struct vmm_api_server;
/* Create the socket (mode 0600; an existing path is refused unless it is a
 * socket nobody listens on) and start accepting. Errors name --api-sock. */
int vmm_api_server_create(struct vmm_api_server **out, struct cvmm_loop *loop, const char *path,
			  struct vmm_api *api);
/* Close every connection, the socket, and remove the socket file. */
void vmm_api_server_destroy(struct vmm_api_server *srv);

/* api_cli.c: `cvmm [--api-sock PATH] ...`, Firecracker's flags. */
struct vmm_api_args {
	const char *api_sock;
	const char *id;
	const char *config_file;
	const char *log_path;
	const char *metrics_path;
	enum vmm_log_level level;
	bool level_set;
	bool show_level, show_log_origin;
	bool no_api;
	bool boot_timer;
	size_t max_payload;
};

/* Parse argv (argv[0] is the program). Returns 0, 1 after printing help or
 * the version, or -EINVAL after printing one "cvmm: ..." line. Flags that only
 * tune Firecracker's seccomp filter are accepted with a warning on stderr. */
int vmm_api_cli_parse(int argc, char **argv, struct vmm_api_args *args);
void vmm_api_cli_usage(FILE *out);

#endif

// SPDX-License-Identifier: Apache-2.0
/* The API's routing, validation and phase rules, and its HTTP framing,
 * against stub VM operations (no KVM). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"

struct stub {
	unsigned int starts, pauses, resumes, cads, flushes, limits, swaps, net_limits;
	bool net_rx; /* direction of the last net_limit */
	int start_ret;
	char swapped[64];
	struct cvmm_ratelimit_bucket last_bytes;
	bool got_bytes, got_ops;
};

static struct stub stub;
static char tmpdir[] = "/tmp/cvmm-test-api.XXXXXX";
static char file_a[64], file_b[64];

static int s_start(void *o)
{
	(void)o;
	stub.starts++;
	return stub.start_ret ? cvmm_err(EINVAL, "boot-source.kernel_image_path: bad kernel") : 0;
}
static int s_pause(void *o)
{
	(void)o;
	stub.pauses++;
	return 0;
}
static int s_resume(void *o)
{
	(void)o;
	stub.resumes++;
	return 0;
}
static int s_cad(void *o)
{
	(void)o;
	stub.cads++;
	return 0;
}
static int s_flush(void *o)
{
	(void)o;
	stub.flushes++;
	return 0;
}
static int s_limit(void *o, unsigned int disk, const struct cvmm_ratelimit_bucket *b,
		   const struct cvmm_ratelimit_bucket *ops)
{
	(void)o;
	(void)disk;
	stub.limits++;
	stub.got_bytes = b != NULL;
	stub.got_ops = ops != NULL;
	if (b)
		stub.last_bytes = *b;
	return 0;
}
static int s_swap(void *o, unsigned int disk, const char *path)
{
	(void)o;
	(void)disk;
	if (strstr(path, "locked"))
		return cvmm_err(EBUSY, "virtio-blk: %s is locked by another user of the image",
				path);
	stub.swaps++;
	snprintf(stub.swapped, sizeof(stub.swapped), "%s", path);
	return 0;
}
static int s_net_limit(void *o, unsigned int iface, bool rx, const struct cvmm_ratelimit_bucket *b,
		       const struct cvmm_ratelimit_bucket *ops)
{
	(void)o;
	(void)iface;
	stub.net_limits++;
	stub.net_rx = rx;
	stub.got_bytes = b != NULL;
	stub.got_ops = ops != NULL;
	return 0;
}
static int s_logger(void *o, const char *path, enum vmm_log_level l, bool sl, bool so)
{
	(void)o, (void)path, (void)l, (void)sl, (void)so;
	return 0;
}
static int s_metrics(void *o, const char *path)
{
	(void)o;
	return strstr(path, "bad") ? cvmm_err(ENOENT, "cannot open '%s'", path) : 0;
}

static const struct vmm_api_ops ops = {
    .start = s_start,
    .pause = s_pause,
    .resume = s_resume,
    .ctrl_alt_del = s_cad,
    .flush_metrics = s_flush,
    .drive_limit = s_limit,
    .drive_swap = s_swap,
    .net_limit = s_net_limit,
    .logger = s_logger,
    .metrics = s_metrics,
};

static int setup(void **state)
{
	struct vmm_api *api = calloc(1, sizeof(*api));

	memset(&stub, 0, sizeof(stub));
	vmm_api_init(api, &ops, NULL);
	*state = api;
	return 0;
}

static int teardown(void **state)
{
	vmm_api_free(*state);
	free(*state);
	return 0;
}

/* Send a request; returns the status, the body in *body (static buffer). */
static int req(struct vmm_api *api, const char *m, const char *path, const char *json,
	       const char **body)
{
	static char buf[4096];
	struct vmm_api_response r;

	vmm_api_handle(api, m, path, json, json ? strlen(json) : 0, &r);
	snprintf(buf, sizeof(buf), "%s", r.body ? r.body : "");
	free(r.body);
	if (body)
		*body = buf;
	if (r.status == 400)
		assert_non_null(strstr(buf, "\"fault_message\""));
	return r.status;
}

static void expect_fault(struct vmm_api *api, const char *m, const char *path, const char *json,
			 const char *want)
{
	const char *body;

	assert_int_equal(req(api, m, path, json, &body), 400);
	if (!strstr(body, want))
		fail_msg("%s %s %s: fault %s lacks '%s'", m, path, json ? json : "", body, want);
}

static void boot_source(struct vmm_api *api)
{
	char json[256];

	snprintf(json, sizeof(json), "{\"kernel_image_path\": \"%s\"}", file_a);
	assert_int_equal(req(api, "PUT", "/boot-source", json, NULL), 204);
}

static void test_info_and_version(void **state)
{
	struct vmm_api *api = *state;
	const char *body;

	assert_int_equal(req(api, "GET", "/", NULL, &body), 200);
	assert_non_null(strstr(body, "\"state\":\"Not started\""));
	assert_non_null(strstr(body, "\"id\":\"anonymous-instance\""));
	assert_non_null(strstr(body, "\"app_name\":\"cvmm\""));
	assert_int_equal(req(api, "GET", "/version", NULL, &body), 200);
	assert_non_null(strstr(body, "firecracker_version"));
	assert_int_equal(req(api, "GET", "/machine-config", NULL, &body), 200);
	assert_non_null(strstr(body, "\"vcpu_count\":1"));
	assert_non_null(strstr(body, "\"mem_size_mib\":128"));
	/* Query strings and a trailing slash name the same resource. */
	assert_int_equal(req(api, "GET", "/machine-config/?x=1", NULL, NULL), 200);
}

static void test_machine_config(void **state)
{
	struct vmm_api *api = *state;
	const char *body;

	assert_int_equal(
	    req(api, "PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 512}", NULL),
	    204);
	assert_int_equal(api->cfg.cpus, 2);
	assert_int_equal(api->cfg.memory_mib, 512);
	assert_int_equal(req(api, "PATCH", "/machine-config", "{\"vcpu_count\": 4}", NULL), 204);
	assert_int_equal(api->cfg.cpus, 4);
	assert_int_equal(api->cfg.memory_mib, 512);
	expect_fault(api, "PUT", "/machine-config", "{\"vcpu_count\": 2}", "mem_size_mib: missing");
	expect_fault(api, "PUT", "/machine-config", "{\"vcpu_count\": 0, \"mem_size_mib\": 128}",
		     "vcpu_count: 0 is not from 1");
	expect_fault(api, "PATCH", "/machine-config", "{\"vcpu_count\": -1}",
		     "vcpu_count: expected a non-negative integer");
	expect_fault(api, "PATCH", "/machine-config", "{\"vcpu_count\": 2.5}", "vcpu_count");
	expect_fault(api, "PATCH", "/machine-config", "{\"mem_size_mib\": 1}", "mem_size_mib");
	expect_fault(api, "PATCH", "/machine-config", "{\"smt\": true}", "smt: not supported");
	expect_fault(api, "PATCH", "/machine-config", "{\"huge_pages\": \"1G\"}", "huge_pages");
	expect_fault(api, "PATCH", "/machine-config",
		     "{\"mem_size_mib\": 129, \"huge_pages\": \"2M\"}", "multiple of 2");
	expect_fault(api, "PATCH", "/machine-config", "{\"cpus\": 1}", "cpus: unknown field");
	expect_fault(api, "PATCH", "/machine-config", "[1]", "body: expected a JSON object");
	expect_fault(api, "PATCH", "/machine-config", "{\"vcpu_count\": 1, \"vcpu_count\": 2}",
		     "invalid JSON");
	/* Nothing changed by the refused requests. */
	assert_int_equal(api->cfg.cpus, 4);
	assert_int_equal(api->cfg.memory_mib, 512);
	assert_int_equal(
	    req(api, "PATCH", "/machine-config", "{\"huge_pages\": \"Transparent\"}", NULL), 204);
	assert_int_equal(req(api, "GET", "/machine-config", NULL, &body), 200);
	assert_non_null(strstr(body, "\"huge_pages\":\"Transparent\""));
}

static void test_boot_source(void **state)
{
	struct vmm_api *api = *state;
	char json[512];

	expect_fault(api, "PUT", "/boot-source", "{}", "kernel_image_path: missing");
	expect_fault(api, "PUT", "/boot-source", "{\"kernel_image_path\": \"/nonexistent/k\"}",
		     "kernel_image_path: cannot open '/nonexistent/k'");
	snprintf(json, sizeof(json),
		 "{\"kernel_image_path\": \"%s\", \"initrd_path\": \"%s\", \"boot_args\": \"a b\"}",
		 file_a, file_b);
	assert_int_equal(req(api, "PUT", "/boot-source", json, NULL), 204);
	assert_string_equal(api->cfg.kernel, file_a);
	assert_string_equal(api->cfg.initrd, file_b);
	assert_string_equal(api->cfg.cmdline, "a b");
	/* PUT replaces: what is left out is gone. */
	boot_source(api);
	assert_null(api->cfg.initrd);
	assert_null(api->cfg.cmdline);
	expect_fault(api, "GET", "/boot-source", NULL, "GET is not allowed on /boot-source");
}

static void test_drives(void **state)
{
	struct vmm_api *api = *state;
	char json[512];
	const char *body;

	snprintf(json, sizeof(json),
		 "{\"drive_id\": \"scratch\", \"path_on_host\": \"%s\", \"is_root_device\": false}",
		 file_a);
	assert_int_equal(req(api, "PUT", "/drives/scratch", json, NULL), 204);
	snprintf(json, sizeof(json),
		 "{\"drive_id\": \"rootfs\", \"path_on_host\": \"%s\", \"is_root_device\": true, "
		 "\"is_read_only\": true, \"cache_type\": \"Writeback\", \"io_engine\": \"Async\", "
		 "\"rate_limiter\": {\"bandwidth\": {\"size\": 1000, \"refill_time\": 100, "
		 "\"one_time_burst\": 50}}}",
		 file_b);
	assert_int_equal(req(api, "PUT", "/drives/rootfs", json, NULL), 204);
	/* The root drive goes first: it is /dev/vda. */
	assert_int_equal(api->cfg.nr_disks, 2);
	assert_string_equal(api->cfg.disks[0].id, "rootfs");
	assert_true(api->cfg.disks[0].root && api->cfg.disks[0].read_only);
	assert_int_equal(api->cfg.disks[0].cache, VMM_DISK_CACHE_WRITEBACK);
	assert_int_equal(api->cfg.disks[0].engine, VMM_DISK_ENGINE_IO_URING);
	assert_int_equal(api->cfg.disks[0].limit.bytes.size, 1000);
	assert_int_equal(api->cfg.disks[0].limit.bytes.one_time_burst, 50);
	assert_string_equal(api->cfg.disks[1].id, "scratch");
	assert_int_equal(api->cfg.disks[1].cache, VMM_DISK_CACHE_UNSAFE);
	/* Same id again: replaced in place. */
	snprintf(json, sizeof(json),
		 "{\"drive_id\": \"scratch\", \"path_on_host\": \"%s\", \"is_root_device\": false}",
		 file_b);
	assert_int_equal(req(api, "PUT", "/drives/scratch", json, NULL), 204);
	assert_int_equal(api->cfg.nr_disks, 2);
	assert_string_equal(api->cfg.disks[1].path, file_b);
	snprintf(json, sizeof(json),
		 "{\"drive_id\": \"other\", \"path_on_host\": \"%s\", \"is_root_device\": true}",
		 file_a);
	expect_fault(api, "PUT", "/drives/other", json, "already the root device");
	expect_fault(api, "PUT", "/drives/x", json, "does not match the id in the path");
	expect_fault(
	    api, "PUT", "/drives/bad-id",
	    "{\"drive_id\": \"bad-id\", \"path_on_host\": \"/x\", \"is_root_device\": false}",
	    "drive_id: 'bad-id' is not");
	snprintf(json, sizeof(json),
		 "{\"drive_id\": \"d\", \"path_on_host\": \"%s\", \"is_root_device\": false, "
		 "\"rate_limiter\": {\"ops\": {\"size\": 0, \"refill_time\": 10, "
		 "\"one_time_burst\": 5}}}",
		 file_a);
	expect_fault(api, "PUT", "/drives/d", json, "rate_limiter.ops.one_time_burst");
	snprintf(json, sizeof(json),
		 "{\"drive_id\": \"d\", \"path_on_host\": \"%s\", \"is_root_device\": false, "
		 "\"rate_limiter\": {\"ops\": {\"size\": 1}}}",
		 file_a);
	expect_fault(api, "PUT", "/drives/d", json, "rate_limiter.ops.refill_time: missing");
	snprintf(json, sizeof(json),
		 "{\"drive_id\": \"d\", \"path_on_host\": \"%s\", \"is_root_device\": false, "
		 "\"io_engine\": \"Fast\"}",
		 file_a);
	expect_fault(api, "PUT", "/drives/d", json, "io_engine: 'Fast'");
	assert_int_equal(api->cfg.nr_disks, 2);
	expect_fault(api, "PATCH", "/drives/scratch", "{\"drive_id\": \"scratch\"}",
		     "not supported before starting");
	assert_int_equal(req(api, "GET", "/vm/config", NULL, &body), 200);
	assert_non_null(strstr(body, "\"drive_id\":\"rootfs\""));
}

static void test_phases(void **state)
{
	struct vmm_api *api = *state;
	char json[256];

	expect_fault(api, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", "boot source");
	expect_fault(api, "PATCH", "/vm", "{\"state\": \"Paused\"}",
		     "not supported before starting the microVM");
	expect_fault(api, "PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}",
		     "not supported before starting");
	boot_source(api);
	stub.start_ret = -1;
	expect_fault(api, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}",
		     "InstanceStart: boot-source.kernel_image_path: bad kernel");
	assert_int_equal(api->state, VMM_STATE_NOT_STARTED);
	stub.start_ret = 0;
	assert_int_equal(req(api, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", NULL),
			 204);
	assert_int_equal(stub.starts, 2);
	assert_int_equal(api->state, VMM_STATE_RUNNING);
	/* After boot: configuration is frozen. */
	expect_fault(api, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}",
		     "not supported after starting the microVM");
	expect_fault(api, "PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128}",
		     "not supported after starting");
	snprintf(json, sizeof(json), "{\"kernel_image_path\": \"%s\"}", file_a);
	expect_fault(api, "PUT", "/boot-source", json, "not supported after starting");
	expect_fault(api, "PUT", "/metrics", "{\"metrics_path\": \"/tmp/m\"}",
		     "not supported after starting");
	/* Pause and resume, each idempotent. */
	assert_int_equal(req(api, "PATCH", "/vm", "{\"state\": \"Paused\"}", NULL), 204);
	assert_int_equal(req(api, "PATCH", "/vm", "{\"state\": \"Paused\"}", NULL), 204);
	assert_int_equal(api->state, VMM_STATE_PAUSED);
	assert_int_equal(stub.pauses, 1);
	assert_int_equal(req(api, "PATCH", "/vm", "{\"state\": \"Resumed\"}", NULL), 204);
	assert_int_equal(req(api, "PATCH", "/vm", "{\"state\": \"Resumed\"}", NULL), 204);
	assert_int_equal(stub.resumes, 1);
	expect_fault(api, "PATCH", "/vm", "{\"state\": \"Off\"}", "state: 'Off'");
	assert_int_equal(req(api, "PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", NULL),
			 204);
	assert_int_equal(stub.cads, 1);
	expect_fault(api, "PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}", "PUT /metrics");
	expect_fault(api, "PUT", "/actions", "{\"action_type\": \"Reboot\"}",
		     "action_type: 'Reboot'");
	expect_fault(api, "PUT", "/actions", "", "body: a JSON object is required");
}

static void test_patch_drive_limits(void **state)
{
	struct vmm_api *api = *state;
	char json[256];

	snprintf(json, sizeof(json),
		 "{\"drive_id\": \"d\", \"path_on_host\": \"%s\", \"is_root_device\": true}",
		 file_a);
	assert_int_equal(req(api, "PUT", "/drives/d", json, NULL), 204);
	boot_source(api);
	assert_int_equal(req(api, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", NULL),
			 204);
	expect_fault(api, "PUT", "/drives/d", json, "not supported after starting");
	assert_int_equal(
	    req(api, "PATCH", "/drives/d",
		"{\"drive_id\": \"d\", \"rate_limiter\": {\"bandwidth\": {\"size\": 7, "
		"\"refill_time\": 9}}}",
		NULL),
	    204);
	assert_int_equal(stub.limits, 1);
	assert_true(stub.got_bytes);
	assert_false(stub.got_ops);
	assert_int_equal(stub.last_bytes.size, 7);
	assert_int_equal(api->cfg.disks[0].limit.bytes.refill_time_ms, 9);
	expect_fault(api, "PATCH", "/drives/e", "{\"drive_id\": \"e\"}", "no drive 'e'");
	expect_fault(api, "PATCH", "/drives/d", "{\"drive_id\": \"d\", \"is_read_only\": true}",
		     "is_read_only: unknown field");
	assert_int_equal(stub.limits, 1);
}

/* PATCH /drives with a new path_on_host swaps the running drive's file; GET
 * /vm/config shows the new one; a refused swap changes nothing. */
static void test_patch_drive_swap(void **state)
{
	struct vmm_api *api = *state;
	char json[512], locked[80];
	const char *body;
	FILE *fp;

	snprintf(json, sizeof(json),
		 "{\"drive_id\": \"d\", \"path_on_host\": \"%s\", \"is_root_device\": false}",
		 file_a);
	assert_int_equal(req(api, "PUT", "/drives/d", json, NULL), 204);
	boot_source(api);
	assert_int_equal(req(api, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", NULL),
			 204);
	/* Unchanged: nothing to do. */
	snprintf(json, sizeof(json), "{\"drive_id\": \"d\", \"path_on_host\": \"%s\"}", file_a);
	assert_int_equal(req(api, "PATCH", "/drives/d", json, NULL), 204);
	assert_int_equal(stub.swaps, 0);
	expect_fault(api, "PATCH", "/drives/d",
		     "{\"drive_id\": \"d\", \"path_on_host\": \"/nonexistent/x\"}",
		     "path_on_host: cannot open '/nonexistent/x'");
	snprintf(locked, sizeof(locked), "%s-locked", file_a);
	fp = fopen(locked, "w");
	fclose(fp);
	snprintf(json, sizeof(json),
		 "{\"drive_id\": \"d\", \"path_on_host\": \"%s\", \"rate_limiter\": "
		 "{\"ops\": {\"size\": 5, \"refill_time\": 10}}}",
		 locked);
	expect_fault(api, "PATCH", "/drives/d", json, "path_on_host: virtio-blk: ");
	unlink(locked);
	assert_int_equal(stub.limits, 0);
	assert_string_equal(api->cfg.disks[0].path, file_a);
	snprintf(json, sizeof(json),
		 "{\"drive_id\": \"d\", \"path_on_host\": \"%s\", \"rate_limiter\": "
		 "{\"ops\": {\"size\": 5, \"refill_time\": 10}}}",
		 file_b);
	assert_int_equal(req(api, "PATCH", "/drives/d", json, NULL), 204);
	assert_int_equal(stub.swaps, 1);
	assert_string_equal(stub.swapped, file_b);
	assert_int_equal(stub.limits, 1);
	assert_string_equal(api->cfg.disks[0].path, file_b);
	assert_string_equal(api->cfg.disks[0].id, "d");
	assert_int_equal(req(api, "GET", "/vm/config", NULL, &body), 200);
	assert_non_null(strstr(body, file_b));
}

static void test_unsupported_and_unknown(void **state)
{
	struct vmm_api *api = *state;

	expect_fault(api, "PUT", "/vsock", "{\"guest_cid\": 2, \"uds_path\": \"/v\"}", "guest_cid");
	expect_fault(api, "PUT", "/snapshot/create", "{}", "not supported yet");
	expect_fault(api, "GET", "/balloon", NULL, "not supported yet");
	expect_fault(api, "PUT", "/mmds", "{}", "not supported yet");
	expect_fault(api, "GET", "/nothing", NULL, "no such resource: GET /nothing");
	expect_fault(api, "POST", "/actions", NULL, "POST is not allowed on /actions");
	expect_fault(api, "PUT", "/metrics", "{\"metrics_path\": \"/bad/m\"}", "metrics_path");
	assert_int_equal(req(api, "PUT", "/metrics", "{\"metrics_path\": \"/tmp/m\"}", NULL), 204);
	expect_fault(api, "PUT", "/metrics", "{\"metrics_path\": \"/tmp/m\"}", "already");
	expect_fault(api, "PUT", "/logger", "{\"level\": \"Loud\"}", "level: 'Loud'");
	assert_int_equal(req(api, "PUT", "/logger", "{\"level\": \"debug\"}", NULL), 204);
	assert_int_equal(api->log_level, VMM_LOG_DEBUG);
	assert_true(api->stats.errors > 0 && api->stats.requests > api->stats.errors);
}

/* PUT /network-interfaces adds (or replaces) a --net interface before boot;
 * each field is checked and named. */
static void test_network_interfaces(void **state)
{
	struct vmm_api *api = *state;
	const char *body;

	assert_int_equal(req(api, "PUT", "/network-interfaces/eth0",
			     "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}", NULL),
			 204);
	assert_int_equal(api->cfg.nr_nets, 1);
	assert_string_equal(api->cfg.nets[0].tap, "tap0");
	assert_string_equal(api->cfg.nets[0].id, "eth0");
	assert_false(api->cfg.nets[0].has_mac);
	assert_int_equal(req(api, "PUT", "/network-interfaces/eth0",
			     "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap1\", \"guest_mac\": "
			     "\"06:00:AC:10:00:02\", \"rx_rate_limiter\": {\"bandwidth\": "
			     "{\"size\": 1000, \"refill_time\": 100}}}",
			     NULL),
			 204);
	assert_int_equal(api->cfg.nr_nets, 1);
	assert_string_equal(api->cfg.nets[0].tap, "tap1");
	assert_true(api->cfg.nets[0].has_mac);
	assert_int_equal(api->cfg.nets[0].mac[2], 0xac);
	assert_int_equal(api->cfg.nets[0].rx_limit.bytes.size, 1000);
	assert_int_equal(api->cfg.nets[0].tx_limit.bytes.size, 0);
	expect_fault(api, "PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\"}",
		     "host_dev_name: 'tap1' is already used by interface 'eth0'");
	expect_fault(api, "PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap2\", \"guest_mac\": "
		     "\"01:00:00:00:00:01\"}",
		     "guest_mac: '01:00:00:00:00:01' is not a unicast MAC");
	expect_fault(api, "PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap2\", \"guest_mac\": "
		     "\"06:00:00:00:00\"}",
		     "guest_mac");
	expect_fault(api, "PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth2\", \"host_dev_name\": \"tap2\"}", "does not match");
	expect_fault(api, "PUT", "/network-interfaces/eth1", "{\"iface_id\": \"eth1\"}",
		     "host_dev_name: missing");
	expect_fault(api, "PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth1\", \"host_dev_name\": \"a-name-too-long-for-a-tap\"}",
		     "host_dev_name");
	expect_fault(api, "PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap2\", \"tx_rate_limiter\": "
		     "{\"ops\": {\"size\": -1}}}",
		     "tx_rate_limiter.ops.size");
	expect_fault(api, "GET", "/network-interfaces/eth0", NULL, "GET is not allowed");
	expect_fault(api, "PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\"}",
		     "not supported before starting");
	assert_int_equal(api->cfg.nr_nets, 1);
	assert_int_equal(req(api, "GET", "/vm/config", NULL, &body), 200);
	assert_non_null(strstr(body, "\"host_dev_name\":\"tap1\""));
	assert_non_null(strstr(body, "\"guest_mac\":\"06:00:ac:10:00:02\""));
	boot_source(api);
	assert_int_equal(req(api, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", NULL),
			 204);
	expect_fault(api, "PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap2\"}",
		     "not supported after starting");
	/* PATCH: live limits, both directions checked before either applies. */
	expect_fault(api, "PATCH", "/network-interfaces/eth1", "{\"iface_id\": \"eth1\"}",
		     "no interface 'eth1'");
	expect_fault(api, "PATCH", "/network-interfaces/eth0",
		     "{\"iface_id\": \"eth0\", \"rx_rate_limiter\": {\"ops\": {\"size\": 1, "
		     "\"refill_time\": 1}}, \"tx_rate_limiter\": {\"ops\": {\"size\": true}}}",
		     "tx_rate_limiter.ops.size");
	expect_fault(api, "PATCH", "/network-interfaces/eth0",
		     "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap9\"}",
		     "host_dev_name: unknown field");
	assert_int_equal(stub.net_limits, 0);
	assert_int_equal(req(api, "PATCH", "/network-interfaces/eth0",
			     "{\"iface_id\": \"eth0\", \"tx_rate_limiter\": {\"bandwidth\": "
			     "{\"size\": 5000, \"refill_time\": 1000}}}",
			     NULL),
			 204);
	assert_int_equal(stub.net_limits, 1);
	assert_false(stub.net_rx);
	assert_true(stub.got_bytes);
	assert_false(stub.got_ops);
	assert_int_equal(api->cfg.nets[0].tx_limit.bytes.size, 5000);
	assert_int_equal(api->cfg.nets[0].rx_limit.bytes.size, 1000); /* kept */
}

/* PUT /entropy turns on the --rng device, with its limits, before boot only. */
static void test_entropy(void **state)
{
	struct vmm_api *api = *state;
	const char *body;

	assert_int_equal(req(api, "GET", "/vm/config", NULL, &body), 200);
	assert_non_null(strstr(body, "\"entropy\":null"));
	expect_fault(api, "PUT", "/entropy", "{\"rate_limiter\": {\"ops\": {\"size\": -1}}}",
		     "rate_limiter.ops.size");
	expect_fault(api, "PUT", "/entropy", "{\"device\": 1}", "device: unknown field");
	expect_fault(api, "GET", "/entropy", NULL, "GET is not allowed on /entropy");
	assert_false(api->cfg.rng);
	assert_int_equal(req(api, "PUT", "/entropy", "{}", NULL), 204);
	assert_true(api->cfg.rng);
	assert_false(api->cfg.rng_limited);
	assert_int_equal(req(api, "GET", "/vm/config", NULL, &body), 200);
	assert_non_null(strstr(body, "\"entropy\":{}"));
	assert_int_equal(req(api, "PUT", "/entropy",
			     "{\"rate_limiter\": {\"bandwidth\": {\"size\": 1000, \"refill_time\": "
			     "100}}}",
			     NULL),
			 204);
	assert_true(api->cfg.rng_limited);
	assert_int_equal(api->cfg.rng_limit.bytes.size, 1000);
	assert_int_equal(api->cfg.rng_limit.ops.size, 0);
	assert_int_equal(req(api, "GET", "/vm/config", NULL, &body), 200);
	assert_non_null(
	    strstr(body, "\"entropy\":{\"rate_limiter\":{\"bandwidth\":{\"size\":1000"));
	boot_source(api);
	assert_int_equal(req(api, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", NULL),
			 204);
	expect_fault(api, "PUT", "/entropy", "{}", "not supported after starting");
}

static void test_config_file(void **state)
{
	struct vmm_api *api = *state;
	char json[1024];

	snprintf(json, sizeof(json),
		 "{\"boot-source\": {\"kernel_image_path\": \"%s\"}, "
		 "\"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 64}, "
		 "\"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"%s\", "
		 "\"is_root_device\": false}, {\"drive_id\": \"b\", \"path_on_host\": \"%s\", "
		 "\"is_root_device\": true}], \"network-interfaces\": []}",
		 file_a, file_a, file_b);
	assert_int_equal(vmm_api_load_config(api, json, strlen(json)), 0);
	assert_int_equal(api->cfg.cpus, 2);
	assert_int_equal(api->cfg.nr_disks, 2);
	assert_string_equal(api->cfg.disks[0].id, "b");
	snprintf(json, sizeof(json),
		 "{\"boot-source\": {\"kernel_image_path\": \"%s\"}, \"drives\": [{\"drive_id\": "
		 "\"a\", \"path_on_host\": \"%s\", \"is_root_device\": false}, {\"drive_id\": "
		 "\"c\", \"path_on_host\": \"/nonexistent\", \"is_root_device\": false}]}",
		 file_a, file_a);
	assert_int_equal(vmm_api_load_config(api, json, strlen(json)), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "drives[1].path_on_host: cannot open"));
	assert_int_equal(vmm_api_load_config(api, "{\"machine-config\": {}}", 22), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "boot-source: missing"));
	snprintf(json, sizeof(json),
		 "{\"boot-source\": {\"kernel_image_path\": \"%s\"}, \"machine-config\": "
		 "{\"vcpu_count\": 1, \"mem_size_mib\": true}}",
		 file_a);
	assert_int_equal(vmm_api_load_config(api, json, strlen(json)), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "machine-config.mem_size_mib: expected"));
	assert_int_equal(vmm_api_load_config(api, "{\"boot-source\": {}, \"foo\": 1}", 29),
			 -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "foo: unknown field"));
	snprintf(
	    json, sizeof(json),
	    "{\"boot-source\": {\"kernel_image_path\": \"%s\"}, \"vsock\": {\"guest_cid\": 3}}",
	    file_a);
	assert_int_equal(vmm_api_load_config(api, json, strlen(json)), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "vsock"));
	snprintf(json, sizeof(json),
		 "{\"boot-source\": {\"kernel_image_path\": \"%s\"}, \"entropy\": {\"x\": 1}}",
		 file_a);
	assert_int_equal(vmm_api_load_config(api, json, strlen(json)), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "entropy.x: unknown field"));
	assert_false(api->cfg.rng);
	snprintf(json, sizeof(json),
		 "{\"boot-source\": {\"kernel_image_path\": \"%s\"}, \"entropy\": {}}", file_a);
	assert_int_equal(vmm_api_load_config(api, json, strlen(json)), 0);
	assert_true(api->cfg.rng);
	snprintf(json, sizeof(json),
		 "{\"boot-source\": {\"kernel_image_path\": \"%s\"}, \"network-interfaces\": "
		 "[{\"iface_id\": \"a\", \"host_dev_name\": \"tap0\"}, {\"iface_id\": \"b\"}]}",
		 file_a);
	assert_int_equal(vmm_api_load_config(api, json, strlen(json)), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "network-interfaces[1].host_dev_name: missing"));
}

/* HTTP framing: keep-alive, pipelining, limits, garbage. */
static const char *http(struct vmm_api *api, const char *in, bool *open)
{
	static char out[8192];
	struct vmm_api_http *h;
	const char *o;
	size_t len;

	assert_int_equal(vmm_api_http_create(&h, api), 0);
	*open = vmm_api_http_input(h, in, strlen(in));
	o = vmm_api_http_output(h, &len);
	snprintf(out, sizeof(out), "%.*s", (int)len, o ? o : "");
	vmm_api_http_destroy(h);
	return out;
}

static void test_http(void **state)
{
	struct vmm_api *api = *state;
	const char *out;
	char big[256];
	bool open;

	out = http(api, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /version HTTP/1.1\r\n\r\n", &open);
	assert_true(open);
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(out, "Not started"));
	assert_non_null(strstr(out, "firecracker_version"));
	out = http(
	    api,
	    "PUT /machine-config HTTP/1.1\r\nContent-Length: 38\r\nExpect: 100-continue\r\n\r\n"
	    "{\"vcpu_count\": 3, \"mem_size_mib\": 256}",
	    &open);
	assert_non_null(strstr(out, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n"));
	assert_int_equal(api->cfg.cpus, 3);
	out = http(api, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &open);
	assert_false(open);
	assert_non_null(strstr(out, "Connection: close"));
	api->max_payload = 64;
	snprintf(big, sizeof(big), "PUT /vm HTTP/1.1\r\nContent-Length: 65\r\n\r\n");
	out = http(api, big, &open);
	assert_false(open);
	assert_non_null(strstr(out, "400 Bad Request"));
	assert_non_null(strstr(out, "larger than the limit of 64 bytes"));
	out = http(api, "PUT /vm HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n", &open);
	(void)out;
	out = http(api, "\x01\x02 garbage\r\n\r\n", &open);
	assert_false(open);
	assert_non_null(strstr(out, "bad HTTP request"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_info_and_version), T(test_machine_config),
	    T(test_boot_source),      T(test_drives),
	    T(test_phases),	      T(test_patch_drive_limits),
	    T(test_patch_drive_swap), T(test_unsupported_and_unknown),
	    T(test_entropy),	      T(test_network_interfaces),
	    T(test_config_file),      T(test_http),
	};
	int ret;
	FILE *f;

	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(file_a, sizeof(file_a), "%s/a", tmpdir);
	snprintf(file_b, sizeof(file_b), "%s/b", tmpdir);
	f = fopen(file_a, "w");
	fclose(f);
	f = fopen(file_b, "w");
	fclose(f);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(file_a);
	unlink(file_b);
	unlink("/tmp/m");
	rmdir(tmpdir);
	return ret;
}

// SPDX-License-Identifier: Apache-2.0
/* Firecracker's API resources on top of struct vmm_config: routing, body
 * validation (every error names the field), pre-/post-boot rules. */
#include "api.h"
#include "layout.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef CVMM_VERSION
#define CVMM_VERSION "0.0.0"
#endif

#define API_MAX_CPUS 254
#define API_MAX_MEMORY_MIB (1ULL << 26)

/* Firecracker's wording, which clients may match on. */
#define API_PRE_BOOT_ONLY "The requested operation is not supported after starting the microVM."
#define API_POST_BOOT_ONLY "The requested operation is not supported before starting the microVM."

enum ftype { F_STR, F_BOOL, F_UINT, F_OBJ, F_ARRAY };

struct field {
	const char *name;
	enum ftype type;
	bool required;
};

static const char *const ftype_names[] = {"a string", "a boolean", "a non-negative integer",
					  "an object", "an array"};

static int fault(const char *fmt, const char *a, const char *b)
{
	return cvmm_err(EINVAL, fmt, a, b);
}

static bool ftype_ok(enum ftype t, const json_t *v)
{
	switch (t) {
	case F_STR:
		return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
	case F_BOOL:
		return json_is_boolean(v);
	case F_UINT:
		return json_is_integer(v) && json_integer_value(v) >= 0;
	case F_OBJ:
		return json_is_object(v);
	case F_ARRAY:
		return json_is_array(v);
	}
	return false;
}

/* obj must be an object whose keys are all in f, of the right types, with
 * the required ones present. pfx names the object ("" for a request body,
 * else "key." or "key[i]."); null stands for an absent optional field. */
static int check_object(const char *pfx, const json_t *obj, const struct field *f, size_t n)
{
	const char *key;
	json_t *val;

	if (!json_is_object(obj)) {
		char name[256];

		snprintf(name, sizeof(name), "%.*s", pfx[0] ? (int)strlen(pfx) - 1 : 4,
			 pfx[0] ? pfx : "body");
		return fault("%s: expected a JSON object%s", name, "");
	}
	json_object_foreach((json_t *)obj, key, val)
	{
		size_t i;

		for (i = 0; i < n && strcmp(f[i].name, key) != 0; i++)
			;
		if (i == n)
			return cvmm_err(EINVAL, "%s%s: unknown field", pfx, key);
		if (json_is_null(val) && !f[i].required)
			continue;
		if (!ftype_ok(f[i].type, val))
			return cvmm_err(EINVAL, "%s%s: expected %s", pfx, key,
					ftype_names[f[i].type]);
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(obj, f[i].name);

		if (f[i].required && (!v || json_is_null(v)))
			return cvmm_err(EINVAL, "%s%s: missing (required)", pfx, f[i].name);
	}
	return 0;
}

static json_t *get(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_null(v) ? NULL : v;
}

static const char *get_str(const json_t *o, const char *k)
{
	return json_string_value(get(o, k));
}

static bool get_bool(const json_t *o, const char *k, bool def)
{
	json_t *v = get(o, k);

	return v ? json_is_true(v) : def;
}

/* A host file the VM will read: checked when configured, so the user learns
 * at once, and again when the VM starts. */
static int check_readable(const char *pfx, const char *field, const char *path)
{
	int fd;

	if (!path[0])
		return cvmm_err(EINVAL, "%s%s: empty path", pfx, field);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cvmm_err(EINVAL, "%s%s: cannot open '%s': %s", pfx, field, path,
				strerror(errno));
	close(fd);
	return 0;
}

/* Firecracker's ids: 1-64 of [A-Za-z0-9_]. */
static int check_id(const char *pfx, const char *field, const char *id)
{
	size_t len = strlen(id);

	for (size_t i = 0; i < len; i++)
		if (!(id[i] == '_' || (id[i] >= '0' && id[i] <= '9') ||
		      ((id[i] | 0x20) >= 'a' && (id[i] | 0x20) <= 'z')))
			len = 0;
	if (len == 0 || len > VMM_API_MAX_ID)
		return cvmm_err(EINVAL, "%s%s: '%.80s' is not 1 to 64 letters, digits or '_'", pfx,
				field, id);
	return 0;
}

void vmm_api_init(struct vmm_api *api, const struct vmm_api_ops *ops, void *opaque)
{
	*api = (struct vmm_api){
	    .cfg = {.cpus = 1,
		    .memory_mib = 128,
		    .kvm_path = "/dev/kvm",
		    .huge_pages = VMM_HUGE_PAGES_NONE},
	    .state = VMM_STATE_NOT_STARTED,
	    .max_payload = VMM_API_DEFAULT_MAX_PAYLOAD,
	    .log_level = VMM_LOG_INFO,
	    .ops = ops,
	    .opaque = opaque,
	};
	snprintf(api->id, sizeof(api->id), "%s", VMM_API_DEFAULT_ID);
}

void vmm_api_free(struct vmm_api *api)
{
	vmm_cli_free(&api->cfg);
	free(api->kernel);
	free(api->initrd);
	free(api->boot_args);
	free(api->log_path);
	free(api->metrics_path);
	api->kernel = api->initrd = api->boot_args = api->log_path = api->metrics_path = NULL;
}

static const char *const level_names[] = {"Off", "Error", "Warning", "Info", "Debug", "Trace"};

int vmm_api_parse_level(const char *name, enum vmm_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum vmm_log_level)i;
			return 0;
		}
	return -EINVAL;
}

const char *vmm_api_level_name(enum vmm_log_level level)
{
	return level_names[level];
}

const char *vmm_api_state_name(enum vmm_state state)
{
	static const char *const names[] = {"Not started", "Running", "Paused"};

	return names[state];
}

/* ------------------------------------------------------------------ */
/* Resources                                                           */
/* ------------------------------------------------------------------ */

static const char *const huge_names[] = {"Transparent", "None", "2M"};

static int put_machine_config(struct vmm_api *api, const json_t *b, const char *pfx, bool patch)
{
	const struct field f[] = {
	    {"vcpu_count", F_UINT, !patch}, {"mem_size_mib", F_UINT, !patch},
	    {"smt", F_BOOL, false},	    {"track_dirty_pages", F_BOOL, false},
	    {"huge_pages", F_STR, false},   {"cpu_template", F_STR, false},
	};
	uint64_t cpus = api->cfg.cpus, mib = api->cfg.memory_mib;
	enum vmm_huge_pages huge = patch ? api->cfg.huge_pages : VMM_HUGE_PAGES_NONE;
	const char *s;
	int ret = check_object(pfx, b, f, sizeof(f) / sizeof(f[0]));

	if (ret < 0)
		return ret;
	if (get(b, "vcpu_count"))
		cpus = (uint64_t)json_integer_value(get(b, "vcpu_count"));
	if (get(b, "mem_size_mib"))
		mib = (uint64_t)json_integer_value(get(b, "mem_size_mib"));
	if (cpus < 1 || cpus > API_MAX_CPUS)
		return cvmm_err(EINVAL, "%svcpu_count: %" PRIu64 " is not from 1 to %d", pfx, cpus,
				API_MAX_CPUS);
	if (mib < (LAYOUT_MIN_RAM >> 20) || mib > API_MAX_MEMORY_MIB)
		return cvmm_err(EINVAL, "%smem_size_mib: %" PRIu64 " is not from %llu to %llu", pfx,
				mib, LAYOUT_MIN_RAM >> 20, API_MAX_MEMORY_MIB);
	if (get_bool(b, "smt", false))
		return fault("%ssmt: not supported yet (cvmm has no SMT topology)%s", pfx, "");
	if (get_bool(b, "track_dirty_pages", false))
		return fault("%strack_dirty_pages: not supported yet (cvmm has no snapshots)%s",
			     pfx, "");
	if ((s = get_str(b, "cpu_template")) && strcmp(s, "None") != 0)
		return fault("%scpu_template: '%s' is not supported (only \"None\")", pfx, s);
	if ((s = get_str(b, "huge_pages"))) {
		size_t i;

		for (i = 0; i < 3 && strcmp(s, huge_names[i]) != 0; i++)
			;
		if (i == 3)
			return fault("%shuge_pages: '%s' is not None, Transparent or 2M", pfx, s);
		huge = (enum vmm_huge_pages)i;
	}
	if (huge == VMM_HUGE_PAGES_2M && mib % 2)
		return cvmm_err(
		    EINVAL, "%smem_size_mib: %" PRIu64 " is not a multiple of 2 (2M huge pages)",
		    pfx, mib);
	api->cfg.cpus = (unsigned int)cpus;
	api->cfg.memory_mib = mib;
	api->cfg.huge_pages = huge;
	return 0;
}

static int put_boot_source(struct vmm_api *api, const json_t *b, const char *pfx)
{
	const struct field f[] = {
	    {"kernel_image_path", F_STR, true},
	    {"boot_args", F_STR, false},
	    {"initrd_path", F_STR, false},
	};
	const char *kernel, *initrd, *args;
	char *k, *i = NULL, *a = NULL;
	int ret = check_object(pfx, b, f, sizeof(f) / sizeof(f[0]));

	if (ret < 0)
		return ret;
	kernel = get_str(b, "kernel_image_path");
	initrd = get_str(b, "initrd_path");
	args = get_str(b, "boot_args");
	if ((ret = check_readable(pfx, "kernel_image_path", kernel)) < 0 ||
	    (initrd && (ret = check_readable(pfx, "initrd_path", initrd)) < 0))
		return ret;
	k = strdup(kernel);
	if (initrd)
		i = strdup(initrd);
	if (args)
		a = strdup(args);
	if (!k || (initrd && !i) || (args && !a)) {
		free(k);
		free(i);
		free(a);
		return cvmm_err(ENOMEM, "out of memory");
	}
	free(api->kernel);
	free(api->initrd);
	free(api->boot_args);
	api->kernel = k;
	api->initrd = i;
	api->boot_args = a;
	api->cfg.kernel = k;
	api->cfg.initrd = i;
	api->cfg.cmdline = a;
	return 0;
}

/* PUT /vsock {vsock_id, guest_cid, uds_path}: the device is built at
 * InstanceStart, as for --vsock (the socket path is checked then). */
static int put_vsock(struct vmm_api *api, const json_t *b, const char *pfx)
{
	const struct field f[] = {
	    {"vsock_id", F_STR, false}, {"guest_cid", F_UINT, true}, {"uds_path", F_STR, true}};
	struct vmm_vsock_config *v = &api->cfg.vsock;
	char cid_text[24];
	uint64_t cid;
	char *path;
	int ret = check_object(pfx, b, f, sizeof(f) / sizeof(f[0]));

	if (ret < 0)
		return ret;
	cid = (uint64_t)json_integer_value(get(b, "guest_cid"));
	snprintf(cid_text, sizeof(cid_text), "%llu", (unsigned long long)cid);
	if (cid < 3 || cid >= 0xffffffffULL)
		return fault("%sguest_cid: %s is reserved or out of range (3..4294967294)", pfx,
			     cid_text);
	if (!get_str(b, "uds_path")[0])
		return fault("%suds_path: empty%s", pfx, "");
	path = strdup(get_str(b, "uds_path"));
	if (!path)
		return cvmm_err(ENOMEM, "out of memory");
	free(v->spec);
	*v = (struct vmm_vsock_config){.spec = path, .enabled = true, .cid = cid, .uds = path};
	return 0;
}

/* A Firecracker TokenBucket object into ours. */
static int parse_bucket(const char *pfx, const char *name, const json_t *o,
			struct cvmm_ratelimit_bucket *out)
{
	const struct field f[] = {
	    {"size", F_UINT, true},
	    {"refill_time", F_UINT, true},
	    {"one_time_burst", F_UINT, false},
	};
	char p[192];
	int ret;

	snprintf(p, sizeof(p), "%s%s.", pfx, name);
	ret = check_object(p, o, f, sizeof(f) / sizeof(f[0]));
	if (ret < 0)
		return ret;
	out->size = (uint64_t)json_integer_value(get(o, "size"));
	out->refill_time_ms = (uint64_t)json_integer_value(get(o, "refill_time"));
	out->one_time_burst =
	    get(o, "one_time_burst") ? (uint64_t)json_integer_value(get(o, "one_time_burst")) : 0;
	if (out->refill_time_ms > CVMM_RATELIMIT_REFILL_MAX_MS)
		return cvmm_err(EINVAL, "%srefill_time: more than %llu ms", p,
				CVMM_RATELIMIT_REFILL_MAX_MS);
	if ((out->size == 0 || out->refill_time_ms == 0) && out->one_time_burst)
		return cvmm_err(EINVAL, "%sone_time_burst: must be 0 when size or refill_time is 0",
				p);
	return 0;
}

/* rate_limiter {bandwidth, ops}; *has_bytes and *has_ops say which were given. */
static int parse_limiter(const char *pfx, const json_t *o, struct cvmm_ratelimit_bucket *bytes,
			 bool *has_bytes, struct cvmm_ratelimit_bucket *ops, bool *has_ops)
{
	const struct field f[] = {{"bandwidth", F_OBJ, false}, {"ops", F_OBJ, false}};
	char p[160];
	int ret;

	snprintf(p, sizeof(p), "%srate_limiter.", pfx);
	ret = check_object(p, o, f, sizeof(f) / sizeof(f[0]));
	if (ret < 0)
		return ret;
	*has_bytes = get(o, "bandwidth") != NULL;
	*has_ops = get(o, "ops") != NULL;
	if (*has_bytes && (ret = parse_bucket(p, "bandwidth", get(o, "bandwidth"), bytes)) < 0)
		return ret;
	if (*has_ops && (ret = parse_bucket(p, "ops", get(o, "ops"), ops)) < 0)
		return ret;
	return 0;
}

/* PUT /entropy {rate_limiter}: the --rng device (as --rng bw=,iops=),
 * built at InstanceStart. */
static int put_entropy(struct vmm_api *api, const json_t *b, const char *pfx)
{
	const struct field f[] = {{"rate_limiter", F_OBJ, false}};
	struct cvmm_ratelimit_cfg limit = {0};
	bool has_b = false, has_o = false;
	int ret = check_object(pfx, b, f, sizeof(f) / sizeof(f[0]));

	if (ret < 0)
		return ret;
	if (get(b, "rate_limiter") &&
	    (ret = parse_limiter(pfx, get(b, "rate_limiter"), &limit.bytes, &has_b, &limit.ops,
				 &has_o)) < 0)
		return ret;
	api->cfg.rng = true;
	api->cfg.rng_limited = get(b, "rate_limiter") != NULL;
	api->cfg.rng_limit = limit;
	return 0;
}

/* PATCH /network-interfaces/{id} {iface_id, rx_rate_limiter,
 * tx_rate_limiter}: live limits; a bucket left out is kept. */
static int patch_net(struct vmm_api *api, const char *path_id, const json_t *b)
{
	const struct field f[] = {
	    {"iface_id", F_STR, true},
	    {"rx_rate_limiter", F_OBJ, false},
	    {"tx_rate_limiter", F_OBJ, false},
	};
	struct cvmm_ratelimit_bucket bytes[2], ops[2];
	bool has_b[2] = {false, false}, has_o[2] = {false, false};
	static const char *const dir[2] = {"rx_", "tx_"};
	struct vmm_net_config *n;
	const char *id;
	unsigned int at;
	int ret = check_object("", b, f, sizeof(f) / sizeof(f[0]));

	if (ret < 0)
		return ret;
	id = get_str(b, "iface_id");
	if (strcmp(path_id, id) != 0)
		return fault("iface_id: '%s' does not match the id in the path ('%s')", id,
			     path_id);
	for (at = 0; at < api->cfg.nr_nets && strcmp(api->cfg.nets[at].id, id) != 0; at++)
		;
	if (at == api->cfg.nr_nets)
		return fault("iface_id: no interface '%s'%s", id, "");
	n = &api->cfg.nets[at];
	/* Both directions are checked before either is applied. */
	for (int i = 0; i < 2; i++) {
		char key[24];

		snprintf(key, sizeof(key), "%srate_limiter", dir[i]);
		if (get(b, key) && (ret = parse_limiter(dir[i], get(b, key), &bytes[i], &has_b[i],
							&ops[i], &has_o[i])) < 0)
			return ret;
	}
	for (int i = 0; i < 2; i++) {
		struct cvmm_ratelimit_cfg *l = i == 0 ? &n->rx_limit : &n->tx_limit;

		if (!has_b[i] && !has_o[i])
			continue;
		ret = api->ops->net_limit(api->opaque, at, i == 0, has_b[i] ? &bytes[i] : NULL,
					  has_o[i] ? &ops[i] : NULL);
		if (ret < 0)
			return cvmm_err(-ret, "%srate_limiter: %s", dir[i], cvmm_err_msg());
		if (has_b[i])
			l->bytes = bytes[i];
		if (has_o[i])
			l->ops = ops[i];
	}
	return 0;
}

/* "aa:bb:cc:dd:ee:ff", unicast. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				      &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return mac[0] & 1 ? -EINVAL : 0;
}

/* PUT /network-interfaces/{id}: one --net interface on an existing TAP
 * (userspace device; the TAP is opened at InstanceStart). */
static int put_net(struct vmm_api *api, const char *path_id, const json_t *b, const char *pfx)
{
	const struct field f[] = {
	    {"iface_id", F_STR, true},	       {"host_dev_name", F_STR, true},
	    {"guest_mac", F_STR, false},       {"rx_rate_limiter", F_OBJ, false},
	    {"tx_rate_limiter", F_OBJ, false},
	};
	struct vmm_net_config n = {0};
	const char *id, *tap, *mac;
	bool has_b, has_o;
	char p[96];
	size_t tlen, ilen;
	unsigned int at;
	int ret = check_object(pfx, b, f, sizeof(f) / sizeof(f[0]));

	if (ret < 0)
		return ret;
	id = get_str(b, "iface_id");
	tap = get_str(b, "host_dev_name");
	if ((ret = check_id(pfx, "iface_id", id)) < 0)
		return ret;
	if (path_id && strcmp(path_id, id) != 0)
		return fault("iface_id: '%s' does not match the id in the path ('%s')", id,
			     path_id);
	if (!tap[0] || strlen(tap) >= 16)
		return fault("%shost_dev_name: '%s' is not a TAP name (1 to 15 characters)", pfx,
			     tap);
	if ((mac = get_str(b, "guest_mac"))) {
		if (parse_mac(mac, n.mac) < 0)
			return fault("%sguest_mac: '%s' is not a unicast MAC address "
				     "(aa:bb:cc:dd:ee:ff)",
				     pfx, mac);
		n.has_mac = true;
	}
	snprintf(p, sizeof(p), "%srx_", pfx);
	if (get(b, "rx_rate_limiter") &&
	    (ret = parse_limiter(p, get(b, "rx_rate_limiter"), &n.rx_limit.bytes, &has_b,
				 &n.rx_limit.ops, &has_o)) < 0)
		return ret;
	snprintf(p, sizeof(p), "%stx_", pfx);
	if (get(b, "tx_rate_limiter") &&
	    (ret = parse_limiter(p, get(b, "tx_rate_limiter"), &n.tx_limit.bytes, &has_b,
				 &n.tx_limit.ops, &has_o)) < 0)
		return ret;
	/* Always limiters (unlimited unless set), as for drives, so that PATCH
	 * can set limits after boot. */
	n.rx_limited = n.tx_limited = true;
	for (at = 0; at < api->cfg.nr_nets && strcmp(api->cfg.nets[at].id, id) != 0; at++)
		;
	for (unsigned int i = 0; i < api->cfg.nr_nets; i++)
		if (i != at && strcmp(api->cfg.nets[i].tap, tap) == 0)
			return cvmm_err(EINVAL,
					"%shost_dev_name: '%s' is already used by interface '%s'",
					pfx, tap, api->cfg.nets[i].id);
	if (at == api->cfg.nr_nets && at == VMM_MAX_NETS)
		return fault("%siface_id: at most %s interfaces", pfx, "8");
	/* One owned buffer holds both strings, as for --net. */
	tlen = strlen(tap) + 1;
	ilen = strlen(id) + 1;
	n.spec = malloc(tlen + ilen);
	if (!n.spec)
		return cvmm_err(ENOMEM, "out of memory");
	memcpy(n.spec, tap, tlen);
	memcpy(n.spec + tlen, id, ilen);
	n.tap = n.spec;
	n.id = n.spec + tlen;
	if (at < api->cfg.nr_nets)
		free(api->cfg.nets[at].spec);
	else
		api->cfg.nr_nets++;
	api->cfg.nets[at] = n;
	return 0;
}

static int find_drive(const struct vmm_api *api, const char *id)
{
	for (unsigned int i = 0; i < api->cfg.nr_disks; i++)
		if (strcmp(api->cfg.disks[i].id, id) == 0)
			return (int)i;
	return -1;
}

static int put_drive(struct vmm_api *api, const char *path_id, const json_t *b, const char *pfx)
{
	const struct field f[] = {
	    {"drive_id", F_STR, true},	      {"path_on_host", F_STR, true},
	    {"is_root_device", F_BOOL, true}, {"is_read_only", F_BOOL, false},
	    {"cache_type", F_STR, false},     {"io_engine", F_STR, false},
	    {"rate_limiter", F_OBJ, false},   {"partuuid", F_STR, false},
	    {"socket", F_STR, false},
	};
	struct vmm_disk_config d = {
	    .engine = VMM_DISK_ENGINE_SYNC, .cache = VMM_DISK_CACHE_UNSAFE, .limited = true};
	const char *id, *path, *s;
	bool has_b = false, has_o = false;
	size_t plen, ilen;
	int ret = check_object(pfx, b, f, sizeof(f) / sizeof(f[0])), at;

	if (ret < 0)
		return ret;
	id = get_str(b, "drive_id");
	path = get_str(b, "path_on_host");
	if ((ret = check_id(pfx, "drive_id", id)) < 0)
		return ret;
	if (path_id && strcmp(path_id, id) != 0)
		return fault("drive_id: '%s' does not match the id in the path ('%s')", id,
			     path_id);
	if (get(b, "socket"))
		return fault("%ssocket: vhost-user drives are not supported yet%s", pfx, "");
	if (get(b, "partuuid"))
		return fault("%spartuuid: not supported yet (the root drive is /dev/vda)%s", pfx,
			     "");
	if ((ret = check_readable(pfx, "path_on_host", path)) < 0)
		return ret;
	d.root = get_bool(b, "is_root_device", false);
	d.read_only = get_bool(b, "is_read_only", false);
	if ((s = get_str(b, "cache_type"))) {
		if (strcmp(s, "Writeback") == 0)
			d.cache = VMM_DISK_CACHE_WRITEBACK;
		else if (strcmp(s, "Unsafe") != 0)
			return fault("%scache_type: '%s' is not Unsafe or Writeback", pfx, s);
	}
	if ((s = get_str(b, "io_engine"))) {
		if (strcmp(s, "Async") == 0)
			d.engine = VMM_DISK_ENGINE_IO_URING;
		else if (strcmp(s, "Sync") != 0)
			return fault("%sio_engine: '%s' is not Sync or Async", pfx, s);
	}
	if (get(b, "rate_limiter") &&
	    (ret = parse_limiter(pfx, get(b, "rate_limiter"), &d.limit.bytes, &has_b, &d.limit.ops,
				 &has_o)) < 0)
		return ret;
	at = find_drive(api, id);
	for (unsigned int i = 0; d.root && i < api->cfg.nr_disks; i++)
		if (api->cfg.disks[i].root && (int)i != at)
			return fault("%sis_root_device: drive '%s' is already the root device", pfx,
				     api->cfg.disks[i].id);
	if (at < 0 && api->cfg.nr_disks == VMM_MAX_DISKS)
		return fault("%sdrive_id: at most %s drives", pfx, "16");
	/* One owned buffer holds both strings, as for --disk. */
	plen = strlen(path) + 1;
	ilen = strlen(id) + 1;
	d.spec = malloc(plen + ilen);
	if (!d.spec)
		return cvmm_err(ENOMEM, "out of memory");
	memcpy(d.spec, path, plen);
	memcpy(d.spec + plen, id, ilen);
	d.path = d.spec;
	d.id = d.spec + plen;
	if (at >= 0) {
		free(api->cfg.disks[at].spec);
		api->cfg.disks[at] = d;
	} else {
		at = (int)api->cfg.nr_disks++;
		api->cfg.disks[at] = d;
	}
	/* Firecracker attaches the root drive first: it is /dev/vda. */
	if (d.root && at > 0) {
		memmove(&api->cfg.disks[1], &api->cfg.disks[0], (size_t)at * sizeof(d));
		api->cfg.disks[0] = d;
	}
	return 0;
}

static int patch_drive(struct vmm_api *api, const char *path_id, const json_t *b)
{
	const struct field f[] = {
	    {"drive_id", F_STR, true},
	    {"path_on_host", F_STR, false},
	    {"rate_limiter", F_OBJ, false},
	};
	struct cvmm_ratelimit_bucket bytes, ops;
	bool has_b = false, has_o = false;
	const char *id, *path;
	struct vmm_disk_config *d;
	int ret = check_object("", b, f, sizeof(f) / sizeof(f[0])), at;

	if (ret < 0)
		return ret;
	id = get_str(b, "drive_id");
	if (strcmp(path_id, id) != 0)
		return fault("drive_id: '%s' does not match the id in the path ('%s')", id,
			     path_id);
	at = find_drive(api, id);
	if (at < 0)
		return fault("drive_id: no drive '%s'%s", id, "");
	d = &api->cfg.disks[at];
	path = get_str(b, "path_on_host");
	if (path && strcmp(path, d->path) == 0)
		path = NULL; /* unchanged: nothing to swap */
	if (path && (ret = check_readable("", "path_on_host", path)) < 0)
		return ret;
	if (get(b, "rate_limiter") &&
	    (ret = parse_limiter("", get(b, "rate_limiter"), &bytes, &has_b, &ops, &has_o)) < 0)
		return ret;
	/* The file first: a refused swap then leaves the limits as they were. */
	if (path) {
		size_t plen = strlen(path) + 1, ilen = strlen(d->id) + 1;
		char *spec = malloc(plen + ilen);

		if (!spec)
			return cvmm_err(ENOMEM, "out of memory");
		ret = api->ops->drive_swap(api->opaque, (unsigned int)at, path);
		if (ret < 0) {
			free(spec);
			return cvmm_err(-ret, "path_on_host: %s", cvmm_err_msg());
		}
		memcpy(spec, path, plen);
		memcpy(spec + plen, d->id, ilen);
		free(d->spec);
		d->spec = spec;
		d->path = spec;
		d->id = spec + plen;
	}
	if (!has_b && !has_o)
		return 0;
	ret = api->ops->drive_limit(api->opaque, (unsigned int)at, has_b ? &bytes : NULL,
				    has_o ? &ops : NULL);
	if (ret < 0)
		return cvmm_err(-ret, "rate_limiter: %s", cvmm_err_msg());
	if (has_b)
		d->limit.bytes = bytes;
	if (has_o)
		d->limit.ops = ops;
	return 0;
}

static int put_logger(struct vmm_api *api, const json_t *b, const char *pfx)
{
	const struct field f[] = {
	    {"log_path", F_STR, false},	   {"level", F_STR, false},
	    {"show_level", F_BOOL, false}, {"show_log_origin", F_BOOL, false},
	    {"module", F_STR, false},
	};
	enum vmm_log_level level = VMM_LOG_INFO;
	const char *path, *s;
	char *p = NULL;
	int ret = check_object(pfx, b, f, sizeof(f) / sizeof(f[0]));

	if (ret < 0)
		return ret;
	if (get(b, "module"))
		return fault("%smodule: filtering by module is not supported%s", pfx, "");
	if ((s = get_str(b, "level")) && vmm_api_parse_level(s, &level) < 0)
		return fault("%slevel: '%s' is not Error, Warning, Info, Debug, Trace or Off", pfx,
			     s);
	path = get_str(b, "log_path");
	if (path && !(p = strdup(path)))
		return cvmm_err(ENOMEM, "out of memory");
	ret = api->ops->logger(api->opaque, path, level, get_bool(b, "show_level", false),
			       get_bool(b, "show_log_origin", false));
	if (ret < 0) {
		free(p);
		return cvmm_err(-ret, "%slog_path: %s", pfx, cvmm_err_msg());
	}
	free(api->log_path);
	api->log_path = p;
	api->log_level = level;
	api->log_show_level = get_bool(b, "show_level", false);
	api->log_show_origin = get_bool(b, "show_log_origin", false);
	api->logger_set = true;
	return 0;
}

static int put_metrics(struct vmm_api *api, const json_t *b, const char *pfx)
{
	const struct field f[] = {{"metrics_path", F_STR, true}};
	const char *path;
	char *p;
	int ret = check_object(pfx, b, f, sizeof(f) / sizeof(f[0]));

	if (ret < 0)
		return ret;
	if (api->metrics_path)
		return fault("%smetrics_path: metrics are already written to '%s'", pfx,
			     api->metrics_path);
	path = get_str(b, "metrics_path");
	p = strdup(path);
	if (!p)
		return cvmm_err(ENOMEM, "out of memory");
	ret = api->ops->metrics(api->opaque, path);
	if (ret < 0) {
		free(p);
		return cvmm_err(-ret, "%smetrics_path: %s", pfx, cvmm_err_msg());
	}
	api->metrics_path = p;
	return 0;
}

static int put_action(struct vmm_api *api, const json_t *b)
{
	const struct field f[] = {{"action_type", F_STR, true}};
	const char *type;
	int ret = check_object("", b, f, sizeof(f) / sizeof(f[0]));

	if (ret < 0)
		return ret;
	type = get_str(b, "action_type");
	if (strcmp(type, "InstanceStart") == 0) {
		if (api->state != VMM_STATE_NOT_STARTED)
			return cvmm_err(EINVAL, API_PRE_BOOT_ONLY);
		if (!api->cfg.kernel)
			return cvmm_err(EINVAL, "InstanceStart: no boot source (PUT /boot-source "
						"with kernel_image_path first)");
		ret = api->ops->start(api->opaque);
		if (ret < 0)
			return cvmm_err(-ret, "InstanceStart: %s", cvmm_err_msg());
		api->state = VMM_STATE_RUNNING;
		return 0;
	}
	if (strcmp(type, "SendCtrlAltDel") == 0) {
		if (api->state == VMM_STATE_NOT_STARTED)
			return cvmm_err(EINVAL, API_POST_BOOT_ONLY);
		ret = api->ops->ctrl_alt_del(api->opaque);
		return ret < 0 ? cvmm_err(-ret, "SendCtrlAltDel: %s", cvmm_err_msg()) : 0;
	}
	if (strcmp(type, "FlushMetrics") == 0) {
		if (!api->metrics_path)
			return cvmm_err(EINVAL, "FlushMetrics: no metrics output (PUT /metrics "
						"first)");
		ret = api->ops->flush_metrics(api->opaque);
		return ret < 0 ? cvmm_err(-ret, "FlushMetrics: %s", cvmm_err_msg()) : 0;
	}
	return fault("action_type: '%s' is not InstanceStart, SendCtrlAltDel or FlushMetrics%s",
		     type, "");
}

static int patch_vm(struct vmm_api *api, const json_t *b)
{
	const struct field f[] = {{"state", F_STR, true}};
	const char *s;
	int ret = check_object("", b, f, sizeof(f) / sizeof(f[0]));

	if (ret < 0)
		return ret;
	s = get_str(b, "state");
	if (strcmp(s, "Paused") != 0 && strcmp(s, "Resumed") != 0)
		return fault("state: '%s' is not Paused or Resumed%s", s, "");
	if (api->state == VMM_STATE_NOT_STARTED)
		return cvmm_err(EINVAL, API_POST_BOOT_ONLY);
	if (s[0] == 'P' && api->state == VMM_STATE_RUNNING) {
		ret = api->ops->pause(api->opaque);
		if (ret < 0)
			return cvmm_err(-ret, "state: cannot pause: %s", cvmm_err_msg());
		api->state = VMM_STATE_PAUSED;
	} else if (s[0] == 'R' && api->state == VMM_STATE_PAUSED) {
		ret = api->ops->resume(api->opaque);
		if (ret < 0)
			return cvmm_err(-ret, "state: cannot resume: %s", cvmm_err_msg());
		api->state = VMM_STATE_RUNNING;
	}
	return 0;
}

/* Devices not in the tree yet: refused, naming the device, in every phase. */
static int not_supported(const char *what)
{
	return cvmm_err(EINVAL, "%s: not supported yet by cvmm", what);
}

/* ------------------------------------------------------------------ */
/* GET bodies                                                          */
/* ------------------------------------------------------------------ */

static json_t *machine_config_json(const struct vmm_api *api)
{
	return json_pack("{s:I, s:I, s:b, s:b, s:s}", "vcpu_count", (json_int_t)api->cfg.cpus,
			 "mem_size_mib", (json_int_t)api->cfg.memory_mib, "smt", 0,
			 "track_dirty_pages", 0, "huge_pages", huge_names[api->cfg.huge_pages]);
}

static json_t *bucket_json(const struct cvmm_ratelimit_bucket *b)
{
	return json_pack("{s:I, s:I, s:I}", "size", (json_int_t)b->size, "one_time_burst",
			 (json_int_t)b->one_time_burst, "refill_time",
			 (json_int_t)b->refill_time_ms);
}

static json_t *vm_config_json(const struct vmm_api *api)
{
	json_t *drives = json_array(), *nets = json_array(), *o = json_object(), *boot = NULL;

	for (unsigned int i = 0; i < api->cfg.nr_disks; i++) {
		const struct vmm_disk_config *d = &api->cfg.disks[i];

		json_array_append_new(
		    drives,
		    json_pack("{s:s, s:s, s:b, s:b, s:s, s:s, s:{s:o, s:o}}", "drive_id", d->id,
			      "path_on_host", d->path, "is_root_device", d->root, "is_read_only",
			      d->read_only, "cache_type",
			      d->cache == VMM_DISK_CACHE_UNSAFE ? "Unsafe" : "Writeback",
			      "io_engine", d->engine == VMM_DISK_ENGINE_SYNC ? "Sync" : "Async",
			      "rate_limiter", "bandwidth", bucket_json(&d->limit.bytes), "ops",
			      bucket_json(&d->limit.ops)));
	}
	for (unsigned int i = 0; i < api->cfg.nr_nets; i++) {
		const struct vmm_net_config *n = &api->cfg.nets[i];
		json_t *j = json_pack("{s:s, s:s}", "iface_id", n->id, "host_dev_name", n->tap);
		char mac[18];

		if (n->has_mac) {
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0],
				 n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
			json_object_set_new(j, "guest_mac", json_string(mac));
		}
		json_object_set_new(j, "rx_rate_limiter",
				    json_pack("{s:o, s:o}", "bandwidth",
					      bucket_json(&n->rx_limit.bytes), "ops",
					      bucket_json(&n->rx_limit.ops)));
		json_object_set_new(j, "tx_rate_limiter",
				    json_pack("{s:o, s:o}", "bandwidth",
					      bucket_json(&n->tx_limit.bytes), "ops",
					      bucket_json(&n->tx_limit.ops)));
		json_array_append_new(nets, j);
	}
	if (api->cfg.kernel) {
		boot = json_pack("{s:s}", "kernel_image_path", api->cfg.kernel);
		if (api->cfg.initrd)
			json_object_set_new(boot, "initrd_path", json_string(api->cfg.initrd));
		if (api->cfg.cmdline)
			json_object_set_new(boot, "boot_args", json_string(api->cfg.cmdline));
	}
	json_object_set_new(o, "boot-source", boot ? boot : json_null());
	json_object_set_new(o, "drives", drives);
	json_object_set_new(o, "machine-config", machine_config_json(api));
	json_object_set_new(o, "network-interfaces", nets);
	json_object_set_new(o, "vsock",
			    api->cfg.vsock.enabled
				? json_pack("{s:s, s:I, s:s}", "vsock_id", "vsock0", "guest_cid",
					    (json_int_t)api->cfg.vsock.cid, "uds_path",
					    api->cfg.vsock.uds)
				: json_null());
	json_object_set_new(o, "entropy",
			    !api->cfg.rng ? json_null()
			    : !api->cfg.rng_limited
				? json_object()
				: json_pack("{s:{s:o, s:o}}", "rate_limiter", "bandwidth",
					    bucket_json(&api->cfg.rng_limit.bytes), "ops",
					    bucket_json(&api->cfg.rng_limit.ops)));
	json_object_set_new(o, "balloon", json_null());
	json_object_set_new(o, "logger",
			    api->logger_set
				? json_pack("{s:s?, s:s, s:b, s:b}", "log_path", api->log_path,
					    "level", level_names[api->log_level], "show_level",
					    api->log_show_level, "show_log_origin",
					    api->log_show_origin)
				: json_null());
	json_object_set_new(o, "metrics",
			    api->metrics_path
				? json_pack("{s:s}", "metrics_path", api->metrics_path)
				: json_null());
	return o;
}

/* ------------------------------------------------------------------ */
/* Routing                                                             */
/* ------------------------------------------------------------------ */

void vmm_api_fault(struct vmm_api_response *resp, const char *msg)
{
	char clean[1024];
	json_t *o;
	size_t i;

	/* Messages quote the client's bytes (a path, a method): keep them valid
	 * JSON text whatever those were. */
	for (i = 0; msg[i] && i < sizeof(clean) - 1; i++)
		clean[i] =
		    (unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] >= 0x7f ? '?' : msg[i];
	clean[i] = '\0';
	o = json_pack("{s:s}", "fault_message", clean);

	resp->status = 400;
	resp->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
}

static void respond_json(struct vmm_api_response *resp, json_t *o)
{
	resp->status = 200;
	resp->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!resp->body)
		vmm_api_fault(resp, "out of memory");
}

/* The path after prefix, if path starts with it and the rest is one segment. */
static const char *path_param(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) != 0 || strchr(path + n, '/'))
		return NULL;
	return path + n;
}

static bool path_under(const char *path, const char *base)
{
	size_t n = strlen(base);

	return strncmp(path, base, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

enum method { M_GET, M_PUT, M_PATCH, M_OTHER };

static int bad_method(const char *method, const char *path, const char *allowed)
{
	return cvmm_err(EINVAL, "%s is not allowed on %s (only %s)", method, path, allowed);
}

static int route(struct vmm_api *api, const char *method, enum method m, const char *path,
		 const json_t *body, struct vmm_api_response *resp)
{
	const bool pre = api->state == VMM_STATE_NOT_STARTED;
	const char *id;

	if (strcmp(path, "/") == 0) {
		if (m != M_GET)
			return bad_method(method, path, "GET");
		respond_json(resp, json_pack("{s:s, s:s, s:s, s:s}", "id", api->id, "state",
					     vmm_api_state_name(api->state), "vmm_version",
					     CVMM_VERSION, "app_name", "cvmm"));
		return 0;
	}
	if (strcmp(path, "/version") == 0) {
		if (m != M_GET)
			return bad_method(method, path, "GET");
		respond_json(resp, json_pack("{s:s}", "firecracker_version", CVMM_VERSION));
		return 0;
	}
	if (strcmp(path, "/vm/config") == 0) {
		if (m != M_GET)
			return bad_method(method, path, "GET");
		respond_json(resp, vm_config_json(api));
		return 0;
	}
	if (strcmp(path, "/machine-config") == 0) {
		if (m == M_GET) {
			respond_json(resp, machine_config_json(api));
			return 0;
		}
		if (m != M_PUT && m != M_PATCH)
			return bad_method(method, path, "GET, PUT and PATCH");
		if (!pre)
			return cvmm_err(EINVAL, API_PRE_BOOT_ONLY);
		return put_machine_config(api, body, "", m == M_PATCH);
	}
	if (strcmp(path, "/boot-source") == 0) {
		if (m != M_PUT)
			return bad_method(method, path, "PUT");
		if (!pre)
			return cvmm_err(EINVAL, API_PRE_BOOT_ONLY);
		return put_boot_source(api, body, "");
	}
	if ((id = path_param(path, "/drives/"))) {
		if (m == M_PUT) {
			if (!pre)
				return cvmm_err(EINVAL, API_PRE_BOOT_ONLY);
			return put_drive(api, id, body, "");
		}
		if (m != M_PATCH)
			return bad_method(method, "/drives/{drive_id}", "PUT and PATCH");
		if (pre)
			return cvmm_err(EINVAL, API_POST_BOOT_ONLY);
		return patch_drive(api, id, body);
	}
	if (strcmp(path, "/actions") == 0) {
		if (m != M_PUT)
			return bad_method(method, path, "PUT");
		return put_action(api, body);
	}
	if (strcmp(path, "/vm") == 0) {
		if (m != M_PATCH)
			return bad_method(method, path, "PATCH");
		return patch_vm(api, body);
	}
	if (strcmp(path, "/logger") == 0) {
		if (m != M_PUT)
			return bad_method(method, path, "PUT");
		if (!pre)
			return cvmm_err(EINVAL, API_PRE_BOOT_ONLY);
		return put_logger(api, body, "");
	}
	if (strcmp(path, "/metrics") == 0) {
		if (m != M_PUT)
			return bad_method(method, path, "PUT");
		if (!pre)
			return cvmm_err(EINVAL, API_PRE_BOOT_ONLY);
		return put_metrics(api, body, "");
	}
	if ((id = path_param(path, "/network-interfaces/"))) {
		if (m == M_PUT) {
			if (!pre)
				return cvmm_err(EINVAL, API_PRE_BOOT_ONLY);
			return put_net(api, id, body, "");
		}
		if (m != M_PATCH)
			return bad_method(method, "/network-interfaces/{iface_id}",
					  "PUT and PATCH");
		if (pre)
			return cvmm_err(EINVAL, API_POST_BOOT_ONLY);
		return patch_net(api, id, body);
	}
	if (strcmp(path, "/vsock") == 0) {
		if (m != M_PUT)
			return bad_method(method, path, "PUT");
		if (!pre)
			return cvmm_err(EINVAL, API_PRE_BOOT_ONLY);
		return put_vsock(api, body, "");
	}
	if (strcmp(path, "/entropy") == 0) {
		if (m != M_PUT)
			return bad_method(method, path, "PUT");
		if (!pre)
			return cvmm_err(EINVAL, API_PRE_BOOT_ONLY);
		return put_entropy(api, body, "");
	}
	if (path_under(path, "/snapshot"))
		return not_supported("snapshot: snapshots");
	if (path_under(path, "/balloon"))
		return not_supported("balloon: the balloon device");
	if (path_under(path, "/mmds"))
		return not_supported("mmds: the microVM metadata service");
	if (path_under(path, "/cpu-config") || path_under(path, "/serial") ||
	    path_under(path, "/hotplug") || path_under(path, "/pmem"))
		return cvmm_err(EINVAL, "%s: not supported yet by cvmm", path);
	return cvmm_err(EINVAL, "no such resource: %s %.200s", method, path);
}

void vmm_api_handle(struct vmm_api *api, const char *method, const char *path, const char *body,
		    size_t len, struct vmm_api_response *resp)
{
	enum method m = strcmp(method, "GET") == 0     ? M_GET
			: strcmp(method, "PUT") == 0   ? M_PUT
			: strcmp(method, "PATCH") == 0 ? M_PATCH
						       : M_OTHER;
	char clean[256];
	size_t plen = strcspn(path, "?#");
	json_t *json = NULL;
	int ret;

	*resp = (struct vmm_api_response){.status = 204};
	api->stats.requests++;
	cvmm_err_clear();
	if (plen >= sizeof(clean)) {
		ret = cvmm_err(EINVAL, "path: longer than %zu bytes", sizeof(clean) - 1);
		goto out;
	}
	memcpy(clean, path, plen);
	clean[plen] = '\0';
	/* A trailing slash names the same resource. */
	if (plen > 1 && clean[plen - 1] == '/')
		clean[plen - 1] = '\0';
	if (m == M_PUT || m == M_PATCH) {
		json_error_t err;

		if (len == 0) {
			ret = cvmm_err(EINVAL, "body: a JSON object is required");
			goto out;
		}
		json = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
		if (!json) {
			ret = cvmm_err(EINVAL, "body: invalid JSON at line %d column %d: %s",
				       err.line, err.column, err.text);
			goto out;
		}
	}
	ret = route(api, method, m, clean, json, resp);
out:
	json_decref(json);
	if (ret < 0) {
		api->stats.errors++;
		free(resp->body);
		vmm_api_fault(resp, cvmm_err_msg());
	}
}

/* ------------------------------------------------------------------ */
/* --config-file                                                       */
/* ------------------------------------------------------------------ */

int vmm_api_load_config(struct vmm_api *api, const char *text, size_t len)
{
	const struct field f[] = {
	    {"boot-source", F_OBJ, true},     {"drives", F_ARRAY, false},
	    {"machine-config", F_OBJ, false}, {"network-interfaces", F_ARRAY, false},
	    {"vsock", F_OBJ, false},	      {"entropy", F_OBJ, false},
	    {"logger", F_OBJ, false},	      {"metrics", F_OBJ, false},
	    {"balloon", F_OBJ, false},	      {"mmds-config", F_OBJ, false},
	    {"cpu-config", F_OBJ, false},
	};
	json_error_t err;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err), *v;
	size_t i;
	int ret;

	if (!root)
		return cvmm_err(EINVAL, "invalid JSON at line %d column %d: %s", err.line,
				err.column, err.text);
	ret = check_object("", root, f, sizeof(f) / sizeof(f[0]));
	if (ret < 0)
		goto out;
	if (get(root, "balloon"))
		ret = not_supported("balloon: the balloon device");
	else if (get(root, "mmds-config"))
		ret = not_supported("mmds-config: the microVM metadata service");
	else if (get(root, "cpu-config"))
		ret = not_supported("cpu-config: CPU templates");
	if (ret < 0)
		goto out;
	if ((v = get(root, "vsock")) && (ret = put_vsock(api, v, "vsock.")) < 0)
		goto out;
	if ((v = get(root, "entropy")) && (ret = put_entropy(api, v, "entropy.")) < 0)
		goto out;
	json_array_foreach(get(root, "network-interfaces"), i, v)
	{
		char pfx[48];

		snprintf(pfx, sizeof(pfx), "network-interfaces[%zu].", i);
		if ((ret = put_net(api, NULL, v, pfx)) < 0)
			goto out;
	}
	if ((v = get(root, "logger")) && (ret = put_logger(api, v, "logger.")) < 0)
		goto out;
	if ((v = get(root, "metrics")) && (ret = put_metrics(api, v, "metrics.")) < 0)
		goto out;
	if ((v = get(root, "machine-config")) &&
	    (ret = put_machine_config(api, v, "machine-config.", false)) < 0)
		goto out;
	if ((ret = put_boot_source(api, get(root, "boot-source"), "boot-source.")) < 0)
		goto out;
	json_array_foreach(get(root, "drives"), i, v)
	{
		char pfx[32];

		snprintf(pfx, sizeof(pfx), "drives[%zu].", i);
		if ((ret = put_drive(api, NULL, v, pfx)) < 0)
			goto out;
	}
out:
	json_decref(root);
	return ret;
}

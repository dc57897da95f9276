// SPDX-License-Identifier: Apache-2.0
#include "cli.h"
#include <cvmm/sys.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAX_CPUS 254

void vmm_cli_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmm run --kernel PATH [--initrd PATH] [--cmdline STR] [--cpus N]\n"
		"                [--memory MiB] [--boot-timer] [--no-acpi] [--disk SPEC]...\n"
		"                [--rng] [--vsock SPEC]\n"
		"  --kernel PATH   bzImage or ELF vmlinux (PVH entry used when present)\n"
		"  --initrd PATH   initial ramdisk\n"
		"  --cmdline STR   kernel command line (default: console=ttyS0 reboot=k panic=1)\n"
		"  --cpus N        number of vCPUs (default 1, at most %d)\n"
		"  --memory MiB    guest RAM in MiB (default 128)\n"
		"  --boot-timer    print the time until the guest writes 123 to port 0x3f0\n"
		"  --no-acpi       no ACPI tables (MP table only); poweroff then only halts\n"
		"  --disk SPEC     virtio-blk disk, repeatable; SPEC is path=FILE[,ro][,root]\n"
		"                  [,engine=sync|io_uring][,cache=unsafe|writeback][,id=STR]\n"
		"                  [,bw=RATE[/REFILL_MS][+BURST]][,iops=RATE[/REFILL_MS][+BURST]]\n"
		"                  bw in bytes (K/M/G suffixes), iops in requests, per second\n"
		"                  unless REFILL_MS says otherwise\n"
		"  --rng           virtio-rng device (the guest's /dev/hwrng), fed by the host's\n"
		"                  getrandom()\n"
		"  --vsock SPEC    virtio-vsock device; SPEC is cid=N,uds=PATH[,vhost=on]\n"
		"                  [,bw=RATE[/REFILL_MS][+BURST]][,iops=RATE[/REFILL_MS][+BURST]]\n"
		"                  host->guest: connect to PATH, send \"CONNECT <port>\\n\";\n"
		"                  guest->host port P: a listener on PATH_P. vhost=on uses\n"
		"                  /dev/vhost-vsock (AF_VSOCK on the host, no limits).\n"
		"                  timeout=MS (default 5000): a host connection's time to send\n"
		"                  its CONNECT line, then the guest's to answer (hybrid only)\n"
		"  --net SPEC      virtio-net interface on an existing TAP, repeatable; SPEC is\n"
		"                  tap=NAME[,mac=52:54:00:12:34:56][,mtu=68..65535][,id=ID]\n"
		"                  [,vhost=on|off][,rx-bw=L][,rx-iops=L][,tx-bw=L][,tx-iops=L]\n"
		"                  (L as for --disk bw=/iops=, in frames for iops; not with\n"
		"                  vhost=on, which uses /dev/vhost-net)\n",
		CLI_MAX_CPUS);
}

static int cli_error(const char *fmt, const char *field, const char *value)
{
	fputs("cvmm: ", stderr);
	fprintf(stderr, fmt, field, value);
	fputc('\n', stderr);
	return -EINVAL;
}

/* A bw= or iops= value into its bucket; the error names the option. */
static int cli_parse_limit(const char *opt, const char *key, const char *val, const char *arg,
			   struct cvmm_ratelimit_bucket *out)
{
	if (!val || cvmm_ratelimit_parse_bucket(val, out) < 0) {
		fprintf(stderr, "cvmm: %s: bad value for '%s' in '%s': %s\n", opt, key, arg,
			val ? cvmm_err_msg() : "missing");
		return -EINVAL;
	}
	return 0;
}

/* path=FILE[,ro][,root][,engine=E][,cache=C][,id=S][,bw=L][,iops=L]: errors
 * name the key. */
static int cli_parse_disk(struct vmm_config *cfg, const char *arg)
{
	struct vmm_disk_config *d;
	char *tok, *save = NULL;

	if (cfg->nr_disks == VMM_MAX_DISKS)
		return cli_error("%s: at most %s disks", "--disk", "16");
	d = &cfg->disks[cfg->nr_disks];
	*d = (struct vmm_disk_config){.spec = strdup(arg)};
	if (!d->spec)
		return cli_error("%s: %s", "--disk", "out of memory");
	cfg->nr_disks++;
	for (tok = strtok_r(d->spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');

		if (val)
			*val++ = '\0';
		if (strcmp(tok, "path") == 0 && val && *val)
			d->path = val;
		else if (strcmp(tok, "id") == 0 && val)
			d->id = val;
		else if (strcmp(tok, "ro") == 0 && !val)
			d->read_only = true;
		else if (strcmp(tok, "root") == 0 && !val)
			d->root = true;
		else if (strcmp(tok, "engine") == 0 && val && strcmp(val, "sync") == 0)
			d->engine = VMM_DISK_ENGINE_SYNC;
		else if (strcmp(tok, "engine") == 0 && val && strcmp(val, "io_uring") == 0)
			d->engine = VMM_DISK_ENGINE_IO_URING;
		else if (strcmp(tok, "cache") == 0 && val && strcmp(val, "unsafe") == 0)
			d->cache = VMM_DISK_CACHE_UNSAFE;
		else if (strcmp(tok, "cache") == 0 && val && strcmp(val, "writeback") == 0)
			d->cache = VMM_DISK_CACHE_WRITEBACK;
		else if (strcmp(tok, "bw") == 0 || strcmp(tok, "iops") == 0) {
			bool bw = tok[0] == 'b';

			if (cli_parse_limit("--disk", tok, val, arg,
					    bw ? &d->limit.bytes : &d->limit.ops) < 0)
				return -EINVAL;
			d->limited = true;
		} else if (strcmp(tok, "engine") == 0 || strcmp(tok, "cache") == 0 ||
			   strcmp(tok, "path") == 0)
			return cli_error("--disk: bad value for '%s' in '%s'", tok, arg);
		else
			return cli_error("--disk: unknown key '%s' in '%s'", tok, arg);
	}
	if (!d->path)
		return cli_error("%s: path=FILE is required in '%s'", "--disk", arg);
	for (unsigned int i = 0; i + 1 < cfg->nr_disks; i++)
		if (d->root && cfg->disks[i].root)
			return cli_error("%s: more than one root disk ('%s')", "--disk", arg);
	return 0;
}

/* --rng[=bw=L][,iops=L]: alone, unlimited. Errors name the key. */
static int cli_parse_rng(struct vmm_config *cfg, const char *arg)
{
	char *spec, *save = NULL, *key;
	int ret = 0;

	if (cfg->rng)
		return cli_error("%s: given more than once%s", "--rng", "");
	cfg->rng = true;
	if (!arg)
		return 0;
	spec = strdup(arg);
	if (!spec)
		return cli_error("%s: %s", "--rng", "out of memory");
	for (key = strtok_r(spec, ",", &save); key && ret == 0; key = strtok_r(NULL, ",", &save)) {
		char *val = strchr(key, '=');

		if (val)
			*val++ = '\0';
		if (strcmp(key, "bw") == 0 || strcmp(key, "iops") == 0) {
			ret = cli_parse_limit("--rng", key, val, arg,
					      key[0] == 'b' ? &cfg->rng_limit.bytes
							    : &cfg->rng_limit.ops);
			cfg->rng_limited = true;
		} else {
			ret = cli_error("--rng: unknown key '%s' in '%s'", key, arg);
		}
	}
	free(spec);
	return ret;
}

static int cli_parse_u64(const char *s, uint64_t *out);

/* cid=N,uds=PATH[,vhost=on][,bw=L][,iops=L][,timeout=MS]: errors name the key. */
static int cli_parse_vsock(struct vmm_config *cfg, const char *arg)
{
	struct vmm_vsock_config *v = &cfg->vsock;
	char *tok, *save = NULL;
	bool has_cid = false;

	if (v->enabled)
		return cli_error("%s: given more than once%s", "--vsock", "");
	v->enabled = true;
	v->spec = strdup(arg);
	if (!v->spec)
		return cli_error("%s: %s", "--vsock", "out of memory");
	for (tok = strtok_r(v->spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');

		if (val)
			*val++ = '\0';
		if (strcmp(tok, "cid") == 0) {
			if (!val || cli_parse_u64(val, &v->cid) < 0 || v->cid < 3 ||
			    v->cid >= 0xffffffffULL)
				return cli_error("--vsock: cid=%s is not a guest CID in "
						 "3..4294967294 (0-2 and -1 are reserved) in '%s'",
						 val ? val : "", arg);
			has_cid = true;
		} else if (strcmp(tok, "uds") == 0 && val && *val) {
			v->uds = val;
		} else if (strcmp(tok, "vhost") == 0 && val &&
			   (strcmp(val, "on") == 0 || strcmp(val, "off") == 0)) {
			v->vhost = val[1] == 'n';
		} else if (strcmp(tok, "bw") == 0 || strcmp(tok, "iops") == 0) {
			bool bw = tok[0] == 'b';

			if (cli_parse_limit("--vsock", tok, val, arg,
					    bw ? &v->limit.bytes : &v->limit.ops) < 0)
				return -EINVAL;
			v->limited = true;
		} else if (strcmp(tok, "timeout") == 0) {
			uint64_t ms = 0;

			if (!val || cli_parse_u64(val, &ms) < 0 || ms == 0 || ms > 3600000)
				return cli_error(
				    "--vsock: timeout=%s is not in 1..3600000 ms in '%s'",
				    val ? val : "", arg);
			v->timeout_ms = (uint32_t)ms;
		} else if (strcmp(tok, "uds") == 0 || strcmp(tok, "vhost") == 0) {
			return cli_error("--vsock: bad value for '%s' in '%s'", tok, arg);
		} else {
			return cli_error("--vsock: unknown key '%s' in '%s'", tok, arg);
		}
	}
	if (!has_cid)
		return cli_error("%s: cid=N is required in '%s'", "--vsock", arg);
	if (!v->vhost && !v->uds)
		return cli_error("%s: uds=PATH is required in '%s'", "--vsock", arg);
	if (v->vhost && v->timeout_ms)
		return cli_error("%s: timeout= applies to the hybrid back end, not vhost=on ('%s')",
				 "--vsock", arg);
	if (v->vhost && v->limited)
		return cli_error("%s: bw= and iops= need the userspace device, not vhost=on "
				 "('%s')",
				 "--vsock", arg);
	return 0;
}

/* aa:bb:cc:dd:ee:ff, two hex digits each, unicast. */
static int cli_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		char hex[3] = {s[0], s[0] ? s[1] : '\0', '\0'};
		char *end;

		if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]))
			return -EINVAL;
		mac[i] = (uint8_t)strtoul(hex, &end, 16);
		s += 2;
		if (*s != (i < 5 ? ':' : '\0'))
			return -EINVAL;
		s += i < 5;
	}
	return mac[0] & 1 ? -EINVAL : 0;
}

/* tap=NAME[,mac=M][,mtu=N][,vhost=on|off][,id=ID][,{rx,tx}-{bw,iops}=L]:
 * errors name the key. */
static int cli_parse_net(struct vmm_config *cfg, const char *arg)
{
	struct vmm_net_config *n;
	char *tok, *save = NULL;
	uint64_t v;

	if (cfg->nr_nets == VMM_MAX_NETS)
		return cli_error("%s: at most %s interfaces", "--net", "8");
	n = &cfg->nets[cfg->nr_nets];
	*n = (struct vmm_net_config){.spec = strdup(arg)};
	if (!n->spec)
		return cli_error("%s: %s", "--net", "out of memory");
	cfg->nr_nets++;
	for (tok = strtok_r(n->spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');
		bool rx = strncmp(tok, "rx-", 3) == 0;

		if (val)
			*val++ = '\0';
		if (strcmp(tok, "tap") == 0 && val && *val) {
			n->tap = val;
		} else if (strcmp(tok, "id") == 0 && val && *val) {
			n->id = val;
		} else if (strcmp(tok, "mac") == 0) {
			if (!val || cli_parse_mac(val, n->mac) < 0)
				return cli_error("--net: mac=%s is not a unicast MAC address "
						 "(aa:bb:cc:dd:ee:ff) in '%s'",
						 val ? val : "", arg);
			n->has_mac = true;
		} else if (strcmp(tok, "mtu") == 0) {
			if (!val || cli_parse_u64(val, &v) < 0 || v < 68 || v > 65535)
				return cli_error("--net: mtu=%s is not in 68..65535 in '%s'",
						 val ? val : "", arg);
			n->mtu = (uint16_t)v;
		} else if (strcmp(tok, "vhost") == 0 && val &&
			   (strcmp(val, "on") == 0 || strcmp(val, "off") == 0)) {
			n->vhost = val[1] == 'n';
		} else if ((rx || strncmp(tok, "tx-", 3) == 0) &&
			   (strcmp(tok + 3, "bw") == 0 || strcmp(tok + 3, "iops") == 0)) {
			struct cvmm_ratelimit_cfg *l = rx ? &n->rx_limit : &n->tx_limit;

			if (cli_parse_limit("--net", tok, val, arg,
					    tok[3] == 'b' ? &l->bytes : &l->ops) < 0)
				return -EINVAL;
			*(rx ? &n->rx_limited : &n->tx_limited) = true;
		} else if (strcmp(tok, "tap") == 0 || strcmp(tok, "id") == 0 ||
			   strcmp(tok, "vhost") == 0) {
			return cli_error("--net: bad value for '%s' in '%s'", tok, arg);
		} else {
			return cli_error("--net: unknown key '%s' in '%s'", tok, arg);
		}
	}
	if (!n->tap)
		return cli_error("%s: tap=NAME is required in '%s'", "--net", arg);
	if (n->vhost && (n->rx_limited || n->tx_limited))
		return cli_error("%s: rx-bw=, rx-iops=, tx-bw= and tx-iops= need the userspace "
				 "device, not vhost=on ('%s')",
				 "--net", arg);
	return 0;
}

void vmm_cli_free(struct vmm_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_nets; i++)
		free(cfg->nets[i].spec);
	cfg->nr_nets = 0;
	free(cfg->vsock.spec);
	cfg->vsock.spec = NULL;
	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		free(cfg->disks[i].spec);
	cfg->nr_disks = 0;
}

/* Strict decimal: no sign, no trailing garbage, no overflow. */
static int cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int vmm_cli_parse(int argc, char **argv, struct vmm_config *cfg)
{
	enum {
		OPT_KERNEL = 256,
		OPT_INITRD,
		OPT_CMDLINE,
		OPT_CPUS,
		OPT_MEMORY,
		OPT_BOOT_TIMER,
		OPT_NO_ACPI,
		OPT_KVM,
		OPT_DISK,
		OPT_RNG,
		OPT_VSOCK,
		OPT_NET,
		OPT_HELP
	};
	static const struct option opts[] = {
	    {"kernel", required_argument, NULL, OPT_KERNEL},
	    {"initrd", required_argument, NULL, OPT_INITRD},
	    {"cmdline", required_argument, NULL, OPT_CMDLINE},
	    {"cpus", required_argument, NULL, OPT_CPUS},
	    {"memory", required_argument, NULL, OPT_MEMORY},
	    {"boot-timer", no_argument, NULL, OPT_BOOT_TIMER},
	    {"no-acpi", no_argument, NULL, OPT_NO_ACPI},
	    {"kvm-device", required_argument, NULL, OPT_KVM},
	    {"disk", required_argument, NULL, OPT_DISK},
	    {"rng", optional_argument, NULL, OPT_RNG},
	    {"vsock", required_argument, NULL, OPT_VSOCK},
	    {"net", required_argument, NULL, OPT_NET},
	    {"help", no_argument, NULL, OPT_HELP},
	    {0},
	};
	uint64_t v;
	int c;

	*cfg = (struct vmm_config){.cpus = 1, .memory_mib = 128, .kvm_path = "/dev/kvm"};
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			cfg->kernel = optarg;
			break;
		case OPT_INITRD:
			cfg->initrd = optarg;
			break;
		case OPT_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case OPT_CPUS:
			if (cli_parse_u64(optarg, &v) || v == 0 || v > CLI_MAX_CPUS)
				return cli_error("%s: '%s' is not a vCPU count between 1 and 254",
						 "--cpus", optarg);
			cfg->cpus = (unsigned int)v;
			break;
		case OPT_MEMORY:
			if (cli_parse_u64(optarg, &v) || v == 0 || v > (1ULL << 26))
				return cli_error("%s: '%s' is not a size in MiB greater than 0",
						 "--memory", optarg);
			cfg->memory_mib = v;
			break;
		case OPT_BOOT_TIMER:
			cfg->boot_timer = true;
			break;
		case OPT_NO_ACPI:
			cfg->no_acpi = true;
			break;
		case OPT_KVM:
			cfg->kvm_path = optarg;
			break;
		case OPT_DISK:
			if (cli_parse_disk(cfg, optarg) < 0)
				return -EINVAL;
			break;
		case OPT_RNG:
			/* `--rng KEYS` as well as `--rng=KEYS`: run takes no operands. */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			if (cli_parse_rng(cfg, optarg) < 0)
				return -EINVAL;
			break;
		case OPT_VSOCK:
			if (cli_parse_vsock(cfg, optarg) < 0)
				return -EINVAL;
			break;
		case OPT_NET:
			if (cli_parse_net(cfg, optarg) < 0)
				return -EINVAL;
			break;
		case OPT_HELP:
			vmm_cli_usage(stdout);
			return 1;
		default:
			if (optopt)
				return cli_error("%s%s: missing value", "--",
						 optopt >= OPT_KERNEL && optopt < OPT_HELP
						     ? opts[optopt - OPT_KERNEL].name
						     : "?");
			return cli_error("%s: unknown option '%s'", "run", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_error("%s: unexpected argument '%s'", "run", argv[optind]);
	if (!cfg->kernel)
		return cli_error("%s: missing (try 'cvmm run --help')%s", "--kernel", "");
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line parsing for `cvmm run`: syntax and host-independent checks. */
#ifndef CVMM_VMM_CLI_H
#define CVMM_VMM_CLI_H

#include <cvmm/ratelimit.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VMM_MAX_DISKS 16
#define VMM_MAX_NETS 8

enum vmm_disk_engine { VMM_DISK_ENGINE_IO_URING, VMM_DISK_ENGINE_SYNC };
enum vmm_disk_cache { VMM_DISK_CACHE_WRITEBACK, VMM_DISK_CACHE_UNSAFE };
/* Guest RAM backing: THP (madvise) is what `cvmm run` uses. */
enum vmm_huge_pages { VMM_HUGE_PAGES_THP, VMM_HUGE_PAGES_NONE, VMM_HUGE_PAGES_2M };

struct vmm_disk_config {
	char *spec; /* owned copy of the --disk argument, split in place */
	const char *path;
	const char *id;
	bool read_only;
	bool root;
	enum vmm_disk_engine engine;
	enum vmm_disk_cache cache;
	bool limited; /* bw= or iops= given */
	struct cvmm_ratelimit_cfg limit;
};

/* --vsock cid=N,uds=PATH[,vhost=on][,bw=L][,iops=L][,timeout=MS] */
struct vmm_vsock_config {
	char *spec; /* owned copy of the argument, split in place */
	bool enabled;
	uint64_t cid;
	const char *uds;
	bool vhost;
	bool limited; /* bw= or iops= given */
	struct cvmm_ratelimit_cfg limit;
	uint32_t timeout_ms; /* 0: the device's default */
};

/* --net tap=NAME[,mac=M][,mtu=N][,vhost=on|off][,id=ID][,rx-bw=L]... */
struct vmm_net_config {
	char *spec; /* owned copy of the argument, split in place */
	const char *tap;
	const char *id; /* NULL: "net<index>" */
	bool has_mac;
	uint8_t mac[6];
	uint16_t mtu; /* 0: not given */
	bool vhost;
	bool rx_limited, tx_limited; /* rx-bw=/rx-iops=, tx-bw=/tx-iops= given */
	struct cvmm_ratelimit_cfg rx_limit, tx_limit;
};

struct vmm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline; /* NULL: the default */
	unsigned int cpus;
	uint64_t memory_mib;
	enum vmm_huge_pages huge_pages;
	bool boot_timer;
	bool no_acpi;
	bool rng;	  /* --rng: one virtio-rng device */
	bool rng_limited; /* --rng bw= or iops= */
	struct cvmm_ratelimit_cfg rng_limit;
	struct vmm_vsock_config vsock;
	const char *kvm_path;
	struct vmm_disk_config disks[VMM_MAX_DISKS];
	unsigned int nr_disks;
	struct vmm_net_config nets[VMM_MAX_NETS];
	unsigned int nr_nets;
};

/* Parse argv of `cvmm run` (argv[0] is "run"). On error prints one line
 * "cvmm: ..." to stderr and returns -EINVAL; returns 1 if help was printed. */
int vmm_cli_parse(int argc, char **argv, struct vmm_config *cfg);
void vmm_cli_usage(FILE *out);
/* Release what vmm_cli_parse() allocated. */
void vmm_cli_free(struct vmm_config *cfg);

#endif

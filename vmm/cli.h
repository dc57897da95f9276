/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line parsing for `cvmm run`: syntax and host-independent checks. */
#ifndef CVMM_VMM_CLI_H
#define CVMM_VMM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VMM_MAX_DISKS 16

struct vmm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline; /* NULL: the default */
	unsigned int cpus;
	uint64_t memory_mib;
	bool boot_timer;
	bool no_acpi;
	const char *kvm_path;
};

/* Parse argv of `cvmm run` (argv[0] is "run"). On error prints one line
 * "cvmm: ..." to stderr and returns -EINVAL; returns 1 if help was printed. */
int vmm_cli_parse(int argc, char **argv, struct vmm_config *cfg);
void vmm_cli_usage(FILE *out);

#endif

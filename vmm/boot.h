/* SPDX-License-Identifier: Apache-2.0 */
/* Boot preparation: host inputs checked, kernel loaded, boot structures written. */
#ifndef CVMM_VMM_BOOT_H
#define CVMM_VMM_BOOT_H

#include "vmm.h"
#include <cvmm/loader.h>

#define BOOT_MAX_EXTRA_CMDLINE 16

struct boot_state {
	const uint8_t *kernel_image; /* mapped files */
	size_t kernel_size;
	const uint8_t *initrd_image;
	size_t initrd_size;
	struct cvmm_loader_kernel kernel;
	bool pvh;
	uint64_t initrd_gpa;
	struct cvmm_loader_cmdline cmdline;
	char *extra_cmdline[BOOT_MAX_EXTRA_CMDLINE]; /* appended by the monitor */
	size_t nr_extra_cmdline;
};

/* Everything that depends only on host input: files, KVM, sizes; maps guest
 * RAM and loads the kernel and initrd into it. No VM exists yet. Failures
 * are the user's to fix: the caller exits with status 2. */
int vmm_boot_check(struct vmm *vmm, struct boot_state *bs);
/* Create the VM: irqchip, PIT, memory slots, vCPUs with their boot state. */
int vmm_boot_create_vm(struct vmm *vmm);
/* Write ACPI or MP tables, command line and zero page / PVH start info and
 * set the vCPUs' registers. Devices must exist (their ACPI entries). */
int vmm_boot_finish(struct vmm *vmm, struct boot_state *bs);
void vmm_boot_free(struct boot_state *bs);

#endif

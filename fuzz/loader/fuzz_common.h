/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the loader fuzz targets: one 64 MiB guest, and the boot-time
 * steps that consume a successfully loaded kernel. */
#ifndef CVMM_FUZZ_LOADER_COMMON_H
#define CVMM_FUZZ_LOADER_COMMON_H

#include <cvmm/loader.h>
#include <stdint.h>
#include <stdlib.h>

static struct cvmm_mem *fuzz_mem(void)
{
	static struct cvmm_mem *mem;

	if (!mem && cvmm_mem_create(&mem, 64ULL << 20, NULL) < 0)
		abort();
	return mem;
}

/* Feed what the loader reported (derived from the image) to the rest of the
 * boot path, as a monitor would. */
static void fuzz_boot(const struct cvmm_mem *mem, const struct cvmm_loader_kernel *k,
		      const uint8_t *data, size_t size)
{
	static const struct cvmm_e820_entry e820[] = {{0, 64ULL << 20, CVMM_E820_RAM}};
	struct cvmm_loader_boot b = {.e820 = e820, .nr_e820 = 1};
	struct cvmm_loader_pvh_layout l = {0x6000, 0x6100, 0x6200};
	struct cvmm_loader_cmdline cl;

	if (cvmm_loader_cmdline_init(&cl, k->cmdline_max) == 0) {
		if (cvmm_loader_cmdline_append(&cl, "console=ttyS0") == 0 &&
		    cvmm_loader_cmdline_write(&cl, mem, 0x20000) == 0) {
			b.cmdline_gpa = 0x20000;
			b.cmdline_len = (uint32_t)cl.len;
		}
		cvmm_loader_cmdline_free(&cl);
	}
	if (cvmm_loader_place_initrd(mem, k, data, size < 4096 ? size : 4096, 0, &b.initrd_gpa) ==
	    0)
		b.initrd_size = size < 4096 ? size : 4096;
	cvmm_loader_write_boot_params(mem, 0x7000, k, &b);
	cvmm_loader_write_pvh(mem, &l, &b);
}

#endif

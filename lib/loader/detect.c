// SPDX-License-Identifier: Apache-2.0
/* Image kind detection by magic number, and the dispatching loader. */
#include "loader-internal.h"
#include <cvmm/sys.h>
#include <elf.h>
#include <errno.h>
#include <string.h>

#define BZ_MAGIC_OFF 0x202

int cvmm_loader_detect(const void *image, size_t size)
{
	const uint8_t *buf = image;
	uint32_t magic;

	if (size >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0)
		return CVMM_LOADER_ELF;
	if (size >= BZ_MAGIC_OFF + sizeof(magic)) {
		memcpy(&magic, buf + BZ_MAGIC_OFF, sizeof(magic));
		if (magic == CVMM_BOOT_HDR_MAGIC)
			return CVMM_LOADER_BZIMAGE;
	}
	return cvmm_err(ENOEXEC, "not a kernel image (neither ELF nor bzImage, %zu bytes)", size);
}

int cvmm_loader_load(const struct cvmm_mem *mem, const void *image, size_t size,
		     struct cvmm_loader_kernel *out)
{
	int kind = cvmm_loader_detect(image, size);

	if (kind == CVMM_LOADER_ELF)
		return cvmm_loader_load_elf(mem, image, size, out);
	if (kind == CVMM_LOADER_BZIMAGE)
		return cvmm_loader_load_bzimage(mem, image, size, out);
	return kind;
}

// SPDX-License-Identifier: Apache-2.0
/* bzImage loader (Linux x86 boot protocol, 64-bit entry). */
#include "loader-internal.h"
#include <cvmm/sys.h>
#include <errno.h>
#include <string.h>

#define BZ_HDR_OFF 0x1f1
#define BZ_SECTOR 512
#define BZ_ENTRY64_OFF 0x200
#define BZ_MIN_VERSION 0x206
#define BZ_VERSION_64BIT 0x20c /* xloadflags appeared in 2.12 */

/* File offset one past the last field a protocol version defines. */
static uint32_t bz_hdr_need(uint16_t version)
{
	if (version >= 0x20a) /* pref_address, init_size */
		return 0x264;
	return 0x23c; /* 2.06: cmdline_size */
}

static int bz_read_header(const uint8_t *buf, size_t size, struct cvmm_setup_header *h)
{
	uint32_t hdr_end;

	if (size < BZ_HDR_OFF + sizeof(*h))
		return cvmm_err(
		    ENOEXEC, "bzImage: file of %zu bytes is shorter than the setup header", size);
	memcpy(h, buf + BZ_HDR_OFF, sizeof(*h));
	if (h->header != CVMM_BOOT_HDR_MAGIC)
		return cvmm_err(ENOEXEC, "bzImage: no \"HdrS\" magic at offset 0x202");
	if (h->version < BZ_MIN_VERSION)
		return cvmm_err(ENOEXEC, "bzImage: boot protocol %u.%02u is older than 2.06",
				h->version >> 8, h->version & 0xff);
	/* The header ends where the short jump at 0x200 lands; what follows is
	 * setup code and must not be read as header fields. */
	hdr_end = 0x202 + (h->jump >> 8);
	if (hdr_end < bz_hdr_need(h->version))
		return cvmm_err(
		    ENOEXEC, "bzImage: setup header ends at 0x%x, protocol %u.%02u needs 0x%x",
		    hdr_end, h->version >> 8, h->version & 0xff, bz_hdr_need(h->version));
	if (hdr_end < BZ_HDR_OFF + sizeof(*h))
		memset((uint8_t *)h + (hdr_end - BZ_HDR_OFF), 0, BZ_HDR_OFF + sizeof(*h) - hdr_end);
	if (!(h->loadflags & CVMM_BOOT_LOADED_HIGH))
		return cvmm_err(ENOEXEC,
				"bzImage: loadflags 0x%x lack LOADED_HIGH (zImage unsupported)",
				h->loadflags);
	if (h->version < BZ_VERSION_64BIT || !(h->xloadflags & CVMM_BOOT_XLF_KERNEL_64))
		return cvmm_err(
		    ENOEXEC, "bzImage: no 64-bit entry point (protocol %u.%02u, xloadflags 0x%x)",
		    h->version >> 8, h->version & 0xff, h->xloadflags);
	return 0;
}

/* Choose the load address: [load, end) must be guest RAM. */
static int bz_place(const struct cvmm_mem *mem, const struct cvmm_setup_header *h, uint64_t need,
		    uint64_t *load, uint64_t *end)
{
	uint64_t align = 1, pref = h->pref_address, base;

	if (h->relocatable_kernel) {
		align = h->kernel_alignment;
		if (align == 0 || (align & (align - 1)))
			return cvmm_err(ENOEXEC,
					"bzImage: kernel_alignment 0x%x is not a power of two",
					h->kernel_alignment);
		if (pref >= CVMM_LOADER_BZIMAGE_LOW_ADDR && pref % align == 0 &&
		    cvmm_mem_valid(mem, pref, need)) {
			*load = pref;
			*end = pref + need;
			return 0;
		}
	}
	*load = (CVMM_LOADER_BZIMAGE_LOW_ADDR + align - 1) & ~(align - 1);
	/* The decompressor runs at max(load, pref_address) (LOAD_PHYSICAL_ADDR)
	 * and uses init_size bytes from there. */
	base = *load > pref ? *load : pref;
	if (base > UINT64_MAX - need)
		return cvmm_err(ENOEXEC,
				"bzImage: pref_address 0x%llx + init_size 0x%llx overflows",
				(unsigned long long)pref, (unsigned long long)need);
	*end = base + need;
	if (!cvmm_mem_valid(mem, *load, *end - *load))
		return cvmm_err(
		    ENOMEM, "bzImage: kernel needs guest RAM [0x%llx, 0x%llx), RAM ends at 0x%llx",
		    (unsigned long long)*load, (unsigned long long)*end,
		    (unsigned long long)loader_low_ram_end(mem));
	return 0;
}

int cvmm_loader_load_bzimage(const struct cvmm_mem *mem, const void *image, size_t size,
			     struct cvmm_loader_kernel *out)
{
	struct cvmm_loader_kernel k = {.kind = CVMM_LOADER_BZIMAGE};
	const uint8_t *buf = image;
	uint64_t setup_size, kernel_size, need, load = 0, end = 0;
	unsigned int sects;
	int ret;

	ret = bz_read_header(buf, size, &k.hdr);
	if (ret < 0)
		return ret;
	sects = k.hdr.setup_sects ? k.hdr.setup_sects : 4; /* 0 means 4 (old kernels) */
	setup_size = (uint64_t)(sects + 1) * BZ_SECTOR;
	if (setup_size >= size)
		return cvmm_err(ENOEXEC,
				"bzImage: setup_sects %u (%llu bytes of setup) reaches beyond end "
				"of file (%zu bytes)",
				k.hdr.setup_sects, (unsigned long long)setup_size, size);
	kernel_size = size - setup_size;
	if (kernel_size <= BZ_ENTRY64_OFF)
		return cvmm_err(ENOEXEC,
				"bzImage: protected-mode kernel of %llu bytes has no 64-bit entry",
				(unsigned long long)kernel_size);
	need = k.hdr.init_size > kernel_size ? k.hdr.init_size : kernel_size;
	ret = bz_place(mem, &k.hdr, need, &load, &end);
	if (ret < 0)
		return ret;
	if (cvmm_mem_write(mem, load, buf + setup_size, kernel_size) < 0)
		return cvmm_err(EFAULT, "bzImage: guest RAM write at 0x%llx failed",
				(unsigned long long)load);
	k.entry64 = load + BZ_ENTRY64_OFF;
	k.load_addr = load;
	k.end = end;
	k.initrd_addr_max = k.hdr.initrd_addr_max;
	k.cmdline_max = k.hdr.cmdline_size < CVMM_LOADER_CMDLINE_MAX ? k.hdr.cmdline_size
								     : CVMM_LOADER_CMDLINE_MAX;
	*out = k;
	return 0;
}

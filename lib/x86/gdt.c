// SPDX-License-Identifier: Apache-2.0
#include "x86-priv.h"
#include <cvmm/sys.h>
#include <cvmm/x86.h>
#include <errno.h>

/* Flat 4 GiB segments: limit 0xfffff in 4 KiB units. */
const struct x86_seg x86_seg_code64 = {.limit = 0xfffff, .type = 0xb, .s = 1, .l = 1, .g = 1};
const struct x86_seg x86_seg_code32 = {.limit = 0xfffff, .type = 0xb, .s = 1, .db = 1, .g = 1};
const struct x86_seg x86_seg_data = {.limit = 0xfffff, .type = 0x3, .s = 1, .db = 1, .g = 1};
/* Busy TSS; the guest installs its own before it could need one. */
const struct x86_seg x86_seg_tss = {.limit = 0x67, .type = 0xb};

uint64_t x86_seg_descriptor(const struct x86_seg *s)
{
	return (uint64_t)(s->limit & 0xffff) | (uint64_t)(s->base & 0xffffff) << 16 |
	       (uint64_t)s->type << 40 | (uint64_t)s->s << 44 | 1ULL << 47 /* present */ |
	       (uint64_t)(s->limit >> 16 & 0xf) << 48 | (uint64_t)s->l << 53 |
	       (uint64_t)s->db << 54 | (uint64_t)s->g << 55 | (uint64_t)(s->base >> 24) << 56;
}

struct kvm_segment x86_seg_kvm(const struct x86_seg *s, uint16_t selector)
{
	return (struct kvm_segment){
	    .base = s->base,
	    .limit = s->g ? s->limit << 12 | 0xfff : s->limit,
	    .selector = selector,
	    .type = s->type,
	    .present = 1,
	    .db = s->db,
	    .s = s->s,
	    .l = s->l,
	    .g = s->g,
	};
}

int cvmm_x86_write_gdt(const struct cvmm_mem *mem, uint64_t gpa, enum cvmm_x86_mode mode)
{
	uint64_t gdt[CVMM_X86_GDT_SIZE / 8] = {0};

	if (mode != CVMM_X86_MODE_LONG && mode != CVMM_X86_MODE_PVH)
		return cvmm_err(EINVAL, "GDT: unknown mode %d", (int)mode);
	gdt[CVMM_X86_SEL_CODE / 8] =
	    x86_seg_descriptor(mode == CVMM_X86_MODE_LONG ? &x86_seg_code64 : &x86_seg_code32);
	gdt[CVMM_X86_SEL_DATA / 8] = x86_seg_descriptor(&x86_seg_data);
	/* In long mode the TSS descriptor is 16 bytes; the upper half (base
	 * bits 63:32) stays zero. */
	gdt[CVMM_X86_SEL_TSS / 8] = x86_seg_descriptor(&x86_seg_tss);
	if (cvmm_mem_write(mem, gpa, gdt, sizeof(gdt)) < 0)
		return cvmm_err(EFAULT, "GDT at 0x%llx is not in guest RAM",
				(unsigned long long)gpa);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
#include "x86-priv.h"
#include <cvmm/sys.h>
#include <cvmm/x86.h>
#include <errno.h>
#include <string.h>

#define CR0_PE (1ULL << 0)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

void cvmm_x86_entry_sregs(struct kvm_sregs *sregs, enum cvmm_x86_mode mode, uint64_t gdt,
			  uint64_t pml4)
{
	bool lm = mode == CVMM_X86_MODE_LONG;
	struct kvm_segment data = x86_seg_kvm(&x86_seg_data, CVMM_X86_SEL_DATA);

	sregs->cs = x86_seg_kvm(lm ? &x86_seg_code64 : &x86_seg_code32, CVMM_X86_SEL_CODE);
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->tr = x86_seg_kvm(&x86_seg_tss, CVMM_X86_SEL_TSS);
	sregs->gdt.base = gdt;
	sregs->gdt.limit = CVMM_X86_GDT_SIZE - 1;
	/* No IDT: an early exception becomes a clean triple fault. */
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	sregs->cr0 &= ~(CR0_CD | CR0_NW);
	if (lm) {
		sregs->cr0 |= CR0_PE | CR0_PG;
		sregs->cr3 = pml4;
		sregs->cr4 |= CR4_PAE;
		sregs->efer |= EFER_LME | EFER_LMA;
	} else {
		sregs->cr0 = (sregs->cr0 & ~CR0_PG) | CR0_PE;
		sregs->cr4 = 0;
		sregs->efer = 0;
	}
}

void cvmm_x86_entry_regs(struct kvm_regs *regs, enum cvmm_x86_mode mode, uint64_t entry,
			 uint64_t boot_info)
{
	memset(regs, 0, sizeof(*regs));
	regs->rip = entry;
	regs->rflags = 2; /* bit 1 is reserved-one; IF clear */
	if (mode == CVMM_X86_MODE_LONG)
		regs->rsi = boot_info;
	else
		regs->rbx = boot_info;
}

int cvmm_x86_setup_entry(const struct cvmm_kvm_vcpu *vcpu, const struct cvmm_mem *mem,
			 enum cvmm_x86_mode mode, const struct cvmm_x86_entry *e)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	ret = cvmm_x86_write_gdt(mem, e->gdt, mode);
	if (ret < 0)
		return ret;
	if (mode == CVMM_X86_MODE_LONG) {
		ret = cvmm_x86_write_page_tables(mem, e->page_tables);
		if (ret < 0)
			return ret;
	}
	ret = cvmm_kvm_vcpu_get_sregs(vcpu, &sregs);
	if (ret < 0)
		return ret;
	cvmm_x86_entry_sregs(&sregs, mode, e->gdt, e->page_tables);
	ret = cvmm_kvm_vcpu_set_sregs(vcpu, &sregs);
	if (ret < 0)
		return ret;
	cvmm_x86_entry_regs(&regs, mode, e->entry, e->boot_info);
	return cvmm_kvm_vcpu_set_regs(vcpu, &regs);
}

// SPDX-License-Identifier: Apache-2.0
#include <cvmm/x86.h>

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define MISC_ENABLE_FAST_STRING (1ULL << 0)
#define MTRR_DEF_TYPE_E (1ULL << 11)
#define MTRR_TYPE_WB 6ULL

uint32_t cvmm_x86_boot_msrs(struct kvm_msr_entry out[CVMM_X86_NR_BOOT_MSRS])
{
	static const struct kvm_msr_entry boot[CVMM_X86_NR_BOOT_MSRS] = {
	    {.index = MSR_IA32_SYSENTER_CS},
	    {.index = MSR_IA32_SYSENTER_ESP},
	    {.index = MSR_IA32_SYSENTER_EIP},
	    {.index = MSR_STAR},
	    {.index = MSR_LSTAR},
	    {.index = MSR_CSTAR},
	    {.index = MSR_SYSCALL_MASK},
	    {.index = MSR_KERNEL_GS_BASE},
	    {.index = MSR_IA32_TSC},
	    {.index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING},
	    /* No variable MTRRs are set up, so the default type covers all RAM. */
	    {.index = MSR_MTRR_DEF_TYPE, .data = MTRR_DEF_TYPE_E | MTRR_TYPE_WB},
	};

	for (uint32_t i = 0; i < CVMM_X86_NR_BOOT_MSRS; i++)
		out[i] = boot[i];
	return CVMM_X86_NR_BOOT_MSRS;
}

int cvmm_x86_boot_msrs_apply(const struct cvmm_kvm_vcpu *vcpu)
{
	struct kvm_msr_entry msrs[CVMM_X86_NR_BOOT_MSRS];

	return cvmm_kvm_vcpu_set_msrs(vcpu, msrs, cvmm_x86_boot_msrs(msrs));
}

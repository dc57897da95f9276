// SPDX-License-Identifier: Apache-2.0
#include <cvmm/x86.h>
#include <string.h>

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_DELIVERY_MASK (7u << 8)
#define APIC_MODE_NMI 4u
#define APIC_MODE_EXTINT 7u

/* The register page is little-endian 32-bit registers at 16-byte strides. */
static void lvt_set_mode(struct kvm_lapic_state *lapic, unsigned int reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &lapic->regs[reg], sizeof(v));
	v = (v & ~APIC_DELIVERY_MASK) | (mode << 8);
	memcpy(&lapic->regs[reg], &v, sizeof(v));
}

void cvmm_x86_lapic_lint(struct kvm_lapic_state *lapic)
{
	lvt_set_mode(lapic, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lvt_set_mode(lapic, APIC_LVT_LINT1, APIC_MODE_NMI);
}

int cvmm_x86_lapic_apply(const struct cvmm_kvm_vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	int ret;

	ret = cvmm_kvm_vcpu_get_lapic(vcpu, &lapic);
	if (ret < 0)
		return ret;
	cvmm_x86_lapic_lint(&lapic);
	return cvmm_kvm_vcpu_set_lapic(vcpu, &lapic);
}

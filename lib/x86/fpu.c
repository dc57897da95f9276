// SPDX-License-Identifier: Apache-2.0
#include <cvmm/x86.h>
#include <string.h>

void cvmm_x86_fpu_init(struct kvm_fpu *fpu)
{
	memset(fpu, 0, sizeof(*fpu));
	fpu->fcw = 0x37f;    /* FNINIT value: all exceptions masked, extended precision */
	fpu->mxcsr = 0x1f80; /* power-on value: all SSE exceptions masked */
}

int cvmm_x86_fpu_apply(const struct cvmm_kvm_vcpu *vcpu)
{
	struct kvm_fpu fpu;

	cvmm_x86_fpu_init(&fpu);
	return cvmm_kvm_vcpu_set_fpu(vcpu, &fpu);
}

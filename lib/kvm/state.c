// SPDX-License-Identifier: Apache-2.0
#include "kvm-priv.h"
#include <cvmm/kvm.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* One getter/setter pair per state struct; the kernel copies in or out. */
#define VCPU_STATE(name, type, get, set)                                                           \
	int cvmm_kvm_vcpu_get_##name(const struct cvmm_kvm_vcpu *vcpu, type *s)                    \
	{                                                                                          \
		return kvm_ioctl(vcpu->fd, get, s, #get);                                          \
	}                                                                                          \
	int cvmm_kvm_vcpu_set_##name(const struct cvmm_kvm_vcpu *vcpu, const type *s)              \
	{                                                                                          \
		return kvm_ioctl(vcpu->fd, set, (void *)s, #set);                                  \
	}

VCPU_STATE(regs, struct kvm_regs, KVM_GET_REGS, KVM_SET_REGS)
VCPU_STATE(sregs, struct kvm_sregs, KVM_GET_SREGS, KVM_SET_SREGS)
VCPU_STATE(fpu, struct kvm_fpu, KVM_GET_FPU, KVM_SET_FPU)
VCPU_STATE(lapic, struct kvm_lapic_state, KVM_GET_LAPIC, KVM_SET_LAPIC)
VCPU_STATE(mp_state, struct kvm_mp_state, KVM_GET_MP_STATE, KVM_SET_MP_STATE)
VCPU_STATE(xsave, struct kvm_xsave, KVM_GET_XSAVE, KVM_SET_XSAVE)
VCPU_STATE(xcrs, struct kvm_xcrs, KVM_GET_XCRS, KVM_SET_XCRS)
VCPU_STATE(events, struct kvm_vcpu_events, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS)

int cvmm_kvm_vcpu_set_cpuid(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid)
{
	return kvm_ioctl(vcpu->fd, KVM_SET_CPUID2, (void *)cpuid, "KVM_SET_CPUID2");
}

int cvmm_kvm_vcpu_get_cpuid(const struct cvmm_kvm_vcpu *vcpu, struct kvm_cpuid2 **out)
{
	for (uint32_t n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		int ret;

		if (!c)
			return cvmm_err(ENOMEM, "KVM_GET_CPUID2: out of memory");
		c->nent = n;
		ret = ioctl(vcpu->fd, KVM_GET_CPUID2, c);
		if (ret >= 0) {
			*out = c;
			return 0;
		}
		ret = errno;
		free(c);
		if (ret != E2BIG)
			return cvmm_err(ret, "KVM_GET_CPUID2: %s", strerror(ret));
	}
	return cvmm_err(E2BIG, "KVM_GET_CPUID2: more than 4096 entries");
}

#define MSRS_MAX 4096u

static int vcpu_msrs(const struct cvmm_kvm_vcpu *vcpu, struct kvm_msr_entry *entries, uint32_t n,
		     bool set)
{
	const char *what = set ? "KVM_SET_MSRS" : "KVM_GET_MSRS";
	struct kvm_msrs *m;
	int ret;

	if (n == 0 || n > MSRS_MAX)
		return cvmm_err(EINVAL, "%s: %u MSRs (1..%u)", what, n, MSRS_MAX);
	m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));
	if (!m)
		return cvmm_err(ENOMEM, "%s: out of memory", what);
	m->nmsrs = n;
	memcpy(m->entries, entries, n * sizeof(m->entries[0]));
	ret = kvm_ioctl(vcpu->fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, m, what);
	if (ret >= 0 && (uint32_t)ret < n)
		ret = cvmm_err(EIO, "%s: MSR 0x%x refused", what, m->entries[ret].index);
	else if (ret >= 0 && !set)
		memcpy(entries, m->entries, n * sizeof(m->entries[0]));
	free(m);
	return ret < 0 ? ret : 0;
}

int cvmm_kvm_vcpu_get_msrs(const struct cvmm_kvm_vcpu *vcpu, struct kvm_msr_entry *entries,
			   uint32_t n)
{
	return vcpu_msrs(vcpu, entries, n, false);
}

int cvmm_kvm_vcpu_set_msrs(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_msr_entry *entries,
			   uint32_t n)
{
	/* Only read from when setting. */
	return vcpu_msrs(vcpu, (struct kvm_msr_entry *)entries, n, true);
}

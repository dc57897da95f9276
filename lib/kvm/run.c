// SPDX-License-Identifier: Apache-2.0
#include "kvm-priv.h"
#include <cvmm/kvm.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

/* The kernel places string/port I/O data inside the kvm_run mapping; check
 * that before handing out a pointer so a caller never reads past it. */
static int decode_io(const struct cvmm_kvm_vcpu *vcpu, struct cvmm_kvm_exit *exit)
{
	const struct kvm_run *run = vcpu->run;
	uint64_t len = (uint64_t)run->io.size * run->io.count;
	uint64_t off = run->io.data_offset;

	if (off > vcpu->run_size || len > vcpu->run_size - off)
		return cvmm_err(EPROTO, "vCPU %u: KVM_EXIT_IO data outside kvm_run", vcpu->id);
	exit->kind = CVMM_KVM_EXIT_IO;
	exit->io.port = run->io.port;
	exit->io.size = run->io.size;
	exit->io.direction =
	    run->io.direction == KVM_EXIT_IO_OUT ? CVMM_KVM_IO_OUT : CVMM_KVM_IO_IN;
	exit->io.count = run->io.count;
	exit->io.data = (uint8_t *)run + off;
	return 0;
}

static uint32_t clamp_ndata(uint32_t n)
{
	return n > 16 ? 16 : n;
}

int cvmm_kvm_vcpu_run(struct cvmm_kvm_vcpu *vcpu, struct cvmm_kvm_exit *exit)
{
	struct kvm_run *run = vcpu->run;

	memset(exit, 0, sizeof(*exit));
	if (vcpu->fd < 0 || !run)
		return cvmm_err(EBADF, "KVM_RUN: vCPU is not open");
	if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
		if (errno != EINTR && errno != EAGAIN)
			return cvmm_err(errno, "vCPU %u: KVM_RUN: %m", vcpu->id);
		/* The kicker sets immediate_exit; clearing it lets the next run enter. */
		__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_RELEASE);
		exit->kind = CVMM_KVM_EXIT_INTR;
		return 0;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return decode_io(vcpu, exit);
	case KVM_EXIT_MMIO:
		exit->kind = CVMM_KVM_EXIT_MMIO;
		exit->mmio.addr = run->mmio.phys_addr;
		exit->mmio.len = run->mmio.len > 8 ? 8 : run->mmio.len;
		exit->mmio.is_write = run->mmio.is_write;
		exit->mmio.data = run->mmio.data;
		return 0;
	case KVM_EXIT_HLT:
		exit->kind = CVMM_KVM_EXIT_HLT;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		exit->kind = CVMM_KVM_EXIT_SHUTDOWN;
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		exit->kind = CVMM_KVM_EXIT_SYSTEM_EVENT;
		exit->system_event.type = run->system_event.type;
		exit->system_event.ndata = clamp_ndata(run->system_event.ndata);
		exit->system_event.data = run->system_event.data;
		return 0;
	case KVM_EXIT_INTERNAL_ERROR:
		exit->kind = CVMM_KVM_EXIT_INTERNAL_ERROR;
		exit->internal.suberror = run->internal.suberror;
		exit->internal.ndata = clamp_ndata(run->internal.ndata);
		exit->internal.data = run->internal.data;
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		exit->kind = CVMM_KVM_EXIT_FAIL_ENTRY;
		exit->fail_entry.reason = run->fail_entry.hardware_entry_failure_reason;
		exit->fail_entry.cpu = run->fail_entry.cpu;
		return 0;
	case KVM_EXIT_INTR:
		__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_RELEASE);
		exit->kind = CVMM_KVM_EXIT_INTR;
		return 0;
	default:
		exit->kind = CVMM_KVM_EXIT_UNKNOWN;
		exit->unknown.reason = run->exit_reason;
		return 0;
	}
}

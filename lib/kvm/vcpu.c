// SPDX-License-Identifier: Apache-2.0
#include "kvm-priv.h"
#include <cvmm/kvm.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

int cvmm_kvm_vcpu_create(struct cvmm_kvm_vcpu *vcpu, const struct cvmm_kvm_vm *vm, uint32_t id)
{
	void *run;
	int fd;

	vcpu->fd = -1;
	vcpu->run = NULL;
	vcpu->run_size = 0;
	if (vm->vcpu_mmap_size < sizeof(struct kvm_run))
		return cvmm_err(EINVAL, "KVM_CREATE_VCPU %u: VM handle has no kvm_run size", id);
	fd = kvm_ioctl(vm->fd, KVM_CREATE_VCPU, (void *)(uintptr_t)id, "KVM_CREATE_VCPU");
	if (fd < 0)
		return fd;
	run = mmap(NULL, vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (run == MAP_FAILED) {
		int ret = cvmm_err(errno, "vCPU %u: mmap kvm_run: %m", id);

		close(fd);
		return ret;
	}
	vcpu->fd = fd;
	vcpu->id = id;
	vcpu->run = run;
	vcpu->run_size = vm->vcpu_mmap_size;
	return 0;
}

void cvmm_kvm_vcpu_destroy(struct cvmm_kvm_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

// SPDX-License-Identifier: Apache-2.0
#include "kvm-priv.h"
#include <cvmm/kvm.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KVM_PAGE 4096ULL
#define KVM_ROUTES_MAX 4096u /* the kernel's KVM_MAX_IRQ_ROUTES on x86 */

int cvmm_kvm_vm_create(struct cvmm_kvm_vm *vm, const struct cvmm_kvm *kvm)
{
	int fd;

	vm->fd = -1;
	fd = kvm_ioctl(kvm->fd, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	if (fd < 0)
		return fd;
	vm->fd = fd;
	vm->vcpu_mmap_size = kvm->vcpu_mmap_size;
	return 0;
}

void cvmm_kvm_vm_destroy(struct cvmm_kvm_vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
}

int cvmm_kvm_vm_set_memory(const struct cvmm_kvm_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
			   void *host, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
	    .slot = slot,
	    .flags = flags,
	    .guest_phys_addr = gpa,
	    .memory_size = size,
	    .userspace_addr = (uintptr_t)host,
	};

	if ((gpa | size | (uintptr_t)host) & (KVM_PAGE - 1))
		return cvmm_err(EINVAL, "memory slot %u: gpa 0x%llx size 0x%llx not page aligned",
				slot, (unsigned long long)gpa, (unsigned long long)size);
	return kvm_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r, "KVM_SET_USER_MEMORY_REGION");
}

int cvmm_kvm_vm_create_irqchip(const struct cvmm_kvm_vm *vm)
{
	return kvm_ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
}

int cvmm_kvm_vm_create_pit2(const struct cvmm_kvm_vm *vm)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};

	return kvm_ioctl(vm->fd, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
}

int cvmm_kvm_vm_set_tss_addr(const struct cvmm_kvm_vm *vm, uint64_t addr)
{
	return kvm_ioctl(vm->fd, KVM_SET_TSS_ADDR, (void *)(uintptr_t)addr, "KVM_SET_TSS_ADDR");
}

int cvmm_kvm_vm_set_identity_map_addr(const struct cvmm_kvm_vm *vm, uint64_t addr)
{
	return kvm_ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &addr, "KVM_SET_IDENTITY_MAP_ADDR");
}

int cvmm_kvm_vm_irq_line(const struct cvmm_kvm_vm *vm, uint32_t gsi, bool level)
{
	struct kvm_irq_level l = {.irq = gsi, .level = level};

	return kvm_ioctl(vm->fd, KVM_IRQ_LINE, &l, "KVM_IRQ_LINE");
}

int cvmm_kvm_vm_irqfd(const struct cvmm_kvm_vm *vm, int fd, uint32_t gsi, int resample_fd)
{
	struct kvm_irqfd r = {.fd = (uint32_t)fd, .gsi = gsi};

	if (fd < 0)
		return cvmm_err(EBADF, "KVM_IRQFD: bad fd %d", fd);
	if (resample_fd >= 0) {
		r.flags = KVM_IRQFD_FLAG_RESAMPLE;
		r.resamplefd = (uint32_t)resample_fd;
	}
	return kvm_ioctl(vm->fd, KVM_IRQFD, &r, "KVM_IRQFD");
}

int cvmm_kvm_vm_irqfd_remove(const struct cvmm_kvm_vm *vm, int fd, uint32_t gsi)
{
	struct kvm_irqfd r = {.fd = (uint32_t)fd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN};

	if (fd < 0)
		return cvmm_err(EBADF, "KVM_IRQFD deassign: bad fd %d", fd);
	return kvm_ioctl(vm->fd, KVM_IRQFD, &r, "KVM_IRQFD deassign");
}

static int vm_ioeventfd(const struct cvmm_kvm_vm *vm, int fd, uint64_t addr, uint32_t len,
			uint32_t flags, uint64_t datamatch, uint32_t kflags, const char *what)
{
	struct kvm_ioeventfd io = {.addr = addr, .len = len, .fd = fd, .flags = kflags};

	if (fd < 0)
		return cvmm_err(EBADF, "%s: bad fd %d", what, fd);
	if (flags & ~(CVMM_KVM_IOEVENTFD_PIO | CVMM_KVM_IOEVENTFD_DATAMATCH))
		return cvmm_err(EINVAL, "%s: unknown flags 0x%x", what, flags);
	if (len != 0 && len != 1 && len != 2 && len != 4 && len != 8)
		return cvmm_err(EINVAL, "%s: bad length %u", what, len);
	if (flags & CVMM_KVM_IOEVENTFD_PIO)
		io.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (flags & CVMM_KVM_IOEVENTFD_DATAMATCH) {
		io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
		io.datamatch = datamatch;
	}
	return kvm_ioctl(vm->fd, KVM_IOEVENTFD, &io, what);
}

int cvmm_kvm_vm_ioeventfd(const struct cvmm_kvm_vm *vm, int fd, uint64_t addr, uint32_t len,
			  uint32_t flags, uint64_t datamatch)
{
	return vm_ioeventfd(vm, fd, addr, len, flags, datamatch, 0, "KVM_IOEVENTFD");
}

int cvmm_kvm_vm_ioeventfd_remove(const struct cvmm_kvm_vm *vm, int fd, uint64_t addr, uint32_t len,
				 uint32_t flags, uint64_t datamatch)
{
	return vm_ioeventfd(vm, fd, addr, len, flags, datamatch, KVM_IOEVENTFD_FLAG_DEASSIGN,
			    "KVM_IOEVENTFD deassign");
}

int cvmm_kvm_vm_set_gsi_routing(const struct cvmm_kvm_vm *vm,
				const struct kvm_irq_routing_entry *entries, uint32_t n)
{
	struct kvm_irq_routing *r;
	int ret;

	if (n > KVM_ROUTES_MAX)
		return cvmm_err(EINVAL, "KVM_SET_GSI_ROUTING: %u entries, max %u", n,
				KVM_ROUTES_MAX);
	r = calloc(1, sizeof(*r) + n * sizeof(r->entries[0]));
	if (!r)
		return cvmm_err(ENOMEM, "KVM_SET_GSI_ROUTING: out of memory");
	r->nr = n;
	if (n)
		memcpy(r->entries, entries, n * sizeof(r->entries[0]));
	ret = kvm_ioctl(vm->fd, KVM_SET_GSI_ROUTING, r, "KVM_SET_GSI_ROUTING");
	free(r);
	return ret;
}

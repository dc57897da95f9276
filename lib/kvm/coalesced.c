// SPDX-License-Identifier: Apache-2.0
/* Coalesced PIO/MMIO: guest writes queued by KVM in a ring instead of exiting. */
#include "kvm-priv.h"
#include <cvmm/kvm.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define COALESCED_MAX_ENTRIES                                                                      \
	((4096 - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio))

int cvmm_kvm_vm_coalesce(const struct cvmm_kvm_vm *vm, uint64_t addr, uint32_t size, bool pio)
{
	struct kvm_coalesced_mmio_zone zone = {.addr = addr, .size = size, .pio = pio ? 1 : 0};

	if (size == 0)
		return cvmm_err(EINVAL, "coalesced zone at 0x%llx: size 0",
				(unsigned long long)addr);
	if (ioctl(vm->fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0)
		return cvmm_err(errno, "KVM_REGISTER_COALESCED_MMIO 0x%llx+%u: %m",
				(unsigned long long)addr, size);
	return 0;
}

int cvmm_kvm_coalesced_ring(const struct cvmm_kvm *kvm, const struct cvmm_kvm_vcpu *vcpu,
			    struct cvmm_kvm_coalesced *out)
{
	int page = cvmm_kvm_check_extension(kvm, KVM_CAP_COALESCED_MMIO);
	long page_size = sysconf(_SC_PAGESIZE);

	if (page <= 0 || cvmm_kvm_check_extension(kvm, KVM_CAP_COALESCED_PIO) <= 0)
		return cvmm_err(EOPNOTSUPP, "KVM has no coalesced PIO/MMIO");
	if ((size_t)(page + 1) * (size_t)page_size > vcpu->run_size)
		return cvmm_err(EPROTO, "coalesced ring page %d outside the vCPU mapping", page);
	out->ring = (struct kvm_coalesced_mmio_ring *)((uint8_t *)vcpu->run +
						       (size_t)page * (size_t)page_size);
	return 0;
}

bool cvmm_kvm_coalesced_empty(const struct cvmm_kvm_coalesced *c)
{
	return __atomic_load_n(&c->ring->first, __ATOMIC_RELAXED) ==
	       __atomic_load_n(&c->ring->last, __ATOMIC_ACQUIRE);
}

unsigned int cvmm_kvm_coalesced_drain(struct cvmm_kvm_coalesced *c, cvmm_kvm_coalesced_fn fn,
				      void *opaque)
{
	struct kvm_coalesced_mmio_ring *ring = c->ring;
	unsigned int n = 0;
	uint32_t first = ring->first;

	/* The kernel publishes entries by advancing last; acquire pairs with it. */
	while (first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		const struct kvm_coalesced_mmio *e;

		if (first >= COALESCED_MAX_ENTRIES)
			break; /* never produced by KVM; refuse to index with it */
		e = &ring->coalesced_mmio[first];
		if (e->len <= sizeof(e->data))
			fn(opaque, e->phys_addr, e->data, e->len, e->pio != 0);
		first = (first + 1) % COALESCED_MAX_ENTRIES;
		__atomic_store_n(&ring->first, first, __ATOMIC_RELEASE);
		n++;
	}
	return n;
}

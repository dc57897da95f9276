// SPDX-License-Identifier: Apache-2.0
/* A virtio-mmio device's place in the monitor: its window, GSI and ACPI
 * entry, the kernel parameter that replaces that entry under --no-acpi, and
 * the KVM wiring that keeps notifications and interrupts off the vCPUs. */
#include "boot.h"
#include "layout.h"
#include "vmm.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int vmm_virtio_slot_open(struct vmm *vmm, struct boot_state *bs, struct vmm_virtio_slot *s,
			 unsigned int slot, const char *acpi_prefix, const char *option)
{
	char *param = NULL;

	if (slot >= LAYOUT_VIRTIO_MAX_SLOTS)
		return cvmm_err(ENOSPC, "%s: too many virtio devices (at most %u)", option,
				LAYOUT_VIRTIO_MAX_SLOTS);
	s->slot = slot;
	s->base = LAYOUT_VIRTIO_MMIO_BASE + slot * LAYOUT_VIRTIO_MMIO_STRIDE;
	s->gsi = LAYOUT_VIRTIO_GSI_BASE + slot;
	snprintf(s->acpi_name, sizeof(s->acpi_name), "%.2s%02u", acpi_prefix, slot % 100);
	if (!vmm->cfg->no_acpi)
		return 0;
	if (bs->nr_extra_cmdline == BOOT_MAX_EXTRA_CMDLINE)
		return cvmm_err(E2BIG, "%s: too many kernel parameters", option);
	if (asprintf(&param, "virtio_mmio.device=%u@0x%" PRIx64 ":%u", CVMM_VIRTIO_MMIO_SIZE,
		     s->base, s->gsi) < 0)
		return cvmm_err(ENOMEM, "%s: out of memory", option);
	bs->extra_cmdline[bs->nr_extra_cmdline++] = param;
	return 0;
}

static void slot_mmio_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	cvmm_virtio_mmio_read(opaque, off, data, len);
}

static void slot_mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	cvmm_virtio_mmio_write(opaque, off, data, len);
}

static const struct cvmm_bus_ops slot_mmio_ops = {slot_mmio_read, slot_mmio_write};

int vmm_virtio_slot_attach(struct vmm *vmm, struct vmm_virtio_slot *s,
			   const struct cvmm_virtio_device *dev, struct cvmm_loop *loop,
			   const char *name)
{
	int ret;

	ret = cvmm_virtio_mmio_create(&s->mmio, &(struct cvmm_virtio_mmio_opts){
						    .mem = vmm->mem,
						    .dev = dev,
						    .loop = loop,
						    .name = name,
						});
	if (ret < 0)
		return ret;
	/* QueueNotify writes signal the device's loop, or a vhost worker, with
	 * no exit to userspace; the device's interrupt is injected by KVM. */
	ret = cvmm_kvm_vm_irqfd(&vmm->vm, cvmm_virtio_mmio_irq_fd(s->mmio), s->gsi, -1);
	for (unsigned int q = 0; ret == 0 && q < dev->nr_queues; q++)
		ret = cvmm_kvm_vm_ioeventfd(&vmm->vm, cvmm_virtio_mmio_notify_fd(s->mmio, q),
					    s->base + CVMM_VIRTIO_MMIO_NOTIFY, 4,
					    CVMM_KVM_IOEVENTFD_DATAMATCH, q);
	if (ret == 0)
		ret = cvmm_bus_register(vmm->mmio, s->base, CVMM_VIRTIO_MMIO_SIZE, &slot_mmio_ops,
					s->mmio);
	if (ret < 0)
		return ret;
	if (vmm->nr_acpi_devices == VMM_MAX_ACPI_DEVICES)
		return cvmm_err(ENOSPC, "too many devices for ACPI");
	vmm->acpi_devices[vmm->nr_acpi_devices++] = (struct cvmm_acpi_device){
	    .name = s->acpi_name,
	    .hid = "LNRO0005",
	    .uid = s->slot,
	    .mmio_base = (uint32_t)s->base,
	    .mmio_len = CVMM_VIRTIO_MMIO_SIZE,
	    .has_irq = true,
	    .gsi = s->gsi,
	};
	return 0;
}

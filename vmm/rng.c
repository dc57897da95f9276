// SPDX-License-Identifier: Apache-2.0
/* --rng: a virtio-rng device on virtio-mmio. It runs on the main loop:
 * getrandom() does not block once the host's CRNG is seeded, and the device
 * bounds its work per loop turn (docs/architecture.md, Execution model). */
#include "boot.h"
#include "layout.h"
#include "vmm.h"
#include <cvmm/virtio-rng.h>
#include <cvmm/virtio.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct vmm_rng {
	struct cvmm_virtio_rng *dev;
	struct cvmm_virtio_mmio *mmio;
	unsigned int slot; /* virtio-mmio slot: window and GSI */
	uint64_t base;
	uint32_t gsi;
	char acpi_name[5];
};

int vmm_rng_open(struct vmm *vmm, struct boot_state *bs)
{
	struct vmm_rng *r;
	char *param = NULL;
	int ret;

	if (!vmm->cfg->rng)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return cvmm_err(ENOMEM, "--rng: out of memory");
	vmm->rng = r;
	ret = cvmm_virtio_rng_create(
	    &r->dev, &(struct cvmm_virtio_rng_opts){
			 .loop = vmm->loop,
			 .limit = vmm->cfg->rng_limited ? &vmm->cfg->rng_limit : NULL,
		     });
	if (ret < 0)
		return cvmm_err(-ret, "--rng: %s", cvmm_err_msg());
	/* The slot after the disks', so neither window nor GSI collides. */
	r->slot = vmm->cfg->nr_disks;
	r->base = LAYOUT_VIRTIO_MMIO_BASE + r->slot * LAYOUT_VIRTIO_MMIO_STRIDE;
	r->gsi = LAYOUT_VIRTIO_GSI_BASE + r->slot;
	snprintf(r->acpi_name, sizeof(r->acpi_name), "VR%02u", r->slot % 100);
	if (!vmm->cfg->no_acpi)
		return 0;
	if (bs->nr_extra_cmdline == BOOT_MAX_EXTRA_CMDLINE)
		return cvmm_err(E2BIG, "--rng: too many kernel parameters");
	if (asprintf(&param, "virtio_mmio.device=%u@0x%" PRIx64 ":%u", CVMM_VIRTIO_MMIO_SIZE,
		     r->base, r->gsi) < 0)
		return cvmm_err(ENOMEM, "--rng: out of memory");
	bs->extra_cmdline[bs->nr_extra_cmdline++] = param;
	return 0;
}

static void rng_mmio_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	cvmm_virtio_mmio_read(opaque, off, data, len);
}

static void rng_mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	cvmm_virtio_mmio_write(opaque, off, data, len);
}

static const struct cvmm_bus_ops rng_mmio_ops = {rng_mmio_read, rng_mmio_write};

/* As for disks: notifications reach the loop through an ioeventfd and
 * interrupts the guest through an irqfd, without a vCPU exit. */
int vmm_rng_attach(struct vmm *vmm)
{
	struct vmm_rng *r = vmm->rng;
	int ret;

	if (!r)
		return 0;
	ret = cvmm_virtio_mmio_create(&r->mmio, &(struct cvmm_virtio_mmio_opts){
						    .mem = vmm->mem,
						    .dev = cvmm_virtio_rng_device(r->dev),
						    .loop = vmm->loop,
						    .name = "virtio-rng",
						});
	if (ret < 0)
		return ret;
	ret = cvmm_kvm_vm_irqfd(&vmm->vm, cvmm_virtio_mmio_irq_fd(r->mmio), r->gsi, -1);
	if (ret == 0)
		ret = cvmm_kvm_vm_ioeventfd(&vmm->vm, cvmm_virtio_mmio_notify_fd(r->mmio, 0),
					    r->base + CVMM_VIRTIO_MMIO_NOTIFY, 4,
					    CVMM_KVM_IOEVENTFD_DATAMATCH, 0);
	if (ret == 0)
		ret = cvmm_bus_register(vmm->mmio, r->base, CVMM_VIRTIO_MMIO_SIZE, &rng_mmio_ops,
					r->mmio);
	if (ret < 0)
		return ret;
	if (vmm->nr_acpi_devices == VMM_MAX_ACPI_DEVICES)
		return cvmm_err(ENOSPC, "too many devices for ACPI");
	vmm->acpi_devices[vmm->nr_acpi_devices++] = (struct cvmm_acpi_device){
	    .name = r->acpi_name,
	    .hid = "LNRO0005",
	    .uid = r->slot,
	    .mmio_base = (uint32_t)r->base,
	    .mmio_len = CVMM_VIRTIO_MMIO_SIZE,
	    .has_irq = true,
	    .gsi = r->gsi,
	};
	return 0;
}

/* On the main thread (the device's loop thread) with the vCPUs stopped. */
void vmm_rng_close(struct vmm *vmm)
{
	struct vmm_rng *r = vmm->rng;

	if (!r)
		return;
	cvmm_virtio_mmio_destroy(r->mmio);
	cvmm_virtio_rng_destroy(r->dev);
	free(r);
	vmm->rng = NULL;
}

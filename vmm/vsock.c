// SPDX-License-Identifier: Apache-2.0
/* --vsock: a virtio-vsock device on virtio-mmio, on its own I/O thread and
 * loop: its host sockets never wait on the main loop's other work, nor it on
 * theirs (docs/architecture.md, Execution model). */
#include "boot.h"
#include "layout.h"
#include "vmm.h"
#include <cvmm/virtio-vsock.h>
#include <cvmm/virtio.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct vmm_vsock {
	struct cvmm_loop *loop;
	pthread_t thread;
	bool running;
	struct cvmm_virtio_vsock *dev;
	struct cvmm_virtio_mmio *mmio;
	unsigned int slot; /* virtio-mmio slot: window and GSI */
	uint64_t base;
	uint32_t gsi;
	char acpi_name[5];
};

int vmm_vsock_open(struct vmm *vmm, struct boot_state *bs)
{
	const struct vmm_vsock_config *c = &vmm->cfg->vsock;
	struct vmm_vsock *s;
	char *param = NULL;
	int ret;

	if (!c->enabled)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return cvmm_err(ENOMEM, "--vsock: out of memory");
	vmm->vsock = s;
	ret = cvmm_loop_create(&s->loop);
	if (ret == 0)
		ret = cvmm_virtio_vsock_create(&s->dev, &(struct cvmm_virtio_vsock_opts){
							    .loop = s->loop,
							    .guest_cid = c->cid,
							    .uds_path = c->uds,
							    .vhost = c->vhost,
							    .mem = vmm->mem,
							    .limit = c->limited ? &c->limit : NULL,
							    .request_timeout_ms = c->timeout_ms,
							});
	if (ret < 0)
		return cvmm_err(-ret, "--vsock: %s", cvmm_err_msg());
	/* After the disks and --rng, so neither window nor GSI collides. */
	s->slot = vmm->cfg->nr_disks + (vmm->cfg->rng ? 1 : 0);
	s->base = LAYOUT_VIRTIO_MMIO_BASE + s->slot * LAYOUT_VIRTIO_MMIO_STRIDE;
	s->gsi = LAYOUT_VIRTIO_GSI_BASE + s->slot;
	snprintf(s->acpi_name, sizeof(s->acpi_name), "VS%02u", s->slot % 100);
	if (!vmm->cfg->no_acpi)
		return 0;
	if (bs->nr_extra_cmdline == BOOT_MAX_EXTRA_CMDLINE)
		return cvmm_err(E2BIG, "--vsock: too many kernel parameters");
	if (asprintf(&param, "virtio_mmio.device=%u@0x%" PRIx64 ":%u", CVMM_VIRTIO_MMIO_SIZE,
		     s->base, s->gsi) < 0)
		return cvmm_err(ENOMEM, "--vsock: out of memory");
	bs->extra_cmdline[bs->nr_extra_cmdline++] = param;
	return 0;
}

static void vsock_mmio_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	cvmm_virtio_mmio_read(opaque, off, data, len);
}

static void vsock_mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	cvmm_virtio_mmio_write(opaque, off, data, len);
}

static const struct cvmm_bus_ops vsock_mmio_ops = {vsock_mmio_read, vsock_mmio_write};

int vmm_vsock_attach(struct vmm *vmm)
{
	struct vmm_vsock *s = vmm->vsock;
	int ret;

	if (!s)
		return 0;
	ret = cvmm_virtio_mmio_create(&s->mmio, &(struct cvmm_virtio_mmio_opts){
						    .mem = vmm->mem,
						    .dev = cvmm_virtio_vsock_device(s->dev),
						    .loop = s->loop,
						    .name = "virtio-vsock",
						});
	if (ret < 0)
		return ret;
	ret = cvmm_kvm_vm_irqfd(&vmm->vm, cvmm_virtio_mmio_irq_fd(s->mmio), s->gsi, -1);
	for (unsigned int q = 0; ret == 0 && q < 3; q++)
		ret = cvmm_kvm_vm_ioeventfd(&vmm->vm, cvmm_virtio_mmio_notify_fd(s->mmio, q),
					    s->base + CVMM_VIRTIO_MMIO_NOTIFY, 4,
					    CVMM_KVM_IOEVENTFD_DATAMATCH, q);
	if (ret == 0)
		ret = cvmm_bus_register(vmm->mmio, s->base, CVMM_VIRTIO_MMIO_SIZE, &vsock_mmio_ops,
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
	ret = cvmm_loop_thread_start(s->loop, "cvmm-vsock", &s->thread);
	s->running = ret == 0;
	return ret;
}

/* With the vCPUs stopped: stop the I/O thread, then tear down here. */
void vmm_vsock_close(struct vmm *vmm)
{
	struct vmm_vsock *s = vmm->vsock;

	if (!s)
		return;
	if (s->running) {
		cvmm_loop_stop(s->loop);
		pthread_join(s->thread, NULL);
	}
	cvmm_virtio_mmio_destroy(s->mmio);
	cvmm_virtio_vsock_destroy(s->dev);
	cvmm_loop_destroy(s->loop);
	free(s);
	vmm->vsock = NULL;
}

// SPDX-License-Identifier: Apache-2.0
/* --vsock: a virtio-vsock device on virtio-mmio, on its own I/O thread and
 * loop: its host sockets never wait on the main loop's other work, nor it on
 * theirs (docs/architecture.md, Execution model). */
#include "boot.h"
#include "vmm.h"
#include <cvmm/virtio-vsock.h>
#include <cvmm/virtio.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

struct vmm_vsock {
	struct cvmm_loop *loop;
	pthread_t thread;
	bool running;
	struct cvmm_virtio_vsock *dev;
	struct vmm_virtio_slot at;
};

int vmm_vsock_open(struct vmm *vmm, struct boot_state *bs)
{
	const struct vmm_vsock_config *c = &vmm->cfg->vsock;
	struct vmm_vsock *s;
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
	return vmm_virtio_slot_open(vmm, bs, &s->at, vmm->cfg->nr_disks + (vmm->cfg->rng ? 1 : 0),
				    "VS", "--vsock");
}

int vmm_vsock_attach(struct vmm *vmm)
{
	struct vmm_vsock *s = vmm->vsock;
	int ret;

	if (!s)
		return 0;
	ret = vmm_virtio_slot_attach(vmm, &s->at, cvmm_virtio_vsock_device(s->dev), s->loop,
				     "virtio-vsock");
	if (ret < 0)
		return ret;
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
	cvmm_virtio_mmio_destroy(s->at.mmio);
	cvmm_virtio_vsock_destroy(s->dev);
	cvmm_loop_destroy(s->loop);
	free(s);
	vmm->vsock = NULL;
}

json_t *vmm_vsock_stats(struct vmm *vmm)
{
	struct cvmm_virtio_vsock_stats st;

	if (!vmm->vsock || !vmm->vsock->dev)
		return NULL;
	cvmm_virtio_vsock_stats(vmm->vsock->dev, &st);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "rx_packets", (json_int_t)st.rx_packets,
			 "rx_bytes", (json_int_t)st.rx_bytes, "tx_packets",
			 (json_int_t)st.tx_packets, "tx_bytes", (json_int_t)st.tx_bytes,
			 "conns_opened", (json_int_t)st.conns_opened, "conns_killed",
			 (json_int_t)st.conns_killed);
}

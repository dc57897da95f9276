// SPDX-License-Identifier: Apache-2.0
/* --rng: a virtio-rng device on virtio-mmio, on its own I/O thread and
 * loop: a guest that keeps asking for entropy costs that thread, never the
 * main thread that serves the API and the console (docs/architecture.md,
 * Execution model). */
#include "boot.h"
#include "vmm.h"
#include <cvmm/virtio-rng.h>
#include <cvmm/virtio.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

struct vmm_rng {
	struct cvmm_loop *loop;
	pthread_t thread;
	bool running;
	struct cvmm_virtio_rng *dev;
	struct vmm_virtio_slot at;
};

int vmm_rng_open(struct vmm *vmm, struct boot_state *bs)
{
	struct vmm_rng *r;
	int ret;

	if (!vmm->cfg->rng)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return cvmm_err(ENOMEM, "--rng: out of memory");
	vmm->rng = r;
	ret = cvmm_loop_create(&r->loop);
	if (ret == 0)
		ret = cvmm_virtio_rng_create(
		    &r->dev, &(struct cvmm_virtio_rng_opts){
				 .loop = r->loop,
				 .limit = vmm->cfg->rng_limited ? &vmm->cfg->rng_limit : NULL,
			     });
	if (ret < 0)
		return cvmm_err(-ret, "--rng: %s", cvmm_err_msg());
	/* The slot after the disks', so neither window nor GSI collides. */
	return vmm_virtio_slot_open(vmm, bs, &r->at, vmm->cfg->nr_disks, "VR", "--rng");
}

int vmm_rng_attach(struct vmm *vmm)
{
	struct vmm_rng *r = vmm->rng;
	int ret;

	if (!r)
		return 0;
	ret = vmm_virtio_slot_attach(vmm, &r->at, cvmm_virtio_rng_device(r->dev), r->loop,
				     "virtio-rng");
	if (ret < 0)
		return ret;
	ret = cvmm_loop_thread_start(r->loop, "cvmm-rng", &r->thread);
	r->running = ret == 0;
	return ret;
}

/* With the vCPUs stopped: stop the I/O thread, then tear down here. */
void vmm_rng_close(struct vmm *vmm)
{
	struct vmm_rng *r = vmm->rng;

	if (!r)
		return;
	if (r->running) {
		cvmm_loop_stop(r->loop);
		pthread_join(r->thread, NULL);
	}
	cvmm_virtio_mmio_destroy(r->at.mmio);
	cvmm_virtio_rng_destroy(r->dev);
	cvmm_loop_destroy(r->loop);
	free(r);
	vmm->rng = NULL;
}

json_t *vmm_rng_stats(struct vmm *vmm)
{
	struct cvmm_virtio_rng_stats st;

	if (!vmm->rng || !vmm->rng->dev)
		return NULL;
	cvmm_virtio_rng_stats(vmm->rng->dev, &st);
	return json_pack("{s:I, s:I}", "requests", (json_int_t)st.requests, "bytes",
			 (json_int_t)st.bytes);
}

// SPDX-License-Identifier: Apache-2.0
/* virtio-blk disks on virtio-mmio: opened before the VM exists, wired after. */
#include "boot.h"
#include "vmm.h"
#include <cvmm/virtio-blk.h>
#include <cvmm/virtio.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each disk runs on its own I/O thread and loop: a slow or stuck image
 * delays nothing but that disk (docs/architecture.md, Threads). */
struct vmm_disk {
	struct cvmm_loop *loop;
	pthread_t thread;
	bool running;
	struct cvmm_virtio_blk *blk;
	struct vmm_virtio_slot at;
};

static int disk_cmdline_add(struct boot_state *bs, char *token)
{
	if (!token)
		return cvmm_err(ENOMEM, "out of memory");
	if (bs->nr_extra_cmdline == BOOT_MAX_EXTRA_CMDLINE) {
		free(token);
		return cvmm_err(E2BIG, "--disk: too many kernel parameters");
	}
	bs->extra_cmdline[bs->nr_extra_cmdline++] = token;
	return 0;
}

int vmm_disks_open(struct vmm *vmm, struct boot_state *bs)
{
	const struct vmm_config *cfg = vmm->cfg;
	int ret;

	if (cfg->nr_disks == 0)
		return 0;
	vmm->disks = calloc(cfg->nr_disks, sizeof(*vmm->disks));
	if (!vmm->disks)
		return cvmm_err(ENOMEM, "out of memory for disks");
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		const struct vmm_disk_config *dc = &cfg->disks[i];
		struct vmm_disk *d = &vmm->disks[i];
		struct cvmm_virtio_blk_opts o = {
		    .path = dc->path,
		    .read_only = dc->read_only,
		    .serial = dc->id,
		    .engine = dc->engine == VMM_DISK_ENGINE_SYNC ? CVMM_VIRTIO_BLK_ENGINE_SYNC
								 : CVMM_VIRTIO_BLK_ENGINE_IO_URING,
		    .cache = dc->cache == VMM_DISK_CACHE_UNSAFE ? CVMM_VIRTIO_BLK_CACHE_UNSAFE
								: CVMM_VIRTIO_BLK_CACHE_WRITEBACK,
		    .limit = dc->limited ? &dc->limit : NULL,
		};

		vmm->nr_disks++;
		ret = cvmm_loop_create(&d->loop);
		if (ret < 0)
			return ret;
		o.loop = d->loop;
		ret = cvmm_virtio_blk_create(&d->blk, &o);
		if (ret < 0)
			return cvmm_err(-ret, "--disk: %s", cvmm_err_msg());
		ret = vmm_virtio_slot_open(vmm, bs, &d->at, i, "VR", "--disk");
		if (ret < 0)
			return ret;
		/* Devices appear in the order described, so disk i is /dev/vd('a' + i). */
		if (dc->root) {
			char *root = NULL;

			if (asprintf(&root, "root=/dev/vd%c %s", 'a' + i,
				     dc->read_only ? "ro" : "rw") < 0)
				root = NULL;
			ret = disk_cmdline_add(bs, root);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* Queue notifications go straight to the event loop (ioeventfd) and
 * completions straight to the guest (irqfd): no vCPU exit on the I/O path. */
static int disk_attach(struct vmm *vmm, struct vmm_disk *d, unsigned int index)
{
	char name[24];
	int ret;

	snprintf(name, sizeof(name), "virtio-blk%u", index);
	ret = vmm_virtio_slot_attach(vmm, &d->at, cvmm_virtio_blk_device(d->blk), d->loop, name);
	if (ret < 0)
		return ret;
	ret = cvmm_loop_thread_start(d->loop, name, &d->thread);
	if (ret < 0)
		return ret;
	d->running = true;
	return 0;
}

int vmm_disks_attach(struct vmm *vmm)
{
	for (unsigned int i = 0; i < vmm->nr_disks; i++) {
		int ret = disk_attach(vmm, &vmm->disks[i], i);

		if (ret < 0)
			return ret;
	}
	return 0;
}

void vmm_disks_close(struct vmm *vmm)
{
	/* The vCPUs are stopped: stop the I/O threads, then flush and close on
	 * this thread with nothing else touching the devices. */
	for (unsigned int i = 0; i < vmm->nr_disks; i++) {
		struct vmm_disk *d = &vmm->disks[i];

		if (!d->running)
			continue;
		cvmm_loop_stop(d->loop);
		pthread_join(d->thread, NULL);
		d->running = false;
	}
	for (unsigned int i = 0; i < vmm->nr_disks; i++) {
		struct vmm_disk *d = &vmm->disks[i];

		if (d->blk && cvmm_virtio_blk_flush(d->blk) < 0)
			fprintf(stderr, "cvmm: --disk %s: flush failed: %s\n",
				vmm->cfg->disks[i].path, cvmm_err_msg());
		cvmm_virtio_mmio_destroy(d->at.mmio);
		cvmm_virtio_blk_destroy(d->blk);
		cvmm_loop_destroy(d->loop);
	}
	free(vmm->disks);
	vmm->disks = NULL;
	vmm->nr_disks = 0;
}

int vmm_disks_set_limit(struct vmm *vmm, unsigned int index,
			const struct cvmm_ratelimit_bucket *bytes,
			const struct cvmm_ratelimit_bucket *ops)
{
	if (index >= vmm->nr_disks)
		return cvmm_err(ENOENT, "no disk %u", index);
	return cvmm_virtio_blk_set_limit(vmm->disks[index].blk, bytes, ops);
}

int vmm_disks_swap(struct vmm *vmm, unsigned int index, const char *path)
{
	if (index >= vmm->nr_disks)
		return cvmm_err(ENOENT, "no disk %u", index);
	return cvmm_virtio_blk_swap_image(vmm->disks[index].blk, path);
}

void vmm_disks_stats(struct vmm *vmm, json_t *out)
{
	for (unsigned int i = 0; i < vmm->nr_disks; i++) {
		struct cvmm_virtio_blk_stats st;
		char name[32];
		const char *id = vmm->cfg->disks[i].id;

		if (!vmm->disks[i].blk)
			continue;
		cvmm_virtio_blk_stats(vmm->disks[i].blk, &st);
		if (!id || !id[0]) {
			snprintf(name, sizeof(name), "vd%c", 'a' + i);
			id = name;
		}
		json_object_set_new(
		    out, id,
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "read_ops",
			      (json_int_t)st.read_ops, "read_bytes", (json_int_t)st.read_bytes,
			      "write_ops", (json_int_t)st.write_ops, "write_bytes",
			      (json_int_t)st.write_bytes, "flush_ops", (json_int_t)st.flush_ops,
			      "other_ops", (json_int_t)st.other_ops, "errors",
			      (json_int_t)st.errors));
	}
}

// SPDX-License-Identifier: Apache-2.0
/* --net: virtio-net devices on TAP interfaces, each on virtio-mmio with its
 * own I/O thread and loop, so that one interface's TAP syscalls never delay
 * the others, the disks or the main loop (docs/architecture.md). */
#include "boot.h"
#include "vmm.h"
#include <cvmm/virtio-net.h>
#include <cvmm/virtio.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#define NET_VHOST_PATH "/dev/vhost-net"

struct vmm_net {
	struct cvmm_loop *loop;
	pthread_t thread;
	bool running;
	struct cvmm_virtio_net_tap *tap;
	struct cvmm_virtio_net *dev;
	struct vmm_virtio_slot at;
};

static int net_open(struct vmm *vmm, struct boot_state *bs, unsigned int i)
{
	const struct vmm_config *cfg = vmm->cfg;
	const struct vmm_net_config *nc = &cfg->nets[i];
	struct vmm_net *n = &vmm->nets[i];
	struct cvmm_virtio_net_opts o = {
	    .mem = vmm->mem,
	    .mac = nc->has_mac ? nc->mac : NULL,
	    .mtu = nc->mtu,
	    .vhost_path = nc->vhost ? NET_VHOST_PATH : NULL,
	    .rx_limit = nc->rx_limited ? &nc->rx_limit : NULL,
	    .tx_limit = nc->tx_limited ? &nc->tx_limit : NULL,
	};
	int ret;

	/* After the disks, --rng and --vsock, so no window or GSI collides. */
	ret = vmm_virtio_slot_open(
	    vmm, bs, &n->at, cfg->nr_disks + (cfg->rng ? 1 : 0) + (cfg->vsock.enabled ? 1 : 0) + i,
	    "VN", "--net");
	if (ret < 0)
		return ret;
	ret = cvmm_virtio_net_tap_open(&n->tap, nc->tap);
	if (ret == 0)
		ret = cvmm_loop_create(&n->loop);
	if (ret < 0)
		return cvmm_err(-ret, "--net: %s", cvmm_err_msg());
	o.backend = cvmm_virtio_net_tap_backend(n->tap);
	o.loop = n->loop;
	ret = cvmm_virtio_net_create(&n->dev, &o);
	if (ret < 0)
		return cvmm_err(-ret, "--net: tap %s: %s", nc->tap, cvmm_err_msg());
	return 0;
}

int vmm_nets_open(struct vmm *vmm, struct boot_state *bs)
{
	unsigned int nr = vmm->cfg->nr_nets;

	if (nr == 0)
		return 0;
	vmm->nets = calloc(nr, sizeof(*vmm->nets));
	if (!vmm->nets)
		return cvmm_err(ENOMEM, "--net: out of memory");
	for (unsigned int i = 0; i < nr; i++) {
		int ret;

		vmm->nr_nets++;
		ret = net_open(vmm, bs, i);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Notifications reach the device's loop (or, with vhost, the kernel worker)
 * through KVM ioeventfds, interrupts the guest through an irqfd. */
static int net_attach(struct vmm *vmm, struct vmm_net *n, unsigned int i)
{
	char name[24];
	int ret;

	snprintf(name, sizeof(name), "virtio-net%u", i);
	ret = vmm_virtio_slot_attach(vmm, &n->at, cvmm_virtio_net_device(n->dev), n->loop, name);
	if (ret < 0)
		return ret;
	snprintf(name, sizeof(name), "net%u", i);
	ret = cvmm_loop_thread_start(n->loop, name, &n->thread);
	if (ret < 0)
		return ret;
	n->running = true;
	return 0;
}

int vmm_nets_attach(struct vmm *vmm)
{
	for (unsigned int i = 0; i < vmm->nr_nets; i++) {
		int ret = net_attach(vmm, &vmm->nets[i], i);

		if (ret < 0)
			return ret;
	}
	return 0;
}

int vmm_nets_set_limit(struct vmm *vmm, unsigned int index, bool rx,
		       const struct cvmm_ratelimit_bucket *bytes,
		       const struct cvmm_ratelimit_bucket *ops)
{
	if (index >= vmm->nr_nets)
		return cvmm_err(ENOENT, "no interface %u", index);
	return cvmm_virtio_net_set_limit(vmm->nets[index].dev, rx, bytes, ops);
}

void vmm_nets_close(struct vmm *vmm)
{
	/* The vCPUs are stopped: stop the I/O threads first, then tear down
	 * with nothing else touching the devices. */
	for (unsigned int i = 0; i < vmm->nr_nets; i++) {
		struct vmm_net *n = &vmm->nets[i];

		if (!n->running)
			continue;
		cvmm_loop_stop(n->loop);
		pthread_join(n->thread, NULL);
		n->running = false;
	}
	for (unsigned int i = 0; i < vmm->nr_nets; i++) {
		struct vmm_net *n = &vmm->nets[i];

		cvmm_virtio_mmio_destroy(n->at.mmio);
		cvmm_virtio_net_destroy(n->dev);
		cvmm_virtio_net_tap_close(n->tap);
		cvmm_loop_destroy(n->loop);
	}
	free(vmm->nets);
	vmm->nets = NULL;
	vmm->nr_nets = 0;
}

void vmm_nets_stats(struct vmm *vmm, json_t *out)
{
	for (unsigned int i = 0; i < vmm->nr_nets; i++) {
		struct cvmm_virtio_net_stats st;
		char name[32];
		const char *id = vmm->cfg->nets[i].id;

		if (!vmm->nets[i].dev)
			continue;
		cvmm_virtio_net_stats(vmm->nets[i].dev, &st);
		if (!id) {
			snprintf(name, sizeof(name), "net%u", i);
			id = name;
		}
		json_object_set_new(
		    out, id,
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "rx_frames",
			      (json_int_t)st.rx_frames, "rx_bytes", (json_int_t)st.rx_bytes,
			      "tx_frames", (json_int_t)st.tx_frames, "tx_bytes",
			      (json_int_t)st.tx_bytes, "rx_dropped",
			      (json_int_t)(st.rx_drop_oversize + st.rx_drop_bad_buffer +
					   st.rx_drop_backend),
			      "tx_dropped",
			      (json_int_t)(st.tx_drop_oversize + st.tx_drop_short +
					   st.tx_drop_bad_header + st.tx_drop_backend)));
	}
}

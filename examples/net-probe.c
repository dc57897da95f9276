// SPDX-License-Identifier: Apache-2.0
/*
 * net-probe: can this TAP (and /dev/vhost-net) serve a virtio-net device?
 *
 *   net-probe TAP [vhost]
 *
 * Attaches to the TAP the way cvmm's --net does, builds the device (with the
 * kernel's vhost-net when asked) and prints the features a guest driver
 * would be offered; with vhost, also those /dev/vhost-net itself offers.
 * Written only against cvmm-virtio-net and cvmm-vhost (and the sys/memory
 * modules they require). Exit status 0 when everything could be set up.
 */
#include <cvmm/vhost.h>
#include <cvmm/virtio-net.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

int main(int argc, char **argv)
{
	bool vhost = argc == 3 && strcmp(argv[2], "vhost") == 0;
	struct cvmm_virtio_net_tap *tap = NULL;
	struct cvmm_virtio_net *net = NULL;
	struct cvmm_vhost *v = NULL;
	struct cvmm_loop *loop = NULL;
	struct cvmm_mem *mem = NULL;
	int ret = 1;

	if (argc < 2 || argc > 3 || (argc == 3 && !vhost)) {
		fprintf(stderr, "usage: net-probe TAP [vhost]\n");
		return 2;
	}
	if (cvmm_virtio_net_tap_open(&tap, argv[1]) < 0 || cvmm_loop_create(&loop) < 0 ||
	    cvmm_mem_create(&mem, 2 << 20, NULL) < 0)
		goto out;
	if (vhost) {
		if (cvmm_vhost_open(&v, "/dev/vhost-net") < 0)
			goto out;
		printf("/dev/vhost-net offers %#" PRIx64 "\n", cvmm_vhost_features(v));
	}
	if (cvmm_virtio_net_create(&net, &(struct cvmm_virtio_net_opts){
					     .backend = cvmm_virtio_net_tap_backend(tap),
					     .loop = loop,
					     .mem = mem,
					     .mac = mac,
					     .mtu = 1500,
					     .vhost_path = vhost ? "/dev/vhost-net" : NULL,
					 }) < 0)
		goto out;
	printf("%s: virtio-net device offers %#" PRIx64 " (%s data path)\n", argv[1],
	       cvmm_virtio_net_device(net)->features, vhost ? "vhost-net" : "userspace");
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "net-probe: %s\n", cvmm_err_msg());
	cvmm_virtio_net_destroy(net);
	cvmm_vhost_close(v);
	cvmm_virtio_net_tap_close(tap);
	cvmm_loop_destroy(loop);
	cvmm_mem_destroy(mem);
	return ret;
}

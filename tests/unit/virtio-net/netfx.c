// SPDX-License-Identifier: Apache-2.0
#include "netfx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_TURNS 300

static ssize_t fake_recv(void *opaque, const struct iovec *iov, int iovcnt)
{
	struct fx *f = opaque;
	struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
	/* MSG_TRUNC: the full length, as a TAP reports a frame that did not fit. */
	ssize_t r = recvmsg(f->sock[0], &msg, MSG_TRUNC | MSG_DONTWAIT);

	return r < 0 ? -errno : r;
}

static ssize_t fake_send(void *opaque, const struct iovec *iov, int iovcnt)
{
	struct fx *f = opaque;
	struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
	ssize_t r;

	if (f->send_fails)
		return -EINVAL;
	r = sendmsg(f->sock[0], &msg, MSG_DONTWAIT);
	return r < 0 ? -errno : r;
}

static int fake_offload(void *opaque, unsigned int flags)
{
	struct fx *f = opaque;

	f->offload_calls++;
	f->offloads = flags;
	return 0;
}

static const struct cvmm_virtio_net_backend_ops fake_ops = {
    .recv = fake_recv,
    .send = fake_send,
    .set_offload = fake_offload,
};

uint32_t rd(struct fx *f, uint64_t off)
{
	uint32_t v = 0;

	cvmm_virtio_mmio_read(f->m, off, &v, 4);
	return v;
}

void wr(struct fx *f, uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(f->m, off, &v, 4);
}

uint64_t offered(struct fx *f)
{
	return vqdrv_mmio_offered(f->m);
}

bool negotiate(struct fx *f, uint64_t drop)
{
	uint64_t feat = offered(f) & ~drop;

	if (!vqdrv_mmio_negotiate(f->m, feat))
		return false;
	f->acked = feat;
	vqdrv_mmio_queue(f->m, 0, &f->rx, f->mem, QSZ, RX_DESC, RX_AVAIL, RX_USED);
	vqdrv_mmio_queue(f->m, 1, &f->tx, f->mem, QSZ, TX_DESC, TX_AVAIL, TX_USED);
	return vqdrv_mmio_driver_ok(f->m);
}

struct fx *fx_new(const struct fx_opts *o)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cvmm_virtio_net_opts no = {0};
	struct cvmm_virtio_mmio_opts mo = {0};
	int sz = 1 << 20;

	assert_non_null(f);
	assert_int_equal(cvmm_mem_create(&f->mem, RAM, NULL), 0);
	assert_int_equal(cvmm_loop_create(&f->loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, f->sock), 0);
	for (int i = 0; i < 2; i++) {
		setsockopt(f->sock[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(f->sock[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	f->be = (struct cvmm_virtio_net_backend){.ops = &fake_ops, .opaque = f, .fd = f->sock[0]};
	no = (struct cvmm_virtio_net_opts){.backend = &f->be,
					   .loop = f->loop,
					   .mem = f->mem,
					   .mac = o->mac,
					   .mtu = o->mtu,
					   .queue_size = QSZ,
					   .rx_limit = o->rx_limit,
					   .tx_limit = o->tx_limit};
	assert_int_equal(cvmm_virtio_net_create(&f->net, &no), 0);
	mo = (struct cvmm_virtio_mmio_opts){.mem = f->mem,
					    .dev = cvmm_virtio_net_device(f->net),
					    .loop = f->loop,
					    .name = "net-test"};
	assert_int_equal(cvmm_virtio_mmio_create(&f->m, &mo), 0);
	assert_true(negotiate(f, o->drop_features));
	return f;
}

void fx_free(struct fx *f)
{
	cvmm_virtio_mmio_destroy(f->m);
	cvmm_virtio_net_destroy(f->net);
	cvmm_loop_destroy(f->loop);
	close(f->sock[0]);
	close(f->sock[1]);
	cvmm_mem_destroy(f->mem);
	free(f);
}

int setup(void **state)
{
	*state = fx_new(&(struct fx_opts){0});
	return 0;
}

int setup_nomrg(void **state)
{
	*state = fx_new(&(struct fx_opts){
	    .drop_features = CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_MRG_RXBUF) |
			     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_CSUM) |
			     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_TSO4) |
			     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_TSO6) |
			     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_UFO)});
	return 0;
}

int teardown(void **state)
{
	fx_free(*state);
	return 0;
}

uint16_t post_rx(struct fx *f, uint64_t gpa, uint32_t len, unsigned int n)
{
	struct vqdrv_buf b[16];

	assert_true(n <= 16);
	for (unsigned int i = 0; i < n; i++)
		b[i] = (struct vqdrv_buf){gpa + (uint64_t)i * len, len, true};
	return vqdrv_add(&f->rx, b, n);
}

void kick(struct fx *f, unsigned int q)
{
	wr(f, CVMM_VIRTIO_MMIO_NOTIFY, q);
}

int wait_used(struct fx *f, struct vqdrv *drv, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < WAIT_TURNS; i++) {
		if (vqdrv_get_used(drv, id, len))
			return 1;
		cvmm_loop_run_once(f->loop, 10);
	}
	return 0;
}

void spin(struct fx *f)
{
	for (int i = 0; i < 8; i++)
		cvmm_loop_run_once(f->loop, 0);
}

bool wait_status(struct fx *f, uint32_t bits)
{
	for (int i = 0; i < WAIT_TURNS; i++) {
		if ((rd(f, 0x70) & bits) == bits)
			return true;
		cvmm_loop_run_once(f->loop, 10);
	}
	return false;
}

void fill_pattern(uint8_t *buf, size_t len, uint8_t seed, size_t start)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((start + i) * 7 + seed);
}

bool is_pattern(const uint8_t *buf, size_t len, uint8_t seed, size_t start)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != (uint8_t)((start + i) * 7 + seed))
			return false;
	return true;
}

size_t peer_send(struct fx *f, uint8_t flags, uint32_t len, uint8_t seed)
{
	uint8_t *buf = calloc(1, 12 + (size_t)len);

	assert_non_null(buf);
	buf[0] = flags;
	buf[10] = 0xaa; /* num_buffers garbage: the device sets it */
	buf[11] = 0xbb;
	fill_pattern(buf + 12, len, seed, 0);
	assert_int_equal(send(f->sock[1], buf, 12 + (size_t)len, 0), 12 + (ssize_t)len);
	free(buf);
	return 12 + (size_t)len;
}

ssize_t peer_recv(struct fx *f, uint8_t *buf, size_t cap)
{
	for (int i = 0; i < WAIT_TURNS; i++) {
		ssize_t r = recv(f->sock[1], buf, cap, MSG_DONTWAIT);

		if (r >= 0)
			return r;
		cvmm_loop_run_once(f->loop, 10);
	}
	return -1;
}

uint16_t add_tx(struct fx *f, const uint8_t hdr[12], uint32_t frame_len, uint8_t seed,
		uint32_t split)
{
	struct vqdrv_buf b[40];
	unsigned int n = 0;
	uint8_t *data = malloc(12 + (size_t)frame_len);
	uint64_t total = 12 + (uint64_t)frame_len, off = 0;

	assert_non_null(data);
	memcpy(data, hdr, 12);
	fill_pattern(data + 12, frame_len, seed, 0);
	assert_int_equal(cvmm_mem_write(f->mem, TXBUF, data, total), 0);
	free(data);
	if (!split)
		split = (uint32_t)total;
	while (off < total) {
		uint32_t l = total - off < split ? (uint32_t)(total - off) : split;

		assert_true(n < 40);
		b[n++] = (struct vqdrv_buf){TXBUF + off, l, false};
		off += l;
	}
	return vqdrv_add(&f->tx, b, n);
}

struct cvmm_virtio_net_stats stats(struct fx *f)
{
	struct cvmm_virtio_net_stats s;

	cvmm_virtio_net_stats(f->net, &s);
	return s;
}

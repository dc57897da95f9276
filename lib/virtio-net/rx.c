// SPDX-License-Identifier: Apache-2.0
/* RX: frames from the back end into the guest's posted buffers. */
#include "net_impl.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>

uint32_t net_rx_need(uint64_t features, uint16_t mtu)
{
	const uint64_t gso = CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_TSO4) |
			     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_TSO6) |
			     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_UFO);

	if (features & gso)
		return CVMM_VIRTIO_NET_MAX_FRAME;
	return NET_HDR + NET_ETH_HLEN + (mtu > 1500 ? mtu : 1500);
}

/* Watch the back end only while frames can be taken: backpressure. */
static void rx_poll(struct cvmm_virtio_net *n, bool on)
{
	if (n->rx_polled == on)
		return;
	if (cvmm_loop_set_events(n->loop, n->be.fd, on ? EPOLLIN : 0) == 0)
		n->rx_polled = on;
}

static struct cvmm_virtq_chain *rx_chain(struct cvmm_virtio_net *n, unsigned int i)
{
	return &n->rx[(n->rx_head + i) % n->qsz];
}

void net_rx_forget(struct cvmm_virtio_net *n)
{
	n->rx_head = 0;
	n->rx_count = 0;
	n->rx_parked = false;
}

/* A chain that cannot take frames: give it back empty. */
static bool rx_chain_bad(const struct cvmm_virtio_net *n, const struct cvmm_virtq_chain *c)
{
	uint64_t min = n->features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_MRG_RXBUF) ? NET_HDR
										    : n->rx_need;

	return c->nr_readable || c->writable_len < min;
}

/*
 * Gather the room of the stashed chains into rx_iov, popping more until it
 * covers rx_need (or rx_iov is full). Without MRG_RXBUF a frame gets one
 * chain. Returns the iovec count (> 0), 0 when the guest has not posted
 * enough, -EAGAIN when this batch may pop no more, or -EIO after a
 * malformed ring (the device failed). *room gets the bytes described.
 */
static int rx_gather(struct cvmm_virtio_net *n, unsigned int *pops, uint64_t *room)
{
	bool mrg = n->features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_MRG_RXBUF);
	unsigned int used = 0, cnt = 0;

	*room = 0;
	for (;;) {
		struct cvmm_virtq_chain *c;
		int ret;

		for (; used < n->rx_count && cnt < IOV_MAX; used++) {
			c = rx_chain(n, used);
			for (uint32_t i = 0; i < c->nr_writable && cnt < IOV_MAX; i++) {
				n->rx_iov[cnt++] = c->iov[i];
				*room += c->iov[i].iov_len;
			}
			if (*room >= n->rx_need || !mrg)
				return cnt;
		}
		if (cnt == IOV_MAX)
			return cnt;
		/* Every buffer of the ring is ours: take frames as large as fit. */
		if (n->rx_count == cvmm_virtq_size(n->rxq))
			return cnt;
		if (*pops == 0)
			return -EAGAIN;
		c = rx_chain(n, n->rx_count);
		ret = cvmm_virtq_pop(n->rxq, c);
		if (ret == 0)
			return 0;
		if (ret < 0) {
			net_fail(n, cvmm_err_msg());
			return -EIO;
		}
		(*pops)--;
		if (rx_chain_bad(n, c)) {
			NET_COUNT(n, rx_drop_bad_buffer, 1);
			cvmm_virtq_push(n->rxq, c, 0);
			continue;
		}
		n->rx_count++;
	}
}

/* Write len bytes at offset off of chain c's writable buffers. */
static void rx_put(struct cvmm_virtq_chain *c, uint64_t off, const void *src, uint64_t len)
{
	struct iovec iov[2];
	const uint8_t *p = src;
	int cnt = cvmm_virtq_chain_iov(c, true, off, len, iov, 2);

	for (int i = 0; i < cnt; i++) {
		memcpy(iov[i].iov_base, p, iov[i].iov_len);
		p += iov[i].iov_len;
	}
}

/* Chains a frame of len bytes (header included) occupies. */
static unsigned int rx_chains_for(struct cvmm_virtio_net *n, uint64_t len)
{
	unsigned int k = 0;

	while (len) {
		uint64_t w = rx_chain(n, k++)->writable_len;

		len -= len < w ? len : w;
	}
	return k;
}

/* Fix the header the back end wrote and hand the frame's chains over. */
static void rx_deliver(struct cvmm_virtio_net *n, uint32_t len)
{
	unsigned int k = rx_chains_for(n, len);
	uint16_t nb = htole16((uint16_t)k);
	uint64_t left = len;

	/* Each chain holds at least the header (rx_chain_bad), so it is in the
	 * first one. */
	rx_put(rx_chain(n, 0), 10, &nb, 2);
	if (!(n->features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_CSUM))) {
		const uint8_t zero = 0;

		rx_put(rx_chain(n, 0), 0, &zero, 1);
	}
	for (unsigned int i = 0; i < k; i++) {
		struct cvmm_virtq_chain *c = rx_chain(n, i);
		uint64_t part = left < c->writable_len ? left : c->writable_len;

		cvmm_virtq_push(n->rxq, c, (uint32_t)part);
		left -= part;
	}
	n->rx_head = (n->rx_head + k) % n->qsz;
	n->rx_count -= k;
	NET_COUNT(n, rx_frames, 1);
	NET_COUNT(n, rx_bytes, len - NET_HDR);
}

/* Deliver a frame unless the limiter holds it back (then it stays parked). */
static bool rx_pass(struct cvmm_virtio_net *n, uint32_t len)
{
	if (n->rx_rl && cvmm_ratelimit_consume(n->rx_rl, len - NET_HDR, 1) == -EAGAIN) {
		n->rx_parked = true;
		n->rx_parked_len = len;
		return false;
	}
	n->rx_parked = false;
	rx_deliver(n, len);
	return true;
}

/*
 * Take at most one queue's worth of frames, then yield; the back end's fd,
 * still readable, brings us back on the loop's next turn. The fd is paused
 * while the guest has no room and while the limiter holds a frame.
 */
void net_rx_process(struct cvmm_virtio_net *n)
{
	unsigned int pops = 2u * n->qsz;

	if (!n->t || !n->rxq || n->failed || !cvmm_virtq_ready(n->rxq)) {
		rx_poll(n, false);
		return;
	}
	if (n->rx_parked && !rx_pass(n, n->rx_parked_len)) {
		rx_poll(n, false);
		goto out;
	}
	for (unsigned int frames = 0; frames < n->qsz; frames++) {
		uint64_t room;
		ssize_t len;
		int cnt;

		if (atomic_load(&n->reset_pending))
			goto out;
		cnt = rx_gather(n, &pops, &room);
		if (cnt == -EAGAIN) {
			cvmm_eventfd_signal(n->kick_fd);
			goto out;
		}
		if (cnt <= 0) {
			rx_poll(n, false); /* the next RX notification resumes */
			goto out;
		}
		len = n->be.ops->recv(n->be.opaque, n->rx_iov, cnt);
		if (len == -EAGAIN)
			break;
		if (len < (ssize_t)NET_HDR) {
			NET_COUNT(n, rx_drop_backend, 1);
			continue;
		}
		if ((uint64_t)len > room) { /* truncated: nothing is pushed */
			NET_COUNT(n, rx_drop_oversize, 1);
			continue;
		}
		if (!rx_pass(n, (uint32_t)len)) {
			rx_poll(n, false); /* the limiter's timer resumes */
			goto out;
		}
	}
	rx_poll(n, true);
out:
	if (n->t && !n->failed)
		cvmm_virtio_notify_used(n->t, CVMM_VIRTIO_NET_RXQ);
}

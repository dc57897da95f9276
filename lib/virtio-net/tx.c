// SPDX-License-Identifier: Apache-2.0
/* TX: the guest's frames to the back end, one writev each. */
#include "net_impl.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

static uint16_t le16_at(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

bool net_tx_hdr_ok(const uint8_t *hdr, uint64_t features, uint64_t frame_len)
{
	uint8_t flags = hdr[0], gso = hdr[1];
	unsigned int need;

	if (flags & ~CVMM_VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	if (flags & CVMM_VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_CSUM)))
			return false;
		/* The 16-bit checksum field lies inside the frame. */
		if ((uint64_t)le16_at(hdr + 6) + le16_at(hdr + 8) + 2 > frame_len)
			return false;
	}
	switch (gso) {
	case CVMM_VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case CVMM_VIRTIO_NET_HDR_GSO_TCPV4:
		need = CVMM_VIRTIO_NET_F_HOST_TSO4;
		break;
	case CVMM_VIRTIO_NET_HDR_GSO_TCPV6:
		need = CVMM_VIRTIO_NET_F_HOST_TSO6;
		break;
	case CVMM_VIRTIO_NET_HDR_GSO_UDP:
		need = CVMM_VIRTIO_NET_F_HOST_UFO;
		break;
	default: /* ECN (HOST_ECN is not offered) or unknown */
		return false;
	}
	return (features & CVMM_VIRTIO_BIT(need)) && le16_at(hdr + 4) != 0;
}

/* Returns 1 when the frame is ready to send, 0 when it was dropped. */
static int tx_prepare(struct cvmm_virtio_net *n)
{
	struct cvmm_virtq_chain *c = &n->tx;
	uint64_t frame;
	int cnt;

	if (c->readable_len > CVMM_VIRTIO_NET_MAX_FRAME) {
		NET_COUNT(n, tx_drop_oversize, 1);
		return 0;
	}
	if (c->readable_len < NET_HDR + NET_ETH_HLEN) {
		NET_COUNT(n, tx_drop_short, 1);
		return 0;
	}
	frame = c->readable_len - NET_HDR;
	/* Checked and sent from our copy: the guest may rewrite its own. */
	cvmm_virtq_chain_read(c, n->tx_hdr, NET_HDR);
	if (!net_tx_hdr_ok(n->tx_hdr, n->features, frame)) {
		NET_COUNT(n, tx_drop_bad_header, 1);
		return 0;
	}
	n->tx_out[0] = (struct iovec){.iov_base = n->tx_hdr, .iov_len = NET_HDR};
	cnt = cvmm_virtq_chain_iov(c, false, NET_HDR, frame, n->tx_out + 1, n->qsz);
	if (cnt < 0) { /* cannot happen: at most qsz buffers in a chain */
		NET_COUNT(n, tx_drop_short, 1);
		return 0;
	}
	n->tx_out_n = cnt + 1;
	return 1;
}

/* Send the prepared frame unless the limiter holds it back (parked). */
static bool tx_send(struct cvmm_virtio_net *n)
{
	uint64_t frame = n->tx.readable_len - NET_HDR;
	ssize_t r;

	if (n->tx_rl && cvmm_ratelimit_consume(n->tx_rl, frame, 1) == -EAGAIN) {
		n->tx_parked = true;
		return false;
	}
	n->tx_parked = false;
	r = n->be.ops->send(n->be.opaque, n->tx_out, n->tx_out_n);
	if (r < 0) {
		NET_COUNT(n, tx_drop_backend, 1);
	} else {
		NET_COUNT(n, tx_frames, 1);
		NET_COUNT(n, tx_bytes, frame);
	}
	cvmm_virtq_push(n->txq, &n->tx, 0);
	return true;
}

/*
 * Take at most one queue's worth of frames, then yield: the kick eventfd
 * brings us back after the loop has served its other sources. A frame the
 * limiter holds blocks the queue until the limiter's timer.
 */
void net_tx_process(struct cvmm_virtio_net *n)
{
	unsigned int budget = n->qsz;
	int ret;

	if (!n->t || !n->txq || n->failed || !cvmm_virtq_ready(n->txq))
		return;
	if (n->tx_parked && !tx_send(n))
		goto out;
	while (!atomic_load(&n->reset_pending)) {
		if (budget == 0) {
			cvmm_eventfd_signal(n->kick_fd);
			break;
		}
		ret = cvmm_virtq_pop(n->txq, &n->tx);
		if (ret == 0)
			break;
		if (ret < 0) {
			net_fail(n, cvmm_err_msg());
			return;
		}
		budget--;
		if (!tx_prepare(n)) {
			cvmm_virtq_push(n->txq, &n->tx, 0);
			continue;
		}
		if (!tx_send(n))
			break;
	}
out:
	cvmm_virtio_notify_used(n->t, CVMM_VIRTIO_NET_TXQ);
}

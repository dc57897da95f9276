// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net TX with an arbitrary header and chain layout. The input gives
 * the features the driver acks, the TX queue size and avail index, and the
 * ring memory (descriptors anywhere in RAM, direct or indirect, any flags).
 * Checked, besides vq_check's virtqueue contract:
 *   - the device writes nothing in RAM but the TX used ring, and every used
 *     length is 0;
 *   - the back end gets exactly the chains that are frames by the rules of
 *     <cvmm/virtio-net.h> (26..65562 bytes, a header with known flags, a GSO
 *     type the driver negotiated with a non-zero gso_size, a checksum range
 *     inside the frame), in order, each byte for byte as the chain holds it;
 *   - a failed pop puts the device in NEEDS_RESET.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "fuzz_common.h"
#include "vq_check.h"

#define MAX_SENT 64
#define MAX_BUFS 4096
#define LOOP_TURNS 32

static uint8_t *sent[MAX_SENT];
static uint32_t sent_len[MAX_SENT];
static unsigned int nsent;
static uint8_t before[RAM];

static ssize_t be_recv(void *opaque, const struct iovec *iov, int iovcnt)
{
	(void)opaque;
	(void)iov;
	(void)iovcnt;
	return -EAGAIN;
}

static ssize_t be_send(void *opaque, const struct iovec *iov, int iovcnt)
{
	size_t total = 0;
	uint8_t *p;

	(void)opaque;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (nsent == MAX_SENT)
		return (ssize_t)total;
	p = malloc(total ? total : 1);
	if (!p)
		abort();
	sent[nsent] = p;
	sent_len[nsent++] = (uint32_t)total;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	return (ssize_t)total;
}

static const struct cvmm_virtio_net_backend_ops be_ops = {.recv = be_recv, .send = be_send};

static void init(void)
{
	fz_init(&be_ops);
}

static uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The header rules, written out again from the header's documentation. */
static bool is_frame(const uint8_t *f, uint64_t len, uint64_t features)
{
	uint8_t flags = f[0], gso = f[1];

	if (len < 12 + 14 || len > CVMM_VIRTIO_NET_MAX_FRAME)
		return false;
	if (flags & ~1u)
		return false;
	if ((flags & 1) && (!(features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_CSUM)) ||
			    (uint64_t)le16_at(f + 6) + le16_at(f + 8) + 2 > len - 12))
		return false;
	if (gso == 0)
		return true;
	if (le16_at(f + 4) == 0)
		return false;
	return (gso == 1 && (features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_HOST_TSO4))) ||
	       (gso == 4 && (features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_HOST_TSO6))) ||
	       (gso == 3 && (features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_HOST_UFO)));
}

static bool hits(struct buf b, uint64_t start, uint64_t len)
{
	return b.gpa < start + len && start < b.gpa + b.len;
}

static void check(uint32_t qsz, uint64_t features)
{
	static uint8_t chain[CVMM_VIRTIO_NET_MAX_FRAME + 1];
	static struct buf bufs[MAX_BUFS];
	uint16_t nused = 0;
	unsigned int si = 0;
	bool clobbered, any_clobbered = false;

	cvmm_mem_read(fz.mem, TX_USED + 2, &nused, 2);
	for (uint16_t e = 0; e < nused; e++) {
		uint32_t id, len;
		uint64_t total = 0;
		int nb;

		cvmm_mem_read(fz.mem, TX_USED + 4 + 8ull * (e % qsz), &id, 4);
		cvmm_mem_read(fz.mem, TX_USED + 8 + 8ull * (e % qsz), &len, 4);
		if (len != 0)
			vq_check_fail("TX used length %u", len);
		/* As the device saw it: it writes only the used rings, which the
		 * buffers may overlap. */
		nb = walk_chain(before, TX_DESC, qsz, (uint16_t)id, bufs, MAX_BUFS);
		if (nb < 0)
			vq_check_fail("used TX chain %u cannot be walked", id);
		clobbered = false;
		for (int i = 0; i < nb; i++) {
			if (bufs[i].writable)
				continue;
			clobbered |= hits(bufs[i], TX_USED, 6 + 8 * qsz) ||
				     hits(bufs[i], RX_USED, 6 + 8 * 8);
			if (total + bufs[i].len <= sizeof(chain))
				memcpy(chain + total, before + bufs[i].gpa, bufs[i].len);
			total += bufs[i].len;
		}
		/* A chain over the used rings changed as the device pushed: its
		 * header, and so whether it is a frame, is not known here. */
		any_clobbered |= clobbered;
		if (clobbered || !is_frame(chain, total, features)) {
			if (clobbered && si < nsent && sent_len[si] == total)
				si++;
			continue;
		}
		if (si == nsent)
			vq_check_fail("TX chain %u of %llu bytes not sent", id,
				      (unsigned long long)total);
		if (sent_len[si] != total || memcmp(sent[si], chain, total))
			vq_check_fail("TX chain %u sent as other bytes", id);
		si++;
	}
	if (si != nsent && nsent < MAX_SENT && !any_clobbered)
		vq_check_fail("%u frames sent, %u expected", nsent, si);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t features = CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1);
	static const unsigned int bits[] = {CVMM_VIRTIO_NET_F_CSUM, CVMM_VIRTIO_NET_F_HOST_TSO4,
					    CVMM_VIRTIO_NET_F_HOST_TSO6, CVMM_VIRTIO_NET_F_HOST_UFO,
					    CVMM_VIRTIO_F_EVENT_IDX};
	unsigned long failures;
	uint32_t qsz;
	uint16_t idx;

	if (size < 4)
		return 0;
	if (!fz.loop)
		init();
	fz_wr(0x70, 0);
	failures = vq_check_pop_failures();
	for (unsigned int i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (data[0] & (1u << i))
			features |= CVMM_VIRTIO_BIT(bits[i]);
	qsz = 1u << (data[1] % 7);
	idx = data[2] % (2 * qsz + 1);
	cvmm_mem_fill(fz.mem, 0, 0, RAM);
	/* The input is the TX ring image and then buffer memory. */
	cvmm_mem_write(fz.mem, TX_DESC, data + 4,
		       size - 4 < RAM - TX_DESC ? size - 4 : RAM - TX_DESC);
	cvmm_mem_write(fz.mem, TX_AVAIL + 2, &idx, 2);
	cvmm_mem_fill(fz.mem, TX_USED, 0, 0x1000);
	cvmm_mem_fill(fz.mem, RX_DESC, 0, 0x3000);
	memcpy(before, fz.ram, RAM);
	for (unsigned int i = 0; i < nsent; i++)
		free(sent[i]);
	nsent = 0;

	fz_activate(features, 8, qsz);
	fz_wr(CVMM_VIRTIO_MMIO_NOTIFY, 1);
	for (int i = 0; i < LOOP_TURNS && cvmm_loop_run_once(fz.loop, 0) > 0; i++)
		;
	if (vq_check_pop_failures() != failures) {
		if (!(cvmm_virtio_mmio_status(fz.m) & CVMM_VIRTIO_STATUS_NEEDS_RESET))
			vq_check_fail("a pop failed but the device did not ask for a reset");
	} else {
		check(qsz, features);
	}
	for (uint32_t i = 0; i < RAM; i++)
		if (fz.ram[i] != before[i] && !(i >= TX_USED && i < TX_USED + 6 + 8 * qsz) &&
		    !(i >= RX_USED && i < RX_USED + 6 + 8 * 8))
			vq_check_fail("guest byte %#x written", i);
	fz_wr(0x70, 0);
	return 0;
}

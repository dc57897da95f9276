// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net RX placement into arbitrary posted buffers. The input gives the
 * features the driver acks, the RX queue size and avail index, the ring
 * memory (descriptors anywhere in RAM, direct or indirect, any flags), and
 * the frames the back end delivers (lengths up to beyond 65562). Checked,
 * besides vq_check's virtqueue contract:
 *   - only posted device-writable buffers and the used ring changed in RAM;
 *   - every used element's length is the bytes of one frame placed in that
 *     chain: the chains of each delivered frame, in used order, hold exactly
 *     that frame (num_buffers set, flags cleared without GUEST_CSUM), and
 *     the delivered frames are those the back end handed over whole;
 *   - a failed pop puts the device in NEEDS_RESET, and the reset returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "vq_check.h"

#define MAX_FRAMES 8
#define MAX_BUFS 4096
#define LOOP_TURNS 32

struct frame {
	uint32_t len;
	uint8_t seed;
	bool whole; /* fitted the room the device offered */
};

static struct frame frames[MAX_FRAMES];
static unsigned int nframes, next_frame;
static uint8_t before[RAM], allowed[RAM];
static bool overlap; /* buffers or rings share bytes: contents not comparable */

static uint8_t frame_byte(const struct frame *f, uint32_t i)
{
	return (uint8_t)(i * 31 + f->seed);
}

static ssize_t be_recv(void *opaque, const struct iovec *iov, int iovcnt)
{
	struct frame *f;
	uint64_t room = 0;
	uint32_t at = 0;

	(void)opaque;
	if (next_frame == nframes)
		return -EAGAIN;
	f = &frames[next_frame++];
	for (int i = 0; i < iovcnt; i++) {
		uint8_t *p = iov[i].iov_base;

		if (!vq_check_in_ram(p, iov[i].iov_len))
			vq_check_fail("recv into a buffer outside RAM");
		for (size_t j = 0; j < iov[i].iov_len && at < f->len; j++)
			p[j] = frame_byte(f, at++);
		room += iov[i].iov_len;
	}
	f->whole = f->len >= CVMM_VIRTIO_NET_HDR_LEN && f->len <= room;
	if (next_frame == nframes)
		cvmm_eventfd_drain(fz.be_fd, NULL);
	return f->len;
}

static ssize_t be_send(void *opaque, const struct iovec *iov, int iovcnt)
{
	(void)opaque;
	(void)iov;
	(void)iovcnt;
	return 0;
}

static const struct cvmm_virtio_net_backend_ops be_ops = {.recv = be_recv, .send = be_send};

static void init(void)
{
	fz_init(&be_ops);
}

static void allow(uint64_t gpa, uint64_t len)
{
	for (uint64_t i = 0; i < len && gpa + i < RAM; i++) {
		overlap |= allowed[gpa + i];
		allowed[gpa + i] = 1;
	}
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v = 0;

	cvmm_mem_read(fz.mem, gpa, &v, 2);
	return v;
}

/* Read bytes [off, off + n) of a chain's writable buffers. */
static void chain_bytes(const struct buf *b, int nb, uint32_t off, uint8_t *dst, uint32_t n)
{
	for (int i = 0; i < nb && n; i++) {
		if (!b[i].writable)
			continue;
		if (off >= b[i].len) {
			off -= b[i].len;
			continue;
		}
		uint32_t take = b[i].len - off < n ? b[i].len - off : n;

		cvmm_mem_read(fz.mem, b[i].gpa + off, dst, take);
		dst += take;
		n -= take;
		off = 0;
	}
}

/* Check the used ring against the frames handed over whole. */
static void check_used(uint32_t qsz, uint64_t features)
{
	static uint8_t got[CVMM_VIRTIO_NET_MAX_FRAME + 4096];
	static struct buf bufs[MAX_BUFS];
	uint16_t nused = get16(RX_USED + 2), e = 0;
	unsigned int fi = 0;

	if (overlap) /* later writes may have overwritten earlier frames */
		return;

	while (e < nused) {
		uint32_t id, len, total = 0, want_parts, parts = 0;
		const struct frame *f;

		cvmm_mem_read(fz.mem, RX_USED + 4 + 8ull * (e % qsz), &id, 4);
		cvmm_mem_read(fz.mem, RX_USED + 8 + 8ull * (e % qsz), &len, 4);
		e++;
		if (len == 0)
			continue; /* a chain the device could not use */
		while (fi < next_frame && !frames[fi].whole)
			fi++;
		if (fi == next_frame)
			vq_check_fail("used element with %u bytes but no frame delivered", len);
		f = &frames[fi++];
		want_parts = 1;
		for (;;) {
			int nb = walk_chain(before, RX_DESC, qsz, (uint16_t)id, bufs, MAX_BUFS);

			if (nb < 0 || total + len > sizeof(got))
				vq_check_fail("used chain %u cannot be walked", id);
			chain_bytes(bufs, nb, 0, got + total, len);
			total += len;
			if (++parts == 1)
				want_parts = got[10] | got[11] << 8;
			if (parts == want_parts)
				break;
			if (e == nused)
				vq_check_fail("frame of %u buffers, only %u used", want_parts,
					      parts);
			cvmm_mem_read(fz.mem, RX_USED + 4 + 8ull * (e % qsz), &id, 4);
			cvmm_mem_read(fz.mem, RX_USED + 8 + 8ull * (e % qsz), &len, 4);
			e++;
			if (len == 0)
				vq_check_fail("empty buffer inside a frame");
		}
		if (total != f->len)
			vq_check_fail("frame of %u bytes delivered as %u", f->len, total);
		if (!(features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_MRG_RXBUF)) && want_parts != 1)
			vq_check_fail("num_buffers %u without MRG_RXBUF", want_parts);
		for (uint32_t i = 0; i < total; i++) {
			uint8_t want = frame_byte(f, i);

			if (i == 0 && !(features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_CSUM)))
				want = 0;
			if (i == 10 || i == 11)
				continue;
			if (got[i] != want)
				vq_check_fail("frame byte %u is %#x, want %#x", i, got[i], want);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct buf bufs[MAX_BUFS];
	uint64_t features = CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1);
	unsigned long failures;
	uint32_t qsz;
	uint16_t idx;
	size_t ring_len, pos;

	if (size < 4)
		return 0;
	if (!fz.loop)
		init();
	fz_wr(0x70, 0);
	cvmm_eventfd_drain(fz.be_fd, NULL);
	failures = vq_check_pop_failures();
	if (data[0] & 1)
		features |= CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_MRG_RXBUF);
	if (data[0] & 2)
		features |= CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_CSUM);
	if (data[0] & 4)
		features |= CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_TSO4);
	if (data[0] & 8)
		features |= CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX);
	qsz = 1u << (data[1] % 7);
	idx = data[2] % (2 * qsz + 1);
	/* Frames from the input's end: count, then (len16, seed) each. */
	nframes = next_frame = 0;
	pos = size;
	for (unsigned int n = data[3] % (MAX_FRAMES + 1); n && pos >= 4 + 3; n--) {
		pos -= 3;
		frames[nframes++] =
		    (struct frame){.len = (uint32_t)(data[pos] | data[pos + 1] << 8) * 2 %
					  (CVMM_VIRTIO_NET_MAX_FRAME + 200),
				   .seed = data[pos + 2]};
	}
	ring_len = pos - 4 < 6 * RING_BYTES ? pos - 4 : 6 * RING_BYTES;
	cvmm_mem_fill(fz.mem, 0, 0, RAM);
	cvmm_mem_write(fz.mem, 0, data + 4, ring_len);
	cvmm_mem_write(fz.mem, RX_AVAIL + 2, &idx, 2);
	cvmm_mem_fill(fz.mem, RX_USED, 0, RING_BYTES);
	cvmm_mem_fill(fz.mem, TX_AVAIL, 0, 2 * RING_BYTES);
	for (uint32_t i = 0x6000; i < RAM; i++) /* something to notice writes by */
		fz.ram[i] = (uint8_t)(i * 13);
	memcpy(before, fz.ram, RAM);
	memset(allowed, 0, sizeof(allowed));
	overlap = false;
	allow(RX_USED, 6 + 8ull * qsz);
	for (uint32_t a = 0; a < idx && a < qsz; a++) {
		int nb = walk_chain(before, RX_DESC, qsz, get16(RX_AVAIL + 4 + 2ull * a), bufs,
				    MAX_BUFS);

		for (int i = 0; i < nb; i++)
			if (bufs[i].writable)
				allow(bufs[i].gpa, bufs[i].len);
	}
	if (nframes)
		cvmm_eventfd_signal(fz.be_fd);

	fz_activate(features, qsz, 8);
	fz_wr(CVMM_VIRTIO_MMIO_NOTIFY, 0);
	for (int i = 0; i < LOOP_TURNS && cvmm_loop_run_once(fz.loop, 0) > 0; i++)
		;
	if (vq_check_pop_failures() != failures) {
		if (!(cvmm_virtio_mmio_status(fz.m) & CVMM_VIRTIO_STATUS_NEEDS_RESET))
			vq_check_fail("a pop failed but the device did not ask for a reset");
	} else {
		check_used(qsz, features);
	}
	for (uint32_t i = 0; i < RAM; i++)
		if (fz.ram[i] != before[i] && !allowed[i])
			vq_check_fail("guest byte %#x written outside the posted buffers", i);
	fz_wr(0x70, 0);
	return 0;
}

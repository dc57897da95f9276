// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock over virtio-mmio: the input is a sequence of guest packets
 * (arbitrary headers, lengths and descriptor splits) on the tx queue, with rx
 * buffers posted between them; SEQPACKET is negotiated. A STREAM host listener
 * on port 1 accepts guest connections, writes a byte and closes; a SEQPACKET
 * one on port 2 accepts, sends a message and keeps the socket unread until
 * the input ends, so guest messages queue in the device (max_conns 4). After
 * each step it checks:
 *   - outside the rx buffers (and the rings), guest memory is untouched;
 *   - each used rx element's length is at most its buffer, is at least a
 *     header, and equals the header's len field + 44 (the bytes written);
 *   - every tx chain comes back with used.len 0;
 *   - the device never holds more than max_conns connections.
 * Input: [0] bit 0-5: rx buffers posted at first; then 48-byte records:
 * [0] split of the chain's bytes, [1] payload length / 4 KiB,
 * [2] bit 0: src_cid is the guest's, bit 1: dst_cid is the host's, bits 2-7:
 * rx buffers to post after it; [3..46] the header (ports masked to 0..3).
 */
#include <cvmm/virtio-vsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RAM (4u << 20)
#define QSZ 64u
#define RXQ 0x1000
#define TXQ 0x4000
#define RXBUF 0x100000 /* QSZ x 4 KiB */
#define TXBUF 0x200000 /* 2 x 64 KiB + header, reused */
#define GUARD 0xa5
#define CID 9
#define HDR 44u
#define MAX_CONNS 4u

static struct cvmm_mem *mem;
static struct cvmm_loop *loop;
static struct cvmm_virtio_vsock *vs;
static struct cvmm_virtio_mmio *m;
static char path[64];
static int lfd = -1, seq_lfd = -1;
static int held[8]; /* accepted SEQPACKET sockets, closed after each input */
static unsigned int nheld;
static uint16_t rx_avail, rx_used, tx_avail, tx_used, rx_desc, tx_desc;

#define HARNESS __attribute__((no_sanitize("coverage"), noinline))

static void wr(uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(m, off, &v, 4);
}

static void quiet(void *o, const char *line)
{
	(void)o;
	(void)line;
}

static void trap(const char *what)
{
	fprintf(stderr, "fuzz-virtio-vsock: %s\n", what);
	__builtin_trap();
}

static void put16(uint64_t gpa, uint16_t v)
{
	cvmm_mem_write(mem, gpa, &v, 2);
}

static void desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	uint8_t d[16];

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	cvmm_mem_write(mem, table + 16ull * i, d, 16);
}

static void run(void)
{
	for (int i = 0; i < 64 && cvmm_loop_run_once(loop, 0) > 0; i++)
		;
}

static HARNESS void post_rx(unsigned int n)
{
	for (unsigned int i = 0; i < n && (uint16_t)(rx_avail - rx_used) < QSZ; i++) {
		uint16_t d = rx_desc++ % QSZ;

		desc(RXQ, d, RXBUF + 4096ull * d, 4096, 2, 0);
		put16(RXQ + 0x1000 + 4 + 2 * (rx_avail % QSZ), d);
		rx_avail++;
		put16(RXQ + 0x1000 + 2, rx_avail);
	}
	wr(0x50, 0);
	run();
}

static HARNESS void check(void)
{
	uint16_t idx;
	const uint8_t *p;

	cvmm_mem_read(mem, RXQ + 0x2000 + 2, &idx, 2);
	for (; rx_used != idx; rx_used++) {
		uint32_t e[2];
		struct cvmm_vsock_hdr h;

		cvmm_mem_read(mem, RXQ + 0x2000 + 4 + 8ull * (rx_used % QSZ), e, 8);
		if (e[0] >= QSZ || e[1] > 4096 || e[1] < HDR)
			trap("rx used element out of bounds");
		cvmm_mem_read(mem, RXBUF + 4096ull * e[0], &h, HDR);
		if (h.len + HDR != e[1] || h.dst_cid != CID || h.src_cid != 2)
			trap("rx used.len differs from the packet written");
	}
	cvmm_mem_read(mem, TXQ + 0x2000 + 2, &idx, 2);
	for (; tx_used != idx; tx_used++) {
		uint32_t e[2];

		cvmm_mem_read(mem, TXQ + 0x2000 + 4 + 8ull * (tx_used % QSZ), e, 8);
		if (e[1] != 0)
			trap("tx chain returned with a length");
	}
	p = cvmm_mem_ptr(mem, TXBUF + 0x30000, 0x10000);
	for (size_t i = 0; i < 0x10000; i++)
		if (p[i] != GUARD)
			trap("write outside the rx buffers");
	if (cvmm_virtio_vsock_nr_conns(vs) > MAX_CONNS)
		trap("more connections than max_conns");
}

static int host_listen(int type, uint32_t port)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, type | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", path, port);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	listen(fd, 64);
	return fd;
}

static void setup(void)
{
	static char dir[] = "/tmp/fuzz-vsock.XXXXXX";

	cvmm_mem_create(&mem, RAM, NULL);
	cvmm_loop_create(&loop);
	mkdtemp(dir);
	snprintf(path, sizeof(path), "%s/v", dir);
	lfd = host_listen(SOCK_STREAM, 1);
	seq_lfd = host_listen(SOCK_SEQPACKET, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvmm_virtio_vsock_opts o = {
	    .guest_cid = CID, .queue_size = QSZ, .max_conns = MAX_CONNS, .buf_alloc = 8192};
	struct cvmm_virtio_mmio_opts mo = {.name = "fuzz", .log = quiet};
	const uint32_t ok = 1 | 2 | 8;
	int afd;

	if (!mem)
		setup();
	if (size < 1)
		return 0;
	o.loop = loop;
	o.uds_path = path;
	if (cvmm_virtio_vsock_create(&vs, &o) < 0)
		trap(cvmm_err_msg());
	mo.mem = mem;
	mo.dev = cvmm_virtio_vsock_device(vs);
	mo.loop = loop;
	cvmm_virtio_mmio_create(&m, &mo);
	cvmm_mem_fill(mem, 0, 0, RAM);
	cvmm_mem_fill(mem, TXBUF + 0x30000, GUARD, 0x10000);
	rx_avail = rx_used = tx_avail = tx_used = rx_desc = tx_desc = 0;
	wr(0x70, 1);
	wr(0x70, 3);
	wr(0x24, 0);
	wr(0x20, 1u << CVMM_VSOCK_F_SEQPACKET);
	wr(0x24, 1);
	wr(0x20, 1);
	wr(0x70, ok);
	for (unsigned int q = 0; q < 2; q++) {
		uint32_t base = q ? TXQ : RXQ;

		wr(0x30, q);
		wr(0x38, QSZ);
		wr(0x80, base);
		wr(0x90, base + 0x1000);
		wr(0xa0, base + 0x2000);
		wr(0x44, 1);
	}
	wr(0x70, ok | 4);
	post_rx(data[0] & 63);
	check();
	for (size_t off = 1; off + 47 <= size; off += 47) {
		const uint8_t *r = data + off;
		struct cvmm_vsock_hdr h;
		uint32_t plen = (uint32_t)r[1] * 4096 % 0x10400, total, split;
		uint16_t d = (uint16_t)(tx_desc % QSZ);

		memcpy(&h, r + 3, HDR);
		h.src_port &= 3;
		h.dst_port &= 3;
		if (r[2] & 1)
			h.src_cid = CID;
		if (r[2] & 2)
			h.dst_cid = 2;
		total = HDR + plen;
		cvmm_mem_write(mem, TXBUF, &h, HDR);
		split = r[0] % (total + 1);
		if (split == 0 || split == total) {
			desc(TXQ, d, TXBUF, total, 0, 0);
		} else {
			desc(TXQ, d, TXBUF, split, 1, (uint16_t)((d + 1) % QSZ));
			desc(TXQ, (uint16_t)((d + 1) % QSZ), TXBUF + split, total - split, 0, 0);
		}
		put16(TXQ + 0x1000 + 4 + 2 * (tx_avail % QSZ), d);
		tx_desc += split == 0 || split == total ? 1 : 2;
		tx_avail++;
		put16(TXQ + 0x1000 + 2, tx_avail);
		wr(0x50, 1);
		run();
		while ((afd = accept(lfd, NULL, NULL)) >= 0) {
			/* The guest's connection gets data, then the host leaves. */
			if (write(afd, "x", 1) < 0)
				trap("host write");
			close(afd);
		}
		while ((afd = accept(seq_lfd, NULL, NULL)) >= 0) {
			if (send(afd, "msg", 3, 0) != 3)
				trap("host send");
			if (nheld < sizeof(held) / sizeof(held[0]))
				held[nheld++] = afd;
			else
				close(afd);
		}
		post_rx(r[2] >> 2);
		check();
	}
	cvmm_virtio_mmio_destroy(m);
	cvmm_virtio_vsock_destroy(vs);
	run();
	while (nheld)
		close(held[--nheld]);
	return 0;
}

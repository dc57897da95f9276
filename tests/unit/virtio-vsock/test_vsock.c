// SPDX-License-Identifier: Apache-2.0
/* virtio-vsock through virtio-mmio with a simulated driver and real UNIX
 * sockets as the host side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/virtio-vsock.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vqdrv.h"

#define RAM (8u << 20)
#define QSZ 64
#define RXQ 0x1000 /* rings: desc, avail, used 0x1000 apart per queue */
#define TXQ 0x4000
#define EVQ 0x7000
#define RXBUF 0x100000 /* QSZ buffers of 4 KiB + header, 8 KiB apart */
#define TXBUF 0x300000
#define CID 42
#define H sizeof(struct cvmm_vsock_hdr)

static uint32_t pkt_flags; /* flags of the next packet sent */
static uint16_t pkt_type;  /* type of the packets sent (the fixture sets STREAM) */

struct fx {
	char dir[64], path[96];
	struct cvmm_mem *mem;
	struct cvmm_loop *loop;
	struct cvmm_virtio_vsock *v;
	struct cvmm_virtio_mmio *m;
	struct vqdrv rx, tx, ev;
	uint64_t rx_gpa[QSZ]; /* by head: where that rx buffer's header lies */
	unsigned int rx_out;  /* rx buffers posted and not used yet */
	unsigned int tx_next;
};

static void wr(struct fx *f, uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(f->m, off, &v, 4);
}

static void run(struct fx *f)
{
	while (cvmm_loop_run_once(f->loop, 0) > 0)
		;
}

static void queue(struct fx *f, struct vqdrv *d, unsigned int q, uint64_t base)
{
	vqdrv_init(d, f->mem, QSZ, base, base + 0x1000, base + 0x2000);
	wr(f, 0x30, q);
	wr(f, 0x38, QSZ);
	wr(f, 0x80, (uint32_t)base);
	wr(f, 0x90, (uint32_t)base + 0x1000);
	wr(f, 0xa0, (uint32_t)base + 0x2000);
	wr(f, 0x44, 1);
}

/* Post rx buffers split as a header descriptor and a 4 KiB data one. */
static void post_rx(struct fx *f, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t gpa = RXBUF + (uint64_t)(f->rx.next_desc / 2) * 0x2000;
		struct vqdrv_buf b[2] = {{gpa, H, true}, {gpa + 0x100, 4096, true}};
		uint16_t head = vqdrv_add(&f->rx, b, 2);

		f->rx_gpa[head] = gpa;
	}
	f->rx_out += n;
	wr(f, 0x50, 0);
	run(f);
}

/* As many rx buffers as the ring holds (two descriptors each). */
static void refill(struct fx *f)
{
	post_rx(f, QSZ / 2 - f->rx_out);
}

static void quiet(void *o, const char *line)
{
	(void)o;
	(void)line;
}

static void fx_open(void **state, unsigned int max_conns, uint32_t buf_alloc, uint32_t tmo,
		    bool seqpacket)
{
	struct fx *f = calloc(1, sizeof(*f));
	const uint32_t ok = 1 | 2 | 8;
	struct cvmm_virtio_vsock_opts o = {.guest_cid = CID,
					   .queue_size = QSZ,
					   .max_conns = max_conns,
					   .buf_alloc = buf_alloc,
					   .request_timeout_ms = tmo,
					   .shutdown_timeout_ms = tmo};
	struct cvmm_virtio_mmio_opts mo = {.name = "vsock-test", .log = quiet};

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vsock-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/v.sock", f->dir);
	assert_int_equal(cvmm_mem_create(&f->mem, RAM, NULL), 0);
	assert_int_equal(cvmm_loop_create(&f->loop), 0);
	o.loop = f->loop;
	o.uds_path = f->path;
	assert_int_equal(cvmm_virtio_vsock_create(&f->v, &o), 0);
	mo.mem = f->mem;
	mo.dev = cvmm_virtio_vsock_device(f->v);
	mo.loop = f->loop;
	assert_int_equal(cvmm_virtio_mmio_create(&f->m, &mo), 0);
	wr(f, 0x70, 1);
	wr(f, 0x70, 3);
	if (seqpacket) {
		wr(f, 0x24, 0);
		wr(f, 0x20, 1u << CVMM_VSOCK_F_SEQPACKET);
	}
	wr(f, 0x24, 1);
	wr(f, 0x20, 1); /* VERSION_1 */
	wr(f, 0x70, ok);
	queue(f, &f->rx, 0, RXQ);
	queue(f, &f->tx, 1, TXQ);
	queue(f, &f->ev, 2, EVQ);
	wr(f, 0x70, ok | 4);
	run(f);
	pkt_type = CVMM_VSOCK_TYPE_STREAM;
	*state = f;
}

static int setup(void **state)
{
	fx_open(state, 0, 0, 0, false);
	return 0;
}

static int setup_small(void **state)
{
	fx_open(state, 2, 4096, 50, false);
	return 0;
}

static int setup_2s(void **state)
{
	fx_open(state, 0, 0, 2000, false);
	return 0;
}

static int setup_seq(void **state)
{
	fx_open(state, 0, 0, 0, true);
	return 0;
}

static int setup_seq_small(void **state)
{
	fx_open(state, 2, 4096, 50, true);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cvmm_virtio_mmio_destroy(f->m);
	cvmm_virtio_vsock_destroy(f->v);
	cvmm_loop_destroy(f->loop);
	cvmm_mem_destroy(f->mem);
	assert_int_equal(access(f->path, F_OK), -1); /* unlinked */
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct cvmm_vsock_hdr mkhdr(uint16_t op, uint32_t src_port, uint32_t dst_port,
				   uint32_t hdr_len)
{
	struct cvmm_vsock_hdr h = {.src_cid = CID,
				   .dst_cid = 2,
				   .src_port = src_port,
				   .dst_port = dst_port,
				   .len = hdr_len,
				   .type = pkt_type,
				   .op = op,
				   .flags = pkt_flags,
				   .buf_alloc = 65536,
				   .fwd_cnt = 0};

	pkt_flags = 0;
	return h;
}

/* Send a guest packet with header h and len bytes of payload; split (0:
 * header and payload in one descriptor) cuts the chain's bytes into two
 * descriptors at that offset. */
static void send_raw(struct fx *f, const struct cvmm_vsock_hdr *h, const void *data, uint32_t len,
		     uint32_t split)
{
	uint64_t gpa = TXBUF + (uint64_t)(f->tx_next++ % QSZ) * 0x12000;
	uint32_t total = (uint32_t)H + len;
	struct vqdrv_buf b[2] = {{gpa, split ? split : total, false},
				 {gpa + 0x10000, total - split, false}};
	uint8_t *p = malloc(total);

	memcpy(p, h, H);
	if (len)
		memcpy(p + H, data, len);
	if (split) {
		cvmm_mem_write(f->mem, gpa, p, split);
		cvmm_mem_write(f->mem, gpa + 0x10000, p + split, total - split);
	} else {
		cvmm_mem_write(f->mem, gpa, p, total);
	}
	free(p);
	vqdrv_add(&f->tx, b, split ? 2 : 1);
	wr(f, 0x50, 1);
	run(f);
}

static void send_pkt(struct fx *f, uint16_t op, uint32_t src_port, uint32_t dst_port,
		     const void *data, uint32_t len, uint32_t hdr_len, uint32_t split)
{
	struct cvmm_vsock_hdr h = mkhdr(op, src_port, dst_port, hdr_len);

	send_raw(f, &h, data, len, split);
}

/* Next packet the device put on rx: 1 with header (and up to cap payload
 * bytes in data), 0 if none. */
static int recv_pkt(struct fx *f, struct cvmm_vsock_hdr *h, void *data, size_t cap)
{
	uint32_t id, len;

	if (!vqdrv_get_used(&f->rx, &id, &len))
		return 0;
	f->rx_out--;
	assert_true(len >= H);
	assert_int_equal(cvmm_mem_read(f->mem, f->rx_gpa[id], h, H), 0);
	assert_int_equal(len, H + h->len);
	assert_true(h->len <= 4096);
	if (data && h->len)
		assert_int_equal(
		    cvmm_mem_read(f->mem, f->rx_gpa[id] + 0x100, data, h->len < cap ? h->len : cap),
		    0);
	assert_int_equal(h->src_cid, 2);
	assert_int_equal(h->dst_cid, CID);
	return 1;
}

static int host_listen_type(struct fx *f, uint32_t port, int type)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, type, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", f->path, port);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static int host_listen(struct fx *f, uint32_t port)
{
	return host_listen_type(f, port, SOCK_STREAM);
}

/* A host client that sends len bytes of line. */
static int host_connect_n(struct fx *f, const char *line, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, line, len), (ssize_t)len);
	run(f);
	return fd;
}

static int host_connect(struct fx *f, const char *line)
{
	return host_connect_n(f, line, strlen(line));
}

static void test_config_and_credit(void **state)
{
	struct fx *f = *state;
	uint64_t cid = 0;
	uint32_t feat = 0;

	cvmm_virtio_mmio_read(f->m, 0x100, &cid, 8);
	assert_int_equal(cid, CID);
	/* The hybrid back end keeps message boundaries itself. */
	wr(f, 0x14, 0);
	cvmm_virtio_mmio_read(f->m, 0x10, &feat, 4);
	assert_int_equal(feat & (1u << CVMM_VSOCK_F_SEQPACKET), 1u << CVMM_VSOCK_F_SEQPACKET);
	/* Wrapping counters: 100 bytes in flight across the 2^32 boundary. */
	assert_int_equal(cvmm_vsock_credit(1000, 0xffffffc0u, 0x24u), 900);
	assert_int_equal(cvmm_vsock_credit(1000, 5, 5), 1000);
	assert_int_equal(cvmm_vsock_credit(1000, 0, 1001), 0); /* peer lies */
	assert_false(cvmm_vsock_cid_valid(2));
	assert_false(cvmm_vsock_cid_valid(0xffffffffULL));
	assert_false(cvmm_vsock_cid_valid(1ULL << 32));
	assert_true(cvmm_vsock_cid_valid(3));
}

static void test_refused(void **state)
{
	struct fx *f = *state;
	struct cvmm_vsock_hdr h;

	post_rx(f, 4);
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, 1000, 7777, NULL, 0, 0, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RST);
	assert_int_equal(h.src_port, 7777);
	assert_int_equal(h.dst_port, 1000);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
}

/* Guest -> host with the header split at byte 10 and at byte 50 (inside the
 * payload): the host gets the bytes, the guest the host's reply. */
static void test_guest_to_host(void **state)
{
	struct fx *f = *state;
	struct cvmm_virtio_vsock_stats st;
	struct cvmm_vsock_hdr h;
	char buf[64] = {0};
	int lfd = host_listen(f, 5000), fd;

	post_rx(f, 8);
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, 1000, 5000, NULL, 0, 0, 10);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RESPONSE);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	send_pkt(f, CVMM_VSOCK_OP_RW, 1000, 5000, "hello, host", 11, 11, 10);
	send_pkt(f, CVMM_VSOCK_OP_RW, 1000, 5000, "!!", 2, 2, 50 - 4);
	assert_int_equal(read(fd, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "hello, host!!");
	assert_int_equal(write(fd, "hi", 2), 2);
	run(f);
	assert_int_equal(recv_pkt(f, &h, buf, sizeof(buf)), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RW);
	assert_int_equal(h.len, 2);
	assert_memory_equal(buf, "hi", 2);
	/* Host shuts its write side: the guest is told it will get no more. */
	shutdown(fd, SHUT_WR);
	run(f);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_SHUTDOWN);
	assert_int_equal(h.flags, CVMM_VSOCK_SHUTDOWN_SEND);
	/* Guest still sends, then shuts its side: the host reads EOF. */
	send_pkt(f, CVMM_VSOCK_OP_RW, 1000, 5000, "x", 1, 1, 0);
	pkt_flags = CVMM_VSOCK_SHUTDOWN_SEND;
	send_pkt(f, CVMM_VSOCK_OP_SHUTDOWN, 1000, 5000, NULL, 0, 0, 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 1);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	send_pkt(f, CVMM_VSOCK_OP_RST, 1000, 5000, NULL, 0, 0, 0);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
	/* Counted: 14 bytes in 3 RW packets out, 2 bytes in 1 RW packet back. */
	cvmm_virtio_vsock_stats(f->v, &st);
	assert_int_equal(st.tx_bytes, 14);
	assert_int_equal(st.tx_packets, 6); /* REQUEST, 3 RW, SHUTDOWN, RST */
	assert_int_equal(st.rx_bytes, 2);
	assert_int_equal(st.rx_packets, 3); /* RESPONSE, RW, SHUTDOWN */
	assert_int_equal(st.conns_opened, 1);
	assert_int_equal(st.conns_killed, 0);
	close(fd);
	close(lfd);
}

/* An orderly close (the guest shuts both sides, its data delivered) ends
 * with the device's RST, and is not counted as a connection killed. */
static void test_orderly_close(void **state)
{
	struct fx *f = *state;
	struct cvmm_virtio_vsock_stats st;
	struct cvmm_vsock_hdr h;
	char buf[8];
	int lfd = host_listen(f, 5001), fd;

	post_rx(f, 8);
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, 1001, 5001, NULL, 0, 0, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RESPONSE);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	send_pkt(f, CVMM_VSOCK_OP_RW, 1001, 5001, "bye", 3, 3, 0);
	pkt_flags = CVMM_VSOCK_SHUTDOWN_SEND | CVMM_VSOCK_SHUTDOWN_RCV;
	send_pkt(f, CVMM_VSOCK_OP_SHUTDOWN, 1001, 5001, NULL, 0, 0, 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	run(f);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RST);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
	cvmm_virtio_vsock_stats(f->v, &st);
	assert_int_equal(st.conns_opened, 1);
	assert_int_equal(st.conns_killed, 0);
	close(fd);
	close(lfd);
}

static void test_host_to_guest(void **state)
{
	struct fx *f = *state;
	struct cvmm_vsock_hdr h;
	char buf[64] = {0};
	int fd;

	post_rx(f, 8);
	fd = host_connect(f, "CONNECT 1234\nearly");
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_REQUEST);
	assert_int_equal(h.dst_port, 1234);
	send_pkt(f, CVMM_VSOCK_OP_RESPONSE, 1234, h.src_port, NULL, 0, 0, 0);
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	assert_int_equal(strncmp(buf, "OK ", 3), 0);
	assert_int_equal((uint32_t)strtoul(buf + 3, NULL, 10), h.src_port);
	run(f);
	assert_int_equal(recv_pkt(f, &h, buf, sizeof(buf)), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RW);
	assert_memory_equal(buf, "early", 5);
	/* The client vanishes: the guest hears the connection is gone. */
	close(fd);
	run(f);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_SHUTDOWN);
	assert_int_equal(h.flags, CVMM_VSOCK_SHUTDOWN_SEND | CVMM_VSOCK_SHUTDOWN_RCV);
}

static void test_bad_hello(void **state)
{
	struct fx *f = *state;
	/* A NUL inside the port, a line one byte over the bound. */
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {{"HELLO 1\n", 8},
		   {"CONNECT 5\00000\n", 13}, /* \000, then "00" */
		   {"CONNECT 000000000000000000000005\n", 33}};
	char c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = host_connect_n(f, bad[i].s, bad[i].len);

		/* Closed; a reset when the device left the line's end unread. */
		assert_true(read(fd, &c, 1) <= 0);
		close(fd);
		assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
	}
}

/* The word in any case, and a line of exactly 32 bytes with its newline. */
static void test_hello_forms(void **state)
{
	struct fx *f = *state;
	static const char *const good[] = {"connect 77\n", "CoNnEcT 78\n",
					   "CONNECT 00000000000000000000079\n"};
	struct cvmm_vsock_hdr h;
	int fd[3];

	post_rx(f, 8);
	for (uint32_t i = 0; i < 3; i++) {
		fd[i] = host_connect(f, good[i]);
		assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
		assert_int_equal(h.op, CVMM_VSOCK_OP_REQUEST);
		assert_int_equal(h.dst_port, 77 + i);
	}
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}

/* buf_alloc 4096: a guest that sends more than its credit is reset. */
static void test_overrun(void **state)
{
	struct fx *f = *state;
	struct cvmm_virtio_vsock_stats st;
	static char big[5000];
	struct cvmm_vsock_hdr h;
	char c;
	int lfd = host_listen(f, 6000), fd;

	post_rx(f, 8);
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, 1, 6000, NULL, 0, 0, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RESPONSE);
	assert_int_equal(h.buf_alloc, 4096);
	fd = accept(lfd, NULL, NULL);
	send_pkt(f, CVMM_VSOCK_OP_RW, 1, 6000, big, sizeof(big), sizeof(big), 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RST);
	assert_int_equal(read(fd, &c, 1), 0);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
	cvmm_virtio_vsock_stats(f->v, &st);
	assert_int_equal(st.conns_killed, 1);
	assert_int_equal(st.tx_bytes, 0); /* nothing of the overrun forwarded */
	close(fd);
	close(lfd);
}

/* A length beyond the chain's payload: reset, nothing forwarded. A chain
 * shorter than a header is returned and ignored. */
static void test_bad_len(void **state)
{
	struct fx *f = *state;
	struct cvmm_vsock_hdr h;
	struct vqdrv_buf tiny = {TXBUF, 8, false};
	uint32_t id, len;
	char c;
	int lfd = host_listen(f, 6001), fd;

	post_rx(f, 8);
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, 1, 6001, NULL, 0, 0, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	fd = accept(lfd, NULL, NULL);
	vqdrv_add(&f->tx, &tiny, 1);
	wr(f, 0x50, 1);
	run(f);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 0);
	send_pkt(f, CVMM_VSOCK_OP_RW, 1, 6001, "abc", 3, 4000, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RST);
	assert_int_equal(read(fd, &c, 1), 0);
	while (vqdrv_get_used(&f->tx, &id, &len))
		assert_int_equal(len, 0);
	close(fd);
	close(lfd);
}

/* max_conns 2: a third REQUEST is reset, the first two stay. */
static void test_limit(void **state)
{
	struct fx *f = *state;
	struct cvmm_vsock_hdr h;
	int lfd = host_listen(f, 6002);

	post_rx(f, 8);
	for (uint32_t p = 1; p <= 3; p++) {
		send_pkt(f, CVMM_VSOCK_OP_REQUEST, p, 6002, NULL, 0, 0, 0);
		assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
		assert_int_equal(h.op, p <= 2 ? CVMM_VSOCK_OP_RESPONSE : CVMM_VSOCK_OP_RST);
	}
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 2);
	close(lfd);
}

/* A REQUEST the guest never answers times out: client closed, guest told. */
static void test_request_timeout(void **state)
{
	struct fx *f = *state;
	struct cvmm_vsock_hdr h;
	char c;
	int fd;

	post_rx(f, 8);
	fd = host_connect(f, "CONNECT 99\n");
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_REQUEST);
	for (int i = 0; i < 100 && cvmm_virtio_vsock_nr_conns(f->v); i++)
		cvmm_loop_run_once(f->loop, 100);
	assert_int_equal(read(fd, &c, 1), 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RST);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
	close(fd);
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void run_for_ms(struct fx *f, uint64_t ms)
{
	uint64_t end = ms_now() + ms;

	while (ms_now() < end)
		cvmm_loop_run_once(f->loop, 50);
}

/* Timeout 2 s: a REQUEST that waited 1.2 s for an rx buffer still gives the
 * guest its full time to answer (here 1.2 s after getting it). */
static void test_request_timeout_from_delivery(void **state)
{
	struct fx *f = *state;
	struct cvmm_vsock_hdr h;
	char buf[32] = {0};
	int fd;

	fd = host_connect(f, "CONNECT 99\n");
	run_for_ms(f, 1200);
	post_rx(f, 8);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_REQUEST);
	run_for_ms(f, 1200);
	send_pkt(f, CVMM_VSOCK_OP_RESPONSE, 99, h.src_port, NULL, 0, 0, 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	assert_int_equal(strncmp(buf, "OK ", 3), 0);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 1);
	close(fd);
}

/* No rx buffers: nothing is read from the host; posting them resumes. */
static void test_backpressure(void **state)
{
	struct fx *f = *state;
	struct cvmm_vsock_hdr h;
	char buf[64];
	int lfd = host_listen(f, 6003), fd;

	post_rx(f, 1);
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, 1, 6003, NULL, 0, 0, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	fd = accept(lfd, NULL, NULL);
	assert_int_equal(write(fd, "data", 4), 4);
	run(f);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 0);
	post_rx(f, 1);
	assert_int_equal(recv_pkt(f, &h, buf, sizeof(buf)), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RW);
	assert_memory_equal(buf, "data", 4);
	close(fd);
	close(lfd);
}

static void test_transport_reset(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf b = {0x500000, 4, true};
	uint32_t id, len, evt = 77;
	int lfd = host_listen(f, 6004), fd;
	struct cvmm_vsock_hdr h;
	char c;

	post_rx(f, 2);
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, 1, 6004, NULL, 0, 0, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	fd = accept(lfd, NULL, NULL);
	assert_int_equal(cvmm_virtio_vsock_transport_reset(f->v), -ENOBUFS);
	vqdrv_add(&f->ev, &b, 1);
	assert_int_equal(cvmm_virtio_vsock_transport_reset(f->v), 0);
	run(f);
	assert_int_equal(vqdrv_get_used(&f->ev, &id, &len), 1);
	assert_int_equal(len, 4);
	cvmm_mem_read(f->mem, 0x500000, &evt, 4);
	assert_int_equal(evt, CVMM_VSOCK_EVENT_TRANSPORT_RESET);
	assert_int_equal(read(fd, &c, 1), 0);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
	close(fd);
	close(lfd);
}

/* ---- a hostile guest: each test then shows another connection still
 * carries data both ways, and the device needs no reset ---- */

#define HP 6100	 /* the host listener's port */
#define GOOD 500 /* the well-behaved connection's guest port */

/* Guest port gp connected to host port HP (listener lfd): the host's end. */
static int open_conn(struct fx *f, int lfd, uint32_t gp)
{
	struct cvmm_vsock_hdr h;
	int fd;

	refill(f);
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, gp, HP, NULL, 0, 0, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RESPONSE);
	assert_int_equal(h.dst_port, gp);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

struct seen {
	unsigned int ops[CVMM_VSOCK_OP_CREDIT_REQUEST + 1];
	uint32_t port; /* RW payload to this guest port is counted */
	size_t bytes;
	uint32_t reset; /* an RST to this guest port is counted */
	unsigned int resets;
};

/* Take every packet the device has for the guest, posting rx buffers as they
 * are used. */
static void drain(struct fx *f, struct seen *sn)
{
	struct cvmm_vsock_hdr h;

	for (;;) {
		refill(f);
		if (!recv_pkt(f, &h, NULL, 0))
			return;
		assert_true(h.op >= CVMM_VSOCK_OP_REQUEST && h.op <= CVMM_VSOCK_OP_CREDIT_REQUEST);
		sn->ops[h.op]++;
		if (h.op == CVMM_VSOCK_OP_RW && h.dst_port == sn->port)
			sn->bytes += h.len;
		if (h.op == CVMM_VSOCK_OP_RST && h.dst_port == sn->reset)
			sn->resets++;
	}
}

/* The connection GOOD <-> HP (host end fd) carries "ping" to the host and
 * "pong" back; the device asks for no reset. */
static void check_alive(struct fx *f, int fd)
{
	struct cvmm_vsock_hdr h;
	char buf[64] = {0};
	uint32_t status = 0;

	cvmm_virtio_mmio_read(f->m, 0x70, &status, 4);
	assert_int_equal(status & CVMM_VIRTIO_STATUS_NEEDS_RESET, 0);
	send_pkt(f, CVMM_VSOCK_OP_RW, GOOD, HP, "ping", 4, 4, 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(write(fd, "pong", 4), 4);
	run(f);
	do {
		refill(f);
		assert_int_equal(recv_pkt(f, &h, buf, sizeof(buf)), 1);
	} while (h.op != CVMM_VSOCK_OP_RW || h.dst_port != GOOD);
	assert_int_equal(h.src_port, HP);
	assert_int_equal(h.len, 4);
	assert_memory_equal(buf, "pong", 4);
}

/* The host end of a connection the device reset: closed. */
static void assert_closed(int fd)
{
	char c;

	assert_true(read(fd, &c, 1) <= 0);
	close(fd);
}

/* Headers that are not ours, of another type, an unknown op, and chains too
 * short for a header. */
static void test_hostile_headers(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf tiny = {TXBUF, 8, false};
	int lfd = host_listen(f, HP);
	int good = open_conn(f, lfd, GOOD), bad = open_conn(f, lfd, 501);
	struct seen sn = {.reset = 501};
	struct cvmm_vsock_hdr h;

	/* Another guest's CID, or a peer other than the host, on the good
	 * connection's ports: dropped, data and RST alike. */
	h = mkhdr(CVMM_VSOCK_OP_RW, GOOD, HP, 4);
	h.src_cid = CID + 1;
	send_raw(f, &h, "evil", 4, 0);
	h = mkhdr(CVMM_VSOCK_OP_RST, GOOD, HP, 0);
	h.src_cid = (uint64_t)CID << 32 | CID;
	send_raw(f, &h, NULL, 0, 0);
	h = mkhdr(CVMM_VSOCK_OP_RST, GOOD, HP, 0);
	h.dst_cid = 3;
	send_raw(f, &h, NULL, 0, 0);
	/* SEQPACKET and an unknown type, for no connection and for one. */
	h = mkhdr(CVMM_VSOCK_OP_REQUEST, 502, HP, 0);
	h.type = 2;
	send_raw(f, &h, NULL, 0, 0);
	h = mkhdr(CVMM_VSOCK_OP_RW, 503, HP, 1);
	h.type = 0xffff;
	send_raw(f, &h, "x", 1, 0);
	for (uint16_t op = 0; op < 20; op += 8) /* 0, 8, 16: no such ops */
		send_pkt(f, op, 504, HP, NULL, 0, 0, 0);
	send_pkt(f, 0xffff, 501, HP, NULL, 0, 0, 0); /* resets that connection */
	for (int i = 0; i < 3; i++) {
		vqdrv_add(&f->tx, &tiny, 1);
		wr(f, 0x50, 1);
		run(f);
	}
	drain(f, &sn);
	assert_int_equal(sn.ops[CVMM_VSOCK_OP_RESPONSE], 0);
	assert_int_equal(sn.resets, 1);
	assert_closed(bad);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 1);
	check_alive(f, good);
	close(good);
	close(lfd);
}

/* Length fields past the chain's payload, past the largest payload, and
 * short of the payload sent. */
static void test_hostile_lengths(void **state)
{
	struct fx *f = *state;
	static char big[CVMM_VSOCK_MAX_PAYLOAD + 1];
	int lfd = host_listen(f, HP);
	int good = open_conn(f, lfd, GOOD), a = open_conn(f, lfd, 501), b = open_conn(f, lfd, 502);
	struct seen sn = {0};
	char buf[16];

	send_pkt(f, CVMM_VSOCK_OP_RW, 501, HP, "abc", 3, 4000, 0);
	send_pkt(f, CVMM_VSOCK_OP_RW, 502, HP, big, sizeof(big), sizeof(big), 0);
	send_pkt(f, CVMM_VSOCK_OP_RW, 503, HP, "abc", 3, 0xffffffffu, 0);
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, 504, HP, "abc", 3, 4, 0);
	/* Only the header's len bytes go to the host; the rest is ignored. */
	send_pkt(f, CVMM_VSOCK_OP_RW, GOOD, HP, "abXXXX", 6, 2, 0);
	assert_int_equal(read(good, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "ab", 2);
	drain(f, &sn);
	assert_int_equal(sn.ops[CVMM_VSOCK_OP_RST], 4);
	assert_int_equal(sn.ops[CVMM_VSOCK_OP_RESPONSE], 0);
	assert_closed(a);
	assert_closed(b);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 1);
	check_alive(f, good);
	close(good);
	close(lfd);
}

static int setup_flood(void **state)
{
	fx_open(state, 4, 0, 0, false);
	return 0;
}

/* max_conns 4: 300 REQUESTs while the guest posts no more rx buffers, then
 * 100 posting them. Three more connections open, the rest are refused, the
 * replies owed to refused ones wait in bounded numbers, and a freed slot is
 * usable again. */
static void test_hostile_flood(void **state)
{
	struct fx *f = *state;
	int lfd = host_listen(f, HP);
	int good = open_conn(f, lfd, GOOD), fd;
	unsigned int posted = f->rx_out;
	struct seen sn = {0};

	for (uint32_t gp = 1000; gp < 1300; gp++) {
		send_pkt(f, CVMM_VSOCK_OP_REQUEST, gp, gp % 2 ? HP : HP + 1, NULL, 0, 0, 0);
		assert_true(cvmm_virtio_vsock_nr_conns(f->v) <= 4);
	}
	drain(f, &sn);
	assert_int_equal(sn.ops[CVMM_VSOCK_OP_RESPONSE], 3);
	assert_true(sn.ops[CVMM_VSOCK_OP_RST] >= 1);
	assert_true(sn.ops[CVMM_VSOCK_OP_RST] <= posted + 64);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 4);
	/* With buffers posted, every refusal is answered. */
	memset(&sn, 0, sizeof(sn));
	for (uint32_t gp = 2000; gp < 2100; gp++) {
		send_pkt(f, CVMM_VSOCK_OP_REQUEST, gp, HP, NULL, 0, 0, 0);
		drain(f, &sn);
	}
	assert_int_equal(sn.ops[CVMM_VSOCK_OP_RST], 100);
	assert_int_equal(sn.ops[CVMM_VSOCK_OP_RESPONSE], 0);
	check_alive(f, good);
	/* The guest drops the flood's connections: their slots serve again. */
	for (int i = 0; i < 3; i++)
		close(accept(lfd, NULL, NULL));
	for (uint32_t gp = 1001; gp < 1300; gp += 2)
		send_pkt(f, CVMM_VSOCK_OP_RST, gp, HP, NULL, 0, 0, 0);
	drain(f, &sn);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 1);
	fd = open_conn(f, lfd, 3000);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 2);
	check_alive(f, good);
	close(fd);
	close(good);
	close(lfd);
}

static int setup_4k(void **state)
{
	fx_open(state, 0, 4096, 0, false);
	return 0;
}

/* buf_alloc 4096. A guest that sends past the credit it was given; one that
 * claims to have consumed data it never got, with a huge buffer; and one
 * that gives no credit at all. */
static void test_hostile_credit(void **state)
{
	struct fx *f = *state;
	static char big[5000], data[16384];
	int lfd = host_listen(f, HP);
	int good = open_conn(f, lfd, GOOD), over = open_conn(f, lfd, 501);
	int liar = open_conn(f, lfd, 502), mute = open_conn(f, lfd, 503);
	struct cvmm_vsock_hdr h;
	struct seen sn = {.port = 503};

	send_pkt(f, CVMM_VSOCK_OP_RW, 501, HP, big, sizeof(big), sizeof(big), 0);
	/* 2^31 bytes consumed of the none it was sent, of a 4 GiB buffer:
	 * all it gets is what the host writes, in buffers that fit. */
	h = mkhdr(CVMM_VSOCK_OP_CREDIT_UPDATE, 502, HP, 0);
	h.fwd_cnt = 0x80000000u;
	h.buf_alloc = 0xffffffffu;
	send_raw(f, &h, NULL, 0, 0);
	h = mkhdr(CVMM_VSOCK_OP_CREDIT_UPDATE, 503, HP, 0);
	h.buf_alloc = 0;
	send_raw(f, &h, NULL, 0, 0);
	/* No credit: nothing for 503, however much the host wrote. */
	assert_int_equal(write(mute, data, sizeof(data)), (ssize_t)sizeof(data));
	run(f);
	drain(f, &sn);
	assert_int_equal(sn.bytes, 0);
	sn.port = 502;
	assert_int_equal(write(liar, data, sizeof(data)), (ssize_t)sizeof(data));
	run(f);
	drain(f, &sn);
	assert_int_equal(sn.bytes, sizeof(data));
	assert_closed(over);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 3);
	check_alive(f, good);
	close(mute);
	close(liar);
	close(good);
	close(lfd);
}

static void test_create_errors(void **state)
{
	struct fx *f = *state;
	struct cvmm_virtio_vsock *v;
	struct cvmm_virtio_vsock_opts o = {.loop = f->loop, .guest_cid = 2, .uds_path = f->path};
	char other[128];
	FILE *fp;

	assert_int_equal(cvmm_virtio_vsock_create(&v, &o), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "guest_cid"));
	o.guest_cid = 3;
	assert_int_equal(cvmm_virtio_vsock_create(&v, &o), -EADDRINUSE);
	snprintf(other, sizeof(other), "%s/file", f->dir);
	fp = fopen(other, "w");
	fclose(fp);
	o.uds_path = other;
	assert_int_equal(cvmm_virtio_vsock_create(&v, &o), -EEXIST);
	assert_non_null(strstr(cvmm_err_msg(), "uds_path"));
	unlink(other);
}

/* ---- SEQPACKET ---------------------------------------------------------- */

/* Open a guest SEQPACKET connection from guest port gp to a SEQPACKET
 * listener on host port hp; returns the host's accepted socket. */
static int seq_open(struct fx *f, int lfd, uint32_t gp, uint32_t hp)
{
	struct cvmm_vsock_hdr h;
	int fd;

	pkt_type = CVMM_VSOCK_TYPE_SEQPACKET;
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, gp, hp, NULL, 0, 0, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RESPONSE);
	assert_int_equal(h.type, CVMM_VSOCK_TYPE_SEQPACKET);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

static void send_rw(struct fx *f, uint32_t gp, uint32_t hp, const char *s, uint32_t flags)
{
	pkt_flags = flags;
	send_pkt(f, CVMM_VSOCK_OP_RW, gp, hp, s, (uint32_t)strlen(s), (uint32_t)strlen(s), 0);
}

/* Two guest messages in several fragments arrive as exactly two host
 * messages; while the host does not read, they wait and keep apart. */
static void test_seq_guest_to_host(void **state)
{
	struct fx *f = *state;
	int lfd = host_listen_type(f, 7000, SOCK_SEQPACKET), fd;
	char buf[64];

	post_rx(f, 8);
	fd = seq_open(f, lfd, 1000, 7000);
	send_rw(f, 1000, 7000, "one-", 0);
	send_rw(f, 1000, 7000, "two-", 0);
	send_rw(f, 1000, 7000, "three", CVMM_VSOCK_SEQ_EOM);
	send_rw(f, 1000, 7000, "ab", 0);
	send_rw(f, 1000, 7000, "", 0);
	send_rw(f, 1000, 7000, "c", CVMM_VSOCK_SEQ_EOM | CVMM_VSOCK_SEQ_EOR);
	send_rw(f, 1000, 7000, "whole", CVMM_VSOCK_SEQ_EOM);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 13);
	assert_memory_equal(buf, "one-two-three", 13);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 5);
	assert_memory_equal(buf, "whole", 5);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	close(fd);
	close(lfd);
}

/* A host socket that takes nothing more (EAGAIN): complete messages queue
 * in the credit's buffer, behind them a partial one; once the host reads,
 * each arrives whole and the guest gets its credit back. */
static void test_seq_host_slow(void **state)
{
	struct fx *f = *state;
	int lfd = host_listen_type(f, 7001, SOCK_SEQPACKET), fd;
	static char big[3000], buf[4096];
	struct cvmm_vsock_hdr h;
	unsigned int sent = 0, got = 0;
	uint32_t credit_fwd = 0;
	bool full = false;

	memset(big, 'q', sizeof(big) - 1);
	post_rx(f, 32);
	fd = seq_open(f, lfd, 1001, 7001);
	/* Fill the host socket until messages stay queued in the device. */
	for (int i = 0; i < 2000 && cvmm_virtio_vsock_nr_conns(f->v) == 1; i++) {
		big[0] = (char)('A' + i % 26);
		send_rw(f, 1001, 7001, big, CVMM_VSOCK_SEQ_EOM);
		sent++;
		if (recv_pkt(f, &h, NULL, 0)) {
			assert_int_equal(h.op, CVMM_VSOCK_OP_CREDIT_UPDATE);
			credit_fwd = h.fwd_cnt;
			post_rx(f, 1);
		}
		/* Stop when, by the guest's count, the next message and the
		 * tail would not fit the credit: the device holds the rest. */
		if ((sent * 2999u - credit_fwd) + 2999u + 8 > 256u * 1024) {
			full = true;
			break;
		}
	}
	assert_true(full);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 1);
	send_rw(f, 1001, 7001, "tail-", 0);
	send_rw(f, 1001, 7001, "end", CVMM_VSOCK_SEQ_EOM);
	sent++;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			run(f);
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0)
				break;
		}
		got++;
		if (got < sent) {
			assert_int_equal(n, 2999);
			assert_int_equal(buf[0], 'A' + (got - 1) % 26);
		} else {
			assert_int_equal(n, 8);
			assert_memory_equal(buf, "tail-end", 8);
		}
	}
	assert_int_equal(got, sent);
	close(fd);
	close(lfd);
}

/* Host messages reach the guest with EOM (and EOR) on each message's last
 * packet; one larger than an rx buffer is split, its boundary kept. */
static void test_seq_host_to_guest(void **state)
{
	struct fx *f = *state;
	int lfd = host_listen_type(f, 7002, SOCK_SEQPACKET), fd;
	static char big[6000], got[6000];
	struct cvmm_vsock_hdr h;
	char buf[4096];
	uint32_t off = 0;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)i;
	post_rx(f, 8);
	fd = seq_open(f, lfd, 1002, 7002);
	assert_int_equal(send(fd, "hi", 2, 0), 2);
	assert_int_equal(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(send(fd, "x", 1, 0), 1);
	run(f);
	assert_int_equal(recv_pkt(f, &h, buf, sizeof(buf)), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RW);
	assert_int_equal(h.type, CVMM_VSOCK_TYPE_SEQPACKET);
	assert_int_equal(h.len, 2);
	assert_int_equal(h.flags, CVMM_VSOCK_SEQ_EOM | CVMM_VSOCK_SEQ_EOR);
	assert_memory_equal(buf, "hi", 2);
	do {
		assert_int_equal(recv_pkt(f, &h, buf, sizeof(buf)), 1);
		assert_int_equal(h.op, CVMM_VSOCK_OP_RW);
		memcpy(got + off, buf, h.len);
		off += h.len;
		assert_int_equal(h.flags,
				 off == sizeof(big) ? CVMM_VSOCK_SEQ_EOM | CVMM_VSOCK_SEQ_EOR : 0);
	} while (off < sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	assert_int_equal(recv_pkt(f, &h, buf, sizeof(buf)), 1);
	assert_int_equal(h.len, 1);
	assert_int_equal(h.flags, CVMM_VSOCK_SEQ_EOM | CVMM_VSOCK_SEQ_EOR);
	/* The host leaves: the guest is told. */
	close(fd);
	run(f);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_SHUTDOWN);
	assert_int_equal(h.type, CVMM_VSOCK_TYPE_SEQPACKET);
	close(lfd);
}

/* A SEQPACKET REQUEST to a STREAM listener, or to none, is refused with an
 * RST of its own type (Linux ignores one of another type). */
static void test_seq_refused(void **state)
{
	struct fx *f = *state;
	int lfd = host_listen(f, 7003);
	struct cvmm_vsock_hdr h;

	post_rx(f, 4);
	pkt_type = CVMM_VSOCK_TYPE_SEQPACKET;
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, 1003, 7003, NULL, 0, 0, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RST);
	assert_int_equal(h.type, CVMM_VSOCK_TYPE_SEQPACKET);
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, 1003, 7999, NULL, 0, 0, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RST);
	assert_int_equal(h.type, CVMM_VSOCK_TYPE_SEQPACKET);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
	close(lfd);
}

/* Without the feature negotiated, SEQPACKET is refused even to a listener. */
static void test_seq_not_negotiated(void **state)
{
	struct fx *f = *state;
	int lfd = host_listen_type(f, 7004, SOCK_SEQPACKET);
	struct cvmm_vsock_hdr h;

	post_rx(f, 4);
	pkt_type = CVMM_VSOCK_TYPE_SEQPACKET;
	send_pkt(f, CVMM_VSOCK_OP_REQUEST, 1004, 7004, NULL, 0, 0, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RST);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
	close(lfd);
}

/* buf_alloc 4096: a message whose fragments overrun the credit is reset,
 * none of it forwarded; so is a packet of the wrong type on a connection. */
static void test_seq_overrun(void **state)
{
	struct fx *f = *state;
	int lfd = host_listen_type(f, 7005, SOCK_SEQPACKET), fd;
	static char part[1500];
	struct cvmm_vsock_hdr h;
	char c;

	memset(part, 'p', sizeof(part) - 1);
	post_rx(f, 8);
	fd = seq_open(f, lfd, 1005, 7005);
	send_rw(f, 1005, 7005, part, 0);
	send_rw(f, 1005, 7005, part, 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 0);
	send_rw(f, 1005, 7005, part, CVMM_VSOCK_SEQ_EOM); /* 4497 > 4096 */
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RST);
	assert_int_equal(recv(fd, &c, 1, 0), 0);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
	close(fd);

	fd = seq_open(f, lfd, 1006, 7005);
	pkt_type = CVMM_VSOCK_TYPE_STREAM;
	send_rw(f, 1006, 7005, "s", 0);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RST);
	assert_int_equal(recv(fd, &c, 1, 0), 0);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
	close(fd);
	close(lfd);
}

/* buf_alloc 4096, a host that reads only when the guest is out of credit:
 * messages sent as Linux sends them (fragments as large as the credit
 * allows, EOM on the last) wrap around the device's buffer and arrive whole
 * and in order. A small message then one of nearly the buffer's size: the
 * guest runs out of credit with the device holding only the second's start,
 * so the device must return the first's credit at once. */
#define SEQ_WRAP_LEN(m) ((m) % 2 ? 3900u : 500u)
static void test_seq_wrap(void **state)
{
	struct fx *f = *state;
	int lfd = host_listen_type(f, 7007, SOCK_SEQPACKET), fd;
	static char msg[3900], buf[4096];
	struct cvmm_vsock_hdr h;
	uint32_t sent = 0, fwd = 0; /* guest bytes sent; the device's fwd_cnt as last heard */
	unsigned int next = 0;

	post_rx(f, 8);
	fd = seq_open(f, lfd, 1008, 7007);
	for (unsigned int m = 0; m < 40; m++) {
		uint32_t off = 0, len = SEQ_WRAP_LEN(m);

		memset(msg, 'a' + m % 26, len);
		while (off < len) {
			uint32_t n = 4096 - (sent - fwd);

			n = n < len - off ? n : len - off;
			if (n) {
				pkt_flags = off + n == len ? CVMM_VSOCK_SEQ_EOM : 0;
				send_pkt(f, CVMM_VSOCK_OP_RW, 1008, 7007, msg + off, n, n, 0);
				off += n;
				sent += n;
			} else {
				/* No credit and no update: the device must hold a
				 * whole message the host has yet to take. */
				assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT),
						 SEQ_WRAP_LEN(next));
				assert_int_equal(buf[0], 'a' + next++ % 26);
				run(f);
			}
			while (recv_pkt(f, &h, NULL, 0)) {
				assert_int_equal(h.op, CVMM_VSOCK_OP_CREDIT_UPDATE);
				fwd = h.fwd_cnt;
				post_rx(f, 1);
			}
		}
	}
	while (next < 40) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			run(f);
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		}
		assert_int_equal(n, SEQ_WRAP_LEN(next));
		assert_int_equal(buf[0], 'a' + next % 26);
		assert_int_equal(buf[n - 1], buf[0]);
		next++;
	}
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 1);
	close(fd);
	close(lfd);
}

/* A host message larger than the guest could ever hold resets the
 * connection rather than leave the guest waiting for its end. */
static void test_seq_host_too_big(void **state)
{
	struct fx *f = *state;
	int lfd = host_listen_type(f, 7006, SOCK_SEQPACKET), fd;
	static char big[70000];
	struct cvmm_vsock_hdr h;

	post_rx(f, 8);
	fd = seq_open(f, lfd, 1007, 7006); /* the guest's buf_alloc: 65536 */
	assert_int_equal(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	run(f);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(h.op, CVMM_VSOCK_OP_RST);
	assert_int_equal(cvmm_virtio_vsock_nr_conns(f->v), 0);
	close(fd);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config_and_credit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_guest_to_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_orderly_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_host_to_guest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_hello, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hello_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overrun, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_len, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limit, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_request_timeout, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_request_timeout_from_delivery, setup_2s, teardown),
	    cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transport_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_headers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_lengths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_flood, setup_flood, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_credit, setup_4k, teardown),
	    cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_guest_to_host, setup_seq, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_host_slow, setup_seq, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_host_to_guest, setup_seq, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_refused, setup_seq, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_not_negotiated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_overrun, setup_seq_small, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_host_too_big, setup_seq, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_wrap, setup_seq_small, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

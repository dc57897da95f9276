/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to cvmm-virtio-vsock. */
#ifndef CVMM_VIRTIO_VSOCK_IMPL_H
#define CVMM_VIRTIO_VSOCK_IMPL_H

#include <cvmm/vhost.h>
#include <cvmm/virtio-vsock.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define VQ_RX 0u
#define VQ_TX 1u
#define VQ_EVENT 2u
#define VSOCK_MAX_ORPHANS 64u
#define VSOCK_LINE_MAX 32u /* bytes of a CONNECT line, its newline included */

enum conn_state {
	CONN_FREE,
	CONN_HELLO,    /* host client connected, reading its CONNECT line */
	CONN_TO_GUEST, /* REQUEST sent (or queued), awaiting RESPONSE */
	CONN_OPEN,
	CONN_CLOSING, /* guest shut both ways: draining host-bound data */
	CONN_DOOMED,  /* host fd closed; an RST to the guest is queued */
};

/* Control packets a connection owes the guest (bit mask). */
#define PEND_REQUEST 1u
#define PEND_RESPONSE 2u
#define PEND_SHUTDOWN 4u
#define PEND_CREDIT 8u
#define PEND_RST 16u

struct vconn {
	struct cvmm_virtio_vsock *v;
	enum conn_state state;
	bool dead;     /* dropped by a reset: the loop thread closes fd */
	bool on_list;  /* in the rx work list */
	bool readable; /* the host fd has data (or EOF) we have not read */
	bool subscribed;
	bool host_eof;	   /* read() returned 0 */
	bool host_hup;	   /* the host closed both directions */
	bool host_shut_wr; /* shutdown(fd, SHUT_WR) done */
	bool guest_no_rcv, guest_no_send;
	int fd;
	uint32_t events; /* epoll mask asked for */
	uint32_t pending;
	uint32_t shut_flags; /* of the SHUTDOWN owed */
	uint32_t host_port, guest_port;
	/* Credit the guest gave us, and what we sent it. */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	/* Credit we gave the guest: bytes received, forwarded, last advertised. */
	uint32_t rx_cnt, fwd_cnt, fwd_cnt_sent;
	uint8_t *buf; /* host-bound ring of v->buf_alloc bytes, lazily allocated */
	uint32_t buf_head, buf_len;
	/* SEQPACKET: eom has a bit per ring byte, set where a message ends;
	 * seq_partial bytes at the ring's tail await their EOM. msg holds the
	 * host's message being delivered to the guest (msg_off of msg_len sent). */
	uint16_t type;
	uint64_t *eom;
	uint32_t seq_partial;
	uint8_t *msg;
	uint32_t msg_len, msg_off;
	uint64_t deadline; /* ns; 0: none */
	uint8_t line_len;
	char line[VSOCK_LINE_MAX];
	struct vconn *next; /* rx work list */
};

struct orphan {
	uint32_t host_port, guest_port;
	uint16_t type; /* of the packet answered: Linux drops an RST of another type */
};

/*
 * Locking: `lock` guards everything below it. Loop callbacks (notify, kick,
 * sockets, timers) run on the loop thread; activate/reset/transport_reset
 * come from other threads and never touch the loop (reset marks connections
 * dead and kicks, the loop thread closes them).
 */
struct cvmm_virtio_vsock {
	struct cvmm_virtio_device dev;
	struct cvmm_loop *loop;
	uint64_t guest_cid;
	uint8_t config[8];
	char *uds_path;
	int listen_fd;
	int kick_fd;
	int timer_fd;
	unsigned int max_conns;
	uint32_t buf_alloc;
	uint64_t request_timeout_ns, shutdown_timeout_ns;
	struct cvmm_ratelimit *rl;
	/* vhost=on */
	bool vhost_mode;
	struct cvmm_vhost *vhost;
	const struct cvmm_mem *mem;
	int call_fd;
	bool vhost_running;

	pthread_mutex_t lock;
	struct cvmm_virtio_transport *t; /* set by activate, cleared by reset */
	struct cvmm_virtq *vq[3];
	uint64_t features;
	bool failed;
	bool need_reap; /* dead connections to close on the loop thread */
	struct vconn *conns;
	unsigned int nr_conns;
	uint32_t next_host_port;
	struct vconn *list_head, *list_tail;
	struct orphan orphans[VSOCK_MAX_ORPHANS];
	unsigned int orphan_head, nr_orphans;
	uint64_t armed_deadline;
	struct cvmm_virtq_chain rx_chain, tx_chain;
	struct iovec *scratch; /* queue_max_size entries: payload ranges for readv/writev */
	bool rx_held, tx_held; /* popped and not used yet (a refused rate limit, ...) */
	struct {
		atomic_uint_fast64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
		atomic_uint_fast64_t conns_opened, conns_killed;
	} cnt; /* cvmm_virtio_vsock_stats() */
};

#define VSOCK_COUNT(v, field, n)                                                                   \
	atomic_fetch_add_explicit(&(v)->cnt.field, (n), memory_order_relaxed)

/* conn.c: the data path; called with the lock held on the loop thread. */
void vsock_tx_run(struct cvmm_virtio_vsock *v);
void vsock_rx_run(struct cvmm_virtio_vsock *v);
void vsock_conn_event(struct cvmm_virtio_vsock *v, struct vconn *c, uint32_t events);
void vsock_timers(struct cvmm_virtio_vsock *v);
void vsock_reap(struct cvmm_virtio_vsock *v);
void vsock_accept(struct cvmm_virtio_vsock *v);
/* Close every connection's host fd (loop thread, or loop not running). */
void vsock_drop_all(struct cvmm_virtio_vsock *v);
/* One byte of a host client's "CONNECT <port>\n" into c->line: 0 when more
 * is wanted, 1 when the line is complete (*port set), -1 when it is bad or
 * would exceed VSOCK_LINE_MAX. */
int vsock_hello_byte(struct vconn *c, char ch, uint32_t *port);

/* uds.c: the hybrid back end. */
int vsock_uds_listen(struct cvmm_virtio_vsock *v, const char *path);
/* A non-blocking socket (SOCK_STREAM or SOCK_SEQPACKET) connected to
 * "<uds_path>_<port>", or -errno. */
int vsock_uds_connect(struct cvmm_virtio_vsock *v, uint32_t port, int type);

/* vhost.c */
int vsock_vhost_init(struct cvmm_virtio_vsock *v, const char *path);
int vsock_vhost_start(struct cvmm_virtio_vsock *v);
void vsock_vhost_stop(struct cvmm_virtio_vsock *v);
void vsock_vhost_fini(struct cvmm_virtio_vsock *v);

#endif

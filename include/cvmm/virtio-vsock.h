/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-virtio-vsock: a virtio socket device (device id 19) whose host side is
 * a set of UNIX sockets (the "hybrid" back end, compatible with Firecracker's
 * protocol; stream sockets, and SEQPACKET ones for the guest's SEQPACKET
 * connections), plugged into any cvmm-virtio transport.
 *
 * Host -> guest: a client connects to uds_path and writes "CONNECT <port>\n"
 * (the word in any case; at most 32 bytes with the newline); the device asks
 * the guest (REQUEST from a fresh host port H to guest port
 * <port>); when the guest accepts, the client reads "OK <H>\n" and then the
 * stream. A refusal, or no answer within the request timeout, closes the
 * client's socket.
 * Guest -> host: a guest connecting to host CID 2, port P, reaches a
 * listener the host runs on "<uds_path>_P"; if none accepts at once the
 * guest gets a reset (connection refused).
 *
 * Device: queues rx (0), tx (1) and event (2); config space guest_cid (le64);
 * features VERSION_1 (added by the transport), INDIRECT_DESC, EVENT_IDX and
 * SEQPACKET (1); with vhost=on, SEQPACKET only when the kernel's
 * vhost-vsock has it. Packet headers are read and written through the chain
 * cursors, so any split of the 44-byte header and payload between
 * descriptors works.
 *
 * SEQPACKET (hybrid back end, when negotiated): a guest SEQPACKET socket
 * connecting to host port P reaches a SOCK_SEQPACKET listener on
 * "<uds_path>_P" (none, or a STREAM one: reset). A guest message's RW
 * packets are gathered (within the credit) until the one flagged EOM and
 * sent to the host socket in one send(); each host recv() reaches the guest
 * as RW packets, EOM|EOR on the last. Empty messages are dropped both ways;
 * EOR from the guest is not passed on. A host message larger than buf_alloc
 * or the guest's buffer, a guest one the host socket cannot take whole
 * (EMSGSIZE), and a packet whose type is not its connection's reset the
 * connection. Host -> guest connections (CONNECT) are STREAM only.
 *
 * Flow control: each connection advertises buf_alloc bytes of host-bound
 * buffer and counts what it forwarded (fwd_cnt); data the host socket does
 * not take at once waits there. A guest that sends more than the credit it
 * was given has its connection reset. Towards the guest, the device never
 * sends more than the guest's advertised credit, all counters wrapping at
 * 2^32 as the spec says.
 *
 * Backpressure: a host socket is read only into a posted rx buffer; while the
 * guest posts none, or gives a connection no credit, that socket is not
 * polled. Connections are served round-robin, at most a queue's worth of
 * packets per queue and loop turn (then a kick eventfd resumes).
 *
 * Limits: at most max_conns connections (those still reading their CONNECT
 * line included); a REQUEST past the limit is answered with a reset, a host
 * client past it is closed. A host client must send its CONNECT line within
 * request_timeout_ms; the REQUEST then waits at most as long for an rx
 * buffer, and the guest must answer it within request_timeout_ms of getting
 * it (else the client is closed and the guest reset); a connection being
 * closed (its host-bound data still draining, or awaiting the guest's RST)
 * is dropped after shutdown_timeout_ms. At most 64 replies to packets for no
 * connection wait for rx buffers; more are dropped.
 *
 * Rate limit (optional): one limiter over the payload bytes in both
 * directions (and packets, for the ops bucket); a refused packet waits on the
 * limiter's timerfd, holding its queue.
 *
 * vhost=on: /dev/vhost-vsock (cvmm-vhost) runs rx and tx in the kernel; host
 * sockets are then AF_VSOCK ones and uds_path is unused. The event queue
 * stays here. A missing or refusing device is an error at create or at
 * activation; there is no fallback. Rate limits are refused with vhost.
 *
 * Threading: queue notifications, host sockets, timers and the kick run on
 * the loop's thread; activate and reset come from the transport (a vCPU) and
 * take the device mutex, as does every loop callback. Reset drops every
 * connection: their sockets are closed on the loop thread right after.
 * Destroy only when no callback of the loop can run (on its thread, or while
 * it is not running), after the transport.
 */
#ifndef CVMM_VIRTIO_VSOCK_H
#define CVMM_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <cvmm/memory.h>
#include <cvmm/ratelimit.h>
#include <cvmm/sys.h>
#include <cvmm/virtio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CVMM_VIRTIO_ID_VSOCK 19u
#define CVMM_VSOCK_HOST_CID 2u
#define CVMM_VSOCK_F_SEQPACKET 1u /* feature bit */

/* Packet header (virtio 1.2, 5.10.6), little-endian on the wire. */
struct cvmm_vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

#define CVMM_VSOCK_HDR_SIZE 44u
#define CVMM_VSOCK_TYPE_STREAM 1u
#define CVMM_VSOCK_TYPE_SEQPACKET 2u
#define CVMM_VSOCK_OP_REQUEST 1u
#define CVMM_VSOCK_OP_RESPONSE 2u
#define CVMM_VSOCK_OP_RST 3u
#define CVMM_VSOCK_OP_SHUTDOWN 4u
#define CVMM_VSOCK_OP_RW 5u
#define CVMM_VSOCK_OP_CREDIT_UPDATE 6u
#define CVMM_VSOCK_OP_CREDIT_REQUEST 7u
#define CVMM_VSOCK_SHUTDOWN_RCV 1u  /* the sender will receive no more */
#define CVMM_VSOCK_SHUTDOWN_SEND 2u /* the sender will send no more */
#define CVMM_VSOCK_SEQ_EOM 1u	    /* RW flags, SEQPACKET: last packet of a message */
#define CVMM_VSOCK_SEQ_EOR 2u	    /* ... and of a record (MSG_EOR) */
#define CVMM_VSOCK_EVENT_TRANSPORT_RESET 0u

/* Largest payload accepted in one guest packet (Linux sends at most 64 KiB). */
#define CVMM_VSOCK_MAX_PAYLOAD (64u * 1024)

/*
 * Credit arithmetic (wrapping at 2^32): bytes a sender may still send to a
 * peer that advertised buf_alloc and fwd_cnt, having sent tx_cnt so far.
 * 0 when the peer's numbers say it holds more than buf_alloc (a lie or a
 * shrunk buffer).
 */
static inline uint32_t cvmm_vsock_credit(uint32_t buf_alloc, uint32_t fwd_cnt, uint32_t tx_cnt)
{
	uint32_t in_flight = tx_cnt - fwd_cnt;

	return in_flight > buf_alloc ? 0 : buf_alloc - in_flight;
}

/* Whether a guest CID is usable: 3 .. 0xfffffffe (0-2 are reserved, -1 is
 * "any", and the spec reserves the upper 32 bits). */
static inline bool cvmm_vsock_cid_valid(uint64_t cid)
{
	return cid >= 3 && cid < 0xffffffffULL;
}

struct cvmm_virtio_vsock_opts {
	struct cvmm_loop *loop; /* required; must outlive the device */
	uint64_t guest_cid;	/* cvmm_vsock_cid_valid() */
	/* Hybrid back end (required unless vhost): the listening socket's path.
	 * A socket file left there by a dead process is replaced; anything else
	 * there is an error. "<uds_path>_<port>" must fit a sockaddr_un. */
	const char *uds_path;
	bool vhost;				/* rx/tx in the kernel, see above */
	const char *vhost_path;			/* NULL: /dev/vhost-vsock */
	const struct cvmm_mem *mem;		/* required with vhost (the memory table) */
	uint16_t queue_size;			/* power of two, 2..1024; 0: 256 */
	unsigned int max_conns;			/* 0: 256 */
	uint32_t buf_alloc;			/* host-bound buffer per connection; 0: 256 KiB */
	uint32_t request_timeout_ms;		/* 0: 5000 */
	uint32_t shutdown_timeout_ms;		/* 0: 5000 */
	const struct cvmm_ratelimit_cfg *limit; /* NULL: unlimited; copied */
};

struct cvmm_virtio_vsock;

/*
 * Build the device: check the options, bind and listen on uds_path (or open
 * the vhost device and set its guest CID), subscribe the listener, kick
 * eventfd and timerfd to o->loop. Returns 0 or -errno with a message naming
 * the field ("guest_cid", "uds_path", ...) or the vhost device: -EINVAL,
 * -EEXIST (uds_path exists and is not a stale socket), -EADDRINUSE (a live
 * listener has it), -ENAMETOOLONG, -ENOMEM, or a socket/vhost error.
 */
int cvmm_virtio_vsock_create(struct cvmm_virtio_vsock **out,
			     const struct cvmm_virtio_vsock_opts *o);

/* Description to hand to a transport; valid until destroy. */
const struct cvmm_virtio_device *cvmm_virtio_vsock_device(struct cvmm_virtio_vsock *v);

/*
 * Tell the guest its connections are gone (event VIRTIO_VSOCK_EVENT_TRANSPORT_RESET,
 * e.g. after a snapshot restore) and drop every connection. Any thread.
 * Returns 0, -ENODEV if the device is not active, -ENOBUFS if the guest
 * posted no event buffer (connections are dropped anyway).
 */
int cvmm_virtio_vsock_transport_reset(struct cvmm_virtio_vsock *v);

/* Connections held now (in any state). Any thread. */
unsigned int cvmm_virtio_vsock_nr_conns(struct cvmm_virtio_vsock *v);

/* Counters since create, for the hybrid back end's data path (with vhost=on
 * the kernel moves the data and they stay 0). rx is toward the guest, tx
 * from it; bytes are payload bytes. */
struct cvmm_virtio_vsock_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t conns_opened; /* connections that reached the open state, either side */
	uint64_t conns_killed; /* reset by the device, not closed in order: a protocol
				  breach, a credit overrun, a host socket error, a
				  timeout */
};

/* Read the counters; any thread (each counter is read atomically). */
void cvmm_virtio_vsock_stats(const struct cvmm_virtio_vsock *v,
			     struct cvmm_virtio_vsock_stats *out);

/* Close every socket, unlink uds_path, unsubscribe and free. Destroy the
 * transport first. NULL is ignored. */
void cvmm_virtio_vsock_destroy(struct cvmm_virtio_vsock *v);

#ifdef __cplusplus
}
#endif
#endif

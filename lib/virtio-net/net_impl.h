/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to cvmm-virtio-net. */
#ifndef CVMM_VIRTIO_NET_IMPL_H
#define CVMM_VIRTIO_NET_IMPL_H

#include <cvmm/vhost.h>
#include <cvmm/virtio-net.h>
#include <pthread.h>
#include <stdatomic.h>

#define NET_ETH_HLEN 14u
#define NET_HDR CVMM_VIRTIO_NET_HDR_LEN

/* Counters, bumped on the loop thread, read by any thread. */
struct net_counters {
	_Atomic uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	_Atomic uint64_t rx_drop_oversize, rx_drop_bad_buffer, rx_drop_backend;
	_Atomic uint64_t tx_drop_oversize, tx_drop_short, tx_drop_bad_header, tx_drop_backend;
};

#define NET_COUNT(n, field, v) atomic_fetch_add_explicit(&(n)->cnt.field, (v), memory_order_relaxed)

/*
 * Locking: `lock` guards everything below it. The data path (notifications,
 * the back end's fd, timers, kick, vhost's call eventfd) runs on the loop
 * thread; activate and reset come from the transport (a vCPU) and take the
 * same lock; reset_pending cuts a batch short so a reset waits for one frame
 * at most.
 */
struct cvmm_virtio_net {
	struct cvmm_virtio_device dev;
	struct cvmm_virtio_net_backend be;
	struct cvmm_loop *loop;
	const struct cvmm_mem *mem;
	uint8_t config[CVMM_VIRTIO_NET_CFG_SIZE];
	uint16_t qsz;
	uint16_t mtu; /* configured; 0: none */
	int kick_fd; /* resumes a batch cut at its budget; starts RX at activate */
	bool be_subscribed;
	struct net_counters cnt;
	atomic_bool reset_pending;
	pthread_mutex_t lock;
	struct cvmm_virtio_transport *t; /* set by activate, cleared by reset */
	struct cvmm_virtq *rxq, *txq;
	uint64_t features; /* acked */
	bool failed;	   /* asked the transport for a reset */
	/* RX: chains popped and not yet pushed, oldest first (a ring). */
	struct cvmm_virtq_chain *rx;
	unsigned int rx_head, rx_count;
	struct iovec *rx_iov; /* one read: up to IOV_MAX iovecs over the chains */
	uint32_t rx_need;     /* room a frame may need (see the header) */
	bool rx_polled;	      /* the back end's fd is watched for EPOLLIN */
	bool rx_parked;	      /* a whole frame read, waiting for the limiter */
	uint32_t rx_parked_len;
	struct cvmm_ratelimit *rx_rl;
	/* TX */
	struct cvmm_virtq_chain tx;
	struct iovec *tx_out; /* header copy + the frame's buffers */
	int tx_out_n;
	uint8_t tx_hdr[NET_HDR];
	bool tx_parked; /* tx popped and checked, waiting for the limiter */
	struct cvmm_ratelimit *tx_rl;
	/* vhost */
	struct cvmm_vhost *vhost;
	int call_fd; /* vhost's call eventfd, relayed to the transport */
	bool vhost_running;
};

/* rx.c */
void net_rx_process(struct cvmm_virtio_net *n);
void net_rx_forget(struct cvmm_virtio_net *n);
/* Room a frame may need for the acked features and the configured MTU. */
uint32_t net_rx_need(uint64_t features, uint16_t mtu);
/* tx.c */
void net_tx_process(struct cvmm_virtio_net *n);
/* Whether a guest's TX header (12 bytes as sent) is acceptable. */
bool net_tx_hdr_ok(const uint8_t *hdr, uint64_t features, uint64_t frame_len);
/* net.c */
void net_fail(struct cvmm_virtio_net *n, const char *what);
/* net_vhost.c */
int net_vhost_init(struct cvmm_virtio_net *n, const char *path);
int net_vhost_start(struct cvmm_virtio_net *n, struct cvmm_virtq *const *queues);
void net_vhost_stop(struct cvmm_virtio_net *n);
void net_vhost_fini(struct cvmm_virtio_net *n);

#endif

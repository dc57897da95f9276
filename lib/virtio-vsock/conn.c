// SPDX-License-Identifier: Apache-2.0
/* Connections: the packet state machine, credit, and both data paths. */
#include "vsock_impl.h"

#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))

static void conn_io(int fd, uint32_t events, void *opaque);

static uint64_t now_ns(void)
{
	return cvmm_now_ns();
}

/* ---- work list (connections owing the guest a packet) ---------------- */

static void list_del(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	struct vconn **pp = &v->list_head;

	if (!c->on_list)
		return;
	/* Singly linked and short: connections with work, at most max_conns. */
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	if (v->list_tail == c) {
		v->list_tail = NULL;
		for (struct vconn *p = v->list_head; p; p = p->next)
			v->list_tail = p;
	}
	c->next = NULL;
	c->on_list = false;
}

static void list_add(struct cvmm_virtio_vsock *v, struct vconn *c, bool front)
{
	if (c->on_list)
		return;
	c->on_list = true;
	if (front) {
		c->next = v->list_head;
		v->list_head = c;
		if (!v->list_tail)
			v->list_tail = c;
		return;
	}
	c->next = NULL;
	if (v->list_tail)
		v->list_tail->next = c;
	else
		v->list_head = c;
	v->list_tail = c;
}

static struct vconn *list_pop(struct cvmm_virtio_vsock *v)
{
	struct vconn *c = v->list_head;

	if (c) {
		v->list_head = c->next;
		if (!v->list_head)
			v->list_tail = NULL;
		c->next = NULL;
		c->on_list = false;
	}
	return c;
}

/* ---- connection life ---------------------------------------------------- */

static uint32_t conn_peer_credit(const struct vconn *c)
{
	return cvmm_vsock_credit(c->peer_buf_alloc, c->peer_fwd_cnt, c->tx_cnt);
}

static bool conn_seq(const struct vconn *c)
{
	return c->type == CVMM_VSOCK_TYPE_SEQPACKET;
}

/* Host-bound bytes the host socket may take now: not a message whose EOM
 * has yet to come. */
static uint32_t conn_out_len(const struct vconn *c)
{
	return c->buf_len - c->seq_partial;
}

/* A host message not yet wholly delivered to the guest. */
static bool conn_msg_left(const struct vconn *c)
{
	return c->msg_off < c->msg_len;
}

static bool conn_has_work(const struct vconn *c)
{
	if (c->pending)
		return true;
	return c->state == CONN_OPEN && (c->readable || conn_msg_left(c)) && !c->guest_no_rcv &&
	       conn_peer_credit(c) > 0;
}

static void conn_close_fd(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	if (c->fd < 0)
		return;
	if (c->subscribed)
		cvmm_loop_del(v->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->subscribed = false;
	c->events = 0;
}

static void conn_free(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	list_del(v, c);
	conn_close_fd(v, c);
	free(c->buf);
	free(c->eom);
	free(c->msg);
	*c = (struct vconn){.state = CONN_FREE, .fd = -1, .v = v};
	v->nr_conns--;
}

static struct vconn *conn_alloc(struct cvmm_virtio_vsock *v, enum conn_state state, int fd)
{
	if (v->nr_conns >= v->max_conns)
		return NULL;
	for (unsigned int i = 0; i < v->max_conns; i++) {
		struct vconn *c = &v->conns[i];

		if (c->state == CONN_FREE) {
			*c = (struct vconn){
			    .state = state, .fd = fd, .v = v, .type = CVMM_VSOCK_TYPE_STREAM};
			v->nr_conns++;
			return c;
		}
	}
	return NULL;
}

static struct vconn *conn_find(struct cvmm_virtio_vsock *v, uint32_t host_port, uint32_t guest_port)
{
	for (unsigned int i = 0; i < v->max_conns; i++) {
		struct vconn *c = &v->conns[i];

		if (c->state > CONN_HELLO && !c->dead && c->host_port == host_port &&
		    c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

static void timer_arm(struct cvmm_virtio_vsock *v, uint64_t deadline)
{
	uint64_t now = now_ns();

	if (v->armed_deadline && v->armed_deadline <= deadline)
		return;
	v->armed_deadline = deadline;
	cvmm_timerfd_arm(v->timer_fd, deadline > now ? deadline - now : 1, 0);
}

static void conn_deadline(struct cvmm_virtio_vsock *v, struct vconn *c, uint64_t after_ns)
{
	c->deadline = now_ns() + after_ns;
	timer_arm(v, c->deadline);
}

/* Subscribe the host fd to what the connection can use now, and queue it
 * for the rx path if it owes the guest something. */
static void conn_update(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	uint32_t want = 0;

	if (c->state == CONN_FREE || c->dead)
		return;
	if (c->state == CONN_HELLO)
		want = EPOLLIN;
	if (c->state == CONN_OPEN && !c->readable && !conn_msg_left(c) && !c->host_eof &&
	    !c->guest_no_rcv)
		want |= EPOLLIN;
	if ((c->state == CONN_OPEN || c->state == CONN_CLOSING) && conn_out_len(c))
		want |= EPOLLOUT;
	if (c->fd >= 0) {
		if (!c->subscribed && (want || !c->host_hup)) {
			c->subscribed = cvmm_loop_add(v->loop, c->fd, want, conn_io, c) == 0;
			c->events = want;
		} else if (c->subscribed && !want && c->host_hup) {
			/* epoll reports a hang-up even with no events asked for:
			 * unsubscribe until there is something to ask for. */
			cvmm_loop_del(v->loop, c->fd);
			c->subscribed = false;
			c->events = 0;
		} else if (c->subscribed && want != c->events) {
			cvmm_loop_set_events(v->loop, c->fd, want);
			c->events = want;
		}
	}
	if (conn_has_work(c))
		list_add(v, c, false);
}

/* Close the host socket and owe the guest an RST; the slot is freed once
 * it is sent. The end of an orderly close (both sides done) too. */
static void conn_end(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	conn_close_fd(v, c);
	c->state = CONN_DOOMED;
	c->pending = PEND_RST;
	c->readable = false;
	c->deadline = 0;
	list_add(v, c, false);
}

/* The guest broke the protocol, a host socket failed or a timeout passed:
 * the connection is reset (counted once, however many faults follow). */
static void conn_doom(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	if (c->state != CONN_DOOMED)
		VSOCK_COUNT(v, conns_killed, 1);
	conn_end(v, c);
}

static void orphan_rst(struct cvmm_virtio_vsock *v, const struct cvmm_vsock_hdr *h)
{
	if (v->nr_orphans == VSOCK_MAX_ORPHANS)
		return; /* the guest posts no rx buffers; it loses these replies */
	v->orphans[(v->orphan_head + v->nr_orphans) % VSOCK_MAX_ORPHANS] =
	    (struct orphan){h->dst_port, h->src_port, h->type};
	v->nr_orphans++;
}

/* ---- host-bound data ------------------------------------------------- */

static int ring_put(struct cvmm_virtio_vsock *v, struct vconn *c, const uint8_t *src, size_t len)
{
	if (!c->buf && !(c->buf = malloc(v->buf_alloc)))
		return -ENOMEM;
	if (conn_seq(c) && !c->eom &&
	    !(c->eom = calloc((v->buf_alloc + 63) / 64, sizeof(uint64_t))))
		return -ENOMEM;
	if (conn_seq(c))
		c->seq_partial += (uint32_t)len;
	while (len) {
		uint32_t tail = (c->buf_head + c->buf_len) % v->buf_alloc;
		size_t n = MIN(len, (size_t)(v->buf_alloc - tail));

		memcpy(c->buf + tail, src, n);
		c->buf_len += (uint32_t)n;
		src += n;
		len -= n;
	}
	return 0;
}

static void conn_credit_check(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	/* Each packet sent carries fwd_cnt; a dedicated update only when the
	 * guest's view lags by a quarter of the buffer, so it never stalls.
	 * SEQPACKET: also when by its count the guest has no credit left but
	 * we freed some, since the rest of a message may be what would free
	 * the quarter. */
	if (c->fwd_cnt - c->fwd_cnt_sent >= v->buf_alloc / 4 ||
	    (conn_seq(c) && c->fwd_cnt != c->fwd_cnt_sent &&
	     c->rx_cnt - c->fwd_cnt_sent >= v->buf_alloc))
		c->pending |= PEND_CREDIT;
}

/* After the host-bound buffer emptied: pass on the guest's shutdowns. */
static void conn_drained(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	if (c->buf_len)
		return;
	if (c->state == CONN_CLOSING) {
		conn_end(v, c);
		return;
	}
	if (c->guest_no_send && !c->host_shut_wr && c->fd >= 0) {
		shutdown(c->fd, SHUT_WR);
		c->host_shut_wr = true;
	}
}

static int stream_flush(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	while (c->buf_len) {
		uint32_t first = MIN(c->buf_len, v->buf_alloc - c->buf_head);
		struct iovec iov[2] = {
		    {c->buf + c->buf_head, first},
		    {c->buf, c->buf_len - first},
		};
		ssize_t n = writev(c->fd, iov, c->buf_len > first ? 2 : 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		c->buf_head = (c->buf_head + (uint32_t)n) % v->buf_alloc;
		c->buf_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	return 0;
}

/* Length of the complete message at the ring's head: up to the first end
 * mark (marks exist only for queued messages). */
static uint32_t seq_head_len(struct cvmm_virtio_vsock *v, const struct vconn *c)
{
	uint32_t pos = c->buf_head, done = 0;

	while (done < c->buf_len) {
		uint32_t span = MIN(64 - pos % 64, v->buf_alloc - pos);
		uint64_t w = c->eom[pos / 64] >> (pos % 64);

		if (w)
			return done + (uint32_t)__builtin_ctzll(w) + 1;
		done += span;
		pos = (pos + span) % v->buf_alloc;
	}
	return 0;
}

/* The message at the ring's tail got its EOM. */
static void seq_mark_end(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	uint32_t end = (c->buf_head + c->buf_len - 1) % v->buf_alloc;

	c->eom[end / 64] |= 1ull << (end % 64);
	c->seq_partial = 0;
}

/* One send per complete message: a SEQPACKET socket takes it whole or not
 * at all (EAGAIN), so the boundaries survive. */
static int seq_flush(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	while (conn_out_len(c)) {
		uint32_t len = seq_head_len(v, c);
		uint32_t first = MIN(len, v->buf_alloc - c->buf_head);
		uint32_t end = (c->buf_head + len - 1) % v->buf_alloc;
		struct iovec iov[2] = {
		    {c->buf + c->buf_head, first},
		    {c->buf, len - first},
		};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len > first ? 2 : 1};
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n != (ssize_t)len)
			return -1; /* broken, or EMSGSIZE past the socket's buffer */
		c->eom[end / 64] &= ~(1ull << (end % 64));
		c->buf_head = (c->buf_head + len) % v->buf_alloc;
		c->buf_len -= len;
		c->fwd_cnt += len;
	}
	return 0;
}

/* Write the buffered bytes to the host socket. 0 or -1 (socket broken). */
static int conn_flush(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	if ((conn_seq(c) ? seq_flush(v, c) : stream_flush(v, c)) < 0)
		return -1;
	conn_credit_check(v, c);
	conn_drained(v, c);
	return 0;
}

/* ---- guest -> host (tx queue) ------------------------------------------ */

/* SEQPACKET: a message's bytes gather in the ring until its EOM, then go to
 * the host in one send; straight from the guest's buffers when it came in
 * one packet and nothing waits before it. The credit bounds the ring. */
static void tx_rw_seq(struct cvmm_virtio_vsock *v, struct vconn *c, struct cvmm_virtq_chain *ch,
		      uint32_t len, bool eom)
{
	struct iovec *iov = v->scratch;
	int niov = 0;

	if (!len && (!eom || !c->seq_partial)) {
		/* Nothing to add or to end (an empty message is dropped: Linux
		 * sends none); the header's fwd_cnt may still free host data. */
		conn_update(v, c);
		return;
	}
	if (len) {
		VSOCK_COUNT(v, tx_bytes, len);
		niov = cvmm_virtq_chain_iov(ch, false, CVMM_VSOCK_HDR_SIZE, len, iov,
					    v->dev.queue_max_size);
		if (niov < 0) {
			conn_doom(v, c);
			return;
		}
	}
	if (eom && !c->buf_len) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
		ssize_t n;

		do
			n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)len) {
			c->fwd_cnt += len;
			conn_credit_check(v, c);
			conn_update(v, c);
			return;
		}
		if (n >= 0 || errno != EAGAIN) {
			conn_doom(v, c);
			return;
		}
	}
	for (int i = 0; i < niov; i++) {
		if (ring_put(v, c, iov[i].iov_base, iov[i].iov_len) < 0) {
			conn_doom(v, c);
			return;
		}
	}
	if (eom && c->seq_partial)
		seq_mark_end(v, c);
	if (conn_flush(v, c) < 0) {
		conn_doom(v, c);
		return;
	}
	conn_update(v, c);
}

static void tx_rw(struct cvmm_virtio_vsock *v, struct vconn *c, struct cvmm_virtq_chain *ch,
		  uint32_t len, uint32_t flags)
{
	struct iovec *iov = v->scratch;
	uint32_t cap = v->dev.queue_max_size;
	size_t done = 0;
	int niov;

	if (c->state != CONN_OPEN || c->guest_no_send) {
		conn_doom(v, c);
		return;
	}
	if (len > cvmm_vsock_credit(v->buf_alloc, c->fwd_cnt, c->rx_cnt)) {
		conn_doom(v, c); /* more than the credit we gave */
		return;
	}
	c->rx_cnt += len;
	if (conn_seq(c)) {
		tx_rw_seq(v, c, ch, len, flags & CVMM_VSOCK_SEQ_EOM);
		return;
	}
	if (!len) {
		conn_update(v, c); /* the header's fwd_cnt may let host data go */
		return;
	}
	VSOCK_COUNT(v, tx_bytes, len);
	niov = cvmm_virtq_chain_iov(ch, false, CVMM_VSOCK_HDR_SIZE, len, iov, cap);
	if (niov < 0) {
		conn_doom(v, c);
		return;
	}
	if (!c->buf_len) {
		ssize_t n;

		do
			n = writev(c->fd, iov, niov);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN) {
			conn_doom(v, c);
			return;
		}
		done = n > 0 ? (size_t)n : 0;
		c->fwd_cnt += (uint32_t)done;
	}
	for (int i = 0; i < niov && done < len; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			len -= (uint32_t)iov[i].iov_len;
			continue;
		}
		if (ring_put(v, c, (uint8_t *)iov[i].iov_base + done, iov[i].iov_len - done) < 0) {
			conn_doom(v, c);
			return;
		}
		done = 0;
	}
	conn_credit_check(v, c);
	conn_update(v, c);
}

static void tx_request(struct cvmm_virtio_vsock *v, const struct cvmm_vsock_hdr *h)
{
	struct vconn *c;
	int fd;

	if (v->nr_conns >= v->max_conns) {
		orphan_rst(v, h);
		return;
	}
	fd = vsock_uds_connect(v, h->dst_port,
			       h->type == CVMM_VSOCK_TYPE_SEQPACKET ? SOCK_SEQPACKET : SOCK_STREAM);
	if (fd < 0) {
		orphan_rst(v, h); /* no listener, or one of the other type */
		return;
	}
	c = conn_alloc(v, CONN_OPEN, fd);
	c->type = h->type;
	VSOCK_COUNT(v, conns_opened, 1);
	c->host_port = h->dst_port;
	c->guest_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->pending = PEND_RESPONSE;
	conn_update(v, c);
}

static void tx_shutdown(struct cvmm_virtio_vsock *v, struct vconn *c, uint32_t flags)
{
	if (c->state != CONN_OPEN) {
		conn_doom(v, c);
		return;
	}
	c->guest_no_rcv |= !!(flags & CVMM_VSOCK_SHUTDOWN_RCV);
	c->guest_no_send |= !!(flags & CVMM_VSOCK_SHUTDOWN_SEND);
	if (c->guest_no_rcv) {
		/* Nothing more for the guest, not even a message's rest. */
		c->readable = false;
		c->msg_off = c->msg_len = 0;
	}
	if (c->guest_no_send && c->seq_partial) {
		/* A message that will never end: dropped, its credit returned. */
		c->buf_len -= c->seq_partial;
		c->fwd_cnt += c->seq_partial;
		c->seq_partial = 0;
	}
	if (c->guest_no_rcv && c->guest_no_send) {
		c->state = CONN_CLOSING;
		c->readable = false;
		conn_deadline(v, c, v->shutdown_timeout_ns);
	}
	conn_drained(v, c);
	conn_update(v, c);
}

static void tx_response(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	char ok[24];
	int n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);

	/* A fresh socket's send buffer is empty: the line fits at once. */
	if (c->state != CONN_TO_GUEST || write(c->fd, ok, (size_t)n) != n) {
		conn_doom(v, c);
		return;
	}
	c->state = CONN_OPEN;
	VSOCK_COUNT(v, conns_opened, 1);
	c->deadline = 0;
	conn_update(v, c);
}

/* One guest packet whose header is h and payload follows it in ch. */
static void tx_packet(struct cvmm_virtio_vsock *v, const struct cvmm_vsock_hdr *h,
		      struct cvmm_virtq_chain *ch)
{
	bool seq = v->features & CVMM_VIRTIO_BIT(CVMM_VSOCK_F_SEQPACKET);
	struct vconn *c;

	if (h->src_cid != v->guest_cid || h->dst_cid != CVMM_VSOCK_HOST_CID)
		return; /* not addressed to us: dropped, as a network would */
	c = conn_find(v, h->dst_port, h->src_port);
	if ((h->type != CVMM_VSOCK_TYPE_STREAM && !(seq && h->type == CVMM_VSOCK_TYPE_SEQPACKET)) ||
	    (c && h->type != c->type) || h->len > CVMM_VSOCK_MAX_PAYLOAD ||
	    h->len > ch->readable_len - CVMM_VSOCK_HDR_SIZE) {
		if (c && h->op == CVMM_VSOCK_OP_RST)
			conn_free(v, c); /* gone either way; an RST is never answered */
		else if (c)
			conn_doom(v, c);
		else if (h->op != CVMM_VSOCK_OP_RST)
			orphan_rst(v, h);
		return;
	}
	if (h->op == CVMM_VSOCK_OP_REQUEST && !c) {
		tx_request(v, h);
		return;
	}
	if (!c || c->state == CONN_DOOMED) {
		if (h->op != CVMM_VSOCK_OP_RST && !c)
			orphan_rst(v, h);
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case CVMM_VSOCK_OP_RESPONSE:
		tx_response(v, c);
		break;
	case CVMM_VSOCK_OP_RST:
		conn_free(v, c);
		break;
	case CVMM_VSOCK_OP_SHUTDOWN:
		tx_shutdown(v, c, h->flags);
		break;
	case CVMM_VSOCK_OP_RW:
		tx_rw(v, c, ch, h->len, h->flags);
		break;
	case CVMM_VSOCK_OP_CREDIT_UPDATE:
		conn_update(v, c); /* more credit may unblock the rx path */
		break;
	case CVMM_VSOCK_OP_CREDIT_REQUEST:
		c->pending |= PEND_CREDIT;
		conn_update(v, c);
		break;
	default: /* REQUEST on an existing connection, or unknown */
		conn_doom(v, c);
		break;
	}
}

static void vsock_fail(struct cvmm_virtio_vsock *v)
{
	v->failed = true;
	cvmm_virtio_fail(v->t, "virtio-vsock: %s", cvmm_err_msg());
}

void vsock_tx_run(struct cvmm_virtio_vsock *v)
{
	struct cvmm_virtq *vq;
	uint32_t budget;
	bool pushed = false;

	if (!v->t || v->failed || v->vhost_mode)
		return;
	vq = v->vq[VQ_TX];
	if (!cvmm_virtq_ready(vq))
		return;
	budget = cvmm_virtq_size(vq);
	for (;;) {
		struct cvmm_vsock_hdr h;
		int ret;

		if (budget == 0) {
			cvmm_eventfd_signal(v->kick_fd);
			break;
		}
		if (!v->tx_held) {
			ret = cvmm_virtq_pop(vq, &v->tx_chain);
			if (ret == 0)
				break;
			if (ret < 0) {
				vsock_fail(v);
				return;
			}
			v->tx_held = true;
		}
		v->tx_chain.rd_seg = 0;
		v->tx_chain.rd_off = 0;
		v->tx_chain.read = 0;
		if (cvmm_virtq_chain_read(&v->tx_chain, &h, sizeof(h)) == sizeof(h)) {
			if (v->rl && h.op == CVMM_VSOCK_OP_RW &&
			    cvmm_ratelimit_consume(
				v->rl, h.len <= CVMM_VSOCK_MAX_PAYLOAD ? h.len : 0, 1) < 0)
				break; /* the limiter's timer resumes us; the chain waits */
			VSOCK_COUNT(v, tx_packets, 1);
			tx_packet(v, &h, &v->tx_chain);
		}
		/* A chain shorter than a header carries nothing: returned as is. */
		cvmm_virtq_push(vq, &v->tx_chain, 0);
		v->tx_held = false;
		pushed = true;
		budget--;
	}
	if (pushed)
		cvmm_virtio_notify_used(v->t, VQ_TX);
}

/* ---- host -> guest (rx queue) ------------------------------------------ */

static void hdr_fill(struct cvmm_virtio_vsock *v, const struct vconn *c, uint16_t op, uint32_t len,
		     struct cvmm_vsock_hdr *h)
{
	*h = (struct cvmm_vsock_hdr){
	    .src_cid = CVMM_VSOCK_HOST_CID,
	    .dst_cid = v->guest_cid,
	    .src_port = c ? c->host_port : 0,
	    .dst_port = c ? c->guest_port : 0,
	    .len = len,
	    .type = c ? c->type : CVMM_VSOCK_TYPE_STREAM,
	    .op = op,
	    .buf_alloc = v->buf_alloc,
	    .fwd_cnt = c ? c->fwd_cnt : 0,
	};
}

/* Control packet owed by c, written into ch. Returns its length or 0. */
static uint32_t rx_control(struct cvmm_virtio_vsock *v, struct vconn *c,
			   struct cvmm_virtq_chain *ch)
{
	static const struct {
		uint32_t bit;
		uint16_t op;
	} order[] = {
	    {PEND_RST, CVMM_VSOCK_OP_RST},
	    {PEND_REQUEST, CVMM_VSOCK_OP_REQUEST},
	    {PEND_RESPONSE, CVMM_VSOCK_OP_RESPONSE},
	    {PEND_SHUTDOWN, CVMM_VSOCK_OP_SHUTDOWN},
	    {PEND_CREDIT, CVMM_VSOCK_OP_CREDIT_UPDATE},
	};
	struct cvmm_vsock_hdr h;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(c->pending & order[i].bit))
			continue;
		c->pending &= ~order[i].bit;
		hdr_fill(v, c, order[i].op, 0, &h);
		if (order[i].bit == PEND_SHUTDOWN)
			h.flags = c->shut_flags;
		c->fwd_cnt_sent = c->fwd_cnt;
		cvmm_virtq_chain_write(ch, &h, sizeof(h));
		if (order[i].bit == PEND_RST)
			conn_free(v, c);
		else if (order[i].bit == PEND_REQUEST)
			/* The guest's time to answer starts now, not while the
			 * REQUEST waited for an rx buffer. */
			conn_deadline(v, c, v->request_timeout_ns);
		return CVMM_VSOCK_HDR_SIZE;
	}
	return 0;
}

/* A read from the host socket failed (errno): nothing to read now, or the
 * connection is reset. */
static void host_read_failed(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	if (errno == EAGAIN)
		c->readable = false;
	else
		conn_doom(v, c);
}

static void rx_host_eof(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	c->host_eof = true;
	c->readable = false;
	c->shut_flags = CVMM_VSOCK_SHUTDOWN_SEND | (c->host_hup ? CVMM_VSOCK_SHUTDOWN_RCV : 0);
	c->pending |= PEND_SHUTDOWN;
	/* Both ways shut: the guest owes an RST; don't wait for it forever. */
	if (c->host_hup)
		conn_deadline(v, c, v->shutdown_timeout_ns);
}

/* The host's next message into c->msg: 1, or 0 if there is none (an empty
 * message is dropped) or the connection ended. */
static int seq_read(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	ssize_t n;

	if (!c->msg && !(c->msg = malloc(v->buf_alloc))) {
		conn_doom(v, c);
		return 0;
	}
	do
		n = recv(c->fd, c->msg, v->buf_alloc, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		host_read_failed(v, c);
		return 0;
	}
	if (n == 0) {
		struct pollfd p = {.fd = c->fd, .events = POLLRDHUP};
		int queued = 0;

		/* 0 is also an empty message: the end only if the peer shut and
		 * nothing (but empty messages) is left. epoll re-arms the read. */
		c->readable = false;
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP)) &&
		    ioctl(c->fd, SIOCINQ, &queued) == 0 && queued == 0)
			rx_host_eof(v, c);
		return 0;
	}
	/* Cut by recv (MSG_TRUNC gives the real length), or more than the
	 * guest could ever hold at once: it would wait forever for the EOM. */
	if ((size_t)n > v->buf_alloc || (uint32_t)n > c->peer_buf_alloc) {
		conn_doom(v, c);
		return 0;
	}
	c->msg_len = (uint32_t)n;
	c->msg_off = 0;
	return 1;
}

/* SEQPACKET: one recv() is one host message; it reaches the guest in as
 * many packets as its credit and rx buffers need, EOM|EOR on the last. */
static int rx_seq(struct cvmm_virtio_vsock *v, struct vconn *c, struct cvmm_virtq_chain *ch)
{
	struct iovec *iov = v->scratch;
	struct cvmm_vsock_hdr h;
	uint32_t n, done = 0;
	int niov;

	if (ch->writable_len == CVMM_VSOCK_HDR_SIZE)
		return -ENOSPC;
	if (!conn_msg_left(c) && !seq_read(v, c))
		return 0;
	n = MIN(conn_peer_credit(c), CVMM_VSOCK_MAX_PAYLOAD);
	n = (uint32_t)MIN((uint64_t)n, ch->writable_len - CVMM_VSOCK_HDR_SIZE);
	n = MIN(n, c->msg_len - c->msg_off);
	if (!n)
		return 0;
	if (v->rl && cvmm_ratelimit_consume(v->rl, n, 1) < 0)
		return -EAGAIN; /* the message waits in c->msg */
	niov = cvmm_virtq_chain_iov(ch, true, CVMM_VSOCK_HDR_SIZE, n, iov, v->dev.queue_max_size);
	if (niov < 0) {
		conn_doom(v, c);
		return 0;
	}
	for (int i = 0; i < niov; i++) {
		memcpy(iov[i].iov_base, c->msg + c->msg_off + done, iov[i].iov_len);
		done += (uint32_t)iov[i].iov_len;
	}
	c->msg_off += n;
	VSOCK_COUNT(v, rx_bytes, n);
	hdr_fill(v, c, CVMM_VSOCK_OP_RW, n, &h);
	if (!conn_msg_left(c))
		h.flags = CVMM_VSOCK_SEQ_EOM | CVMM_VSOCK_SEQ_EOR;
	c->tx_cnt += n;
	c->fwd_cnt_sent = c->fwd_cnt;
	c->pending &= ~PEND_CREDIT;
	cvmm_virtq_chain_write(ch, &h, sizeof(h));
	return CVMM_VSOCK_HDR_SIZE + (int)n;
}

/* Data from the host socket into ch. Returns the packet length, 0 if there
 * was nothing to read, -EAGAIN if the rate limiter refused, -ENOSPC if ch
 * has no room for data. */
static int rx_data(struct cvmm_virtio_vsock *v, struct vconn *c, struct cvmm_virtq_chain *ch)
{
	struct iovec *iov = v->scratch;
	uint32_t max = MIN(conn_peer_credit(c), CVMM_VSOCK_MAX_PAYLOAD);
	struct cvmm_vsock_hdr h;
	ssize_t n;
	int niov;

	if (conn_seq(c))
		return rx_seq(v, c, ch);
	if (ch->writable_len == CVMM_VSOCK_HDR_SIZE)
		return -ENOSPC; /* room for a header only: no use for data */
	max = (uint32_t)MIN((uint64_t)max, ch->writable_len - CVMM_VSOCK_HDR_SIZE);
	if (v->rl && cvmm_ratelimit_consume(v->rl, max, 1) < 0)
		return -EAGAIN;
	niov = cvmm_virtq_chain_iov(ch, true, CVMM_VSOCK_HDR_SIZE, max, iov, v->dev.queue_max_size);
	if (niov < 0) {
		n = -1;
		errno = EINVAL;
	} else {
		do
			n = readv(c->fd, iov, niov);
		while (n < 0 && errno == EINTR);
	}
	if (v->rl)
		cvmm_ratelimit_refund(v->rl, max - (n > 0 ? (uint32_t)n : 0), n > 0 ? 0 : 1);
	if (n < 0) {
		host_read_failed(v, c);
		return 0;
	}
	if (n == 0) {
		rx_host_eof(v, c);
		return 0;
	}
	VSOCK_COUNT(v, rx_bytes, (uint64_t)n);
	hdr_fill(v, c, CVMM_VSOCK_OP_RW, (uint32_t)n, &h);
	c->tx_cnt += (uint32_t)n;
	c->fwd_cnt_sent = c->fwd_cnt;
	c->pending &= ~PEND_CREDIT;
	cvmm_virtq_chain_write(ch, &h, sizeof(h));
	return CVMM_VSOCK_HDR_SIZE + (int)n;
}

void vsock_rx_run(struct cvmm_virtio_vsock *v)
{
	struct cvmm_virtq *vq;
	uint32_t budget;
	bool pushed = false;

	if (!v->t || v->failed || v->vhost_mode)
		return;
	vq = v->vq[VQ_RX];
	if (!cvmm_virtq_ready(vq))
		return;
	budget = cvmm_virtq_size(vq);
	while (v->nr_orphans || v->list_head) {
		struct cvmm_virtq_chain *ch = &v->rx_chain;
		uint32_t len = 0;

		if (budget == 0) {
			cvmm_eventfd_signal(v->kick_fd);
			break;
		}
		if (v->rl && cvmm_ratelimit_blocked(v->rl))
			break;
		if (!v->rx_held) {
			int ret = cvmm_virtq_pop(vq, ch);

			if (ret == 0)
				break; /* connections stay listed, their sockets unpolled */
			if (ret < 0) {
				vsock_fail(v);
				return;
			}
			v->rx_held = true;
		}
		ch->wr_seg = 0;
		ch->wr_off = 0;
		ch->written = 0;
		if (ch->writable_len < CVMM_VSOCK_HDR_SIZE) {
			/* Too small for any packet: handed back empty. */
		} else if (v->nr_orphans) {
			struct orphan *o = &v->orphans[v->orphan_head];
			struct vconn tmp = {.host_port = o->host_port,
					    .guest_port = o->guest_port,
					    .type = o->type};
			struct cvmm_vsock_hdr h;

			hdr_fill(v, &tmp, CVMM_VSOCK_OP_RST, 0, &h);
			h.buf_alloc = 0;
			cvmm_virtq_chain_write(ch, &h, sizeof(h));
			len = CVMM_VSOCK_HDR_SIZE;
			v->orphan_head = (v->orphan_head + 1) % VSOCK_MAX_ORPHANS;
			v->nr_orphans--;
		} else {
			struct vconn *c = list_pop(v);
			int n = 0;

			if (!c->pending && (c->readable || conn_msg_left(c)) &&
			    c->state == CONN_OPEN && !c->guest_no_rcv) {
				n = rx_data(v, c, ch);
				if (n == -EAGAIN) {
					list_add(v, c, true);
					break;
				}
			}
			if (n == 0)
				n = (int)rx_control(v, c, ch);
			if (c->state != CONN_FREE)
				conn_update(v, c); /* back on the list if work remains */
			if (n == 0)
				continue; /* nothing after all: the chain serves the next */
			len = n > 0 ? (uint32_t)n : 0; /* -ENOSPC: handed back empty */
		}
		if (len)
			VSOCK_COUNT(v, rx_packets, 1);
		cvmm_virtq_push(vq, ch, len);
		v->rx_held = false;
		pushed = true;
		budget--;
	}
	if (pushed)
		cvmm_virtio_notify_used(v->t, VQ_RX);
}

/* ---- host sockets ------------------------------------------------------ */

/* "CONNECT <port>" (the word in any case, as Firecracker reads it), by
 * length: a NUL in the line is a bad byte, not its end. */
static int hello_parse(const char *s, size_t len, uint32_t *port)
{
	static const char word[] = "connect ";
	uint64_t p = 0;
	size_t i;

	if (len <= sizeof(word) - 1)
		return -1;
	for (i = 0; i < sizeof(word) - 1; i++)
		if ((word[i] == ' ' ? s[i] : s[i] | 0x20) != word[i])
			return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		p = p * 10 + (uint64_t)(s[i] - '0');
		if (p > UINT32_MAX)
			return -1;
	}
	*port = (uint32_t)p;
	return 0;
}

int vsock_hello_byte(struct vconn *c, char ch, uint32_t *port)
{
	if (ch == '\n')
		return hello_parse(c->line, c->line_len, port) < 0 ? -1 : 1;
	if (c->line_len >= VSOCK_LINE_MAX - 1)
		return -1; /* the newline would not fit */
	c->line[c->line_len++] = ch;
	return 0;
}

static uint32_t host_port_alloc(struct cvmm_virtio_vsock *v, uint32_t guest_port)
{
	/* Ports from 2^30 up, skipping pairs in use (max_conns bounds the scan). */
	for (;;) {
		uint32_t p = v->next_host_port++;

		if (v->next_host_port == 0)
			v->next_host_port = 1u << 30;
		if (!conn_find(v, p, guest_port))
			return p;
	}
}

/* Read the client's "CONNECT <port>\n" a byte at a time: what follows the
 * line is stream data, left in the socket. */
static void hello_read(struct cvmm_virtio_vsock *v, struct vconn *c)
{
	uint32_t port;

	for (;;) {
		char ch;
		ssize_t n = read(c->fd, &ch, 1);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		r = vsock_hello_byte(c, ch, &port);
		if (r == 0)
			continue;
		if (r < 0 || !v->t)
			break;
		c->guest_port = port;
		c->host_port = host_port_alloc(v, port);
		c->state = CONN_TO_GUEST;
		c->pending = PEND_REQUEST;
		c->peer_buf_alloc = 0;
		conn_deadline(v, c, v->request_timeout_ns);
		conn_update(v, c);
		return;
	}
	conn_free(v, c); /* closed, bad or overlong line, or no guest driver */
}

void vsock_conn_event(struct cvmm_virtio_vsock *v, struct vconn *c, uint32_t events)
{
	if (c->dead || c->state == CONN_FREE)
		return;
	if (events & (EPOLLHUP | EPOLLERR))
		c->host_hup = true;
	switch (c->state) {
	case CONN_HELLO:
		hello_read(v, c);
		return;
	case CONN_TO_GUEST:
		if (c->host_hup)
			conn_end(v, c); /* the client left before the guest answered */
		else
			conn_update(v, c);
		return;
	case CONN_OPEN:
	case CONN_CLOSING:
		if ((events & EPOLLOUT) || (c->host_hup && conn_out_len(c))) {
			if (conn_flush(v, c) < 0) {
				conn_doom(v, c);
				return;
			}
			if (c->state == CONN_DOOMED)
				return;
		}
		if (c->state == CONN_OPEN && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
		    !c->host_eof) {
			if (c->guest_no_rcv && c->host_hup && !conn_out_len(c)) {
				conn_end(v, c);
				return;
			}
			c->readable = !c->guest_no_rcv;
		}
		conn_update(v, c);
		return;
	default:
		return;
	}
}

static void conn_io(int fd, uint32_t events, void *opaque)
{
	struct vconn *c = opaque;
	struct cvmm_virtio_vsock *v;

	(void)fd;
	v = c->v;
	pthread_mutex_lock(&v->lock);
	if (c->dead) {
		vsock_reap(v);
	} else {
		vsock_conn_event(v, c, events);
		vsock_rx_run(v);
	}
	pthread_mutex_unlock(&v->lock);
}

void vsock_accept(struct cvmm_virtio_vsock *v)
{
	/* A bounded number per turn, so a connect storm cannot hold the loop. */
	for (int i = 0; i < 16; i++) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vconn *c;

		if (fd < 0)
			return;
		c = v->t ? conn_alloc(v, CONN_HELLO, fd) : NULL;
		if (!c) {
			close(fd); /* no guest driver yet, or at the connection limit */
			continue;
		}
		conn_deadline(v, c, v->request_timeout_ns);
		conn_update(v, c);
	}
}

void vsock_timers(struct cvmm_virtio_vsock *v)
{
	uint64_t now = now_ns(), next = 0;

	cvmm_eventfd_drain(v->timer_fd, NULL);
	v->armed_deadline = 0;
	for (unsigned int i = 0; i < v->max_conns; i++) {
		struct vconn *c = &v->conns[i];

		if (c->state == CONN_FREE || c->dead || !c->deadline)
			continue;
		if (c->deadline > now) {
			next = next && next < c->deadline ? next : c->deadline;
			continue;
		}
		c->deadline = 0;
		if (c->state == CONN_HELLO)
			conn_free(v, c);
		else
			conn_doom(v, c);
	}
	if (next)
		timer_arm(v, next);
}

void vsock_reap(struct cvmm_virtio_vsock *v)
{
	if (!v->need_reap)
		return;
	v->need_reap = false;
	for (unsigned int i = 0; i < v->max_conns; i++) {
		struct vconn *c = &v->conns[i];

		if (c->dead) {
			c->on_list = false; /* the list was emptied by the reset */
			conn_free(v, c);
		}
	}
}

void vsock_drop_all(struct cvmm_virtio_vsock *v)
{
	for (unsigned int i = 0; i < v->max_conns; i++)
		if (v->conns[i].state != CONN_FREE) {
			v->conns[i].on_list = false;
			conn_free(v, &v->conns[i]);
		}
	v->list_head = v->list_tail = NULL;
	v->nr_orphans = 0;
}

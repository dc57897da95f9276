/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to cvmm-virtio-rng. */
#ifndef CVMM_VIRTIO_RNG_IMPL_H
#define CVMM_VIRTIO_RNG_IMPL_H

#include <cvmm/virtio-rng.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/*
 * Locking: `lock` guards everything below it. The data path (notify and
 * kick callbacks) runs on the loop thread; activate and reset come from the
 * transport (a vCPU) and take the same lock; reset_pending cuts a batch short
 * so that reset waits for one chain at most.
 */
struct cvmm_virtio_rng {
	struct cvmm_virtio_device dev;
	struct cvmm_loop *loop;
	int kick_fd; /* resumes processing after a full batch */
	atomic_bool reset_pending;
	pthread_mutex_t lock;
	struct cvmm_virtio_transport *t; /* set by activate, cleared by reset */
	struct cvmm_virtq *vq;
	bool failed;			      /* asked the transport for a reset */
	struct cvmm_ratelimit *rl;	      /* NULL: unlimited */
	bool parked;			      /* chain popped, waiting for the limiter */
	struct cvmm_virtq_chain chain;	      /* one chain at a time: filled, then pushed */
	atomic_uint_fast64_t requests, bytes; /* cvmm_virtio_rng_stats() */
};

/* request.c: one batch; called with the lock held on the loop thread. */
void rng_process(struct cvmm_virtio_rng *r);

#endif

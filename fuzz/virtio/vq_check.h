/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Invariant checks for the virtio fuzz targets. Linked with
 * -Wl,--wrap=cvmm_virtq_{pop,push,enable,disable,reset,destroy} (see
 * vq_check_link_args in meson.build), every call the harness, a transport or
 * a device makes on a virtqueue goes through a checker that traps
 * (__builtin_trap) when the library breaks its contract:
 *   - pop: every iovec lies inside guest RAM, counts and lengths add up, the
 *     head is below the queue size, the chain struct is not still in flight,
 *     and an error is one the header documents;
 *   - push: the chain is in flight on that queue (never completed twice, nor
 *     after a reset), len is at most its writable bytes, the used index in
 *     guest memory advanced by exactly one push and the element says (id,
 *     len); a refused push leaves the used ring alone.
 * Single-threaded use only (the fuzz targets drive their loop themselves).
 */
#ifndef CVMM_FUZZ_VQ_CHECK_H
#define CVMM_FUZZ_VQ_CHECK_H

#include <cvmm/virtio.h>
#include <stdbool.h>

/* Guest RAM [0, ram_size) of mem: where popped buffers must lie. */
void vq_check_init(const struct cvmm_mem *mem, uint64_t ram_size);
/* Pops that failed so far, on any queue. */
unsigned long vq_check_pop_failures(void);
/* Chains popped from vq and not pushed yet. */
unsigned int vq_check_in_flight(const struct cvmm_virtq *vq);
/* Trap with a message. */
void vq_check_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Whether [p, p + len) lies inside guest RAM. */
bool vq_check_in_ram(const void *p, uint64_t len);

#endif

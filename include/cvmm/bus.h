/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-bus: address-range registration and dispatch for port I/O and MMIO.
 *
 * One struct cvmm_bus per address space (a monitor creates one for PIO and
 * one for MMIO). A device claims [base, base+length) with a pair of ops; a
 * guest access (addr, len) is routed to the one range containing all of
 * [addr, addr+len), with the offset addr - base. Ranges never overlap.
 * Lookup is a binary search over a sorted array: O(log n) per access.
 *
 * The bus does not interpret data: it is passed through in guest byte order
 * (little-endian on x86), len bytes long.
 *
 * Threading: cvmm_bus_read()/cvmm_bus_write() may be called concurrently
 * from any number of vCPU threads. Registration and unregistration may
 * happen at any time, from any thread: the bus holds a writer-preferring
 * rwlock, shared by dispatch and exclusive for (un)registration. Dispatch
 * holds it across the device op, so once cvmm_bus_unregister() returns no op
 * of that range is running or will start, and the device may be freed.
 * Consequently a device op must not register, unregister or dispatch on the
 * bus that is calling it (it would deadlock); doing so on another bus is
 * fine. Device ops run concurrently with each other and with themselves:
 * each device does its own locking.
 *
 * Errors: every failing function records a message (cvmm_err_msg()) except
 * an unclaimed access in cvmm_bus_read()/cvmm_bus_write(), see there.
 */
#ifndef CVMM_BUS_H
#define CVMM_BUS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A device's handlers. offset is relative to the range's base; the access
 * [offset, offset+len) always lies inside the range and len >= 1. read must
 * fill all len bytes of data. Either op may be NULL: reads then return all
 * ones, writes are dropped (the access still counts as claimed).
 */
struct cvmm_bus_ops {
	void (*read)(void *opaque, uint64_t offset, void *data, uint32_t len);
	void (*write)(void *opaque, uint64_t offset, const void *data, uint32_t len);
};

struct cvmm_bus;

/* Create an empty bus. name ("pio", "mmio"; not NULL) only appears in error
 * messages and is copied (up to 15 characters). Returns 0 or -ENOMEM/-errno. */
int cvmm_bus_create(struct cvmm_bus **out, const char *name);
/* Free the bus; no dispatch may be running. Does not touch device opaques. */
void cvmm_bus_destroy(struct cvmm_bus *bus);

/* Claim [base, base+length). ops is copied; opaque is the caller's and must
 * stay valid until the range is unregistered or the bus destroyed.
 * Returns 0, -EINVAL for length 0, a NULL ops or a range past the end of the
 * 64-bit space (base + length may equal 2^64), -EEXIST if it overlaps a
 * registered range, or -ENOMEM. */
int cvmm_bus_register(struct cvmm_bus *bus, uint64_t base, uint64_t length,
		      const struct cvmm_bus_ops *ops, void *opaque);
/* Release the range that starts at base. Returns 0 or -ENOENT. */
int cvmm_bus_unregister(struct cvmm_bus *bus, uint64_t base);

/*
 * Route a guest access of len bytes at addr to its device.
 * Returns 0 when a device handled it. Returns -ENOENT when no single range
 * contains [addr, addr+len) (unclaimed, or straddling a range's end): reads
 * then fill data with 0xff, as an open bus does, and writes are dropped. A
 * guest probing unclaimed addresses is an expected outcome, so -ENOENT sets
 * no message (cvmm_err_msg() is left as it was); the caller decides whether
 * to log. Returns -EINVAL for len 0 (data untouched), with a message.
 */
int cvmm_bus_read(struct cvmm_bus *bus, uint64_t addr, void *data, uint32_t len);
int cvmm_bus_write(struct cvmm_bus *bus, uint64_t addr, const void *data, uint32_t len);

#ifdef __cplusplus
}
#endif
#endif

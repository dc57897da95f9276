/* SPDX-License-Identifier: Apache-2.0 */
/* Fixture shared by the virtio-blk tests: a 1 MiB image whose sector s holds
 * the byte s & 0xff, guest RAM, a loop, the device on a virtio-mmio transport
 * and a simulated driver (vqdrv) on its one queue. */
#ifndef CVMM_TEST_BLKFX_H
#define CVMM_TEST_BLKFX_H

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cvmm/virtio-blk.h>
#include <stdbool.h>

#include "vqdrv.h"

#define RAM (4u << 20)
#define QSZ 64
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define HDR 0x10000 /* per request slot: HDR + 0x100 * slot */
#define STATUS 0x20000
#define DATA 0x100000	  /* per request slot: DATA + 0x2000 * slot */
#define IMG_SECTORS 2048u /* 1 MiB image */

struct fx {
	enum cvmm_virtio_blk_engine engine;
	char path[64];
	struct cvmm_mem *mem;
	struct cvmm_loop *loop;
	struct cvmm_virtio_blk *blk;
	struct cvmm_virtio_mmio *m;
	struct vqdrv drv;
};

/* cmocka setup/teardown: the device on a transport, activated by attach(). */
int setup_sync(void **state);
int setup_uring(void **state);
int setup_ro_sync(void **state);
int setup_ro_uring(void **state);
int teardown(void **state);
/* Run each hostile-guest test on both engines. */
#define BOTH(t)                                                                                    \
	cmocka_unit_test_setup_teardown(t, setup_sync, teardown),                                  \
	    cmocka_unit_test_setup_teardown(t, setup_uring, teardown)

/* 4-byte register access at offset of the MMIO window. */
uint32_t rd(struct fx *f, uint64_t off);
void wr(struct fx *f, uint64_t off, uint32_t v);

/* Create f->blk on f->path (queue size QSZ, 8 requests in flight). */
int open_blk(struct fx *f, bool ro);
/* Create the transport and activate with the default ring (asserts). */
void attach(struct fx *f);
/* Negotiate features and set up queue 0 of qsz entries at the given
 * addresses up to DRIVER_OK, resetting the driver ring. Does not assert (for
 * threads other than cmocka's): true if the device took DRIVER_OK. */
bool negotiate(struct fx *f, uint16_t qsz, uint64_t desc, uint64_t avail, uint64_t used);

/* The buffers of one request in slot s: header, then out_len readable bytes
 * at the slot's data area, or in_len writable bytes there, then the status
 * byte (preset to 0xee). Writes the header; returns the number of buffers. */
unsigned int req_bufs(struct fx *f, unsigned int s, uint32_t type, uint64_t sector,
		      uint32_t out_len, uint32_t in_len, struct vqdrv_buf b[3]);
/* Add and publish that request as a direct chain (no notify); returns its
 * head. */
uint16_t add_req(struct fx *f, unsigned int s, uint32_t type, uint64_t sector, uint32_t out_len,
		 uint32_t in_len);
/* QueueNotify for queue 0. */
void kick(struct fx *f);
/* Drive the loop until a used element arrives (bounded): 1 with id and len,
 * or 0. */
int wait_used(struct fx *f, uint32_t *id, uint32_t *len);
/* Drive the loop until Status has all of bits (bounded). */
bool wait_status(struct fx *f, uint32_t bits);
uint8_t status_of(struct fx *f, unsigned int s);
/* Submit one request in slot 0, wait, and return its status byte; *len gets
 * the used length. */
uint8_t do_req(struct fx *f, uint32_t type, uint64_t sector, uint32_t out_len, uint32_t in_len,
	       uint32_t *len);
/* Whether the n bytes at gpa hold sectors first.. as the image was made. */
bool holds_image(struct fx *f, uint64_t gpa, uint64_t first, uint32_t n);

/* Fail the whole test program (exit 1 with a message) if it is still
 * running after seconds: turns a hang into a failure. 0 cancels. */
void watchdog(unsigned int seconds);

#endif

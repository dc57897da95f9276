// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-rng over virtio-mmio with a ring the input describes: descriptor
 * flags, next indices, lengths, avail entries and indirect tables are the
 * input's; buffer addresses are confined to a data area (or put outside RAM)
 * so that the harness knows what the device may touch. After each loop turn
 * it checks:
 *   - outside the used ring, only the first used.len writable bytes of the
 *     chains returned as used have changed (the guard pattern elsewhere, the
 *     rings and the indirect tables are intact);
 *   - used.len never exceeds the chain's writable bytes or 64 KiB, and those
 *     used.len bytes were written (not left holding the guard);
 *   - one turn returns at most two batches (a queue's worth of chains and
 *     1 MiB each): a turn may run both the notify and the kick source, as
 *     when DRIVER_OK's look-now kick meets the first QueueNotify;
 *   - the loop goes quiet after a bounded number of turns.
 * Input: [0] queue size 1 << (b % 7), [1] avail index, [2] bit 0: negotiate
 * INDIRECT_DESC and EVENT_IDX, bit 1: reset and run the same ring again;
 * then 5 bytes per descriptor of the table, one byte per avail entry, and
 * 5 bytes per entry of the indirect-table area.
 */
#include <cvmm/virtio-rng.h>
#include <stdlib.h>
#include <string.h>

#define RAM (256u << 10)
#define DESC 0x0
#define AVAIL 0x1000
#define USED 0x2000
#define ITAB 0x3000 /* indirect tables: 256 entries */
#define ITAB_ENTRIES 256u
#define DATA 0x10000
#define GUARD 0xa5
#define MAX_QSZ 64u

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static struct cvmm_mem *mem;
static struct cvmm_loop *loop;
static struct cvmm_virtio_rng *rng;
static struct cvmm_virtio_mmio *m;
static uint8_t rings[DATA]; /* [0, DATA) as the input set it */
static uint8_t may[RAM];    /* 1: the device may have written this byte */

/* The byte-by-byte checks are the harness's, not the device's: tracing
 * their comparisons would only slow the fuzzer and blur its feedback. */
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

static void init(void)
{
	struct cvmm_virtio_mmio_opts mo = {.log = quiet};

	if (cvmm_mem_create(&mem, RAM, NULL) < 0 || cvmm_loop_create(&loop) < 0 ||
	    cvmm_virtio_rng_create(
		&rng, &(struct cvmm_virtio_rng_opts){.loop = loop, .queue_size = MAX_QSZ}) < 0)
		abort();
	mo.mem = mem;
	mo.dev = cvmm_virtio_rng_device(rng);
	mo.loop = loop;
	if (cvmm_virtio_mmio_create(&m, &mo) < 0)
		abort();
}

/* 5 input bytes -> a descriptor whose buffer lies in the data area, or far
 * outside RAM; an indirect one points into the indirect-table area. */
static struct desc decode(const uint8_t *b)
{
	uint16_t sel = (uint16_t)(b[0] | b[1] << 8);
	struct desc d = {.flags = b[3] & 7, .next = b[4]};

	if (d.flags & CVMM_VIRTQ_DESC_F_INDIRECT) {
		d.addr = ITAB + 16ull * (sel % ITAB_ENTRIES);
		d.len = b[2] < 0xf0 ? 16u * (b[2] % 17) : b[2];
	} else {
		d.addr = sel == 0xffff ? 1ull << 40 : DATA + (64ull * sel) % (RAM - DATA);
		/* Mostly small, so that a run is quick; 0xf0.. up to 135000 bytes
		 * (past the chain cap), 0xff: past the end of RAM. */
		d.len = b[2] == 0xff ? UINT32_MAX : b[2] < 0xf0 ? 4u * b[2] : 9000u * (b[2] - 0xef);
	}
	return d;
}

static void put_desc(uint64_t at, const uint8_t *b)
{
	struct desc d = decode(b);

	memcpy(rings + at, &d.addr, 8);
	memcpy(rings + at + 8, &d.len, 4);
	memcpy(rings + at + 12, &d.flags, 2);
	memcpy(rings + at + 14, &d.next, 2);
}

static struct desc get_desc(uint64_t table, uint32_t i)
{
	struct desc d;

	memcpy(&d.addr, rings + table + 16ull * i, 8);
	memcpy(&d.len, rings + table + 16ull * i + 8, 4);
	memcpy(&d.flags, rings + table + 16ull * i + 12, 2);
	memcpy(&d.next, rings + table + 16ull * i + 14, 2);
	return d;
}

/* Mark the first len writable bytes of the chain at head (as the device
 * accepted it, so well formed) in may[]; returns its writable bytes. */
static uint64_t mark_chain(uint32_t qsz, uint32_t head, uint32_t len)
{
	uint64_t table = DESC, writable = 0;
	uint32_t count = qsz, i = head, steps = 0;
	uint32_t left = len;

	if (head >= qsz)
		abort();
	for (;;) {
		struct desc d = get_desc(table, i);

		if (++steps > 2 * MAX_QSZ + 2)
			abort(); /* the device accepted a loop */
		if (d.flags & CVMM_VIRTQ_DESC_F_INDIRECT) {
			table = d.addr;
			count = d.len / 16;
			i = 0;
			continue;
		}
		if (d.flags & CVMM_VIRTQ_DESC_F_WRITE) {
			uint32_t n = d.len < left ? d.len : left;

			if (d.len && (d.addr < DATA || d.addr + d.len > RAM))
				abort();
			memset(may + d.addr, 1, n);
			left -= n;
			writable += d.len;
		}
		if (!(d.flags & CVMM_VIRTQ_DESC_F_NEXT))
			return writable;
		i = d.next;
		if (i >= count)
			abort();
	}
}

/* The chain's first len writable bytes must hold random data, not the guard
 * (checked for len >= 64, where a false alarm is below 2^-100). */
HARNESS static void check_written(uint32_t head, uint32_t len)
{
	uint64_t table = DESC;
	uint32_t i = head, left = len, guards = 0;

	if (len < 64)
		return;
	for (;;) {
		struct desc d = get_desc(table, i);

		if (d.flags & CVMM_VIRTQ_DESC_F_INDIRECT) {
			table = d.addr;
			i = 0;
			continue;
		}
		if (d.flags & CVMM_VIRTQ_DESC_F_WRITE) {
			const uint8_t *p = cvmm_mem_ptr(mem, d.addr, d.len);
			uint32_t n = d.len < left ? d.len : left;

			for (uint32_t k = 0; k < n; k++)
				guards += p[k] == GUARD;
			left -= n;
		}
		if (!(d.flags & CVMM_VIRTQ_DESC_F_NEXT) || !left)
			break;
		i = d.next;
	}
	if (guards > len / 8 + 8)
		abort();
}

/* Check what the device returned since *seen; returns the bytes reported. */
static uint64_t collect(uint32_t qsz, uint16_t *seen, uint32_t *chains)
{
	uint64_t bytes = 0;
	uint16_t idx;

	cvmm_mem_read(mem, USED + 2, &idx, 2);
	*chains = (uint16_t)(idx - *seen);
	for (; *seen != idx; (*seen)++) {
		uint32_t e[2];

		cvmm_mem_read(mem, USED + 4 + 8ull * (*seen % qsz), e, 8);
		if (e[1] > CVMM_VIRTIO_RNG_CHAIN_MAX || e[1] > mark_chain(qsz, e[0], e[1]))
			abort();
		check_written(e[0], e[1]);
		bytes += e[1];
	}
	return bytes;
}

HARNESS static void check_ram(uint32_t qsz)
{
	const uint8_t *ram = cvmm_mem_ptr(mem, 0, RAM);
	uint64_t used_end = USED + 6 + 8ull * qsz;

	for (uint64_t a = 0; a < DATA; a++)
		if ((a < USED || a >= used_end) && ram[a] != rings[a])
			abort();
	for (uint64_t a = DATA; a < RAM; a++)
		if (!may[a] && ram[a] != GUARD)
			abort();
}

static void negotiate(uint32_t qsz, bool ext)
{
	wr(0x70, 0);
	wr(0x70, 1);
	wr(0x70, 3);
	wr(0x24, 1);
	wr(0x20, 1); /* VERSION_1 */
	wr(0x24, 0);
	wr(0x20, ext ? (1u << CVMM_VIRTIO_F_INDIRECT_DESC) | (1u << CVMM_VIRTIO_F_EVENT_IDX) : 0);
	wr(0x70, 11);
	wr(0x38, qsz);
	wr(0x80, DESC);
	wr(0x90, AVAIL);
	wr(0xa0, USED);
	wr(0x44, 1);
	wr(0x70, 15);
}

/* Fresh RAM from the parsed input, activate, notify, run the loop dry. */
static void round_trip(uint32_t qsz, bool ext)
{
	uint16_t seen = 0;
	unsigned int turns = 0;

	cvmm_mem_write(mem, 0, rings, DATA);
	cvmm_mem_fill(mem, DATA, GUARD, RAM - DATA);
	memset(may, 0, sizeof(may));
	negotiate(qsz, ext);
	wr(0x50, 0);
	while (cvmm_loop_run_once(loop, 0) > 0) {
		uint32_t chains;

		if (++turns > qsz + 3)
			abort(); /* the device keeps kicking itself */
		if (collect(qsz, &seen, &chains) > 2ull * CVMM_VIRTIO_RNG_BATCH_MAX ||
		    chains > 2 * qsz)
			abort();
	}
	check_ram(qsz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t qsz;
	uint16_t idx;
	size_t at = 3;

	if (size < 3)
		return 0;
	if (!m)
		init();
	qsz = 1u << (data[0] % 7);
	memset(rings, 0, sizeof(rings));
	for (uint32_t i = 0; i < qsz && at + 5 <= size; i++, at += 5)
		put_desc(DESC + 16ull * i, data + at);
	for (uint32_t i = 0; i < qsz && at < size; i++, at++) {
		uint16_t head = data[at];

		memcpy(rings + AVAIL + 4 + 2 * i, &head, 2);
	}
	for (uint32_t i = 0; i < ITAB_ENTRIES && at + 5 <= size; i++, at += 5)
		put_desc(ITAB + 16ull * i, data + at);
	/* Mostly sane, sometimes more than a queue ahead. */
	idx = (uint16_t)(data[1] % (qsz + 3));
	memcpy(rings + AVAIL + 2, &idx, 2);
	round_trip(qsz, data[2] & 1);
	if (data[2] & 2)
		round_trip(qsz, data[2] & 1);
	return 0;
}

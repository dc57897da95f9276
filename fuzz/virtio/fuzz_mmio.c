// SPDX-License-Identifier: Apache-2.0
/* virtio-mmio register handler: the input is a sequence of register reads,
 * writes and guest-RAM pokes, against a device that drains its queues on the
 * transport's loop (driven here after each QueueNotify). The device and
 * vq_check.c trap when the transport breaks its contract: a device op out of
 * order or with bad arguments, a popped buffer outside RAM, a head completed
 * twice, a used index that does not follow the pushes. */
#include <cvmm/virtio.h>
#include <stdlib.h>
#include <string.h>

#include "vq_check.h"

#define RAM (64u * 1024)
#define NR_QUEUES 2
#define LOOP_TURNS 8

static struct cvmm_mem *mem;
static struct cvmm_loop *loop;

struct dev {
	struct cvmm_virtio_transport *t; /* NULL while not active */
	struct cvmm_virtq *const *qs;
	uint8_t config[24];
};

static void check_config(uint32_t off, uint32_t len)
{
	if ((len != 1 && len != 2 && len != 4 && len != 8) || off > 24 || len > 24 - off)
		vq_check_fail("config access %u+%u", off, len);
}

static void cfg_read(void *o, uint32_t off, void *data, uint32_t len)
{
	check_config(off, len);
	memcpy(data, ((struct dev *)o)->config + off, len);
}

static void cfg_write(void *o, uint32_t off, const void *data, uint32_t len)
{
	check_config(off, len);
	memcpy(((struct dev *)o)->config + off, data, len);
}

static int activate(void *o, struct cvmm_virtio_transport *t, uint64_t f,
		    struct cvmm_virtq *const *qs, unsigned int nr)
{
	struct dev *d = o;

	if (d->t || !t || nr != NR_QUEUES || !(f & CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1)))
		vq_check_fail("activate (active %d, nr %u, features %#llx)", d->t != NULL, nr,
			      (unsigned long long)f);
	d->t = t;
	d->qs = qs;
	return 0;
}

static void reset(void *o)
{
	struct dev *d = o;

	if (!d->t)
		vq_check_fail("reset of a device that is not active");
	d->t = NULL;
	d->qs = NULL;
}

static void notify(void *o, unsigned int q)
{
	struct dev *d = o;
	struct iovec iov[64];
	struct cvmm_virtq_chain c;
	uint8_t b[64] = {0};
	int ret;

	if (q >= NR_QUEUES)
		vq_check_fail("notify of queue %u", q);
	if (!d->t || !cvmm_virtq_ready(d->qs[q]))
		return;
	cvmm_virtq_chain_init(&c, iov, 64);
	while ((ret = cvmm_virtq_pop(d->qs[q], &c)) == 1) {
		cvmm_virtq_chain_read(&c, b, sizeof(b));
		cvmm_virtq_chain_write(&c, b, sizeof(b));
		cvmm_virtq_push(d->qs[q], &c, (uint32_t)c.written);
	}
	if (ret < 0)
		cvmm_virtio_fail(d->t, "queue %u: %s", q, cvmm_err_msg());
	else
		cvmm_virtio_notify_used(d->t, q);
	if (b[0] == 0xcc)
		cvmm_virtio_config_changed(d->t);
}

static const struct cvmm_virtio_device_ops ops = {
    .config_read = cfg_read,
    .config_write = cfg_write,
    .activate = activate,
    .reset = reset,
    .queue_notify = notify,
};

static void quiet(void *o, const char *line)
{
	(void)o;
	(void)line;
}

/* Run what the notifications queued, as the I/O thread would. */
static void drive(void)
{
	for (int i = 0; i < LOOP_TURNS && cvmm_loop_run_once(loop, 0) > 0; i++)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dev d = {0};
	struct cvmm_virtio_device desc = {.device_id = 5,
					  .features = 0xff | (1ull << 29),
					  .nr_queues = NR_QUEUES,
					  .queue_max_size = 32,
					  .config_size = sizeof(d.config),
					  .ops = &ops,
					  .opaque = &d};
	struct cvmm_virtio_mmio_opts o = {.dev = &desc, .log = quiet};
	struct cvmm_virtio_mmio *m;
	size_t i = 0;

	if (!mem) {
		if (cvmm_mem_create(&mem, RAM, NULL) < 0 || cvmm_loop_create(&loop) < 0)
			abort();
		vq_check_init(mem, RAM);
	}
	cvmm_mem_fill(mem, 0, 0, RAM);
	o.mem = mem;
	o.loop = loop;
	if (cvmm_virtio_mmio_create(&m, &o) < 0)
		abort();
	/* Op: kind(1) offset(2) len(1) value(8). */
	while (i + 12 <= size) {
		uint8_t kind = data[i];
		uint16_t off;
		uint32_t len = data[i + 3] % 9;
		uint8_t val[8];

		memcpy(&off, data + i + 1, 2);
		memcpy(val, data + i + 4, 8);
		i += 12;
		switch (kind % 4) {
		case 0: /* register op, biased to the register window */
			off %= 0x210;
			/* fallthrough */
		case 1:
			if (kind & 0x80) {
				cvmm_virtio_mmio_read(m, off, val, len ? len : 4);
				break;
			}
			cvmm_virtio_mmio_write(m, off, val, len ? len : 4);
			if (off == CVMM_VIRTIO_MMIO_NOTIFY)
				drive();
			break;
		case 2: /* guest writes 8 bytes of RAM */
			cvmm_mem_write(mem, (off * 8u) % RAM, val, 8);
			break;
		case 3: /* status write, the state machine's entry point */
			cvmm_virtio_mmio_write(m, 0x70, val, 4);
			break;
		}
	}
	drive();
	cvmm_virtio_mmio_destroy(m);
	if (d.t)
		vq_check_fail("transport destroyed without resetting the device");
	return 0;
}

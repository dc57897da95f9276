// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/virtio.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vqdrv.h"

#define RAM (1u << 20)
#define QMAX 16
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x10000

/* A device that completes every chain with len 1 and fails on a bad ring. */
struct fake {
	struct cvmm_virtio_transport *t;
	struct cvmm_virtq *const *qs;
	uint64_t features;
	int activates, resets, notifies, completed;
	uint8_t config[12];
};

static void fake_config_read(void *opaque, uint32_t off, void *data, uint32_t len)
{
	struct fake *f = opaque;

	memcpy(data, f->config + off, len);
}

static void fake_config_write(void *opaque, uint32_t off, const void *data, uint32_t len)
{
	struct fake *f = opaque;

	memcpy(f->config + off, data, len);
}

static int fake_activate(void *opaque, struct cvmm_virtio_transport *t, uint64_t features,
			 struct cvmm_virtq *const *queues, unsigned int nr)
{
	struct fake *f = opaque;

	assert_int_equal(nr, 2);
	f->t = t;
	f->qs = queues;
	f->features = features;
	f->activates++;
	return 0;
}

static void fake_reset(void *opaque)
{
	struct fake *f = opaque;

	f->resets++;
	f->t = NULL;
}

static void fake_notify(void *opaque, unsigned int q)
{
	struct fake *f = opaque;
	struct iovec iov[QMAX];
	struct cvmm_virtq_chain c;
	int ret;

	f->notifies++;
	cvmm_virtq_chain_init(&c, iov, QMAX);
	while ((ret = cvmm_virtq_pop(f->qs[q], &c)) == 1) {
		cvmm_virtq_push(f->qs[q], &c, 1);
		f->completed++;
	}
	if (ret < 0) {
		cvmm_virtio_fail(f->t, "queue %u: %s", q, cvmm_err_msg());
		return;
	}
	cvmm_virtio_notify_used(f->t, q);
}

static const struct cvmm_virtio_device_ops fake_ops = {
    .config_read = fake_config_read,
    .config_write = fake_config_write,
    .activate = fake_activate,
    .reset = fake_reset,
    .queue_notify = fake_notify,
};

struct fx {
	struct cvmm_mem *mem;
	struct cvmm_loop *loop;
	struct cvmm_virtio_mmio *m;
	struct fake dev;
	struct vqdrv drv;
	int logs;
	char last_log[400];
};

static void fx_log(void *opaque, const char *line)
{
	struct fx *f = opaque;

	f->logs++;
	snprintf(f->last_log, sizeof(f->last_log), "%s", line);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cvmm_virtio_device d = {
	    .device_id = 42,
	    .features = 1ull | CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX),
	    .nr_queues = 2,
	    .queue_max_size = QMAX,
	    .config_size = sizeof(f->dev.config),
	    .ops = &fake_ops,
	    .opaque = &f->dev,
	};
	struct cvmm_virtio_mmio_opts o;

	assert_non_null(f);
	for (unsigned int i = 0; i < sizeof(f->dev.config); i++)
		f->dev.config[i] = (uint8_t)(0x10 + i);
	assert_int_equal(cvmm_mem_create(&f->mem, RAM, NULL), 0);
	assert_int_equal(cvmm_loop_create(&f->loop), 0);
	o = (struct cvmm_virtio_mmio_opts){.mem = f->mem,
					   .dev = &d,
					   .loop = f->loop,
					   .name = "test",
					   .log = fx_log,
					   .log_opaque = f};
	assert_int_equal(cvmm_virtio_mmio_create(&f->m, &o), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	cvmm_virtio_mmio_destroy(f->m);
	cvmm_loop_destroy(f->loop);
	cvmm_mem_destroy(f->mem);
	free(f);
	return 0;
}

static uint32_t rd(struct fx *f, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	cvmm_virtio_mmio_read(f->m, off, &v, 4);
	return v;
}

/* A QueueNotify write only signals the queue's eventfd: run the loop as the
 * device's thread would, so the test sees what the device did. */
static void wr(struct fx *f, uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(f->m, off, &v, 4);
	if (off == 0x50)
		while (cvmm_loop_run_once(f->loop, 0) > 0)
			;
}

/* Driver initialisation up to FEATURES_OK; returns the status read back. */
static uint32_t negotiate(struct fx *f, uint64_t features)
{
	wr(f, 0x70, 0);
	wr(f, 0x70, CVMM_VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, 0x70, CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_DRIVER);
	wr(f, 0x24, 0);
	wr(f, 0x20, (uint32_t)features);
	wr(f, 0x24, 1);
	wr(f, 0x20, (uint32_t)(features >> 32));
	wr(f, 0x70,
	   CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_DRIVER |
	       CVMM_VIRTIO_STATUS_FEATURES_OK);
	return rd(f, 0x70);
}

static void setup_queue(struct fx *f, uint32_t q, uint32_t num, uint64_t desc, uint64_t avail,
			uint64_t used)
{
	wr(f, 0x30, q);
	wr(f, 0x38, num);
	wr(f, 0x80, (uint32_t)desc);
	wr(f, 0x84, (uint32_t)(desc >> 32));
	wr(f, 0x90, (uint32_t)avail);
	wr(f, 0x94, (uint32_t)(avail >> 32));
	wr(f, 0xa0, (uint32_t)used);
	wr(f, 0xa4, (uint32_t)(used >> 32));
	wr(f, 0x44, 1);
}

static void bring_up(struct fx *f, uint64_t features)
{
	const uint32_t ok = CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_DRIVER |
			    CVMM_VIRTIO_STATUS_FEATURES_OK;

	assert_int_equal(negotiate(f, features), ok);
	vqdrv_init(&f->drv, f->mem, QMAX, DESC, AVAIL, USED);
	setup_queue(f, 0, QMAX, DESC, AVAIL, USED);
	assert_int_equal(rd(f, 0x44), 1);
	wr(f, 0x70, ok | CVMM_VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(f, 0x70), ok | CVMM_VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->dev.activates, 1);
}

static void test_identity_and_access_rules(void **state)
{
	struct fx *f = *state;
	uint8_t b[8];
	uint16_t h;

	assert_int_equal(rd(f, 0x00), 0x74726976);
	assert_int_equal(rd(f, 0x04), 2);
	assert_int_equal(rd(f, 0x08), 42);
	assert_int_equal(rd(f, 0x0c), CVMM_VIRTIO_MMIO_VENDOR);
	wr(f, 0x14, 0);
	assert_int_equal(rd(f, 0x10), 1u | (1u << CVMM_VIRTIO_F_EVENT_IDX));
	wr(f, 0x14, 1);
	assert_int_equal(rd(f, 0x10), 1); /* VERSION_1 = bit 32 */
	wr(f, 0x14, 2);
	assert_int_equal(rd(f, 0x10), 0);
	assert_int_equal(rd(f, 0x34), QMAX);
	wr(f, 0x30, 2);
	assert_int_equal(rd(f, 0x34), 0); /* no queue 2 */
	/* Misaligned, narrow and out-of-window register accesses read 0. */
	assert_int_equal(rd(f, 0x02), 0);
	cvmm_virtio_mmio_read(f->m, 0x00, &h, 2);
	assert_int_equal(h, 0);
	cvmm_virtio_mmio_read(f->m, 0x00, b, 8);
	assert_int_equal(b[0], 0);
	assert_int_equal(rd(f, 0x200), 0);
	assert_int_equal(rd(f, UINT64_MAX - 1), 0);
	/* Config space: 1/2/4/8-byte accesses within config_size. */
	cvmm_virtio_mmio_read(f->m, 0x100, b, 8);
	assert_int_equal(b[0], 0x10);
	assert_int_equal(b[7], 0x17);
	cvmm_virtio_mmio_read(f->m, 0x10b, b, 1);
	assert_int_equal(b[0], 0x1b);
	cvmm_virtio_mmio_read(f->m, 0x10a, &h, 2);
	assert_int_equal(h, 0x1b1a);
	assert_int_equal(rd(f, 0x108), 0x1b1a1918);
	assert_int_equal(rd(f, 0x10a), 0); /* crosses the end */
	cvmm_virtio_mmio_read(f->m, 0x100, b, 3);
	assert_int_equal(b[0], 0); /* bad width */
	wr(f, 0x104, 0xcafef00d);
	assert_int_equal(rd(f, 0x104), 0xcafef00d);
	wr(f, 0x10c, 0x1); /* beyond config: ignored, no crash */
	assert_int_equal(rd(f, 0x1fc), 0);
}

static void test_features_need_version_1(void **state)
{
	struct fx *f = *state;
	const uint32_t drv = CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_DRIVER;

	assert_int_equal(negotiate(f, 1), drv);
	assert_true(f->logs >= 1);
	assert_non_null(strstr(f->last_log, "VERSION_1"));
	/* Unoffered feature bit 3 is refused too. */
	assert_int_equal(negotiate(f, CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1) | 8), drv);
	assert_int_equal(negotiate(f, CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1) | 1),
			 drv | CVMM_VIRTIO_STATUS_FEATURES_OK);
	/* DRIVER_OK without FEATURES_OK does not activate. */
	wr(f, 0x70, 0);
	wr(f, 0x70, drv);
	wr(f, 0x70, drv | CVMM_VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(f, 0x70), drv);
	assert_int_equal(f->dev.activates, 0);
	/* DRIVER without ACKNOWLEDGE is ignored. */
	wr(f, 0x70, 0);
	wr(f, 0x70, CVMM_VIRTIO_STATUS_DRIVER);
	assert_int_equal(rd(f, 0x70), 0);
}

static void test_queue_setup_and_reset(void **state)
{
	struct fx *f = *state;
	const uint64_t feat = CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1) | 1;

	/* Queue enable before FEATURES_OK is ignored. */
	setup_queue(f, 0, QMAX, DESC, AVAIL, USED);
	assert_int_equal(rd(f, 0x44), 0);
	bring_up(f, feat);
	assert_int_equal(f->dev.features, feat);
	assert_int_equal(rd(f, 0x80), DESC);
	assert_int_equal(rd(f, 0x90), AVAIL);
	assert_int_equal(rd(f, 0xa0), USED);
	/* Setup after DRIVER_OK is ignored. */
	wr(f, 0x30, 1);
	setup_queue(f, 1, QMAX, DESC + 0x4000, AVAIL + 0x4000, USED + 0x4000);
	assert_int_equal(rd(f, 0x44), 0);
	wr(f, 0x30, 0);
	wr(f, 0x44, 0);
	assert_int_equal(rd(f, 0x44), 1);
	/* Reset: device reset op, queues cleared, status 0. */
	wr(f, 0x70, 0);
	assert_int_equal(f->dev.resets, 1);
	assert_int_equal(rd(f, 0x70), 0);
	assert_int_equal(rd(f, 0x44), 0);
	assert_int_equal(rd(f, 0x80), 0);
	/* Bad ring configuration: queue stays disabled. */
	negotiate(f, feat);
	setup_queue(f, 0, 12, DESC, AVAIL, USED);
	assert_int_equal(rd(f, 0x44), 0);
	setup_queue(f, 0, QMAX, RAM - 16, AVAIL, USED);
	assert_int_equal(rd(f, 0x44), 0);
	setup_queue(f, 0, 2 * QMAX, DESC, AVAIL, USED);
	assert_int_equal(rd(f, 0x44), 0);
}

static void test_notify_and_interrupt(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf b = {BUF, 8, true};
	int irq = cvmm_virtio_mmio_irq_fd(f->m);
	uint64_t n;
	uint32_t id, len;

	bring_up(f, CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1));
	/* Direct QueueNotify register write. */
	vqdrv_add(&f->drv, &b, 1);
	wr(f, 0x50, 0);
	assert_int_equal(f->dev.completed, 1);
	assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 1);
	assert_int_equal(len, 1);
	assert_int_equal(cvmm_eventfd_drain(irq, &n), 0);
	assert_int_equal(rd(f, 0x60), 1);
	wr(f, 0x64, 1);
	assert_int_equal(rd(f, 0x60), 0);
	/* Notifications for a missing or disabled queue are ignored. */
	wr(f, 0x50, 1);
	wr(f, 0x50, 7);
	assert_int_equal(f->dev.notifies, 1);
	/* The queue's ioeventfd, dispatched by the loop. */
	vqdrv_add(&f->drv, &b, 1);
	assert_int_equal(cvmm_eventfd_signal(cvmm_virtio_mmio_notify_fd(f->m, 0)), 0);
	assert_int_equal(cvmm_loop_run_once(f->loop, 1000), 1);
	assert_int_equal(f->dev.completed, 2);
	assert_int_equal(cvmm_eventfd_drain(irq, &n), 0);
	assert_int_equal(cvmm_virtio_mmio_notify_fd(f->m, 2), -EINVAL);
	/* Driver suppresses interrupts. */
	vqdrv_set_avail_flags(&f->drv, CVMM_VIRTQ_AVAIL_F_NO_INTERRUPT);
	vqdrv_add(&f->drv, &b, 1);
	wr(f, 0x50, 0);
	assert_int_equal(f->dev.completed, 3);
	assert_int_equal(cvmm_eventfd_drain(irq, &n), -EAGAIN);
}

static void test_config_change(void **state)
{
	struct fx *f = *state;
	uint64_t n;

	bring_up(f, CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1));
	assert_int_equal(rd(f, 0xfc), 0);
	assert_int_equal(cvmm_virtio_config_changed(f->dev.t), 0);
	assert_int_equal(rd(f, 0xfc), 1);
	assert_int_equal(rd(f, 0x60), 2);
	assert_int_equal(cvmm_eventfd_drain(cvmm_virtio_mmio_irq_fd(f->m), &n), 0);
}

static void test_malformed_ring_needs_reset(void **state)
{
	struct fx *f = *state;
	const uint32_t up = CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_DRIVER |
			    CVMM_VIRTIO_STATUS_FEATURES_OK | CVMM_VIRTIO_STATUS_DRIVER_OK;
	struct vqdrv_buf b = {BUF, 8, true};
	uint64_t n;

	bring_up(f, CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1));
	f->logs = 0;
	vqdrv_desc(&f->drv, DESC, 0, BUF, 8, CVMM_VIRTQ_DESC_F_NEXT, 0); /* self loop */
	vqdrv_publish(&f->drv, 0);
	wr(f, 0x50, 0);
	assert_int_equal(rd(f, 0x70), up | CVMM_VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(cvmm_virtio_mmio_status(f->m), up | CVMM_VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(rd(f, 0x60) & 2, 2);
	assert_int_equal(cvmm_eventfd_drain(cvmm_virtio_mmio_irq_fd(f->m), &n), 0);
	assert_int_equal(f->logs, 1);
	assert_non_null(strstr(f->last_log, "needs reset"));
	/* Further notifications do not reach the device; logs are rate-limited. */
	wr(f, 0x50, 0);
	wr(f, 0x50, 0);
	assert_int_equal(f->dev.notifies, 1);
	/* The driver's status write cannot clear NEEDS_RESET; a reset does. */
	wr(f, 0x70, up);
	assert_int_equal(rd(f, 0x70) & CVMM_VIRTIO_STATUS_NEEDS_RESET,
			 CVMM_VIRTIO_STATUS_NEEDS_RESET);
	wr(f, 0x70, 0);
	assert_int_equal(rd(f, 0x70), 0);
	assert_int_equal(f->dev.resets, 1);
	{
		const uint32_t ok = CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_DRIVER |
				    CVMM_VIRTIO_STATUS_FEATURES_OK;

		assert_int_equal(negotiate(f, CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1)), ok);
		vqdrv_init(&f->drv, f->mem, QMAX, DESC, AVAIL, USED);
		setup_queue(f, 0, QMAX, DESC, AVAIL, USED);
		wr(f, 0x70, ok | CVMM_VIRTIO_STATUS_DRIVER_OK);
	}
	vqdrv_add(&f->drv, &b, 1);
	wr(f, 0x50, 0);
	assert_int_equal(f->dev.completed, 1);
	assert_int_equal(rd(f, 0x70), up);
}

static void test_status_keeps_defined_bits(void **state)
{
	struct fx *f = *state;

	wr(f, 0x70, 0xbfbfbf00 | CVMM_VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(rd(f, 0x70), CVMM_VIRTIO_STATUS_ACKNOWLEDGE);
	/* NEEDS_RESET is the device's to set. */
	wr(f, 0x70, CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(rd(f, 0x70), CVMM_VIRTIO_STATUS_ACKNOWLEDGE);
}

static void test_bad_device_refused(void **state)
{
	struct fx *f = *state;
	struct cvmm_virtio_device d = {.device_id = 1,
				       .nr_queues = 1,
				       .queue_max_size = 12,
				       .config_size = 0,
				       .ops = &fake_ops};
	struct cvmm_virtio_mmio_opts o = {.mem = f->mem, .dev = &d};
	struct cvmm_virtio_mmio *m;

	d.queue_max_size = 16;
	assert_int_equal(cvmm_virtio_mmio_create(&m, &o), -EINVAL); /* no loop */
	o.loop = f->loop;
	d.queue_max_size = 12;
	assert_int_equal(cvmm_virtio_mmio_create(&m, &o), -EINVAL);
	d.queue_max_size = 16;
	d.config_size = 0x101;
	assert_int_equal(cvmm_virtio_mmio_create(&m, &o), -EINVAL);
	d.config_size = 0;
	d.nr_queues = 0;
	assert_int_equal(cvmm_virtio_mmio_create(&m, &o), -EINVAL);
	d.nr_queues = 1;
	assert_int_equal(cvmm_virtio_mmio_create(&m, &o), 0);
	cvmm_virtio_mmio_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity_and_access_rules, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_features_need_version_1, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_queue_setup_and_reset, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_notify_and_interrupt, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_config_change, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_ring_needs_reset, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_status_keeps_defined_bits, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_device_refused, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

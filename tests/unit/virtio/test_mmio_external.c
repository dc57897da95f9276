// SPDX-License-Identifier: Apache-2.0
/* External queues (processed by a vhost worker): the transport leaves their
 * notify eventfds to the device and raises used interrupts on request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/virtio.h>
#include <errno.h>
#include <poll.h>

struct ext {
	struct cvmm_virtio_transport *t;
	int notifies;
};

static void ext_config_read(void *opaque, uint32_t off, void *data, uint32_t len)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)len;
}

static int ext_activate(void *opaque, struct cvmm_virtio_transport *t, uint64_t features,
			struct cvmm_virtq *const *queues, unsigned int nr)
{
	struct ext *e = opaque;

	(void)features;
	(void)queues;
	(void)nr;
	e->t = t;
	return 0;
}

static void ext_reset(void *opaque)
{
	((struct ext *)opaque)->t = NULL;
}

static void ext_notify(void *opaque, unsigned int q)
{
	(void)q;
	((struct ext *)opaque)->notifies++;
}

static const struct cvmm_virtio_device_ops ext_ops = {
    .config_read = ext_config_read,
    .activate = ext_activate,
    .reset = ext_reset,
    .queue_notify = ext_notify,
};

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

static void wr(struct cvmm_virtio_mmio *m, uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(m, off, &v, 4);
}

static uint32_t rd(struct cvmm_virtio_mmio *m, uint64_t off)
{
	uint32_t v = 0;

	cvmm_virtio_mmio_read(m, off, &v, 4);
	return v;
}

static void test_external(void **state)
{
	struct ext e = {0};
	struct cvmm_virtio_device dev = {.device_id = 1,
					 .nr_queues = 2,
					 .queue_max_size = 16,
					 .ops = &ext_ops,
					 .opaque = &e,
					 .external_queues = 2};
	struct cvmm_mem *mem;
	struct cvmm_loop *loop;
	struct cvmm_virtio_mmio *m;
	struct cvmm_virtio_transport *t;
	int fd1;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, 1 << 20, NULL), 0);
	assert_int_equal(cvmm_loop_create(&loop), 0);
	assert_int_equal(cvmm_virtio_mmio_create(&m, &(struct cvmm_virtio_mmio_opts){
							 .mem = mem, .dev = &dev, .loop = loop}),
			 0);
	t = cvmm_virtio_mmio_transport(m);
	fd1 = cvmm_virtio_queue_notify_fd(t, 1);
	assert_int_equal(fd1, cvmm_virtio_mmio_notify_fd(m, 1));
	assert_int_equal(cvmm_virtio_queue_notify_fd(t, 0), -EINVAL);
	assert_int_equal(cvmm_virtio_queue_notify_fd(t, 2), -EINVAL);
	/* A QueueNotify write for the external queue lands on its eventfd and
	 * stays there for the worker: the loop does not consume it. */
	wr(m, CVMM_VIRTIO_MMIO_NOTIFY, 1);
	assert_true(readable(fd1));
	while (cvmm_loop_run_once(loop, 0) > 0)
		;
	assert_true(readable(fd1));
	assert_int_equal(e.notifies, 0);
	/* A used interrupt on request, with InterruptStatus bit 0. */
	assert_false(readable(cvmm_virtio_mmio_irq_fd(m)));
	cvmm_virtio_raise_used(t);
	assert_true(readable(cvmm_virtio_mmio_irq_fd(m)));
	assert_int_equal(rd(m, 0x60), 1);
	cvmm_virtio_mmio_destroy(m);
	/* An external bit beyond the device's queues is refused. */
	dev.external_queues = 4;
	assert_int_equal(cvmm_virtio_mmio_create(&m, &(struct cvmm_virtio_mmio_opts){
							 .mem = mem, .dev = &dev, .loop = loop}),
			 -EINVAL);
	cvmm_loop_destroy(loop);
	cvmm_mem_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_external),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

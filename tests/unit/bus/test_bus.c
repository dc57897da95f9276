// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/bus.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

/* A device that records its last access and answers reads with its id. */
struct dev {
	uint8_t id;
	uint64_t offset;
	uint32_t len;
	uint8_t wbuf[8];
	unsigned int reads, writes;
};

static void dev_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
	struct dev *d = opaque;

	d->offset = offset;
	d->len = len;
	d->reads++;
	memset(data, d->id, len);
}

static void dev_write(void *opaque, uint64_t offset, const void *data, uint32_t len)
{
	struct dev *d = opaque;

	d->offset = offset;
	d->len = len;
	d->writes++;
	memcpy(d->wbuf, data, len < sizeof(d->wbuf) ? len : sizeof(d->wbuf));
}

static const struct cvmm_bus_ops dev_ops = {.read = dev_read, .write = dev_write};

static void test_overlap_refused(void **state)
{
	struct cvmm_bus *bus;
	struct dev a = {.id = 1};

	(void)state;
	assert_int_equal(cvmm_bus_create(&bus, "pio"), 0);
	assert_int_equal(cvmm_bus_register(bus, 0x3f8, 8, &dev_ops, &a), 0);
	assert_int_equal(cvmm_bus_register(bus, 0x3f8, 8, &dev_ops, &a), -EEXIST);
	assert_non_null(strstr(cvmm_err_msg(), "overlaps"));
	assert_int_equal(cvmm_bus_register(bus, 0x3f0, 9, &dev_ops, &a), -EEXIST);
	assert_int_equal(cvmm_bus_register(bus, 0x3ff, 1, &dev_ops, &a), -EEXIST);
	assert_int_equal(cvmm_bus_register(bus, 0x3fa, 1, &dev_ops, &a), -EEXIST);
	assert_int_equal(cvmm_bus_register(bus, 0x300, 0x200, &dev_ops, &a), -EEXIST);
	/* Adjacent on both sides is fine. */
	assert_int_equal(cvmm_bus_register(bus, 0x3f0, 8, &dev_ops, &a), 0);
	assert_int_equal(cvmm_bus_register(bus, 0x400, 1, &dev_ops, &a), 0);
	cvmm_bus_destroy(bus);
}

static void test_bad_ranges_refused(void **state)
{
	struct cvmm_bus *bus;
	struct dev a = {.id = 1};

	(void)state;
	assert_int_equal(cvmm_bus_create(&bus, "mmio"), 0);
	assert_int_equal(cvmm_bus_register(bus, 0x1000, 0, &dev_ops, &a), -EINVAL);
	assert_int_equal(cvmm_bus_register(bus, UINT64_MAX, 2, &dev_ops, &a), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "wraps"));
	assert_int_equal(cvmm_bus_register(bus, 0x1000, 0x10, NULL, &a), -EINVAL);
	/* Ending exactly at 2^64 is allowed and reachable. */
	assert_int_equal(cvmm_bus_register(bus, UINT64_MAX - 0xf, 0x10, &dev_ops, &a), 0);
	assert_int_equal(cvmm_bus_write(bus, UINT64_MAX - 3, "abcd", 4), 0);
	assert_int_equal(a.offset, 0xc);
	assert_int_equal(cvmm_bus_write(bus, UINT64_MAX - 2, "abcd", 4), -ENOENT);
	cvmm_bus_destroy(bus);
}

static void test_dispatch_offsets_and_boundaries(void **state)
{
	struct cvmm_bus *bus;
	struct dev a = {.id = 0xa1}, b = {.id = 0xb2};
	uint8_t buf[8];

	(void)state;
	assert_int_equal(cvmm_bus_create(&bus, "mmio"), 0);
	assert_int_equal(cvmm_bus_register(bus, 0xd0000000, 0x1000, &dev_ops, &a), 0);
	assert_int_equal(cvmm_bus_register(bus, 0xd0001000, 0x1000, &dev_ops, &b), 0);

	assert_int_equal(cvmm_bus_read(bus, 0xd0000000, buf, 4), 0);
	assert_int_equal(a.offset, 0);
	assert_int_equal(a.len, 4);
	assert_int_equal(buf[0], 0xa1);
	assert_int_equal(cvmm_bus_read(bus, 0xd0000ff8, buf, 8), 0);
	assert_int_equal(a.offset, 0xff8);
	assert_int_equal(cvmm_bus_read(bus, 0xd0001000, buf, 1), 0);
	assert_int_equal(b.offset, 0);
	assert_int_equal(buf[0], 0xb2);
	assert_int_equal(cvmm_bus_write(bus, 0xd0001ffc, "\x11\x22\x33\x44", 4), 0);
	assert_int_equal(b.offset, 0xffc);
	assert_memory_equal(b.wbuf, "\x11\x22\x33\x44", 4);
	assert_int_equal(a.writes, 0);
	cvmm_bus_destroy(bus);
}

static void test_straddling_is_unclaimed(void **state)
{
	struct cvmm_bus *bus;
	struct dev a = {.id = 0xa1}, b = {.id = 0xb2};
	uint8_t buf[4] = {0};

	(void)state;
	assert_int_equal(cvmm_bus_create(&bus, "mmio"), 0);
	assert_int_equal(cvmm_bus_register(bus, 0x1000, 0x10, &dev_ops, &a), 0);
	assert_int_equal(cvmm_bus_register(bus, 0x1010, 0x10, &dev_ops, &b), 0);
	/* Straddles a's end into b: belongs to neither. */
	assert_int_equal(cvmm_bus_read(bus, 0x100e, buf, 4), -ENOENT);
	assert_memory_equal(buf, "\xff\xff\xff\xff", 4);
	/* Straddles b's end into nothing, and starts before a. */
	assert_int_equal(cvmm_bus_write(bus, 0x101e, "abcd", 4), -ENOENT);
	assert_int_equal(cvmm_bus_write(bus, 0xffe, "abcd", 4), -ENOENT);
	assert_int_equal(a.reads + a.writes + b.reads + b.writes, 0);
	cvmm_bus_destroy(bus);
}

static void test_unclaimed_reads_fill_ones(void **state)
{
	struct cvmm_bus *bus;
	uint8_t buf[8];

	(void)state;
	assert_int_equal(cvmm_bus_create(&bus, "pio"), 0);
	memset(buf, 0, sizeof(buf));
	cvmm_err_clear();
	assert_int_equal(cvmm_bus_read(bus, 0x80, buf, 2), -ENOENT);
	assert_memory_equal(buf, "\xff\xff\0\0", 4);
	/* An expected miss on the dispatch path records no message. */
	assert_string_equal(cvmm_err_msg(), "");
	assert_int_equal(cvmm_bus_write(bus, 0x80, "x", 1), -ENOENT);
	assert_int_equal(cvmm_bus_read(bus, 0x80, buf, 0), -EINVAL);
	assert_int_equal(cvmm_bus_read(bus, UINT64_MAX, buf, 8), -ENOENT);
	cvmm_bus_destroy(bus);
}

static void test_null_ops_claim_the_range(void **state)
{
	const struct cvmm_bus_ops none = {0};
	struct cvmm_bus *bus;
	uint8_t buf[2] = {0};

	(void)state;
	assert_int_equal(cvmm_bus_create(&bus, "pio"), 0);
	assert_int_equal(cvmm_bus_register(bus, 0x80, 1, &none, NULL), 0);
	assert_int_equal(cvmm_bus_read(bus, 0x80, buf, 1), 0);
	assert_int_equal(buf[0], 0xff);
	assert_int_equal(cvmm_bus_write(bus, 0x80, "x", 1), 0);
	cvmm_bus_destroy(bus);
}

static void test_unregister(void **state)
{
	struct cvmm_bus *bus;
	struct dev a = {.id = 1};
	uint8_t buf[1];

	(void)state;
	assert_int_equal(cvmm_bus_create(&bus, "pio"), 0);
	assert_int_equal(cvmm_bus_register(bus, 0x60, 1, &dev_ops, &a), 0);
	assert_int_equal(cvmm_bus_unregister(bus, 0x61), -ENOENT);
	assert_int_equal(cvmm_bus_unregister(bus, 0x60), 0);
	assert_int_equal(cvmm_bus_unregister(bus, 0x60), -ENOENT);
	assert_int_equal(cvmm_bus_read(bus, 0x60, buf, 1), -ENOENT);
	assert_int_equal(a.reads, 0);
	assert_int_equal(cvmm_bus_register(bus, 0x60, 1, &dev_ops, &a), 0);
	assert_int_equal(cvmm_bus_read(bus, 0x60, buf, 1), 0);
	cvmm_bus_destroy(bus);
}

#define MANY 1000

static void test_many_ranges(void **state)
{
	static struct dev devs[MANY];
	struct cvmm_bus *bus;
	uint8_t buf[4];

	(void)state;
	assert_int_equal(cvmm_bus_create(&bus, "mmio"), 0);
	/* Register in a scrambled order; ranges of 0x10 bytes with 0x10-byte gaps. */
	for (unsigned int k = 0; k < MANY; k++) {
		unsigned int i = (k * 617) % MANY;

		devs[i].id = (uint8_t)i;
		assert_int_equal(
		    cvmm_bus_register(bus, 0x10000 + i * 0x20, 0x10, &dev_ops, &devs[i]), 0);
	}
	for (unsigned int i = 0; i < MANY; i++) {
		uint64_t base = 0x10000 + i * 0x20;

		assert_int_equal(cvmm_bus_read(bus, base + 0xc, buf, 4), 0);
		assert_int_equal(buf[0], (uint8_t)i);
		assert_int_equal(devs[i].offset, 0xc);
		assert_int_equal(cvmm_bus_read(bus, base + 0x10, buf, 1), -ENOENT);
		assert_int_equal(cvmm_bus_read(bus, base + 0xe, buf, 4), -ENOENT);
	}
	for (unsigned int i = 0; i < MANY; i += 2)
		assert_int_equal(cvmm_bus_unregister(bus, 0x10000 + i * 0x20), 0);
	for (unsigned int i = 0; i < MANY; i++)
		assert_int_equal(cvmm_bus_read(bus, 0x10000 + i * 0x20, buf, 1),
				 i % 2 ? 0 : -ENOENT);
	cvmm_bus_destroy(bus);
}

struct hammer {
	struct cvmm_bus *bus;
	int bad;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	uint8_t buf[4];

	for (int n = 0; n < 20000; n++) {
		int ret = cvmm_bus_read(h->bus, 0x1000 + (n % 4) * 0x100, buf, 4);

		/* Range 0 is always there; the others come and go. */
		if ((n % 4 == 0 && ret != 0) || (ret == 0 && buf[0] != (uint8_t)(n % 4)) ||
		    (ret != 0 && ret != -ENOENT))
			h->bad++;
	}
	return NULL;
}

/* Reads return the opaque value as the fill byte. */
static void id_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
	(void)offset;
	memset(data, (int)(uintptr_t)opaque, len);
}

static void test_concurrent_dispatch_and_registration(void **state)
{
	static const struct cvmm_bus_ops ops = {.read = id_read};
	struct hammer h[4];
	pthread_t t[4];
	struct cvmm_bus *bus;

	(void)state;
	assert_int_equal(cvmm_bus_create(&bus, "mmio"), 0);
	assert_int_equal(cvmm_bus_register(bus, 0x1000, 0x100, &ops, (void *)0), 0);
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){.bus = bus};
		assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
	}
	for (int n = 0; n < 2000; n++) {
		uintptr_t i = 1 + n % 3;

		assert_int_equal(cvmm_bus_register(bus, 0x1000 + i * 0x100, 0x100, &ops, (void *)i),
				 0);
		assert_int_equal(cvmm_bus_unregister(bus, 0x1000 + i * 0x100), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(h[i].bad, 0);
	}
	cvmm_bus_destroy(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_overlap_refused),
	    cmocka_unit_test(test_bad_ranges_refused),
	    cmocka_unit_test(test_dispatch_offsets_and_boundaries),
	    cmocka_unit_test(test_straddling_is_unclaimed),
	    cmocka_unit_test(test_unclaimed_reads_fill_ones),
	    cmocka_unit_test(test_null_ops_claim_the_range),
	    cmocka_unit_test(test_unregister),
	    cmocka_unit_test(test_many_ranges),
	    cmocka_unit_test(test_concurrent_dispatch_and_registration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

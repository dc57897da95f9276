// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/superio.h>
#include <string.h>
#include <time.h>

static uint8_t cmos(struct cvmm_rtc *r, uint8_t idx)
{
	uint8_t v;

	cvmm_rtc_write(r, 0, &idx, 1);
	cvmm_rtc_read(r, 1, &v, 1);
	return v;
}

static void cmos_set(struct cvmm_rtc *r, uint8_t idx, uint8_t v)
{
	cvmm_rtc_write(r, 0, &idx, 1);
	cvmm_rtc_write(r, 1, &v, 1);
}

static bool is_bcd(uint8_t v, unsigned int max)
{
	return (v & 0x0f) <= 9 && (v >> 4) <= 9 &&
	       (unsigned int)((v >> 4) * 10 + (v & 0x0f)) <= max;
}

/* 2024-03-09 17:45:30 UTC, a Saturday. */
static time_t fixed_now(void *opaque)
{
	struct tm tm = {
	    .tm_year = 124, .tm_mon = 2, .tm_mday = 9, .tm_hour = 17, .tm_min = 45, .tm_sec = 30};

	(void)opaque;
	return timegm(&tm);
}

static void test_host_clock_is_valid_bcd(void **state)
{
	struct cvmm_rtc *r;

	(void)state;
	assert_int_equal(cvmm_rtc_create(&r, NULL), 0);
	assert_true(is_bcd(cmos(r, 0x00), 59));
	assert_true(is_bcd(cmos(r, 0x02), 59));
	assert_true(is_bcd(cmos(r, 0x04), 23));
	assert_true(cmos(r, 0x06) >= 1 && cmos(r, 0x06) <= 7);
	assert_true(is_bcd(cmos(r, 0x07), 31) && cmos(r, 0x07) >= 1);
	assert_true(is_bcd(cmos(r, 0x08), 12) && cmos(r, 0x08) >= 1);
	assert_true(is_bcd(cmos(r, 0x09), 99));
	assert_int_equal(cmos(r, 0x32), 0x20);
	assert_int_equal(cmos(r, 0x0a) & 0x80, 0); /* no update in progress */
	assert_int_equal(cmos(r, 0x0b), 0x02);
	assert_int_equal(cmos(r, 0x0c), 0);
	assert_int_equal(cmos(r, 0x0d), 0x80); /* valid RAM and time */
	cvmm_rtc_destroy(r);
}

static void test_formats(void **state)
{
	struct cvmm_rtc_cfg cfg = {.now = fixed_now};
	struct cvmm_rtc *r;

	(void)state;
	assert_int_equal(cvmm_rtc_create(&r, &cfg), 0);
	assert_int_equal(cmos(r, 0x00), 0x30);
	assert_int_equal(cmos(r, 0x02), 0x45);
	assert_int_equal(cmos(r, 0x04), 0x17);
	assert_int_equal(cmos(r, 0x06), 7);
	assert_int_equal(cmos(r, 0x07), 0x09);
	assert_int_equal(cmos(r, 0x08), 0x03);
	assert_int_equal(cmos(r, 0x09), 0x24);
	/* 12-hour BCD: 5 PM. */
	cmos_set(r, 0x0b, 0x00);
	assert_int_equal(cmos(r, 0x04), 0x85);
	/* Binary, 24-hour. */
	cmos_set(r, 0x0b, 0x06);
	assert_int_equal(cmos(r, 0x00), 30);
	assert_int_equal(cmos(r, 0x04), 17);
	assert_int_equal(cmos(r, 0x09), 24);
	assert_int_equal(cmos(r, 0x32), 20);
	/* Binary, 12-hour. */
	cmos_set(r, 0x0b, 0x04);
	assert_int_equal(cmos(r, 0x04), 0x80 | 5);
	cvmm_rtc_destroy(r);
}

static void test_writes(void **state)
{
	struct cvmm_rtc_cfg cfg = {.now = fixed_now};
	struct cvmm_rtc *r;

	(void)state;
	assert_int_equal(cvmm_rtc_create(&r, &cfg), 0);
	cmos_set(r, 0x00, 0x11); /* the clock cannot be set */
	assert_int_equal(cmos(r, 0x00), 0x30);
	cmos_set(r, 0x0d, 0x00);
	assert_int_equal(cmos(r, 0x0d), 0x80);
	cmos_set(r, 0x0a, 0xa6); /* UIP is read-only */
	assert_int_equal(cmos(r, 0x0a), 0x26);
	cmos_set(r, 0x01, 0x59); /* alarm bytes are storage */
	assert_int_equal(cmos(r, 0x01), 0x59);
	for (unsigned int i = 0x0e; i < 0x80; i++)
		if (i != 0x32)
			cmos_set(r, (uint8_t)i, (uint8_t)(i ^ 0xa5));
	for (unsigned int i = 0x0e; i < 0x80; i++)
		if (i != 0x32)
			assert_int_equal(cmos(r, (uint8_t)i), i ^ 0xa5);
	/* NMI-disable bit in the index is ignored. */
	assert_int_equal(cmos(r, 0x80 | 0x40), 0x40 ^ 0xa5);
	cvmm_rtc_destroy(r);
}

static void test_mem_size(void **state)
{
	struct cvmm_rtc *r;

	(void)state;
	assert_int_equal(cvmm_rtc_create(&r, NULL), 0);
	cvmm_rtc_set_mem_size(r, 3ULL << 30, 5ULL << 30);
	assert_int_equal(cmos(r, 0x15) | cmos(r, 0x16) << 8, 640);
	assert_int_equal(cmos(r, 0x17) | cmos(r, 0x18) << 8, 0xffff);
	assert_int_equal(cmos(r, 0x30) | cmos(r, 0x31) << 8, 0xffff);
	assert_int_equal(cmos(r, 0x34) | cmos(r, 0x35) << 8, ((3ULL << 30) - (16 << 20)) >> 16);
	assert_int_equal(cmos(r, 0x5b) | cmos(r, 0x5c) << 8 | cmos(r, 0x5d) << 16,
			 (5ULL << 30) >> 16);
	cvmm_rtc_set_mem_size(r, 8 << 20, 0);
	assert_int_equal(cmos(r, 0x17) | cmos(r, 0x18) << 8, 7 * 1024);
	assert_int_equal(cmos(r, 0x34) | cmos(r, 0x35) << 8, 0);
	assert_int_equal(cmos(r, 0x5b) | cmos(r, 0x5c) << 8 | cmos(r, 0x5d) << 16, 0);
	cvmm_rtc_destroy(r);
}

static void test_odd_accesses(void **state)
{
	struct cvmm_rtc *r;
	uint8_t buf[4];

	(void)state;
	assert_int_equal(cvmm_rtc_create(&r, NULL), 0);
	cmos_set(r, 0x20, 0x77);
	/* 0x70 reads as open bus; a 2-byte read at 0x70 gets the data byte second. */
	cvmm_rtc_read(r, 0, buf, 2);
	assert_memory_equal(buf, "\xff\x77", 2);
	cvmm_rtc_read(r, 1, buf, 3);
	assert_memory_equal(buf, "\x77\xff\xff", 3);
	cvmm_rtc_read(r, UINT64_MAX, buf, 4);
	assert_memory_equal(buf, "\xff\xff\xff\xff", 4);
	/* A 2-byte write at 0x70 is index then data. */
	cvmm_rtc_write(r, 0, "\x21\x42", 2);
	assert_int_equal(cmos(r, 0x21), 0x42);
	cvmm_rtc_write(r, UINT64_MAX, "\x20\x00", 2);
	cvmm_rtc_write(r, 2, "\x20\x00", 2);
	assert_int_equal(cmos(r, 0x20), 0x77);
	cvmm_rtc_destroy(r);
	cvmm_rtc_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_clock_is_valid_bcd),
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_writes),
	    cmocka_unit_test(test_mem_size),
	    cmocka_unit_test(test_odd_accesses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

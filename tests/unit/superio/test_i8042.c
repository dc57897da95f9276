// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/superio.h>
#include <errno.h>
#include <string.h>

struct host {
	struct cvmm_i8042 *kbd;
	unsigned int resets;
	bool level;
};

static void host_reset(void *opaque)
{
	((struct host *)opaque)->resets++;
}

static void host_irq(void *opaque, bool level)
{
	((struct host *)opaque)->level = level;
}

static int setup(void **state)
{
	static struct host h;
	struct cvmm_i8042_cfg cfg = {.reset = host_reset, .set_irq = host_irq, .opaque = &h};

	memset(&h, 0, sizeof(h));
	if (cvmm_i8042_create(&h.kbd, &cfg))
		return -1;
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	cvmm_i8042_destroy(((struct host *)*state)->kbd);
	return 0;
}

static uint8_t status(struct host *h)
{
	uint8_t v;

	cvmm_i8042_read(h->kbd, 4, &v, 1);
	return v;
}

static uint8_t data(struct host *h)
{
	uint8_t v;

	cvmm_i8042_read(h->kbd, 0, &v, 1);
	return v;
}

static void cmd(struct host *h, uint8_t c)
{
	cvmm_i8042_write(h->kbd, 4, &c, 1);
}

static void put(struct host *h, uint8_t d)
{
	cvmm_i8042_write(h->kbd, 0, &d, 1);
}

static void test_fe_resets(void **state)
{
	struct host *h = *state;

	cmd(h, 0xfe);
	assert_int_equal(h->resets, 1);
	cmd(h, 0xff); /* pulses no line */
	assert_int_equal(h->resets, 1);
	cmd(h, 0xf0); /* pulses all four, reset included */
	assert_int_equal(h->resets, 2);
}

static void test_output_port_reset(void **state)
{
	struct host *h = *state;

	cmd(h, 0xd0);
	assert_int_equal(data(h), 0x03);
	cmd(h, 0xd1);
	put(h, 0x03);
	assert_int_equal(h->resets, 0);
	cmd(h, 0xd1);
	put(h, 0x02);
	assert_int_equal(h->resets, 1);
	/* A data write without 0xD1 before it is not an output port write. */
	put(h, 0x00);
	assert_int_equal(h->resets, 1);
}

static void test_command_byte(void **state)
{
	struct host *h = *state;

	cmd(h, 0x20);
	assert_int_equal(status(h) & 0x01, 0x01);
	assert_true(h->level); /* keyboard interrupt enabled by default */
	assert_int_equal(data(h), 0x45);
	assert_false(h->level);
	assert_int_equal(status(h) & 0x01, 0);
	cmd(h, 0x60);
	assert_int_equal(status(h) & 0x08, 0x08); /* last write was a command */
	put(h, 0x30);
	assert_int_equal(status(h) & 0x08, 0);
	cmd(h, 0x20);
	assert_false(h->level); /* interrupt now disabled */
	assert_int_equal(data(h), 0x30);
	assert_int_equal(status(h) & 0x04, 0); /* SYS flag follows the command byte */
	cmd(h, 0xae);
	cmd(h, 0xa8);
	cmd(h, 0x20);
	assert_int_equal(data(h), 0x00);
	cmd(h, 0xad);
	cmd(h, 0xa7);
	cmd(h, 0x20);
	assert_int_equal(data(h), 0x30);
}

static void test_self_tests_and_empty_reads(void **state)
{
	struct host *h = *state;

	assert_int_equal(data(h), 0);
	assert_int_equal(status(h), 0x14);
	cmd(h, 0xaa);
	assert_int_equal(data(h), 0x55);
	cmd(h, 0xab);
	assert_int_equal(status(h) & 1, 1);
	assert_int_equal(data(h), 0x00);
	assert_int_equal(status(h) & 1, 0);
	assert_int_equal(data(h), 0);
	cmd(h, 0x12); /* unknown commands are ignored */
	assert_int_equal(status(h) & 1, 0);
}

static void test_odd_accesses(void **state)
{
	struct host *h = *state;
	uint8_t buf[8];

	cvmm_i8042_read(h->kbd, 1, buf, 3);
	assert_memory_equal(buf, "\xff\xff\xff", 3);
	cvmm_i8042_read(h->kbd, 5, buf, 2);
	assert_memory_equal(buf, "\xff\xff", 2);
	cvmm_i8042_read(h->kbd, UINT64_MAX, buf, 8);
	cvmm_i8042_write(h->kbd, UINT64_MAX, "\xfe\xfe\xfe\xfe", 4);
	cvmm_i8042_write(h->kbd, 1, "\xfe\xfe\xfe", 3);
	assert_int_equal(h->resets, 0);
	/* A 16-bit write at 3 reaches port 0x64 with its second byte. */
	cvmm_i8042_write(h->kbd, 3, "\x00\xfe", 2);
	assert_int_equal(h->resets, 1);
}

struct edges {
	unsigned int rises;
	bool level;
};

static void count_edges(void *opaque, bool level)
{
	struct edges *e = opaque;

	e->rises += level && !e->level;
	e->level = level;
}

static void noop_reset(void *opaque)
{
	(void)opaque;
}

static void test_keyboard_commands(void **state)
{
	struct host *h = *state;

	put(h, 0xf2); /* identify, translated (the default command byte) */
	assert_int_equal(data(h), 0xfa);
	assert_int_equal(data(h), 0xab);
	assert_int_equal(data(h), 0x41);
	assert_int_equal(status(h) & 1, 0);
	put(h, 0xff);
	assert_int_equal(data(h), 0xfa);
	assert_int_equal(data(h), 0xaa);
	put(h, 0xed); /* LEDs: command and parameter each acknowledged */
	put(h, 0x07);
	assert_int_equal(data(h), 0xfa);
	assert_int_equal(data(h), 0xfa);
	assert_int_equal(status(h) & 1, 0);
	put(h, 0xee);
	assert_int_equal(data(h), 0xee);
	cmd(h, 0xa9); /* no mouse */
	assert_int_equal(data(h), 0x01);
	cmd(h, 0xd3); /* aux loopback comes back without the aux status bit */
	put(h, 0x5a);
	assert_int_equal(status(h) & 0x21, 0x01);
	assert_int_equal(data(h), 0x5a);
	assert_int_equal(h->resets, 0);
}

static void test_ctrl_alt_del(void **state)
{
	static const uint8_t set1[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};
	struct edges e = {0};
	struct cvmm_i8042_cfg cfg = {.reset = noop_reset, .set_irq = count_edges, .opaque = &e};
	struct cvmm_i8042 *k;
	uint8_t v, c;

	(void)state;
	assert_int_equal(cvmm_i8042_create(&k, &cfg), 0);
	assert_int_equal(cvmm_i8042_ctrl_alt_del(k), 0);
	/* One rising edge per byte, so an edge-triggered guest reads them all. */
	for (size_t i = 0; i < sizeof(set1); i++) {
		assert_int_equal(e.rises, i + 1);
		cvmm_i8042_read(k, 0, &v, 1);
		assert_int_equal(v, set1[i]);
	}
	assert_false(e.level);
	assert_int_equal(e.rises, sizeof(set1));
	/* Two presses fit (16 bytes), a third is refused while unread. */
	assert_int_equal(cvmm_i8042_ctrl_alt_del(k), 0);
	assert_int_equal(cvmm_i8042_ctrl_alt_del(k), 0);
	assert_int_equal(cvmm_i8042_ctrl_alt_del(k), -EAGAIN);
	for (int i = 0; i < 16; i++)
		cvmm_i8042_read(k, 0, &v, 1);
	/* Without translation the codes are set 2. */
	c = 0x60;
	cvmm_i8042_write(k, 4, &c, 1);
	c = 0x01;
	cvmm_i8042_write(k, 0, &c, 1);
	assert_int_equal(cvmm_i8042_ctrl_alt_del(k), 0);
	cvmm_i8042_read(k, 0, &v, 1);
	assert_int_equal(v, 0x14);
	/* A disabled keyboard takes nothing. */
	c = 0xad;
	cvmm_i8042_write(k, 4, &c, 1);
	assert_int_equal(cvmm_i8042_ctrl_alt_del(k), -EAGAIN);
	cvmm_i8042_destroy(k);
}

static void test_create_needs_reset(void **state)
{
	struct cvmm_i8042_cfg cfg = {0};
	struct cvmm_i8042 *k;

	(void)state;
	assert_int_equal(cvmm_i8042_create(&k, NULL), -EINVAL);
	assert_int_equal(cvmm_i8042_create(&k, &cfg), -EINVAL);
	cvmm_i8042_destroy(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_fe_resets),
	    T(test_output_port_reset),
	    T(test_command_byte),
	    T(test_self_tests_and_empty_reads),
	    T(test_odd_accesses),
	    T(test_keyboard_commands),
	    cmocka_unit_test(test_ctrl_alt_del),
	    cmocka_unit_test(test_create_needs_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

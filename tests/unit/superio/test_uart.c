// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/superio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

enum {
	RBR = 0,
	THR = 0,
	DLL = 0,
	IER = 1,
	DLM = 1,
	IIR = 2,
	FCR = 2,
	LCR = 3,
	MCR = 4,
	LSR = 5,
	MSR = 6,
	SCR = 7
};

/* What the callbacks saw. */
struct host {
	uint8_t out[256];
	size_t out_len;
	bool level;
	unsigned int irq_calls, raises;
	unsigned int rx_ready_calls;
	struct cvmm_uart *uart;
};

static void host_tx(void *opaque, uint8_t b)
{
	struct host *h = opaque;

	if (h->out_len < sizeof(h->out))
		h->out[h->out_len++] = b;
}

static void host_irq(void *opaque, bool level)
{
	struct host *h = opaque;

	assert_true(level != h->level); /* only changes are reported */
	h->level = level;
	h->irq_calls++;
	h->raises += level;
}

static void host_rx_ready(void *opaque)
{
	((struct host *)opaque)->rx_ready_calls++;
}

static int setup(void **state)
{
	static struct host h;
	struct cvmm_uart_cfg cfg = {.tx = host_tx,
				    .out_fd = -1,
				    .set_irq = host_irq,
				    .rx_ready = host_rx_ready,
				    .opaque = &h};

	memset(&h, 0, sizeof(h));
	if (cvmm_uart_create(&h.uart, &cfg))
		return -1;
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	struct host *h = *state;

	cvmm_uart_destroy(h->uart);
	return 0;
}

static uint8_t rd(struct host *h, unsigned int reg)
{
	uint8_t v;

	cvmm_uart_read(h->uart, reg, &v, 1);
	return v;
}

static void wr(struct host *h, unsigned int reg, uint8_t v)
{
	cvmm_uart_write(h->uart, reg, &v, 1);
}

static void test_thr_output_in_order(void **state)
{
	struct host *h = *state;
	const char *msg = "Linux version 6.1\r\n";

	for (const char *p = msg; *p; p++)
		wr(h, THR, (uint8_t)*p);
	assert_int_equal(h->out_len, strlen(msg));
	assert_memory_equal(h->out, msg, strlen(msg));
	assert_int_equal(h->irq_calls, 0); /* no interrupts enabled */
}

static void test_reset_state(void **state)
{
	struct host *h = *state;

	assert_int_equal(rd(h, IER), 0);
	assert_int_equal(rd(h, IIR), 0x01);
	assert_int_equal(rd(h, LCR), 0);
	assert_int_equal(rd(h, MCR), 0);
	assert_int_equal(rd(h, LSR), 0x60);
	assert_int_equal(rd(h, MSR), 0xb0);
}

static void test_dlab_switching(void **state)
{
	struct host *h = *state;

	wr(h, IER, 0x05);
	wr(h, LCR, 0x83);
	wr(h, DLL, 0x01);
	wr(h, DLM, 0x02);
	assert_int_equal(rd(h, DLL), 0x01);
	assert_int_equal(rd(h, DLM), 0x02);
	assert_int_equal(h->out_len, 0); /* DLL write is not a transmit */
	wr(h, LCR, 0x03);
	assert_int_equal(rd(h, LCR), 0x03);
	assert_int_equal(rd(h, IER), 0x05);
	wr(h, THR, 'x');
	assert_int_equal(h->out_len, 1);
	wr(h, LCR, 0x83);
	assert_int_equal(rd(h, DLL), 0x01);
	assert_int_equal(rd(h, DLM), 0x02);
}

static void test_lsr_bits(void **state)
{
	struct host *h = *state;

	assert_int_equal(rd(h, LSR), 0x60); /* THRE | TEMT, no data */
	wr(h, THR, 'a');
	assert_int_equal(rd(h, LSR), 0x60); /* transmission is immediate */
	assert_int_equal(cvmm_uart_input(h->uart, (const uint8_t *)"k", 1), 1);
	assert_int_equal(rd(h, LSR), 0x61);
	assert_int_equal(rd(h, RBR), 'k');
	assert_int_equal(rd(h, LSR), 0x60);
	assert_int_equal(rd(h, RBR), 0); /* empty */
}

static void test_rx_without_fifo_holds_one_byte(void **state)
{
	struct host *h = *state;

	assert_int_equal(cvmm_uart_input_room(h->uart), 1);
	assert_int_equal(cvmm_uart_input(h->uart, (const uint8_t *)"ab", 2), 1);
	assert_int_equal(cvmm_uart_input_room(h->uart), 0);
	assert_int_equal(h->rx_ready_calls, 0);
	assert_int_equal(rd(h, RBR), 'a');
	assert_int_equal(h->rx_ready_calls, 1);
	assert_int_equal(cvmm_uart_input(h->uart, (const uint8_t *)"b", 1), 1);
	assert_int_equal(rd(h, RBR), 'b');
	assert_int_equal(h->rx_ready_calls, 1); /* nothing was refused */
}

static void test_rx_fifo_accept_and_overflow(void **state)
{
	struct host *h = *state;
	uint8_t in[20];

	for (unsigned int i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)('A' + i);
	wr(h, FCR, 0x01);
	assert_int_equal(cvmm_uart_input_room(h->uart), CVMM_UART_FIFO_SIZE);
	assert_int_equal(cvmm_uart_input(h->uart, in, sizeof(in)), CVMM_UART_FIFO_SIZE);
	assert_int_equal(cvmm_uart_input(h->uart, in, 1), 0);
	assert_int_equal(rd(h, LSR) & 0x02, 0); /* refused input is not an overrun */
	for (unsigned int i = 0; i < CVMM_UART_FIFO_SIZE; i++) {
		assert_int_equal(rd(h, LSR) & 1, 1);
		assert_int_equal(rd(h, RBR), in[i]);
		/* Host is told about room once, when the FIFO has drained. */
		assert_int_equal(h->rx_ready_calls, i == CVMM_UART_FIFO_SIZE - 1);
	}
	assert_int_equal(rd(h, LSR) & 1, 0);
	assert_int_equal(cvmm_uart_input(h->uart, in + 16, 4), 4);
	/* FCR RX reset empties the FIFO. */
	wr(h, FCR, 0x03);
	assert_int_equal(rd(h, LSR) & 1, 0);
	assert_int_equal(cvmm_uart_input_room(h->uart), CVMM_UART_FIFO_SIZE);
}

static void test_fifo_enable_toggle_resets(void **state)
{
	struct host *h = *state;

	wr(h, FCR, 0x01);
	assert_int_equal(rd(h, IIR) & 0xc0, 0xc0);
	assert_int_equal(cvmm_uart_input(h->uart, (const uint8_t *)"abc", 3), 3);
	wr(h, FCR, 0x00);
	assert_int_equal(rd(h, IIR) & 0xc0, 0);
	assert_int_equal(rd(h, LSR) & 1, 0);
	assert_int_equal(cvmm_uart_input(h->uart, (const uint8_t *)"abc", 3), 1);
	/* Trigger bits written with the enable bit clear do not stick. */
	wr(h, FCR, 0xc0);
	assert_int_equal(rd(h, IIR) & 0xc0, 0);
}

static void test_rx_interrupt(void **state)
{
	struct host *h = *state;

	assert_int_equal(cvmm_uart_input(h->uart, (const uint8_t *)"x", 1), 1);
	assert_false(h->level); /* not enabled yet */
	wr(h, IER, 0x01);
	assert_true(h->level);
	assert_int_equal(rd(h, IIR), 0x04);
	assert_true(h->level); /* IIR read does not acknowledge data */
	assert_int_equal(rd(h, RBR), 'x');
	assert_false(h->level);
	assert_int_equal(rd(h, IIR), 0x01);
	assert_int_equal(cvmm_uart_input(h->uart, (const uint8_t *)"y", 1), 1);
	assert_true(h->level);
	wr(h, IER, 0x00);
	assert_false(h->level);
}

static void test_rx_trigger_level_and_timeout(void **state)
{
	struct host *h = *state;

	wr(h, FCR, 0x41); /* FIFO on, trigger at 4 */
	wr(h, IER, 0x01);
	assert_int_equal(cvmm_uart_input(h->uart, (const uint8_t *)"ab", 2), 2);
	assert_int_equal(rd(h, IIR), 0xcc); /* character timeout below the trigger */
	assert_int_equal(cvmm_uart_input(h->uart, (const uint8_t *)"cd", 2), 2);
	assert_int_equal(rd(h, IIR), 0xc4);
	rd(h, RBR);
	assert_int_equal(rd(h, IIR), 0xcc);
	rd(h, RBR);
	rd(h, RBR);
	rd(h, RBR);
	assert_int_equal(rd(h, IIR), 0xc1);
	assert_false(h->level);
}

static void test_thre_interrupt(void **state)
{
	struct host *h = *state;
	unsigned int raises;

	wr(h, IER, 0x02);
	assert_true(h->level); /* enabling it with THR empty raises it */
	assert_int_equal(rd(h, IIR), 0x02);
	assert_false(h->level); /* IIR read acknowledged it */
	assert_int_equal(rd(h, IIR), 0x01);
	raises = h->raises;
	wr(h, THR, 'z');
	assert_true(h->level); /* THR empty again: a fresh edge */
	assert_int_equal(h->raises, raises + 1);
	wr(h, THR, 'z');
	assert_int_equal(h->raises, raises + 2);
	/* Re-writing IER with ETBEI already set does not re-raise. */
	rd(h, IIR);
	wr(h, IER, 0x02);
	assert_false(h->level);
}

static void test_iir_priorities(void **state)
{
	struct host *h = *state;

	wr(h, MCR, 0x10); /* loopback, to make an overrun */
	rd(h, MSR);
	for (int i = 0; i < 2; i++)
		wr(h, THR, (uint8_t)('0' + i)); /* second one overruns the 1-byte RBR */
	/* RTS -> CTS: modem status change. */
	wr(h, MCR, 0x12);
	wr(h, IER, 0x0f);
	assert_int_equal(rd(h, IIR), 0x06); /* line status first */
	assert_int_equal(rd(h, LSR), 0x63); /* DR | OE | THRE | TEMT, OE now clear */
	assert_int_equal(rd(h, IIR), 0x04); /* then received data */
	assert_int_equal(rd(h, RBR), '0');
	assert_int_equal(rd(h, IIR), 0x02); /* then THRE, acknowledged by this read */
	assert_int_equal(rd(h, IIR), 0x00); /* then modem status */
	assert_true(h->level);
	assert_int_equal(rd(h, MSR), 0x11); /* CTS and delta-CTS */
	assert_int_equal(rd(h, IIR), 0x01);
	assert_false(h->level);
}

static void test_loopback(void **state)
{
	struct host *h = *state;

	wr(h, FCR, 0x01);
	wr(h, MCR, 0x10);
	assert_int_equal(rd(h, MSR) & 0xf0, 0); /* host lines disconnected */
	wr(h, THR, 'L');
	wr(h, THR, 'B');
	assert_int_equal(h->out_len, 0);
	assert_int_equal(cvmm_uart_input_room(h->uart), 0);
	assert_int_equal(cvmm_uart_input(h->uart, (const uint8_t *)"h", 1), 0);
	assert_int_equal(rd(h, LSR) & 1, 1);
	assert_int_equal(rd(h, RBR), 'L');
	assert_int_equal(rd(h, RBR), 'B');
	assert_int_equal(h->rx_ready_calls, 0); /* still in loopback */
	/* MCR outputs drive the modem inputs: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	wr(h, MCR, 0x1f);
	assert_int_equal(rd(h, MSR), 0xfb);
	wr(h, MCR, 0x10);
	assert_int_equal(rd(h, MSR), 0x0f); /* RI trailing edge sets TERI */
	wr(h, MCR, 0x00);
	assert_int_equal(h->rx_ready_calls, 1);
	assert_int_equal(rd(h, MSR), 0xbb);
	assert_int_equal(cvmm_uart_input(h->uart, (const uint8_t *)"h", 1), 1);
}

static void test_scratch_and_odd_accesses(void **state)
{
	struct host *h = *state;
	uint8_t buf[8];

	wr(h, SCR, 0x5a);
	assert_int_equal(rd(h, SCR), 0x5a);
	/* A 4-byte read at 6 covers MSR, SCR and two undecoded ports. */
	cvmm_uart_read(h->uart, 6, buf, 4);
	assert_memory_equal(buf, "\xb0\x5a\xff\xff", 4);
	memset(buf, 0, sizeof(buf));
	cvmm_uart_read(h->uart, 8, buf, 2);
	assert_memory_equal(buf, "\xff\xff", 2);
	cvmm_uart_read(h->uart, UINT64_MAX, buf, 8);
	assert_memory_equal(buf, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	cvmm_uart_write(h->uart, UINT64_MAX, "abcdefgh", 8);
	cvmm_uart_write(h->uart, 9, "ab", 2);
	cvmm_uart_read(h->uart, 0, buf, 0);
	assert_int_equal(h->out_len, 0);
	/* A 2-byte write at 0 is THR then IER. */
	cvmm_uart_write(h->uart, 0, "Q\x00", 2);
	assert_int_equal(h->out_len, 1);
	assert_int_equal(h->out[0], 'Q');
	/* LSR and MSR are read-only. */
	wr(h, LSR, 0x00);
	assert_int_equal(rd(h, LSR), 0x60);
}

static void test_output_fd(void **state)
{
	struct cvmm_uart_cfg cfg = {.out_fd = -1};
	struct cvmm_uart *u;
	char buf[64];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	cfg.out_fd = p[1];
	assert_int_equal(cvmm_uart_create(&u, &cfg), 0);
	cvmm_uart_write(u, 0, "h", 1);
	cvmm_uart_write(u, 0, "i", 1);
	assert_int_equal(cvmm_uart_flush(u), 0);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "hi", 2);
	cvmm_uart_destroy(u);
	close(p[0]);
	close(p[1]);
}

static void test_output_fd_full_is_bounded(void **state)
{
	struct cvmm_uart_cfg cfg = {.out_fd = -1};
	static char big[1 << 16];
	struct cvmm_uart *u;
	size_t total = 0;
	ssize_t n;
	int p[2];

	(void)state;
	for (int nonblock = 0; nonblock < 2; nonblock++) {
		assert_int_equal(pipe2(p, O_NONBLOCK), 0);
		/* Fill the pipe so the UART's writes would block. */
		while (write(p[1], big, sizeof(big)) > 0)
			;
		if (!nonblock)
			fcntl(p[1], F_SETFL, 0);
		cfg.out_fd = p[1];
		assert_int_equal(cvmm_uart_create(&u, &cfg), 0);
		for (unsigned int i = 0; i < CVMM_UART_OUT_BUF + 100; i++)
			cvmm_uart_write(u, 0, "x", 1); /* must return although nothing fits */
		assert_int_equal(cvmm_uart_tx_dropped(u), 100);
		assert_int_equal(cvmm_uart_flush(u), CVMM_UART_OUT_BUF);
		/* Drain the pipe (non-blocking read end): pending output then goes out. */
		while (read(p[0], big, sizeof(big)) > 0)
			;
		assert_int_equal(cvmm_uart_flush(u), 0);
		total = 0;
		while ((n = read(p[0], big, sizeof(big))) > 0)
			total += (size_t)n;
		assert_int_equal(total, CVMM_UART_OUT_BUF);
		cvmm_uart_destroy(u);
		close(p[0]);
		close(p[1]);
	}
}

static void test_create_errors(void **state)
{
	struct cvmm_uart_cfg cfg = {.out_fd = 1000000};
	struct cvmm_uart *u;

	(void)state;
	assert_int_equal(cvmm_uart_create(&u, NULL), -EINVAL);
	assert_int_equal(cvmm_uart_create(&u, &cfg), -EBADF);
	cvmm_uart_destroy(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_thr_output_in_order),
	    T(test_reset_state),
	    T(test_dlab_switching),
	    T(test_lsr_bits),
	    T(test_rx_without_fifo_holds_one_byte),
	    T(test_rx_fifo_accept_and_overflow),
	    T(test_fifo_enable_toggle_resets),
	    T(test_rx_interrupt),
	    T(test_rx_trigger_level_and_timeout),
	    T(test_thre_interrupt),
	    T(test_iir_priorities),
	    T(test_loopback),
	    T(test_scratch_and_odd_accesses),
	    cmocka_unit_test(test_output_fd),
	    cmocka_unit_test(test_output_fd_full_is_bounded),
	    cmocka_unit_test(test_create_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

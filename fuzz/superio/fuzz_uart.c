// SPDX-License-Identifier: Apache-2.0
/*
 * One UART driven by a byte stream of operations:
 *   op & 0x80 == 0: register access. offset = op & 0x0f (8..15 are not
 *     decoded), write if op & 0x10, length ((op >> 5) & 3) + 1; a write takes
 *     its value bytes from the stream.
 *   op & 0x80: host input of (op & 0x1f) bytes from the stream; with op & 0x40
 *     the output fd is flushed too.
 * The first byte picks the output: odd for the tx callback, even for /dev/null.
 * Checked beyond "no crash": the IRQ callback only sees level changes, and
 * input never takes more than the room the UART reported.
 */
#include <cvmm/superio.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

struct fuzz_host {
	bool level;
	size_t tx_bytes;
};

static void fuzz_tx(void *opaque, uint8_t b)
{
	(void)b;
	((struct fuzz_host *)opaque)->tx_bytes++;
}

static void fuzz_irq(void *opaque, bool level)
{
	struct fuzz_host *h = opaque;

	if (level == h->level)
		abort();
	h->level = level;
}

static void fuzz_rx_ready(void *opaque)
{
	(void)opaque;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int devnull = -1;
	struct fuzz_host host = {0};
	struct cvmm_uart_cfg cfg = {
	    .set_irq = fuzz_irq, .rx_ready = fuzz_rx_ready, .opaque = &host, .out_fd = -1};
	struct cvmm_uart *u;
	size_t i = 0;

	if (size == 0)
		return 0;
	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (data[i++] & 1)
		cfg.tx = fuzz_tx;
	else
		cfg.out_fd = devnull;
	if (cvmm_uart_create(&u, &cfg))
		abort();
	while (i < size) {
		uint8_t op = data[i++];

		if (op & 0x80) {
			size_t n = op & 0x1f, room = cvmm_uart_input_room(u);

			if (n > size - i)
				n = size - i;
			if (cvmm_uart_input(u, data + i, n) > room)
				abort();
			i += n;
			if (op & 0x40)
				cvmm_uart_flush(u);
		} else {
			uint32_t len = ((op >> 5) & 3) + 1;
			uint8_t buf[4] = {0};

			if (op & 0x10) {
				for (uint32_t k = 0; k < len && i < size; k++)
					buf[k] = data[i++];
				cvmm_uart_write(u, op & 0x0f, buf, len);
			} else {
				cvmm_uart_read(u, op & 0x0f, buf, len);
			}
		}
	}
	cvmm_uart_destroy(u);
	return 0;
}

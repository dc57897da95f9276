// SPDX-License-Identifier: Apache-2.0
/*
 * The i8042 and the CMOS/RTC driven by a byte stream of register accesses:
 *   op bit 7 picks the device (i8042 / RTC), bit 6 a write, bits 4-5 the
 *   length - 1, bits 0-3 the offset (i8042 decodes 0 and 4, the RTC 0 and 1;
 *   the rest must be ignored); a write takes its value bytes from the stream.
 * The RTC's clock is a fixed time from the stream so runs are reproducible.
 * Checked beyond "no crash": the i8042 IRQ callback only sees level changes.
 */
#include <cvmm/superio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_host {
	bool level;
	unsigned int resets;
	time_t now;
};

static void fuzz_reset(void *opaque)
{
	((struct fuzz_host *)opaque)->resets++;
}

static void fuzz_irq(void *opaque, bool level)
{
	struct fuzz_host *h = opaque;

	if (level == h->level)
		abort();
	h->level = level;
}

static time_t fuzz_now(void *opaque)
{
	return ((struct fuzz_host *)opaque)->now;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_host host = {0};
	const struct cvmm_i8042_cfg kcfg = {
	    .reset = fuzz_reset, .set_irq = fuzz_irq, .opaque = &host};
	const struct cvmm_rtc_cfg rcfg = {.now = fuzz_now, .opaque = &host};
	struct cvmm_i8042 *kbd;
	struct cvmm_rtc *rtc;
	uint32_t stamp = 0;
	size_t i = 0;

	if (size < sizeof(stamp))
		return 0;
	memcpy(&stamp, data, sizeof(stamp));
	i += sizeof(stamp);
	host.now = (time_t)stamp;
	if (cvmm_i8042_create(&kbd, &kcfg) < 0)
		return 0;
	if (cvmm_rtc_create(&rtc, &rcfg) < 0) {
		cvmm_i8042_destroy(kbd);
		return 0;
	}
	cvmm_rtc_set_mem_size(rtc, (uint64_t)stamp << 12, (uint64_t)stamp << 20);
	while (i < size) {
		uint8_t op = data[i++], buf[4] = {0xa5, 0xa5, 0xa5, 0xa5};
		uint32_t len = ((op >> 4) & 3) + 1;
		uint64_t off = op & 0x0f;
		bool is_rtc = op & 0x80;

		if (op & 0x40) {
			if (size - i < len)
				break;
			memcpy(buf, data + i, len);
			i += len;
			if (is_rtc)
				cvmm_rtc_write(rtc, off, buf, len);
			else
				cvmm_i8042_write(kbd, off, buf, len);
		} else if (is_rtc) {
			cvmm_rtc_read(rtc, off, buf, len);
		} else {
			cvmm_i8042_read(kbd, off, buf, len);
		}
	}
	cvmm_rtc_destroy(rtc);
	cvmm_i8042_destroy(kbd);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* The CLI bucket parser on arbitrary text: no crash, and whatever it accepts
 * the limiter accepts too. */
#include <cvmm/ratelimit.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fixed_clock(void *opaque)
{
	(void)opaque;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvmm_ratelimit_cfg cfg = {.clock = fixed_clock};
	struct cvmm_ratelimit *rl;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cvmm_ratelimit_parse_bucket(text, &cfg.bytes) == 0) {
		cfg.ops = cfg.bytes;
		if (cvmm_ratelimit_create(&rl, &cfg) < 0)
			abort();
		/* Oversized for the bucket: passes once from full, then waits. */
		if (cvmm_ratelimit_wait_ns(rl, UINT64_MAX, 0) != 0)
			abort();
		cvmm_ratelimit_destroy(rl);
	}
	free(text);
	return 0;
}

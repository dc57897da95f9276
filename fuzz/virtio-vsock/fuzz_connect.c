// SPDX-License-Identifier: Apache-2.0
/*
 * The hybrid back end's CONNECT line reader on arbitrary bytes, fed one at a
 * time as hello_read takes them from the client's socket. Checks, against a
 * separate reading of the grammar ("CONNECT" in any case, one space, the
 * decimal port below 2^32, a newline, at most VSOCK_LINE_MAX bytes):
 *   - it accepts exactly the lines the grammar accepts, with that port;
 *   - it decides at the newline, or at the bound, and reads no byte past
 *     either (what follows a line is stream data);
 *   - an accepted port, written back as a line (in the input's case), is
 *     read back the same, and equals the input when that had no leading
 *     zeros.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsock_impl.h"

#define WORD_LEN 8 /* "connect " */

/* The reader's verdict on data, and how many bytes it took. */
static int feed(const uint8_t *data, size_t size, size_t *used, uint32_t *port)
{
	struct vconn c = {.fd = -1};
	int r = 0;

	*used = 0;
	while (r == 0 && *used < size)
		r = vsock_hello_byte(&c, (char)data[(*used)++], port);
	if (c.line_len >= VSOCK_LINE_MAX)
		abort();
	return r;
}

static char lower(uint8_t ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : (char)ch;
}

/* The grammar: 1 (accept, *port), -1 (reject) or 0 (more wanted), and the
 * bytes up to the decision in *end. */
static int grammar(const uint8_t *data, size_t size, size_t *end, uint64_t *port)
{
	size_t nl = 0;

	while (nl < size && nl < VSOCK_LINE_MAX && data[nl] != '\n')
		nl++;
	if (nl == VSOCK_LINE_MAX) {
		*end = VSOCK_LINE_MAX; /* no newline among the first VSOCK_LINE_MAX bytes */
		return -1;
	}
	*end = nl < size ? nl + 1 : size;
	if (nl == size)
		return 0;
	if (nl <= WORD_LEN)
		return -1;
	for (size_t i = 0; i < WORD_LEN; i++)
		if (lower(data[i]) != "connect "[i])
			return -1;
	*port = 0;
	for (size_t i = WORD_LEN; i < nl; i++) {
		if (data[i] < '0' || data[i] > '9')
			return -1;
		*port = *port * 10 + (data[i] - '0');
		if (*port > UINT32_MAX)
			return -1;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t port = 0, again = 0;
	uint64_t want = 0;
	size_t used, end, again_used;
	char line[VSOCK_LINE_MAX + 1];
	int r = feed(data, size, &used, &port);
	int n;

	if (r != grammar(data, size, &end, &want) || used != end)
		abort();
	if (r != 1)
		return 0;
	if (port != want)
		abort();
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	for (size_t i = 0; i < 7; i++)
		line[i] = (char)data[i];
	if (feed((const uint8_t *)line, (size_t)n, &again_used, &again) != 1 ||
	    again_used != (size_t)n || again != port)
		abort();
	if ((data[WORD_LEN] != '0' || used == WORD_LEN + 2) &&
	    ((size_t)n != used || memcmp(line, data, used) != 0))
		abort();
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The API's whole request path, HTTP framing to JSON validation, fed
 * arbitrary bytes on one connection (stub VM operations that succeed, so
 * every phase is reachable). Checked beyond "no crash, no leak": the output
 * is a sequence of well-formed responses, each 100, 200, 204, or 400 with a
 * fault_message.
 */
#include "api.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int ok(void *o)
{
	(void)o;
	return 0;
}
static int ok_limit(void *o, unsigned int d, const struct cvmm_ratelimit_bucket *b,
		    const struct cvmm_ratelimit_bucket *p)
{
	(void)o, (void)d, (void)b, (void)p;
	return 0;
}
static int ok_swap(void *o, unsigned int d, const char *path)
{
	(void)o, (void)d, (void)path;
	return 0;
}
static int ok_net_limit(void *o, unsigned int i, bool rx, const struct cvmm_ratelimit_bucket *b,
			const struct cvmm_ratelimit_bucket *p)
{
	(void)o, (void)i, (void)rx, (void)b, (void)p;
	return 0;
}
static int ok_logger(void *o, const char *path, enum vmm_log_level l, bool a, bool b)
{
	(void)o, (void)path, (void)l, (void)a, (void)b;
	return 0;
}
static int ok_metrics(void *o, const char *path)
{
	(void)o, (void)path;
	return 0;
}

static const struct vmm_api_ops ops = {
    .start = ok,
    .pause = ok,
    .resume = ok,
    .ctrl_alt_del = ok,
    .flush_metrics = ok,
    .drive_limit = ok_limit,
    .drive_swap = ok_swap,
    .net_limit = ok_net_limit,
    .logger = ok_logger,
    .metrics = ok_metrics,
};

static void check_output(const char *out, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *p = out + pos, *end, *cl;
		int code;
		size_t head, body = 0;

		if (len - pos < 12 || memcmp(p, "HTTP/1.1 ", 9) != 0)
			abort();
		code = atoi(p + 9);
		if (code != 100 && code != 200 && code != 204 && code != 400)
			abort();
		end = memmem(p, len - pos, "\r\n\r\n", 4);
		if (!end)
			abort();
		head = (size_t)(end - p) + 4;
		cl = memmem(p, head, "Content-Length: ", 16);
		if (cl)
			body = strtoul(cl + 16, NULL, 10);
		if (head + body > len - pos)
			abort();
		if ((code == 400) !=
		    (body && memmem(p + head, body, "\"fault_message\"", 15) != NULL))
			abort();
		pos += head + body;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_api api;
	struct vmm_api_http *h;
	const char *out;
	size_t len;

	vmm_api_init(&api, &ops, NULL);
	api.max_payload = 4096;
	if (vmm_api_http_create(&h, &api) < 0)
		return 0;
	/* Two chunks: requests split across reads must parse the same. */
	if (vmm_api_http_input(h, (const char *)data, size / 2))
		vmm_api_http_input(h, (const char *)data + size / 2, size - size / 2);
	out = vmm_api_http_output(h, &len);
	check_output(out, len);
	vmm_api_http_destroy(h);
	vmm_api_free(&api);
	return 0;
}

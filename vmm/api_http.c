// SPDX-License-Identifier: Apache-2.0
/* One API connection's HTTP/1.1: bytes in (http-parser), responses out.
 * No I/O here, so the fuzz target drives exactly what a socket would. */
#include "api.h"
#include "log.h"
#include <errno.h>
#include <http_parser.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_MAX_URL 1024
#define HTTP_MAX_HDR 32 /* we only look at Expect: 100-continue */

struct vmm_api_http {
	struct vmm_api *api;
	http_parser parser;
	char url[HTTP_MAX_URL + 1];
	size_t url_len;
	bool url_too_long;
	char *body;
	size_t body_len, body_cap;
	bool too_large;
	char hdr_field[HTTP_MAX_HDR + 1], hdr_value[HTTP_MAX_HDR + 1];
	size_t field_len, value_len;
	bool in_value;
	bool expect_continue;
	uint64_t start_ns;
	char *out;
	size_t out_len, out_cap;
	bool closing; /* answer what is queued, then close */
};

static int out_append(struct vmm_api_http *h, const char *data, size_t len)
{
	if (h->out_len + len > h->out_cap) {
		size_t cap = h->out_cap ? h->out_cap : 512;
		char *p;

		while (cap < h->out_len + len)
			cap *= 2;
		p = realloc(h->out, cap);
		if (!p)
			return -ENOMEM;
		h->out = p;
		h->out_cap = cap;
	}
	memcpy(h->out + h->out_len, data, len);
	h->out_len += len;
	return 0;
}

static void respond(struct vmm_api_http *h, const struct vmm_api_response *r)
{
	char head[192];
	size_t blen = r->body ? strlen(r->body) : 0;
	int n;

	if (r->status == 204)
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 204 No Content\r\nServer: cvmm\r\n%s\r\n",
			     h->closing ? "Connection: close\r\n" : "");
	else
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d %s\r\nServer: cvmm\r\nContent-Type: application/json\r\n"
			     "Content-Length: %zu\r\n%s\r\n",
			     r->status, r->status == 200 ? "OK" : "Bad Request", blen,
			     h->closing ? "Connection: close\r\n" : "");
	if (out_append(h, head, (size_t)n) < 0 || (blen && out_append(h, r->body, blen) < 0))
		h->closing = true; /* out of memory: give up on this client */
}

/* A fault before routing (bad HTTP, oversized body): answer and close. */
static void respond_fault(struct vmm_api_http *h, const char *msg)
{
	struct vmm_api_response r;

	h->api->stats.requests++;
	h->api->stats.errors++;
	h->closing = true;
	vmm_api_fault(&r, msg);
	respond(h, &r);
	free(r.body);
	vmm_log(VMM_LOG_INFO, "API request refused: %s", msg);
}

static struct vmm_api_http *of(http_parser *p)
{
	return p->data;
}

static int on_message_begin(http_parser *p)
{
	struct vmm_api_http *h = of(p);

	h->url_len = 0;
	h->url_too_long = false;
	h->body_len = 0;
	h->too_large = false;
	h->field_len = h->value_len = 0;
	h->in_value = false;
	h->expect_continue = false;
	h->start_ns = cvmm_now_ns();
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct vmm_api_http *h = of(p);

	if (h->url_len + len > HTTP_MAX_URL) {
		h->url_too_long = true;
		return 0;
	}
	memcpy(h->url + h->url_len, at, len);
	h->url_len += len;
	h->url[h->url_len] = '\0';
	return 0;
}

static void header_done(struct vmm_api_http *h)
{
	h->hdr_field[h->field_len] = '\0';
	h->hdr_value[h->value_len] = '\0';
	if (strcasecmp(h->hdr_field, "expect") == 0 &&
	    strcasecmp(h->hdr_value, "100-continue") == 0)
		h->expect_continue = true;
	h->field_len = h->value_len = 0;
}

static void hdr_add(char *buf, size_t *len, const char *at, size_t n)
{
	size_t room = HTTP_MAX_HDR - *len;

	if (n > room) {
		/* Longer than any header we look at: make it match nothing. */
		buf[0] = '\x01';
		n = room;
	}
	memcpy(buf + *len, at, n);
	*len += n;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct vmm_api_http *h = of(p);

	if (h->in_value)
		header_done(h);
	h->in_value = false;
	hdr_add(h->hdr_field, &h->field_len, at, len);
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct vmm_api_http *h = of(p);

	h->in_value = true;
	hdr_add(h->hdr_value, &h->value_len, at, len);
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct vmm_api_http *h = of(p);

	if (h->in_value)
		header_done(h);
	h->in_value = false;
	if (p->content_length != ULLONG_MAX && p->content_length > h->api->max_payload) {
		h->too_large = true;
		return -1;
	}
	if (h->expect_continue)
		out_append(h, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct vmm_api_http *h = of(p);

	if (h->body_len + len > h->api->max_payload) {
		h->too_large = true;
		return -1;
	}
	if (h->body_len + len > h->body_cap) {
		size_t cap = h->body_len + len;
		char *b = realloc(h->body, cap);

		if (!b)
			return -1;
		h->body = b;
		h->body_cap = cap;
	}
	memcpy(h->body + h->body_len, at, len);
	h->body_len += len;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct vmm_api_http *h = of(p);
	struct vmm_api_response r;
	const char *method = http_method_str((enum http_method)p->method);
	uint64_t ns;

	h->closing = !http_should_keep_alive(p);
	if (h->url_too_long) {
		respond_fault(h, "path: longer than 1024 bytes");
		return -1;
	}
	vmm_api_handle(h->api, method, h->url, h->body, h->body_len, &r);
	respond(h, &r);
	ns = cvmm_now_ns() - h->start_ns;
	h->api->stats.latency_ns_total += ns;
	if (ns > h->api->stats.latency_ns_max)
		h->api->stats.latency_ns_max = ns;
	vmm_log(r.status == 400 ? VMM_LOG_INFO : VMM_LOG_DEBUG, "API %s %s: %d%s%s", method, h->url,
		r.status, r.status == 400 ? " " : "", r.status == 400 ? r.body : "");
	free(r.body);
	return h->closing ? -1 : 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

int vmm_api_http_create(struct vmm_api_http **out, struct vmm_api *api)
{
	struct vmm_api_http *h = calloc(1, sizeof(*h));

	if (!h)
		return cvmm_err(ENOMEM, "out of memory for an API connection");
	h->api = api;
	http_parser_init(&h->parser, HTTP_REQUEST);
	h->parser.data = h;
	*out = h;
	return 0;
}

void vmm_api_http_destroy(struct vmm_api_http *h)
{
	if (!h)
		return;
	free(h->body);
	free(h->out);
	free(h);
}

bool vmm_api_http_input(struct vmm_api_http *h, const char *data, size_t len)
{
	size_t n;
	enum http_errno err;

	if (h->closing)
		return false;
	n = http_parser_execute(&h->parser, &settings, data, len);
	err = HTTP_PARSER_ERRNO(&h->parser);
	if (h->closing)
		return false;
	if (h->too_large) {
		char msg[96];

		snprintf(msg, sizeof(msg), "body: larger than the limit of %zu bytes",
			 h->api->max_payload);
		respond_fault(h, msg);
	} else if (err != HPE_OK || h->parser.upgrade || n != len) {
		char msg[128];

		snprintf(msg, sizeof(msg), "bad HTTP request: %s",
			 h->parser.upgrade ? "protocol upgrade refused"
					   : http_errno_description(err));
		respond_fault(h, msg);
	}
	return !h->closing;
}

const char *vmm_api_http_output(const struct vmm_api_http *h, size_t *len)
{
	*len = h->out_len;
	return h->out;
}

void vmm_api_http_consume(struct vmm_api_http *h, size_t n)
{
	memmove(h->out, h->out + n, h->out_len - n);
	h->out_len -= n;
}

bool vmm_api_http_closing(const struct vmm_api_http *h)
{
	return h->closing;
}

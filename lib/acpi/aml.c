// SPDX-License-Identifier: Apache-2.0
#include "internal.h"
#include <cvmm/acpi.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* AML opcodes (ACPI 6.5, section 20.3). */
#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0A
#define AML_WORD 0x0B
#define AML_DWORD 0x0C
#define AML_STRING 0x0D
#define AML_QWORD 0x0E
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_METHOD 0x14
#define AML_DUAL_NAME 0x2E
#define AML_MULTI_NAME 0x2F
#define AML_EXT 0x5B
#define AML_EXT_DEVICE 0x82
#define AML_ROOT '\\'
#define AML_PARENT '^'
#define AML_RETURN 0xA4

#define PKGLEN_MAX 0x0FFFFFFFu

enum { OPEN_PLAIN, OPEN_RESOURCES };

/* Largest PkgLength value encodable in 1, 2, 3 and 4 bytes. */
static const size_t pkglen_limit[4] = {0x3F, 0xFFF, 0xFFFFF, PKGLEN_MAX};

static int aml_fail(struct cvmm_aml *a, int errnum, const char *what)
{
	if (!a->err)
		a->err = cvmm_err(errnum, "AML: %s", what);
	return a->err;
}

static int aml_reserve(struct cvmm_aml *a, size_t extra)
{
	size_t cap = a->cap ? a->cap : 256;
	uint8_t *p;

	if (a->err)
		return a->err;
	if (extra > PKGLEN_MAX || a->len + extra > PKGLEN_MAX)
		return aml_fail(a, E2BIG, "buffer larger than 256 MiB");
	if (a->len + extra <= a->cap)
		return 0;
	while (cap < a->len + extra)
		cap *= 2;
	p = realloc(a->buf, cap);
	if (!p)
		return aml_fail(a, ENOMEM, "out of memory");
	a->buf = p;
	a->cap = cap;
	return 0;
}

static int aml_put(struct cvmm_aml *a, const void *data, size_t len)
{
	int ret = aml_reserve(a, len);

	if (ret || !len) /* memcpy must not see the NULL buffer of an empty AML */
		return ret;
	memcpy(a->buf + a->len, data, len);
	a->len += len;
	return 0;
}

static int aml_byte(struct cvmm_aml *a, uint8_t b)
{
	return aml_put(a, &b, 1);
}

void cvmm_aml_init(struct cvmm_aml *a)
{
	memset(a, 0, sizeof(*a));
}

void cvmm_aml_free(struct cvmm_aml *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

int cvmm_aml_finish(struct cvmm_aml *a)
{
	if (!a->err && a->depth)
		aml_fail(a, EINVAL, "construct left open");
	return a->err;
}

int cvmm_aml_pkglen_encode(uint32_t len, uint8_t out[4])
{
	int n;

	if (len > PKGLEN_MAX)
		return cvmm_err(E2BIG, "AML: PkgLength %u too large", len);
	for (n = 1; len > pkglen_limit[n - 1]; n++)
		;
	if (n == 1) {
		out[0] = (uint8_t)len;
		return 1;
	}
	/* Lead byte: following-byte count in bits 7-6, low nibble in bits 3-0. */
	out[0] = (uint8_t)(((n - 1) << 6) | (len & 0xF));
	for (int i = 1; i < n; i++)
		out[i] = (uint8_t)(len >> (4 + 8 * (i - 1)));
	return n;
}

static bool eisa_letter(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_eisaid(const char *id)
{
	if (strnlen(id, 8) != 7)
		return false;
	for (int i = 0; i < 3; i++)
		if (!eisa_letter(id[i]))
			return false;
	for (int i = 3; i < 7; i++)
		if (hex_digit(id[i]) < 0)
			return false;
	return true;
}

int cvmm_aml_eisaid(const char *id, uint32_t *out)
{
	uint32_t v = 0;

	if (!id || !is_eisaid(id))
		return cvmm_err(EINVAL, "AML: \"%s\" is not an EISA id", id ? id : "(null)");
	/* 3 letters of 5 bits ('A' = 1) then 4 hex digits, stored big-endian. */
	for (int i = 0; i < 3; i++)
		v = (v << 5) | (uint32_t)(id[i] - '@');
	for (int i = 3; i < 7; i++)
		v = (v << 4) | (uint32_t)hex_digit(id[i]);
	*out = __builtin_bswap32(v);
	return 0;
}

static bool seg_char(char c, bool lead)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (!lead && c >= '0' && c <= '9');
}

/* Length of the NameSeg at s (up to '.' or NUL), or -1 if invalid. */
static int seg_len(const char *s)
{
	int n = 0;

	while (s[n] && s[n] != '.') {
		if (n == 4 || !seg_char(s[n], n == 0))
			return -1;
		n++;
	}
	return n ? n : -1;
}

int cvmm_aml_name_string(struct cvmm_aml *a, const char *path)
{
	const char *p = path;
	unsigned int nsegs = 0;
	int ret;

	if (a->err)
		return a->err;
	if (!path)
		return aml_fail(a, EINVAL, "NULL name");
	if (*p == AML_ROOT)
		p++;
	else
		while (*p == AML_PARENT)
			p++;
	if (p == path && !*p)
		return aml_fail(a, EINVAL, "empty name");
	/* Validate every segment before emitting anything. */
	for (const char *s = p; *p; s++) {
		int n = seg_len(s); /* fails on "" after a trailing '.' */

		if (n < 0 || ++nsegs > 255)
			return aml_fail(a, EINVAL, "bad name");
		s += n;
		if (!*s)
			break;
	}
	ret = aml_put(a, path, (size_t)(p - path));
	if (!ret && !nsegs)
		return aml_byte(a, AML_ZERO); /* NullName: a bare prefix */
	if (nsegs == 2)
		ret = aml_byte(a, AML_DUAL_NAME);
	else if (nsegs > 2)
		ret = aml_put(a, (uint8_t[]){AML_MULTI_NAME, (uint8_t)nsegs}, 2);
	for (const char *s = p; !ret; s++) {
		char seg[4] = {'_', '_', '_', '_'};
		int n = seg_len(s);

		memcpy(seg, s, (size_t)n);
		ret = aml_put(a, seg, 4);
		s += n;
		if (!*s)
			break;
	}
	return ret;
}

/* Smallest Integer encoding of v into b (at most 9 bytes); returns its length. */
static size_t int_encode(uint64_t v, uint8_t *b)
{
	if (v <= 1) {
		b[0] = v ? AML_ONE : AML_ZERO;
		return 1;
	}
	if (v <= UINT8_MAX) {
		b[0] = AML_BYTE;
		b[1] = (uint8_t)v;
		return 2;
	}
	if (v <= UINT16_MAX) {
		b[0] = AML_WORD;
		le16(b + 1, (uint16_t)v);
		return 3;
	}
	if (v <= UINT32_MAX) {
		b[0] = AML_DWORD;
		le32(b + 1, (uint32_t)v);
		return 5;
	}
	b[0] = AML_QWORD;
	le64(b + 1, v);
	return 9;
}

int cvmm_aml_integer(struct cvmm_aml *a, uint64_t v)
{
	uint8_t b[9];

	return aml_put(a, b, int_encode(v, b));
}

int cvmm_aml_string(struct cvmm_aml *a, const char *s)
{
	if (a->err)
		return a->err;
	if (!s)
		return aml_fail(a, EINVAL, "NULL string");
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c > 0x7F)
			return aml_fail(a, EINVAL, "non-ASCII string");
	aml_byte(a, AML_STRING);
	return aml_put(a, s, strlen(s) + 1);
}

int cvmm_aml_hid(struct cvmm_aml *a, const char *hid)
{
	uint32_t v;
	size_t n;

	if (a->err)
		return a->err;
	if (!hid)
		return aml_fail(a, EINVAL, "NULL hardware id");
	if (is_eisaid(hid)) {
		cvmm_aml_eisaid(hid, &v);
		return cvmm_aml_integer(a, v);
	}
	n = strnlen(hid, 9);
	if (n == 0 || n > 8)
		return aml_fail(a, EINVAL, "hardware id must be 1-8 characters");
	for (size_t i = 0; i < n; i++)
		if (!seg_char(hid[i], false))
			return aml_fail(a, EINVAL, "hardware id must be [A-Z0-9_]");
	return cvmm_aml_string(a, hid);
}

int cvmm_aml_name(struct cvmm_aml *a, const char *path)
{
	aml_byte(a, AML_NAME);
	return cvmm_aml_name_string(a, path);
}

int cvmm_aml_return(struct cvmm_aml *a)
{
	return aml_byte(a, AML_RETURN);
}

/* Remember where the PkgLength of the construct just opened goes. */
static int aml_open(struct cvmm_aml *a, int kind)
{
	if (a->err)
		return a->err;
	if (a->depth == CVMM_AML_MAX_DEPTH)
		return aml_fail(a, EINVAL, "nesting too deep");
	a->open[a->depth].pos = a->len;
	a->open[a->depth].kind = kind;
	a->depth++;
	return 0;
}

int cvmm_aml_scope_begin(struct cvmm_aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE);
	aml_open(a, OPEN_PLAIN);
	return cvmm_aml_name_string(a, path);
}

int cvmm_aml_device_begin(struct cvmm_aml *a, const char *path)
{
	aml_put(a, (uint8_t[]){AML_EXT, AML_EXT_DEVICE}, 2);
	aml_open(a, OPEN_PLAIN);
	return cvmm_aml_name_string(a, path);
}

int cvmm_aml_package_begin(struct cvmm_aml *a, uint8_t nr_elements)
{
	aml_byte(a, AML_PACKAGE);
	aml_open(a, OPEN_PLAIN);
	return aml_byte(a, nr_elements);
}

int cvmm_aml_method_begin(struct cvmm_aml *a, const char *path, unsigned int nr_args,
			  bool serialized)
{
	if (nr_args > 7)
		return aml_fail(a, EINVAL, "a method takes at most 7 arguments");
	aml_byte(a, AML_METHOD);
	aml_open(a, OPEN_PLAIN);
	cvmm_aml_name_string(a, path);
	/* MethodFlags: ArgCount in bits 2-0, SerializeFlag in bit 3. */
	return aml_byte(a, (uint8_t)(nr_args | (serialized ? 0x08 : 0)));
}

int cvmm_aml_resources_begin(struct cvmm_aml *a)
{
	aml_byte(a, AML_BUFFER);
	return aml_open(a, OPEN_RESOURCES);
}

int cvmm_aml_end(struct cvmm_aml *a)
{
	uint8_t head[4 + 9];
	size_t pos, body, nhead = 0;
	int n, kind;

	if (a->err)
		return a->err;
	if (!a->depth)
		return aml_fail(a, EINVAL, "end without begin");
	pos = a->open[a->depth - 1].pos;
	kind = a->open[a->depth - 1].kind;
	a->depth--;
	if (kind == OPEN_RESOURCES) {
		/* EndTag; checksum 0 means "treat as valid". */
		if (aml_put(a, (uint8_t[]){0x79, 0x00}, 2))
			return a->err;
		/* A Buffer starts with its BufferSize as an Integer. */
		nhead = int_encode(a->len - pos, head + 4);
	}
	body = a->len - pos + nhead;
	/* The PkgLength counts its own bytes: try the shortest that fits. */
	for (n = 1; n <= 4; n++)
		if (body + (size_t)n <= pkglen_limit[n - 1])
			break;
	if (n > 4)
		return aml_fail(a, E2BIG, "construct too long for a PkgLength");
	cvmm_aml_pkglen_encode((uint32_t)(body + (size_t)n), head + 4 - n);
	if (aml_reserve(a, (size_t)n + nhead))
		return a->err;
	memmove(a->buf + pos + (size_t)n + nhead, a->buf + pos, a->len - pos);
	memcpy(a->buf + pos, head + 4 - n, (size_t)n + nhead);
	a->len += (size_t)n + nhead;
	return 0;
}

static int aml_descriptor(struct cvmm_aml *a, const uint8_t *d, size_t len)
{
	if (a->err)
		return a->err;
	if (!a->depth || a->open[a->depth - 1].kind != OPEN_RESOURCES)
		return aml_fail(a, EINVAL, "resource descriptor outside a resource template");
	return aml_put(a, d, len);
}

int cvmm_aml_memory32_fixed(struct cvmm_aml *a, uint32_t base, uint32_t len, bool writable)
{
	/* Large item 0x86, length 9: info (bit 0 = read/write), base, length. */
	uint8_t d[12] = {0x86, 9, 0, writable ? 1 : 0};

	le32(d + 4, base);
	le32(d + 8, len);
	return aml_descriptor(a, d, sizeof(d));
}

int cvmm_aml_io(struct cvmm_aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	/* Small item 0x47 (type 8, length 7): info bit 0 = 16-bit decode. */
	uint8_t d[8] = {0x47, 0x01};

	le16(d + 2, min);
	le16(d + 4, max);
	d[6] = align;
	d[7] = len;
	return aml_descriptor(a, d, sizeof(d));
}

int cvmm_aml_ext_irq(struct cvmm_aml *a, uint32_t gsi, unsigned int flags)
{
	/* Large item 0x89, length 6: flags, table length 1, one interrupt.
	 * Flags: bit 0 consumer, bit 1 edge, bit 2 active low, bit 3 shared. */
	uint8_t d[9] = {0x89, 6, 0, 0x01, 1};

	if (flags & ~(CVMM_AML_IRQ_LEVEL | CVMM_AML_IRQ_ACTIVE_LOW))
		return aml_fail(a, EINVAL, "unknown interrupt flags");
	if (!(flags & CVMM_AML_IRQ_LEVEL))
		d[3] |= 0x02;
	if (flags & CVMM_AML_IRQ_ACTIVE_LOW)
		d[3] |= 0x04;
	le32(d + 5, gsi);
	return aml_descriptor(a, d, sizeof(d));
}

// SPDX-License-Identifier: Apache-2.0
#include <cvmm/ratelimit.h>
#include <cvmm/sys.h>
#include <errno.h>

/*
 * Read a decimal integer at *p, then a K/M/G suffix if with_suffix. No sign
 * or space is accepted (strtoull would take both). Advances *p past it.
 */
static int parse_number(const char *text, const char **p, bool with_suffix, const char *what,
			uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned shift = 0;

	if (*s < '0' || *s > '9')
		return cvmm_err(EINVAL, "rate limit '%s': missing %s", text, what);
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return cvmm_err(EINVAL, "rate limit '%s': %s is too large", text, what);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (with_suffix) {
		shift = *s == 'K' ? 10 : *s == 'M' ? 20 : *s == 'G' ? 30 : 0;
		if (shift)
			s++;
	}
	if (v > UINT64_MAX >> shift)
		return cvmm_err(EINVAL, "rate limit '%s': %s is too large", text, what);
	*out = v << shift;
	*p = s;
	return 0;
}

int cvmm_ratelimit_parse_bucket(const char *text, struct cvmm_ratelimit_bucket *out)
{
	struct cvmm_ratelimit_bucket b = {.refill_time_ms = 1000};
	const char *p = text;
	bool more = false;
	int ret;

	if (!text || !out)
		return cvmm_err(EINVAL, "rate limit: NULL argument");
	ret = parse_number(text, &p, true, "RATE", &b.size);
	if (ret < 0)
		return ret;
	if (*p == '/') {
		p++;
		more = true;
		ret = parse_number(text, &p, false, "REFILL_MS after '/'", &b.refill_time_ms);
		if (ret < 0)
			return ret;
		if (b.refill_time_ms == 0 || b.refill_time_ms > CVMM_RATELIMIT_REFILL_MAX_MS)
			return cvmm_err(EINVAL, "rate limit '%s': REFILL_MS must be 1 to %llu",
					text, CVMM_RATELIMIT_REFILL_MAX_MS);
	}
	if (*p == '+') {
		p++;
		more = true;
		ret = parse_number(text, &p, true, "BURST after '+'", &b.one_time_burst);
		if (ret < 0)
			return ret;
	}
	if (*p)
		return cvmm_err(
		    EINVAL, "rate limit '%s': unexpected '%s' (expected RATE[/REFILL_MS][+BURST])",
		    text, p);
	if (b.size == 0) {
		if (more)
			return cvmm_err(EINVAL,
					"rate limit '%s': a RATE of 0 (no limit) takes no "
					"REFILL_MS or BURST",
					text);
		b.refill_time_ms = 0;
	}
	*out = b;
	return 0;
}

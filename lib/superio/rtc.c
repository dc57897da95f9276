// SPDX-License-Identifier: Apache-2.0
/* MC146818-style CMOS RAM and clock, read from a host clock on every access. */
#include <cvmm/superio.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define RTC_SEC 0x00
#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_WDAY 0x06
#define RTC_MDAY 0x07
#define RTC_MON 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

#define REG_A_UIP 0x80
#define REG_B_BINARY 0x04
#define REG_B_24H 0x02
#define REG_D_VRT 0x80
#define HOUR_PM 0x80

#define CMOS_SIZE 128

struct cvmm_rtc {
	pthread_mutex_t lock;
	struct cvmm_rtc_cfg cfg;
	uint8_t index;
	uint8_t ram[CMOS_SIZE]; /* time bytes here are unused; the clock is live */
};

int cvmm_rtc_create(struct cvmm_rtc **out, const struct cvmm_rtc_cfg *cfg)
{
	struct cvmm_rtc *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return cvmm_err(ENOMEM, "rtc: out of memory");
	ret = pthread_mutex_init(&r->lock, NULL);
	if (ret) {
		free(r);
		return cvmm_err(ret, "rtc: mutex init failed");
	}
	if (cfg)
		r->cfg = *cfg;
	r->ram[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
	r->ram[RTC_REG_B] = REG_B_24H;
	*out = r;
	return 0;
}

void cvmm_rtc_destroy(struct cvmm_rtc *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static time_t rtc_now(const struct cvmm_rtc *r)
{
	struct timespec ts;

	if (r->cfg.now)
		return r->cfg.now(r->cfg.opaque);
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static uint8_t rtc_encode(const struct cvmm_rtc *r, unsigned int v)
{
	if (r->ram[RTC_REG_B] & REG_B_BINARY)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t rtc_clock_byte(struct cvmm_rtc *r, uint8_t idx)
{
	time_t t = rtc_now(r);
	struct tm tm;
	unsigned int hour;

	if (!gmtime_r(&t, &tm))
		return 0;
	switch (idx) {
	case RTC_SEC:
		/* A leap second would read as 60; the chip counts 0-59. */
		return rtc_encode(r, tm.tm_sec > 59 ? 59 : (unsigned int)tm.tm_sec);
	case RTC_MIN:
		return rtc_encode(r, (unsigned int)tm.tm_min);
	case RTC_HOUR:
		if (r->ram[RTC_REG_B] & REG_B_24H)
			return rtc_encode(r, (unsigned int)tm.tm_hour);
		hour = (unsigned int)tm.tm_hour % 12;
		return rtc_encode(r, hour ? hour : 12) | (tm.tm_hour >= 12 ? HOUR_PM : 0);
	case RTC_WDAY:
		return rtc_encode(r, (unsigned int)tm.tm_wday + 1); /* Sunday is 1 */
	case RTC_MDAY:
		return rtc_encode(r, (unsigned int)tm.tm_mday);
	case RTC_MON:
		return rtc_encode(r, (unsigned int)tm.tm_mon + 1);
	case RTC_YEAR:
		return rtc_encode(r, (unsigned int)(tm.tm_year + 1900) % 100);
	default: /* RTC_CENTURY */
		return rtc_encode(r, (unsigned int)((tm.tm_year + 1900) / 100) % 100);
	}
}

static uint8_t rtc_read_data(struct cvmm_rtc *r)
{
	uint8_t idx = r->index;

	switch (idx) {
	case RTC_SEC:
	case RTC_MIN:
	case RTC_HOUR:
	case RTC_WDAY:
	case RTC_MDAY:
	case RTC_MON:
	case RTC_YEAR:
	case RTC_CENTURY:
		return rtc_clock_byte(r, idx);
	case RTC_REG_A:
		return r->ram[idx] & (uint8_t)~REG_A_UIP;
	case RTC_REG_C:
		return 0;
	case RTC_REG_D:
		return REG_D_VRT;
	default:
		return r->ram[idx];
	}
}

static void rtc_write_data(struct cvmm_rtc *r, uint8_t val)
{
	switch (r->index) {
	case RTC_SEC:
	case RTC_MIN:
	case RTC_HOUR:
	case RTC_WDAY:
	case RTC_MDAY:
	case RTC_MON:
	case RTC_YEAR:
	case RTC_CENTURY:
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* the clock follows the host; C and D are read-only */
	default:
		r->ram[r->index] = val;
		break;
	}
}

void cvmm_rtc_read(struct cvmm_rtc *r, uint64_t offset, void *data, uint32_t len)
{
	uint8_t *p = data;

	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < len; i++)
		p[i] = (offset <= 1 && offset + i == 1) ? rtc_read_data(r) : 0xff;
	pthread_mutex_unlock(&r->lock);
}

void cvmm_rtc_write(struct cvmm_rtc *r, uint64_t offset, const void *data, uint32_t len)
{
	const uint8_t *p = data;

	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < len; i++) {
		if (offset > 1 || offset + i > 1)
			break;
		if (offset + i == 0)
			r->index = p[i] & 0x7f; /* bit 7 gates NMI; nothing to gate here */
		else
			rtc_write_data(r, p[i]);
	}
	pthread_mutex_unlock(&r->lock);
}

static void rtc_put(struct cvmm_rtc *r, uint8_t idx, uint64_t v, unsigned int bytes)
{
	uint64_t max = (1ULL << (8 * bytes)) - 1;

	if (v > max)
		v = max;
	for (unsigned int i = 0; i < bytes; i++)
		r->ram[idx + i] = (uint8_t)(v >> (8 * i));
}

void cvmm_rtc_set_mem_size(struct cvmm_rtc *r, uint64_t below_4g, uint64_t above_4g)
{
	const uint64_t mib = 1ULL << 20;
	uint64_t ext_kib = below_4g > mib ? (below_4g - mib) >> 10 : 0;
	uint64_t above_16m = below_4g > 16 * mib ? (below_4g - 16 * mib) >> 16 : 0;

	pthread_mutex_lock(&r->lock);
	rtc_put(r, 0x15, 640, 2);
	rtc_put(r, 0x17, ext_kib, 2);
	rtc_put(r, 0x30, ext_kib, 2);
	rtc_put(r, 0x34, above_16m, 2);
	rtc_put(r, 0x5b, above_4g >> 16, 3);
	pthread_mutex_unlock(&r->lock);
}

// SPDX-License-Identifier: Apache-2.0
/* i8042 keyboard controller without devices behind it. */
#include <cvmm/superio.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define I8042_DATA 0
#define I8042_CMD 4 /* status on read */

#define STS_OBF 0x01
#define STS_SYS 0x04
#define STS_A2 0x08	/* last write went to the command port */
#define STS_UNLOCK 0x10 /* keyboard not inhibited */

#define CB_KBD_INT 0x01
#define CB_SYS 0x04
#define CB_KBD_OFF 0x10
#define CB_AUX_OFF 0x20
#define CB_XLATE 0x40

#define OUT_RESET_N 0x01 /* output port bit 0: CPU reset, active low */
#define OUT_A20 0x02

struct cvmm_i8042 {
	pthread_mutex_t lock;
	struct cvmm_i8042_cfg cfg;
	uint8_t cmd_byte;
	uint8_t out_port;
	uint8_t pending_cmd; /* command waiting for its data byte, or 0 */
	uint8_t obuf;
	bool obf;
	bool last_was_cmd;
	bool irq_level;
};

int cvmm_i8042_create(struct cvmm_i8042 **out, const struct cvmm_i8042_cfg *cfg)
{
	struct cvmm_i8042 *k;
	int ret;

	if (!cfg || !cfg->reset)
		return cvmm_err(EINVAL, "i8042: a reset callback is required");
	k = calloc(1, sizeof(*k));
	if (!k)
		return cvmm_err(ENOMEM, "i8042: out of memory");
	ret = pthread_mutex_init(&k->lock, NULL);
	if (ret) {
		free(k);
		return cvmm_err(ret, "i8042: mutex init failed");
	}
	k->cfg = *cfg;
	k->cmd_byte = CB_KBD_INT | CB_SYS | CB_XLATE;
	k->out_port = OUT_RESET_N | OUT_A20;
	*out = k;
	return 0;
}

void cvmm_i8042_destroy(struct cvmm_i8042 *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static void i8042_update_irq(struct cvmm_i8042 *k)
{
	bool level = k->obf && (k->cmd_byte & CB_KBD_INT);

	if (level == k->irq_level)
		return;
	k->irq_level = level;
	if (k->cfg.set_irq)
		k->cfg.set_irq(k->cfg.opaque, level);
}

static void i8042_reply(struct cvmm_i8042 *k, uint8_t b)
{
	k->obuf = b;
	k->obf = true;
}

static void i8042_command(struct cvmm_i8042 *k, uint8_t cmd)
{
	/* 0xF0-0xFF pulse the output port bits that are clear in the low nibble. */
	if (cmd >= 0xf0) {
		if (!(cmd & OUT_RESET_N))
			k->cfg.reset(k->cfg.opaque);
		return;
	}
	switch (cmd) {
	case 0x20:
		i8042_reply(k, k->cmd_byte);
		break;
	case 0x60:
	case 0xd1:
		k->pending_cmd = cmd;
		break;
	case 0xa7:
		k->cmd_byte |= CB_AUX_OFF;
		break;
	case 0xa8:
		k->cmd_byte &= (uint8_t)~CB_AUX_OFF;
		break;
	case 0xa9:
	case 0xab:
		i8042_reply(k, 0x00); /* interface test passed */
		break;
	case 0xaa:
		i8042_reply(k, 0x55); /* self-test passed */
		break;
	case 0xad:
		k->cmd_byte |= CB_KBD_OFF;
		break;
	case 0xae:
		k->cmd_byte &= (uint8_t)~CB_KBD_OFF;
		break;
	case 0xd0:
		i8042_reply(k, k->out_port);
		break;
	default:
		break;
	}
}

static void i8042_data(struct cvmm_i8042 *k, uint8_t val)
{
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	if (cmd == 0x60) {
		k->cmd_byte = val;
	} else if (cmd == 0xd1) {
		k->out_port = val | OUT_RESET_N; /* the reset line does not stay asserted */
		if (!(val & OUT_RESET_N))
			k->cfg.reset(k->cfg.opaque);
	}
	/* Anything else would go to the keyboard, and there is none. */
}

static uint8_t i8042_read_byte(struct cvmm_i8042 *k, uint64_t port)
{
	uint8_t val;

	switch (port) {
	case I8042_DATA:
		val = k->obf ? k->obuf : 0;
		k->obf = false;
		return val;
	case I8042_CMD:
		return (k->obf ? STS_OBF : 0) | (k->cmd_byte & CB_SYS ? STS_SYS : 0) |
		       (k->last_was_cmd ? STS_A2 : 0) | STS_UNLOCK;
	default:
		return 0xff;
	}
}

static void i8042_write_byte(struct cvmm_i8042 *k, uint64_t port, uint8_t val)
{
	if (port == I8042_DATA) {
		k->last_was_cmd = false;
		i8042_data(k, val);
	} else if (port == I8042_CMD) {
		k->last_was_cmd = true;
		k->pending_cmd = 0;
		i8042_command(k, val);
	}
}

void cvmm_i8042_read(struct cvmm_i8042 *k, uint64_t offset, void *data, uint32_t len)
{
	uint8_t *p = data;

	pthread_mutex_lock(&k->lock);
	for (uint32_t i = 0; i < len; i++)
		p[i] = offset <= I8042_CMD ? i8042_read_byte(k, offset + i) : 0xff;
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

void cvmm_i8042_write(struct cvmm_i8042 *k, uint64_t offset, const void *data, uint32_t len)
{
	const uint8_t *p = data;

	pthread_mutex_lock(&k->lock);
	for (uint32_t i = 0; i < len; i++) {
		if (offset <= I8042_CMD)
			i8042_write_byte(k, offset + i, p[i]);
	}
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

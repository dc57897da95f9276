// SPDX-License-Identifier: Apache-2.0
/* i8042 keyboard controller with a minimal AT keyboard behind it (no mouse). */
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

/* Keyboard replies and key codes waiting for the guest to read them. */
#define I8042_QUEUE 16

#define KBD_ACK 0xfa

struct cvmm_i8042 {
	pthread_mutex_t lock;
	struct cvmm_i8042_cfg cfg;
	uint8_t cmd_byte;
	uint8_t out_port;
	uint8_t pending_cmd; /* command waiting for its data byte, or 0 */
	uint8_t kbd_param;   /* keyboard command waiting for its parameter, or 0 */
	uint8_t queue[I8042_QUEUE];
	unsigned int head, count;
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
	bool level = k->count && (k->cmd_byte & CB_KBD_INT);

	if (level == k->irq_level)
		return;
	k->irq_level = level;
	if (k->cfg.set_irq)
		k->cfg.set_irq(k->cfg.opaque, level);
}

static bool i8042_push(struct cvmm_i8042 *k, uint8_t b)
{
	if (k->count == I8042_QUEUE)
		return false;
	k->queue[(k->head + k->count++) % I8042_QUEUE] = b;
	return true;
}

/* A controller reply replaces whatever waits: the guest asked for it now. */
static void i8042_reply(struct cvmm_i8042 *k, uint8_t b)
{
	k->head = k->count = 0;
	i8042_push(k, b);
}

/* The keyboard's side of the data port: ACK everything, answer reset,
 * identify and echo, take the parameter of LED/rate/scan-set commands. */
static void i8042_kbd_command(struct cvmm_i8042 *k, uint8_t val)
{
	if (k->kbd_param) {
		k->kbd_param = 0;
		i8042_push(k, KBD_ACK);
		return;
	}
	switch (val) {
	case 0xee: /* echo */
		i8042_push(k, 0xee);
		break;
	case 0xed: /* set LEDs */
	case 0xf3: /* set typematic rate */
	case 0xf0: /* scan code set */
		k->kbd_param = val;
		i8042_push(k, KBD_ACK);
		break;
	case 0xf2: /* identify: an MF2 keyboard, translated like its scan codes */
		i8042_push(k, KBD_ACK);
		i8042_push(k, 0xab);
		i8042_push(k, k->cmd_byte & CB_XLATE ? 0x41 : 0x83);
		break;
	case 0xff: /* reset: self-test passed */
		i8042_push(k, KBD_ACK);
		i8042_push(k, 0xaa);
		break;
	default:
		i8042_push(k, KBD_ACK);
		break;
	}
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
	case 0xd2:
	case 0xd3:
	case 0xd4:
		k->pending_cmd = cmd;
		break;
	case 0xa7:
		k->cmd_byte |= CB_AUX_OFF;
		break;
	case 0xa8:
		k->cmd_byte &= (uint8_t)~CB_AUX_OFF;
		break;
	case 0xa9:
		/* No mouse: "clock line stuck low" makes a guest drop the aux port
		 * at once instead of timing out on it. */
		i8042_reply(k, 0x01);
		break;
	case 0xab:
		i8042_reply(k, 0x00); /* keyboard interface test passed */
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
	} else if (cmd == 0xd2) {
		i8042_reply(k, val); /* as if the keyboard had sent it */
	} else if (cmd == 0xd3) {
		/* Aux loopback answered on the keyboard channel (no AUXDATA
		 * status): a guest sees at once that there is no aux port. */
		i8042_reply(k, val);
	} else if (cmd == 0) {
		i8042_kbd_command(k, val);
	}
	/* 0xd4 (to the mouse): there is none. */
}

static uint8_t i8042_read_byte(struct cvmm_i8042 *k, uint64_t port)
{
	uint8_t val;

	switch (port) {
	case I8042_DATA:
		if (!k->count)
			return 0;
		val = k->queue[k->head];
		k->head = (k->head + 1) % I8042_QUEUE;
		k->count--;
		/* Lower the line so that the next queued byte raises a new edge. */
		if (k->irq_level && k->count) {
			k->irq_level = false;
			if (k->cfg.set_irq)
				k->cfg.set_irq(k->cfg.opaque, false);
		}
		return val;
	case I8042_CMD:
		return (k->count ? STS_OBF : 0) | (k->cmd_byte & CB_SYS ? STS_SYS : 0) |
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

int cvmm_i8042_ctrl_alt_del(struct cvmm_i8042 *k)
{
	/* Ctrl, Alt, Delete (extended) pressed, then released in reverse. */
	static const uint8_t set1[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};
	static const uint8_t set2[] = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
				       0x71, 0xf0, 0x11, 0xf0, 0x14};
	const uint8_t *codes;
	size_t n;
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	codes = k->cmd_byte & CB_XLATE ? set1 : set2;
	n = k->cmd_byte & CB_XLATE ? sizeof(set1) : sizeof(set2);
	if (k->cmd_byte & CB_KBD_OFF)
		ret = cvmm_err(EAGAIN, "i8042: the guest has disabled the keyboard");
	else if (I8042_QUEUE - k->count < n)
		ret = cvmm_err(EAGAIN, "i8042: keyboard buffer full (the guest is not reading it)");
	for (size_t i = 0; ret == 0 && i < n; i++)
		i8042_push(k, codes[i]);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
	return ret;
}

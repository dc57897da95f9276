// SPDX-License-Identifier: Apache-2.0
/* 16550A UART. Transmission is instantaneous: THR and the shift register are
 * always empty again by the time the guest looks, so THRE and TEMT stay set. */
#include <cvmm/superio.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* Register offsets (DLAB selects DLL/DLM at 0 and 1). */
#define REG_RBR_THR_DLL 0
#define REG_IER_DLM 1
#define REG_IIR_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* THR empty */
#define IER_ELSI 0x04  /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */

#define IIR_NONE 0x01
#define IIR_MSR 0x00
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_RLS 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO_ON 0xc0

#define FCR_ENABLE 0x01
#define FCR_RX_RESET 0x02
#define FCR_TRIGGER 0xc0

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

struct cvmm_uart {
	pthread_mutex_t lock;
	struct cvmm_uart_cfg cfg;
	bool out_nonblock;

	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint8_t fcr;	   /* FCR_ENABLE | FCR_TRIGGER bits as last programmed */
	uint8_t msr_lines; /* MSR bits 4-7 */
	uint8_t msr_delta; /* MSR bits 0-3, cleared by reading MSR */
	bool overrun;	   /* LSR.OE, cleared by reading LSR */
	bool thri_pending; /* THRE interrupt not yet acknowledged */
	bool irq_level;
	bool rx_blocked; /* input was refused; owe an rx_ready call */

	uint8_t rx[CVMM_UART_FIFO_SIZE];
	unsigned int rx_head, rx_count;

	uint8_t out[CVMM_UART_OUT_BUF];
	size_t out_head, out_len;
	uint64_t dropped;
};

int cvmm_uart_create(struct cvmm_uart **out, const struct cvmm_uart_cfg *cfg)
{
	struct cvmm_uart *u;
	int ret;

	if (!cfg)
		return cvmm_err(EINVAL, "uart: no configuration");
	u = calloc(1, sizeof(*u));
	if (!u)
		return cvmm_err(ENOMEM, "uart: out of memory");
	ret = pthread_mutex_init(&u->lock, NULL);
	if (ret) {
		free(u);
		return cvmm_err(ret, "uart: mutex init failed");
	}
	u->cfg = *cfg;
	if (!cfg->tx && cfg->out_fd >= 0) {
		int fl = fcntl(cfg->out_fd, F_GETFL);

		if (fl < 0) {
			ret = cvmm_err(errno, "uart: output fd %d: %m", cfg->out_fd);
			pthread_mutex_destroy(&u->lock);
			free(u);
			return ret;
		}
		u->out_nonblock = fl & O_NONBLOCK;
	}
	u->dll = 0x0c; /* 9600 baud, what PC firmware leaves behind */
	u->msr_lines = MSR_CTS | MSR_DSR | MSR_DCD;
	*out = u;
	return 0;
}

void cvmm_uart_destroy(struct cvmm_uart *u)
{
	if (!u)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static unsigned int uart_rx_capacity(const struct cvmm_uart *u)
{
	/* With the FIFO off, the 16550 has a single receive holding register. */
	return (u->fcr & FCR_ENABLE) ? CVMM_UART_FIFO_SIZE : 1;
}

static bool uart_rx_push(struct cvmm_uart *u, uint8_t b)
{
	if (u->rx_count >= uart_rx_capacity(u))
		return false;
	u->rx[(u->rx_head + u->rx_count) % CVMM_UART_FIFO_SIZE] = b;
	u->rx_count++;
	return true;
}

static uint8_t uart_rx_pop(struct cvmm_uart *u)
{
	uint8_t b;

	if (!u->rx_count)
		return 0;
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % CVMM_UART_FIFO_SIZE;
	u->rx_count--;
	return b;
}

static unsigned int uart_rx_trigger(const struct cvmm_uart *u)
{
	static const unsigned int levels[4] = {1, 4, 8, 14};

	return levels[u->fcr >> 6];
}

/* Highest-priority pending interrupt, as IIR bits 0-3. */
static uint8_t uart_iir_id(const struct cvmm_uart *u)
{
	if ((u->ier & IER_ELSI) && u->overrun)
		return IIR_RLS;
	if ((u->ier & IER_ERBFI) && u->rx_count) {
		/* No clock here: below the trigger level, report the character
		 * timeout at once, as if the line had gone quiet. */
		if ((u->fcr & FCR_ENABLE) && u->rx_count < uart_rx_trigger(u))
			return IIR_TIMEOUT;
		return IIR_RDA;
	}
	if ((u->ier & IER_ETBEI) && u->thri_pending)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && u->msr_delta)
		return IIR_MSR;
	return IIR_NONE;
}

static void uart_update_irq(struct cvmm_uart *u)
{
	bool level = uart_iir_id(u) != IIR_NONE;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->cfg.set_irq)
		u->cfg.set_irq(u->cfg.opaque, level);
}

/* Write what out_fd takes without blocking; keep the rest. */
static void uart_out_flush(struct cvmm_uart *u)
{
	while (u->out_len) {
		size_t chunk = CVMM_UART_OUT_BUF - u->out_head;
		struct pollfd pfd = {.fd = u->cfg.out_fd, .events = POLLOUT};
		ssize_t n;

		if (chunk > u->out_len)
			chunk = u->out_len;
		if (!u->out_nonblock) {
			/* Writable means at least one byte fits; more might block. */
			if (poll(&pfd, 1, 0) <= 0)
				return;
			chunk = 1;
		}
		n = write(u->cfg.out_fd, &u->out[u->out_head], chunk);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			/* Broken output: retrying the same bytes would fail again. */
			u->dropped += u->out_len;
			u->out_len = 0;
			return;
		}
		u->out_head = (u->out_head + (size_t)n) % CVMM_UART_OUT_BUF;
		u->out_len -= (size_t)n;
	}
}

static void uart_transmit(struct cvmm_uart *u, uint8_t b)
{
	if (u->mcr & MCR_LOOP) {
		if (!uart_rx_push(u, b))
			u->overrun = true;
	} else if (u->cfg.tx) {
		u->cfg.tx(u->cfg.opaque, b);
	} else if (u->cfg.out_fd >= 0) {
		if (u->out_len == CVMM_UART_OUT_BUF) {
			u->dropped++;
		} else {
			u->out[(u->out_head + u->out_len) % CVMM_UART_OUT_BUF] = b;
			u->out_len++;
		}
		uart_out_flush(u);
	}
}

static uint8_t uart_msr_lines(const struct cvmm_uart *u)
{
	uint8_t lines = 0;

	/* Outside loopback the host end is always ready. */
	if (!(u->mcr & MCR_LOOP))
		return MSR_CTS | MSR_DSR | MSR_DCD;
	if (u->mcr & MCR_RTS)
		lines |= MSR_CTS;
	if (u->mcr & MCR_DTR)
		lines |= MSR_DSR;
	if (u->mcr & MCR_OUT1)
		lines |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		lines |= MSR_DCD;
	return lines;
}

static void uart_write_mcr(struct cvmm_uart *u, uint8_t val)
{
	uint8_t old, now, changed;

	u->mcr = val & 0x1f;
	old = u->msr_lines;
	now = uart_msr_lines(u);
	changed = old ^ now;
	if (changed & MSR_CTS)
		u->msr_delta |= MSR_DCTS;
	if (changed & MSR_DSR)
		u->msr_delta |= MSR_DDSR;
	if (changed & MSR_DCD)
		u->msr_delta |= MSR_DDCD;
	if ((old & MSR_RI) && !(now & MSR_RI))
		u->msr_delta |= MSR_TERI;
	u->msr_lines = now;
}

static void uart_write_fcr(struct cvmm_uart *u, uint8_t val)
{
	/* Toggling the enable bit clears the FIFOs, as does RX reset. */
	if ((val ^ u->fcr) & FCR_ENABLE || (val & FCR_RX_RESET))
		u->rx_head = u->rx_count = 0;
	/* Other bits only take when the enable bit is written as 1. */
	u->fcr = (val & FCR_ENABLE) ? (val & (FCR_ENABLE | FCR_TRIGGER)) : 0;
}

static void uart_write_reg(struct cvmm_uart *u, unsigned int reg, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR_DLL:
		if (dlab) {
			u->dll = val;
			break;
		}
		/* Writing THR acknowledges THRE; it is empty again right after. */
		u->thri_pending = false;
		uart_update_irq(u);
		uart_transmit(u, val);
		u->thri_pending = true;
		break;
	case REG_IER_DLM:
		if (dlab) {
			u->dlm = val;
			break;
		}
		/* Enabling the THRE interrupt with THR empty raises it. */
		if ((val & IER_ETBEI) && !(u->ier & IER_ETBEI))
			u->thri_pending = true;
		u->ier = val & 0x0f;
		break;
	case REG_IIR_FCR:
		uart_write_fcr(u, val);
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		uart_write_mcr(u, val);
		break;
	case REG_SCR:
		u->scr = val;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

static uint8_t uart_read_reg(struct cvmm_uart *u, unsigned int reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t val;

	switch (reg) {
	case REG_RBR_THR_DLL:
		return dlab ? u->dll : uart_rx_pop(u);
	case REG_IER_DLM:
		return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		val = uart_iir_id(u);
		/* Reading IIR while it shows THRE acknowledges it. */
		if (val == IIR_THRE)
			u->thri_pending = false;
		return val | ((u->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		val = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0) | (u->overrun ? LSR_OE : 0);
		u->overrun = false;
		return val;
	case REG_MSR:
		val = u->msr_lines | u->msr_delta;
		u->msr_delta = 0;
		return val;
	default:
		return u->scr;
	}
}

/* Bookkeeping after anything that changed state; lock held. */
static void uart_settle(struct cvmm_uart *u)
{
	uart_update_irq(u);
	if (u->rx_blocked && !u->rx_count && !(u->mcr & MCR_LOOP)) {
		u->rx_blocked = false;
		if (u->cfg.rx_ready)
			u->cfg.rx_ready(u->cfg.opaque);
	}
}

void cvmm_uart_read(struct cvmm_uart *u, uint64_t offset, void *data, uint32_t len)
{
	uint8_t *p = data;

	pthread_mutex_lock(&u->lock);
	for (uint32_t i = 0; i < len; i++) {
		/* offset < 8 first, so offset + i cannot wrap. */
		if (offset < CVMM_UART_NR_PORTS && offset + i < CVMM_UART_NR_PORTS)
			p[i] = uart_read_reg(u, (unsigned int)(offset + i));
		else
			p[i] = 0xff;
	}
	uart_settle(u);
	pthread_mutex_unlock(&u->lock);
}

void cvmm_uart_write(struct cvmm_uart *u, uint64_t offset, const void *data, uint32_t len)
{
	const uint8_t *p = data;

	pthread_mutex_lock(&u->lock);
	for (uint32_t i = 0; i < len; i++) {
		if (offset < CVMM_UART_NR_PORTS && offset + i < CVMM_UART_NR_PORTS)
			uart_write_reg(u, (unsigned int)(offset + i), p[i]);
	}
	uart_settle(u);
	pthread_mutex_unlock(&u->lock);
}

size_t cvmm_uart_input(struct cvmm_uart *u, const uint8_t *data, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	/* In loopback the serial input pin is disconnected. */
	if (!(u->mcr & MCR_LOOP))
		while (n < len && uart_rx_push(u, data[n]))
			n++;
	if (n < len)
		u->rx_blocked = true;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t cvmm_uart_input_room(struct cvmm_uart *u)
{
	size_t room;

	pthread_mutex_lock(&u->lock);
	room = (u->mcr & MCR_LOOP) ? 0 : uart_rx_capacity(u) - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return room;
}

size_t cvmm_uart_flush(struct cvmm_uart *u)
{
	size_t left;

	pthread_mutex_lock(&u->lock);
	uart_out_flush(u);
	left = u->out_len;
	pthread_mutex_unlock(&u->lock);
	return left;
}

uint64_t cvmm_uart_tx_dropped(struct cvmm_uart *u)
{
	uint64_t n;

	pthread_mutex_lock(&u->lock);
	n = u->dropped;
	pthread_mutex_unlock(&u->lock);
	return n;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-superio: legacy PC devices — a 16550A UART, the i8042 keyboard
 * controller (enough for reset) and the MC146818 CMOS/RTC.
 *
 * The devices know nothing of buses: each has plain read/write functions
 * taking an offset from its base port, which the caller wires into its PIO
 * dispatch (e.g. cvmm-bus). Accesses of any length are split into byte
 * accesses at consecutive offsets, as the ISA bus does for 8-bit devices;
 * offsets the device does not decode read as 0xff and ignore writes.
 *
 * The guest controls every register access; every value is accepted and
 * nothing here allocates, blocks (see cvmm_uart_cfg.out_fd) or grows
 * without bound after create.
 *
 * Threading: each device has an internal mutex; all functions may be called
 * from any thread (vCPU threads for registers, the event loop for input).
 * Callbacks are invoked with that mutex held, in the order of the events,
 * so they must not call back into the same device; they may be slow only
 * at the cost of the vCPU that triggered them.
 */
#ifndef CVMM_SUPERIO_H
#define CVMM_SUPERIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Conventional PC ports and IRQs. */
#define CVMM_UART_COM1_PORT 0x3f8
#define CVMM_UART_COM1_IRQ 4
#define CVMM_UART_COM2_PORT 0x2f8
#define CVMM_UART_COM2_IRQ 3
#define CVMM_UART_NR_PORTS 8
#define CVMM_I8042_PORT 0x60 /* data; command/status is at +4 (0x64) */
#define CVMM_I8042_IRQ 1
#define CVMM_RTC_PORT 0x70 /* index; data is at +1 (0x71) */
#define CVMM_RTC_NR_PORTS 2

/* ---------------------------------------------------------------------- */
/* 16550A UART                                                             */
/* ---------------------------------------------------------------------- */

#define CVMM_UART_FIFO_SIZE 16 /* receive FIFO, as on a real 16550A */
#define CVMM_UART_OUT_BUF 4096 /* bytes held for an out_fd that would block */

struct cvmm_uart;

struct cvmm_uart_cfg {
	/* Transmitted bytes, one call per byte the guest writes to THR (not in
	 * loopback). If NULL, bytes go to out_fd instead. */
	void (*tx)(void *opaque, uint8_t byte);
	/* Used when tx is NULL; -1 discards output. Not owned (never closed).
	 * Bytes are written as they are transmitted. If the fd is not
	 * writable (poll() says so, or write() returns EAGAIN) they are kept in
	 * a CVMM_UART_OUT_BUF ring, retried on the next byte or
	 * cvmm_uart_flush(), and new bytes are dropped while the ring is full.
	 * An fd in blocking mode is written one byte per poll() so that no
	 * write can wait for its reader; O_NONBLOCK fds (sampled at create) are
	 * written in chunks. Other write errors discard the pending bytes.
	 * Writing to a closed pipe raises SIGPIPE: monitors ignore it. */
	int out_fd;
	/* Interrupt line, called only when the level changes. May be NULL. */
	void (*set_irq)(void *opaque, bool level);
	/* Called once after cvmm_uart_input() accepted fewer bytes than it was
	 * offered, when the receiver is empty and accepting again: the host
	 * may then feed more input (e.g. re-arm reading stdin). May be NULL. */
	void (*rx_ready)(void *opaque);
	void *opaque; /* passed to the callbacks */
};

/* Create a UART in its reset state (FIFOs off, no interrupts enabled, modem
 * inputs CTS/DSR/DCD asserted). cfg is copied. Returns 0, -EINVAL for a NULL
 * cfg, or -ENOMEM/-errno. */
int cvmm_uart_create(struct cvmm_uart **out, const struct cvmm_uart_cfg *cfg);
/* Free the UART, dropping any output still pending. NULL is a no-op. */
void cvmm_uart_destroy(struct cvmm_uart *uart);

/* Guest register access; offset from the base port (0..7 decoded). */
void cvmm_uart_read(struct cvmm_uart *uart, uint64_t offset, void *data, uint32_t len);
void cvmm_uart_write(struct cvmm_uart *uart, uint64_t offset, const void *data, uint32_t len);

/* Host input (e.g. from stdin): queue up to len bytes for the guest.
 * Returns how many were accepted (0..len): the receiver holds at most
 * CVMM_UART_FIFO_SIZE bytes (1 while the guest keeps the FIFO disabled) and
 * accepts nothing in loopback mode. Keep the rest and retry after the
 * rx_ready callback. */
size_t cvmm_uart_input(struct cvmm_uart *uart, const uint8_t *data, size_t len);
/* How many bytes cvmm_uart_input() would accept now, so a caller can read
 * no more than that from its source. */
size_t cvmm_uart_input_room(struct cvmm_uart *uart);

/* Retry writing output pending for out_fd (e.g. when the fd polls
 * writable). Returns the number of bytes still pending. */
size_t cvmm_uart_flush(struct cvmm_uart *uart);
/* Output bytes dropped so far because out_fd was not writable or failed. */
uint64_t cvmm_uart_tx_dropped(struct cvmm_uart *uart);

/* ---------------------------------------------------------------------- */
/* i8042 keyboard controller                                               */
/* ---------------------------------------------------------------------- */

/*
 * The controller with a minimal AT keyboard behind it and no mouse: enough
 * for a kernel to probe it, for the host to press Ctrl-Alt-Del, and to reset
 * the machine through it (Linux reboot=k).
 *
 * Offsets are from port 0x60: 0 is the data port (0x60), 4 the
 * status/command port (0x64); 1..3 are not decoded. Wire it as two 1-byte
 * ranges, adding 4 to the offset for the 0x64 one.
 *
 * Commands (port 0x64): 0x20 read / 0x60 write the command byte, 0xA7/0xA8
 * and 0xAD/0xAE disable/enable the aux and keyboard ports, 0xAA self-test
 * (answers 0x55), 0xAB keyboard interface test (answers 0), 0xA9 aux
 * interface test (answers 1: there is no mouse), 0xD0 read / 0xD1 write the
 * output port, 0xD2 write the keyboard output buffer, 0xD3 aux loopback
 * (answered without the aux status bit, so a guest drops the aux port at
 * once), 0xD4 write to the mouse (dropped), 0xF0-0xFF pulse output lines.
 * Others are ignored. The CPU reset callback runs on 0xFE (any 0xFx pulsing
 * bit 0) and on 0xD1 with bit 0 of the new output port clear.
 *
 * Keyboard (data port writes not taken by a controller command): every byte
 * is acknowledged (0xFA); 0xFF reset adds 0xAA, 0xF2 identify adds 0xAB 0x83
 * (0x41 while translating), 0xEE echoes; 0xED, 0xF3 and 0xF0 take one
 * parameter byte, acknowledged too. Bytes wait in a 16-byte queue; IRQ 1 is
 * high while one waits and the command byte enables the interrupt, and it
 * drops and rises again between queued bytes, so edge-triggered guests see
 * each. Reading the data port when no byte waits returns 0.
 */
struct cvmm_i8042;

struct cvmm_i8042_cfg {
	/* The guest asked for a CPU reset. Required. */
	void (*reset)(void *opaque);
	/* IRQ 1 line: high while a byte waits and the command byte enables the
	 * keyboard interrupt; called on level changes. May be NULL. */
	void (*set_irq)(void *opaque, bool level);
	void *opaque;
};

/* Returns 0, -EINVAL without cfg or cfg->reset, or -ENOMEM/-errno. */
int cvmm_i8042_create(struct cvmm_i8042 **out, const struct cvmm_i8042_cfg *cfg);
void cvmm_i8042_destroy(struct cvmm_i8042 *kbd);
void cvmm_i8042_read(struct cvmm_i8042 *kbd, uint64_t offset, void *data, uint32_t len);
void cvmm_i8042_write(struct cvmm_i8042 *kbd, uint64_t offset, const void *data, uint32_t len);
/* Queue Ctrl-Alt-Del pressed and released: scan code set 1 while the command
 * byte asks for translation, else set 2. Returns 0, or -EAGAIN if the guest
 * disabled the keyboard or has not read earlier bytes (queue full). Any
 * thread. */
int cvmm_i8042_ctrl_alt_del(struct cvmm_i8042 *kbd);

/* ---------------------------------------------------------------------- */
/* CMOS RAM and real-time clock                                            */
/* ---------------------------------------------------------------------- */

/*
 * Offset 0 is the index port (0x70; bit 7, NMI disable, is ignored; reads
 * return 0xff), offset 1 the data port (0x71) for CMOS byte index 0..127.
 *
 * Bytes 0x00-0x09 and the century (0x32) read the clock, encoded as
 * register B asks (BCD unless bit 2, 12-hour with bit 7 as PM unless bit 1);
 * guest writes to them are ignored, so the guest cannot change the clock.
 * Alarm bytes (1, 3, 5) are plain storage. Register A reads with UIP clear,
 * B is plain storage (reset value 0x02: 24-hour BCD), C reads 0 (no RTC
 * interrupts are generated), D reads 0x80 (valid RAM and time). Bytes from
 * 0x0E up are plain CMOS RAM, zero at create.
 */
struct cvmm_rtc;

struct cvmm_rtc_cfg {
	/* Seconds since the epoch for the clock, in the time zone the guest
	 * expects (UTC for Linux). NULL: the host's CLOCK_REALTIME. */
	time_t (*now)(void *opaque);
	void *opaque;
};

/* cfg may be NULL. Returns 0 or -ENOMEM/-errno. */
int cvmm_rtc_create(struct cvmm_rtc **out, const struct cvmm_rtc_cfg *cfg);
void cvmm_rtc_destroy(struct cvmm_rtc *rtc);
void cvmm_rtc_read(struct cvmm_rtc *rtc, uint64_t offset, void *data, uint32_t len);
void cvmm_rtc_write(struct cvmm_rtc *rtc, uint64_t offset, const void *data, uint32_t len);

/* Record the RAM size where firmware looks for it: 640 KiB of base memory
 * (0x15/0x16), KiB above 1 MiB capped at 0xFFFF (0x17/0x18, 0x30/0x31),
 * 64 KiB units above 16 MiB (0x34/0x35) and above 4 GiB (0x5B-0x5D),
 * each capped to its width. below_4g and above_4g are the RAM bytes below
 * and above 4 GiB. */
void cvmm_rtc_set_mem_size(struct cvmm_rtc *rtc, uint64_t below_4g, uint64_t above_4g);

#ifdef __cplusplus
}
#endif
#endif

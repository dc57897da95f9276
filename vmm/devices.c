// SPDX-License-Identifier: Apache-2.0
/* Legacy devices, ACPI power ports and the boot timer, wired to the buses. */
#include "layout.h"
#include "vmm.h"
#include <cvmm/superio.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct vmm_devices {
	struct vmm *vmm;
	struct cvmm_uart *uart;
	struct cvmm_i8042 *i8042;
	struct cvmm_rtc *rtc;
	int rx_ready_fd;		      /* the UART has room again: resume reading stdin */
	uint8_t pending[CVMM_UART_FIFO_SIZE]; /* read from stdin, not yet taken */
	size_t nr_pending;
	bool stdin_polled;    /* stdin is subscribed to the loop */
	bool stdin_usable;    /* false after EOF or if stdin cannot be polled */
	uint64_t input_bytes; /* console input the UART took (metrics) */
};

/* Bus adapters: the superio devices take (device, offset, data, len). */
#define DEV_BUS_OPS(name, read_fn, write_fn)                                                       \
	static void name##_bus_read(void *o, uint64_t off, void *d, uint32_t l)                    \
	{                                                                                          \
		read_fn(o, off, d, l);                                                             \
	}                                                                                          \
	static void name##_bus_write(void *o, uint64_t off, const void *d, uint32_t l)             \
	{                                                                                          \
		write_fn(o, off, d, l);                                                            \
	}                                                                                          \
	static const struct cvmm_bus_ops name##_ops = {name##_bus_read, name##_bus_write}

DEV_BUS_OPS(uart, cvmm_uart_read, cvmm_uart_write);
DEV_BUS_OPS(rtc, cvmm_rtc_read, cvmm_rtc_write);

/* One range for ports 0x60-0x64: the i8042 decodes offsets 0 and 4 only, and
 * 0x61 (speaker) never leaves KVM's in-kernel PIT. */
DEV_BUS_OPS(i8042, cvmm_i8042_read, cvmm_i8042_write);

static void uart_set_irq(void *opaque, bool level)
{
	struct vmm_devices *d = opaque;

	cvmm_kvm_vm_irq_line(&d->vmm->vm, LAYOUT_COM1_GSI, level);
}

static void uart_rx_ready(void *opaque)
{
	struct vmm_devices *d = opaque;

	cvmm_eventfd_signal(d->rx_ready_fd);
}

static void i8042_reset(void *opaque)
{
	vmm_request_stop(opaque, 0, "guest reset");
}

static void i8042_set_irq(void *opaque, bool level)
{
	struct vmm *vmm = opaque;

	cvmm_kvm_vm_irq_line(&vmm->vm, CVMM_I8042_IRQ, level);
}

static void coalesced_tick(int fd, uint32_t events, void *opaque)
{
	(void)events;
	cvmm_eventfd_drain(fd, NULL); /* a timerfd reads like an eventfd */
	vmm_coalesced_flush(opaque);
}

/*
 * Console output costs two exits per character (LSR poll, THR write). Let KVM
 * queue the THR writes: each is replayed before the vCPU's next exit is
 * handled, so the UART still sees every access in order. The timer only
 * bounds the delay for a guest that writes and then idles without an exit.
 */
static int devices_coalesce_console(struct vmm *vmm)
{
	int ret;

	if (cvmm_kvm_coalesced_ring(&vmm->kvm, &vmm->vcpus[0].kvm, &vmm->coalesced) < 0 ||
	    cvmm_kvm_vm_coalesce(&vmm->vm, LAYOUT_COM1_PORT, 1, true) < 0)
		return 0; /* an optimisation only */
	pthread_mutex_init(&vmm->coalesced_lock, NULL);
	vmm->has_coalesced = true;
	vmm->coalesced_timer_fd = cvmm_timerfd_open();
	if (vmm->coalesced_timer_fd < 0)
		return vmm->coalesced_timer_fd;
	ret = cvmm_timerfd_arm(vmm->coalesced_timer_fd, LAYOUT_COALESCED_FLUSH_NS,
			       LAYOUT_COALESCED_FLUSH_NS);
	if (ret < 0)
		return ret;
	return cvmm_loop_add(vmm->loop, vmm->coalesced_timer_fd, EPOLLIN, coalesced_tick, vmm);
}

static void stdin_readable(int fd, uint32_t events, void *opaque);

static void stdin_poll(struct vmm_devices *d, bool on)
{
	if (on == d->stdin_polled || !d->stdin_usable)
		return;
	if (on)
		d->stdin_usable =
		    cvmm_loop_add(d->vmm->loop, STDIN_FILENO, EPOLLIN, stdin_readable, d) == 0;
	else
		cvmm_loop_del(d->vmm->loop, STDIN_FILENO);
	d->stdin_polled = on && d->stdin_usable;
}

/* Offer what stdin gave us; whatever the UART refuses waits for rx_ready
 * (which the refusal arms), with stdin unpolled until then. */
static void stdin_feed(struct vmm_devices *d)
{
	size_t n = cvmm_uart_input(d->uart, d->pending, d->nr_pending);

	d->input_bytes += n;

	memmove(d->pending, d->pending + n, d->nr_pending - n);
	d->nr_pending -= n;
	stdin_poll(d, d->nr_pending == 0);
}

static void stdin_readable(int fd, uint32_t events, void *opaque)
{
	struct vmm_devices *d = opaque;
	ssize_t n;

	(void)events;
	n = read(fd, d->pending, sizeof(d->pending));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		stdin_poll(d, false);
		d->stdin_usable = false;
		return;
	}
	d->nr_pending = (size_t)n;
	stdin_feed(d);
}

static void rx_ready_event(int fd, uint32_t events, void *opaque)
{
	(void)events;
	cvmm_eventfd_drain(fd, NULL);
	stdin_feed(opaque);
}

/* ACPI sleep control: SLP_EN with any sleep type ends the VM (only S5 is offered). */
static void acpi_sleep_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	(void)off;
	if (len >= 1 && (*(const uint8_t *)data & CVMM_ACPI_SLP_EN))
		vmm_request_stop(opaque, 0, "guest powered off");
}

static void acpi_reset_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	(void)off;
	if (len >= 1 && *(const uint8_t *)data == CVMM_ACPI_RESET_VALUE)
		vmm_request_stop(opaque, 0, "guest reset");
}

static void acpi_zero_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	(void)opaque;
	(void)off;
	memset(data, 0, len);
}

static void boot_timer_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct vmm *vmm = opaque;
	bool expected = false;

	uint64_t ns;

	(void)off;
	if (len != 1 || *(const uint8_t *)data != LAYOUT_BOOT_TIMER_VALUE ||
	    !atomic_compare_exchange_strong(&vmm->boot_timer_done, &expected, true))
		return;
	/* Kept for metrics; printed only when asked for. */
	ns = cvmm_now_ns() - vmm->start_ns;
	__atomic_store_n(&vmm->boot_time_ns, ns, __ATOMIC_RELAXED);
	if (vmm->cfg->boot_timer)
		fprintf(stderr, "\r\ncvmm: boot-timer: %.3f ms\n", (double)ns / 1e6);
}

static const struct cvmm_bus_ops acpi_sleep_ops = {acpi_zero_read, acpi_sleep_write};
static const struct cvmm_bus_ops acpi_reset_ops = {acpi_zero_read, acpi_reset_write};
static const struct cvmm_bus_ops boot_timer_ops = {NULL, boot_timer_write};

static int devices_add_acpi(struct vmm *vmm, const struct cvmm_acpi_device *dev)
{
	if (vmm->nr_acpi_devices == VMM_MAX_ACPI_DEVICES)
		return cvmm_err(ENOSPC, "too many devices");
	vmm->acpi_devices[vmm->nr_acpi_devices++] = *dev;
	return 0;
}

int vmm_devices_create(struct vmm *vmm)
{
	struct vmm_devices *d = calloc(1, sizeof(*d));
	const struct cvmm_uart_cfg ucfg = {.out_fd = STDOUT_FILENO,
					   .set_irq = uart_set_irq,
					   .rx_ready = uart_rx_ready,
					   .opaque = d};
	const struct cvmm_i8042_cfg kcfg = {
	    .reset = i8042_reset, .set_irq = i8042_set_irq, .opaque = vmm};
	struct cvmm_mem_region_info low, high = {.size = 0};
	int ret;

	if (!d)
		return cvmm_err(ENOMEM, "out of memory for devices");
	vmm->devices = d;
	d->vmm = vmm;
	d->rx_ready_fd = -1;
	if ((ret = cvmm_bus_create(&vmm->pio, "pio")) < 0 ||
	    (ret = cvmm_bus_create(&vmm->mmio, "mmio")) < 0 ||
	    (ret = cvmm_uart_create(&d->uart, &ucfg)) < 0 ||
	    (ret = cvmm_i8042_create(&d->i8042, &kcfg)) < 0 ||
	    (ret = cvmm_rtc_create(&d->rtc, NULL)) < 0)
		return ret;
	cvmm_mem_region_get(vmm->mem, 0, &low);
	if (cvmm_mem_nr_regions(vmm->mem) > 1)
		cvmm_mem_region_get(vmm->mem, 1, &high);
	cvmm_rtc_set_mem_size(d->rtc, low.size, high.size);
	if ((ret = cvmm_bus_register(vmm->pio, LAYOUT_COM1_PORT, CVMM_UART_NR_PORTS, &uart_ops,
				     d->uart)) < 0 ||
	    (ret = cvmm_bus_register(vmm->pio, CVMM_I8042_PORT, 5, &i8042_ops, d->i8042)) < 0 ||
	    (ret = cvmm_bus_register(vmm->pio, CVMM_RTC_PORT, CVMM_RTC_NR_PORTS, &rtc_ops,
				     d->rtc)) < 0 ||
	    (ret = cvmm_bus_register(vmm->pio, CVMM_ACPI_SLEEP_CTL_PORT, 2, &acpi_sleep_ops, vmm)) <
		0 ||
	    (ret = cvmm_bus_register(vmm->pio, CVMM_ACPI_RESET_PORT, 1, &acpi_reset_ops, vmm)) <
		0 ||
	    (ret = cvmm_bus_register(vmm->pio, LAYOUT_BOOT_TIMER_PORT, 1, &boot_timer_ops, vmm)) <
		0)
		return ret;
	ret = devices_add_acpi(vmm, &(struct cvmm_acpi_device){
					.name = "COM1",
					.hid = "PNP0501",
					.uid = 0,
					.io_base = LAYOUT_COM1_PORT,
					.io_len = CVMM_UART_NR_PORTS,
					.has_irq = true,
					.gsi = LAYOUT_COM1_GSI,
				    });
	if (ret < 0)
		return ret;
	/* With hardware-reduced ACPI Linux maps ISA IRQ 1 only for a described
	 * keyboard: the i8042 driver finds it here, data port then command port. */
	ret = devices_add_acpi(vmm, &(struct cvmm_acpi_device){
					.name = "KBD0",
					.hid = "PNP0303",
					.io_base = CVMM_I8042_PORT,
					.io_len = 1,
					.io2_base = CVMM_I8042_PORT + 4,
					.io2_len = 1,
					.has_irq = true,
					.gsi = CVMM_I8042_IRQ,
				    });
	if (ret < 0)
		return ret;
	/* Linux's rtc_cmos binds only to a described device; it polls (no IRQ). */
	ret = devices_add_acpi(vmm, &(struct cvmm_acpi_device){
					.name = "RTC0",
					.hid = "PNP0B00",
					.io_base = CVMM_RTC_PORT,
					.io_len = CVMM_RTC_NR_PORTS,
				    });
	if (ret < 0)
		return ret;
	ret = devices_coalesce_console(vmm);
	if (ret < 0)
		return ret;
	d->rx_ready_fd = cvmm_eventfd_open();
	if (d->rx_ready_fd < 0)
		return d->rx_ready_fd;
	ret = cvmm_loop_add(vmm->loop, d->rx_ready_fd, EPOLLIN, rx_ready_event, d);
	if (ret < 0)
		return ret;
	/* stdin may be /dev/null or a file, which epoll refuses: then there is no input. */
	d->stdin_usable = true;
	stdin_poll(d, true);
	return 0;
}

void vmm_devices_destroy(struct vmm *vmm)
{
	struct vmm_devices *d = vmm->devices;

	if (!d)
		return;
	vmm_coalesced_flush(vmm); /* the guest's last words */
	/* The loop may outlive the VM (a failed InstanceStart): unsubscribe. */
	stdin_poll(d, false);
	if (vmm->coalesced_timer_fd >= 0) {
		cvmm_loop_del(vmm->loop, vmm->coalesced_timer_fd);
		close(vmm->coalesced_timer_fd);
		vmm->coalesced_timer_fd = -1;
	}
	if (d->rx_ready_fd >= 0) {
		cvmm_loop_del(vmm->loop, d->rx_ready_fd);
		close(d->rx_ready_fd);
	}
	cvmm_uart_destroy(d->uart);
	cvmm_i8042_destroy(d->i8042);
	cvmm_rtc_destroy(d->rtc);
	free(d);
	vmm->devices = NULL;
}

int vmm_devices_ctrl_alt_del(struct vmm *vmm)
{
	return cvmm_i8042_ctrl_alt_del(vmm->devices->i8042);
}

void vmm_devices_serial_stats(struct vmm *vmm, uint64_t *in_bytes, uint64_t *out_dropped)
{
	*in_bytes = vmm->devices->input_bytes;
	*out_dropped = cvmm_uart_tx_dropped(vmm->devices->uart);
}

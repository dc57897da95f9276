// SPDX-License-Identifier: Apache-2.0
/*
 * minimal-vmm: a custom VMM built only from cvmm component libraries.
 *
 *   minimal-vmm KERNEL [INITRD]
 *
 * One vCPU, 256 MiB, a 16550A on COM1 printing to stdout, no ACPI: the guest
 * ends the VM with a reset (`reboot -f`, reboot=k) or a triple fault.
 */
#include <cvmm/kvm.h>
#include <cvmm/loader.h>
#include <cvmm/memory.h>
#include <cvmm/superio.h>
#include <cvmm/sys.h>
#include <cvmm/x86.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define RAM_SIZE (256ULL << 20)
#define ZERO_PAGE 0x7000
#define GDT 0x500
#define PAGE_TABLES 0x9000
#define CMDLINE_GPA 0x20000
#define MPTABLE 0xF0000
#define CMDLINE "console=ttyS0 reboot=k panic=1 i8042.noaux i8042.nomux i8042.dumbkbd"

struct vmm {
	struct cvmm_kvm kvm;
	struct cvmm_kvm_vm vm;
	struct cvmm_kvm_vcpu vcpu;
	struct cvmm_mem *mem;
	struct cvmm_uart *uart;
	struct cvmm_i8042 *i8042;
	struct cvmm_rtc *rtc;
	bool reset;
};

static void uart_irq(void *opaque, bool level)
{
	struct vmm *v = opaque;

	cvmm_kvm_vm_irq_line(&v->vm, CVMM_UART_COM1_IRQ, level);
}

static void guest_reset(void *opaque)
{
	((struct vmm *)opaque)->reset = true;
}

static int die(const char *what)
{
	fprintf(stderr, "minimal-vmm: %s: %s\n", what, cvmm_err_msg());
	return 1;
}

/* Load kernel, initrd and command line; write the zero page and MP table. */
static int load_guest(struct vmm *v, const char *kernel_path, const char *initrd_path,
		      struct cvmm_loader_kernel *k)
{
	struct cvmm_e820_entry e820[] = {
	    {0, 0x9FC00, CVMM_E820_RAM},
	    {0xF0000, 0x10000, CVMM_E820_RESERVED},
	    {0x100000, RAM_SIZE - 0x100000, CVMM_E820_RAM},
	};
	struct cvmm_loader_boot boot = {.cmdline_gpa = CMDLINE_GPA, .e820 = e820, .nr_e820 = 3};
	struct cvmm_loader_cmdline cl;
	uint8_t *image, *initrd;
	size_t size, initrd_size;

	if (cvmm_file_read_all(kernel_path, 512u << 20, &image, &size) < 0 ||
	    cvmm_loader_load(v->mem, image, size, k) < 0)
		return -1;
	free(image);
	if (initrd_path) {
		if (cvmm_file_read_all(initrd_path, 1u << 30, &initrd, &initrd_size) < 0 ||
		    cvmm_loader_place_initrd(v->mem, k, initrd, initrd_size, 0, &boot.initrd_gpa) <
			0)
			return -1;
		boot.initrd_size = initrd_size;
		free(initrd);
	}
	if (cvmm_loader_cmdline_init(&cl, k->cmdline_max) < 0 ||
	    cvmm_loader_cmdline_append(&cl, CMDLINE) < 0 ||
	    cvmm_loader_cmdline_write(&cl, v->mem, CMDLINE_GPA) < 0)
		return -1;
	boot.cmdline_len = (uint32_t)cl.len;
	cvmm_loader_cmdline_free(&cl);
	if (cvmm_x86_mptable_write(v->mem, MPTABLE, 0x10000, 1) < 0)
		return -1;
	return cvmm_loader_write_boot_params(v->mem, ZERO_PAGE, k, &boot);
}

/* KVM objects and the boot vCPU's architectural state. */
static int create_vm(struct vmm *v, const struct cvmm_loader_kernel *k)
{
	struct kvm_cpuid2 *cpuid;
	struct cvmm_mem_region_info r;
	struct cvmm_x86_entry entry = {
	    .entry = k->entry64, .boot_info = ZERO_PAGE, .gdt = GDT, .page_tables = PAGE_TABLES};
	int ret;

	cvmm_mem_region_get(v->mem, 0, &r); /* RAM_SIZE is below the hole: one region */
	if (cvmm_kvm_vm_create(&v->vm, &v->kvm) < 0 ||
	    cvmm_kvm_vm_set_tss_addr(&v->vm, 0xFFFBD000) < 0 ||
	    cvmm_kvm_vm_create_irqchip(&v->vm) < 0 || cvmm_kvm_vm_create_pit2(&v->vm) < 0 ||
	    cvmm_kvm_vm_set_memory(&v->vm, 0, r.gpa, r.size, r.host, 0) < 0 ||
	    cvmm_kvm_vcpu_create(&v->vcpu, &v->vm, 0) < 0 ||
	    cvmm_kvm_get_supported_cpuid(&v->kvm, &cpuid) < 0)
		return -1;
	ret = cvmm_x86_cpuid_apply(&v->vcpu, cpuid, 1);
	free(cpuid);
	if (ret < 0 || cvmm_x86_boot_msrs_apply(&v->vcpu) < 0 || cvmm_x86_fpu_apply(&v->vcpu) < 0 ||
	    cvmm_x86_lapic_apply(&v->vcpu) < 0)
		return -1;
	return cvmm_x86_setup_entry(&v->vcpu, v->mem, CVMM_X86_MODE_LONG, &entry);
}

/* Legacy port I/O: COM1, the i8042 (for reset) and the RTC. */
static void handle_io(struct vmm *v, uint16_t port, bool out, uint8_t *data, uint32_t len)
{
	if (port >= CVMM_UART_COM1_PORT && port < CVMM_UART_COM1_PORT + CVMM_UART_NR_PORTS) {
		if (out)
			cvmm_uart_write(v->uart, port - CVMM_UART_COM1_PORT, data, len);
		else
			cvmm_uart_read(v->uart, port - CVMM_UART_COM1_PORT, data, len);
	} else if (port == 0x60 || port == 0x64) {
		if (out)
			cvmm_i8042_write(v->i8042, port - 0x60, data, len);
		else
			cvmm_i8042_read(v->i8042, port - 0x60, data, len);
	} else if (port == CVMM_RTC_PORT || port == CVMM_RTC_PORT + 1) {
		if (out)
			cvmm_rtc_write(v->rtc, port - CVMM_RTC_PORT, data, len);
		else
			cvmm_rtc_read(v->rtc, port - CVMM_RTC_PORT, data, len);
	} else if (!out) {
		for (uint32_t i = 0; i < len; i++)
			data[i] = 0xff; /* nothing there */
	}
}

static int run(struct vmm *v)
{
	struct cvmm_kvm_exit e;

	while (!v->reset) {
		if (cvmm_kvm_vcpu_run(&v->vcpu, &e) < 0)
			return die("KVM_RUN");
		switch (e.kind) {
		case CVMM_KVM_EXIT_IO:
			for (uint32_t i = 0; i < e.io.count; i++)
				handle_io(v, e.io.port, e.io.direction == CVMM_KVM_IO_OUT,
					  e.io.data + (size_t)i * e.io.size, e.io.size);
			break;
		case CVMM_KVM_EXIT_MMIO:
			if (!e.mmio.is_write)
				for (uint32_t i = 0; i < e.mmio.len; i++)
					e.mmio.data[i] = 0xff;
			break;
		case CVMM_KVM_EXIT_SHUTDOWN:
		case CVMM_KVM_EXIT_SYSTEM_EVENT:
			return 0;
		case CVMM_KVM_EXIT_INTR:
			break;
		default:
			fprintf(stderr, "minimal-vmm: unexpected exit %d\n", (int)e.kind);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vmm v = {0};
	struct cvmm_loader_kernel k;
	const struct cvmm_uart_cfg ucfg = {
	    .out_fd = STDOUT_FILENO, .set_irq = uart_irq, .opaque = &v};
	const struct cvmm_i8042_cfg kcfg = {.reset = guest_reset, .opaque = &v};

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: minimal-vmm KERNEL [INITRD]\n");
		return 2;
	}
	if (cvmm_kvm_open(&v.kvm, NULL) < 0)
		return die("open KVM");
	if (cvmm_mem_create(&v.mem, RAM_SIZE, NULL) < 0)
		return die("guest memory");
	if (load_guest(&v, argv[1], argc > 2 ? argv[2] : NULL, &k) < 0)
		return die("load guest");
	if (cvmm_uart_create(&v.uart, &ucfg) < 0 || cvmm_i8042_create(&v.i8042, &kcfg) < 0 ||
	    cvmm_rtc_create(&v.rtc, NULL) < 0)
		return die("devices");
	if (create_vm(&v, &k) < 0)
		return die("create VM");
	return run(&v);
}

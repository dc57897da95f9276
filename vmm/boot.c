// SPDX-License-Identifier: Apache-2.0
/* From files on the host to a VM ready to run: everything before vCPUs start. */
#include "boot.h"
#include "layout.h"
#include <cvmm/acpi.h>
#include <cvmm/loader.h>
#include <cvmm/x86.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BOOT_KERNEL_MAX (512ULL << 20)
#define BOOT_INITRD_MAX (2ULL << 30)
#define BOOT_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=1"
/* There is no PCI bus: without this the kernel probes config space port by
 * port, tens of thousands of exits. */
#define BOOT_MONITOR_CMDLINE "pci=off"

/* Map a host file named by a CLI option (only the parts loaded are read);
 * errors name the option. */
static int boot_map_file(const char *option, const char *path, size_t max, const uint8_t **data,
			 size_t *size)
{
	int ret = cvmm_file_map(path, max, data, size);

	if (ret < 0)
		return cvmm_err(-ret, "%s: %s", option, cvmm_err_msg());
	return 0;
}

static int boot_check_resources(struct vmm *vmm)
{
	uint64_t host_bytes = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t want = vmm->cfg->memory_mib << 20;
	int max_vcpus;

	if (want < LAYOUT_MIN_RAM)
		return cvmm_err(EINVAL,
				"--memory: %" PRIu64 " MiB is too small (at least %llu MiB)",
				vmm->cfg->memory_mib, LAYOUT_MIN_RAM >> 20);
	if (want > host_bytes)
		return cvmm_err(
		    EINVAL, "--memory: %" PRIu64 " MiB is more than the host has (%" PRIu64 " MiB)",
		    vmm->cfg->memory_mib, host_bytes >> 20);
	max_vcpus = cvmm_kvm_check_extension(&vmm->kvm, KVM_CAP_MAX_VCPUS);
	if (max_vcpus <= 0)
		max_vcpus = cvmm_kvm_check_extension(&vmm->kvm, KVM_CAP_NR_VCPUS);
	if (max_vcpus > 0 && vmm->cfg->cpus > (unsigned int)max_vcpus)
		return cvmm_err(EINVAL, "--cpus: %u is more than KVM allows (%d)", vmm->cfg->cpus,
				max_vcpus);
	return 0;
}

static int boot_cmdline(struct vmm *vmm, struct boot_state *bs)
{
	const char *user = vmm->cfg->cmdline ? vmm->cfg->cmdline : BOOT_DEFAULT_CMDLINE;
	int ret = cvmm_loader_cmdline_init(&bs->cmdline, bs->kernel.cmdline_max);

	if (ret < 0)
		return ret;
	ret = cvmm_loader_cmdline_append(&bs->cmdline, user);
	if (ret == 0)
		ret = cvmm_loader_cmdline_append(&bs->cmdline, BOOT_MONITOR_CMDLINE);
	for (size_t i = 0; ret == 0 && i < bs->nr_extra_cmdline; i++)
		ret = cvmm_loader_cmdline_append(&bs->cmdline, bs->extra_cmdline[i]);
	if (ret < 0) {
		size_t extra = strlen(BOOT_MONITOR_CMDLINE) + 1;

		for (size_t i = 0; i < bs->nr_extra_cmdline; i++)
			extra += strlen(bs->extra_cmdline[i]) + 1;
		return cvmm_err(E2BIG,
				"--cmdline: too long (%zu bytes, plus %zu the monitor adds; this "
				"kernel accepts %u)",
				strlen(user), extra, bs->kernel.cmdline_max);
	}
	return 0;
}

int vmm_boot_check(struct vmm *vmm, struct boot_state *bs)
{
	const struct vmm_config *cfg = vmm->cfg;
	int ret;

	ret = boot_map_file("--kernel", cfg->kernel, BOOT_KERNEL_MAX, &bs->kernel_image,
			    &bs->kernel_size);
	if (ret < 0)
		return ret;
	if (cvmm_loader_detect(bs->kernel_image, bs->kernel_size) < 0)
		return cvmm_err(ENOEXEC,
				"--kernel: %s: not a kernel image (bzImage or ELF vmlinux)",
				cfg->kernel);
	if (cfg->initrd) {
		ret = boot_map_file("--initrd", cfg->initrd, BOOT_INITRD_MAX, &bs->initrd_image,
				    &bs->initrd_size);
		if (ret < 0)
			return ret;
	}
	ret = cvmm_kvm_open(&vmm->kvm, cfg->kvm_path);
	if (ret < 0)
		return cvmm_err(-ret, "no usable KVM: %s", cvmm_err_msg());
	ret = boot_check_resources(vmm);
	if (ret < 0)
		return ret;
	ret = cvmm_mem_create(
	    &vmm->mem, cfg->memory_mib << 20,
	    &(struct cvmm_mem_opts){.thp = cfg->huge_pages == VMM_HUGE_PAGES_THP,
				    .hugetlb = cfg->huge_pages == VMM_HUGE_PAGES_2M});
	if (ret < 0)
		return cvmm_err(-ret, "--memory: %s", cvmm_err_msg());
	ret = cvmm_loader_load(vmm->mem, bs->kernel_image, bs->kernel_size, &bs->kernel);
	if (ret < 0)
		return cvmm_err(-ret, "--kernel: %s: %s", cfg->kernel, cvmm_err_msg());
	bs->pvh = bs->kernel.kind == CVMM_LOADER_ELF && bs->kernel.has_pvh;
	if (bs->initrd_image) {
		ret = cvmm_loader_place_initrd(vmm->mem, &bs->kernel, bs->initrd_image,
					       bs->initrd_size, 0, &bs->initrd_gpa);
		if (ret < 0)
			return cvmm_err(-ret, "--initrd: %s: %s", cfg->initrd, cvmm_err_msg());
	}
	ret = vmm_disks_open(vmm, bs);
	if (ret < 0)
		return ret;
	ret = vmm_rng_open(vmm, bs);
	if (ret < 0)
		return ret;
	ret = vmm_vsock_open(vmm, bs);
	if (ret < 0)
		return ret;
	ret = vmm_nets_open(vmm, bs);
	if (ret < 0)
		return ret;
	return boot_cmdline(vmm, bs);
}

void vmm_boot_free(struct boot_state *bs)
{
	cvmm_file_unmap(bs->kernel_image, bs->kernel_size);
	cvmm_file_unmap(bs->initrd_image, bs->initrd_size);
	cvmm_loader_cmdline_free(&bs->cmdline);
	for (size_t i = 0; i < bs->nr_extra_cmdline; i++)
		free(bs->extra_cmdline[i]);
	memset(bs, 0, sizeof(*bs));
}

int vmm_boot_create_vm(struct vmm *vmm)
{
	int ret;

	ret = cvmm_kvm_vm_create(&vmm->vm, &vmm->kvm);
	if (ret < 0)
		return ret;
	if ((ret = cvmm_kvm_vm_set_tss_addr(&vmm->vm, LAYOUT_TSS)) < 0 ||
	    (ret = cvmm_kvm_vm_set_identity_map_addr(&vmm->vm, LAYOUT_IDENTITY_MAP)) < 0 ||
	    (ret = cvmm_kvm_vm_create_irqchip(&vmm->vm)) < 0 ||
	    (ret = cvmm_kvm_vm_create_pit2(&vmm->vm)) < 0)
		return ret;
	for (unsigned int i = 0; i < cvmm_mem_nr_regions(vmm->mem); i++) {
		struct cvmm_mem_region_info r;

		cvmm_mem_region_get(vmm->mem, i, &r);
		ret = cvmm_kvm_vm_set_memory(&vmm->vm, i, r.gpa, r.size, r.host, 0);
		if (ret < 0)
			return ret;
	}
	vmm->nr_vcpus = vmm->cfg->cpus;
	vmm->vcpus = calloc(vmm->nr_vcpus, sizeof(*vmm->vcpus));
	if (!vmm->vcpus)
		return cvmm_err(ENOMEM, "out of memory for vCPUs");
	for (unsigned int i = 0; i < vmm->nr_vcpus; i++) {
		vmm->vcpus[i].vmm = vmm;
		vmm->vcpus[i].kvm.fd = -1;
	}
	for (unsigned int i = 0; i < vmm->nr_vcpus; i++) {
		ret = cvmm_kvm_vcpu_create(&vmm->vcpus[i].kvm, &vmm->vm, i);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The guest's memory map: RAM minus the legacy BIOS areas holding our tables. */
static size_t boot_e820(const struct vmm *vmm, struct cvmm_e820_entry *e820)
{
	struct cvmm_mem_region_info low, high;
	size_t n = 0;

	cvmm_mem_region_get(vmm->mem, 0, &low); /* region 0 always exists */
	e820[n++] = (struct cvmm_e820_entry){0, LAYOUT_EBDA, CVMM_E820_RAM};
	e820[n++] = (struct cvmm_e820_entry){
	    LAYOUT_ACPI_RSDP, LAYOUT_MPTABLE_END - LAYOUT_ACPI_RSDP, CVMM_E820_RESERVED};
	e820[n++] = (struct cvmm_e820_entry){LAYOUT_HIGH_START, low.size - LAYOUT_HIGH_START,
					     CVMM_E820_RAM};
	if (cvmm_mem_nr_regions(vmm->mem) > 1) {
		cvmm_mem_region_get(vmm->mem, 1, &high);
		e820[n++] = (struct cvmm_e820_entry){high.gpa, high.size, CVMM_E820_RAM};
	}
	return n;
}

static int boot_tables(struct vmm *vmm, uint64_t *rsdp)
{
	struct cvmm_acpi_config acfg = {
	    .nr_vcpus = vmm->nr_vcpus,
	    .ioapic_id = (uint8_t)vmm->nr_vcpus,
	    .ioapic_addr = CVMM_ACPI_IOAPIC_ADDR,
	    .pcat_compat = true,
	    .sleep_ctl_port = CVMM_ACPI_SLEEP_CTL_PORT,
	    .sleep_sts_port = CVMM_ACPI_SLEEP_STS_PORT,
	    .reset_port = CVMM_ACPI_RESET_PORT,
	    .reset_value = CVMM_ACPI_RESET_VALUE,
	    .i8042 = true,
	    .devices = vmm->acpi_devices,
	    .nr_devices = vmm->nr_acpi_devices,
	    .base = LAYOUT_ACPI_TABLES,
	    .max_size = LAYOUT_ACPI_END - LAYOUT_ACPI_TABLES,
	    .rsdp_addr = LAYOUT_ACPI_RSDP,
	};
	struct cvmm_acpi_result res;
	int ret;

	/* The MP table is cheap and lets kernels without ACPI find the vCPUs too. */
	ret = cvmm_x86_mptable_write(vmm->mem, LAYOUT_MPTABLE, LAYOUT_MPTABLE_END - LAYOUT_MPTABLE,
				     vmm->nr_vcpus);
	if (ret < 0)
		return ret;
	*rsdp = 0;
	if (vmm->cfg->no_acpi)
		return 0;
	ret = cvmm_acpi_build(vmm->mem, &acfg, &res);
	if (ret < 0)
		return ret;
	*rsdp = res.rsdp_addr;
	return 0;
}

/* Per-vCPU CPU state; the boot vCPU also gets the kernel's entry state. APs
 * wait for INIT/SIPI in the in-kernel LAPIC. */
static int boot_vcpus(struct vmm *vmm, const struct boot_state *bs)
{
	struct kvm_cpuid2 *supported;
	int ret;

	ret = cvmm_kvm_get_supported_cpuid(&vmm->kvm, &supported);
	if (ret < 0)
		return ret;
	for (unsigned int i = 0; i < vmm->nr_vcpus && ret == 0; i++) {
		const struct cvmm_kvm_vcpu *v = &vmm->vcpus[i].kvm;

		if ((ret = cvmm_x86_cpuid_apply(v, supported, vmm->nr_vcpus)) < 0 ||
		    (ret = cvmm_x86_boot_msrs_apply(v)) < 0 || (ret = cvmm_x86_fpu_apply(v)) < 0 ||
		    (ret = cvmm_x86_lapic_apply(v)) < 0)
			break;
	}
	free(supported);
	if (ret < 0)
		return ret;
	if (bs->pvh)
		return cvmm_x86_setup_entry(
		    &vmm->vcpus[0].kvm, vmm->mem, CVMM_X86_MODE_PVH,
		    &(struct cvmm_x86_entry){.entry = bs->kernel.pvh_entry,
					     .boot_info = LAYOUT_PVH_START_INFO,
					     .gdt = LAYOUT_GDT});
	return cvmm_x86_setup_entry(&vmm->vcpus[0].kvm, vmm->mem, CVMM_X86_MODE_LONG,
				    &(struct cvmm_x86_entry){.entry = bs->kernel.entry64,
							     .boot_info = LAYOUT_ZERO_PAGE,
							     .gdt = LAYOUT_GDT,
							     .page_tables = LAYOUT_PAGE_TABLES});
}

int vmm_boot_finish(struct vmm *vmm, struct boot_state *bs)
{
	struct cvmm_e820_entry e820[8];
	struct cvmm_loader_boot boot = {
	    .cmdline_gpa = LAYOUT_CMDLINE,
	    .cmdline_len = (uint32_t)bs->cmdline.len,
	    .initrd_gpa = bs->initrd_gpa,
	    .initrd_size = bs->initrd_size,
	    .e820 = e820,
	};
	int ret;

	boot.nr_e820 = boot_e820(vmm, e820);
	ret = boot_tables(vmm, &boot.rsdp_gpa);
	if (ret < 0)
		return ret;
	ret = cvmm_loader_cmdline_write(&bs->cmdline, vmm->mem, LAYOUT_CMDLINE);
	if (ret < 0)
		return ret;
	if (bs->pvh) {
		const struct cvmm_loader_pvh_layout pl = {
		    .start_info_gpa = LAYOUT_PVH_START_INFO,
		    .modlist_gpa = LAYOUT_PVH_MODLIST,
		    .memmap_gpa = LAYOUT_PVH_MEMMAP,
		};

		ret = cvmm_loader_write_pvh(vmm->mem, &pl, &boot);
	} else {
		ret = cvmm_loader_write_boot_params(vmm->mem, LAYOUT_ZERO_PAGE, &bs->kernel, &boot);
	}
	if (ret < 0)
		return ret;
	return boot_vcpus(vmm, bs);
}

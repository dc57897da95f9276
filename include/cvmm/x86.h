/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-x86: the x86 state a guest needs before its first instruction.
 *
 * vCPU state comes as a pure function that fills the plain KVM struct, which
 * unit tests can check without KVM, plus a function that sets it on a vCPU
 * through cvmm/kvm.h (the *_apply functions, and cvmm_x86_setup_entry() for
 * the entry state). Tables the guest reads (GDT, page tables, MP table) are
 * written to guest memory through cvmm/memory.h.
 *
 * Suggested order per vCPU: cvmm_x86_cpuid_apply() (MSR and LAPIC validity
 * depend on CPUID), cvmm_x86_boot_msrs_apply(), cvmm_x86_lapic_apply() (needs
 * the in-kernel irqchip), cvmm_x86_fpu_apply(); then, on the boot vCPU only,
 * cvmm_x86_setup_entry() with CVMM_X86_MODE_LONG (Linux 64-bit boot protocol)
 * or CVMM_X86_MODE_PVH. APs wait for INIT/SIPI.
 *
 * Topology model: vCPU i has APIC id i; N vCPUs are N cores of one thread
 * each in one socket. N is at most CVMM_X86_MAX_CPUS, since xAPIC ids are 8
 * bits, 0xff is broadcast and the IOAPIC takes id N.
 *
 * Errors: negative errno with a message in cvmm_err_msg(); the pure functions
 * cannot fail (they return void, a count or a size). Guest addresses are
 * caller-chosen (trusted layout); every write goes through the checked memory
 * accessors, so a bad address yields -EFAULT, never a host write out of guest
 * RAM.
 *
 * Threading: no shared state; the apply functions follow cvmm/kvm.h's rule
 * (call them from the vCPU's thread or while it is not running).
 */
#ifndef CVMM_X86_H
#define CVMM_X86_H

#include <cvmm/kvm.h>
#include <cvmm/memory.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CVMM_X86_MAX_CPUS 254
#define CVMM_X86_IOAPIC_ADDR 0xfec00000u
#define CVMM_X86_LAPIC_ADDR 0xfee00000u

/* ---- CPUID ---- */

/*
 * Build the CPUID table for vCPU cpu of nr_cpus from supported (the output
 * of cvmm_kvm_get_supported_cpuid(), not modified). *out is malloc'd (free()
 * it). Adjusts:
 *   leaf 1: initial APIC id = cpu, CLFLUSH line 64 bytes, logical count
 *     (nr_cpus rounded up to a power of two, at most 255), HTT iff
 *     nr_cpus > 1, hypervisor bit (ECX 31);
 *   leaves 0xB and 0x1F (when present): SMT level 1 thread, core level
 *     nr_cpus, then an invalid level; EDX = x2APIC id = cpu;
 *   leaf 4 (Intel): cores per package, L1/L2 private, L3 shared by all;
 *   0x80000008 ECX (AMD): NC = nr_cpus - 1 and ApicIdCoreIdSize;
 *   0x8000001E (AMD, when present): extended APIC id, core id, one node;
 *   0x40000000: replaced by "KVMKVMKVM\0\0\0", max leaf 0x40000001;
 *   0x40000001: passed through, or added all zero (no paravirt features)
 *     when supported lacks it.
 * Everything else is passed through. -EINVAL if nr_cpus is 0 or above
 * CVMM_X86_MAX_CPUS, cpu >= nr_cpus, or supported is NULL, empty or has
 * more than 4096 entries; -ENOMEM.
 */
int cvmm_x86_cpuid_build(const struct kvm_cpuid2 *supported, uint32_t cpu, uint32_t nr_cpus,
			 struct kvm_cpuid2 **out);
/* cvmm_x86_cpuid_build() for vcpu->id, then KVM_SET_CPUID2. Errors: those of
 * both. */
int cvmm_x86_cpuid_apply(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_cpuid2 *supported,
			 uint32_t nr_cpus);

/* ---- MSRs ---- */

#define CVMM_X86_NR_BOOT_MSRS 11

/* Fill out with the boot MSR values: SYSENTER_CS/ESP/EIP, STAR, LSTAR,
 * CSTAR, SFMASK, KERNEL_GS_BASE = 0; TSC = 0; MISC_ENABLE = fast strings;
 * MTRR default type = enabled, write-back. Returns CVMM_X86_NR_BOOT_MSRS. */
uint32_t cvmm_x86_boot_msrs(struct kvm_msr_entry out[CVMM_X86_NR_BOOT_MSRS]);
/* Write them to the vCPU with KVM_SET_MSRS: -EIO naming the first MSR KVM
 * refused, or the ioctl's error. */
int cvmm_x86_boot_msrs_apply(const struct cvmm_kvm_vcpu *vcpu);

/* ---- Entry state: GDT, page tables, segments ---- */

/* GDT written by cvmm_x86_write_gdt(): null, null, code, data, TSS (the TSS
 * descriptor takes 16 bytes in long mode). Selectors follow the Linux boot
 * protocol (__BOOT_CS = 0x10, __BOOT_DS = 0x18). */
#define CVMM_X86_SEL_CODE 0x10
#define CVMM_X86_SEL_DATA 0x18
#define CVMM_X86_SEL_TSS 0x20
#define CVMM_X86_GDT_SIZE 48

enum cvmm_x86_mode {
	CVMM_X86_MODE_LONG, /* 64-bit code segment (L=1) */
	CVMM_X86_MODE_PVH,  /* 32-bit flat code segment (D=1) */
};

/* Write the GDT for mode at gpa (CVMM_X86_GDT_SIZE bytes). 0, -EINVAL
 * (unknown mode) or -EFAULT (not RAM). */
int cvmm_x86_write_gdt(const struct cvmm_mem *mem, uint64_t gpa, enum cvmm_x86_mode mode);

/* Identity-mapped page tables for the first 4 GiB: PML4 at gpa, PDPT at
 * gpa + 0x1000, four page directories of 2 MiB pages after it
 * (CVMM_X86_PAGE_TABLES_SIZE bytes in all). gpa must be 4 KiB aligned
 * (-EINVAL); -EFAULT if the range is not RAM. The PML4 address is the CR3. */
#define CVMM_X86_PAGE_TABLES_SIZE 0x6000
int cvmm_x86_write_page_tables(const struct cvmm_mem *mem, uint64_t gpa);

/* Segment and control registers matching cvmm_x86_write_gdt(mode) at gdt.
 * Fields and bits not listed are kept (so start from KVM_GET_SREGS: APIC
 * base etc.).
 * LONG: CR0 PE and PG set, CR4 PAE set, EFER LME and LMA set, CR3 = pml4.
 * PVH: CR0 PE set and PG cleared, CR4 = 0, EFER = 0; pml4 is ignored.
 * Both: CR0 CD and NW cleared; CS/DS/ES/FS/GS/SS flat 4 GiB; TR busy TSS;
 * GDTR = gdt, limit CVMM_X86_GDT_SIZE - 1; IDTR base 0, limit 0. */
void cvmm_x86_entry_sregs(struct kvm_sregs *sregs, enum cvmm_x86_mode mode, uint64_t gdt,
			  uint64_t pml4);
/* General registers: all zero except rip = entry, rflags = 2 (IF clear) and
 * the boot-info pointer: rsi = zero page (LONG) or rbx = hvm_start_info (PVH). */
void cvmm_x86_entry_regs(struct kvm_regs *regs, enum cvmm_x86_mode mode, uint64_t entry,
			 uint64_t boot_info);

struct cvmm_x86_entry {
	uint64_t entry;	      /* first guest instruction (64-bit or PVH entry point) */
	uint64_t boot_info;   /* zero page (LONG) or hvm_start_info (PVH) address */
	uint64_t gdt;	      /* where to write the GDT */
	uint64_t page_tables; /* LONG only: where to write the page tables (4 KiB aligned) */
};

/* Write GDT (and page tables for LONG) into mem, then set sregs and regs of
 * vcpu: the Linux 64-bit boot protocol state (LONG) or the PVH 32-bit entry
 * state (PVH), as cvmm_x86_entry_sregs() and cvmm_x86_entry_regs() describe.
 * Boot vCPU only. Errors: those of cvmm_x86_write_gdt(),
 * cvmm_x86_write_page_tables() and the KVM register ioctls. */
int cvmm_x86_setup_entry(const struct cvmm_kvm_vcpu *vcpu, const struct cvmm_mem *mem,
			 enum cvmm_x86_mode mode, const struct cvmm_x86_entry *e);

/* ---- LAPIC and FPU ---- */

/* In a KVM_GET_LAPIC register page, set LVT LINT0 delivery mode to ExtINT and
 * LINT1 to NMI (virtual wire mode), keeping the other bits (mask etc.). */
void cvmm_x86_lapic_lint(struct kvm_lapic_state *lapic);
/* KVM_GET_LAPIC, cvmm_x86_lapic_lint(), KVM_SET_LAPIC. Needs the irqchip.
 * Errors: the ioctls'. */
int cvmm_x86_lapic_apply(const struct cvmm_kvm_vcpu *vcpu);

/* Reset FPU state: all zero except FCW 0x37f and MXCSR 0x1f80. */
void cvmm_x86_fpu_init(struct kvm_fpu *fpu);
/* KVM_SET_FPU with cvmm_x86_fpu_init()'s state. Errors: the ioctl's. */
int cvmm_x86_fpu_apply(const struct cvmm_kvm_vcpu *vcpu);

/* ---- MP table (Intel MultiProcessor Specification 1.4) ---- */

/* Bytes cvmm_x86_mptable_write() writes for nr_cpus. */
size_t cvmm_x86_mptable_size(uint32_t nr_cpus);
/*
 * Write an MP floating pointer at gpa followed by its configuration table:
 * nr_cpus processors (APIC ids 0..nr_cpus-1, BSP = 0), one ISA bus, one
 * IOAPIC (id nr_cpus, at CVMM_X86_IOAPIC_ADDR), ISA IRQs 0-15 on IOAPIC pins
 * 0-15, ExtINT on LINT0 and NMI on LINT1 of every LAPIC. gpa must be 16-byte
 * aligned and where the guest scans (e.g. last KiB of base memory, or
 * 0xF0000-0xFFFFF). Returns 0, -EINVAL (nr_cpus 0 or > CVMM_X86_MAX_CPUS,
 * gpa misaligned or above 4 GiB), -E2BIG (does not fit in max_size),
 * -ENOMEM or -EFAULT (not RAM).
 */
int cvmm_x86_mptable_write(const struct cvmm_mem *mem, uint64_t gpa, uint64_t max_size,
			   uint32_t nr_cpus);

#ifdef __cplusplus
}
#endif
#endif

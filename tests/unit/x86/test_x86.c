// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/sys.h>
#include <cvmm/x86.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- CPUID ---- */

#define SIG KVM_CPUID_FLAG_SIGNIFCANT_INDEX

static struct kvm_cpuid2 *synthetic_cpuid(const char *vendor)
{
	static const struct kvm_cpuid_entry2 base[] = {
	    {.function = 0, .eax = 0x1f},
	    /* Host values that must not leak: APIC id 0x55, 16 logical. */
	    {.function = 1,
	     .eax = 0x906ea,
	     .ebx = 0x55100800,
	     .ecx = 0x7ffafbff,
	     .edx = 0x1fabfbff},
	    {.function = 4, .index = 0, .flags = SIG, .eax = 0x1c004121}, /* L1d */
	    {.function = 4, .index = 1, .flags = SIG, .eax = 0x1c004122}, /* L1i */
	    {.function = 4, .index = 2, .flags = SIG, .eax = 0x1c004143}, /* L2 */
	    {.function = 4, .index = 3, .flags = SIG, .eax = 0x1c03c163}, /* L3 */
	    {.function = 4, .index = 4, .flags = SIG},
	    {.function = 0xb,
	     .index = 0,
	     .flags = SIG,
	     .eax = 1,
	     .ebx = 2,
	     .ecx = 0x100,
	     .edx = 0x55},
	    {.function = 0xb,
	     .index = 1,
	     .flags = SIG,
	     .eax = 4,
	     .ebx = 16,
	     .ecx = 0x201,
	     .edx = 0x55},
	    {.function = 0x80000000, .eax = 0x8000001e},
	    {.function = 0x80000008, .eax = 0x3030, .ecx = 0x0000700f},
	    {.function = 0x8000001e, .eax = 0x55, .ebx = 0x10b, .ecx = 0x300},
	    {.function = 0x40000001, .eax = 0x1234},
	};
	size_t n = sizeof(base) / sizeof(base[0]);
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

	assert_non_null(c);
	c->nent = (uint32_t)n;
	memcpy(c->entries, base, sizeof(base));
	memcpy(&c->entries[0].ebx, vendor, 4);
	memcpy(&c->entries[0].edx, vendor + 4, 4);
	memcpy(&c->entries[0].ecx, vendor + 8, 4);
	return c;
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	const struct kvm_cpuid_entry2 *found = NULL;

	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == fn && (!(e->flags & SIG) || e->index == idx)) {
			assert_null(found); /* no duplicates */
			found = e;
		}
	}
	assert_non_null(found);
	return found;
}

static unsigned int count_leaf(const struct kvm_cpuid2 *c, uint32_t fn)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < c->nent; i++)
		n += c->entries[i].function == fn;
	return n;
}

static void check_common(const struct kvm_cpuid2 *c, uint32_t cpu)
{
	const struct kvm_cpuid_entry2 *e = leaf(c, 1, 0);

	assert_int_equal(e->ebx >> 24, cpu);
	assert_int_equal((e->ebx >> 16) & 0xff, 4);
	assert_int_equal((e->ebx >> 8) & 0xff, 8);
	assert_int_equal(e->ebx & 0xff, 0x00);
	assert_true(e->ecx & (1u << 31));
	assert_true(e->edx & (1u << 28));
	assert_int_equal(e->eax, 0x906ea);

	/* x2APIC topology: 1 thread per core, 4 cores (2 bits), then invalid. */
	assert_int_equal(count_leaf(c, 0xb), 3);
	e = leaf(c, 0xb, 0);
	assert_int_equal(e->eax, 0);
	assert_int_equal(e->ebx, 1);
	assert_int_equal(e->ecx, 0x100);
	assert_int_equal(e->edx, cpu);
	e = leaf(c, 0xb, 1);
	assert_int_equal(e->eax, 2);
	assert_int_equal(e->ebx, 4);
	assert_int_equal(e->ecx, 0x201);
	assert_int_equal(e->edx, cpu);
	e = leaf(c, 0xb, 2);
	assert_int_equal(e->eax, 0);
	assert_int_equal(e->ebx, 0);
	assert_int_equal(e->ecx & 0xff00, 0);
	assert_int_equal(e->ecx & 0xff, 2);
	assert_int_equal(count_leaf(c, 0x1f), 0); /* not supported: not invented */

	e = leaf(c, 0x40000000, 0);
	assert_int_equal(e->eax, 0x40000001);
	assert_memory_equal(&e->ebx, "KVMK", 4);
	assert_memory_equal(&e->ecx, "VMKV", 4);
	assert_memory_equal(&e->edx, "M\0\0\0", 4);
	assert_int_equal(leaf(c, 0x40000001, 0)->eax, 0x1234); /* features kept */
}

static void test_cpuid_intel_cpu0_and_cpu3(void **state)
{
	struct kvm_cpuid2 *sup = synthetic_cpuid("GenuineIntel"), *c;

	(void)state;
	for (uint32_t cpu = 0; cpu < 4; cpu += 3) {
		assert_int_equal(cvmm_x86_cpuid_build(sup, cpu, 4, &c), 0);
		check_common(c, cpu);
		/* Leaf 4: 4 addressable cores; L1/L2 private, L3 shared by 4. */
		for (uint32_t i = 0; i < 4; i++)
			assert_int_equal(leaf(c, 4, i)->eax >> 26, 3);
		assert_int_equal((leaf(c, 4, 0)->eax >> 14) & 0xfff, 0);
		assert_int_equal((leaf(c, 4, 2)->eax >> 14) & 0xfff, 0);
		assert_int_equal((leaf(c, 4, 3)->eax >> 14) & 0xfff, 3);
		assert_int_equal(leaf(c, 4, 3)->eax & 0x3fff, 0x0163);
		assert_int_equal(leaf(c, 4, 4)->eax, 0);
		/* AMD-only leaves untouched on Intel. */
		assert_int_equal(leaf(c, 0x80000008, 0)->ecx, 0x700f);
		free(c);
	}
	free(sup);
}

static void test_cpuid_amd(void **state)
{
	struct kvm_cpuid2 *sup = synthetic_cpuid("AuthenticAMD"), *c;
	const struct kvm_cpuid_entry2 *e;

	(void)state;
	assert_int_equal(cvmm_x86_cpuid_build(sup, 3, 4, &c), 0);
	check_common(c, 3);
	e = leaf(c, 0x80000008, 0);
	assert_int_equal(e->ecx & 0xff, 3);	   /* NC = cores - 1 */
	assert_int_equal((e->ecx >> 12) & 0xf, 2); /* ApicIdCoreIdSize */
	assert_int_equal(e->eax, 0x3030);
	e = leaf(c, 0x8000001e, 0);
	assert_int_equal(e->eax, 3);
	assert_int_equal(e->ebx, 3);
	assert_int_equal(e->ecx, 0);
	assert_int_equal(leaf(c, 4, 3)->eax, 0x1c03c163); /* Intel-only leaf untouched */
	free(c);
	free(sup);
}

static void test_cpuid_single_cpu_and_added_leaves(void **state)
{
	struct kvm_cpuid2 *sup = synthetic_cpuid("GenuineIntel"), *c;

	(void)state;
	sup->nent--; /* drop 0x40000001: it must be added back */
	assert_int_equal(cvmm_x86_cpuid_build(sup, 0, 1, &c), 0);
	assert_false(leaf(c, 1, 0)->edx & (1u << 28));
	assert_int_equal((leaf(c, 1, 0)->ebx >> 16) & 0xff, 1);
	assert_int_equal(leaf(c, 0xb, 1)->eax, 0);
	assert_int_equal(leaf(c, 0xb, 1)->ebx, 1);
	assert_int_equal(leaf(c, 0x40000001, 0)->eax, 0);
	free(c);
	free(sup);
}

static void test_cpuid_bad_args(void **state)
{
	struct kvm_cpuid2 *sup = synthetic_cpuid("GenuineIntel"), *c = NULL;

	(void)state;
	assert_int_equal(cvmm_x86_cpuid_build(sup, 4, 4, &c), -EINVAL);
	assert_int_equal(cvmm_x86_cpuid_build(sup, 0, 0, &c), -EINVAL);
	assert_int_equal(cvmm_x86_cpuid_build(sup, 0, CVMM_X86_MAX_CPUS + 1, &c), -EINVAL);
	assert_int_equal(cvmm_x86_cpuid_build(NULL, 0, 1, &c), -EINVAL);
	sup->nent = 0;
	assert_int_equal(cvmm_x86_cpuid_build(sup, 0, 1, &c), -EINVAL);
	assert_null(c);
	free(sup);
}

/* ---- MSRs, LAPIC, FPU ---- */

static void test_boot_msrs(void **state)
{
	struct kvm_msr_entry m[CVMM_X86_NR_BOOT_MSRS];
	bool misc = false, mtrr = false, tsc = false;

	(void)state;
	assert_int_equal(cvmm_x86_boot_msrs(m), CVMM_X86_NR_BOOT_MSRS);
	for (unsigned int i = 0; i < CVMM_X86_NR_BOOT_MSRS; i++) {
		if (m[i].index == 0x1a0) {
			misc = true;
			assert_int_equal(m[i].data, 1);
		} else if (m[i].index == 0x2ff) {
			mtrr = true;
			assert_int_equal(m[i].data, 0x806);
		} else {
			tsc |= m[i].index == 0x10;
			assert_int_equal(m[i].data, 0);
		}
	}
	assert_true(misc && mtrr && tsc);
}

static uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned int off)
{
	uint32_t v;

	memcpy(&v, &l->regs[off], 4);
	return v;
}

static void test_lapic_lint(void **state)
{
	struct kvm_lapic_state l;
	uint32_t masked = 0x10000;

	(void)state;
	memset(&l, 0, sizeof(l));
	memcpy(&l.regs[0x350], &masked, 4);
	memcpy(&l.regs[0x360], &masked, 4);
	l.regs[0x340] = 0x5a; /* neighbours untouched */
	cvmm_x86_lapic_lint(&l);
	assert_int_equal(lapic_reg(&l, 0x350), 0x10700);
	assert_int_equal(lapic_reg(&l, 0x360), 0x10400);
	assert_int_equal(lapic_reg(&l, 0x340), 0x5a);
	assert_int_equal(lapic_reg(&l, 0x370), 0);
	/* An old delivery mode is replaced, not OR-ed. */
	masked = 0x500;
	memcpy(&l.regs[0x350], &masked, 4);
	cvmm_x86_lapic_lint(&l);
	assert_int_equal(lapic_reg(&l, 0x350), 0x700);
}

static void test_fpu_init(void **state)
{
	struct kvm_fpu f;

	(void)state;
	memset(&f, 0xff, sizeof(f));
	cvmm_x86_fpu_init(&f);
	assert_int_equal(f.fcw, 0x37f);
	assert_int_equal(f.mxcsr, 0x1f80);
	assert_int_equal(f.fsw, 0);
}

/* ---- Page tables and GDT ---- */

/* Translate va with the guest's 4-level tables, as the MMU would. Returns
 * UINT64_MAX if not mapped. */
static uint64_t walk(const struct cvmm_mem *mem, uint64_t cr3, uint64_t va)
{
	const uint64_t addr_mask = 0x000ffffffffff000ULL;
	uint64_t table = cr3 & addr_mask, e;
	int shift = 39;

	for (int level = 4; level >= 1; level--, shift -= 9) {
		assert_int_equal(CVMM_MEM_GET(mem, table + ((va >> shift) & 511) * 8, &e), 0);
		if (!(e & 1))
			return UINT64_MAX;
		assert_true(e & 2); /* writable */
		if ((level == 2 || level == 3) && (e & 0x80)) {
			uint64_t page = 1ULL << shift;

			return (e & addr_mask & ~(page - 1)) | (va & (page - 1));
		}
		table = e & addr_mask;
	}
	return (table) | (va & 0xfff);
}

static void test_page_tables_identity_4g(void **state)
{
	static const uint64_t probes[] = {0,	      0x1234,	  0x1fffff,   0x200000,
					  0x1234567,  0x7fffffff, 0xc0200123, 0xfee00300,
					  0xfffff000, 0xffffffff};
	struct cvmm_mem *mem;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, 2 << 20, NULL), 0);
	assert_int_equal(cvmm_x86_write_page_tables(mem, 0x9000), 0);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		assert_int_equal(walk(mem, 0x9000, probes[i]), probes[i]);
	assert_int_equal(walk(mem, 0x9000, 0x100000000ULL), UINT64_MAX);
	assert_int_equal(walk(mem, 0x9000, 0x8000000000ULL), UINT64_MAX);

	assert_int_equal(cvmm_x86_write_page_tables(mem, 0x9010), -EINVAL);
	assert_int_equal(cvmm_x86_write_page_tables(mem, (2 << 20) - 0x1000), -EFAULT);
	cvmm_mem_destroy(mem);
}

static void test_gdt_entries(void **state)
{
	uint64_t gdt[CVMM_X86_GDT_SIZE / 8];
	struct cvmm_mem *mem;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, 1 << 20, NULL), 0);
	assert_int_equal(cvmm_x86_write_gdt(mem, 0x500, CVMM_X86_MODE_LONG), 0);
	assert_int_equal(cvmm_mem_read(mem, 0x500, gdt, sizeof(gdt)), 0);
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[1], 0);
	assert_int_equal(gdt[2], 0x00af9b000000ffffULL); /* 64-bit code, flat */
	assert_int_equal(gdt[3], 0x00cf93000000ffffULL); /* data, flat */
	assert_int_equal(gdt[4], 0x00008b0000000067ULL); /* busy TSS */
	assert_int_equal(gdt[5], 0);

	assert_int_equal(cvmm_x86_write_gdt(mem, 0x500, CVMM_X86_MODE_PVH), 0);
	assert_int_equal(cvmm_mem_read(mem, 0x500, gdt, sizeof(gdt)), 0);
	assert_int_equal(gdt[2], 0x00cf9b000000ffffULL); /* 32-bit code, flat */
	assert_int_equal(gdt[3], 0x00cf93000000ffffULL);

	assert_int_equal(cvmm_x86_write_gdt(mem, (1 << 20) - 8, CVMM_X86_MODE_LONG), -EFAULT);
	assert_int_equal(cvmm_x86_write_gdt(mem, 0x500, (enum cvmm_x86_mode)7), -EINVAL);
	cvmm_mem_destroy(mem);
}

static void test_entry_sregs_regs(void **state)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.cr0 = 0x60000010; /* KVM reset value: CD NW ET */
	s.apic_base = 0xfee00900;
	cvmm_x86_entry_sregs(&s, CVMM_X86_MODE_LONG, 0x500, 0x9000);
	assert_int_equal(s.cr0, 0x80000011);
	assert_int_equal(s.cr3, 0x9000);
	assert_true(s.cr4 & 0x20);
	assert_int_equal(s.efer, 0x500);
	assert_int_equal(s.cs.selector, 0x10);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	assert_int_equal(s.cs.limit, 0xffffffff);
	assert_int_equal(s.ss.selector, 0x18);
	assert_int_equal(s.ds.type, 3);
	assert_int_equal(s.tr.type, 11);
	assert_int_equal(s.gdt.base, 0x500);
	assert_int_equal(s.gdt.limit, CVMM_X86_GDT_SIZE - 1);
	assert_int_equal(s.apic_base, 0xfee00900);

	cvmm_x86_entry_sregs(&s, CVMM_X86_MODE_PVH, 0x500, 0);
	assert_int_equal(s.cr0, 0x11);
	assert_int_equal(s.cr4, 0);
	assert_int_equal(s.efer, 0);
	assert_int_equal(s.cs.l, 0);
	assert_int_equal(s.cs.db, 1);
	assert_int_equal(s.es.base, 0);
	assert_int_equal(s.es.limit, 0xffffffff);

	memset(&r, 0xff, sizeof(r));
	cvmm_x86_entry_regs(&r, CVMM_X86_MODE_LONG, 0x1000000, 0x7000);
	assert_int_equal(r.rip, 0x1000000);
	assert_int_equal(r.rsi, 0x7000);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(r.rbx, 0);
	cvmm_x86_entry_regs(&r, CVMM_X86_MODE_PVH, 0x1000000, 0x6000);
	assert_int_equal(r.rbx, 0x6000);
	assert_int_equal(r.rsi, 0);
}

/* ---- MP table ---- */

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void check_mptable(const struct cvmm_mem *mem, uint64_t gpa, uint32_t n)
{
	const uint8_t *mpf = cvmm_mem_ptr(mem, gpa, 16), *cfg, *p;
	unsigned int cpus = 0, buses = 0, ioapics = 0, ioints = 0, lints = 0;
	uint32_t cfg_addr;
	uint16_t len, count;

	assert_non_null(mpf);
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(sum8(mpf, 16), 0);
	assert_int_equal(mpf[8], 1); /* length in paragraphs */
	assert_int_equal(mpf[9], 4); /* spec 1.4 */
	memcpy(&cfg_addr, mpf + 4, 4);
	cfg = cvmm_mem_ptr(mem, cfg_addr, 44);
	assert_non_null(cfg);
	assert_memory_equal(cfg, "PCMP", 4);
	memcpy(&len, cfg + 4, 2);
	memcpy(&count, cfg + 34, 2);
	assert_non_null(cvmm_mem_ptr(mem, cfg_addr, len));
	assert_int_equal(sum8(cfg, len), 0);
	assert_int_equal(16 + len, cvmm_x86_mptable_size(n));

	p = cfg + 44;
	for (unsigned int i = 0; i < count; i++) {
		assert_true(p < cfg + len);
		switch (p[0]) {
		case 0:
			assert_int_equal(p[1], cpus); /* APIC id */
			assert_int_equal(p[3], cpus == 0 ? 3 : 1);
			cpus++;
			p += 20;
			break;
		case 1:
			assert_memory_equal(p + 2, "ISA   ", 6);
			buses++;
			p += 8;
			break;
		case 2:
			assert_int_equal(p[1], n);
			assert_int_equal(p[3], 1);
			assert_int_equal(p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24,
					 0xfec00000);
			ioapics++;
			p += 8;
			break;
		case 3:
			assert_int_equal(p[5], ioints); /* ISA IRQ */
			assert_int_equal(p[6], n);	/* IOAPIC id */
			assert_int_equal(p[7], ioints); /* pin */
			ioints++;
			p += 8;
			break;
		case 4:
			assert_int_equal(p[1], lints == 0 ? 3 : 1); /* ExtINT, NMI */
			assert_int_equal(p[6], 0xff);
			assert_int_equal(p[7], lints);
			lints++;
			p += 8;
			break;
		default:
			fail_msg("unknown MP entry type %u", p[0]);
		}
	}
	assert_ptr_equal(p, cfg + len);
	assert_int_equal(cpus, n);
	assert_int_equal(buses, 1);
	assert_int_equal(ioapics, 1);
	assert_int_equal(ioints, 16);
	assert_int_equal(lints, 2);
}

static void test_mptable(void **state)
{
	struct cvmm_mem *mem;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, 1 << 20, NULL), 0);
	assert_int_equal(cvmm_x86_mptable_write(mem, 0x9fc00, 0x400, 4), 0);
	check_mptable(mem, 0x9fc00, 4);
	assert_int_equal(cvmm_x86_mptable_write(mem, 0xf0000, 0x10000, 1), 0);
	check_mptable(mem, 0xf0000, 1);
	assert_int_equal(cvmm_x86_mptable_write(mem, 0xf0000, 0x10000, CVMM_X86_MAX_CPUS), 0);
	check_mptable(mem, 0xf0000, CVMM_X86_MAX_CPUS);
	cvmm_mem_destroy(mem);
}

static void test_mptable_errors(void **state)
{
	struct cvmm_mem *mem;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, 1 << 20, NULL), 0);
	assert_int_equal(cvmm_x86_mptable_write(mem, 0x9fc00, 0x400, CVMM_X86_MAX_CPUS), -E2BIG);
	assert_int_equal(cvmm_x86_mptable_write(mem, 0x9fc00, cvmm_x86_mptable_size(4) - 1, 4),
			 -E2BIG);
	assert_int_equal(cvmm_x86_mptable_write(mem, 0x9fc00, cvmm_x86_mptable_size(4), 4), 0);
	assert_int_equal(cvmm_x86_mptable_write(mem, 0xf0000, 0x10000, CVMM_X86_MAX_CPUS + 1),
			 -EINVAL);
	assert_int_equal(cvmm_x86_mptable_write(mem, 0xf0000, 0x10000, 0), -EINVAL);
	assert_int_equal(cvmm_x86_mptable_write(mem, 0xf0008, 0x10000, 1), -EINVAL);
	assert_int_equal(cvmm_x86_mptable_write(mem, (1 << 20) - 0x100, 0x10000, 4), -EFAULT);
	cvmm_mem_destroy(mem);
}

/* ---- On a real vCPU (skipped without /dev/kvm) ---- */

#define RAM (4 << 20)
#define CODE 0x100000
#define GDT_GPA 0x500
#define PT_GPA 0x9000
#define BOOT_INFO 0x7000
#define MMIO_PROBE 0xc0001000ULL /* in the 32-bit hole: exits as MMIO */

struct kvmfix {
	struct cvmm_kvm kvm;
	struct cvmm_kvm_vm vm;
	struct cvmm_kvm_vcpu vcpu;
	struct cvmm_mem *mem;
};

static void kvm_up(struct kvmfix *f, const uint8_t *code, size_t len)
{
	struct cvmm_mem_region_info ram;
	struct kvm_cpuid2 *sup;

	if (cvmm_kvm_open(&f->kvm, NULL) < 0)
		skip();
	assert_int_equal(cvmm_kvm_vm_create(&f->vm, &f->kvm), 0);
	assert_int_equal(cvmm_kvm_vm_set_tss_addr(&f->vm, 0xfffbd000), 0);
	assert_int_equal(cvmm_kvm_vm_create_irqchip(&f->vm), 0);
	assert_int_equal(cvmm_mem_create(&f->mem, RAM, NULL), 0);
	assert_int_equal(cvmm_mem_region_get(f->mem, 0, &ram), 0);
	assert_int_equal(cvmm_kvm_vm_set_memory(&f->vm, 0, 0, RAM, ram.host, 0), 0);
	assert_int_equal(cvmm_mem_write(f->mem, CODE, code, len), 0);
	assert_int_equal(cvmm_kvm_vcpu_create(&f->vcpu, &f->vm, 0), 0);

	assert_int_equal(cvmm_kvm_get_supported_cpuid(&f->kvm, &sup), 0);
	assert_int_equal(cvmm_x86_cpuid_apply(&f->vcpu, sup, 2), 0);
	free(sup);
	assert_int_equal(cvmm_x86_boot_msrs_apply(&f->vcpu), 0);
	assert_int_equal(cvmm_x86_lapic_apply(&f->vcpu), 0);
	assert_int_equal(cvmm_x86_fpu_apply(&f->vcpu), 0);
}

static void kvm_down(struct kvmfix *f)
{
	cvmm_kvm_vcpu_destroy(&f->vcpu);
	cvmm_kvm_vm_destroy(&f->vm);
	cvmm_kvm_close(&f->kvm);
	cvmm_mem_destroy(f->mem);
}

static void run_expect_out(struct kvmfix *f, uint16_t port, uint8_t val)
{
	struct cvmm_kvm_exit e;

	assert_int_equal(cvmm_kvm_vcpu_run(&f->vcpu, &e), 0);
	assert_int_equal(e.kind, CVMM_KVM_EXIT_IO);
	assert_int_equal(e.io.port, port);
	assert_int_equal(e.io.direction, CVMM_KVM_IO_OUT);
	assert_int_equal(e.io.data[0], val);
}

static void run_expect_mmio_write(struct kvmfix *f, uint64_t addr, uint32_t len, uint64_t val)
{
	struct cvmm_kvm_exit e;
	uint64_t got = 0;

	assert_int_equal(cvmm_kvm_vcpu_run(&f->vcpu, &e), 0);
	assert_int_equal(e.kind, CVMM_KVM_EXIT_MMIO);
	assert_int_equal(e.mmio.addr, addr);
	assert_int_equal(e.mmio.len, len);
	assert_true(e.mmio.is_write);
	memcpy(&got, e.mmio.data, len);
	assert_int_equal(got, val);
}

static void test_kvm_long_mode_entry(void **state)
{
	/* 64-bit code: out to COM1, then store rsi through the identity map
	 * at 3 GiB + 4 KiB (unbacked, so it exits as MMIO). */
	static const uint8_t code[] = {
	    0x66, 0xba, 0xf8, 0x03,		/* mov dx, 0x3f8 */
	    0xb0, 'L',				/* mov al, 'L' */
	    0xee,				/* out dx, al */
	    0x48, 0xb8, 0x00, 0x10, 0x00, 0xc0, /* mov rax, 0xc0001000 */
	    0x00, 0x00, 0x00, 0x00,		/*  ... */
	    0x48, 0x89, 0x30,			/* mov [rax], rsi */
	    0xeb, 0xfe,				/* jmp $ */
	};
	const struct cvmm_x86_entry e = {
	    .entry = CODE, .boot_info = BOOT_INFO, .gdt = GDT_GPA, .page_tables = PT_GPA};
	struct kvmfix f;
	struct kvm_sregs s;

	(void)state;
	kvm_up(&f, code, sizeof(code));
	assert_int_equal(cvmm_x86_setup_entry(&f.vcpu, f.mem, CVMM_X86_MODE_LONG, &e), 0);
	run_expect_out(&f, 0x3f8, 'L');
	run_expect_mmio_write(&f, MMIO_PROBE, 8, BOOT_INFO);
	assert_int_equal(cvmm_kvm_vcpu_get_sregs(&f.vcpu, &s), 0);
	assert_true(s.efer & 0x400); /* LMA: really in long mode */
	assert_int_equal(s.cs.selector, CVMM_X86_SEL_CODE);
	kvm_down(&f);
}

static void test_kvm_pvh_entry(void **state)
{
	/* 32-bit code: out to COM1, then store ebx to 3 GiB + 4 KiB. */
	static const uint8_t code[] = {
	    0x66, 0xba, 0xf8, 0x03,		/* mov dx, 0x3f8 */
	    0xb0, 'P',				/* mov al, 'P' */
	    0xee,				/* out dx, al */
	    0x89, 0x1d, 0x00, 0x10, 0x00, 0xc0, /* mov [0xc0001000], ebx */
	    0xeb, 0xfe,				/* jmp $ */
	};
	const struct cvmm_x86_entry e = {.entry = CODE, .boot_info = BOOT_INFO, .gdt = GDT_GPA};
	struct kvmfix f;

	(void)state;
	kvm_up(&f, code, sizeof(code));
	assert_int_equal(cvmm_x86_setup_entry(&f.vcpu, f.mem, CVMM_X86_MODE_PVH, &e), 0);
	run_expect_out(&f, 0x3f8, 'P');
	run_expect_mmio_write(&f, MMIO_PROBE, 4, BOOT_INFO);
	kvm_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cpuid_intel_cpu0_and_cpu3),
	    cmocka_unit_test(test_cpuid_amd),
	    cmocka_unit_test(test_cpuid_single_cpu_and_added_leaves),
	    cmocka_unit_test(test_cpuid_bad_args),
	    cmocka_unit_test(test_boot_msrs),
	    cmocka_unit_test(test_lapic_lint),
	    cmocka_unit_test(test_fpu_init),
	    cmocka_unit_test(test_page_tables_identity_4g),
	    cmocka_unit_test(test_gdt_entries),
	    cmocka_unit_test(test_entry_sregs_regs),
	    cmocka_unit_test(test_mptable),
	    cmocka_unit_test(test_mptable_errors),
	    cmocka_unit_test(test_kvm_long_mode_entry),
	    cmocka_unit_test(test_kvm_pvh_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

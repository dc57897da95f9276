// SPDX-License-Identifier: Apache-2.0
#include <cvmm/sys.h>
#include <cvmm/x86.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CPUID_MAX_ENTRIES 4096u
#define CPUID_ADDED 8 /* room for entries this file adds */

#define LEAF_SIG 0x40000000u
#define LEAF_KVM_FEATURES 0x40000001u

enum vendor { VENDOR_OTHER, VENDOR_INTEL, VENDOR_AMD };

struct topo {
	uint32_t apic_id;
	uint32_t nr_cpus;
	uint32_t core_shift; /* APIC id bits used by cores: ceil(log2(nr_cpus)) */
	enum vendor vendor;
};

static enum vendor cpuid_vendor(const struct kvm_cpuid2 *c)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		char v[12];

		if (e->function != 0)
			continue;
		memcpy(v, &e->ebx, 4);
		memcpy(v + 4, &e->edx, 4);
		memcpy(v + 8, &e->ecx, 4);
		if (!memcmp(v, "GenuineIntel", 12))
			return VENDOR_INTEL;
		if (!memcmp(v, "AuthenticAMD", 12) || !memcmp(v, "HygonGenuine", 12))
			return VENDOR_AMD;
	}
	return VENDOR_OTHER;
}

static bool has_leaf(const struct kvm_cpuid2 *c, uint32_t fn)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return true;
	return false;
}

static void fix_leaf1(struct kvm_cpuid_entry2 *e, const struct topo *t)
{
	uint32_t logical = 1u << t->core_shift;

	if (logical > 255)
		logical = 255;
	e->ebx = (e->ebx & 0xff) | (8u << 8) | (logical << 16) | (t->apic_id << 24);
	e->ecx |= 1u << 31; /* running under a hypervisor */
	if (t->nr_cpus > 1)
		e->edx |= 1u << 28;
	else
		e->edx &= ~(1u << 28);
}

/* Intel deterministic cache parameters: EAX[31:26] = addressable core ids
 * - 1, EAX[25:14] = logical processors sharing this cache - 1. */
static void fix_leaf4(struct kvm_cpuid_entry2 *e, const struct topo *t)
{
	uint32_t cores = (1u << t->core_shift) - 1;
	uint32_t level = (e->eax >> 5) & 7;

	if ((e->eax & 0x1f) == 0) /* no more caches */
		return;
	e->eax &= ~(0x3fu << 26 | 0xfffu << 14);
	e->eax |= (cores > 0x3f ? 0x3f : cores) << 26;
	if (level >= 3)
		e->eax |= cores << 14;
}

/* Extended topology leaf (0xB or 0x1F), subleaf idx: SMT, core, invalid. */
static struct kvm_cpuid_entry2 topo_leaf(uint32_t fn, uint32_t idx, const struct topo *t)
{
	struct kvm_cpuid_entry2 e = {
	    .function = fn,
	    .index = idx,
	    .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	    .ecx = idx & 0xff,
	    .edx = t->apic_id,
	};

	if (idx == 0) {
		e.eax = 0; /* one thread per core: no SMT bits */
		e.ebx = 1;
		e.ecx |= 1u << 8;
	} else if (idx == 1) {
		e.eax = t->core_shift;
		e.ebx = t->nr_cpus;
		e.ecx |= 2u << 8;
	}
	return e;
}

static struct kvm_cpuid_entry2 sig_leaf(void)
{
	struct kvm_cpuid_entry2 e = {.function = LEAF_SIG, .eax = LEAF_KVM_FEATURES};

	memcpy(&e.ebx, "KVMK", 4);
	memcpy(&e.ecx, "VMKV", 4);
	memcpy(&e.edx, "M\0\0\0", 4);
	return e;
}

static void fix_entry(struct kvm_cpuid_entry2 *e, const struct topo *t)
{
	switch (e->function) {
	case 1:
		fix_leaf1(e, t);
		break;
	case 4:
		if (t->vendor == VENDOR_INTEL)
			fix_leaf4(e, t);
		break;
	case 0x80000008:
		if (t->vendor == VENDOR_AMD)
			e->ecx = (e->ecx & ~0xf0ffu) | (t->core_shift << 12) | (t->nr_cpus - 1);
		break;
	case 0x8000001e:
		if (t->vendor == VENDOR_AMD) {
			e->eax = t->apic_id;
			e->ebx = t->apic_id & 0xff; /* core id; one thread per core */
			e->ecx = 0;		    /* node 0 of 1 */
		}
		break;
	}
}

int cvmm_x86_cpuid_build(const struct kvm_cpuid2 *supported, uint32_t cpu, uint32_t nr_cpus,
			 struct kvm_cpuid2 **out)
{
	struct topo t = {.apic_id = cpu, .nr_cpus = nr_cpus};
	struct kvm_cpuid2 *c;
	uint32_t n = 0;

	if (!supported || supported->nent == 0 || supported->nent > CPUID_MAX_ENTRIES)
		return cvmm_err(EINVAL, "CPUID: supported table is empty or too large");
	if (nr_cpus == 0 || nr_cpus > CVMM_X86_MAX_CPUS || cpu >= nr_cpus)
		return cvmm_err(EINVAL, "CPUID: vCPU %u of %u (max %u vCPUs)", cpu, nr_cpus,
				CVMM_X86_MAX_CPUS);
	while ((1u << t.core_shift) < nr_cpus)
		t.core_shift++;
	t.vendor = cpuid_vendor(supported);

	c = calloc(1, sizeof(*c) + (supported->nent + CPUID_ADDED) * sizeof(c->entries[0]));
	if (!c)
		return cvmm_err(ENOMEM, "CPUID: out of memory");
	for (uint32_t i = 0; i < supported->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &supported->entries[i];

		/* Regenerated below. */
		if (e->function == 0xb || e->function == 0x1f || e->function == LEAF_SIG)
			continue;
		c->entries[n] = *e;
		fix_entry(&c->entries[n], &t);
		n++;
	}
	for (int l = 0; l < 2; l++) {
		uint32_t fn = l == 0 ? 0xb : 0x1f;

		if (!has_leaf(supported, fn))
			continue;
		for (uint32_t idx = 0; idx < 3; idx++)
			c->entries[n++] = topo_leaf(fn, idx, &t);
	}
	c->entries[n++] = sig_leaf();
	if (!has_leaf(supported, LEAF_KVM_FEATURES))
		c->entries[n++] = (struct kvm_cpuid_entry2){.function = LEAF_KVM_FEATURES};
	c->nent = n;
	*out = c;
	return 0;
}

int cvmm_x86_cpuid_apply(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_cpuid2 *supported,
			 uint32_t nr_cpus)
{
	struct kvm_cpuid2 *c;
	int ret;

	ret = cvmm_x86_cpuid_build(supported, vcpu->id, nr_cpus, &c);
	if (ret < 0)
		return ret;
	ret = cvmm_kvm_vcpu_set_cpuid(vcpu, c);
	free(c);
	return ret;
}

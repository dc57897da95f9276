// SPDX-License-Identifier: Apache-2.0
#include <cvmm/sys.h>
#include <cvmm/x86.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Layouts from the Intel MultiProcessor Specification 1.4, chapter 4. */
struct mpf {
	char signature[4]; /* "_MP_" */
	uint32_t config;   /* config table address */
	uint8_t length;	   /* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5]; /* all 0: config table present, virtual wire mode */
} __attribute__((packed));

struct mpc_header {
	char signature[4]; /* "PCMP" */
	uint16_t length;   /* base table, header included */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_table;
	uint16_t oem_size;
	uint16_t count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t id;
	char name[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t ver;
	uint8_t flags;
	uint32_t addr;
} __attribute__((packed));

/* I/O and local interrupt assignment entries share one layout. */
struct mpc_int {
	uint8_t type;
	uint8_t irq_type;
	uint16_t irq_flags;
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;
	uint8_t dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf) == 16, "MP floating pointer");
_Static_assert(sizeof(struct mpc_header) == 44, "MP config header");
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP processor entry");
_Static_assert(sizeof(struct mpc_bus) == 8 && sizeof(struct mpc_ioapic) == 8 &&
		   sizeof(struct mpc_int) == 8,
	       "MP 8-byte entries");

enum { MP_CPU, MP_BUS, MP_IOAPIC, MP_IOINT, MP_LINT };
enum { MP_INT_INT = 0, MP_INT_NMI = 1, MP_INT_EXTINT = 3 };

#define MP_SPEC_REV 4
#define MP_ISA_IRQS 16
#define MP_CPU_EN 1
#define MP_CPU_BSP 2
#define MP_APIC_VER 0x14
#define MP_IOAPIC_VER 0x11
#define MP_CPU_SIGNATURE 0x600 /* family 6 */
#define MP_CPU_FEATURES 0x201  /* CPUID.1:EDX FPU | APIC */
#define MP_ALL_LAPICS 0xff

size_t cvmm_x86_mptable_size(uint32_t nr_cpus)
{
	return sizeof(struct mpf) + sizeof(struct mpc_header) + nr_cpus * sizeof(struct mpc_cpu) +
	       sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) +
	       (MP_ISA_IRQS + 2) * sizeof(struct mpc_int);
}

static uint8_t mp_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

int cvmm_x86_mptable_write(const struct cvmm_mem *mem, uint64_t gpa, uint64_t max_size,
			   uint32_t nr_cpus)
{
	size_t size = cvmm_x86_mptable_size(nr_cpus);
	uint8_t ioapic_id = (uint8_t)nr_cpus;
	struct mpc_header *hdr;
	struct mpf *mpf;
	uint8_t *buf, *p;
	int ret;

	if (nr_cpus == 0 || nr_cpus > CVMM_X86_MAX_CPUS)
		return cvmm_err(EINVAL, "MP table: %u vCPUs (1..%u)", nr_cpus, CVMM_X86_MAX_CPUS);
	if (gpa & 15)
		return cvmm_err(EINVAL, "MP table at 0x%llx: not 16-byte aligned",
				(unsigned long long)gpa);
	if (gpa + sizeof(struct mpf) > UINT32_MAX)
		return cvmm_err(EINVAL, "MP table at 0x%llx: above 4 GiB", (unsigned long long)gpa);
	if (size > max_size)
		return cvmm_err(E2BIG, "MP table for %u vCPUs needs %zu bytes, have %llu", nr_cpus,
				size, (unsigned long long)max_size);
	buf = calloc(1, size);
	if (!buf)
		return cvmm_err(ENOMEM, "MP table: out of memory");

	mpf = (struct mpf *)buf;
	memcpy(mpf->signature, "_MP_", 4);
	mpf->config = (uint32_t)(gpa + sizeof(*mpf));
	mpf->length = 1;
	mpf->spec_rev = MP_SPEC_REV;

	hdr = (struct mpc_header *)(buf + sizeof(*mpf));
	memcpy(hdr->signature, "PCMP", 4);
	hdr->length = (uint16_t)(size - sizeof(*mpf));
	hdr->spec_rev = MP_SPEC_REV;
	memcpy(hdr->oem, "CVMM    ", 8);
	memcpy(hdr->product, "MICROVM     ", 12);
	hdr->count = (uint16_t)(nr_cpus + 2 + MP_ISA_IRQS + 2);
	hdr->lapic = CVMM_X86_LAPIC_ADDR;

	p = (uint8_t *)(hdr + 1);
	for (uint32_t i = 0; i < nr_cpus; i++) {
		struct mpc_cpu cpu = {
		    .type = MP_CPU,
		    .apic_id = (uint8_t)i,
		    .apic_ver = MP_APIC_VER,
		    .flags = MP_CPU_EN | (i == 0 ? MP_CPU_BSP : 0),
		    .signature = MP_CPU_SIGNATURE,
		    .features = MP_CPU_FEATURES,
		};

		memcpy(p, &cpu, sizeof(cpu));
		p += sizeof(cpu);
	}
	struct mpc_bus bus = {.type = MP_BUS, .id = 0, .name = {'I', 'S', 'A', ' ', ' ', ' '}};
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	struct mpc_ioapic ioapic = {.type = MP_IOAPIC,
				    .id = ioapic_id,
				    .ver = MP_IOAPIC_VER,
				    .flags = 1, /* enabled */
				    .addr = CVMM_X86_IOAPIC_ADDR};
	memcpy(p, &ioapic, sizeof(ioapic));
	p += sizeof(ioapic);
	/* ISA IRQ n on IOAPIC pin n, as KVM's default GSI routing has it. */
	for (uint8_t irq = 0; irq < MP_ISA_IRQS; irq++) {
		struct mpc_int in = {.type = MP_IOINT,
				     .irq_type = MP_INT_INT,
				     .src_irq = irq,
				     .dst_apic = ioapic_id,
				     .dst_pin = irq};

		memcpy(p, &in, sizeof(in));
		p += sizeof(in);
	}
	struct mpc_int lint0 = {
	    .type = MP_LINT, .irq_type = MP_INT_EXTINT, .dst_apic = MP_ALL_LAPICS, .dst_pin = 0};
	struct mpc_int lint1 = {
	    .type = MP_LINT, .irq_type = MP_INT_NMI, .dst_apic = MP_ALL_LAPICS, .dst_pin = 1};
	memcpy(p, &lint0, sizeof(lint0));
	p += sizeof(lint0);
	memcpy(p, &lint1, sizeof(lint1));

	hdr->checksum = mp_checksum((uint8_t *)hdr, hdr->length);
	mpf->checksum = mp_checksum(buf, sizeof(*mpf));
	ret = cvmm_mem_write(mem, gpa, buf, size);
	free(buf);
	if (ret < 0)
		return cvmm_err(EFAULT, "MP table at 0x%llx (%zu bytes): not in guest RAM",
				(unsigned long long)gpa, size);
	return 0;
}

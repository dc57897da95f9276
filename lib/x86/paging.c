// SPDX-License-Identifier: Apache-2.0
#include <cvmm/sys.h>
#include <cvmm/x86.h>
#include <errno.h>
#include <string.h>

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)
#define PAGE 0x1000ULL
#define HUGE_2M 0x200000ULL

static void put_entry(uint8_t *tables, uint64_t off, uint64_t entry)
{
	memcpy(tables + off, &entry, sizeof(entry)); /* x86 host: little-endian like the guest */
}

/* 2 MiB pages rather than 1 GiB ones: those need a CPUID feature
 * (pdpe1gb) the guest CPU model may lack. */
int cvmm_x86_write_page_tables(const struct cvmm_mem *mem, uint64_t gpa)
{
	const uint64_t pdpt = PAGE, pd = 2 * PAGE; /* offsets from gpa; PML4 at 0 */
	uint8_t *t;

	if (gpa & (PAGE - 1))
		return cvmm_err(EINVAL, "page tables at 0x%llx: not 4 KiB aligned",
				(unsigned long long)gpa);
	t = cvmm_mem_ptr(mem, gpa, CVMM_X86_PAGE_TABLES_SIZE);
	if (!t)
		return cvmm_err(EFAULT, "page tables at 0x%llx: not in guest RAM",
				(unsigned long long)gpa);
	memset(t, 0, CVMM_X86_PAGE_TABLES_SIZE);
	put_entry(t, 0, (gpa + pdpt) | PTE_P | PTE_RW);
	for (uint64_t g = 0; g < 4; g++)
		put_entry(t, pdpt + g * 8, (gpa + pd + g * PAGE) | PTE_P | PTE_RW);
	for (uint64_t i = 0; i < 4 * 512; i++)
		put_entry(t, pd + i * 8, (i * HUGE_2M) | PTE_P | PTE_RW | PTE_PS);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* ELF vmlinux loading from synthetic images built in memory. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "loader_test.h"
#include <cmocka.h>
#include <cvmm/loader.h>
#include <cvmm/sys.h>
#include <elf.h>
#include <errno.h>
#include <string.h>

#define RAM (16ULL << 20)
#define SEG_PADDR 0x200000ULL
#define SEG_VADDR 0xffffffff80200000ULL
#define SEG_FILESZ 0x100
#define SEG_MEMSZ 0x2000
#define PVH_ENTRY 0x200040U

/* Layout: ehdr | 2 phdrs (LOAD, NOTE) | note | segment data | 1 shdr (NOTE). */
#define OFF_PHDR 64
#define OFF_NOTE (OFF_PHDR + 2 * 56)
#define NOTE_LEN (12 + 4 + 8)
#define OFF_DATA 0x200
#define OFF_SHDR (OFF_DATA + SEG_FILESZ)
#define IMG_SIZE (OFF_SHDR + 64)

static _Alignas(8) uint8_t img[IMG_SIZE];

static Elf64_Ehdr *ehdr(void)
{
	return (Elf64_Ehdr *)img;
}

static Elf64_Phdr *phdr(int i)
{
	return (Elf64_Phdr *)(img + OFF_PHDR) + i;
}

static Elf64_Shdr *shdr(void)
{
	return (Elf64_Shdr *)(img + OFF_SHDR);
}

/* A Xen PHYS32_ENTRY note with a desc_len-byte descriptor at img+off. */
static void put_note(size_t off, uint32_t desc_len, uint64_t entry)
{
	uint32_t nh[3] = {4, desc_len, CVMM_XEN_ELFNOTE_PHYS32_ENTRY};

	memcpy(img + off, nh, sizeof(nh));
	memcpy(img + off + 12, "Xen", 4);
	memcpy(img + off + 16, &entry, desc_len);
}

static void build_elf(void)
{
	memset(img, 0, sizeof(img));
	memcpy(ehdr()->e_ident, ELFMAG, SELFMAG);
	ehdr()->e_ident[EI_CLASS] = ELFCLASS64;
	ehdr()->e_ident[EI_DATA] = ELFDATA2LSB;
	ehdr()->e_ident[EI_VERSION] = EV_CURRENT;
	ehdr()->e_type = ET_EXEC;
	ehdr()->e_machine = EM_X86_64;
	ehdr()->e_version = EV_CURRENT;
	ehdr()->e_entry = SEG_VADDR + 0x10;
	ehdr()->e_phoff = OFF_PHDR;
	ehdr()->e_ehsize = sizeof(Elf64_Ehdr);
	ehdr()->e_phentsize = sizeof(Elf64_Phdr);
	ehdr()->e_phnum = 2;
	*phdr(0) = (Elf64_Phdr){.p_type = PT_LOAD,
				.p_offset = OFF_DATA,
				.p_vaddr = SEG_VADDR,
				.p_paddr = SEG_PADDR,
				.p_filesz = SEG_FILESZ,
				.p_memsz = SEG_MEMSZ};
	*phdr(1) = (Elf64_Phdr){
	    .p_type = PT_NOTE, .p_offset = OFF_NOTE, .p_filesz = NOTE_LEN, .p_align = 4};
	put_note(OFF_NOTE, 8, PVH_ENTRY);
	memset(img + OFF_DATA, 0x5a, SEG_FILESZ);
}

static int setup(void **state)
{
	if (loader_test_mem(state, RAM) < 0)
		return -1;
	build_elf();
	return 0;
}

static void test_detect(void **state)
{
	uint8_t junk[1024] = {1, 2, 3};

	(void)state;
	assert_int_equal(cvmm_loader_detect(img, sizeof(img)), CVMM_LOADER_ELF);
	assert_int_equal(cvmm_loader_detect(junk, sizeof(junk)), -ENOEXEC);
	assert_msg("not a kernel image");
	assert_int_equal(cvmm_loader_detect(img, 2), -ENOEXEC);
	memcpy(junk + 0x202, "HdrS", 4);
	assert_int_equal(cvmm_loader_detect(junk, sizeof(junk)), CVMM_LOADER_BZIMAGE);
}

static void test_valid_elf_loads(void **state)
{
	struct cvmm_mem *mem = *state;
	struct cvmm_loader_kernel k;
	uint8_t *ram = cvmm_mem_ptr(mem, SEG_PADDR, SEG_MEMSZ);

	memset(ram, 0xaa, SEG_MEMSZ); /* bss must be zeroed over this */
	assert_int_equal(cvmm_loader_load(mem, img, sizeof(img), &k), 0);
	assert_int_equal(k.kind, CVMM_LOADER_ELF);
	assert_int_equal(k.entry64, SEG_PADDR + 0x10);
	assert_true(k.has_pvh);
	assert_int_equal(k.pvh_entry, PVH_ENTRY);
	assert_int_equal(k.load_addr, SEG_PADDR);
	assert_int_equal(k.end, SEG_PADDR + SEG_MEMSZ);
	assert_int_equal(k.cmdline_max, CVMM_LOADER_ELF_CMDLINE_MAX);
	assert_int_equal(ram[0], 0x5a);
	assert_int_equal(ram[SEG_FILESZ - 1], 0x5a);
	assert_int_equal(ram[SEG_FILESZ], 0);
	assert_int_equal(ram[SEG_MEMSZ - 1], 0);
}

static void test_physical_entry_and_32bit_note(void **state)
{
	struct cvmm_loader_kernel k;

	ehdr()->e_entry = SEG_PADDR + 0x20;
	put_note(OFF_NOTE, 4, PVH_ENTRY);
	phdr(1)->p_filesz = 12 + 4 + 4;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), 0);
	assert_int_equal(k.entry64, SEG_PADDR + 0x20);
	assert_int_equal(k.pvh_entry, PVH_ENTRY);
}

static void test_note_in_section_only(void **state)
{
	struct cvmm_loader_kernel k;

	phdr(1)->p_type = PT_NULL;
	ehdr()->e_shoff = OFF_SHDR;
	ehdr()->e_shentsize = sizeof(Elf64_Shdr);
	ehdr()->e_shnum = 1;
	*shdr() = (Elf64_Shdr){
	    .sh_type = SHT_NOTE, .sh_offset = OFF_NOTE, .sh_size = NOTE_LEN, .sh_addralign = 4};
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), 0);
	assert_true(k.has_pvh);
	assert_int_equal(k.pvh_entry, PVH_ENTRY);
	/* Without any note there is no PVH entry. */
	shdr()->sh_type = SHT_PROGBITS;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), 0);
	assert_false(k.has_pvh);
}

static void test_truncated(void **state)
{
	struct cvmm_loader_kernel k;

	assert_int_equal(cvmm_loader_load_elf(*state, img, 40, &k), -ENOEXEC);
	assert_msg("shorter than the ELF header");
	ehdr()->e_phnum = 4; /* table would end at 64 + 4*56 = 288 */
	assert_int_equal(cvmm_loader_load_elf(*state, img, 64 + 3 * 56 + 10, &k), -ENOEXEC);
	assert_msg("program header 3 outside file");
	ehdr()->e_phoff = UINT64_MAX - 8;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("program header 0 outside file");
}

static void test_segment_data_outside_file(void **state)
{
	struct cvmm_loader_kernel k;

	phdr(0)->p_offset = IMG_SIZE - 0x10;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("program header 0: data at");
	assert_msg("outside file");
}

static void test_offset_overflow(void **state)
{
	struct cvmm_loader_kernel k;

	phdr(0)->p_offset = UINT64_MAX - 0x10;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("outside file");
	build_elf();
	phdr(0)->p_paddr = UINT64_MAX - 0x100;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("overflows");
	build_elf();
	phdr(1)->p_filesz = UINT64_MAX;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("note outside file");
}

static void test_segment_outside_ram(void **state)
{
	struct cvmm_mem *mem = *state;
	struct cvmm_loader_kernel k;
	uint8_t *ram = cvmm_mem_ptr(mem, SEG_PADDR, 1);

	/* Second PT_LOAD past the end of RAM: the first must not be written. */
	ram[0] = 0x11;
	ehdr()->e_phnum = 3;
	memmove(img + OFF_PHDR + 3 * 56, img + OFF_PHDR + 2 * 56, NOTE_LEN);
	phdr(1)->p_offset = OFF_PHDR + 3 * 56;
	*phdr(2) = *phdr(0);
	phdr(2)->p_paddr = RAM - 0x1000;
	assert_int_equal(cvmm_loader_load_elf(mem, img, sizeof(img), &k), -ENOMEM);
	assert_msg("program header 2");
	assert_msg("not in guest RAM");
	assert_int_equal(ram[0], 0x11);
}

static void test_bad_headers(void **state)
{
	struct cvmm_loader_kernel k;

	ehdr()->e_machine = EM_386;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("machine 3 is not x86-64");
	build_elf();
	ehdr()->e_ident[EI_CLASS] = ELFCLASS32;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("ELFCLASS64");
	build_elf();
	ehdr()->e_type = ET_DYN;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("ET_EXEC");
	build_elf();
	ehdr()->e_phnum = 65;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("65 program headers, at most 64");
	build_elf();
	phdr(0)->p_filesz = SEG_MEMSZ + 1;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("exceeds p_memsz");
	build_elf();
	phdr(0)->p_type = PT_NULL;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("no loadable segment");
	build_elf();
	ehdr()->e_entry = 0x12345678;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("entry point 0x12345678");
}

static void test_bad_notes(void **state)
{
	struct cvmm_loader_kernel k;

	put_note(OFF_NOTE, 8, 0x100000000ULL);
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("above 4 GiB");
	put_note(OFF_NOTE, 8, 0x10);
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("PVH entry 0x10 is not inside");
	build_elf();
	phdr(1)->p_filesz = NOTE_LEN - 1; /* descriptor runs past the note area */
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("runs past its end");
	build_elf();
	put_note(OFF_NOTE, 2, 0);
	phdr(1)->p_filesz = 12 + 4 + 4;
	assert_int_equal(cvmm_loader_load_elf(*state, img, sizeof(img), &k), -ENOEXEC);
	assert_msg("2-byte descriptor");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_detect, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_valid_elf_loads, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_physical_entry_and_32bit_note, setup,
					    loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_note_in_section_only, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_truncated, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_segment_data_outside_file, setup,
					    loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_offset_overflow, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_segment_outside_ram, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_headers, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_notes, setup, loader_test_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

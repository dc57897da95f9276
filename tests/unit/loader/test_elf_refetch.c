// SPDX-License-Identifier: Apache-2.0
/*
 * The ELF loader must use the program headers it validated. The image here
 * changes under the loader, as a kernel file mapped MAP_PRIVATE does when
 * someone rewrites it: the page holding the first segment's data starts
 * inaccessible, and the SIGSEGV its first read raises (which happens only
 * once loading has begun) makes it readable and points the second segment's
 * p_offset past the end of the image. A loader that reads the headers again
 * copies those out-of-file bytes into guest RAM.
 */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "loader_test.h"
#include <cmocka.h>
#include <cvmm/loader.h>
#include <elf.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM (16ULL << 20)
#define SEG0_PADDR 0x200000ULL
#define SEG1_PADDR 0x300000ULL
#define SEG_SIZE 0x100

/* Pages: 0 headers, 1 segment 0, 2 segment 1, 3 past the end of the image. */
static uint8_t *img;
static size_t page;
static volatile sig_atomic_t rewritten;

static Elf64_Phdr *phdr(int i)
{
	return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr)) + i;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	uint8_t *addr = si->si_addr;

	(void)sig;
	(void)uc;
	if (addr < img + page || addr >= img + 2 * page) {
		/* Not ours: fault again with the default action. */
		signal(SIGSEGV, SIG_DFL);
		return;
	}
	mprotect(img + page, page, PROT_READ);
	phdr(1)->p_offset = 3 * page;
	rewritten = 1;
}

static void build_image(void)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = SEG0_PADDR;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	for (int i = 0; i < 2; i++)
		*phdr(i) = (Elf64_Phdr){.p_type = PT_LOAD,
					.p_offset = (i + 1) * page,
					.p_paddr = i ? SEG1_PADDR : SEG0_PADDR,
					.p_filesz = SEG_SIZE,
					.p_memsz = SEG_SIZE};
	memset(img + page, 0x11, SEG_SIZE);
	memset(img + 2 * page, 0x22, SEG_SIZE);
	memset(img + 3 * page, 0xee, SEG_SIZE);
}

static int setup(void **state)
{
	return loader_test_mem(state, RAM);
}

static void test_headers_read_once(void **state)
{
	struct cvmm_mem *mem = *state;
	struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO}, old;
	struct cvmm_loader_kernel k;
	const uint8_t *seg0 = cvmm_mem_ptr(mem, SEG0_PADDR, SEG_SIZE);
	const uint8_t *seg1 = cvmm_mem_ptr(mem, SEG1_PADDR, SEG_SIZE);
	int ret;

	page = (size_t)sysconf(_SC_PAGESIZE);
	img = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(img != MAP_FAILED);
	build_image();
	assert_int_equal(mprotect(img + page, page, PROT_NONE), 0);
	assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);

	ret = cvmm_loader_load_elf(mem, img, 3 * page, &k);

	sigaction(SIGSEGV, &old, NULL);
	assert_int_equal(ret, 0);
	assert_true(rewritten); /* the headers did change during loading */
	assert_int_equal(seg0[0], 0x11);
	assert_int_equal(seg1[0], 0x22);
	assert_int_equal(seg1[SEG_SIZE - 1], 0x22);
	munmap(img, 4 * page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_headers_read_once, setup, loader_test_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/kvm.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM_SIZE 0x10000 /* 64 KiB at gpa 0; 0x10000 and up is MMIO */
#define CODE_GPA 0x1000

/* 16-bit real-mode guest; ES points at 0x10000 (just past RAM). No HLT. */
static const uint8_t guest_code[] = {
    0xba, 0xf8, 0x03,	    /* mov dx, 0x3f8 */
    0xb0, 'A',		    /* mov al, 'A' */
    0xee,		    /* out dx, al */
    0xb0, 0x42,		    /* mov al, 0x42 */
    0xe6, 0x80,		    /* out 0x80, al */
    0xb8, 0x34, 0x12,	    /* mov ax, 0x1234 */
    0xef,		    /* out dx, ax */
    0xec,		    /* in al, dx */
    0xe6, 0x81,		    /* out 0x81, al */
    0x26, 0xa2, 0x00, 0x00, /* mov [es:0], al */
    0x26, 0xa0, 0x04, 0x00, /* mov al, [es:4] */
    0xe6, 0x82,		    /* out 0x82, al */
    0xeb, 0xfe,		    /* jmp $ */
};

static const uint8_t spin_code[] = {0xeb, 0xfe}; /* jmp $ */

struct vmfix {
	struct cvmm_kvm kvm;
	struct cvmm_kvm_vm vm;
	struct cvmm_kvm_vcpu vcpu;
	uint8_t *ram;
};

/* Open KVM and build a one-vCPU real-mode VM running code at CODE_GPA, or
 * skip the test if /dev/kvm is not usable here. */
static void vm_setup(struct vmfix *f, const uint8_t *code, size_t len)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (cvmm_kvm_open(&f->kvm, NULL) < 0)
		skip();
	assert_int_equal(cvmm_kvm_vm_create(&f->vm, &f->kvm), 0);
	f->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->ram != MAP_FAILED);
	memcpy(f->ram + CODE_GPA, code, len);
	assert_int_equal(cvmm_kvm_vm_set_memory(&f->vm, 0, 0, RAM_SIZE, f->ram, 0), 0);
	assert_int_equal(cvmm_kvm_vm_set_tss_addr(&f->vm, 0xfffbd000), 0);
	assert_int_equal(cvmm_kvm_vcpu_create(&f->vcpu, &f->vm, 0), 0);

	assert_int_equal(cvmm_kvm_vcpu_get_sregs(&f->vcpu, &sregs), 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.es.base = 0x10000;
	sregs.es.selector = 0x1000;
	assert_int_equal(cvmm_kvm_vcpu_set_sregs(&f->vcpu, &sregs), 0);
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 2;
	assert_int_equal(cvmm_kvm_vcpu_set_regs(&f->vcpu, &regs), 0);
}

static void vm_teardown(struct vmfix *f)
{
	cvmm_kvm_vcpu_destroy(&f->vcpu);
	cvmm_kvm_vm_destroy(&f->vm);
	cvmm_kvm_close(&f->kvm);
	munmap(f->ram, RAM_SIZE);
}

static void expect_io(struct vmfix *f, uint16_t port, uint8_t size, enum cvmm_kvm_io_dir dir,
		      struct cvmm_kvm_exit *e)
{
	assert_int_equal(cvmm_kvm_vcpu_run(&f->vcpu, e), 0);
	assert_int_equal(e->kind, CVMM_KVM_EXIT_IO);
	assert_int_equal(e->io.port, port);
	assert_int_equal(e->io.size, size);
	assert_int_equal(e->io.direction, dir);
	assert_int_equal(e->io.count, 1);
	assert_non_null(e->io.data);
}

static void test_open_missing_path(void **state)
{
	struct cvmm_kvm kvm;

	(void)state;
	assert_int_equal(cvmm_kvm_open(&kvm, "/nonexistent/cvmm-kvm"), -ENOENT);
	assert_int_equal(kvm.fd, -1);
	assert_non_null(strstr(cvmm_err_msg(), "/nonexistent/cvmm-kvm"));
	cvmm_kvm_close(&kvm);
}

static void test_open_not_kvm(void **state)
{
	struct cvmm_kvm kvm;

	(void)state;
	assert_true(cvmm_kvm_open(&kvm, "/dev/null") < 0);
	assert_int_equal(kvm.fd, -1);
	assert_non_null(strstr(cvmm_err_msg(), "/dev/null"));
}

static void test_closed_handles_and_bad_args(void **state)
{
	struct cvmm_kvm kvm = {.fd = -1};
	struct cvmm_kvm_vm vm = {.fd = -1, .vcpu_mmap_size = 4096};
	struct cvmm_kvm_vcpu vcpu = {.fd = -1};
	struct cvmm_kvm_exit e;
	struct kvm_msr_entry msr = {.index = 0x10};
	struct kvm_cpuid2 *cpuid;
	struct kvm_regs regs;
	uint8_t page[8192];

	(void)state;
	assert_int_equal(cvmm_kvm_check_extension(&kvm, KVM_CAP_IRQCHIP), -EBADF);
	assert_int_equal(cvmm_kvm_get_supported_cpuid(&kvm, &cpuid), -EBADF);
	assert_int_equal(cvmm_kvm_vm_create(&vm, &kvm), -EBADF);
	assert_int_equal(vm.fd, -1);
	vm.vcpu_mmap_size = 4096;
	assert_int_equal(cvmm_kvm_vm_create_irqchip(&vm), -EBADF);
	assert_int_equal(cvmm_kvm_vcpu_create(&vcpu, &vm, 0), -EBADF);
	assert_int_equal(cvmm_kvm_vcpu_run(&vcpu, &e), -EBADF);
	assert_int_equal(cvmm_kvm_vcpu_get_regs(&vcpu, &regs), -EBADF);
	assert_int_equal(cvmm_kvm_vcpu_kick(&vcpu, pthread_self()), -EBADF);
	/* Argument checks happen before the ioctl. */
	assert_int_equal(cvmm_kvm_vm_set_memory(&vm, 0, 0x1001, 0x1000, page, 0), -EINVAL);
	assert_int_equal(cvmm_kvm_vm_ioeventfd(&vm, 3, 0x80, 3, CVMM_KVM_IOEVENTFD_PIO, 0),
			 -EINVAL);
	assert_int_equal(cvmm_kvm_vm_ioeventfd(&vm, 3, 0x80, 1, 0x80, 0), -EINVAL);
	assert_int_equal(cvmm_kvm_vm_ioeventfd(&vm, -1, 0x80, 1, 0, 0), -EBADF);
	assert_int_equal(cvmm_kvm_vm_irqfd(&vm, -1, 5, -1), -EBADF);
	assert_int_equal(cvmm_kvm_vcpu_get_msrs(&vcpu, &msr, 0), -EINVAL);
	assert_int_equal(cvmm_kvm_vcpu_set_msrs(&vcpu, &msr, 5000), -EINVAL);
	cvmm_kvm_vcpu_destroy(&vcpu);
	cvmm_kvm_vm_destroy(&vm);
	cvmm_kvm_close(&kvm);
}

static void test_system_queries(void **state)
{
	struct cvmm_kvm kvm;
	struct kvm_cpuid2 *cpuid;
	struct kvm_msr_list *msrs;
	bool has_leaf0 = false;

	(void)state;
	if (cvmm_kvm_open(&kvm, NULL) < 0)
		skip();
	assert_true(kvm.vcpu_mmap_size >= sizeof(struct kvm_run));
	assert_true(cvmm_kvm_check_extension(&kvm, KVM_CAP_USER_MEMORY) > 0);
	assert_int_equal(cvmm_kvm_get_supported_cpuid(&kvm, &cpuid), 0);
	assert_true(cpuid->nent > 0);
	for (uint32_t i = 0; i < cpuid->nent; i++)
		has_leaf0 |= cpuid->entries[i].function == 0;
	assert_true(has_leaf0);
	free(cpuid);
	assert_int_equal(cvmm_kvm_get_msr_index_list(&kvm, &msrs), 0);
	assert_true(msrs->nmsrs > 0);
	free(msrs);
	cvmm_kvm_close(&kvm);
}

static void test_real_mode_exits(void **state)
{
	struct vmfix f;
	struct cvmm_kvm_exit e;

	(void)state;
	vm_setup(&f, guest_code, sizeof(guest_code));
	expect_io(&f, 0x3f8, 1, CVMM_KVM_IO_OUT, &e);
	assert_int_equal(e.io.data[0], 'A');
	expect_io(&f, 0x80, 1, CVMM_KVM_IO_OUT, &e);
	assert_int_equal(e.io.data[0], 0x42);
	expect_io(&f, 0x3f8, 2, CVMM_KVM_IO_OUT, &e);
	assert_int_equal(e.io.data[0] | e.io.data[1] << 8, 0x1234);
	expect_io(&f, 0x3f8, 1, CVMM_KVM_IO_IN, &e);
	e.io.data[0] = 0x5a; /* what the guest's IN reads */
	expect_io(&f, 0x81, 1, CVMM_KVM_IO_OUT, &e);
	assert_int_equal(e.io.data[0], 0x5a);

	assert_int_equal(cvmm_kvm_vcpu_run(&f.vcpu, &e), 0);
	assert_int_equal(e.kind, CVMM_KVM_EXIT_MMIO);
	assert_int_equal(e.mmio.addr, 0x10000);
	assert_int_equal(e.mmio.len, 1);
	assert_true(e.mmio.is_write);
	assert_int_equal(e.mmio.data[0], 0x5a);

	assert_int_equal(cvmm_kvm_vcpu_run(&f.vcpu, &e), 0);
	assert_int_equal(e.kind, CVMM_KVM_EXIT_MMIO);
	assert_int_equal(e.mmio.addr, 0x10004);
	assert_false(e.mmio.is_write);
	e.mmio.data[0] = 0x77;
	expect_io(&f, 0x82, 1, CVMM_KVM_IO_OUT, &e);
	assert_int_equal(e.io.data[0], 0x77);
	vm_teardown(&f);
}

static void test_ioeventfd_absorbs_matching_write(void **state)
{
	struct vmfix f;
	struct cvmm_kvm_exit e;
	uint64_t count = 0;
	int efd;

	(void)state;
	vm_setup(&f, guest_code, sizeof(guest_code));
	efd = cvmm_eventfd_open();
	assert_true(efd >= 0);
	assert_int_equal(
	    cvmm_kvm_vm_ioeventfd(&f.vm, efd, 0x80, 1,
				  CVMM_KVM_IOEVENTFD_PIO | CVMM_KVM_IOEVENTFD_DATAMATCH, 0x42),
	    0);
	/* A second registration of the same match is refused by KVM. */
	assert_true(cvmm_kvm_vm_ioeventfd(&f.vm, efd, 0x80, 1,
					  CVMM_KVM_IOEVENTFD_PIO | CVMM_KVM_IOEVENTFD_DATAMATCH,
					  0x42) < 0);
	assert_int_equal(cvmm_kvm_vm_ioeventfd(&f.vm, efd, 0x20000, 4, 0, 0), 0);

	expect_io(&f, 0x3f8, 1, CVMM_KVM_IO_OUT, &e);
	/* out 0x80 went to the eventfd, so the next exit is the 16-bit out. */
	expect_io(&f, 0x3f8, 2, CVMM_KVM_IO_OUT, &e);
	assert_int_equal(cvmm_eventfd_drain(efd, &count), 0);
	assert_int_equal(count, 1);

	assert_int_equal(
	    cvmm_kvm_vm_ioeventfd_remove(
		&f.vm, efd, 0x80, 1, CVMM_KVM_IOEVENTFD_PIO | CVMM_KVM_IOEVENTFD_DATAMATCH, 0x42),
	    0);
	assert_true(cvmm_kvm_vm_ioeventfd_remove(
			&f.vm, efd, 0x80, 1, CVMM_KVM_IOEVENTFD_PIO | CVMM_KVM_IOEVENTFD_DATAMATCH,
			0x42) < 0);
	assert_int_equal(cvmm_kvm_vm_ioeventfd_remove(&f.vm, efd, 0x20000, 4, 0, 0), 0);
	close(efd);
	vm_teardown(&f);
}

static void test_irqchip_pit_irqfd(void **state)
{
	struct cvmm_kvm kvm;
	struct cvmm_kvm_vm vm;
	struct cvmm_kvm_vcpu vcpu;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp;
	struct kvm_irq_routing_entry routes[24];
	int efd, rfd;

	(void)state;
	if (cvmm_kvm_open(&kvm, NULL) < 0)
		skip();
	assert_int_equal(cvmm_kvm_vm_create(&vm, &kvm), 0);
	assert_int_equal(cvmm_kvm_vm_set_identity_map_addr(&vm, 0xfffbc000), 0);
	assert_int_equal(cvmm_kvm_vm_set_tss_addr(&vm, 0xfffbd000), 0);
	assert_int_equal(cvmm_kvm_vm_create_irqchip(&vm), 0);
	assert_int_equal(cvmm_kvm_vm_create_pit2(&vm), 0);
	assert_int_equal(cvmm_kvm_vm_irq_line(&vm, 4, true), 0);
	assert_int_equal(cvmm_kvm_vm_irq_line(&vm, 4, false), 0);

	memset(routes, 0, sizeof(routes));
	for (uint32_t i = 0; i < 24; i++) {
		routes[i].gsi = i;
		routes[i].type = KVM_IRQ_ROUTING_IRQCHIP;
		routes[i].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		routes[i].u.irqchip.pin = i;
	}
	assert_int_equal(cvmm_kvm_vm_set_gsi_routing(&vm, routes, 24), 0);

	efd = cvmm_eventfd_open();
	rfd = cvmm_eventfd_open();
	assert_true(efd >= 0 && rfd >= 0);
	assert_int_equal(cvmm_kvm_vm_irqfd(&vm, efd, 5, -1), 0);
	assert_int_equal(cvmm_kvm_vm_irqfd_remove(&vm, efd, 5), 0);
	assert_int_equal(cvmm_kvm_vm_irqfd(&vm, efd, 10, rfd), 0);
	assert_int_equal(cvmm_kvm_vm_irqfd_remove(&vm, efd, 10), 0);

	assert_int_equal(cvmm_kvm_vcpu_create(&vcpu, &vm, 0), 0);
	assert_int_equal(cvmm_kvm_vcpu_get_lapic(&vcpu, &lapic), 0);
	assert_int_equal(cvmm_kvm_vcpu_set_lapic(&vcpu, &lapic), 0);
	assert_int_equal(cvmm_kvm_vcpu_get_mp_state(&vcpu, &mp), 0);
	assert_int_equal(mp.mp_state, KVM_MP_STATE_RUNNABLE);
	assert_int_equal(cvmm_kvm_vcpu_set_mp_state(&vcpu, &mp), 0);
	cvmm_kvm_vcpu_destroy(&vcpu);
	close(efd);
	close(rfd);
	cvmm_kvm_vm_destroy(&vm);
	cvmm_kvm_close(&kvm);
}

static void test_vcpu_state_roundtrip(void **state)
{
	struct vmfix f;
	struct kvm_fpu fpu;
	struct kvm_xsave *xsave;
	struct kvm_xcrs xcrs;
	struct kvm_vcpu_events ev;
	struct kvm_cpuid2 *sup, *got;
	struct kvm_msr_entry msrs[2] = {{.index = 0x174, .data = 0x10},
					{.index = 0x175, .data = 0x1234}};
	struct kvm_msr_entry bad = {.index = 0xdeadbeef, .data = 1};

	(void)state;
	vm_setup(&f, spin_code, sizeof(spin_code));
	assert_int_equal(cvmm_kvm_get_supported_cpuid(&f.kvm, &sup), 0);
	assert_int_equal(cvmm_kvm_vcpu_set_cpuid(&f.vcpu, sup), 0);
	assert_int_equal(cvmm_kvm_vcpu_get_cpuid(&f.vcpu, &got), 0);
	assert_int_equal(got->nent, sup->nent);
	free(got);
	free(sup);

	assert_int_equal(cvmm_kvm_vcpu_set_msrs(&f.vcpu, msrs, 2), 0);
	msrs[0].data = msrs[1].data = 0;
	assert_int_equal(cvmm_kvm_vcpu_get_msrs(&f.vcpu, msrs, 2), 0);
	assert_int_equal(msrs[0].data, 0x10);
	assert_int_equal(msrs[1].data, 0x1234);
	assert_int_equal(cvmm_kvm_vcpu_set_msrs(&f.vcpu, &bad, 1), -EIO);
	assert_non_null(strstr(cvmm_err_msg(), "0xdeadbeef"));

	assert_int_equal(cvmm_kvm_vcpu_get_fpu(&f.vcpu, &fpu), 0);
	fpu.fcw = 0x37f;
	assert_int_equal(cvmm_kvm_vcpu_set_fpu(&f.vcpu, &fpu), 0);
	xsave = calloc(1, sizeof(*xsave));
	assert_non_null(xsave);
	assert_int_equal(cvmm_kvm_vcpu_get_xsave(&f.vcpu, xsave), 0);
	assert_int_equal(cvmm_kvm_vcpu_set_xsave(&f.vcpu, xsave), 0);
	free(xsave);
	assert_int_equal(cvmm_kvm_vcpu_get_xcrs(&f.vcpu, &xcrs), 0);
	assert_int_equal(cvmm_kvm_vcpu_set_xcrs(&f.vcpu, &xcrs), 0);
	assert_int_equal(cvmm_kvm_vcpu_get_events(&f.vcpu, &ev), 0);
	assert_int_equal(cvmm_kvm_vcpu_set_events(&f.vcpu, &ev), 0);
	vm_teardown(&f);
}

/* A kick that lands before KVM_RUN must not be lost. */
static void test_kick_before_run(void **state)
{
	struct vmfix f;
	struct cvmm_kvm_exit e;

	(void)state;
	vm_setup(&f, spin_code, sizeof(spin_code));
	assert_int_equal(cvmm_kvm_kick_init(), 0);
	assert_int_equal(cvmm_kvm_vcpu_kick(&f.vcpu, pthread_self()), 0);
	assert_int_equal(cvmm_kvm_vcpu_run(&f.vcpu, &e), 0);
	assert_int_equal(e.kind, CVMM_KVM_EXIT_INTR);
	assert_int_equal(f.vcpu.run->immediate_exit, 0);
	vm_teardown(&f);
}

static void *spin_thread(void *arg)
{
	struct vmfix *f = arg;
	static struct cvmm_kvm_exit e;

	if (cvmm_kvm_vcpu_run(&f->vcpu, &e) < 0)
		return NULL;
	return &e;
}

/* The guest spins forever; only the kick can end the thread's KVM_RUN. */
static void test_kick_from_other_thread(void **state)
{
	struct vmfix f;
	struct cvmm_kvm_exit *e;
	pthread_t t;

	(void)state;
	vm_setup(&f, spin_code, sizeof(spin_code));
	assert_int_equal(cvmm_kvm_kick_init(), 0);
	assert_int_equal(pthread_create(&t, NULL, spin_thread, &f), 0);
	usleep(10000);
	assert_int_equal(cvmm_kvm_vcpu_kick(&f.vcpu, t), 0);
	assert_int_equal(pthread_join(t, (void **)&e), 0);
	assert_non_null(e);
	assert_int_equal(e->kind, CVMM_KVM_EXIT_INTR);
	vm_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_missing_path),
	    cmocka_unit_test(test_open_not_kvm),
	    cmocka_unit_test(test_closed_handles_and_bad_args),
	    cmocka_unit_test(test_system_queries),
	    cmocka_unit_test(test_real_mode_exits),
	    cmocka_unit_test(test_ioeventfd_absorbs_matching_write),
	    cmocka_unit_test(test_irqchip_pit_irqfd),
	    cmocka_unit_test(test_vcpu_state_roundtrip),
	    cmocka_unit_test(test_kick_before_run),
	    cmocka_unit_test(test_kick_from_other_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

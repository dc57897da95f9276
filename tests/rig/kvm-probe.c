// Is /dev/kvm usable? Runs a few bytes of real-mode code in a VM without an
// in-kernel irqchip (so a stuck HLT returns to us instead of blocking) and
// checks that its OUT reaches userspace as KVM_EXIT_IO with the right byte.
// The code first spins a few million instructions under a time limit: some
// /dev/kvm providers (e.g. PVM, kvm_pvm.ko) emulate such code instruction by
// instruction and cannot boot a stock kernel; hardware-assisted KVM (and KVM
// nested in QEMU TCG) runs the loop in well under a second.
// Exit 0: usable. Exit 1: not usable (reason on stderr).
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PROBE_PORT 0x3f0
#define PROBE_BYTE 0x5a
#define CODE_GPA 0x1000
#define LOOP_COUNT 0x400000
#define TIME_LIMIT_S 3

static void on_alarm(int sig)
{
	(void)sig; // only there to make KVM_RUN return EINTR
}

static int fail(const char *what)
{
	fprintf(stderr, "kvm-probe: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(void)
{
	static const uint8_t code[] = {
	    0x66,
	    0xb9,
	    LOOP_COUNT & 0xff,
	    (LOOP_COUNT >> 8) & 0xff, // mov ecx, LOOP_COUNT
	    (LOOP_COUNT >> 16) & 0xff,
	    LOOP_COUNT >> 24,
	    0x66,
	    0x49, // 1: dec ecx
	    0x75,
	    0xfc, // jnz 1b
	    0xba,
	    PROBE_PORT & 0xff,
	    PROBE_PORT >> 8, // mov dx, PROBE_PORT
	    0xb0,
	    PROBE_BYTE, // mov al, PROBE_BYTE
	    0xee,	// out dx, al
	    0xf4,	// hlt
	};
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "kvm-probe: unexpected KVM API version\n");
		return 1;
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");

	uint8_t *mem =
	    mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	memcpy(mem, code, sizeof(code));
	struct kvm_userspace_memory_region region = {
	    .slot = 0,
	    .guest_phys_addr = CODE_GPA,
	    .memory_size = 0x1000,
	    .userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run =
	    mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap vcpu");

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail("KVM_SET_SREGS");
	struct kvm_regs regs = {.rip = CODE_GPA, .rflags = 0x2};
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS");

	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	alarm(TIME_LIMIT_S);
	if (ioctl(vcpu, KVM_RUN, 0) < 0) {
		if (errno != EINTR)
			return fail("KVM_RUN");
		fprintf(stderr,
			"kvm-probe: guest loop not done in %d s: instructions are emulated\n",
			TIME_LIMIT_S);
		return 1;
	}
	alarm(0);
	if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
	    run->io.port != PROBE_PORT || run->io.size != 1 ||
	    ((uint8_t *)run)[run->io.data_offset] != PROBE_BYTE) {
		fprintf(stderr, "kvm-probe: unexpected exit (reason %u)\n", run->exit_reason);
		return 1;
	}
	return 0;
}

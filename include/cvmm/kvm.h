/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-kvm: thin, checked wrappers over the KVM ioctls (x86-64 host).
 *
 * Three handles, each a small caller-owned struct holding a file descriptor:
 *   struct cvmm_kvm       the system fd (/dev/kvm)
 *   struct cvmm_kvm_vm    one VM
 *   struct cvmm_kvm_vcpu  one vCPU and its mmap'd struct kvm_run
 * Each is filled by its open/create function and released by its
 * close/destroy function (safe on a zeroed or already released handle).
 * Closing the system fd does not tear down VMs; a VM lives until its fd and
 * all its vCPU fds are closed.
 *
 * Errors: every function returns 0 (or a documented non-negative value) on
 * success and a negative errno on failure, with a message naming the ioctl
 * available from cvmm_err_msg(). Nothing aborts.
 *
 * Threading: a vCPU is run by one thread at a time; its state get/set
 * functions must be called from that thread (or while it is not running).
 * cvmm_kvm_vcpu_kick() is the one vCPU function meant for other threads.
 * VM-level functions may be called from any thread (KVM serialises them).
 */
#ifndef CVMM_KVM_H
#define CVMM_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CVMM_KVM_DEFAULT_PATH "/dev/kvm"
#define CVMM_KVM_API_VERSION 12

/* ---- System ---- */

struct cvmm_kvm {
	int fd;		       /* /dev/kvm, or -1 */
	size_t vcpu_mmap_size; /* size of the kvm_run mapping of each vCPU */
};

/* Open path (NULL: CVMM_KVM_DEFAULT_PATH), check KVM_GET_API_VERSION == 12
 * and read the vCPU mmap size. On failure kvm->fd is -1 and the message names
 * the path (-ENOENT for a missing device, -EACCES without permission,
 * -EPROTO for a wrong API version). */
int cvmm_kvm_open(struct cvmm_kvm *kvm, const char *path);
/* Close the system fd. Safe on a handle that failed to open. */
void cvmm_kvm_close(struct cvmm_kvm *kvm);
/* KVM_CHECK_EXTENSION on the system fd: returns the (non-negative) value the
 * kernel reports, 0 meaning unsupported, or -errno. */
int cvmm_kvm_check_extension(const struct cvmm_kvm *kvm, long cap);
/* KVM_GET_SUPPORTED_CPUID. On success *out is a malloc'd table (free() it),
 * sized by retrying while the kernel answers E2BIG. */
int cvmm_kvm_get_supported_cpuid(const struct cvmm_kvm *kvm, struct kvm_cpuid2 **out);
/* KVM_GET_MSR_INDEX_LIST: the MSRs KVM saves/restores. *out is malloc'd. */
int cvmm_kvm_get_msr_index_list(const struct cvmm_kvm *kvm, struct kvm_msr_list **out);

/* ---- VM ---- */

struct cvmm_kvm_vm {
	int fd;		       /* VM fd, or -1 */
	size_t vcpu_mmap_size; /* copied from the system handle */
};

/* KVM_CREATE_VM (default machine type). */
int cvmm_kvm_vm_create(struct cvmm_kvm_vm *vm, const struct cvmm_kvm *kvm);
/* Close the VM fd. vCPUs must be destroyed by their owners. */
void cvmm_kvm_vm_destroy(struct cvmm_kvm_vm *vm);
/* KVM_SET_USER_MEMORY_REGION. size 0 deletes the slot. flags are
 * KVM_MEM_LOG_DIRTY_PAGES / KVM_MEM_READONLY. gpa, size and host must be
 * page aligned (-EINVAL otherwise, checked here). The caller keeps host
 * mapped for as long as the slot exists. */
int cvmm_kvm_vm_set_memory(const struct cvmm_kvm_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
			   void *host, uint32_t flags);
/* KVM_CREATE_IRQCHIP: in-kernel PIC pair, IOAPIC and per-vCPU LAPICs. Must
 * precede vCPU creation. */
int cvmm_kvm_vm_create_irqchip(const struct cvmm_kvm_vm *vm);
/* KVM_CREATE_PIT2 with KVM_PIT_SPEAKER_DUMMY (port 0x61 handled in kernel). */
int cvmm_kvm_vm_create_pit2(const struct cvmm_kvm_vm *vm);
/* KVM_SET_TSS_ADDR: three pages below 4 GiB KVM needs on Intel. */
int cvmm_kvm_vm_set_tss_addr(const struct cvmm_kvm_vm *vm, uint64_t addr);
/* KVM_SET_IDENTITY_MAP_ADDR: one page below 4 GiB, before vCPU creation. */
int cvmm_kvm_vm_set_identity_map_addr(const struct cvmm_kvm_vm *vm, uint64_t addr);
/* KVM_IRQ_LINE: drive GSI gsi to level (true = asserted). */
int cvmm_kvm_vm_irq_line(const struct cvmm_kvm_vm *vm, uint32_t gsi, bool level);
/* KVM_IRQFD: signalling fd raises GSI gsi. resample_fd >= 0 makes it a
 * level-triggered irqfd: KVM signals resample_fd when the guest EOIs. Pass
 * -1 for an edge irqfd. The caller keeps owning both fds. */
int cvmm_kvm_vm_irqfd(const struct cvmm_kvm_vm *vm, int fd, uint32_t gsi, int resample_fd);
/* Undo cvmm_kvm_vm_irqfd() for (fd, gsi). */
int cvmm_kvm_vm_irqfd_remove(const struct cvmm_kvm_vm *vm, int fd, uint32_t gsi);

/* Flags for cvmm_kvm_vm_ioeventfd(). */
#define CVMM_KVM_IOEVENTFD_PIO (1u << 0)       /* addr is an I/O port, else MMIO */
#define CVMM_KVM_IOEVENTFD_DATAMATCH (1u << 1) /* only writes of datamatch fire */

/* KVM_IOEVENTFD: guest writes of len bytes (1, 2, 4 or 8; 0 = any length,
 * MMIO only) to addr signal fd without exiting to userspace. */
int cvmm_kvm_vm_ioeventfd(const struct cvmm_kvm_vm *vm, int fd, uint64_t addr, uint32_t len,
			  uint32_t flags, uint64_t datamatch);
/* Undo cvmm_kvm_vm_ioeventfd(); pass exactly the same arguments. */
int cvmm_kvm_vm_ioeventfd_remove(const struct cvmm_kvm_vm *vm, int fd, uint64_t addr, uint32_t len,
				 uint32_t flags, uint64_t datamatch);
/* KVM_SET_GSI_ROUTING: replace the whole routing table with n entries. */
int cvmm_kvm_vm_set_gsi_routing(const struct cvmm_kvm_vm *vm,
				const struct kvm_irq_routing_entry *entries, uint32_t n);

/* ---- vCPU ---- */

struct cvmm_kvm_vcpu {
	int fd;		     /* vCPU fd, or -1 */
	uint32_t id;	     /* vCPU id (= initial APIC id) */
	struct kvm_run *run; /* shared with the kernel, valid while fd is open */
	size_t run_size;
};

/* KVM_CREATE_VCPU with id, then mmap its kvm_run. */
int cvmm_kvm_vcpu_create(struct cvmm_kvm_vcpu *vcpu, const struct cvmm_kvm_vm *vm, uint32_t id);
/* Unmap kvm_run and close the fd. The vCPU must not be running. */
void cvmm_kvm_vcpu_destroy(struct cvmm_kvm_vcpu *vcpu);

enum cvmm_kvm_exit_kind {
	CVMM_KVM_EXIT_IO,	      /* port I/O: complete it, then run again */
	CVMM_KVM_EXIT_MMIO,	      /* MMIO access: complete it, then run again */
	CVMM_KVM_EXIT_HLT,	      /* HLT without in-kernel irqchip */
	CVMM_KVM_EXIT_SHUTDOWN,	      /* triple fault */
	CVMM_KVM_EXIT_SYSTEM_EVENT,   /* reset/shutdown/crash request */
	CVMM_KVM_EXIT_INTERNAL_ERROR, /* KVM could not emulate something */
	CVMM_KVM_EXIT_FAIL_ENTRY,     /* hardware refused VM entry (bad state) */
	CVMM_KVM_EXIT_INTR,	      /* signal or kick: KVM_RUN returned EINTR */
	CVMM_KVM_EXIT_UNKNOWN,	      /* any other exit reason */
};

enum cvmm_kvm_io_dir {
	CVMM_KVM_IO_IN = KVM_EXIT_IO_IN,   /* guest reads: fill data */
	CVMM_KVM_IO_OUT = KVM_EXIT_IO_OUT, /* guest writes: data holds the value */
};

/*
 * A decoded exit. Pointers point into the vCPU's kvm_run page and stay valid
 * until the next cvmm_kvm_vcpu_run() on that vCPU; for IN and MMIO reads,
 * the caller writes the result there before running again.
 */
struct cvmm_kvm_exit {
	enum cvmm_kvm_exit_kind kind;
	union {
		struct {
			uint16_t port;
			uint8_t size; /* bytes per element: 1, 2 or 4 */
			enum cvmm_kvm_io_dir direction;
			uint32_t count; /* elements (string I/O: > 1) */
			uint8_t *data;	/* size * count bytes, checked inside kvm_run */
		} io;
		struct {
			uint64_t addr;
			uint32_t len; /* 1..8 */
			bool is_write;
			uint8_t *data; /* len bytes */
		} mmio;
		struct {
			uint32_t type; /* KVM_SYSTEM_EVENT_* */
			uint32_t ndata;
			const __u64 *data;
		} system_event;
		struct {
			uint32_t suberror; /* KVM_INTERNAL_ERROR_* */
			uint32_t ndata;	   /* clamped to the 16 words kvm_run holds */
			const __u64 *data;
		} internal;
		struct {
			uint64_t reason; /* hardware entry failure reason */
			uint32_t cpu;
		} fail_entry;
		struct {
			uint32_t reason; /* KVM_EXIT_* */
		} unknown;
	};
};

/* KVM_RUN once and decode why it stopped into *exit. Returns 0 with *exit
 * filled, or -errno if KVM_RUN failed or the kernel reported an I/O data area
 * outside kvm_run (-EPROTO). KVM_RUN failing with EINTR or EAGAIN is not an
 * error: it is reported as CVMM_KVM_EXIT_INTR, and run->immediate_exit is
 * then cleared so the next call enters the guest. */
int cvmm_kvm_vcpu_run(struct cvmm_kvm_vcpu *vcpu, struct cvmm_kvm_exit *exit);

/*
 * Kicking a vCPU out of KVM_RUN from another thread. The signal is
 * CVMM_KVM_KICK_SIGNAL (a real-time signal, leaving SIGUSR1/2 to callers);
 * it needs a handler (not SIG_IGN/SIG_DFL) and must not be blocked in vCPU
 * threads. cvmm_kvm_kick_init() installs a no-op handler for it,
 * process-wide; call it once before kicking. cvmm_kvm_vcpu_kick() sets
 * run->immediate_exit (so a kick landing just before KVM_RUN is not lost)
 * and signals thread, the one running the vCPU: its current or next
 * cvmm_kvm_vcpu_run() returns CVMM_KVM_EXIT_INTR. Kicks carry no reason:
 * publish yours (e.g. an atomic flag) before kicking, and check it after
 * every CVMM_KVM_EXIT_INTR.
 */
#define CVMM_KVM_KICK_SIGNAL (SIGRTMIN + 1)
int cvmm_kvm_kick_init(void);
int cvmm_kvm_vcpu_kick(struct cvmm_kvm_vcpu *vcpu, pthread_t thread);

/*
 * Coalesced I/O. Guest writes to a registered zone do not exit: KVM queues
 * them in a ring (one per VM, shared by all vCPU mappings) and exits only
 * when it is full. The monitor must drain the ring before it handles any
 * other access to the same device, so that writes stay in order; reads of a
 * zone are never coalesced. Use it for write-mostly registers (a UART's
 * transmit holding register) where a late side effect is harmless.
 */
struct cvmm_kvm_coalesced {
	struct kvm_coalesced_mmio_ring *ring; /* inside a vCPU's kvm_run mapping */
};

/* KVM_REGISTER_COALESCED_MMIO for [addr, addr+size), port I/O if pio. */
int cvmm_kvm_vm_coalesce(const struct cvmm_kvm_vm *vm, uint64_t addr, uint32_t size, bool pio);
/* Locate the ring through vcpu's mapping (valid while the vCPU exists).
 * -EOPNOTSUPP if KVM lacks coalesced PIO. */
int cvmm_kvm_coalesced_ring(const struct cvmm_kvm *kvm, const struct cvmm_kvm_vcpu *vcpu,
			    struct cvmm_kvm_coalesced *out);
typedef void (*cvmm_kvm_coalesced_fn)(void *opaque, uint64_t addr, const uint8_t *data,
				      uint32_t len, bool pio);
/* True when nothing is queued. Lock-free, any thread: a cheap test before
 * taking the lock that serialises drains. */
bool cvmm_kvm_coalesced_empty(const struct cvmm_kvm_coalesced *c);
/* Hand each queued write, oldest first, to fn and consume it; returns how
 * many. Not thread-safe: callers serialise drains of one ring. */
unsigned int cvmm_kvm_coalesced_drain(struct cvmm_kvm_coalesced *c, cvmm_kvm_coalesced_fn fn,
				      void *opaque);

/* vCPU state: KVM_GET_* / KVM_SET_* of the matching struct. */
int cvmm_kvm_vcpu_get_regs(const struct cvmm_kvm_vcpu *vcpu, struct kvm_regs *regs);
int cvmm_kvm_vcpu_set_regs(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_regs *regs);
int cvmm_kvm_vcpu_get_sregs(const struct cvmm_kvm_vcpu *vcpu, struct kvm_sregs *sregs);
int cvmm_kvm_vcpu_set_sregs(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_sregs *sregs);
int cvmm_kvm_vcpu_get_fpu(const struct cvmm_kvm_vcpu *vcpu, struct kvm_fpu *fpu);
int cvmm_kvm_vcpu_set_fpu(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_fpu *fpu);
/* LAPIC state needs the in-kernel irqchip. */
int cvmm_kvm_vcpu_get_lapic(const struct cvmm_kvm_vcpu *vcpu, struct kvm_lapic_state *lapic);
int cvmm_kvm_vcpu_set_lapic(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_lapic_state *lapic);
int cvmm_kvm_vcpu_get_mp_state(const struct cvmm_kvm_vcpu *vcpu, struct kvm_mp_state *mp);
int cvmm_kvm_vcpu_set_mp_state(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_mp_state *mp);
/* Legacy 4 KiB XSAVE area (KVM_GET_XSAVE); larger AMX state is truncated. */
int cvmm_kvm_vcpu_get_xsave(const struct cvmm_kvm_vcpu *vcpu, struct kvm_xsave *xsave);
int cvmm_kvm_vcpu_set_xsave(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_xsave *xsave);
int cvmm_kvm_vcpu_get_xcrs(const struct cvmm_kvm_vcpu *vcpu, struct kvm_xcrs *xcrs);
int cvmm_kvm_vcpu_set_xcrs(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_xcrs *xcrs);
int cvmm_kvm_vcpu_get_events(const struct cvmm_kvm_vcpu *vcpu, struct kvm_vcpu_events *ev);
int cvmm_kvm_vcpu_set_events(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_vcpu_events *ev);
/* KVM_SET_CPUID2: the table is copied by the kernel. */
int cvmm_kvm_vcpu_set_cpuid(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid);
/* KVM_GET_CPUID2 into a malloc'd table (free() it). */
int cvmm_kvm_vcpu_get_cpuid(const struct cvmm_kvm_vcpu *vcpu, struct kvm_cpuid2 **out);
/* Read or write n MSRs (1 <= n <= 4096). get fills entries[i].data for each
 * entries[i].index. KVM stops at the first MSR it refuses: then -EIO is
 * returned, naming that MSR (the entries before it were processed). */
int cvmm_kvm_vcpu_get_msrs(const struct cvmm_kvm_vcpu *vcpu, struct kvm_msr_entry *entries,
			   uint32_t n);
int cvmm_kvm_vcpu_set_msrs(const struct cvmm_kvm_vcpu *vcpu, const struct kvm_msr_entry *entries,
			   uint32_t n);

#ifdef __cplusplus
}
#endif
#endif

// SPDX-License-Identifier: Apache-2.0
/* vCPU threads: run KVM, route exits to the buses, stop on power events. */
#include "vmm.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void vcpu_dump(struct vmm_vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (cvmm_kvm_vcpu_get_regs(&v->kvm, &r) < 0 || cvmm_kvm_vcpu_get_sregs(&v->kvm, &s) < 0)
		return;
	fprintf(stderr,
		"cvmm: vCPU %u registers:\n"
		"  rip=%016llx rsp=%016llx rflags=%016llx\n"
		"  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		"  rsi=%016llx rdi=%016llx rbp=%016llx\n"
		"  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n"
		"  cs=%04x base=%016llx ss=%04x\n",
		v->kvm.id, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp,
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.cs.selector, s.cs.base, s.ss.selector);
}

static void vcpu_io(struct vmm *vmm, const struct cvmm_kvm_exit *e)
{
	for (uint32_t i = 0; i < e->io.count; i++) {
		uint8_t *data = e->io.data + (size_t)i * e->io.size;

		if (e->io.direction == CVMM_KVM_IO_OUT)
			cvmm_bus_write(vmm->pio, e->io.port, data, e->io.size);
		else
			cvmm_bus_read(vmm->pio, e->io.port, data, e->io.size);
	}
}

static void vcpu_mmio(struct vmm *vmm, const struct cvmm_kvm_exit *e)
{
	if (e->mmio.is_write)
		cvmm_bus_write(vmm->mmio, e->mmio.addr, e->mmio.data, e->mmio.len);
	else
		cvmm_bus_read(vmm->mmio, e->mmio.addr, e->mmio.data, e->mmio.len);
}

static void coalesced_write(void *opaque, uint64_t addr, const uint8_t *data, uint32_t len,
			    bool pio)
{
	struct vmm *vmm = opaque;

	cvmm_bus_write(pio ? vmm->pio : vmm->mmio, addr, data, len);
}

void vmm_coalesced_flush(struct vmm *vmm)
{
	/* Called after every exit: skip the lock when nothing is queued. */
	if (!vmm->has_coalesced || cvmm_kvm_coalesced_empty(&vmm->coalesced))
		return;
	pthread_mutex_lock(&vmm->coalesced_lock);
	cvmm_kvm_coalesced_drain(&vmm->coalesced, coalesced_write, vmm);
	pthread_mutex_unlock(&vmm->coalesced_lock);
}

static void vcpu_fail(struct vmm_vcpu *v, const char *what)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "vCPU %u: %s", v->kvm.id, what);
	vcpu_dump(v);
	vmm_request_stop(v->vmm, 1, msg);
}

/* Park here while a pause is requested; pause kicks us out of KVM_RUN. */
static void vcpu_park(struct vmm *vmm)
{
	pthread_mutex_lock(&vmm->pause_lock);
	if (vmm->pause_requested && !atomic_load(&vmm->stopping)) {
		vmm->nr_parked++;
		pthread_cond_broadcast(&vmm->pause_cond);
		while (vmm->pause_requested && !atomic_load(&vmm->stopping))
			pthread_cond_wait(&vmm->pause_cond, &vmm->pause_lock);
		vmm->nr_parked--;
	}
	pthread_mutex_unlock(&vmm->pause_lock);
}

static void vcpu_count(struct vmm_vcpu_stats *st, enum cvmm_kvm_exit_kind kind)
{
	atomic_uint_fast64_t *c = kind == CVMM_KVM_EXIT_IO     ? &st->io
				  : kind == CVMM_KVM_EXIT_MMIO ? &st->mmio
				  : kind == CVMM_KVM_EXIT_INTR ? &st->intr
							       : &st->other;

	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static void *vcpu_thread(void *arg)
{
	struct vmm_vcpu *v = arg;
	struct vmm *vmm = v->vmm;
	struct cvmm_kvm_exit e;
	char what[128];

	while (!atomic_load(&vmm->stopping)) {
		if (__atomic_load_n(&vmm->pause_requested, __ATOMIC_ACQUIRE))
			vcpu_park(vmm);
		if (cvmm_kvm_vcpu_run(&v->kvm, &e) < 0) {
			vcpu_fail(v, cvmm_err_msg());
			break;
		}
		/* Queued writes happened before this exit: replay them first. */
		vmm_coalesced_flush(vmm);
		vcpu_count(&v->stats, e.kind);
		switch (e.kind) {
		case CVMM_KVM_EXIT_IO:
			vcpu_io(vmm, &e);
			break;
		case CVMM_KVM_EXIT_MMIO:
			vcpu_mmio(vmm, &e);
			break;
		case CVMM_KVM_EXIT_INTR:
			break;
		case CVMM_KVM_EXIT_SHUTDOWN:
			vmm_request_stop(vmm, 0, "guest reset (triple fault)");
			break;
		case CVMM_KVM_EXIT_SYSTEM_EVENT:
			if (e.system_event.type == KVM_SYSTEM_EVENT_CRASH)
				vcpu_fail(v, "guest crashed (system event)");
			else
				vmm_request_stop(vmm, 0,
						 e.system_event.type == KVM_SYSTEM_EVENT_RESET
						     ? "guest reset"
						     : "guest powered off");
			break;
		case CVMM_KVM_EXIT_HLT:
			/* Only possible without an in-kernel irqchip: nothing can wake us. */
			vcpu_fail(v, "halted with interrupts unavailable");
			break;
		case CVMM_KVM_EXIT_INTERNAL_ERROR:
			snprintf(what, sizeof(what), "KVM internal error, suberror %u",
				 e.internal.suberror);
			vcpu_fail(v, what);
			break;
		case CVMM_KVM_EXIT_FAIL_ENTRY:
			snprintf(what, sizeof(what), "VM entry failed, hardware reason 0x%" PRIx64,
				 e.fail_entry.reason);
			vcpu_fail(v, what);
			break;
		case CVMM_KVM_EXIT_UNKNOWN:
			snprintf(what, sizeof(what), "unexpected KVM exit reason %u",
				 e.unknown.reason);
			vcpu_fail(v, what);
			break;
		}
	}
	return NULL;
}

int vmm_vcpus_start(struct vmm *vmm)
{
	int ret = cvmm_kvm_kick_init();

	if (ret < 0)
		return ret;
	for (unsigned int i = 0; i < vmm->nr_vcpus; i++) {
		struct vmm_vcpu *v = &vmm->vcpus[i];

		ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (ret)
			return cvmm_err(ret, "vCPU %u: cannot start thread: %s", i, strerror(ret));
		v->started = true;
	}
	return 0;
}

void vmm_vcpus_pause(struct vmm *vmm)
{
	unsigned int running = 0;

	pthread_mutex_lock(&vmm->pause_lock);
	__atomic_store_n(&vmm->pause_requested, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vmm->pause_lock);
	for (unsigned int i = 0; i < vmm->nr_vcpus; i++)
		if (vmm->vcpus[i].started) {
			cvmm_kvm_vcpu_kick(&vmm->vcpus[i].kvm, vmm->vcpus[i].thread);
			running++;
		}
	/* A vCPU leaves KVM_RUN at once when kicked and only touches device
	 * state briefly, so this wait is short. */
	pthread_mutex_lock(&vmm->pause_lock);
	while (vmm->nr_parked < running && !atomic_load(&vmm->stopping))
		pthread_cond_wait(&vmm->pause_cond, &vmm->pause_lock);
	pthread_mutex_unlock(&vmm->pause_lock);
}

void vmm_vcpus_resume(struct vmm *vmm)
{
	pthread_mutex_lock(&vmm->pause_lock);
	__atomic_store_n(&vmm->pause_requested, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vmm->pause_cond);
	pthread_mutex_unlock(&vmm->pause_lock);
}

void vmm_vcpus_stop(struct vmm *vmm)
{
	atomic_store(&vmm->stopping, true);
	/* Wake parked vCPUs (they see stopping) and a pause waiting for them. */
	pthread_mutex_lock(&vmm->pause_lock);
	pthread_cond_broadcast(&vmm->pause_cond);
	pthread_mutex_unlock(&vmm->pause_lock);
	for (unsigned int i = 0; i < vmm->nr_vcpus; i++)
		if (vmm->vcpus[i].started)
			cvmm_kvm_vcpu_kick(&vmm->vcpus[i].kvm, vmm->vcpus[i].thread);
	for (unsigned int i = 0; i < vmm->nr_vcpus; i++) {
		if (vmm->vcpus[i].started)
			pthread_join(vmm->vcpus[i].thread, NULL);
		vmm->vcpus[i].started = false;
	}
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The cvmm monitor's state: what `cvmm run` builds from the components. */
#ifndef CVMM_VMM_H
#define CVMM_VMM_H

#include "cli.h"
#include <cvmm/acpi.h>
#include <cvmm/bus.h>
#include <cvmm/kvm.h>
#include <cvmm/memory.h>
#include <cvmm/sys.h>
#include <cvmm/virtio.h>
#include <pthread.h>
#include <stdatomic.h>

#define VMM_MAX_ACPI_DEVICES 24

/* Exits by kind, counted by the vCPU thread, read for metrics. */
struct vmm_vcpu_stats {
	atomic_uint_fast64_t io, mmio, intr, other;
};

struct vmm_vcpu {
	struct vmm *vmm;
	struct cvmm_kvm_vcpu kvm;
	pthread_t thread;
	bool started;
	struct vmm_vcpu_stats stats;
};

struct vmm_devices; /* legacy devices, see devices.c */
struct vmm_disk;    /* virtio-blk disks, see disk.c */
struct vmm_rng;	    /* virtio-rng, see rng.c */
struct vmm_vsock;   /* virtio-vsock, see vsock.c */
struct vmm_net;	    /* virtio-net interfaces, see net.c */
struct boot_state;
struct vmm_api;

struct vmm {
	const struct vmm_config *cfg;
	uint64_t start_ns;
	struct cvmm_kvm kvm;
	struct cvmm_kvm_vm vm;
	struct cvmm_mem *mem;
	struct cvmm_bus *pio;
	struct cvmm_bus *mmio;
	struct cvmm_loop *loop;
	int signal_fd;
	struct vmm_vcpu *vcpus;
	unsigned int nr_vcpus;
	struct vmm_devices *devices;
	struct vmm_disk *disks;
	unsigned int nr_disks;
	struct vmm_rng *rng;
	struct vmm_vsock *vsock;
	struct vmm_net *nets;
	unsigned int nr_nets;
	struct cvmm_acpi_device acpi_devices[VMM_MAX_ACPI_DEVICES];
	size_t nr_acpi_devices;
	/* COM1's transmit register writes, queued by KVM without exits. */
	struct cvmm_kvm_coalesced coalesced;
	bool has_coalesced;
	pthread_mutex_t coalesced_lock;
	int coalesced_timer_fd;
	atomic_bool stopping;
	atomic_int exit_status;
	atomic_bool boot_timer_done;
	/* Pause: vCPUs park in vmm_vcpus_pause() until resumed or stopping. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_requested; /* under pause_lock; also read racily as a hint */
	unsigned int nr_parked;
	/* Firecracker-style API (NULL for `cvmm run`), metrics output. */
	struct vmm_api *api;
	int metrics_fd;
	int metrics_timer_fd;
	uint64_t boot_time_ns; /* start to the guest's boot-timer write, 0 before */
};

/* Ask the whole VM to stop with this process exit status; the first caller
 * wins. Safe from any thread. reason is printed to stderr when non-NULL. */
void vmm_request_stop(struct vmm *vmm, int status, const char *reason);

/* Process guest writes KVM queued instead of exiting; any thread. */
void vmm_coalesced_flush(struct vmm *vmm);

/* vcpu.c */
int vmm_vcpus_start(struct vmm *vmm);
void vmm_vcpus_stop(struct vmm *vmm);
/* Kick every vCPU out of KVM_RUN and wait until all are parked; resume
 * lets them run on. Main thread. */
void vmm_vcpus_pause(struct vmm *vmm);
void vmm_vcpus_resume(struct vmm *vmm);

/* metrics.c: one JSON object per line to the metrics output, on demand
 * (FlushMetrics) and every 60 s. Main thread. */
int vmm_metrics_open(struct vmm *vmm, const char *path);
int vmm_metrics_flush(struct vmm *vmm);
void vmm_metrics_close(struct vmm *vmm);

/* devices.c: legacy devices, ACPI power ports, boot timer, console input.
 * Each device's ACPI description is added to acpi_devices. */
int vmm_devices_create(struct vmm *vmm);
void vmm_devices_destroy(struct vmm *vmm);
/* Press and release Ctrl-Alt-Del on the i8042 keyboard. */
int vmm_devices_ctrl_alt_del(struct vmm *vmm);
/* Serial counters for metrics. */
void vmm_devices_serial_stats(struct vmm *vmm, uint64_t *in_bytes, uint64_t *out_dropped);

/* virtio_slot.c: a virtio-mmio device's window, GSI and ACPI name (slot N
 * of layout.h; ACPI name acpi_prefix + N). Open in the host-input phase
 * (adds virtio_mmio.device= under --no-acpi; errors name option); attach
 * creates the transport on loop with ioeventfds and an irqfd, puts it on
 * the MMIO bus and in acpi_devices. cvmm_virtio_mmio_destroy(mmio) after. */
struct vmm_virtio_slot {
	unsigned int slot;
	uint64_t base;
	uint32_t gsi;
	char acpi_name[5];
	struct cvmm_virtio_mmio *mmio;
};
int vmm_virtio_slot_open(struct vmm *vmm, struct boot_state *bs, struct vmm_virtio_slot *s,
			 unsigned int slot, const char *acpi_prefix, const char *option);
int vmm_virtio_slot_attach(struct vmm *vmm, struct vmm_virtio_slot *s,
			   const struct cvmm_virtio_device *dev, struct cvmm_loop *loop,
			   const char *name);

/* disk.c: open and lock images (host-input phase; adds kernel parameters),
 * attach them to the VM, flush and close them on the way out. */
int vmm_disks_open(struct vmm *vmm, struct boot_state *bs);
int vmm_disks_attach(struct vmm *vmm);
void vmm_disks_close(struct vmm *vmm);

/* rng.c: --rng, a virtio-rng device in the virtio-mmio slot after the disks,
 * served by the main loop. Open in the host-input phase (adds a kernel
 * parameter with --no-acpi), attach to the VM, close on the way out. */
int vmm_rng_open(struct vmm *vmm, struct boot_state *bs);
int vmm_rng_attach(struct vmm *vmm);
void vmm_rng_close(struct vmm *vmm);
/* vsock.c: --vsock, a virtio-vsock device in the slot after --rng, on its
 * own I/O thread. Open in the host-input phase (creates the listening
 * socket; adds a kernel parameter with --no-acpi), attach, close. */
int vmm_vsock_open(struct vmm *vmm, struct boot_state *bs);
int vmm_vsock_attach(struct vmm *vmm);
void vmm_vsock_close(struct vmm *vmm);
/* net.c: --net, virtio-net interfaces in the slots after --vsock, each on
 * its own I/O thread. Open in the host-input phase (attaches the TAP, opens
 * /dev/vhost-net; adds kernel parameters with --no-acpi), attach, close. */
int vmm_nets_open(struct vmm *vmm, struct boot_state *bs);
int vmm_nets_attach(struct vmm *vmm);
void vmm_nets_close(struct vmm *vmm);
/* Live limits of a running interface, one direction
 * (cvmm_virtio_net_set_limit()). Any thread. */
int vmm_nets_set_limit(struct vmm *vmm, unsigned int index, bool rx,
		       const struct cvmm_ratelimit_bucket *bytes,
		       const struct cvmm_ratelimit_bucket *ops);
/* Each disk's request counters into out, keyed by drive id (vdX without). */
struct json_t;
void vmm_disks_stats(struct vmm *vmm, struct json_t *out);
/* Each interface's counters into out, keyed by id (net<index> without). */
void vmm_nets_stats(struct vmm *vmm, struct json_t *out);
/* The vsock and rng devices' counters, or NULL when there is none. */
struct json_t *vmm_vsock_stats(struct vmm *vmm);
struct json_t *vmm_rng_stats(struct vmm *vmm);
/* Live limits of a running disk (cvmm_virtio_blk_set_limit()). Any thread. */
int vmm_disks_set_limit(struct vmm *vmm, unsigned int index,
			const struct cvmm_ratelimit_bucket *bytes,
			const struct cvmm_ratelimit_bucket *ops);
/* Replace a running disk's image (cvmm_virtio_blk_swap_image()). Any thread. */
int vmm_disks_swap(struct vmm *vmm, unsigned int index, const char *path);

#endif

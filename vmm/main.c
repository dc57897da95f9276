// SPDX-License-Identifier: Apache-2.0
/* cvmm: a microVM monitor assembled from the cvmm component libraries. */
#include "boot.h"
#include "cli.h"
#include "console.h"
#include "vmm.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* Exit statuses: 0 guest powered off or reset, 1 VM failure, 2 bad usage. */
#define EXIT_USAGE 2

void vmm_request_stop(struct vmm *vmm, int status, const char *reason)
{
	bool expected = false;

	if (!atomic_compare_exchange_strong(&vmm->stopping, &expected, true))
		return;
	atomic_store(&vmm->exit_status, status);
	if (reason)
		fprintf(stderr, "\r\ncvmm: %s\n", reason);
	cvmm_loop_stop(vmm->loop);
}

static void on_signal(int fd, uint32_t events, void *opaque)
{
	struct vmm *vmm = opaque;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		char msg[64];

		snprintf(msg, sizeof(msg), "stopping on signal %s", strsignal((int)si.ssi_signo));
		vmm_request_stop(vmm, 128 + (int)si.ssi_signo, msg);
	}
}

static void vmm_destroy(struct vmm *vmm)
{
	vmm_vcpus_stop(vmm);
	vmm_disks_close(vmm);
	vmm_devices_destroy(vmm);
	for (unsigned int i = 0; i < vmm->nr_vcpus; i++)
		cvmm_kvm_vcpu_destroy(&vmm->vcpus[i].kvm);
	free(vmm->vcpus);
	cvmm_kvm_vm_destroy(&vmm->vm);
	cvmm_kvm_close(&vmm->kvm);
	cvmm_mem_destroy(vmm->mem);
	if (vmm->pio)
		cvmm_bus_destroy(vmm->pio);
	if (vmm->mmio)
		cvmm_bus_destroy(vmm->mmio);
	cvmm_loop_destroy(vmm->loop);
	if (vmm->signal_fd >= 0)
		close(vmm->signal_fd);
}

static int vmm_start(struct vmm *vmm, struct boot_state *bs)
{
	static const int stop_signals[] = {SIGTERM, SIGINT, SIGHUP};
	int sigfd, ret;

	sigfd = cvmm_signalfd_open(stop_signals, sizeof(stop_signals) / sizeof(stop_signals[0]));
	if (sigfd < 0)
		return sigfd;
	vmm->signal_fd = sigfd;
	if ((ret = cvmm_loop_add(vmm->loop, sigfd, EPOLLIN, on_signal, vmm)) < 0 ||
	    (ret = vmm_boot_create_vm(vmm)) < 0 || (ret = vmm_devices_create(vmm)) < 0 ||
	    (ret = vmm_disks_attach(vmm)) < 0 || (ret = vmm_boot_finish(vmm, bs)) < 0)
		return ret;
	/* The images are in guest RAM now; don't keep a second copy for the VM's life. */
	vmm_boot_free(bs);
	vmm_console_raw();
	return vmm_vcpus_start(vmm);
}

static int cmd_run(int argc, char **argv)
{
	struct vmm_config cfg;
	struct boot_state bs = {0};
	struct vmm vmm = {.start_ns = cvmm_now_ns(),
			  .vm = {.fd = -1},
			  .kvm = {.fd = -1},
			  .signal_fd = -1,
			  .coalesced_timer_fd = -1};
	int ret;

	ret = vmm_cli_parse(argc, argv, &cfg);
	if (ret) {
		vmm_cli_free(&cfg);
		return ret > 0 ? 0 : EXIT_USAGE;
	}
	vmm.cfg = &cfg;
	/* A console reader that goes away must not kill the VM and its disks. */
	signal(SIGPIPE, SIG_IGN);
	if (cvmm_loop_create(&vmm.loop) < 0) {
		fprintf(stderr, "cvmm: %s\n", cvmm_err_msg());
		return 1;
	}
	/* Everything the user could have got wrong is found here, before a VM exists. */
	if (vmm_boot_check(&vmm, &bs) < 0) {
		fprintf(stderr, "cvmm: %s\n", cvmm_err_msg());
		vmm_boot_free(&bs);
		vmm_destroy(&vmm);
		vmm_cli_free(&cfg);
		return EXIT_USAGE;
	}
	if (vmm_start(&vmm, &bs) < 0) {
		vmm_request_stop(&vmm, 1, cvmm_err_msg());
	} else if (cvmm_loop_run(vmm.loop) < 0) {
		vmm_request_stop(&vmm, 1, cvmm_err_msg());
	}
	vmm_boot_free(&bs);
	vmm_destroy(&vmm);
	vmm_console_restore();
	vmm_cli_free(&cfg);
	return atomic_load(&vmm.exit_status);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		vmm_cli_usage(stdout);
		return 0;
	}
	fprintf(stderr, "cvmm: unknown command '%s' (try 'cvmm run --help')\n",
		argc >= 2 ? argv[1] : "");
	return EXIT_USAGE;
}

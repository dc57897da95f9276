// SPDX-License-Identifier: Apache-2.0
/* cvmm: a microVM monitor assembled from the cvmm component libraries. */
#include "api.h"
#include "boot.h"
#include "cli.h"
#include "console.h"
#include "log.h"
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

/* Everything the VM is made of, leaving the loop and signals: after a failed
 * InstanceStart the process goes on serving the API with nothing half-built. */
static void vmm_teardown(struct vmm *vmm)
{
	vmm_vcpus_stop(vmm);
	vmm_disks_close(vmm);
	vmm_rng_close(vmm);
	vmm_vsock_close(vmm);
	vmm_nets_close(vmm);
	vmm_devices_destroy(vmm);
	for (unsigned int i = 0; i < vmm->nr_vcpus; i++)
		cvmm_kvm_vcpu_destroy(&vmm->vcpus[i].kvm);
	free(vmm->vcpus);
	vmm->vcpus = NULL;
	vmm->nr_vcpus = 0;
	vmm->has_coalesced = false;
	cvmm_kvm_vm_destroy(&vmm->vm);
	cvmm_kvm_close(&vmm->kvm);
	cvmm_mem_destroy(vmm->mem);
	vmm->mem = NULL;
	if (vmm->pio)
		cvmm_bus_destroy(vmm->pio);
	if (vmm->mmio)
		cvmm_bus_destroy(vmm->mmio);
	vmm->pio = vmm->mmio = NULL;
	vmm->nr_acpi_devices = 0;
	vmm_console_restore();
}

static void vmm_destroy(struct vmm *vmm)
{
	vmm_teardown(vmm);
	vmm_metrics_close(vmm);
	cvmm_loop_destroy(vmm->loop);
	if (vmm->signal_fd >= 0)
		close(vmm->signal_fd);
}

static int vmm_signals(struct vmm *vmm)
{
	static const int stop_signals[] = {SIGTERM, SIGINT, SIGHUP};
	int sigfd =
	    cvmm_signalfd_open(stop_signals, sizeof(stop_signals) / sizeof(stop_signals[0]));

	if (sigfd < 0)
		return sigfd;
	vmm->signal_fd = sigfd;
	return cvmm_loop_add(vmm->loop, sigfd, EPOLLIN, on_signal, vmm);
}

static int vmm_start(struct vmm *vmm, struct boot_state *bs)
{
	int ret;

	if ((ret = vmm_boot_create_vm(vmm)) < 0 || (ret = vmm_devices_create(vmm)) < 0 ||
	    (ret = vmm_disks_attach(vmm)) < 0 || (ret = vmm_rng_attach(vmm)) < 0 ||
	    (ret = vmm_vsock_attach(vmm)) < 0 || (ret = vmm_nets_attach(vmm)) < 0 ||
	    (ret = vmm_boot_finish(vmm, bs)) < 0)
		return ret;
	/* The images are in guest RAM now; don't keep a second copy for the VM's life. */
	vmm_boot_free(bs);
	vmm_console_raw();
	return vmm_vcpus_start(vmm);
}

#define VMM_INIT                                                                                   \
	{                                                                                          \
		.vm = {.fd = -1}, .kvm = {.fd = -1}, .signal_fd = -1, .coalesced_timer_fd = -1,    \
		.metrics_fd = -1, .metrics_timer_fd = -1, .pause_lock = PTHREAD_MUTEX_INITIALIZER, \
		.pause_cond = PTHREAD_COND_INITIALIZER                                             \
	}

static int cmd_run(int argc, char **argv)
{
	struct vmm_config cfg;
	struct boot_state bs = {0};
	struct vmm vmm = VMM_INIT;
	int ret;

	ret = vmm_cli_parse(argc, argv, &cfg);
	if (ret) {
		vmm_cli_free(&cfg);
		return ret > 0 ? 0 : EXIT_USAGE;
	}
	vmm.cfg = &cfg;
	vmm.start_ns = cvmm_now_ns();
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
	if (vmm_signals(&vmm) < 0 || vmm_start(&vmm, &bs) < 0) {
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

/* The API's view of the monitor (struct vmm_api_ops). */
static int api_start(void *opaque)
{
	struct vmm *vmm = opaque;
	struct boot_state bs = {0};
	int ret;

	vmm->start_ns = cvmm_now_ns();
	ret = vmm_boot_check(vmm, &bs);
	if (ret == 0)
		ret = vmm_start(vmm, &bs);
	vmm_boot_free(&bs);
	if (ret < 0) {
		/* Boot errors name `cvmm run` options: say which API field instead. */
		static const char *const names[][2] = {
		    {"--kernel: ", "boot-source.kernel_image_path: "},
		    {"--initrd: ", "boot-source.initrd_path: "},
		    {"--cmdline: ", "boot-source.boot_args: "},
		    {"--memory: ", "machine-config.mem_size_mib: "},
		    {"--cpus: ", "machine-config.vcpu_count: "},
		    {"--disk: ", "drives: "},
		    {"--net: ", "network-interfaces: "},
		    {"--vsock: ", "vsock: "},
		    {"--rng: ", "entropy: "},
		};
		const char *m = cvmm_err_msg();
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", m);
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strncmp(m, names[i][0], strlen(names[i][0])) == 0)
				snprintf(msg, sizeof(msg), "%s%s", names[i][1],
					 m + strlen(names[i][0]));
		vmm_teardown(vmm);
		atomic_store(&vmm->stopping, false);
		vmm_log(VMM_LOG_ERROR, "InstanceStart failed: %s", msg);
		return cvmm_err(-ret, "%s", msg);
	}
	vmm_log(VMM_LOG_INFO, "VM started: %u vCPUs, %llu MiB, %u drives", vmm->nr_vcpus,
		(unsigned long long)vmm->cfg->memory_mib, vmm->nr_disks);
	return 0;
}

static int api_pause(void *opaque)
{
	vmm_vcpus_pause(opaque);
	vmm_log(VMM_LOG_INFO, "VM paused");
	return 0;
}

static int api_resume(void *opaque)
{
	vmm_vcpus_resume(opaque);
	vmm_log(VMM_LOG_INFO, "VM resumed");
	return 0;
}

static int api_ctrl_alt_del(void *opaque)
{
	return vmm_devices_ctrl_alt_del(opaque);
}

static int api_flush_metrics(void *opaque)
{
	return vmm_metrics_flush(opaque);
}

static int api_drive_limit(void *opaque, unsigned int disk,
			   const struct cvmm_ratelimit_bucket *bytes,
			   const struct cvmm_ratelimit_bucket *ops)
{
	return vmm_disks_set_limit(opaque, disk, bytes, ops);
}

static int api_drive_swap(void *opaque, unsigned int disk, const char *path)
{
	int ret = vmm_disks_swap(opaque, disk, path);

	if (ret == 0)
		vmm_log(VMM_LOG_INFO, "drive %u now on '%s'", disk, path);
	return ret;
}

static int api_net_limit(void *opaque, unsigned int iface, bool rx,
			 const struct cvmm_ratelimit_bucket *bytes,
			 const struct cvmm_ratelimit_bucket *ops)
{
	return vmm_nets_set_limit(opaque, iface, rx, bytes, ops);
}

static int api_logger(void *opaque, const char *path, enum vmm_log_level level, bool show_level,
		      bool show_origin)
{
	struct vmm *vmm = opaque;

	return vmm_log_open(path, level, show_level, show_origin, vmm->api->id);
}

static int api_metrics(void *opaque, const char *path)
{
	return vmm_metrics_open(opaque, path);
}

static const struct vmm_api_ops api_ops = {
    .start = api_start,
    .pause = api_pause,
    .resume = api_resume,
    .ctrl_alt_del = api_ctrl_alt_del,
    .flush_metrics = api_flush_metrics,
    .drive_limit = api_drive_limit,
    .drive_swap = api_drive_swap,
    .net_limit = api_net_limit,
    .logger = api_logger,
    .metrics = api_metrics,
};

/* Flags into the API state: logger, metrics, then the configuration file,
 * each as the matching request would. Errors are one line on stderr. */
static int api_configure(struct vmm_api *api, const struct vmm_api_args *args)
{
	uint8_t *text;
	size_t len;
	int ret;

	if ((args->log_path || args->level_set) &&
	    vmm_log_open(args->log_path, args->level, args->show_level, args->show_log_origin,
			 api->id) < 0) {
		fprintf(stderr, "cvmm: --log-path: %s\n", cvmm_err_msg());
		return -EINVAL;
	}
	if (args->metrics_path) {
		ret = api->ops->metrics(api->opaque, args->metrics_path);
		if (ret < 0 || !(api->metrics_path = strdup(args->metrics_path))) {
			fprintf(stderr, "cvmm: --metrics-path: %s\n", cvmm_err_msg());
			return -EINVAL;
		}
	}
	if (!args->config_file)
		return 0;
	ret = cvmm_file_read_all(args->config_file, 1 << 20, &text, &len);
	if (ret < 0) {
		fprintf(stderr, "cvmm: --config-file: %s\n", cvmm_err_msg());
		return ret;
	}
	ret = vmm_api_load_config(api, (const char *)text, len);
	free(text);
	if (ret < 0)
		fprintf(stderr, "cvmm: --config-file: %s: %s\n", args->config_file, cvmm_err_msg());
	return ret;
}

static int cmd_api(int argc, char **argv)
{
	struct vmm_api_args args;
	struct vmm_api api;
	struct vmm vmm = VMM_INIT;
	struct vmm_api_server *srv = NULL;
	struct vmm_api_response resp = {0};
	int ret;

	ret = vmm_api_cli_parse(argc, argv, &args);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	vmm_api_init(&api, &api_ops, &vmm);
	snprintf(api.id, sizeof(api.id), "%s", args.id);
	api.max_payload = args.max_payload;
	api.cfg.boot_timer = args.boot_timer;
	vmm.cfg = &api.cfg;
	vmm.api = &api;
	if (cvmm_loop_create(&vmm.loop) < 0 || vmm_signals(&vmm) < 0) {
		fprintf(stderr, "cvmm: %s\n", cvmm_err_msg());
		ret = 1;
		goto out;
	}
	if (api_configure(&api, &args) < 0) {
		ret = EXIT_USAGE;
		goto out;
	}
	if (!args.no_api && vmm_api_server_create(&srv, vmm.loop, args.api_sock, &api) < 0) {
		fprintf(stderr, "cvmm: %s\n", cvmm_err_msg());
		ret = EXIT_USAGE;
		goto out;
	}
	vmm_log(VMM_LOG_INFO, "cvmm v%s (%s) %s%s", CVMM_VERSION, api.id,
		args.no_api ? "without API" : "API at ", args.no_api ? "" : args.api_sock);
	/* A configuration file starts the VM at once, through the same action
	 * the API runs. */
	if (args.config_file) {
		static const char start[] = "{\"action_type\":\"InstanceStart\"}";

		vmm_api_handle(&api, "PUT", "/actions", start, sizeof(start) - 1, &resp);
		if (resp.status != 204) {
			fprintf(stderr, "cvmm: --config-file: %s: %s\n", args.config_file,
				cvmm_err_msg());
			free(resp.body);
			ret = 1;
			goto out;
		}
	}
	if (cvmm_loop_run(vmm.loop) < 0)
		vmm_request_stop(&vmm, 1, cvmm_err_msg());
	ret = atomic_load(&vmm.exit_status);
out:
	vmm_api_server_destroy(srv);
	vmm_destroy(&vmm);
	vmm_log_close();
	vmm_api_free(&api);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "help") == 0) {
		vmm_api_cli_usage(stdout);
		return 0;
	}
	if (argc >= 2 && argv[1][0] != '-') {
		fprintf(stderr, "cvmm: unknown command '%s' (try 'cvmm --help')\n", argv[1]);
		return EXIT_USAGE;
	}
	return cmd_api(argc, argv);
}

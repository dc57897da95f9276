// SPDX-License-Identifier: Apache-2.0
/*
 * vsock-tool: a small socat for the vsock tests, built static for the guest
 * (AF_VSOCK) and for the host (the hybrid UNIX-socket protocol).
 *   vsock-tool [-g N] [-m N] [-t] [-e] [-k N] [-c N] [-l N] [-S N] ADDR
 * ADDR: vsock-listen:PORT, vsock-connect:CID:PORT, uds-listen:PATH,
 *       uds-connect:PATH:PORT (sends "CONNECT PORT\n", expects "OK ...\n"), gen
 * Default: the input (stdin, or -g N bytes of a fixed pseudo-random pattern)
 * goes to the socket, then a write shutdown; the socket goes to stdout until
 * EOF. -e: listen, echo each of -k N connections (default 1) in a child.
 * -c N: N concurrent connections each send -g bytes and check the echo.
 * -t: "vsock-tool: secs=S" on stderr, from connect (or accept) to the end of
 * the transfer. -l N: N connections one after another, each closed at once;
 * prints "vsock-tool: connect_us=MEAN" (for the benches).
 * -S N: SOCK_SEQPACKET (vsock addresses, and uds-listen for the hybrid back
 * end): the connecting side sends N messages of varied sizes (up to 60000
 * bytes), the listener checks that each read returns exactly one of them,
 * then "vsock-tool: seqpacket ok=N". With -e the listener sends each message
 * back and the connecting side reads each echo (checked the same way) before
 * its next send, then prints "vsock-tool: seqpacket echo ok=N".
 * "gen" writes the -g pattern to stdout. -m N: "vsock-tool: sent N" on stderr once
 * N bytes went to the socket. A listener prints "vsock-tool: listening on ADDR".
 * Errors: "vsock-tool: WHAT: ERROR", exit 1.
 */
#include <errno.h>
#include <linux/vm_sockets.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long gen_bytes = -1;
static long long mark_bytes = -1;   /* -m */
static int timing;		    /* -t */
static int sock_type = SOCK_STREAM; /* -S: SOCK_SEQPACKET */
static double t_start;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "vsock-tool: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t pat_state = 0x9e3779b97f4a7c15ULL;

static void pat_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		pat_state ^= pat_state << 13;
		pat_state ^= pat_state >> 7;
		pat_state ^= pat_state << 17;
		p[i] = (uint8_t)pat_state;
	}
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

/* Input (stdin or pattern) to fd, then shut down writing. */
static void pump_out(int fd)
{
	static uint8_t buf[65536];
	long long sent = 0;

	for (;;) {
		ssize_t n;

		if (gen_bytes >= 0) {
			n = gen_bytes < (long long)sizeof(buf) ? gen_bytes : (long long)sizeof(buf);
			pat_fill(buf, (size_t)n);
			gen_bytes -= n;
		} else {
			n = read(0, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("read stdin");
		}
		if (n == 0)
			break;
		write_all(fd, buf, (size_t)n);
		if (mark_bytes >= 0 && sent < mark_bytes && (sent += n) >= mark_bytes)
			fprintf(stderr, "vsock-tool: sent %lld\n", mark_bytes);
	}
	if (fd != 1 && shutdown(fd, SHUT_WR) < 0)
		die("shutdown");
}

/* The socket to stdout until EOF. */
static int pump_in(int fd)
{
	static uint8_t buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (n == 0)
			return 0;
		write_all(1, buf, (size_t)n);
	}
}

static void copy_both(int fd)
{
	pid_t parent = getpid(), pid = fork();
	int st = 0;

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* Killing the tool kills its writer too: the socket closes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			exit(1);
		pump_out(fd);
		exit(0);
	}
	pump_in(fd);
	waitpid(pid, &st, 0);
	if (timing)
		fprintf(stderr, "vsock-tool: secs=%.3f\n", now_s() - t_start);
	exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
}

static int uds_sock(const char *path, struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, sock_type, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	if (fd < 0)
		die("socket");
	return fd;
}

static int do_connect(const char *addr)
{
	char path[256];
	unsigned int cid, port;
	int fd;

	if (sscanf(addr, "vsock-connect:%u:%u", &cid, &port) == 2) {
		struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};

		/* The nested test guests are slow: the default 2 s can pass
		 * before a loaded guest handles the host's answer. */
		struct timeval tmo = {.tv_sec = 60};

		fd = socket(AF_VSOCK, sock_type, 0);
		if (fd < 0)
			die("socket");
		setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD, &tmo, sizeof(tmo));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("connect");
		return fd;
	}
	if (sscanf(addr, "uds-connect:%255[^:]:%u", path, &port) == 2) {
		struct sockaddr_un sa;
		char line[64];
		size_t n = 0;

		fd = uds_sock(path, &sa);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("connect");
		n = (size_t)snprintf(line, sizeof(line), "CONNECT %u\n", port);
		write_all(fd, (uint8_t *)line, n);
		for (n = 0; n < sizeof(line) - 1; n++) {
			ssize_t r = read(fd, &line[n], 1);

			if (r <= 0) {
				fprintf(stderr, "vsock-tool: connect: no OK from the guest (%s)\n",
					r == 0 ? "EOF" : strerror(errno));
				exit(1);
			}
			if (line[n] == '\n')
				break;
		}
		line[n] = '\0';
		if (strncmp(line, "OK ", 3) != 0) {
			fprintf(stderr, "vsock-tool: connect: bad reply '%s'\n", line);
			exit(1);
		}
		return fd;
	}
	fprintf(stderr, "vsock-tool: bad address %s\n", addr);
	exit(2);
}

static int do_listen(const char *addr)
{
	unsigned int port;
	int fd;

	if (sscanf(addr, "vsock-listen:%u", &port) == 1) {
		struct sockaddr_vm sa = {
		    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};

		fd = socket(AF_VSOCK, sock_type, 0);
		if (fd < 0)
			die("socket");
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("bind");
	} else if (strncmp(addr, "uds-listen:", 11) == 0) {
		struct sockaddr_un sa;

		fd = uds_sock(addr + 11, &sa);
		unlink(addr + 11);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("bind");
	} else {
		fprintf(stderr, "vsock-tool: bad address %s\n", addr);
		exit(2);
	}
	if (listen(fd, 128) < 0)
		die("listen");
	fprintf(stderr, "vsock-tool: listening on %s\n", addr);
	return fd;
}

static void echo(int fd)
{
	static uint8_t buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (n == 0)
			break;
		write_all(fd, buf, (size_t)n);
	}
	shutdown(fd, SHUT_WR);
	exit(0);
}

/* One client of -c: send the pattern, read the echo back, compare. */
static void echo_client(const char *addr, long long len)
{
	uint8_t *want = malloc((size_t)len), *got = malloc((size_t)len);
	long long have = 0;
	int fd = do_connect(addr);

	pat_fill(want, (size_t)len);
	write_all(fd, want, (size_t)len);
	shutdown(fd, SHUT_WR);
	for (;;) {
		ssize_t n = read(fd, got + have, (size_t)(len - have));

		if (n < 0)
			die("read");
		if (n == 0)
			break;
		have += n;
		if (have == len)
			break;
	}
	exit(have == len && memcmp(want, got, (size_t)len) == 0 ? 0 : 1);
}

/* Message i of -S: its length, and every byte is (uint8_t)i. */
static size_t seq_len(int i)
{
	return (size_t)(i * 7919 % 60000) + 1;
}

/* Whether buf (r bytes) is exactly message i. */
static int seq_check(const uint8_t *buf, ssize_t r, int i)
{
	if ((size_t)r == seq_len(i) && buf[0] == (uint8_t)i && buf[r - 1] == (uint8_t)i)
		return 1;
	fprintf(stderr, "vsock-tool: seqpacket: message %d: %zd bytes, want %zu\n", i, r,
		seq_len(i));
	return 0;
}

static int seq_send(int fd, int n, int echoed)
{
	static uint8_t buf[65536];

	for (int i = 0; i < n; i++) {
		memset(buf, i, seq_len(i));
		if (send(fd, buf, seq_len(i), 0) != (ssize_t)seq_len(i))
			die("send");
		if (echoed) {
			ssize_t r = recv(fd, buf, sizeof(buf), 0);

			if (r < 0)
				die("recv");
			if (!seq_check(buf, r, i))
				return 1;
		}
	}
	if (echoed)
		printf("vsock-tool: seqpacket echo ok=%d\n", n);
	/* Exit once the listener has read them all and closed. */
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	return 0;
}

static int seq_recv(int fd, int n, int echo)
{
	static uint8_t buf[65536];

	for (int i = 0; i < n; i++) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r < 0)
			die("recv");
		if (!seq_check(buf, r, i))
			return 1;
		if (echo && send(fd, buf, (size_t)r, 0) != r)
			die("send");
	}
	printf("vsock-tool: seqpacket ok=%d\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	int opt, echo_mode = 0, accepts = 1, clients = 0, serial = 0, seq = 0;
	const char *addr;

	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "g:m:tek:c:l:S:")) != -1) {
		switch (opt) {
		case 'g':
			gen_bytes = atoll(optarg);
			break;
		case 'm':
			mark_bytes = atoll(optarg);
			break;
		case 't':
			timing = 1;
			break;
		case 'l':
			serial = atoi(optarg);
			break;
		case 'S':
			seq = atoi(optarg);
			sock_type = SOCK_SEQPACKET;
			break;
		case 'e':
			echo_mode = 1;
			break;
		case 'k':
			accepts = atoi(optarg);
			break;
		case 'c':
			clients = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return 2;
	addr = argv[optind];
	if (strcmp(addr, "gen") == 0) {
		pump_out(1);
		return 0;
	}
	if (clients) {
		int ok = 0;

		for (int i = 0; i < clients; i++)
			if (fork() == 0)
				echo_client(addr, gen_bytes < 0 ? 65536 : gen_bytes);
		for (int i = 0; i < clients; i++) {
			int st;

			if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
				ok++;
		}
		printf("vsock-tool: concurrent ok=%d/%d\n", ok, clients);
		return ok == clients ? 0 : 1;
	}
	if (seq > 0 && strstr(addr, "-listen:")) {
		int fd = accept(do_listen(addr), NULL, NULL);

		if (fd < 0)
			die("accept");
		return seq_recv(fd, seq, echo_mode);
	}
	if (seq > 0)
		return seq_send(do_connect(addr), seq, echo_mode);
	if (serial > 0) {
		double sum = 0;

		for (int i = 0; i < serial; i++) {
			double t = now_s();

			close(do_connect(addr));
			sum += now_s() - t;
		}
		printf("vsock-tool: connect_us=%.0f\n", sum / serial * 1e6);
		return 0;
	}
	if (strstr(addr, "-listen:")) {
		int lfd = do_listen(addr);

		for (int i = 0; i < accepts; i++) {
			int fd = accept(lfd, NULL, NULL);

			if (fd < 0)
				die("accept");
			t_start = now_s();
			if (!echo_mode)
				copy_both(fd);
			if (fork() == 0)
				echo(fd);
			close(fd);
		}
		while (wait(NULL) > 0)
			;
		return 0;
	}
	t_start = now_s();
	copy_both(do_connect(addr));
	return 0;
}

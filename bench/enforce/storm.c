// SPDX-License-Identifier: BSD-2-Clause
/* Exec and connect storms for bench/enforce: prints the rate of N operations.
 *   storm exec N      N x (vfork + execve /bin/true + wait)
 *   storm connect N   N x (UDP socket + connect 127.0.0.1:PORT + close): the connect hooks run,
 *                     no packet is sent, so the hook's cost is what shows */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	long n = atol(argv[2]);
	double t0 = now();
	if (!strcmp(argv[1], "exec")) {
		char *args[] = { "true", NULL };
		for (long i = 0; i < n; i++) {
			pid_t p = vfork();
			if (p == 0) {
				execv("/bin/true", args);
				_exit(127);
			}
			int st;
			waitpid(p, &st, 0);
		}
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(argc > 3 ? atoi(argv[3]) : 9) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		for (long i = 0; i < n; i++) {
			int fd = socket(AF_INET, SOCK_DGRAM, 0);
			if (connect(fd, (void *)&a, sizeof(a)) && i == 0)
				perror("connect");
			close(fd);
		}
	}
	double dt = now() - t0;
	printf("%s %ld %.3f s %.0f ops/s\n", argv[1], n, dt, n / dt);
	return 0;
}

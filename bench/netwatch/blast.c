// SPDX-License-Identifier: BSD-2-Clause
/* Packet source for the netwatch benchmark: sends COUNT UDP datagrams of 64 payload bytes to
 * DST:PORT with sendmmsg in batches of 64, from this host's address (SOURCES = 0) or, through
 * a raw socket, from SOURCES distinct crafted IPv4 addresses starting at 10.221.0.0. Prints
 * one JSON line: {"sent":..., "wall_s":..., "pps":..., "cpu_s":..., "pps_cpu":...}. On veth
 * the receive path (and so the TC program) runs in the sender's context, so packets per
 * CPU-second of this process measure the path's cost without the time the shared vCPUs
 * spend on other work. Built by bench.py with gcc. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define PAYLOAD 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static unsigned char pkts[BATCH][sizeof(struct iphdr) + sizeof(struct udphdr) + PAYLOAD];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in dst = { .sin_family = AF_INET };
	unsigned long count, sources, sent = 0, k = 0;
	int fd, hdr;
	double t0;

	if (argc != 5) {
		fprintf(stderr, "usage: %s DST PORT COUNT SOURCES\n", argv[0]);
		return 2;
	}
	inet_pton(AF_INET, argv[1], &dst.sin_addr);
	dst.sin_port = htons(atoi(argv[2]));
	count = strtoul(argv[3], NULL, 10);
	sources = strtoul(argv[4], NULL, 10);
	fd = sources ? socket(AF_INET, SOCK_RAW, IPPROTO_RAW) : socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	hdr = sources ? sizeof(struct iphdr) + sizeof(struct udphdr) : 0;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = sources ? pkts[i] : pkts[i] + sizeof(struct iphdr) + sizeof(struct udphdr);
		iov[i].iov_len = hdr + PAYLOAD;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(dst);
		if (sources) {
			struct iphdr *ip = (void *)pkts[i];
			struct udphdr *uh = (void *)(ip + 1);

			ip->version = 4, ip->ihl = 5, ip->ttl = 64, ip->protocol = IPPROTO_UDP;
			ip->tot_len = htons(hdr + PAYLOAD);
			ip->daddr = dst.sin_addr.s_addr;
			uh->source = htons(40000), uh->dest = dst.sin_port;
			uh->len = htons(sizeof(*uh) + PAYLOAD);
		}
	}
	t0 = now();
	while (sent < count) {
		int n = count - sent < BATCH ? count - sent : BATCH, r;

		for (int i = 0; sources && i < n; i++, k++)
			((struct iphdr *)pkts[i])->saddr = htonl(0x0add0000 + (k % sources));
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			perror("sendmmsg");
			return 1;
		}
		sent += r;
	}
	{
		struct rusage ru;
		double wall = now() - t0, cpu;

		getrusage(RUSAGE_SELF, &ru);
		cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
		      ru.ru_stime.tv_usec / 1e6;
		printf("{\"sent\":%lu,\"wall_s\":%.6f,\"pps\":%.0f,\"cpu_s\":%.3f,\"pps_cpu\":%.0f}\n",
		       sent, wall, sent / wall, cpu, sent / cpu);
	}
	return 0;
}

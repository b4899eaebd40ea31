/* c-relay: a minimal C RTP relay, the baseline for pbxd's Swift relay on the same machine.
 *
 * Same job and same protocol as `pbxd-bench relay`: K sessions, two legs each (RTP socket on an
 * even port, RTCP socket bound on +1 and left idle), symmetric RTP latching on the first source,
 * packets from another source dropped; forwarding A→B and B→A. One thread, level-triggered
 * epoll, one recvmmsg (up to 16 datagrams) per readiness event, one sendmmsg to the peer leg.
 * Writes "portA portB" per session to --ports-file; SIGUSR1 starts and SIGUSR2 ends the
 * measurement window; prints CPU (getrusage user+sys) per relayed packet.
 *
 * Build: cc -O2 -o c-relay bench/c-relay.c
 * Usage: c-relay --sessions K --port-start P --ports-file F [--bind 127.0.0.1]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define VLEN 16

struct leg {
    int fd;
    int peer; /* index of the other leg */
    int latched;
    struct sockaddr_in remote;
};

static volatile sig_atomic_t got_start, got_stop;
static void on_usr1(int s) { (void)s; got_start = 1; }
static void on_usr2(int s) { (void)s; got_stop = 1; }

static double cpu_us(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec * 1e6 + (double)u.ru_utime.tv_usec +
           (double)u.ru_stime.tv_sec * 1e6 + (double)u.ru_stime.tv_usec;
}

static int bind_udp(struct in_addr host, int port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr = host, .sin_port = htons((uint16_t)port)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { close(fd); return -1; }
    return fd;
}

int main(int argc, char **argv) {
    int sessions = 500, port = 20000;
    const char *ports_file = "/tmp/c-relay-ports.txt", *bind_host = "127.0.0.1";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--sessions")) sessions = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--port-start")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--ports-file")) ports_file = argv[i + 1];
        else if (!strcmp(argv[i], "--bind")) bind_host = argv[i + 1];
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    struct in_addr host;
    inet_pton(AF_INET, bind_host, &host);
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);

    struct leg *legs = calloc((size_t)sessions * 2, sizeof *legs);
    int ep = epoll_create1(0);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", ports_file);
    FILE *f = fopen(tmp, "w");
    if (!f) { perror(tmp); return 1; }
    int ports[2];
    for (int s = 0; s < sessions; s++) {
        for (int l = 0; l < 2; l++) {
            int fd = -1;
            while (fd < 0 && port < 65534) { /* skip pairs we cannot bind, like RTPPortPool */
                fd = bind_udp(host, port);
                if (fd >= 0) {
                    int rtcp = bind_udp(host, port + 1);
                    if (rtcp < 0) { close(fd); fd = -1; }
                }
                ports[l] = port;
                port += 2;
            }
            if (fd < 0) { fprintf(stderr, "out of ports\n"); return 1; }
            int idx = 2 * s + l;
            legs[idx].fd = fd;
            legs[idx].peer = 2 * s + (1 - l);
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)idx};
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        fprintf(f, "%d %d\n", ports[0], ports[1]);
    }
    fclose(f);
    rename(tmp, ports_file);
    printf("c-relay: %d sessions, pid %d, ports in %s\n", sessions, getpid(), ports_file);
    fflush(stdout);

    static uint8_t bufs[VLEN][2048];
    struct iovec iov[VLEN];
    struct sockaddr_in from[VLEN];
    struct mmsghdr msgs[VLEN], out[VLEN];
    struct iovec oiov[VLEN];
    uint64_t relayed = 0, wrong = 0, start_relayed = 0;
    double start_cpu = 0;
    int measuring = 0;
    struct epoll_event evs[256];
    for (;;) {
        if (got_start && !measuring) { measuring = 1; start_cpu = cpu_us(); start_relayed = relayed; }
        if (got_stop) break;
        int n = epoll_wait(ep, evs, 256, 100);
        for (int e = 0; e < n; e++) {
            struct leg *in = &legs[evs[e].data.u32], *peer = &legs[in->peer];
            for (int k = 0; k < VLEN; k++) {
                iov[k] = (struct iovec){bufs[k], sizeof bufs[k]};
                msgs[k].msg_hdr = (struct msghdr){.msg_name = &from[k], .msg_namelen = sizeof from[k],
                                                  .msg_iov = &iov[k], .msg_iovlen = 1};
            }
            int r = recvmmsg(in->fd, msgs, VLEN, MSG_DONTWAIT, NULL);
            int m = 0;
            for (int k = 0; k < r; k++) {
                if (!in->latched) { in->remote = from[k]; in->latched = 1; }
                else if (from[k].sin_port != in->remote.sin_port || from[k].sin_addr.s_addr != in->remote.sin_addr.s_addr) {
                    wrong++;
                    continue;
                }
                if (!peer->latched) continue;
                oiov[m] = (struct iovec){bufs[k], msgs[k].msg_len};
                out[m].msg_hdr = (struct msghdr){.msg_name = &peer->remote, .msg_namelen = sizeof peer->remote,
                                                 .msg_iov = &oiov[m], .msg_iovlen = 1};
                m++;
            }
            if (m > 0) {
                int sent = sendmmsg(peer->fd, out, (unsigned)m, 0);
                if (sent > 0) relayed += (uint64_t)sent;
            }
        }
    }
    double cpu = cpu_us() - start_cpu;
    uint64_t packets = relayed - start_relayed;
    printf("RESULT c-relay sessions=%d packets=%llu cpu_s=%.3f cpu_us_per_packet=%.2f wrong_source=%llu\n",
           sessions, (unsigned long long)packets, cpu / 1e6, packets ? cpu / (double)packets : 0.0,
           (unsigned long long)wrong);
    return 0;
}

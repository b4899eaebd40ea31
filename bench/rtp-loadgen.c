/* rtp-loadgen: simulates N concurrent G.711 calls through an RTP relay and measures loss and
 * added one-way latency.
 *
 * Each call has two endpoints (side A, side B). Every endpoint sends one RTP packet (12-byte
 * header + 160-byte G.711 payload) every 20 ms to its relay port; the relay forwards it to the
 * other side. The 2N endpoints' send times are spread evenly over the 20 ms period, as real
 * calls are. The payload carries the send time (CLOCK_MONOTONIC ns), call index and side, so the
 * receiver computes latency = receive time - send time (both in this process: no clock skew).
 *
 * Endpoints share a few sockets per side (--sockets, default 8): that lets one sendmmsg carry
 * many calls' packets and one recvmmsg drain many; the relay's legs latch onto these sockets
 * (symmetric RTP), exactly as they would onto 2N phones. Single thread, epoll, sendmmsg/recvmmsg.
 *
 * Timeline: warm-up (legs latch, caches warm), then SIGUSR1 to --relay-pid (the relay starts its
 * CPU/packet window), the measurement window, then a 500 ms drain and SIGUSR2 (window ends).
 * Only packets sent inside the window count for loss and latency.
 *
 * Build: cc -O2 -o rtp-loadgen bench/rtp-loadgen.c
 * Usage: rtp-loadgen --ports-file F --calls N [--warmup 3] [--duration 10] [--relay-pid PID]
 *                    [--host 127.0.0.1] [--sockets 8]
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PTIME_NS 20000000ULL
#define PKT_LEN 172
#define BATCH 64
#define HIST_US 200000 /* 1 us buckets up to 200 ms, then overflow */
#define MAX_SOCKETS 64
/* Packets due within the next TICK are sent together: one sendmmsg per socket per tick instead
 * of one syscall per packet, so the generator keeps up with thousands of calls on one core.
 * Each packet is stamped when it is actually sent, so latency is not inflated by the tick. */
#define TICK_NS 1000000ULL

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

struct batch {
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in to[BATCH];
    uint8_t buf[BATCH][PKT_LEN];
    int n;
};

static int socks[2][MAX_SOCKETS];
static struct batch batches[2][MAX_SOCKETS];
static uint32_t hist[HIST_US + 1];
static uint32_t lag_hist[HIST_US + 1];

static uint64_t percentile(const uint32_t *h, uint64_t total, double p) {
    if (total == 0) return 0;
    uint64_t want = (uint64_t)(p * (double)total);
    if (want >= total) want = total - 1;
    uint64_t seen = 0;
    for (int i = 0; i <= HIST_US; i++) {
        seen += h[i];
        if (seen > want) return (uint64_t)i;
    }
    return HIST_US;
}

static void flush_batch(int side, int s, uint64_t *send_errors) {
    struct batch *b = &batches[side][s];
    int off = 0;
    while (off < b->n) {
        int r = sendmmsg(socks[side][s], b->msgs + off, b->n - off, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            /* EAGAIN (socket buffer full) or ECONNREFUSED: count the rest as not sent. */
            *send_errors += (uint64_t)(b->n - off);
            break;
        }
        off += r;
    }
    b->n = 0;
}

int main(int argc, char **argv) {
    const char *ports_file = NULL, *host = "127.0.0.1";
    int calls = 100, nsock = 8;
    double warmup = 3, duration = 10;
    pid_t relay_pid = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--ports-file")) ports_file = argv[i + 1];
        else if (!strcmp(argv[i], "--calls")) calls = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--duration")) duration = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--relay-pid")) relay_pid = (pid_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--host")) host = argv[i + 1];
        else if (!strcmp(argv[i], "--sockets")) nsock = atoi(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (!ports_file || calls <= 0 || nsock <= 0 || nsock > MAX_SOCKETS) {
        fprintf(stderr, "usage: rtp-loadgen --ports-file F --calls N [--warmup s] [--duration s] "
                        "[--relay-pid PID] [--host H] [--sockets S<=64]\n");
        return 2;
    }
    if (nsock > calls) nsock = calls;

    /* Relay ports: "portA portB" per call. */
    uint16_t (*ports)[2] = calloc((size_t)calls, sizeof *ports);
    FILE *f = fopen(ports_file, "r");
    if (!f) die(ports_file);
    for (int i = 0; i < calls; i++) {
        int a, b;
        if (fscanf(f, "%d %d", &a, &b) != 2) {
            fprintf(stderr, "ports file has %d sessions, need %d\n", i, calls);
            return 1;
        }
        ports[i][0] = (uint16_t)a;
        ports[i][1] = (uint16_t)b;
    }
    fclose(f);

    struct in_addr relay_addr;
    if (inet_pton(AF_INET, host, &relay_addr) != 1) { fprintf(stderr, "bad host %s\n", host); return 2; }

    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    for (int side = 0; side < 2; side++) {
        for (int s = 0; s < nsock; s++) {
            int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
            if (fd < 0) die("socket");
            int sz = 8 << 20;
            if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
            if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0)
                setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
            struct sockaddr_in local = {.sin_family = AF_INET, .sin_addr = relay_addr, .sin_port = 0};
            if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) die("bind");
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(side * MAX_SOCKETS + s)};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
            socks[side][s] = fd;
            struct batch *b = &batches[side][s];
            for (int k = 0; k < BATCH; k++) {
                b->iov[k].iov_base = b->buf[k];
                b->iov[k].iov_len = PKT_LEN;
                b->msgs[k].msg_hdr = (struct msghdr){
                    .msg_name = &b->to[k], .msg_namelen = sizeof b->to[k],
                    .msg_iov = &b->iov[k], .msg_iovlen = 1};
                memset(b->buf[k] + 12, 0xFF, PKT_LEN - 12); /* µ-law silence */
            }
        }
    }

    /* Receive buffers for recvmmsg. */
    static uint8_t rbuf[BATCH][2048];
    struct mmsghdr rmsgs[BATCH];
    struct iovec riov[BATCH];
    for (int k = 0; k < BATCH; k++) {
        riov[k].iov_base = rbuf[k];
        riov[k].iov_len = sizeof rbuf[k];
        rmsgs[k].msg_hdr = (struct msghdr){.msg_iov = &riov[k], .msg_iovlen = 1};
    }

    uint16_t *seq = calloc((size_t)calls * 2, sizeof *seq);
    const int endpoints = 2 * calls;
    const uint64_t t0 = now_ns() + 10000000ULL;
    const uint64_t t_start = t0 + (uint64_t)(warmup * 1e9);
    const uint64_t t_end = t_start + (uint64_t)(duration * 1e9);
    const uint64_t t_drain = t_end + 500000000ULL;
    uint64_t cycle = 0;
    int next = 0;
    int started = 0, sending = 1;
    uint64_t sent_window = 0, recv_window = 0, recv_total = 0, sent_total = 0, send_errors = 0;
    uint64_t misrouted = 0, overflow = 0, lag_total = 0;
    uint64_t lat_max = 0;

    for (;;) {
        uint64_t now = now_ns();
        if (!started && now >= t_start) {
            started = 1;
            if (relay_pid > 0) kill(relay_pid, SIGUSR1);
        }
        if (sending && now >= t_end) sending = 0;
        if (!sending && now >= t_drain) break;

        /* Queue every endpoint whose send time has come, in send-time order. */
        if (sending) {
            for (;;) {
                uint64_t due = t0 + cycle * PTIME_NS + (uint64_t)next * PTIME_NS / (uint64_t)endpoints;
                if (due > now + TICK_NS || due >= t_end) break;
                int call = next >> 1, side = next & 1, s = call % nsock;
                struct batch *b = &batches[side][s];
                uint8_t *p = b->buf[b->n];
                uint16_t sq = seq[next]++;
                uint32_t ts = (uint32_t)(cycle * 160), ssrc = (uint32_t)next;
                p[0] = 0x80; p[1] = 0; /* V=2, PT 0 (PCMU) */
                p[2] = (uint8_t)(sq >> 8); p[3] = (uint8_t)sq;
                p[4] = (uint8_t)(ts >> 24); p[5] = (uint8_t)(ts >> 16); p[6] = (uint8_t)(ts >> 8); p[7] = (uint8_t)ts;
                p[8] = (uint8_t)(ssrc >> 24); p[9] = (uint8_t)(ssrc >> 16); p[10] = (uint8_t)(ssrc >> 8); p[11] = (uint8_t)ssrc;
                uint64_t stamp = now_ns();
                memcpy(p + 12, &stamp, 8);
                uint32_t c32 = (uint32_t)call;
                memcpy(p + 20, &c32, 4);
                p[24] = (uint8_t)side;
                memcpy(p + 25, &due, 8); /* the window is decided by schedule time, both ends */
                b->to[b->n] = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr = relay_addr,
                                                   .sin_port = htons(ports[call][side])};
                b->n++;
                sent_total++;
                if (due >= t_start) {
                    sent_window++;
                    uint64_t lag = stamp > due ? (stamp - due) / 1000 : 0;
                    lag_hist[lag > HIST_US ? HIST_US : lag]++;
                    lag_total++;
                }
                if (b->n == BATCH) flush_batch(side, s, &send_errors);
                if (++next == endpoints) { next = 0; cycle++; }
            }
            for (int side = 0; side < 2; side++)
                for (int s = 0; s < nsock; s++)
                    if (batches[side][s].n) flush_batch(side, s, &send_errors);
        }

        /* Wait for packets until the next tick's first send time. */
        uint64_t due = t0 + cycle * PTIME_NS + (uint64_t)next * PTIME_NS / (uint64_t)endpoints;
        now = now_ns();
        int timeout = 0;
        if (!sending) timeout = 10;
        else if (due > now + TICK_NS) timeout = (int)((due - now - TICK_NS) / 1000000ULL) + 1;
        struct epoll_event evs[2 * MAX_SOCKETS];
        int n = epoll_wait(ep, evs, 2 * MAX_SOCKETS, timeout);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int e = 0; e < n; e++) {
            int side = (int)(evs[e].data.u32 / MAX_SOCKETS), s = (int)(evs[e].data.u32 % MAX_SOCKETS);
            for (;;) {
                int r = recvmmsg(socks[side][s], rmsgs, BATCH, MSG_DONTWAIT, NULL);
                if (r <= 0) break;
                uint64_t rnow = now_ns();
                for (int k = 0; k < r; k++) {
                    if (rmsgs[k].msg_len < 33) { misrouted++; continue; }
                    uint64_t stamp, sdue;
                    uint32_t call;
                    memcpy(&stamp, rbuf[k] + 12, 8);
                    memcpy(&call, rbuf[k] + 20, 4);
                    memcpy(&sdue, rbuf[k] + 25, 8);
                    int from = rbuf[k][24];
                    recv_total++;
                    /* Sent by side `from` of `call`: must arrive on the other side's socket. */
                    if (call >= (uint32_t)calls || from == side || (int)(call % (uint32_t)nsock) != s) {
                        misrouted++;
                        continue;
                    }
                    if (sdue >= t_start && sdue < t_end) {
                        recv_window++;
                        uint64_t us = (rnow - stamp) / 1000;
                        if (us > lat_max) lat_max = us;
                        if (us >= HIST_US) overflow++;
                        hist[us > HIST_US ? HIST_US : us]++;
                    }
                }
                if (r < BATCH) break;
            }
        }
    }
    if (relay_pid > 0) kill(relay_pid, SIGUSR2);

    double loss = sent_window ? 100.0 * (double)(sent_window - (recv_window < sent_window ? recv_window : sent_window)) / (double)sent_window : 0;
    printf("loadgen: calls=%d endpoints=%d sockets/side=%d ptime=20ms payload=160B warmup=%.1fs window=%.1fs\n",
           calls, endpoints, nsock, warmup, duration);
    printf("loadgen: offered %.0f pps each way through the relay (%.0f pps total)\n",
           (double)calls * 50.0, (double)calls * 100.0);
    printf("loadgen: sent_total=%llu recv_total=%llu sent_window=%llu recv_window=%llu send_errors=%llu misrouted=%llu\n",
           (unsigned long long)sent_total, (unsigned long long)recv_total, (unsigned long long)sent_window,
           (unsigned long long)recv_window, (unsigned long long)send_errors, (unsigned long long)misrouted);
    printf("loadgen: send lag behind schedule p50=%lluus p99=%lluus (the generator must keep up)\n",
           (unsigned long long)percentile(lag_hist, lag_total, 0.50),
           (unsigned long long)percentile(lag_hist, lag_total, 0.99));
    printf("RESULT loadgen calls=%d loss_pct=%.4f p50_us=%llu p90_us=%llu p99_us=%llu p999_us=%llu max_us=%llu over200ms=%llu\n",
           calls, loss,
           (unsigned long long)percentile(hist, recv_window, 0.50),
           (unsigned long long)percentile(hist, recv_window, 0.90),
           (unsigned long long)percentile(hist, recv_window, 0.99),
           (unsigned long long)percentile(hist, recv_window, 0.999),
           (unsigned long long)lat_max, (unsigned long long)overflow);
    return 0;
}

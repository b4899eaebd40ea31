/* ivr-sink: the callers' ears for the IVR playback benchmark (bench/run-ivr-bench.sh).
 *
 * Binds N UDP sockets on --host at even ports --base, --base+2, ... (one per caller: the port
 * its SDP offered), and receives what pbxd plays to each. Every packet's arrival time is the
 * kernel's receive timestamp (SO_TIMESTAMPNS), so this process being scheduled late does not
 * make packets look late.
 *
 * Lateness is measured against the 20 ms schedule the RTP timestamps promise: within one
 * stretch of a stream (a new stretch starts at a marker bit or where the RTP timestamp does not
 * follow on from the sequence number, e.g. the next prompt), each packet's offset is
 * arrival - rtp_ts / 8000 s; the stretch's smallest offset is "on time", and a packet is late by
 * (its offset - that minimum). Lost packets are counted from sequence gaps.
 *
 * Timeline: --warmup seconds ignored (calls set up, caches warm), then --duration seconds
 * recorded, then the figures:
 *   callers=N packets=P expected=E lost=L late>5ms=..% late>10ms=..% late>20ms=..% max_late=..ms
 *
 * Build: cc -O2 -o ivr-sink bench/ivr-sink.c
 * Usage: ivr-sink --base P --callers N [--host 127.0.0.1] [--warmup 3] [--duration 20]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    uint64_t arrival_ns;
    uint32_t ts;
    uint16_t seq;
    uint8_t marker;
} Sample;

typedef struct {
    int fd;
    Sample *samples;
    size_t count, capacity;
} Stream;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void record(Stream *s, Sample sample) {
    if (s->count == s->capacity) {
        s->capacity = s->capacity ? s->capacity * 2 : 1024;
        s->samples = realloc(s->samples, s->capacity * sizeof(Sample));
        if (!s->samples) { perror("realloc"); exit(1); }
    }
    s->samples[s->count++] = sample;
}

/* Drains one socket: every datagram with its kernel timestamp. */
static void drain(Stream *s, int recording) {
    unsigned char buf[2048];
    char control[256];
    for (;;) {
        struct iovec iov = {buf, sizeof buf};
        struct msghdr msg = {0};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
        if (n < 0) return;
        if (!recording || n < 12 || (buf[0] >> 6) != 2) continue;
        uint64_t arrival = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec t;
                memcpy(&t, CMSG_DATA(c), sizeof t);
                arrival = (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
            }
        }
        if (!arrival) arrival = now_ns();
        Sample sample = {arrival, ((uint32_t)buf[4] << 24) | ((uint32_t)buf[5] << 16) | ((uint32_t)buf[6] << 8) | buf[7],
                         (uint16_t)((buf[2] << 8) | buf[3]), (uint8_t)(buf[1] >> 7)};
        record(s, sample);
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int base = 0, callers = 0;
    double warmup = 3, duration = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--base")) base = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--callers")) callers = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--host")) host = argv[i + 1];
        else if (!strcmp(argv[i], "--warmup")) warmup = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--duration")) duration = atof(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (base <= 0 || callers <= 0) {
        fprintf(stderr, "usage: ivr-sink --base P --callers N [--host H] [--warmup S] [--duration S]\n");
        return 2;
    }
    Stream *streams = calloc((size_t)callers, sizeof(Stream));
    int ep = epoll_create1(0);
    for (int i = 0; i < callers; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        int on = 1, rcvbuf = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(base + 2 * i))};
        inet_pton(AF_INET, host, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
            fprintf(stderr, "bind %s:%d: %s\n", host, base + 2 * i, strerror(errno));
            return 1;
        }
        streams[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    printf("ready\n");
    fflush(stdout);

    uint64_t start = now_ns() + (uint64_t)(warmup * 1e9), end = start + (uint64_t)(duration * 1e9);
    struct epoll_event events[256];
    for (;;) {
        uint64_t now = now_ns();
        if (now >= end) break;
        int n = epoll_wait(ep, events, 256, 50);
        int recording = now_ns() >= start;
        for (int k = 0; k < n; k++) drain(&streams[events[k].data.u32], recording);
    }

    /* Figures. */
    uint64_t packets = 0, expected = 0, lost = 0, late5 = 0, late10 = 0, late20 = 0, max_late = 0;
    int silent = 0;
    for (int i = 0; i < callers; i++) {
        Stream *s = &streams[i];
        if (s->count == 0) { silent++; continue; }
        size_t first = 0;
        while (first < s->count) {
            /* One stretch: [first, last). */
            size_t last = first + 1;
            while (last < s->count) {
                Sample p = s->samples[last - 1], q = s->samples[last];
                uint16_t dseq = (uint16_t)(q.seq - p.seq);
                if (q.marker || dseq == 0 || dseq > 100 || q.ts - p.ts != 160u * dseq) break;
                last++;
            }
            int64_t min_offset = INT64_MAX;
            for (size_t k = first; k < last; k++) {
                int64_t offset = (int64_t)s->samples[k].arrival_ns - (int64_t)(s->samples[k].ts - s->samples[first].ts) * 125000;
                if (offset < min_offset) min_offset = offset;
            }
            for (size_t k = first; k < last; k++) {
                int64_t offset = (int64_t)s->samples[k].arrival_ns - (int64_t)(s->samples[k].ts - s->samples[first].ts) * 125000;
                uint64_t late = (uint64_t)(offset - min_offset);
                if (late > 5000000) late5++;
                if (late > 10000000) late10++;
                if (late > 20000000) late20++;
                if (late > max_late) max_late = late;
            }
            uint64_t span = (uint16_t)(s->samples[last - 1].seq - s->samples[first].seq) + 1;
            expected += span;
            lost += span - (last - first);
            packets += last - first;
            first = last;
        }
    }
    double pct = packets ? 100.0 / (double)packets : 0;
    printf("callers=%d packets=%llu expected=%llu lost=%llu silent_callers=%d late>5ms=%.3f%% late>10ms=%.3f%% "
           "late>20ms=%.3f%% max_late=%.1fms rate=%.1f/s\n",
           callers, (unsigned long long)packets, (unsigned long long)expected, (unsigned long long)lost, silent,
           late5 * pct, late10 * pct, late20 * pct, max_late / 1e6, packets / duration);
    return 0;
}

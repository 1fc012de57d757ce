/*
 * udp-proxy: the udp backend's data path in C (what flannel's backend/udp/proxy.c does), driven by
 * the overlab agent. The agent only manages the routing table; every packet stays in this process.
 *
 *   udp-proxy --tun-fd <n> --bind <ip>:<port> [--bufsize <bytes>]
 *
 * Descriptors:
 *   <n>   an attached TUN (IFF_TUN | IFF_NO_PI), inherited from the agent (normally 3)
 *   0     control channel (pipe from the agent): one command per line
 *   1     replies: exactly one line per command, in order
 *   2     diagnostics
 * The proxy binds the UDP socket itself (retrying EADDRINUSE for up to 10 s while a previous
 * proxy goes away), then prints "ready <pid>". It exits 0 when the control channel closes (the
 * agent is gone), and also gets SIGTERM when its parent dies (PR_SET_PDEATHSIG).
 *
 * Commands:
 *   net <network cidr> own <own subnet cidr>   set the flannel network and this host's subnet
 *   add <subnet cidr> <ip> <port>              forward <subnet> to ip:port (replaces)
 *   del <subnet cidr>
 *   clear                                       forget every subnet
 *   stats                                       "stats tunToUdp N udpToTun N ..." (see below)
 *   ping                                        "ok"
 * Other replies: "ok", or "err <why>".
 *
 * Per packet, exactly as src/agent/backend/udp-forward.ts (the spec, with unit tests):
 *   TUN -> UDP: not IPv4 -> malformedDrops; destination outside the network or inside the own
 *     subnet -> otherDrops; in a known subnet -> tunToUdp, sent to its endpoint; in no known subnet
 *     -> unknownSubnetDrops, and unless it is an ICMP error itself an ICMP destination net
 *     unreachable (3/0) from <own subnet>.0 is written back into the TUN (netUnreachableSent).
 *   UDP -> TUN: not IPv4 -> malformedDrops; destination outside the network -> otherDrops;
 *     TTL <= 1 -> ttlDrops (+ ICMP time exceeded unless it is an ICMP error); else TTL-1, header
 *     checksum recomputed, written into the TUN (udpToTun).
 * Batching: TUN reads are collected (up to BATCH) and sent with one sendmmsg(2); datagrams are
 * received with recvmmsg(2). All buffers are static: no allocation per packet.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define PKT_MAX 65536
#define MAX_ROUTES 4096
#define CTL_MAX 4096

struct route {
  uint32_t net; /* host order */
  uint32_t mask;
  int len;
  struct sockaddr_in to;
};

static struct route routes[MAX_ROUTES];
static int nroutes;

static int have_net;
static uint32_t net_addr, net_mask, own_addr, own_mask, self_addr; /* host order */

static struct {
  unsigned long long tunToUdp, udpToTun, tunToUdpBytes, udpToTunBytes, unknownSubnetDrops, netUnreachableSent, ttlDrops,
      malformedDrops, otherDrops, sendErrors, tunWriteErrors;
} c;

static int tun_fd = -1, udp_fd = -1;

/* TUN -> UDP batch */
static unsigned char tbuf[BATCH][PKT_MAX];
static struct iovec tiov[BATCH];
static struct mmsghdr tmsg[BATCH];
/* UDP -> TUN batch */
static unsigned char ubuf[BATCH][PKT_MAX];
static struct iovec uiov[BATCH];
static struct mmsghdr umsg[BATCH];
/* ICMP replies */
static unsigned char icmp[20 + 8 + 60 + 8];

static uint32_t mask_of(int len) { return len == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - len)); }

static uint32_t rd32(const unsigned char *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

static void wr32(unsigned char *p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static uint16_t csum(const unsigned char *b, size_t len) {
  uint32_t sum = 0;
  size_t i = 0;
  for (; i + 1 < len; i += 2) sum += ((uint32_t)b[i] << 8) | b[i + 1];
  if (i < len) sum += (uint32_t)b[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)(~sum & 0xffff);
}

static void fix_ip_csum(unsigned char *p) {
  size_t ihl = (size_t)(p[0] & 0x0f) * 4;
  p[10] = p[11] = 0;
  uint16_t s = csum(p, ihl);
  p[10] = s >> 8;
  p[11] = s & 0xff;
}

static int is_ipv4(const unsigned char *p, size_t len) {
  if (len < 20 || (p[0] >> 4) != 4) return 0;
  size_t ihl = (size_t)(p[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > len) return 0;
  size_t total = ((size_t)p[2] << 8) | p[3];
  return total >= ihl && total <= len;
}

static int is_icmp_error(const unsigned char *p, size_t len) {
  if (p[9] != 1) return 0;
  size_t ihl = (size_t)(p[0] & 0x0f) * 4;
  if (ihl >= len) return 0; /* the TS spec reads undefined there: not an error */
  unsigned t = p[ihl];
  return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
}

/* RFC 792 error about `orig` from self_addr to orig's source; written into the TUN. */
static int send_icmp_error(const unsigned char *orig, size_t olen, int type, int code) {
  size_t ihl = (size_t)(orig[0] & 0x0f) * 4;
  size_t total = ((size_t)orig[2] << 8) | orig[3];
  size_t q = ihl + 8;
  if (total < q) q = total;
  if (olen < q) q = olen;
  size_t len = 20 + 8 + q;
  memset(icmp, 0, 28);
  icmp[0] = 0x45;
  icmp[2] = len >> 8;
  icmp[3] = len & 0xff;
  icmp[8] = 64;
  icmp[9] = 1;
  wr32(icmp + 12, self_addr);
  memcpy(icmp + 16, orig + 12, 4);
  fix_ip_csum(icmp);
  icmp[20] = type;
  icmp[21] = code;
  memcpy(icmp + 28, orig, q);
  uint16_t s = csum(icmp + 20, len - 20);
  icmp[22] = s >> 8;
  icmp[23] = s & 0xff;
  return write(tun_fd, icmp, len) == (ssize_t)len;
}

static const struct sockaddr_in *lookup(uint32_t dst) {
  for (int i = 0; i < nroutes; i++) /* sorted by prefix length, longest first */
    if ((dst & routes[i].mask) == routes[i].net) return &routes[i].to;
  return NULL;
}

/* ---- TUN -> UDP ---- */

static void flush_tun_batch(int n) {
  int off = 0;
  while (off < n) {
    int r = sendmmsg(udp_fd, tmsg + off, (unsigned)(n - off), 0);
    if (r > 0) {
      off += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    c.sendErrors++; /* skip the datagram that failed */
    off++;
  }
}

static void on_tun(void) {
  int n = 0;
  for (int reads = 0; reads < BATCH * 2; reads++) {
    ssize_t len = read(tun_fd, tbuf[n], PKT_MAX);
    if (len < 0) {
      if (errno == EINTR) continue;
      break; /* EAGAIN (or a transient error): send what we have */
    }
    const unsigned char *p = tbuf[n];
    if (!have_net) continue;
    if (!is_ipv4(p, (size_t)len)) {
      c.malformedDrops++;
      continue;
    }
    uint32_t dst = rd32(p + 16);
    if ((dst & net_mask) != net_addr || (dst & own_mask) == own_addr) {
      c.otherDrops++;
      continue;
    }
    const struct sockaddr_in *to = lookup(dst);
    if (!to) {
      c.unknownSubnetDrops++;
      if (!is_icmp_error(p, (size_t)len) && send_icmp_error(p, (size_t)len, 3, 0)) c.netUnreachableSent++;
      continue;
    }
    c.tunToUdp++;
    c.tunToUdpBytes += (unsigned long long)len;
    tiov[n].iov_len = (size_t)len;
    tmsg[n].msg_hdr.msg_name = (void *)to;
    tmsg[n].msg_hdr.msg_namelen = sizeof(*to);
    if (++n == BATCH) {
      flush_tun_batch(n);
      n = 0;
    }
  }
  if (n) flush_tun_batch(n);
}

/* ---- UDP -> TUN ---- */

static void on_udp(void) {
  for (int rounds = 0; rounds < 2; rounds++) {
    for (int i = 0; i < BATCH; i++) uiov[i].iov_len = PKT_MAX;
    int n = recvmmsg(udp_fd, umsg, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    for (int i = 0; i < n; i++) {
      unsigned char *p = ubuf[i];
      size_t len = umsg[i].msg_len;
      if (!have_net) continue;
      if (!is_ipv4(p, len)) {
        c.malformedDrops++;
        continue;
      }
      if ((rd32(p + 16) & net_mask) != net_addr) {
        c.otherDrops++;
        continue;
      }
      if (p[8] <= 1) {
        c.ttlDrops++;
        if (!is_icmp_error(p, len)) send_icmp_error(p, len, 11, 0);
        continue;
      }
      p[8]--;
      fix_ip_csum(p);
      ssize_t w;
      do w = write(tun_fd, p, len);
      while (w < 0 && errno == EINTR);
      if (w == (ssize_t)len) {
        c.udpToTun++;
        c.udpToTunBytes += len;
      } else
        c.tunWriteErrors++;
    }
    if (n < BATCH) return;
  }
}

/* ---- control ---- */

static int parse_cidr(const char *s, uint32_t *net, int *len) {
  char ip[32];
  const char *slash = strchr(s, '/');
  if (!slash || slash - s >= (long)sizeof(ip)) return -1;
  memcpy(ip, s, (size_t)(slash - s));
  ip[slash - s] = 0;
  struct in_addr a;
  if (inet_pton(AF_INET, ip, &a) != 1) return -1;
  char *end;
  long l = strtol(slash + 1, &end, 10);
  if (end == slash + 1 || *end || l < 0 || l > 32) return -1;
  *len = (int)l;
  *net = ntohl(a.s_addr) & mask_of((int)l);
  return 0;
}

static int find_route(uint32_t net, int len) {
  for (int i = 0; i < nroutes; i++)
    if (routes[i].net == net && routes[i].len == len) return i;
  return -1;
}

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof(line) - 2) n = (int)sizeof(line) - 2;
  line[n++] = '\n';
  for (int off = 0; off < n;) {
    ssize_t w = write(1, line + off, (size_t)(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    off += (int)w;
  }
}

static void command(char *line) {
  char *argv[8];
  int argc = 0;
  for (char *tok = strtok(line, " \t\r"); tok && argc < 8; tok = strtok(NULL, " \t\r")) argv[argc++] = tok;
  if (argc == 0) return reply("err empty command");
  if (!strcmp(argv[0], "ping")) return reply("ok");
  if (!strcmp(argv[0], "stats")) {
    return reply("stats tunToUdp %llu udpToTun %llu tunToUdpBytes %llu udpToTunBytes %llu unknownSubnetDrops %llu netUnreachableSent %llu "
                 "ttlDrops %llu malformedDrops %llu otherDrops %llu sendErrors %llu tunWriteErrors %llu peers %d",
                 c.tunToUdp, c.udpToTun, c.tunToUdpBytes, c.udpToTunBytes, c.unknownSubnetDrops, c.netUnreachableSent, c.ttlDrops,
                 c.malformedDrops, c.otherDrops, c.sendErrors, c.tunWriteErrors, nroutes);
  }
  if (!strcmp(argv[0], "net")) {
    uint32_t n, o;
    int nl, ol;
    if (argc != 4 || strcmp(argv[2], "own") || parse_cidr(argv[1], &n, &nl) || parse_cidr(argv[3], &o, &ol)) return reply("err usage: net <cidr> own <cidr>");
    net_addr = n;
    net_mask = mask_of(nl);
    own_addr = o;
    own_mask = mask_of(ol);
    self_addr = o;
    have_net = 1;
    return reply("ok");
  }
  if (!strcmp(argv[0], "add")) {
    uint32_t n;
    int l;
    struct in_addr a;
    char *end;
    long port = argc == 4 ? strtol(argv[3], &end, 10) : -1;
    if (argc != 4 || parse_cidr(argv[1], &n, &l) || inet_pton(AF_INET, argv[2], &a) != 1 || *end || port < 1 || port > 65535)
      return reply("err usage: add <cidr> <ip> <port>");
    int i = find_route(n, l);
    if (i < 0) {
      if (nroutes == MAX_ROUTES) return reply("err route table full");
      /* insert keeping longest prefixes first */
      i = nroutes;
      while (i > 0 && routes[i - 1].len < l) {
        routes[i] = routes[i - 1];
        i--;
      }
      nroutes++;
    }
    routes[i].net = n;
    routes[i].len = l;
    routes[i].mask = mask_of(l);
    memset(&routes[i].to, 0, sizeof(routes[i].to));
    routes[i].to.sin_family = AF_INET;
    routes[i].to.sin_addr = a;
    routes[i].to.sin_port = htons((uint16_t)port);
    return reply("ok");
  }
  if (!strcmp(argv[0], "del")) {
    uint32_t n;
    int l;
    if (argc != 2 || parse_cidr(argv[1], &n, &l)) return reply("err usage: del <cidr>");
    int i = find_route(n, l);
    if (i < 0) return reply("ok");
    memmove(&routes[i], &routes[i + 1], (size_t)(nroutes - i - 1) * sizeof(routes[0]));
    nroutes--;
    return reply("ok");
  }
  if (!strcmp(argv[0], "clear")) {
    nroutes = 0;
    return reply("ok");
  }
  reply("err unknown command %s", argv[0]);
}

static char ctl[CTL_MAX];
static size_t ctl_len;

/* returns 0 when the control channel closed */
static int on_ctl(void) {
  ssize_t r = read(0, ctl + ctl_len, sizeof(ctl) - 1 - ctl_len);
  if (r == 0) return 0;
  if (r < 0) return errno == EINTR || errno == EAGAIN ? 1 : 0;
  ctl_len += (size_t)r;
  for (;;) {
    char *nl = memchr(ctl, '\n', ctl_len);
    if (!nl) break;
    *nl = 0;
    command(ctl);
    size_t used = (size_t)(nl - ctl) + 1;
    memmove(ctl, ctl + used, ctl_len - used);
    ctl_len -= used;
  }
  if (ctl_len == sizeof(ctl) - 1) {
    ctl_len = 0;
    reply("err line too long");
  }
  return 1;
}

static int bind_udp(const char *spec, int bufsize) {
  char ip[64];
  const char *colon = strrchr(spec, ':');
  if (!colon || colon - spec >= (long)sizeof(ip)) return -1;
  memcpy(ip, spec, (size_t)(colon - spec));
  ip[colon - spec] = 0;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1 || *end || port < 1 || port > 65535) {
    fprintf(stderr, "udp-proxy: bad --bind %s\n", spec);
    return -1;
  }
  sa.sin_port = htons((uint16_t)port);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fprintf(stderr, "udp-proxy: socket: %s\n", strerror(errno));
    return -1;
  }
  if (bufsize > 0) {
    /* FORCE needs CAP_NET_ADMIN (the agent has it); else the rmem_max/wmem_max limits apply */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize)) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof(bufsize)) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
  }
  for (int attempt = 0;; attempt++) {
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) return fd;
    if (errno != EADDRINUSE || attempt >= 100) {
      fprintf(stderr, "udp-proxy: bind %s: %s\n", spec, strerror(errno));
      close(fd);
      return -1;
    }
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

static void usage(void) { fprintf(stderr, "usage: udp-proxy --tun-fd <n> --bind <ip>:<port> [--bufsize <bytes>]\n"); }

int main(int argc, char **argv) {
  const char *bindspec = NULL;
  int bufsize = 4 * 1024 * 1024;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--tun-fd") && i + 1 < argc) {
      char *end;
      long n = strtol(argv[++i], &end, 10);
      if (*end || n < 0 || n > 65535) return usage(), 2;
      tun_fd = (int)n;
    } else if (!strcmp(argv[i], "--bind") && i + 1 < argc)
      bindspec = argv[++i];
    else if (!strcmp(argv[i], "--bufsize") && i + 1 < argc)
      bufsize = atoi(argv[++i]);
    else
      return usage(), 2;
  }
  if (tun_fd < 0 || !bindspec) return usage(), 2;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) return 0; /* the agent already died */
  signal(SIGPIPE, SIG_IGN);

  int fl = fcntl(tun_fd, F_GETFL);
  if (fl < 0 || fcntl(tun_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    fprintf(stderr, "udp-proxy: TUN fd %d: %s\n", tun_fd, strerror(errno));
    return 3;
  }
  fcntl(tun_fd, F_SETFD, FD_CLOEXEC);
  udp_fd = bind_udp(bindspec, bufsize);
  if (udp_fd < 0) return 3;

  for (int i = 0; i < BATCH; i++) {
    tiov[i].iov_base = tbuf[i];
    tmsg[i].msg_hdr.msg_iov = &tiov[i];
    tmsg[i].msg_hdr.msg_iovlen = 1;
    uiov[i].iov_base = ubuf[i];
    umsg[i].msg_hdr.msg_iov = &uiov[i];
    umsg[i].msg_hdr.msg_iovlen = 1;
  }

  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.fd = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
  ev.data.fd = tun_fd;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, tun_fd, &ev) < 0) {
    fprintf(stderr, "udp-proxy: epoll TUN: %s\n", strerror(errno));
    return 3;
  }
  ev.data.fd = udp_fd;
  epoll_ctl(ep, EPOLL_CTL_ADD, udp_fd, &ev);
  reply("ready %d", (int)getpid());

  struct epoll_event evs[4];
  for (;;) {
    int n = epoll_wait(ep, evs, 4, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "udp-proxy: epoll_wait: %s\n", strerror(errno));
      return 1;
    }
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == tun_fd) {
        if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
          fprintf(stderr, "udp-proxy: TUN closed\n");
          return 1;
        }
        on_tun();
      } else if (fd == udp_fd)
        on_udp();
      else if (!on_ctl())
        return 0;
    }
  }
}

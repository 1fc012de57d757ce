/*
 * tun-open: attach a Linux TUN device (IFF_TUN | IFF_NO_PI) for a process that cannot issue
 * the TUNSETIFF ioctl itself (Node.js has no ioctl).
 *
 *   tun-open <ifname> -- <command> [args...]
 *       Opens /dev/net/tun, attaches it to <ifname> (created if absent), places the descriptor
 *       on fd 3 and execs <command>. The command then reads/writes bare IPv4 packets on fd 3.
 *
 *   tun-open <ifname> --attach-fd <n>
 *       Issues TUNSETIFF on the already-open /dev/net/tun descriptor <n> inherited from the
 *       parent and exits 0. The parent (which opened /dev/net/tun itself and passed it down)
 *       shares the open file description, so its descriptor is now the attached TUN. This is
 *       how the overlab agent gets its TUN without being re-exec'd.
 *
 * Exit codes: 0 ok (attach mode), 2 usage, 3 open/ioctl failure, 127 exec failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void usage(void) {
  fprintf(stderr,
          "usage: tun-open <ifname> -- <command> [args...]\n"
          "       tun-open <ifname> --attach-fd <n>\n");
}

static int attach(int fd, const char *ifname) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, (void *)&ifr) < 0) {
    fprintf(stderr, "tun-open: TUNSETIFF %s: %s\n", ifname, strerror(errno));
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    usage();
    return 2;
  }
  const char *ifname = argv[1];
  if (strlen(ifname) == 0 || strlen(ifname) >= IFNAMSIZ) {
    fprintf(stderr, "tun-open: bad interface name '%s'\n", ifname);
    return 2;
  }

  if (strcmp(argv[2], "--attach-fd") == 0) {
    if (argc != 4) {
      usage();
      return 2;
    }
    char *end = NULL;
    long n = strtol(argv[3], &end, 10);
    if (end == argv[3] || *end != '\0' || n < 0 || n > 65535) {
      fprintf(stderr, "tun-open: bad fd '%s'\n", argv[3]);
      return 2;
    }
    return attach((int)n, ifname) == 0 ? 0 : 3;
  }

  if (strcmp(argv[2], "--") != 0 || argc < 4) {
    usage();
    return 2;
  }

  int fd = open("/dev/net/tun", O_RDWR);
  if (fd < 0) {
    fprintf(stderr, "tun-open: open /dev/net/tun: %s\n", strerror(errno));
    return 3;
  }
  if (attach(fd, ifname) < 0) return 3;
  if (fd != 3) {
    if (dup2(fd, 3) < 0) {
      fprintf(stderr, "tun-open: dup2: %s\n", strerror(errno));
      return 3;
    }
    close(fd);
  }
  /* fd 3 must survive exec. */
  int flags = fcntl(3, F_GETFD);
  if (flags >= 0) fcntl(3, F_SETFD, flags & ~FD_CLOEXEC);

  execvp(argv[3], &argv[3]);
  fprintf(stderr, "tun-open: exec %s: %s\n", argv[3], strerror(errno));
  return 127;
}

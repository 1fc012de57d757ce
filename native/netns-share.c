/*
 * netns-share: hand the underlay switch's network namespace to the lab's nodes over a unix
 * socket (SCM_RIGHTS), so a node can be created and started while the switch starts, instead of
 * after it (a bind mount of the switch's namespace file needs the switch running when the node
 * is created). The socket lives on a volume only the lab's containers mount.
 *
 *   netns-share serve SOCKET COUNT SECONDS   (in the switch) send this process's network
 *       namespace to the first COUNT clients, or until SECONDS have passed, or until another
 *       hand-over has taken the name SOCKET; then remove SOCKET if it is still its own.
 *   netns-share get SOCKET TARGET SECONDS    (in a node) wait up to SECONDS for SOCKET, receive
 *       the namespace and bind-mount it on TARGET (created if missing), as `ip netns add` does.
 *
 * Exit 0 on success, 1 with a message on stderr otherwise. No shell, no other input.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what) {
  fprintf(stderr, "netns-share: %s: %s\n", what, strerror(errno));
  return 1;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int address(const char *path, struct sockaddr_un *sa) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa->sun_path) {
    fprintf(stderr, "netns-share: socket path too long\n");
    return -1;
  }
  strcpy(sa->sun_path, path);
  return 0;
}

static long positive(const char *text, const char *what) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v <= 0 || v > 100000) {
    fprintf(stderr, "netns-share: %s must be a positive number\n", what);
    exit(2);
  }
  return v;
}

static int serve(const char *path, long count, long seconds) {
  int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (ns < 0) return fail("open /proc/self/ns/net");
  struct sockaddr_un sa;
  if (address(path, &sa) < 0) return 1;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return fail("socket");
  unlink(path);
  /* Bound under a temporary name, then renamed: a client never finds a socket nobody listens on. */
  char tmp[sizeof sa.sun_path];
  if (snprintf(tmp, sizeof tmp, "%s.new", path) >= (int)sizeof tmp) return fail("socket path");
  struct sockaddr_un ta;
  if (address(tmp, &ta) < 0) return 1;
  unlink(tmp);
  if (bind(s, (struct sockaddr *)&ta, sizeof ta) < 0) return fail("bind");
  chmod(tmp, 0666);
  if (listen(s, 128) < 0) return fail("listen");
  if (rename(tmp, path) < 0) return fail("rename");
  struct stat own;
  if (stat(path, &own) < 0) return fail("stat");
  long deadline = now_ms() + seconds * 1000L;
  long served = 0;
  while (served < count) {
    long left = deadline - now_ms();
    if (left <= 0) break;
    struct pollfd p = {.fd = s, .events = POLLIN};
    int r = poll(&p, 1, left > 1000 ? 1000 : (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (r == 0) {
      /* Another hand-over took the socket's name (a switch that restarted serves as it boots, and
       * a repair asks again): nobody can reach this one any more. */
      struct stat now;
      if (stat(path, &now) < 0 || now.st_ino != own.st_ino || now.st_dev != own.st_dev) {
        close(s);
        return 0;
      }
      continue;
    }
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) continue;
    char byte = 'n';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &ns, sizeof(int));
    if (sendmsg(c, &m, MSG_NOSIGNAL) == 1) served++;
    close(c);
  }
  struct stat now;
  if (stat(path, &now) == 0 && now.st_ino == own.st_ino && now.st_dev == own.st_dev) unlink(path);
  close(s);
  return 0;
}

static int get(const char *path, const char *target, long seconds) {
  struct sockaddr_un sa;
  if (address(path, &sa) < 0) return 1;
  long deadline = now_ms() + seconds * 1000L;
  int s;
  for (;;) {
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return fail("socket");
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) break;
    int e = errno;
    close(s);
    if ((e != ENOENT && e != ECONNREFUSED) || now_ms() >= deadline) {
      errno = e;
      return fail(now_ms() >= deadline ? "the switch did not hand over its network namespace in time" : "connect");
    }
    usleep(10000);
  }
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  char control[CMSG_SPACE(sizeof(int))];
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  if (recvmsg(s, &m, MSG_CMSG_CLOEXEC) != 1) return fail("recvmsg");
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
    fprintf(stderr, "netns-share: no namespace received\n");
    return 1;
  }
  int ns;
  memcpy(&ns, CMSG_DATA(cm), sizeof(int));
  close(s);
  char dir[4096];
  if (snprintf(dir, sizeof dir, "%s", target) < (int)sizeof dir) {
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
      *slash = '\0';
      mkdir(dir, 0755);
    }
  }
  int t = open(target, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
  if (t < 0) return fail("create target");
  close(t);
  umount2(target, MNT_DETACH); /* an earlier hand-over's, if any */
  char source[64];
  snprintf(source, sizeof source, "/proc/self/fd/%d", ns);
  if (mount(source, target, NULL, MS_BIND, NULL) < 0) return fail("bind-mount the namespace");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "serve") == 0) return serve(argv[2], positive(argv[3], "COUNT"), positive(argv[4], "SECONDS"));
  if (argc == 5 && strcmp(argv[1], "get") == 0) return get(argv[2], argv[3], positive(argv[4], "SECONDS"));
  fprintf(stderr, "usage: netns-share serve SOCKET COUNT SECONDS | get SOCKET TARGET SECONDS\n");
  return 2;
}

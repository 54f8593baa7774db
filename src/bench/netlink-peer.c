/*
 * The C floor of a cold network pass (issue 14): for each network namespace
 * named on the command line (a path such as /run/netns/NAME or
 * /proc/PID/ns/net), enter it, open one NETLINK_ROUTE socket, dump links,
 * addresses and routes (all tables) on it, and close it. One thread, no
 * decoding beyond counting messages: the least any tool pays for the same
 * kernel work. The oneshot bench builds it with gcc in the run
 * (src/bench/oneshot-netns.ts) and times it against `wirescope discover`.
 * Prints "<namespaces> <messages> <bytes>" so the bench can check it did the work.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 16];

/* One dump: request `type` with NLM_F_DUMP, read until NLMSG_DONE. */
static int dump(int fd, int type, unsigned seq, long *messages, long *bytes) {
  struct {
    struct nlmsghdr h;
    struct rtgenmsg g;
  } req;
  memset(&req, 0, sizeof(req));
  req.h.nlmsg_len = sizeof(req);
  req.h.nlmsg_type = type;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = seq;
  req.g.rtgen_family = AF_UNSPEC;
  if (send(fd, &req, sizeof(req), 0) < 0) return -1;
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) return -1;
    *bytes += n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) return -1;
      (*messages)++;
    }
  }
}

int main(int argc, char **argv) {
  int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) return perror("home netns"), 2;
  long messages = 0, bytes = 0;
  int done = 0;
  for (int i = 1; i < argc; i++) {
    int ns = open(argv[i], O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
      perror(argv[i]);
      if (ns >= 0) close(ns);
      continue;
    }
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (setns(home, CLONE_NEWNET) < 0) return perror("return home"), 2;
    close(ns);
    if (fd < 0) return perror("socket"), 2;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) return perror("bind"), 2;
    if (dump(fd, RTM_GETLINK, 1, &messages, &bytes) == 0 && dump(fd, RTM_GETADDR, 2, &messages, &bytes) == 0 &&
        dump(fd, RTM_GETROUTE, 3, &messages, &bytes) == 0)
      done++;
    close(fd);
  }
  printf("%d %ld %ld\n", done, messages, bytes);
  return 0;
}

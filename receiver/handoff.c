/*
 * Swapping the receiver refuses no connection: the new one asks the old
 * one, over run/receiver.handoff, for its listening socket (SCM_RIGHTS).
 * Both then hold the same socket and its accept queue; the old one stops
 * accepting, finishes what it has, and exits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "receiver.h"

static void
handoff_addr(const struct receiver *rx, struct sockaddr_un *sa)
{
	char path[PATH_MAX + 32];

	/* config_load keeps run/ short enough for sun_path. */
	snprintf(path, sizeof(path), "%s/receiver.handoff", rx->cfg.run_dir);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	str_copy(sa->sun_path, path, sizeof(sa->sun_path));
}

int
rx_handoff_take(struct receiver *rx)
{
	struct sockaddr_un sa;
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr mh;
	struct cmsghdr *cm;
	int s, fd = -1;

	handoff_addr(rx, &sa);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(s);
		return -1;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(s, &mh, MSG_CMSG_CLOEXEC) == 1 &&
	    (cm = CMSG_FIRSTHDR(&mh)) != NULL && cm->cmsg_level == SOL_SOCKET &&
	    cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	close(s);
	return fd;
}

void
rx_handoff_listen(struct receiver *rx)
{
	struct sockaddr_un sa;

	handoff_addr(rx, &sa);
	unlink(sa.sun_path);
	rx->handoff_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (rx->handoff_fd == -1 || bind(rx->handoff_fd,
	    (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(rx->handoff_fd, 4) == -1)
		fatal(EXIT_TEMPORARY, "cannot listen on %s: %s", sa.sun_path,
		    strerror(errno));
}

/* A successor asks for the listening socket: give it, then drain. */
void
rx_handoff_give(struct receiver *rx)
{
	const union MHD_DaemonInfo *info;
	char byte = 'L', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr mh;
	struct cmsghdr *cm;
	int c, lfd;

	if ((c = accept4(rx->handoff_fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	/* Draining after a handoff, we still hold the socket: a successor
	 * that replaces a failed one takes it from us. */
	info = MHD_get_daemon_info(rx->httpd, MHD_DAEMON_INFO_LISTEN_FD);
	lfd = rx->draining ? rx->quiesced_fd : info ? info->listen_fd : -1;
	if (lfd < 0) {
		close(c);
		return;
	}
	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &lfd, sizeof(int));
	if (sendmsg(c, &mh, MSG_NOSIGNAL) == 1) {
		log_info("handed the listening socket to a new receiver");
		if (!rx->draining)
			rx_start_draining(rx);
	}
	close(c);
}


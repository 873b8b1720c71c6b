/*
 * The service managers' protocols, written out: each is a few lines, and
 * libsystemd would bring its own dependencies for them.
 *
 *   sd_notify(3): a datagram "READY=1\nMAINPID=..." to the AF_UNIX
 *   socket NOTIFY_SOCKET names (a path, or "@name" for an abstract one).
 *   s6's notification-fd: the run script passes the fd number (here in
 *   HOOKPIPE_NOTIFY_FD); a newline written to it, then closing it, says
 *   ready.
 *   sd_listen_fds(3): LISTEN_PID is our pid, LISTEN_FDS the number of
 *   sockets passed from fd 3 on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "svc.h"
#include "util.h"

#define LISTEN_FDS_START 3

static int svc_notify_sock = -1;	/* connected to NOTIFY_SOCKET */
static int svc_notify_fd = -1;		/* s6's notification fd */
static int svc_listen = -1;		/* LISTEN_FDS: the first one */
static int svc_listen_n;

static int
notify_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	socklen_t len;
	size_t n = strlen(path);
	int s;

	if ((path[0] != '/' && path[0] != '@') || n < 2 ||
	    n >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "NOTIFY_SOCKET=%s: expected the path of "
		    "a datagram socket, or @name", path);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract: no trailing NUL */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '@' ? 0 : 1));
	/*
	 * Connected now, before the sandbox: the stage may not be allowed
	 * to reach the socket's path later.
	 */
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&sa, len) == -1) {
		snprintf(err, errlen, "NOTIFY_SOCKET=%s: %s (is the service "
		    "manager running?)", path, strerror(errno));
		if (s != -1)
			close(s);
		return -1;
	}
	return s;
}

static int
take_notify_fd(const char *v, char *err, size_t errlen)
{
	int64_t fd;

	if (parse_i64(v, 0, 1023, &fd) == -1 || fd == 2) {
		snprintf(err, errlen, "HOOKPIPE_NOTIFY_FD=%s: expected the "
		    "number of the descriptor to write readiness to (the "
		    "service's notification-fd)", v);
		return -1;
	}
	if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "HOOKPIPE_NOTIFY_FD=%s: descriptor %d "
		    "is not open (the service directory needs a "
		    "notification-fd file holding %d)", v, (int)fd, (int)fd);
		return -1;
	}
	return (int)fd;
}

static int
take_listen_fds(char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int64_t p, n;
	int i;

	if (pid == NULL || fds == NULL)
		return 0;
	/* Meant for a parent that exec'd us without clearing them. */
	if (parse_i64(pid, 1, INT32_MAX, &p) == -1 || p != (int64_t)getpid())
		return 0;
	if (parse_i64(fds, 0, 64, &n) == -1) {
		snprintf(err, errlen, "LISTEN_FDS=%s: expected a number of "
		    "descriptors", fds);
		return -1;
	}
	for (i = 0; i < (int)n; i++)
		if (fcntl(LISTEN_FDS_START + i, F_SETFD, FD_CLOEXEC) == -1) {
			snprintf(err, errlen, "LISTEN_FDS=%s: descriptor %d is "
			    "not open", fds, LISTEN_FDS_START + i);
			return -1;
		}
	if (n > 0)
		svc_listen = LISTEN_FDS_START;
	svc_listen_n = (int)n;
	return 0;
}

int
svc_init(char *err, size_t errlen)
{
	char why[512];
	const char *v;
	int rc = 0;

	/* As sd_notify(3): a manager we cannot reach is not our error. */
	if ((v = getenv("NOTIFY_SOCKET")) != NULL && *v != '\0' &&
	    (svc_notify_sock = notify_connect(v, why, sizeof(why))) == -1)
		log_warn("%s", why);
	if ((v = getenv("HOOKPIPE_NOTIFY_FD")) != NULL && *v != '\0' &&
	    (svc_notify_fd = take_notify_fd(v, err, errlen)) == -1)
		rc = -1;
	if (rc == 0)
		rc = take_listen_fds(err, errlen);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("HOOKPIPE_NOTIFY_FD");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return rc;
}

static void
notify_send(const char *state)
{
	char msg[128];
	int n;

	if (svc_notify_sock == -1)
		return;
	n = snprintf(msg, sizeof(msg), "%s\nMAINPID=%ld\n", state,
	    (long)getpid());
	if (send(svc_notify_sock, msg, (size_t)n, MSG_NOSIGNAL) == -1)
		log_warn("cannot notify the service manager: %s",
		    strerror(errno));
}

void
svc_ready(void)
{
	notify_send("READY=1");
	if (svc_notify_fd != -1) {
		if (write(svc_notify_fd, "\n", 1) != 1)
			log_warn("cannot write readiness to descriptor %d: %s",
			    svc_notify_fd, strerror(errno));
		close(svc_notify_fd);
		svc_notify_fd = -1;
	}
}

void
svc_stopping(void)
{
	notify_send("STOPPING=1");
}

int
svc_listen_fd(int *fd, char *err, size_t errlen)
{
	int type = 0, acc = 0;
	socklen_t l1 = sizeof(type), l2 = sizeof(acc);

	*fd = -1;
	if (svc_listen == -1)
		return 0;
	if (getsockopt(svc_listen, SOL_SOCKET, SO_TYPE, &type, &l1) == -1 ||
	    getsockopt(svc_listen, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l2) ==
	    -1 || type != SOCK_STREAM || !acc) {
		snprintf(err, errlen, "LISTEN_FDS: descriptor %d is not a "
		    "listening stream socket (the socket unit needs "
		    "ListenStream=HOST:PORT)", svc_listen);
		return -1;
	}
	if (svc_listen_n > 1)
		log_warn("LISTEN_FDS=%d: using descriptor %d, ignoring the "
		    "others", svc_listen_n, svc_listen);
	*fd = svc_listen;
	return 0;
}

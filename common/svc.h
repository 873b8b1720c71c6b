/*
 * What a service manager hands a stage, and what the stage tells it back:
 * readiness (systemd's NOTIFY_SOCKET, or a notification file descriptor
 * as s6 gives one), and a listening socket made by the manager (systemd's
 * LISTEN_FDS and LISTEN_PID). hookpipectl uses none of these: it watches
 * the pid file (stage.h).
 */
#ifndef HP_SVC_H
#define HP_SVC_H

#include <stddef.h>

/*
 * Takes what the environment names (NOTIFY_SOCKET, HOOKPIPE_NOTIFY_FD,
 * LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES) and removes it from the
 * environment, so that no child (a jq worker, an action) answers for the
 * stage. Returns 0, or -1 with a message: a notification fd that is not
 * open is a configuration error.
 */
int	svc_init(char *err, size_t errlen);
/* READY=1 and MAINPID to the service manager, a line to the fd. */
void	svc_ready(void);
/* STOPPING=1: the stage drains and exits. */
void	svc_stopping(void);
/*
 * The listening socket the manager passed (the first of LISTEN_FDS, meant
 * for this process), or -1 when there is none. Fails (-1, with a message)
 * when what was passed is not a listening stream socket.
 */
int	svc_listen_fd(int *fd, char *err, size_t errlen);

#endif

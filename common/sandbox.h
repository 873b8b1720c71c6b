/*
 * Least privilege: once a stage has opened what it needs, Landlock (where
 * the kernel has it) limits what it can reach. HOOKPIPE_SANDBOX=0 or
 * --no-sandbox turns it off. The dispatcher, which runs users' commands,
 * is not confined (its children would be too); every stage sets
 * no_new_privs.
 *
 * Every confined stage may use $HOOKPIPE_HOME/db and run/ and read the
 * integration definitions; what else is in its policy. With the newer
 * ABIs the kernel offers: no TCP unless the policy names it, no truncate
 * outside the state directory, no ioctl on devices, no signals to and no
 * abstract sockets with processes outside the stage's own domain.
 */
#ifndef HP_SANDBOX_H
#define HP_SANDBOX_H

#include "config.h"

struct sandbox_policy {
	int		 read_keys;	/* the master key files (home's files) */
	int		 tcp_bind_port;	/* the one TCP port it may bind, or 0 */
	int		 tcp_connect;	/* outbound TCP (the OAuth exchange) */
	const char	*exec;		/* a program it may start, or NULL */
	int		 nats;		/* cluster mode: the NATS client's
					   files (HOOKPIPE_NATS_CREDS, _CA,
					   _CERT, _KEY), read again at each
					   reconnection */
};

/* 1 confined, 0 not available or turned off. */
int	sandbox_confine(const struct config *, const struct sandbox_policy *);
/* Nothing at all: no file, no TCP, no signal out (the jq worker). */
int	sandbox_deny_all(void);
/* The Landlock ABI the kernel offers, 0 without Landlock. */
int	sandbox_abi(void);

#endif

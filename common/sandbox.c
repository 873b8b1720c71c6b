#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <openssl/rand.h>

#include "log.h"
#include "sandbox.h"

/*
 * Debian's kernel headers stop at ABI 2; the kernel may offer more. The
 * values are the kernel's ABI, which never changes once released.
 */
#define FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#define FS_IOCTL_DEV	(1ULL << 15)	/* ABI 5 */
#define NET_BIND_TCP	(1ULL << 0)	/* ABI 4 */
#define NET_CONNECT_TCP	(1ULL << 1)
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)	/* ABI 6 */
#define SCOPE_SIGNAL	(1ULL << 1)
#define RULE_NET_PORT	2

struct ruleset_attr {			/* struct landlock_ruleset_attr */
	uint64_t	 handled_access_fs;
	uint64_t	 handled_access_net;
	uint64_t	 scoped;
};

struct net_port_attr {			/* struct landlock_net_port_attr */
	uint64_t	 allowed_access;
	uint64_t	 port;
} __attribute__((packed));

#define FS_READ	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_BASE	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
	LANDLOCK_ACCESS_FS_MAKE_SYM)

/* What an ABI can handle. */
static uint64_t
fs_handled(int abi)
{
	return FS_BASE | (abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0) |
	    (abi >= 3 ? FS_TRUNCATE : 0) | (abi >= 5 ? FS_IOCTL_DEV : 0);
}

int
sandbox_abi(void)
{
	int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : abi;
}

static int
allow_path(int ruleset, const char *path, uint64_t access)
{
	struct landlock_path_beneath_attr pb;
	int rc;

	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access;
	if ((pb.parent_fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;	/* nothing to reach */
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(pb.parent_fd);
	return rc;
}

/* A rule for a regular file takes only the rights a file has. */
#define FILE_RIGHTS(abi) (LANDLOCK_ACCESS_FS_EXECUTE | \
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
	((abi) >= 3 ? FS_TRUNCATE : 0) | ((abi) >= 5 ? FS_IOCTL_DEV : 0))

static int
ruleset_new(int abi, uint64_t net)
{
	struct ruleset_attr attr;
	size_t size = abi >= 6 ? sizeof(attr) : abi >= 4 ?
	    offsetof(struct ruleset_attr, scoped) :
	    offsetof(struct ruleset_attr, handled_access_net);

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = fs_handled(abi);
	if (abi >= 4)
		attr.handled_access_net = net;
	if (abi >= 6)
		attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
	return (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
}

static int
restrict_self(int ruleset)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_landlock_restrict_self, ruleset, 0) == -1)
		return -1;
	return 0;
}

int
sandbox_confine(const struct config *cfg, const struct sandbox_policy *pol)
{
	const char *env = getenv("HOOKPIPE_SANDBOX");
	static const char *const libs[] = { "/lib", "/lib64", "/usr/lib",
	    "/usr/lib64", "/usr/local/lib", NULL };
	static const char *const nats_files[] = { "HOOKPIPE_NATS_CREDS",
	    "HOOKPIPE_NATS_CA", "HOOKPIPE_NATS_CERT", "HOOKPIPE_NATS_KEY",
	    NULL };
	const char *v;
	const uint64_t run = LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_READ_FILE;
	unsigned char warm[1];
	uint64_t rw, net;
	int abi, ruleset, i, bad = 0;

	if (env != NULL && strcmp(env, "0") == 0)
		return 0;
	/* OpenSSL reads its configuration on first use: do that now. */
	RAND_bytes(warm, sizeof(warm));
	if ((abi = sandbox_abi()) < 1) {
		log_info("Landlock is not available; running unconfined");
		return 0;
	}
	/* Outbound TCP goes to any port (the OAuth token endpoint): when
	 * the policy needs it, connect is not handled at all. */
	net = NET_BIND_TCP | (pol->tcp_connect ? 0 : NET_CONNECT_TCP);
	if ((ruleset = ruleset_new(abi, net)) == -1) {
		log_warn("Landlock: %s; running unconfined", strerror(errno));
		return 0;
	}
	/* The state the stage works on; not the master key files beside
	 * them unless the policy says so (the router never reads them). */
	rw = fs_handled(abi) & ~(LANDLOCK_ACCESS_FS_EXECUTE | FS_IOCTL_DEV);
	bad |= allow_path(ruleset, cfg->db_dir, rw);
	bad |= allow_path(ruleset, cfg->run_dir, rw);
	/* Its log, which it rotates (log_rotate_init). */
	bad |= allow_path(ruleset, cfg->log_dir, rw);
	bad |= allow_path(ruleset, cfg->user_integrations_dir, FS_READ);
	bad |= allow_path(ruleset, cfg->integrations_dir, FS_READ);
	if (pol->read_keys)
		bad |= allow_path(ruleset, cfg->home, FS_READ);
	/* db_unmap_read finds the databases' mappings there. */
	bad |= allow_path(ruleset, "/proc/self/maps",
	    LANDLOCK_ACCESS_FS_READ_FILE);
	if (pol->nats)
		for (i = 0; nats_files[i] != NULL; i++)
			if ((v = getenv(nats_files[i])) != NULL && *v != '\0')
				bad |= allow_path(ruleset, v,
				    LANDLOCK_ACCESS_FS_READ_FILE);
	if (pol->exec != NULL) {
		/* The program, the dynamic loader and its libraries. */
		bad |= allow_path(ruleset, pol->exec, run);
		for (i = 0; libs[i] != NULL; i++)
			bad |= allow_path(ruleset, libs[i], run |
			    LANDLOCK_ACCESS_FS_READ_DIR);
		bad |= allow_path(ruleset, "/etc/ld.so.cache",
		    LANDLOCK_ACCESS_FS_READ_FILE);
		bad |= allow_path(ruleset, "/dev/null",
		    LANDLOCK_ACCESS_FS_READ_FILE);
	}
	if (abi >= 4 && pol->tcp_bind_port > 0) {
		struct net_port_attr np = { NET_BIND_TCP,
		    (uint64_t)pol->tcp_bind_port };

		bad |= (int)syscall(SYS_landlock_add_rule, ruleset,
		    RULE_NET_PORT, &np, 0);
	}
	if (bad != 0 || restrict_self(ruleset) == -1) {
		log_warn("Landlock: %s; running unconfined", strerror(errno));
		close(ruleset);
		return 0;
	}
	close(ruleset);
	log_debug("confined by Landlock (ABI %d)", abi);
	return 1;
}

int
sandbox_deny_all(void)
{
	int abi, ruleset, rc;

	if ((abi = sandbox_abi()) < 1 ||
	    (ruleset = ruleset_new(abi, NET_BIND_TCP | NET_CONNECT_TCP)) == -1)
		return 0;
	rc = restrict_self(ruleset);
	close(ruleset);
	return rc == 0;
}

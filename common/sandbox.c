#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <openssl/rand.h>

#include "log.h"
#include "sandbox.h"

#define FS_READ	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_ALL	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
	LANDLOCK_ACCESS_FS_MAKE_SYM)
#define FS_RW	(FS_ALL & ~LANDLOCK_ACCESS_FS_EXECUTE)

static int
allow(int ruleset, const char *path, uint64_t access)
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

int
sandbox_confine(const struct config *cfg)
{
	struct landlock_ruleset_attr attr;
	const char *env = getenv("HOOKPIPE_SANDBOX");
	unsigned char warm[1];
	int abi, ruleset;

	if (env != NULL && strcmp(env, "0") == 0)
		return 0;
	/* OpenSSL reads its configuration on first use: do that now. */
	RAND_bytes(warm, sizeof(warm));
	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		log_info("Landlock is not available; running unconfined");
		return 0;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = FS_ALL | (abi >= 2 ?
	    LANDLOCK_ACCESS_FS_REFER : 0);
	if ((ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0)) == -1) {
		log_warn("Landlock: %s; running unconfined", strerror(errno));
		return 0;
	}
	if (allow(ruleset, cfg->home, FS_RW | (abi >= 2 ?
	    LANDLOCK_ACCESS_FS_REFER : 0)) == -1 ||
	    allow(ruleset, cfg->integrations_dir, FS_READ) == -1 ||
	    /* db_trim finds the database's mapping there. */
	    allow(ruleset, "/proc/self/maps", LANDLOCK_ACCESS_FS_READ_FILE) ==
	    -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_landlock_restrict_self, ruleset, 0) == -1) {
		log_warn("Landlock: %s; running unconfined", strerror(errno));
		close(ruleset);
		return 0;
	}
	close(ruleset);
	log_debug("confined to %s by Landlock (ABI %d)", cfg->home, abi);
	return 1;
}

/*
 * What a confined stage can still do, tried in a child process for each
 * policy: the state directories yes; the master key only with read_keys;
 * TCP bind only on its own port; TCP connect only with tcp_connect; no
 * signal to a process outside its sandbox. Checks that need a newer
 * Landlock ABI than the kernel offers are skipped (and say so).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "sandbox.h"
#include "t.h"

static struct config cfg;
static int listen_port;
static char creds[PATH_MAX], beside[PATH_MAX];

static int
can_open(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd == -1)
		return 0;
	close(fd);
	return 1;
}

static int
can_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return rc == 0;
}

static int
can_bind(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc, one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return rc == 0;
}

/*
 * Runs the probes in a child confined by pol; returns a bit per probe:
 * 1 db file, 2 master key, 4 connect, 8 bind own port, 16 bind another,
 * 32 signal the parent, 64 the NATS credentials file, 128 a file
 * beside it.
 */
static int
probe(const struct sandbox_policy *pol)
{
	char db[PATH_MAX + 16];
	int st, bits = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (sandbox_confine(&cfg, pol) != 1)
			_exit(255);
		snprintf(db, sizeof(db), "%s/data.mdb", cfg.db_dir);
		bits |= can_open(db) ? 1 : 0;
		bits |= can_open(cfg.key_path) ? 2 : 0;
		bits |= can_connect(listen_port) ? 4 : 0;
		bits |= can_bind(pol->tcp_bind_port ? pol->tcp_bind_port :
		    listen_port + 1) ? 8 : 0;
		bits |= can_bind(listen_port + 2) ? 16 : 0;
		bits |= kill(getppid(), 0) == 0 ? 32 : 0;
		bits |= can_open(creds) ? 64 : 0;
		bits |= can_open(beside) ? 128 : 0;
		_exit(bits);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

int
main(void)
{
	char dir[] = "/tmp/hpsbXXXXXX", err[512], path[PATH_MAX + 16];
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int lfd, abi = sandbox_abi(), bits;

	if (abi < 1) {
		printf("ok - # skip Landlock is not available\n");
		return t_done("test_sandbox");
	}
	CHECK(mkdtemp(dir) != NULL);
	setenv("HOOKPIPE_HOME", dir, 1);
	unsetenv("HOOKPIPE_SANDBOX");
	CHECK(config_load(&cfg, err, sizeof(err)) == 0);
	CHECK(config_make_dirs(&cfg, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/data.mdb", cfg.db_dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	close(open(cfg.key_path, O_CREAT | O_WRONLY, 0600));
	/* Outside the home, as an operator keeps them. */
	snprintf(creds, sizeof(creds), "%s.nats", dir);
	CHECK(mkdir(creds, 0700) == 0);
	snprintf(beside, sizeof(beside), "%s.nats/other", dir);
	snprintf(creds, sizeof(creds), "%s.nats/user.creds", dir);
	close(open(creds, O_CREAT | O_WRONLY, 0600));
	close(open(beside, O_CREAT | O_WRONLY, 0600));
	setenv("HOOKPIPE_NATS_CREDS", creds, 1);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(listen(lfd, 8) == 0);
	getsockname(lfd, (struct sockaddr *)&a, &alen);
	listen_port = ntohs(a.sin_port);

	/* The router: its state, nothing else. */
	bits = probe(&(struct sandbox_policy){ 0 });
	CHECK_MSG(bits != 255, "the router's sandbox was not applied");
	CHECK(bits & 1);
	CHECK_MSG(!(bits & 2), "the router could read the master key");
	if (abi >= 4) {
		CHECK_MSG(!(bits & 4), "the router could connect over TCP");
		CHECK_MSG(!(bits & 8), "the router could bind a TCP port");
	} else
		printf("ok - # skip no network rules before Landlock ABI 4\n");
	if (abi >= 6)
		CHECK_MSG(!(bits & 32), "the router could signal outside");
	else
		printf("ok - # skip no signal scoping before Landlock ABI 6\n");

	/* The verifier: the master keys too. */
	bits = probe(&(struct sandbox_policy){ .read_keys = 1 });
	CHECK((bits & 3) == 3);
	if (abi >= 4)
		CHECK_MSG(!(bits & 4), "the verifier could connect over TCP");

	CHECK_MSG(!(bits & 64), "the verifier could read the NATS "
	    "credentials outside cluster mode");

	/* Cluster mode: the NATS client reads its credentials file again
	 * at each reconnection; nothing else there. */
	bits = probe(&(struct sandbox_policy){ .read_keys = 1,
	    .tcp_connect = 1, .nats = 1 });
	CHECK_MSG(bits & 64, "a stage in cluster mode cannot read "
	    "HOOKPIPE_NATS_CREDS");
	CHECK_MSG(!(bits & 128), "a stage in cluster mode can read the "
	    "files beside HOOKPIPE_NATS_CREDS");

	/* The receiver: its port, and out for the OAuth exchange. */
	bits = probe(&(struct sandbox_policy){ .read_keys = 1,
	    .tcp_bind_port = listen_port + 3, .tcp_connect = 1 });
	CHECK(bits & 4);
	CHECK(bits & 8);
	if (abi >= 4)
		CHECK_MSG(!(bits & 16), "the receiver could bind another "
		    "port");

	close(lfd);
	unlink(path);
	unlink(cfg.key_path);
	snprintf(path, sizeof(path), "rm -rf '%s' '%s.nats'", dir, dir);
	CHECK(system(path) == 0);
	return t_done("test_sandbox");
}

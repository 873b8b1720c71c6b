#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "t.h"

int
main(void)
{
	struct config c;
	char err[512], ep[512];

	unsetenv("HOOKPIPE_LISTEN");
	unsetenv("TRIGGER_URL");
	unsetenv("HOOKPIPE_RETRY_SCHEDULE");
	setenv("HOOKPIPE_HOME", "/tmp/hp-config-test", 1);
	CHECK(config_load(&c, err, sizeof(err)) == 0);
	CHECK(strcmp(c.listen_host, "127.0.0.1") == 0 && c.listen_port == 8080);
	CHECK(strcmp(c.trigger_url, "http://localhost:8080") == 0);
	CHECK(c.max_body == 10485760 && c.tolerance == 300);
	CHECK(c.body_budget == 64 << 20 && c.spool_max == 1 << 30 &&
	    c.conn_per_client == 256);
	CHECK(strcmp(c.run_dir, "/tmp/hp-config-test/run") == 0);
	CHECK(c.retry_steps == 5 && c.retry_ms[0] == 1000 &&
	    c.retry_ms[4] == 600000);
	CHECK(config_retry_delay_ms(&c, 1) == 1000);
	CHECK(config_retry_delay_ms(&c, 99) == 600000);
	CHECK(config_endpoint(&c, "router.sock", ep, sizeof(ep)) == 0 &&
	    strcmp(ep, "ipc:///tmp/hp-config-test/run/router.sock") == 0);

	setenv("HOOKPIPE_LISTEN", "[::1]:9000", 1);
	setenv("TRIGGER_URL", "https://hooks.example.com/", 1);
	setenv("HOOKPIPE_RETRY_SCHEDULE", "0.5, 2", 1);
	CHECK(config_load(&c, err, sizeof(err)) == 0);
	CHECK(strcmp(c.listen_host, "::1") == 0 && c.listen_port == 9000);
	CHECK(strcmp(c.trigger_url, "https://hooks.example.com") == 0);
	CHECK(c.retry_steps == 2 && c.retry_ms[0] == 500);

	setenv("HOOKPIPE_MAX_BODY", "lots", 1);
	CHECK(config_load(&c, err, sizeof(err)) == -1 &&
	    strstr(err, "HOOKPIPE_MAX_BODY") != NULL);
	/* Limits that agree: no body a message cannot carry, and a budget
	 * for bodies in memory that fits the largest beside others. */
	setenv("HOOKPIPE_MAX_BODY", "66060288", 1);
	CHECK(config_load(&c, err, sizeof(err)) == 0 &&
	    c.max_body == MAX_BODY_CEILING &&
	    c.body_budget == 4 * MAX_BODY_CEILING);
	setenv("HOOKPIPE_MAX_BODY", "66060289", 1);
	CHECK(config_load(&c, err, sizeof(err)) == -1 &&
	    strstr(err, "HOOKPIPE_MAX_BODY=66060289: over the ceiling of "
	    "66060288") != NULL);
	setenv("HOOKPIPE_MAX_BODY", "1048576", 1);
	setenv("HOOKPIPE_BODY_BUDGET", "2097151", 1);
	CHECK(config_load(&c, err, sizeof(err)) == -1 &&
	    strstr(err, "HOOKPIPE_BODY_BUDGET") != NULL);
	unsetenv("HOOKPIPE_BODY_BUDGET");
	unsetenv("HOOKPIPE_MAX_BODY");
	setenv("HOOKPIPE_LISTEN", "nope", 1);
	CHECK(config_load(&c, err, sizeof(err)) == -1 &&
	    strstr(err, "HOOKPIPE_LISTEN") != NULL);
	unsetenv("HOOKPIPE_LISTEN");
	setenv("TRIGGER_URL", "ftp://x", 1);
	CHECK(config_load(&c, err, sizeof(err)) == -1);
	unsetenv("TRIGGER_URL");
	setenv("HOOKPIPE_HOME", "relative/path", 1);
	CHECK(config_load(&c, err, sizeof(err)) == -1);
	setenv("HOOKPIPE_HOME", "/tmp/hp-config-test", 1);
	setenv("HOOKPIPE_RETRY_SCHEDULE", "1,x", 1);
	CHECK(config_load(&c, err, sizeof(err)) == -1 &&
	    strstr(err, "HOOKPIPE_RETRY_SCHEDULE") != NULL);
	unsetenv("HOOKPIPE_RETRY_SCHEDULE");

	/* The cluster's takeover time: never by default, 30 s at least. */
	unsetenv("HOOKPIPE_CLUSTER_TAKEOVER");
	CHECK(config_load(&c, err, sizeof(err)) == 0 && c.takeover_s == 0);
	setenv("HOOKPIPE_CLUSTER_TAKEOVER", "10m", 1);
	CHECK(config_load(&c, err, sizeof(err)) == 0 && c.takeover_s == 600);
	setenv("HOOKPIPE_CLUSTER_TAKEOVER", "0", 1);
	CHECK(config_load(&c, err, sizeof(err)) == 0 && c.takeover_s == 0);
	setenv("HOOKPIPE_CLUSTER_TAKEOVER", "29s", 1);
	CHECK(config_load(&c, err, sizeof(err)) == -1 &&
	    strstr(err, "HOOKPIPE_CLUSTER_TAKEOVER=29s") != NULL &&
	    strstr(err, "30s or more") != NULL);
	setenv("HOOKPIPE_CLUSTER_TAKEOVER", "soon", 1);
	CHECK(config_load(&c, err, sizeof(err)) == -1 &&
	    strstr(err, "HOOKPIPE_CLUSTER_TAKEOVER") != NULL);
	unsetenv("HOOKPIPE_CLUSTER_TAKEOVER");
	return t_done("test_config");
}

/*
 * hookpipe tail STAGE [--payload]   (what `hookpipectl tail` runs)
 *
 * A SUB socket on the stage's tap. The stage publishes only while someone
 * subscribes, with "m" (metadata) and "p" (metadata and payloads) as the
 * topics; each frame is the topic byte and one JSON object, printed as
 * one line and flushed, so that a pipe reader sees it at once. DEL and
 * C1 characters, which JSON allows raw in a string, are printed as
 * \u007f and \u009b: the line is the same JSON and cannot drive a
 * terminal.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "admin.h"
#include "log.h"
#include "stage.h"
#include "zsock.h"

static volatile sig_atomic_t tail_stop;

static void
on_signal(int sig)
{
	(void)sig;
	tail_stop = 1;
}

/*
 * No SA_RESTART: a signal interrupts zmq_poll, and a closed pipe
 * (SIGPIPE) ends the tail like Ctrl-C does.
 */
static void
tail_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

static int
stage_known(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(stage_names) / sizeof(stage_names[0]); i++)
		if (strcmp(stage_names[i], name) == 0)
			return 1;
	return 0;
}

/* One frame: 0 to go on, 1 when the output is gone. */
static int
tail_one(void *sock)
{
	zmq_msg_t m;
	size_t n;
	int rc = 0;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&m);
		return 0;
	}
	if ((n = zmq_msg_size(&m)) > 1) {
		log_escape(stdout, (const char *)zmq_msg_data(&m) + 1, n - 1,
		    LOG_ESC_JSON);
		fputc('\n', stdout);
		if (fflush(stdout) == EOF)
			rc = 1;
	}
	zmq_msg_close(&m);
	return rc;
}

static int
tail_loop(void *sock)
{
	zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };

	while (!tail_stop) {
		if (zmq_poll(&it, 1, 500) == -1) {
			if (errno == EINTR)
				continue;
			return fail("tail: %s", zmq_strerror(errno));
		}
		if ((it.revents & ZMQ_POLLIN) && tail_one(sock) != 0)
			break;
	}
	return EXIT_OK;
}

int
cmd_tail(struct ctx *ctx, const struct cmd *c, int argc, char **argv)
{
	int payload = 0, rc;
	const struct opt opts[] = {
		{ "payload", OPT_FLAG, &payload },
		{ NULL, 0, NULL }
	};
	char **args, name[64], err[512];
	void *zctx, *sock;

	if ((rc = opt_parse(ctx, c, argc, argv, opts, &args)) != OPT_CONTINUE)
		return rc;
	if (!stage_known(args[0]))
		return usage_error(ctx, "unknown stage %s: expected receiver, "
		    "verifier, router, dispatcher or admin", args[0]);
	if (!stage_is_up(&ctx->cfg, args[0]))
		warnmsg("%s is not running; waiting for it", args[0]);
	tail_signals();
	snprintf(name, sizeof(name), "%s.tap", args[0]);
	if ((zctx = zmq_ctx_new()) == NULL)
		return fail("zmq: %s", zmq_strerror(errno));
	if ((sock = zs_socket(zctx, ZMQ_SUB, 0)) == NULL) {
		zmq_ctx_term(zctx);
		return fail("zmq: %s", zmq_strerror(errno));
	}
	zmq_setsockopt(sock, ZMQ_SUBSCRIBE, payload ? "p" : "m", 1);
	if (zs_connect(sock, &ctx->cfg, name, err, sizeof(err)) == -1)
		rc = fail("%s", err);
	else
		rc = tail_loop(sock);
	zmq_close(sock);
	zmq_ctx_term(zctx);
	return rc;
}

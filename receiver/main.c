/*
 * hookpipe-receiver: the HTTP front. One thread: libmicrohttpd runs in
 * external-loop mode on its epoll fd, polled in the same zmq_poll as the
 * DEALER socket to the verifier. A delivery is read whole (up to its
 * integration's body limit), sent to the verifier, and its connection
 * suspended until the verdict (keyed by request id) comes back.
 *
 * When the verifier is not connected, or does not answer in time, the
 * delivery is spooled in LMDB (fsync'd) and answered 202; the verifier
 * verifies the spool when it is back.
 */
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <zmq.h>

#include "db.h"
#include "integ.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "sandbox.h"
#include "stage.h"
#include "svc.h"
#include "zsock.h"
#include "receiver.h"

static const char usage[] =
    "Receives webhook deliveries over HTTP (HOOKPIPE_LISTEN) and hands\n"
    "them to the verifier. Started by hookpipectl.\n";

/* "127.0.0.1:8080", "[::1]:8080": where a socket listens. */
static const char *
sock_name(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		str_copy(out, "an unknown address", len);
	else
		snprintf(out, len, ss.ss_family == AF_INET6 ? "[%s]:%s" :
		    "%s:%s", host, port);
	return out;
}

/* The gauges: connections, bodies, the spool's depth and its part of
 * the state (ours); at start, then once a second. */
static void
rx_gauges(struct receiver *rx)
{
	MDB_txn *txn;
	MDB_stat st;

	metrics_set(M_RX_INFLIGHT, NULL, NULL, rx->inflight);
	metrics_set(M_RX_CONNECTIONS, NULL, NULL, rx->nconns);
	metrics_set(M_RX_BODY_BYTES, NULL, NULL, (int64_t)rx->body_bytes);
	if ((txn = db_begin(&rx->db, DB_SPOOL, 1)) == NULL)
		return;
	if (mdb_stat(txn, rx->db.spool, &st) == 0)
		metrics_set(M_QUEUE, "spool", NULL, (int64_t)st.ms_entries);
	mdb_txn_abort(txn);
	metrics_db(&rx->db, DB_PART(DB_SPOOL));
}

int
main(int argc, char **argv)
{
	struct receiver *rx = calloc(1, sizeof(*rx));
	char err[1024], where[NI_MAXHOST + NI_MAXSERV + 8];
	int one = 1, rc, activated;
	int64_t next_tick;

	if (rx == NULL)
		return EXIT_TEMPORARY;
	/* hookpipectl start asks first, before it starts the other stages. */
	if (argc == 2 && strcmp(argv[1], "--check-listen") == 0) {
		log_init("hookpipe-receiver", 0);
		if (config_load(&rx->cfg, err, sizeof(err)) == -1)
			fatal(EXIT_PERMANENT, "%s", err);
		rx_check_listen(&rx->cfg);
		free(rx);
		return 0;
	}
	rx->inherited_fd = rx->quiesced_fd = -1;
	stage_init_shared(&rx->st, "receiver", argc, argv, &rx->cfg, usage);
	/* Socket activation: the service manager bound the address. */
	if (svc_listen_fd(&rx->inherited_fd, err, sizeof(err)) == -1)
		fatal(EXIT_PERMANENT, "%s", err);
	activated = rx->inherited_fd >= 0;
	if (activated && rx->st.lock_fd < 0)
		fatal(EXIT_TEMPORARY, "another receiver is running (it holds "
		    "%s/receiver.lock); stop it first", rx->cfg.run_dir);
	if (rx->st.lock_fd < 0) {
		if ((rx->inherited_fd = rx_handoff_take(rx)) == -1)
			fatal(EXIT_TEMPORARY, "another receiver is running and "
			    "did not hand over its socket; stop it first");
		log_info("took over the listening socket of the running "
		    "receiver");
	}
	/* Config to find subscriptions (and, for the OAuth callback, to
	 * store credentials); the spool while the verifier is away. */
	if ((rc = db_open(&rx->db, &rx->cfg, DB_PART(DB_CONFIG) |
	    DB_PART(DB_SPOOL), 0, err, sizeof(err))) != 0)
		fatal(rc == DB_ESCHEMA ? EXIT_PERMANENT : EXIT_TEMPORARY, "%s",
		    err);
	if ((rc = mdb_txn_begin(rx->db.part[DB_CONFIG].env, NULL, MDB_RDONLY,
	    &rx->rtxn)))
		fatal(EXIT_TEMPORARY, "LMDB: %s", mdb_strerror(rc));
	mdb_txn_reset(rx->rtxn);
	metrics_open(&rx->cfg, "receiver");
	metrics_set(M_RX_BODY_BUDGET, NULL, NULL, rx->cfg.body_budget);
	rx->integ_stamp = integ_stamp(&rx->cfg);
	rx->integs.slim = 1;
	integ_load_all(&rx->integs, &rx->cfg, rx_warn_integ);
	rx_cap_limits(rx);
	/*
	 * Bodies of 256 KiB and more get their own mappings, returned to
	 * the system when freed: without a fixed threshold glibc raises it
	 * to the largest body freed so far, and the memory a flood of
	 * bodies took stays with the process after it.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mpw_init(&rx->w);
	if (httpc_init(&rx->http, oauth_done, rx) == -1)
		fatal(EXIT_TEMPORARY, "cannot initialise libcurl");

	if ((rx->zctx = zmq_ctx_new()) == NULL ||
	    (rx->verifier = zs_socket(rx->zctx, ZMQ_DEALER, 0)) == NULL)
		fatal(EXIT_TEMPORARY, "zmq: %s", zmq_strerror(errno));
	/* Queue only on a live connection: no verifier means spool now. */
	zmq_setsockopt(rx->verifier, ZMQ_IMMEDIATE, &one, sizeof(one));
	if (zs_connect(rx->verifier, &rx->cfg, EP_VERIFIER, err,
	    sizeof(err)) == -1 || tap_open(&rx->tap, rx->zctx, &rx->cfg,
	    "receiver", err, sizeof(err)) == -1)
		fatal(EXIT_TEMPORARY, "%s", err);
	rx_start_http(rx, 0);
	rx_handoff_listen(rx);
	/* Its own port to bind, outbound TCP for the OAuth exchange, the
	 * master keys to seal the tokens it stores. */
	sandbox_confine(&rx->cfg, &(struct sandbox_policy){ .read_keys = 1,
	    .tcp_bind_port = rx->cfg.listen_port, .tcp_connect = 1 });
	stage_ready(&rx->st, &rx->cfg);
	if (activated)
		log_info("listening on %s (the socket the service manager "
		    "passed)", sock_name(rx->inherited_fd, where,
		    sizeof(where)));
	else
		log_info("listening on %s:%d", rx->cfg.listen_host,
		    rx->cfg.listen_port);

	rx_gauges(rx);
	next_tick = mono_ms() + 1000;
	/* A line per delivery: written once per pass of the loop. */
	log_buffered();
	for (;;) {
		zmq_pollitem_t items[5 + 16] = {
			{ rx->verifier, 0, ZMQ_POLLIN, 0 },
			{ NULL, rx->epoll_fd, ZMQ_POLLIN, 0 },
			{ NULL, rx->st.sig_fd, ZMQ_POLLIN, 0 },
			{ rx->tap.sock, 0, ZMQ_POLLIN, 0 },
			{ NULL, rx->handoff_fd, ZMQ_POLLIN, 0 },
		};
		MHD_UNSIGNED_LONG_LONG mt;
		long timeout = 250;
		int64_t ht = httpc_timeout(&rx->http);
		int n = 5, i, ready;

		n += httpc_poll_items(&rx->http, items + 5, 16);
		if (MHD_get_timeout(rx->httpd, &mt) == MHD_YES &&
		    (long long)mt < timeout)
			timeout = (long)mt;
		if (ht >= 0 && ht < timeout)
			timeout = (long)ht;
		if (rx->unsent > 0 && timeout > 10)
			timeout = 10;	/* retry the connection soon */
		if ((ready = zmq_poll(items, n, timeout)) == -1 &&
		    errno != EINTR)
			fatal(EXIT_TEMPORARY, "zmq_poll: %s",
			    zmq_strerror(errno));
		if (stage_pass(&rx->st, ready > 0))
			db_unmap_read(&rx->db);
		if (items[3].revents & ZMQ_POLLIN)
			tap_poll(&rx->tap);
		if (items[0].revents & ZMQ_POLLIN)
			rx_read_verdicts(rx);
		rx_send_unsent(rx);
		if (items[2].revents & ZMQ_POLLIN) {
			int sig;

			/* SIGHUP: read the definitions again; the others
			 * stop the receiver. */
			while ((sig = stage_signal(&rx->st)) != 0) {
				if (sig == SIGHUP)
					rx_reload(rx);
				else if (!rx->draining)
					rx_start_draining(rx);
			}
		}
		if (items[4].revents & ZMQ_POLLIN)
			rx_handoff_give(rx);
		for (i = 5; i < n; i++)
			if (items[i].revents != 0)
				httpc_ready(&rx->http, items[i].fd,
				    items[i].revents);
		httpc_run(&rx->http);
		/* After a takeover the lock is ours once the old one exits;
		 * take it as soon as it does (a flock that fails is cheap). */
		if (rx->st.lock_fd < 0 && stage_try_lock(&rx->st, &rx->cfg) ==
		    0)
			log_info("the previous receiver has exited");
		MHD_run(rx->httpd);
		rx_expire_waiting(rx, rx->draining && mono_ms() >= rx->drain_deadline);
		MHD_run(rx->httpd);
		if (mono_ms() >= next_tick) {
			db_reader_check(&rx->db);
			rx_enforce_deadlines(rx);
			rx_gauges(rx);
			/* A definition added or changed is used without a
			 * restart. */
			if (integ_stamp(&rx->cfg) != rx->integ_stamp)
				rx_reload(rx);
			next_tick = mono_ms() + 1000;
		}
		log_flush();
		if (rx->draining && rx->inflight == 0 &&
		    (MHD_get_daemon_info(rx->httpd,
		    MHD_DAEMON_INFO_CURRENT_CONNECTIONS)->num_connections == 0 ||
		    mono_ms() >= rx->drain_deadline + 1000))
			break;
	}
	MHD_stop_daemon(rx->httpd);
	if (rx->quiesced_fd >= 0)
		close(rx->quiesced_fd);
	close(rx->handoff_fd);
	tap_close(&rx->tap);
	zmq_close(rx->verifier);
	zmq_ctx_term(rx->zctx);
	mpw_free(&rx->w);
	httpc_cleanup(&rx->http);
	mdb_txn_abort(rx->rtxn);
	integ_free_all(&rx->integs);
	db_close(&rx->db);
	stage_exit(&rx->st, &rx->cfg);
	free(rx);
	return 0;
}

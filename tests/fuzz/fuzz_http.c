/*
 * The receiver's HTTP request path, end to end in one process: each input
 * is the raw bytes a client sends on a fresh connection (handed to
 * libmicrohttpd through a socketpair). A stub verifier on the DEALER's
 * endpoint answers every delivery, so the suspend/verdict/resume path
 * runs too. The receiver must answer or close, and never crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zmq.h>

#include "log.h"
#include "msg.h"
#include "receiver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct receiver rx;
static void *stub;	/* ROUTER playing the verifier */
static char sub_id[UUID_LEN + 1];

static void
setup(void)
{
	char dir[] = "/tmp/hpfzXXXXXX", err[512];
	struct sub_rec s;
	MDB_txn *txn;
	int one = 1;

	if (mkdtemp(dir) == NULL)
		abort();
	setenv("HOOKPIPE_HOME", dir, 1);
	setenv("HOOKPIPE_MAX_BODY", "4096", 1);
	setenv("HOOKPIPE_VERIFY_TIMEOUT_MS", "50", 1);
	if (getenv("HOOKPIPE_INTEGRATIONS") == NULL)
		setenv("HOOKPIPE_INTEGRATIONS", "integrations", 1);
	log_init("fuzz-http", 0);
	log_quiet(1);
	if (config_load(&rx.cfg, err, sizeof(err)) ||
	    config_make_dirs(&rx.cfg, err, sizeof(err)) ||
	    db_open(&rx.db, &rx.cfg, DB_PART(DB_CONFIG) | DB_PART(DB_SPOOL),
	    0, err, sizeof(err))) {
		fprintf(stderr, "fuzz_http: setup: %s\n", err);
		abort();
	}
	integ_load_all(&rx.integs, &rx.cfg, NULL);
	rx_cap_limits(&rx);
	mdb_txn_begin(rx.db.part[DB_CONFIG].env, NULL, MDB_RDONLY, &rx.rtxn);
	mdb_txn_reset(rx.rtxn);
	mpw_init(&rx.w);
	httpc_init(&rx.http, oauth_done, &rx);
	rx.inherited_fd = rx.handoff_fd = rx.quiesced_fd = -1;

	/* A subscription deliveries can name. */
	txn = db_begin(&rx.db, DB_CONFIG, 0);
	memset(&s, 0, sizeof(s));
	str_copy(s.id, "0f8fad5b-d9cb-469f-a165-70867728950e", sizeof(s.id));
	str_copy(sub_id, s.id, sizeof(sub_id));
	strcpy(s.workspace, "default");
	strcpy(s.name, "fuzz");
	strcpy(s.integration, "openai");
	strcpy(s.mode, "manual");
	strcpy(s.events, "*");
	db_sub_set_secret(&rx.db, &s, 1, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    38);
	db_sub_put(txn, &rx.db, &s);
	db_commit(txn);

	rx.zctx = zmq_ctx_new();
	rx.verifier = zs_socket(rx.zctx, ZMQ_DEALER, 0);
	zmq_setsockopt(rx.verifier, ZMQ_IMMEDIATE, &one, sizeof(one));
	stub = zs_socket(rx.zctx, ZMQ_ROUTER, 0);
	zs_bind(stub, &rx.cfg, EP_VERIFIER, err, sizeof(err));
	zs_connect(rx.verifier, &rx.cfg, EP_VERIFIER, err, sizeof(err));
	rx_start_http(&rx, 1);
}

/* Answer every verify request with a fixed verdict. */
static void
stub_verifier(void)
{
	zmq_msg_t ident, body;
	struct msg m;
	struct mpw w;
	const char *why;

	for (;;) {
		zmq_msg_init(&ident);
		if (zmq_msg_recv(&ident, stub, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&ident);
			return;
		}
		zmq_msg_init(&body);
		zmq_msg_recv(&body, stub, 0);
		if (msg_decode(zmq_msg_data(&body), zmq_msg_size(&body), &m,
		    &why) == 0) {
			struct msg_verdict d = { .status = 200,
			    .body = { "{\"status\":\"ok\"}", 15 } };

			str_copy(d.req_id, m.id, sizeof(d.req_id));
			mpw_init(&w);
			msg_verdict_pack(&w, &d);
			zmq_msg_send(&ident, stub, ZMQ_SNDMORE);
			zmq_send(stub, w.sb.data, w.sb.size, 0);
			mpw_free(&w);
			msg_free(&m);
		}
		zmq_msg_close(&body);
		zmq_msg_close(&ident);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in peer;
	char buf[4096];
	size_t off = 0;
	int sv[2], i, eof = 0;

	if (rx.httpd == NULL)
		setup();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		return 0;
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (MHD_add_connection(rx.httpd, sv[0], (struct sockaddr *)&peer,
	    sizeof(peer)) != MHD_YES) {
		close(sv[1]);
		return 0;
	}
	for (i = 0; i < 200 && !eof; i++) {
		ssize_t n;

		if (off < size) {
			n = write(sv[1], data + off, size - off);
			if (n > 0)
				off += (size_t)n;
			if (off == size)
				shutdown(sv[1], SHUT_WR);
		}
		MHD_run(rx.httpd);
		stub_verifier();
		zmq_poll(NULL, 0, 0);
		rx_read_verdicts(&rx);
		rx_expire_waiting(&rx, i > 150);
		MHD_run(rx.httpd);
		while ((n = read(sv[1], buf, sizeof(buf))) > 0)
			;
		if (n == 0)
			eof = 1;
	}
	close(sv[1]);
	/* Let MHD notice the close and free the connection. */
	for (i = 0; i < 5; i++)
		MHD_run(rx.httpd);
	return 0;
}

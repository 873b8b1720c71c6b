/*
 * A ZeroMQ consumer for the zmq action test: binds a PULL socket, writes
 * each message received to OUTDIR/N.json, gives up after SECONDS.
 * usage: zpull ENDPOINT OUTDIR SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <zmq.h>

int
main(int argc, char **argv)
{
	void *ctx, *s;
	char buf[1 << 16], path[4096];
	time_t end;
	int n = 0;

	if (argc != 4)
		return 2;
	ctx = zmq_ctx_new();
	s = zmq_socket(ctx, ZMQ_PULL);
	if (zmq_bind(s, argv[1]) == -1) {
		perror("zmq_bind");
		return 1;
	}
	end = time(NULL) + atoi(argv[3]);
	while (time(NULL) < end) {
		zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
		int len;
		FILE *f;

		if (zmq_poll(&it, 1, 200) <= 0)
			continue;
		if ((len = zmq_recv(s, buf, sizeof(buf), 0)) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%d.json", argv[2], ++n);
		if ((f = fopen(path, "w")) != NULL) {
			fwrite(buf, 1, (size_t)len, f);
			fclose(f);
		}
	}
	zmq_close(s);
	zmq_ctx_term(ctx);
	return 0;
}

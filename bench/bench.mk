# The bench's own programs, built with the project's flags and objects:
#   make -f Makefile -f bench/bench.mk build/bench/micro build/bench/send \
#       build/bench/sink
# micro links exactly what the unit tests link (COMMON and VERIFY).

$(B)/bench/micro: $(B)/bench/micro.o $(addprefix $(B)/,$(COMMON) $(VERIFY))
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE)

$(B)/bench/send: $(B)/bench/send.o
	$(CC) $(LDFLAGS) -o $@ $^ -lcrypto

$(B)/bench/sink: $(B)/bench/sink.o
	$(CC) $(LDFLAGS) -o $@ $^

# The HTTP server libraries the receiver could be built on (httplib
# phase): libmicrohttpd, H2O (libh2o-evloop-dev), libevent's evhttp;
# libzmq for -z (a ZeroMQ round trip per request, as to a verifier).
# getpid from memory, as the stages answer it (common/pid.c).
$(B)/bench/httplib: $(B)/bench/httplib.o $(B)/common/pid.o
	$(CC) $(LDFLAGS) -o $@ $^ -lmicrohttpd -lh2o-evloop -levent -lzmq

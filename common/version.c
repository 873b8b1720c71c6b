/*
 * The build stamp (build/stamp.h, rewritten by make only when the
 * version or the commit changes) and the versions of the library
 * headers every stage is compiled against. Headers only: hookpipe-jq
 * links neither libzmq nor libcurl, so nothing here calls them.
 */
#include <curl/curlver.h>
#include <jansson.h>
#include <lmdb.h>
#include <msgpack.h>
#include <openssl/opensslv.h>
#include <zmq.h>

#include "stamp.h"
#include "version.h"

#define STR_(x)	#x
#define STR(x)	STR_(x)

const char hp_version[] = HP_STAMP_VERSION;
const char hp_commit[] = HP_STAMP_COMMIT;

const char *const hp_build[] = {
	"compiler", __VERSION__,
	"cflags", HP_STAMP_CFLAGS,
	"prefix", HP_STAMP_PREFIX,
#if defined(__SANITIZE_ADDRESS__)
	"sanitizer", "address",
#endif
	"libzmq", STR(ZMQ_VERSION_MAJOR) "." STR(ZMQ_VERSION_MINOR) "."
	    STR(ZMQ_VERSION_PATCH),
	"msgpack-c", MSGPACK_VERSION,
	"lmdb", STR(MDB_VERSION_MAJOR) "." STR(MDB_VERSION_MINOR) "."
	    STR(MDB_VERSION_PATCH),
	"jansson", JANSSON_VERSION,
	"libcurl", LIBCURL_VERSION,
	"openssl", OPENSSL_VERSION_TEXT,
	NULL
};

void
version_print(FILE *f, const char *prog)
{
	int i;

	fprintf(f, "%s %s (commit %s)\n", prog, hp_version, hp_commit);
	for (i = 0; hp_build[i] != NULL; i += 2)
		fprintf(f, "  %-10s %s\n", hp_build[i], hp_build[i + 1]);
}

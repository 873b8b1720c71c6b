/*
 * Quarantine records (the verifier writes them, `hookpipe spool` reads
 * them): a damaged one is refused, never trusted, and the spooled message
 * inside is decoded like any other.
 */
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct quarantine_rec q;
	const char *why;
	struct msg m;

	if (quarantine_decode(data, size, &q) == -1)
		return 0;
	if (msg_decode(q.message, q.message_len, &m, &why) == 0)
		msg_free(&m);
	quarantine_free(&q);
	return 0;
}

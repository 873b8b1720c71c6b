/*
 * log_escape(), which every log line and every human-readable output of
 * the CLI goes through: whatever the bytes, what comes out holds no
 * control character a terminal acts on (C0 but the line breaks a block
 * keeps, DEL, C1 in UTF-8 or as a lone byte) and is valid UTF-8.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const unsigned char *p, size_t n, int flags)
{
	size_t i, l;
	uint32_t cp;

	for (i = 0; i < n; i += l) {
		if ((l = log_utf8_len(p + i, n - i, &cp)) == 0)
			__builtin_trap();
		if ((cp < 0x20 && !((flags & LOG_ESC_LINES) && (cp == '\n' ||
		    cp == '\t'))) || (cp >= 0x7f && cp <= 0x9f))
			__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int flags[] = { 0, LOG_ESC_LINES, LOG_ESC_JSON,
	    LOG_ESC_JSON | LOG_ESC_LINES };
	size_t i, len;
	char *out;
	FILE *f;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if ((f = open_memstream(&out, &len)) == NULL)
			return 0;
		log_escape(f, data, size, flags[i]);
		fclose(f);
		check((const unsigned char *)out, len, flags[i]);
		free(out);
	}
	return 0;
}

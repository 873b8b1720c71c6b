/*
 * The parser every secret option goes through (admin/secret_in.c): the
 * content of a file, stdin or a variable, any bytes at all.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../admin/admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[SECRET_MAX + 1], why[128];
	size_t len = 0, i;

	if (secret_parse(data, size, out, &len, why, sizeof(why)) == 0) {
		/* What is accepted is one line of text, within the limit. */
		if (len == 0 || len > SECRET_MAX || out[len] != '\0' ||
		    len > size)
			__builtin_trap();
		for (i = 0; i < len; i++)
			if ((unsigned char)out[i] < 0x20 ||
			    (unsigned char)out[i] == 0x7f)
				__builtin_trap();
	} else if (why[0] == '\0' || memchr(why, '\0', sizeof(why)) == NULL)
		__builtin_trap();
	return 0;
}

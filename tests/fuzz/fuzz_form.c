/*
 * application/x-www-form-urlencoded decoding (GitHub's form bodies).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	size_t n;
	char *v;

	json_decref(form_json(data, size, &je));
	v = form_field(data, size, "token", &n);
	free(v);
	return 0;
}

/*
 * Integration definition parsing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "integ.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct integ ig;
	char err[1024], *text = malloc(size + 1);

	memcpy(text, data, size);
	text[size] = '\0';
	if (integ_load_string(&ig, text, "fuzz.json", err, sizeof(err)) == 0) {
		integ_has_event(&ig, "push");
		integ_has_mode(&ig, "manual");
		json_pointer_get(ig.def, ig.event_type.v[0].where);
		json_decref(ig.def);
	}
	free(text);
	return 0;
}

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "tests/unit/signer/rr_text.h"

void
rr_text_append(dz_buf_t *buf, const char *text)
{
	ldns_rr *rr = NULL;
	uint8_t *wire = NULL;
	size_t size = 0;

	if (ldns_rr_new_frm_str(&rr, text, 3600, NULL, NULL) != LDNS_STATUS_OK)
		fail_msg("ldns cannot parse the test RR: %s", text);
	assert_int_equal(ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &size), LDNS_STATUS_OK);
	assert_int_equal(dz_buf_append(buf, wire, size), DZ_OK);
	free(wire);
	ldns_rr_free(rr);
}

void
rr_text_append_all(dz_buf_t *buf, const char *const *texts)
{
	for (size_t i = 0; texts[i] != NULL; i++)
		rr_text_append(buf, texts[i]);
}

char *
rr_text_temp_dir(const char *prefix)
{
	char *dir = malloc(256);

	assert_non_null(dir);
	snprintf(dir, 256, "/tmp/%s-XXXXXX", prefix);
	assert_non_null(mkdtemp(dir));
	return dir;
}

void
rr_text_remove_dir(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

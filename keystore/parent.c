#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "keystore/parent.h"

static uint16_t
ds_tag(const dz_ds_rdata_t *ds)
{
	return ds->len >= 4 ? (uint16_t)(ds->data[0] << 8 | ds->data[1]) : 0;
}

/* Whether the DS record is exactly the one our key gives for its digest type. */
static bool
ds_is_key(const dz_keyring_t *ring, const dz_key_t *k, const dz_ds_rdata_t *ds)
{
	uint8_t want[DZ_DS_RDATA_MAX];
	size_t len = 0;

	if (ds->len < 4 || ds_tag(ds) != k->tag || ds->data[2] != k->algorithm)
		return false;
	if (dz_key_ds_rdata(ring->zone, k->flags, k->algorithm, k->public_key, k->public_key_len,
			    ds->data[3], want, &len, NULL) != DZ_OK)
		return false;
	return len == ds->len && memcmp(want, ds->data, len) == 0;
}

/* Whether the DS names the key (tag and algorithm) but with another digest. */
static bool
ds_names_key(const dz_key_t *k, const dz_ds_rdata_t *ds)
{
	return ds->len >= 4 && ds_tag(ds) == k->tag && ds->data[2] == k->algorithm;
}

static bool
answer_has_key(const dz_keyring_t *ring, const dz_key_t *k, const dz_parent_answer_t *a)
{
	for (size_t i = 0; i < a->ds_count; i++) {
		if (ds_is_key(ring, k, &a->ds[i]))
			return true;
	}
	return false;
}

/* Append one problem line (printf format) to the report and count it. */
static void __attribute__((format(printf, 3, 4)))
problem(dz_buf_t *report, unsigned *problems, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	(*problems)++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dz_buf_printf(report, "%s\n", line);
}

/* Report DS records that match no key of the zone. */
static void
check_unknown(const dz_keyring_t *ring, const dz_parent_answer_t *a, dz_buf_t *report,
	      unsigned *problems)
{
	for (size_t i = 0; i < a->ds_count; i++) {
		const dz_ds_rdata_t *ds = &a->ds[i];
		bool known = false;
		bool named = false;
		bool algorithm_used = false;
		for (size_t j = 0; j < ring->count; j++) {
			const dz_key_t *k = &ring->keys[j];
			if (k->standby)
				continue;
			known = known || ds_is_key(ring, k, ds);
			named = named || ds_names_key(k, ds);
			algorithm_used = algorithm_used ||
					 (ds->len >= 3 && k->algorithm == ds->data[2] &&
					  k->goal == DZ_GOAL_OMNIPRESENT);
		}
		if (known)
			continue;
		unsigned digest_type = ds->len >= 4 ? ds->data[3] : 0;
		unsigned algorithm = ds->len >= 3 ? ds->data[2] : 0;
		if (named)
			problem(report, problems,
				"%s serves a DS for key %u with a digest that does not match the "
				"key (digest type %u); it never counts as seen",
				a->server, ds_tag(ds), digest_type);
		else
			problem(report, problems,
				"%s serves a DS (key tag %u, algorithm %u) that matches no key of "
				"the zone",
				a->server, ds_tag(ds), algorithm);
		if (!algorithm_used)
			problem(report, problems,
				"%s serves a DS of algorithm %u (key tag %u), which the zone does "
				"not sign with (RFC 6840 section 5.11)",
				a->server, algorithm, ds_tag(ds));
	}
}

static void
observe_key(dz_keyring_t *ring, dz_key_t *k, const dz_parent_answer_t *answers, size_t count,
	    dz_time_t now, uint32_t ttl, dz_buf_t *report, unsigned *problems)
{
	size_t present = 0;
	dz_key_state_t ds = k->state[DZ_REC_DS];
	dz_time_t requested = k->changed[DZ_REC_DS];

	for (size_t i = 0; i < count; i++)
		present += answer_has_key(ring, k, &answers[i]);
	if (ds == DZ_STATE_RUMOURED || ds == DZ_STATE_OMNIPRESENT) {
		if (ttl > k->ds_ttl_seen)
			k->ds_ttl_seen = ttl;
	}
	switch (ds) {
	case DZ_STATE_RUMOURED:
		if (present == count) {
			if (k->ds_seen == DZ_KEY_TIME_NONE || k->ds_seen < requested)
				k->ds_seen = now;
			k->ds_checked = now;
			return;
		}
		if (k->ds_seen != DZ_KEY_TIME_NONE && k->ds_seen >= requested) {
			/* Seen before, missing now: the wait starts again once it is back. */
			k->ds_seen = DZ_KEY_TIME_NONE;
			k->ds_checked = DZ_KEY_TIME_NONE;
			problem(report, problems,
				"the parent served the DS of key %u (#%" PRIu32 ") and no longer "
				"does on %zu server(s); waiting for it again",
				k->tag, k->number, count - present);
		}
		for (size_t i = 0; i < count; i++) {
			if (!answer_has_key(ring, k, &answers[i]))
				problem(report, problems, "%s does not serve the DS of key %u (#%" PRIu32 ") yet",
					answers[i].server, k->tag, k->number);
		}
		return;
	case DZ_STATE_UNRETENTIVE:
		if (present == 0) {
			if (k->ds_gone == DZ_KEY_TIME_NONE || k->ds_gone < requested)
				k->ds_gone = now;
			k->ds_checked = now;
			return;
		}
		if (k->ds_gone != DZ_KEY_TIME_NONE && k->ds_gone >= requested) {
			k->ds_gone = DZ_KEY_TIME_NONE;
			k->ds_checked = DZ_KEY_TIME_NONE;
			problem(report, problems,
				"the parent removed the DS of key %u (#%" PRIu32 ") and serves it "
				"again on %zu server(s); waiting for its removal again",
				k->tag, k->number, present);
		}
		for (size_t i = 0; i < count; i++) {
			if (answer_has_key(ring, k, &answers[i]))
				problem(report, problems,
					"%s still serves the DS of retired key %u (#%" PRIu32 ")",
					answers[i].server, k->tag, k->number);
		}
		return;
	case DZ_STATE_OMNIPRESENT:
		for (size_t i = 0; i < count; i++) {
			if (!answer_has_key(ring, k, &answers[i]))
				problem(report, problems,
					"%s no longer serves the DS of key %u (#%" PRIu32 "), which "
					"validators need; ask the registry to restore it",
					answers[i].server, k->tag, k->number);
		}
		return;
	case DZ_STATE_HIDDEN:
		for (size_t i = 0; i < count; i++) {
			if (answer_has_key(ring, k, &answers[i]))
				problem(report, problems,
					"%s serves a DS for key %u (#%" PRIu32 "), which the zone "
					"did not ask for",
					answers[i].server, k->tag, k->number);
		}
		return;
	}
}

unsigned
dz_key_parent_observe(dz_keyring_t *ring, const dz_policy_t *policy,
		      const dz_parent_answer_t *answers, size_t count, dz_time_t now,
		      dz_buf_t *report, dz_result_t *result)
{
	unsigned problems = 0;
	uint32_t ttl = 0;
	size_t before = report->len;

	(void)policy;
	*result = DZ_OK;
	if (count == 0)
		return 0;
	/* One server that cannot be trusted, and nothing can be concluded this round. */
	for (size_t i = 0; i < count; i++) {
		const dz_parent_answer_t *a = &answers[i];
		if (a->result != DZ_OK)
			problem(report, &problems, "%s did not answer the DS query (%s)", a->server,
				dz_result_text(a->result));
		else if (a->rcode != 0)
			problem(report, &problems, "%s answered the DS query with RCODE %u",
				a->server, a->rcode);
		else if (!a->authoritative)
			problem(report, &problems,
				"%s answered the DS query without the AA bit, so it is not "
				"authoritative for the parent",
				a->server);
		if (a->ttl > ttl)
			ttl = a->ttl;
	}
	if (problems > 0)
		goto done;
	if (ttl > ring->ds_ttl_observed)
		ring->ds_ttl_observed = ttl;
	for (size_t i = 0; i < ring->count; i++) {
		dz_key_t *k = &ring->keys[i];
		if (k->standby || !dz_key_has_record(k, DZ_REC_DS))
			continue;
		observe_key(ring, k, answers, count, now, ttl, report, &problems);
	}
	for (size_t i = 0; i < count; i++)
		check_unknown(ring, &answers[i], report, &problems);

done:
	if (problems > 0 && report->len == before)
		*result = DZ_ENOMEM;
	return problems;
}

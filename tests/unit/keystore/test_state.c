/*
 * Unit tests of the key state file, the operator fields merged at commit,
 * the parent observations and the CDS/CDNSKEY records.  DS digests are
 * recomputed here with OpenSSL from RFC 4034 section 5.1.4, not with ldns.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/file.h"
#include "keystore/cds.h"
#include "keystore/manager.h"
#include "keystore/operator.h"
#include "keystore/parent.h"
#include "keystore/state_file.h"

#define NOW ((dz_time_t)1800000000)

static char *
make_dir(void)
{
	char *dir = strdup("/tmp/dz-state-XXXXXX");
	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
remove_dir(char *dir)
{
	char command[128];
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	assert_int_equal(system(command), 0);
	free(dir);
}

static dz_key_t
make_key(uint32_t number, dz_key_role_t role, uint8_t fill)
{
	dz_key_t k;
	dz_key_init(&k);
	k.number = number;
	k.role = role;
	k.algorithm = DZ_ALG_ECDSAP256SHA256;
	k.flags = dz_role_dnskey_flags(role);
	k.key_id_len = 16;
	memset(k.key_id, fill, k.key_id_len);
	k.public_key_len = 64;
	for (size_t i = 0; i < k.public_key_len; i++)
		k.public_key[i] = (uint8_t)(fill + i * 7);
	k.tag = dz_key_compute_tag(k.flags, k.algorithm, k.public_key, k.public_key_len);
	return k;
}

static void
write_text(const char *path, const char *text)
{
	dz_error_t err;
	dz_error_init(&err);
	assert_int_equal(dz_file_write_atomic(path, text, strlen(text), 0640, &err), DZ_OK);
}

/* --- State file -------------------------------------------------------------- */

static void
state_path_names(void **state)
{
	(void)state;
	char *p = dz_key_state_path("/var/lib/danezone", "Example.COM.");
	assert_string_equal(p, "/var/lib/danezone/example.com.keys");
	free(p);
	p = dz_key_state_path("/s", ".");
	assert_string_equal(p, "/s/root.keys");
	free(p);
}

static void
state_round_trip(void **state)
{
	(void)state;
	char *dir = make_dir();
	char *path = dz_key_state_path(dir, "example.com");
	dz_keyring_t ring, back;
	dz_policy_t policy, policy_back;
	dz_error_t err;
	uint32_t negative = 0;

	dz_keyring_init(&ring, "Example.com");
	assert_string_equal(ring.zone, "example.com.");
	dz_key_t ksk = make_key(0, DZ_ROLE_KSK, 1);
	ksk.goal = DZ_GOAL_OMNIPRESENT;
	ksk.successor = 3;
	snprintf(ksk.token, sizeof(ksk.token), "token with spaces %%");
	ksk.created = NOW - 100;
	ksk.publish = NOW - 90;
	ksk.active = NOW - 80;
	ksk.retire = NOW + 1000;
	ksk.state[DZ_REC_DNSKEY] = DZ_STATE_OMNIPRESENT;
	ksk.changed[DZ_REC_DNSKEY] = NOW - 50;
	ksk.state[DZ_REC_KRRSIG] = DZ_STATE_OMNIPRESENT;
	ksk.changed[DZ_REC_KRRSIG] = NOW - 50;
	ksk.state[DZ_REC_DS] = DZ_STATE_UNRETENTIVE;
	ksk.changed[DZ_REC_DS] = NOW - 10;
	ksk.ds_seen = NOW - 20;
	ksk.ds_gone = NOW - 5;
	ksk.ds_checked = NOW - 5;
	ksk.ds_ttl_seen = 7200;
	ksk.roll_at = NOW + 5;
	ksk.roll_force = true;
	ksk.backup = DZ_BACKUP_DONE;
	assert_int_equal(dz_keyring_add(&ring, &ksk, NULL), DZ_OK);
	dz_key_t zsk = make_key(0, DZ_ROLE_ZSK, 2);
	zsk.standby = true;
	zsk.backup = DZ_BACKUP_NEEDED;
	assert_int_equal(dz_keyring_add(&ring, &zsk, NULL), DZ_OK);
	dz_key_t csk = make_key(7, DZ_ROLE_CSK, 3);
	csk.predecessor = 1;
	csk.state[DZ_REC_ZRRSIG] = DZ_STATE_RUMOURED;
	csk.changed[DZ_REC_ZRRSIG] = NOW;
	csk.resigned = NOW;
	assert_int_equal(dz_keyring_add(&ring, &csk, NULL), DZ_OK);
	assert_int_equal(ring.next_number, 8);
	dz_ttl_history_set(&ring.ttl[DZ_TTL_DNSKEY], 86400, NOW - 1000);
	dz_ttl_history_set(&ring.ttl[DZ_TTL_DNSKEY], 3600, NOW - 500);
	ring.ds_ttl_observed = 7200;
	ring.clock.wall = NOW;
	ring.clock.boottime = 12345;
	snprintf(ring.clock.boot_id, sizeof(ring.clock.boot_id), "0f1e-2d3c");
	ring.clock.frozen = true;
	ring.clock.frozen_at = NOW - 1;
	ring.clock.jump = 864000;
	snprintf(ring.clock.reason, sizeof(ring.clock.reason), "the wall clock jumped forward");
	ring.clock.ack_requested = 2;
	ring.clock.ack_done = 1;
	ring.step_requested = 4;
	ring.step_done = 3;
	ring.last_commit = NOW;
	dz_key_event_t e = { NOW - 50, 1, DZ_REC_DNSKEY, DZ_STATE_RUMOURED, DZ_STATE_OMNIPRESENT };
	assert_int_equal(dz_keyring_add_event(&ring, &e), DZ_OK);

	assert_true(dz_policy_init_defaults(&policy));
	policy.ksk_rollover = DZ_KSK_DOUBLE_DS;
	policy.cds_digest_types[1] = DZ_DIGEST_SHA384;
	policy.cds_digest_count = 2;
	policy.ds_observation = DZ_DS_OBSERVE_PARENT;
	policy.keys[0].lifetime = 86400 * 30;

	dz_error_init(&err);
	assert_int_equal(dz_key_state_write(path, &ring, &policy, 300, &err), DZ_OK);
	assert_int_equal(dz_key_state_read(path, &back, &policy_back, &negative, &err), DZ_OK);

	assert_string_equal(back.zone, "example.com.");
	assert_int_equal(back.count, 3);
	assert_int_equal(back.next_number, 8);
	const dz_key_t *k = &back.keys[0];
	assert_int_equal(k->number, 1);
	assert_string_equal(k->token, "token with spaces %");
	assert_int_equal(k->tag, ksk.tag);
	assert_memory_equal(k->public_key, ksk.public_key, 64);
	assert_memory_equal(k->key_id, ksk.key_id, 16);
	assert_int_equal(k->goal, DZ_GOAL_OMNIPRESENT);
	assert_int_equal(k->successor, 3);
	assert_int_equal(k->state[DZ_REC_DS], DZ_STATE_UNRETENTIVE);
	assert_int_equal(k->changed[DZ_REC_DS], NOW - 10);
	assert_int_equal(k->changed[DZ_REC_ZRRSIG], DZ_KEY_TIME_NONE);
	assert_int_equal(k->ds_seen, NOW - 20);
	assert_int_equal(k->ds_gone, NOW - 5);
	assert_int_equal(k->ds_ttl_seen, 7200);
	assert_int_equal(k->roll_at, NOW + 5);
	assert_true(k->roll_force);
	assert_int_equal(k->backup, DZ_BACKUP_DONE);
	assert_int_equal(k->retire, NOW + 1000);
	assert_true(back.keys[1].standby);
	assert_int_equal(back.keys[1].backup, DZ_BACKUP_NEEDED);
	assert_int_equal(back.keys[2].number, 7);
	assert_int_equal(back.keys[2].predecessor, 1);
	assert_int_equal(back.keys[2].resigned, NOW);
	assert_int_equal(back.ttl[DZ_TTL_DNSKEY].count, 2);
	assert_int_equal(back.ttl[DZ_TTL_DNSKEY].entries[0].until, NOW - 500);
	assert_int_equal(back.ttl[DZ_TTL_DNSKEY].entries[1].until, DZ_TIME_NEVER);
	assert_true(back.clock.frozen);
	assert_string_equal(back.clock.reason, "the wall clock jumped forward");
	assert_string_equal(back.clock.boot_id, "0f1e-2d3c");
	assert_int_equal(back.clock.jump, 864000);
	assert_int_equal(back.clock.ack_requested, 2);
	assert_int_equal(back.step_requested, 4);
	assert_int_equal(back.event_count, 1);
	assert_int_equal(back.events[0].to, DZ_STATE_OMNIPRESENT);
	assert_int_equal(negative, 300);
	assert_int_equal(policy_back.ksk_rollover, DZ_KSK_DOUBLE_DS);
	assert_int_equal(policy_back.cds_digest_count, 2);
	assert_int_equal(policy_back.cds_digest_types[1], DZ_DIGEST_SHA384);
	assert_int_equal(policy_back.ds_observation, DZ_DS_OBSERVE_PARENT);
	assert_int_equal(policy_back.key_count, 1);
	assert_int_equal(policy_back.keys[0].lifetime, 86400 * 30);
	assert_string_equal(policy_back.name, "default");

	dz_keyring_clear(&back);
	dz_policy_clear(&policy_back);
	dz_keyring_clear(&ring);
	dz_policy_clear(&policy);
	free(path);
	remove_dir(dir);
}

static void
expect_read_error(const char *path, const char *text, dz_result_t code, const char *fragment)
{
	dz_keyring_t ring;
	dz_error_t err;

	write_text(path, text);
	dz_error_init(&err);
	assert_int_equal(dz_key_state_read(path, &ring, NULL, NULL, &err), code);
	if (strstr(err.message, fragment) == NULL)
		fail_msg("expected '%s' in: %s", fragment, err.message);
}

static void
state_read_errors(void **state)
{
	(void)state;
	char *dir = make_dir();
	char path[256];
	dz_keyring_t ring;
	dz_error_t err;

	snprintf(path, sizeof(path), "%s/zone.keys", dir);
	dz_error_init(&err);
	assert_int_equal(dz_key_state_read(path, &ring, NULL, NULL, &err), DZ_ENOTFOUND);
	expect_read_error(path, "danezone-keystate 1\nzone example.com.\nnext-key 1\n", DZ_ESYNTAX,
			  "line 4: the file is truncated");
	expect_read_error(path, "danezone-keystate 1\nzone example.com.\nnext-key 1 extra=1\nend\n",
			  DZ_ESYNTAX, "line 3: expected one value after 'next-key'");
	expect_read_error(path, "danezone-keystate 2\nzone example.com.\nend\n", DZ_ENOTSUP,
			  "has format version 2");
	expect_read_error(path, "something else\n", DZ_ESYNTAX, "line 1: not a danezone key state");
	expect_read_error(path, "danezone-keystate 1\nzone example.com.\nwidget 3\nend\n",
			  DZ_ESYNTAX, "line 3: unknown record type 'widget'");
	expect_read_error(path,
			  "danezone-keystate 1\nzone example.com.\nstep requested=1 done=0 colour=red\n"
			  "end\n",
			  DZ_ESYNTAX, "line 3: unknown field 'colour=red'");
	expect_read_error(path, "danezone-keystate 1\nzone example.com.\nend\nzone other.\n",
			  DZ_ESYNTAX, "line 4: data after the end line");
	expect_read_error(path,
			  "danezone-keystate 1\nzone example.com.\n"
			  "event time=2027-01-01T00:00:00Z key=1 record=dnskey from=hidden to=loud\n"
			  "end\n",
			  DZ_ESYNTAX, "line 3: unknown key state 'loud'");
	remove_dir(dir);
}

static void
state_rejects_record_role_lacks(void **state)
{
	(void)state;
	char *dir = make_dir();
	char *path = dz_key_state_path(dir, "example.com.");
	dz_keyring_t ring, back;
	dz_error_t err;

	dz_keyring_init(&ring, "example.com.");
	dz_key_t zsk = make_key(0, DZ_ROLE_ZSK, 9);
	assert_int_equal(dz_keyring_add(&ring, &zsk, NULL), DZ_OK);
	dz_error_init(&err);
	assert_int_equal(dz_key_state_write(path, &ring, NULL, 0, &err), DZ_OK);
	/* Turn the ZSK's "ds=-" into a state: a ZSK has no DS. */
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(dz_file_read_all(path, 1 << 20, &text, &len, &err), DZ_OK);
	char *ds = strstr(text, " ds=-");
	assert_non_null(ds);
	char edited[8192];
	snprintf(edited, sizeof(edited), "%.*s ds=hidden@-%s", (int)(ds - text), text, ds + 5);
	write_text(path, edited);
	assert_int_equal(dz_key_state_read(path, &back, NULL, NULL, &err), DZ_ESYNTAX);
	assert_non_null(strstr(err.message, "state given for a record the role lacks 'ds'"));
	free(text);
	dz_keyring_clear(&ring);
	free(path);
	remove_dir(dir);
}

/* --- Operator fields merged at commit ---------------------------------------- */

static void
commit_keeps_operator_changes(void **state)
{
	(void)state;
	char *dir = make_dir();
	dz_key_sim_t *keys = dz_key_sim_create(7);
	dz_policy_t policy;
	dz_key_manager_t *mgr = NULL;
	dz_key_plan_t *plan = NULL;
	dz_error_t err;

	assert_true(dz_policy_init_defaults(&policy));
	dz_key_manager_config_t config = { .zone = "example.com.", .state_dir = dir,
					   .policy = &policy, .provider = dz_key_sim_provider(keys) };
	dz_error_init(&err);
	assert_int_equal(dz_key_manager_create(&config, &mgr, &err), DZ_OK);
	assert_int_equal(dz_key_manager_prepare(mgr, NOW, &plan, &err), DZ_OK);
	dz_key_commit_t info = { .published_at = NOW, .full_resign = true };
	assert_int_equal(dz_key_manager_commit(mgr, plan, &info, &err), DZ_OK);
	dz_key_plan_destroy(plan);

	/* The daemon decides ... */
	assert_int_equal(dz_key_manager_prepare(mgr, NOW + 60, &plan, &err), DZ_OK);
	/* ... while a command requests a rollover through the state file ... */
	char *path = dz_key_state_path(dir, "example.com.");
	int lock = -1;
	dz_keyring_t disk;
	assert_int_equal(dz_key_state_lock(path, &lock, &err), DZ_OK);
	assert_int_equal(dz_key_state_read(path, &disk, NULL, NULL, &err), DZ_OK);
	uint32_t number = 0;
	for (size_t i = 0; i < disk.count; i++) {
		if (!disk.keys[i].standby)
			number = disk.keys[i].number;
	}
	assert_int_equal(dz_key_op_request_rollover(&disk, number, NOW + 3600, false, NOW + 60, &err),
			 DZ_OK);
	assert_int_equal(dz_key_state_write(path, &disk, &policy, 0, &err), DZ_OK);
	dz_keyring_clear(&disk);
	dz_key_state_unlock(lock);
	/* ... and the commit keeps it. */
	assert_int_equal(dz_key_manager_commit(mgr, plan, &info, &err), DZ_OK);
	dz_key_plan_destroy(plan);
	assert_int_equal(dz_key_state_read(path, &disk, NULL, NULL, &err), DZ_OK);
	assert_int_equal(dz_keyring_find(&disk, number)->roll_at, NOW + 3600);
	assert_int_equal(dz_keyring_find((dz_keyring_t *)dz_key_manager_ring(mgr), number)->roll_at,
			 NOW + 3600);
	/* A plan is committed once. */
	dz_keyring_clear(&disk);
	free(path);
	dz_key_manager_destroy(mgr);
	dz_key_sim_destroy(keys);
	dz_policy_clear(&policy);
	remove_dir(dir);
}

/* --- CDS and DS ---------------------------------------------------------------- */

/* SHA-256 DS digest per RFC 4034 section 5.1.4: owner wire form, then DNSKEY RDATA. */
static void
independent_digest(const char *owner, const dz_key_t *k, uint8_t out[32])
{
	uint8_t wire[256];
	size_t n = 0;
	const char *p = owner;
	while (*p != '\0' && *p != '.') {
		const char *dot = strchr(p, '.');
		size_t len = (size_t)(dot - p);
		wire[n++] = (uint8_t)len;
		for (size_t i = 0; i < len; i++)
			wire[n++] = (uint8_t)tolower((unsigned char)p[i]);
		p = dot + 1;
	}
	wire[n++] = 0;
	uint8_t head[4] = { (uint8_t)(k->flags >> 8), (uint8_t)k->flags, 3, k->algorithm };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, wire, n);
	EVP_DigestUpdate(ctx, head, 4);
	EVP_DigestUpdate(ctx, k->public_key, k->public_key_len);
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	assert_int_equal(len, 32);
}

static dz_zone_key_t
zone_key(const dz_key_t *k, bool publish_cds)
{
	dz_zone_key_t z;
	memset(&z, 0, sizeof(z));
	z.algorithm = k->algorithm;
	z.flags = k->flags;
	z.key_tag = k->tag;
	memcpy(z.public_key, k->public_key, k->public_key_len);
	z.public_key_len = k->public_key_len;
	z.publish = true;
	z.publish_cds = publish_cds;
	return z;
}

/* RDATA of the i-th RR in a concatenation of uncompressed RRs, with its type. */
static const uint8_t *
nth_rdata(const dz_buf_t *buf, size_t n, size_t *len, uint16_t *type)
{
	size_t pos = 0;
	for (size_t i = 0; pos < buf->len; i++) {
		while (buf->data[pos] != 0)
			pos += buf->data[pos] + 1;
		pos++;
		*type = (uint16_t)(buf->data[pos] << 8 | buf->data[pos + 1]);
		pos += 8;
		*len = (size_t)(buf->data[pos] << 8 | buf->data[pos + 1]);
		pos += 2;
		if (i == n)
			return buf->data + pos;
		pos += *len;
	}
	return NULL;
}

static void
cds_records_match_keys(void **state)
{
	(void)state;
	dz_key_t wanted = make_key(1, DZ_ROLE_KSK, 4);
	dz_key_t other = make_key(2, DZ_ROLE_KSK, 5);
	dz_zone_key_t zk[2] = { zone_key(&wanted, true), zone_key(&other, false) };
	dz_keyset_t ks = { .keys = zk, .count = 2 };
	dz_policy_t policy;
	dz_buf_t cds, cdnskey;
	dz_error_t err;
	size_t len;
	uint16_t type;

	assert_true(dz_policy_init_defaults(&policy));
	policy.cds_digest_types[1] = DZ_DIGEST_SHA384;
	policy.cds_digest_count = 2;
	dz_buf_init(&cds);
	dz_buf_init(&cdnskey);
	dz_error_init(&err);
	assert_int_equal(dz_key_cds_rrsets("Example.COM.", &ks, &policy, 3600, &cds, &cdnskey, &err),
			 DZ_OK);
	/* One CDS per digest type for the one key whose DS is wanted, one CDNSKEY. */
	const uint8_t *r = nth_rdata(&cds, 0, &len, &type);
	assert_non_null(r);
	assert_int_equal(type, 59);
	assert_int_equal(len, 4 + 32);
	assert_int_equal(r[0] << 8 | r[1], wanted.tag);
	assert_int_equal(r[2], wanted.algorithm);
	assert_int_equal(r[3], 2);
	uint8_t digest[32];
	independent_digest("example.com.", &wanted, digest);
	assert_memory_equal(r + 4, digest, 32);
	r = nth_rdata(&cds, 1, &len, &type);
	assert_non_null(r);
	assert_int_equal(len, 4 + 48);
	assert_int_equal(r[3], 4);
	assert_null(nth_rdata(&cds, 2, &len, &type));
	r = nth_rdata(&cdnskey, 0, &len, &type);
	assert_non_null(r);
	assert_int_equal(type, 60);
	assert_int_equal(len, 4 + wanted.public_key_len);
	assert_memory_equal(r + 4, wanted.public_key, wanted.public_key_len);
	assert_null(nth_rdata(&cdnskey, 1, &len, &type));

	/* The same DS RDATA for comparisons with the parent. */
	uint8_t ds[DZ_DS_RDATA_MAX];
	size_t ds_len = 0;
	assert_int_equal(dz_key_ds_rdata("example.com.", wanted.flags, wanted.algorithm,
					 wanted.public_key, wanted.public_key_len, 2, ds, &ds_len,
					 &err),
			 DZ_OK);
	assert_int_equal(ds_len, 36);
	assert_memory_equal(ds + 4, digest, 32);
	assert_int_equal(dz_key_ds_rdata("example.com.", wanted.flags, wanted.algorithm,
					 wanted.public_key, wanted.public_key_len, 1, ds, &ds_len,
					 &err),
			 DZ_ENOTSUP);

	/* RFC 8078 delete records. */
	cds.len = 0;
	cdnskey.len = 0;
	zk[0].publish_cds = false;
	ks.publish_cds_delete = true;
	assert_int_equal(dz_key_cds_rrsets("example.com.", &ks, &policy, 3600, &cds, &cdnskey, &err),
			 DZ_OK);
	r = nth_rdata(&cds, 0, &len, &type);
	static const uint8_t cds_delete[] = { 0, 0, 0, 0, 0 };
	static const uint8_t cdnskey_delete[] = { 0, 0, 3, 0, 0 };
	assert_int_equal(len, 5);
	assert_memory_equal(r, cds_delete, 5);
	r = nth_rdata(&cdnskey, 0, &len, &type);
	assert_int_equal(len, 5);
	assert_memory_equal(r, cdnskey_delete, 5);
	dz_buf_clear(&cds);
	dz_buf_clear(&cdnskey);
	dz_policy_clear(&policy);
}

/* --- Parent observations ------------------------------------------------------- */

static dz_parent_answer_t
answer(const char *server, const dz_keyring_t *ring, const dz_key_t *const *keys, size_t count)
{
	dz_parent_answer_t a;
	memset(&a, 0, sizeof(a));
	snprintf(a.server, sizeof(a.server), "%s", server);
	a.result = DZ_OK;
	a.authoritative = true;
	a.ttl = count > 0 ? 3600 : 0;
	for (size_t i = 0; i < count; i++) {
		dz_ds_rdata_t *d = &a.ds[a.ds_count++];
		assert_int_equal(dz_key_ds_rdata(ring->zone, keys[i]->flags, keys[i]->algorithm,
						 keys[i]->public_key, keys[i]->public_key_len, 2,
						 d->data, &d->len, NULL),
				 DZ_OK);
	}
	return a;
}

static void
parent_needs_every_server(void **state)
{
	(void)state;
	dz_keyring_t ring;
	dz_policy_t policy;
	dz_buf_t report;
	dz_result_t result;

	dz_keyring_init(&ring, "example.com.");
	dz_key_t k = make_key(1, DZ_ROLE_KSK, 6);
	k.goal = DZ_GOAL_OMNIPRESENT;
	k.state[DZ_REC_DS] = DZ_STATE_RUMOURED;
	k.changed[DZ_REC_DS] = NOW - 100;
	assert_int_equal(dz_keyring_add(&ring, &k, NULL), DZ_OK);
	assert_true(dz_policy_init_defaults(&policy));
	dz_buf_init(&report);
	const dz_key_t *with[] = { &ring.keys[0] };

	/* One server lacks it: nothing is recorded and the report names the server. */
	dz_parent_answer_t answers[2] = { answer("ns1", &ring, with, 1),
					  answer("ns2", &ring, NULL, 0) };
	assert_int_equal(dz_key_parent_observe(&ring, &policy, answers, 2, NOW, &report, &result), 1);
	assert_int_equal(result, DZ_OK);
	assert_int_equal(ring.keys[0].ds_seen, DZ_KEY_TIME_NONE);
	assert_non_null(strstr((char *)report.data, "ns2 does not serve the DS of key"));
	assert_null(strstr((char *)report.data, "ns1 does not"));

	/* A response without AA proves nothing. */
	report.len = 0;
	answers[1] = answer("ns2", &ring, with, 1);
	answers[1].authoritative = false;
	assert_int_equal(dz_key_parent_observe(&ring, &policy, answers, 2, NOW, &report, &result), 1);
	assert_int_equal(ring.keys[0].ds_seen, DZ_KEY_TIME_NONE);
	assert_non_null(strstr((char *)report.data, "ns2 answered the DS query without the AA bit"));

	/* Both serve it: seen now. */
	report.len = 0;
	answers[1].authoritative = true;
	assert_int_equal(dz_key_parent_observe(&ring, &policy, answers, 2, NOW, &report, &result), 0);
	assert_int_equal(ring.keys[0].ds_seen, NOW);
	assert_int_equal(ring.keys[0].ds_checked, NOW);
	assert_int_equal(ring.ds_ttl_observed, 3600);
	/* Later confirmations keep the first time. */
	assert_int_equal(dz_key_parent_observe(&ring, &policy, answers, 2, NOW + 60, &report, &result),
			 0);
	assert_int_equal(ring.keys[0].ds_seen, NOW);
	assert_int_equal(ring.keys[0].ds_checked, NOW + 60);

	/* It disappears: the observation is withdrawn. */
	report.len = 0;
	answers[0] = answer("ns1", &ring, NULL, 0);
	assert_true(dz_key_parent_observe(&ring, &policy, answers, 2, NOW + 120, &report, &result) > 0);
	assert_int_equal(ring.keys[0].ds_seen, DZ_KEY_TIME_NONE);
	assert_non_null(strstr((char *)report.data, "and no longer does"));
	dz_buf_clear(&report);
	dz_keyring_clear(&ring);
	dz_policy_clear(&policy);
}

static void
parent_wrong_and_foreign_ds(void **state)
{
	(void)state;
	dz_keyring_t ring;
	dz_policy_t policy;
	dz_buf_t report;
	dz_result_t result;

	dz_keyring_init(&ring, "example.com.");
	dz_key_t k = make_key(1, DZ_ROLE_KSK, 6);
	k.goal = DZ_GOAL_OMNIPRESENT;
	k.state[DZ_REC_DS] = DZ_STATE_RUMOURED;
	k.changed[DZ_REC_DS] = NOW - 100;
	assert_int_equal(dz_keyring_add(&ring, &k, NULL), DZ_OK);
	assert_true(dz_policy_init_defaults(&policy));
	dz_buf_init(&report);
	const dz_key_t *with[] = { &ring.keys[0] };

	dz_parent_answer_t a = answer("ns1", &ring, with, 1);
	a.ds[0].data[10] ^= 0x40; /* digest corrupted */
	/* A DS of RSASHA256 (8) that names no key. */
	a.ds[1] = a.ds[0];
	a.ds[1].data[0] ^= 0xff;
	a.ds[1].data[2] = DZ_ALG_RSASHA256;
	a.ds_count = 2;
	assert_true(dz_key_parent_observe(&ring, &policy, &a, 1, NOW, &report, &result) >= 3);
	assert_int_equal(ring.keys[0].ds_seen, DZ_KEY_TIME_NONE);
	const char *text = (const char *)report.data;
	assert_non_null(strstr(text, "with a digest that does not match the key"));
	assert_non_null(strstr(text, "matches no key of the zone"));
	assert_non_null(strstr(text, "does not sign with (RFC 6840 section 5.11)"));

	/* Removal: every server without it counts as gone. */
	report.len = 0;
	ring.keys[0].state[DZ_REC_DS] = DZ_STATE_UNRETENTIVE;
	ring.keys[0].changed[DZ_REC_DS] = NOW;
	dz_parent_answer_t empty = answer("ns1", &ring, NULL, 0);
	assert_int_equal(dz_key_parent_observe(&ring, &policy, &empty, 1, NOW + 10, &report, &result),
			 0);
	assert_int_equal(ring.keys[0].ds_gone, NOW + 10);
	dz_buf_clear(&report);
	dz_keyring_clear(&ring);
	dz_policy_clear(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_path_names),
		cmocka_unit_test(state_round_trip),
		cmocka_unit_test(state_read_errors),
		cmocka_unit_test(state_rejects_record_role_lacks),
		cmocka_unit_test(commit_keeps_operator_changes),
		cmocka_unit_test(cds_records_match_keys),
		cmocka_unit_test(parent_needs_every_server),
		cmocka_unit_test(parent_wrong_and_foreign_ds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

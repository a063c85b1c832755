#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "keystore/operator.h"
#include "signer/key_request.h"
#include "signer/key_state_cli.h"

static const struct {
	const char *name;
	dz_key_request_kind_t kind;
	int min_args;
	int max_args;
} request_kinds[] = {
#define DZ_KEY_REQUEST_ENTRY(name, kind, min_args, max_args, usage) { name, kind, min_args, max_args },
	DZ_KEY_REQUEST_COMMANDS(DZ_KEY_REQUEST_ENTRY)
#undef DZ_KEY_REQUEST_ENTRY
};

dz_result_t
dz_key_request_parse(int argc, char **argv, dz_time_t now, dz_key_request_t *request,
		     dz_error_t *err)
{
	size_t i = 0;

	memset(request, 0, sizeof(*request));
	while (i < DZ_ARRAY_SIZE(request_kinds) && strcmp(request_kinds[i].name, argv[0]) != 0)
		i++;
	if (i == DZ_ARRAY_SIZE(request_kinds))
		return dz_error_set(err, DZ_EINVAL, "'%s' is not a key state command", argv[0]);
	if (argc - 1 < request_kinds[i].min_args || argc - 1 > request_kinds[i].max_args)
		return dz_error_set(err, DZ_EINVAL, "'%s' takes %d to %d arguments, not %d", argv[0],
				    request_kinds[i].min_args, request_kinds[i].max_args, argc - 1);

	request->kind = request_kinds[i].kind;
	request->zone = argv[1];
	request->now = now;
	request->when = now;
	switch (request->kind) {
	case DZ_KEY_REQUEST_DS_SEEN:
	case DZ_KEY_REQUEST_DS_GONE:
		request->key = argv[2];
		return argc > 3 ? dz_keycli_time(argv[3], now, &request->when, err) : DZ_OK;
	case DZ_KEY_REQUEST_ROLLOVER:
		request->key = argv[2];
		for (int arg = 3; arg < argc; arg++) {
			if (strcmp(argv[arg], "force") == 0) {
				request->force = true;
				continue;
			}
			dz_result_t result = dz_keycli_time(argv[arg], now, &request->when, err);
			if (result != DZ_OK)
				return result;
		}
		return DZ_OK;
	case DZ_KEY_REQUEST_BACKUP_DONE:
		request->key = argv[2];
		return DZ_OK;
	case DZ_KEY_REQUEST_CLOCK_ACK:
	case DZ_KEY_REQUEST_STEP:
		return DZ_OK;
	}
	return dz_error_set(err, DZ_EINTERNAL, "unhandled key state command '%s'", argv[0]);
}

dz_result_t
dz_key_request_role_key(const dz_keyring_t *ring, dz_key_role_t role, uint32_t *number,
			dz_error_t *err)
{
	*number = 0;
	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		if (!k->standby && k->goal == DZ_GOAL_OMNIPRESENT && k->successor == 0 &&
		    k->role == role)
			*number = k->number;
	}
	if (*number == 0)
		return dz_error_set(err, DZ_ENOTFOUND, "zone %s has no %s in use that could be rolled",
				    ring->zone, dz_role_name(role));
	return DZ_OK;
}

dz_result_t
dz_key_request_apply(dz_keyring_t *ring, void *ctx, dz_error_t *err)
{
	dz_key_request_t *request = ctx;
	dz_result_t result = DZ_OK;

	if (request->key != NULL)
		result = dz_key_op_resolve(ring, request->key, &request->number, err);
	if (result != DZ_OK)
		return result;

	switch (request->kind) {
	case DZ_KEY_REQUEST_DS_SEEN:
		return dz_key_op_ds_seen(ring, request->number, request->when, request->now, err);
	case DZ_KEY_REQUEST_DS_GONE:
		return dz_key_op_ds_gone(ring, request->number, request->when, request->now, err);
	case DZ_KEY_REQUEST_ROLLOVER:
		if (request->key == NULL &&
		    (result = dz_key_request_role_key(ring, request->role, &request->number, err)) !=
			    DZ_OK)
			return result;
		request->tag = dz_keyring_find(ring, request->number)->tag;
		return dz_key_op_request_rollover(ring, request->number, request->when, request->force,
						  request->now, err);
	case DZ_KEY_REQUEST_CLOCK_ACK:
		if (!ring->clock.frozen)
			return dz_error_set(err, DZ_ESTATE,
					    "key transitions of zone %s are not frozen; nothing to "
					    "acknowledge",
					    ring->zone);
		dz_key_op_clock_ack(ring);
		return DZ_OK;
	case DZ_KEY_REQUEST_STEP:
		dz_key_op_step(ring);
		return DZ_OK;
	case DZ_KEY_REQUEST_BACKUP_DONE:
		return dz_key_op_confirm_backup(ring, request->number, err);
	}
	return dz_error_set(err, DZ_EINTERNAL, "unhandled key state request %d", (int)request->kind);
}

dz_result_t
dz_key_request_describe(const dz_key_request_t *request, dz_buf_t *out)
{
	char when[DZ_TIME_TEXT_MAX];
	dz_time_t start = request->when < request->now ? request->now : request->when;

	switch (request->kind) {
	case DZ_KEY_REQUEST_DS_SEEN:
	case DZ_KEY_REQUEST_DS_GONE:
		return dz_buf_printf(out,
				     "recorded: the parent %s the DS of key %s (#%" PRIu32
				     ") of zone %s since %s\n",
				     request->kind == DZ_KEY_REQUEST_DS_GONE ? "no longer serves"
									     : "serves",
				     request->key, request->number, request->zone,
				     dz_time_format(request->when, when));
	case DZ_KEY_REQUEST_ROLLOVER:
		return dz_buf_printf(out,
				     "recorded: %srollover of key %u (#%" PRIu32
				     ") of zone %s requested for %s\n",
				     request->force ? "emergency " : "", request->tag, request->number,
				     request->zone, dz_time_format(start, when));
	case DZ_KEY_REQUEST_CLOCK_ACK:
		return dz_buf_printf(out, "recorded: clock acknowledged for zone %s\n", request->zone);
	case DZ_KEY_REQUEST_STEP:
		return dz_buf_printf(out, "recorded: one manual step for zone %s\n", request->zone);
	case DZ_KEY_REQUEST_BACKUP_DONE:
		return dz_buf_printf(out, "recorded: key %s (#%" PRIu32 ") of zone %s is backed up\n",
				     request->key, request->number, request->zone);
	}
	return DZ_EINTERNAL;
}

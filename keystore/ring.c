#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "keystore/ring.h"

void
dz_keyring_init(dz_keyring_t *ring, const char *zone)
{
	size_t len = 0;

	memset(ring, 0, sizeof(*ring));
	for (; zone[len] != '\0' && len < DZ_ZONE_NAME_MAX - 1; len++)
		ring->zone[len] = (char)tolower((unsigned char)zone[len]);
	if (len == 0 || ring->zone[len - 1] != '.')
		ring->zone[len++] = '.';
	ring->zone[len] = '\0';
	ring->next_number = 1;
	ring->clock.wall = DZ_KEY_TIME_NONE;
	ring->clock.frozen_at = DZ_KEY_TIME_NONE;
	ring->last_commit = DZ_KEY_TIME_NONE;
}

void
dz_keyring_clear(dz_keyring_t *ring)
{
	free(ring->keys);
	free(ring->events);
	ring->keys = NULL;
	ring->count = 0;
	ring->cap = 0;
	ring->events = NULL;
	ring->event_count = 0;
	ring->event_cap = 0;
}

dz_result_t
dz_keyring_copy(dz_keyring_t *dst, const dz_keyring_t *src)
{
	*dst = *src;
	dst->keys = NULL;
	dst->events = NULL;
	dst->cap = src->count;
	dst->event_cap = src->event_count;
	if (src->count > 0) {
		dst->keys = malloc(src->count * sizeof(*dst->keys));
		if (dst->keys == NULL)
			goto nomem;
		memcpy(dst->keys, src->keys, src->count * sizeof(*dst->keys));
	}
	if (src->event_count > 0) {
		dst->events = malloc(src->event_count * sizeof(*dst->events));
		if (dst->events == NULL)
			goto nomem;
		memcpy(dst->events, src->events, src->event_count * sizeof(*dst->events));
	}
	return DZ_OK;

nomem:
	free(dst->keys);
	free(dst->events);
	dz_keyring_init(dst, src->zone);
	return DZ_ENOMEM;
}

dz_result_t
dz_keyring_add(dz_keyring_t *ring, const dz_key_t *key, dz_key_t **added)
{
	if (ring->count == ring->cap) {
		size_t cap = ring->cap == 0 ? 8 : ring->cap * 2;
		dz_key_t *keys = realloc(ring->keys, cap * sizeof(*keys));
		if (keys == NULL)
			return DZ_ENOMEM;
		ring->keys = keys;
		ring->cap = cap;
	}
	dz_key_t *k = &ring->keys[ring->count++];
	*k = *key;
	if (k->number == 0)
		k->number = ring->next_number;
	if (k->number >= ring->next_number)
		ring->next_number = k->number + 1;
	if (added != NULL)
		*added = k;
	return DZ_OK;
}

size_t
dz_keyring_index(const dz_keyring_t *ring, uint32_t number)
{
	for (size_t i = 0; i < ring->count; i++) {
		if (ring->keys[i].number == number)
			return i;
	}
	return SIZE_MAX;
}

dz_key_t *
dz_keyring_find(dz_keyring_t *ring, uint32_t number)
{
	size_t i = dz_keyring_index(ring, number);
	return i == SIZE_MAX ? NULL : &ring->keys[i];
}

void
dz_keyring_remove(dz_keyring_t *ring, uint32_t number)
{
	size_t i = dz_keyring_index(ring, number);
	size_t kept = 0;

	if (i == SIZE_MAX)
		return;
	memmove(&ring->keys[i], &ring->keys[i + 1], (ring->count - i - 1) * sizeof(ring->keys[0]));
	ring->count--;
	for (size_t e = 0; e < ring->event_count; e++) {
		if (ring->events[e].key != number)
			ring->events[kept++] = ring->events[e];
	}
	ring->event_count = kept;
}

dz_result_t
dz_keyring_add_event(dz_keyring_t *ring, const dz_key_event_t *event)
{
	if (ring->event_count == ring->event_cap) {
		size_t cap = ring->event_cap == 0 ? 32 : ring->event_cap * 2;
		dz_key_event_t *events = realloc(ring->events, cap * sizeof(*events));
		if (events == NULL)
			return DZ_ENOMEM;
		ring->events = events;
		ring->event_cap = cap;
	}
	ring->events[ring->event_count++] = *event;
	return DZ_OK;
}

size_t
dz_keyring_find_tag(const dz_keyring_t *ring, uint16_t tag, size_t *indexes, size_t max)
{
	size_t found = 0;

	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		if (k->standby || k->tag != tag)
			continue;
		if (found < max)
			indexes[found] = i;
		found++;
	}
	return found;
}

/*
 * zone.h -- the in-memory zone tree of the signer.
 *
 * One node per owner name, in canonical order (RFC 4034 section 6.1), kept
 * in a red-black tree keyed by the name key of signer/name.h.  Every node
 * between the apex and a name with data exists, so empty non-terminals are
 * nodes without RRsets.  RRsets are single allocations: the TTL, the type
 * and the RDATA of every RR as (16-bit length, RDATA) pairs in canonical
 * RDATA order without duplicates (RFC 4034 section 6.3).  Signatures of an
 * RRset are a second blob of (length, RRSIG RDATA) pairs.  Names in RDATA
 * are lower case for the types RFC 4034 section 6.2 lists.
 *
 * NSEC3 records live in a second tree keyed by their hash, each entry
 * linked to the node whose name it hashes.
 *
 * Every change to a node's records goes through the functions here, which
 * record the node as dirty (for the next signing run, signer/update.h) and,
 * when change tracking is on, keep a copy of the node's records as they
 * were before the first change (for the IXFR difference, signer/changes.h).
 *
 * Not thread safe: one thread changes a zone at a time.  Signing workers
 * write only the signature blobs of the RRsets handed to them.
 */
#ifndef DZ_SIGNER_ZONE_H
#define DZ_SIGNER_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "signer/name.h"
#include "signer/rbtree.h"

/* RR types the signer handles by number (IANA "Resource Record (RR) TYPEs"). */
#define DZ_TYPE_A 1
#define DZ_TYPE_NS 2
#define DZ_TYPE_CNAME 5
#define DZ_TYPE_SOA 6
#define DZ_TYPE_MX 15
#define DZ_TYPE_TXT 16
#define DZ_TYPE_AAAA 28
#define DZ_TYPE_DNAME 39
#define DZ_TYPE_DS 43
#define DZ_TYPE_RRSIG 46
#define DZ_TYPE_NSEC 47
#define DZ_TYPE_DNSKEY 48
#define DZ_TYPE_NSEC3 50
#define DZ_TYPE_NSEC3PARAM 51
#define DZ_TYPE_TLSA 52
#define DZ_TYPE_CDS 59
#define DZ_TYPE_CDNSKEY 60
#define DZ_CLASS_IN 1

/* SHA-1, the only NSEC3 hash algorithm (RFC 5155 section 11). */
#define DZ_NSEC3_HASH_LEN 20

/* Signatures of one RRset. */
typedef struct dz_sigset {
	uint32_t len;	/* bytes in data */
	uint16_t count; /* RRSIG RRs */
	uint8_t data[]; /* count x (16-bit length, RRSIG RDATA) */
} dz_sigset_t;

/* RRset flags. */
#define DZ_RRSET_CHANGED 0x01 /* content changed after its signatures were made */
#define DZ_RRSET_MANAGED 0x02 /* made by the signer: DNSKEY, CDS, CDNSKEY, NSEC3PARAM */

typedef struct dz_rrset {
	struct dz_rrset *next; /* next RRset at the node, by increasing type */
	dz_sigset_t *sigs;     /* NULL when unsigned */
	uint32_t ttl;
	uint32_t len;	       /* bytes in data */
	uint32_t line;	       /* source line of its first RR, 0 when unknown */
	uint16_t file;	       /* index in the zone's file table, 0 when unknown */
	uint16_t type;
	uint16_t count;	       /* RRs */
	uint16_t flags;	       /* DZ_RRSET_* */
	uint8_t data[];	       /* count x (16-bit length, RDATA), canonical order */
} dz_rrset_t;

/* Node flags. */
#define DZ_NODE_APEX 0x0001
#define DZ_NODE_DELEGATION 0x0002 /* NS below the apex: a zone cut */
#define DZ_NODE_DNAME 0x0004	  /* has a DNAME: names below are occluded */
#define DZ_NODE_OCCLUDED 0x0008	  /* below a zone cut or a DNAME: not authoritative */
#define DZ_NODE_DIRTY 0x0010	  /* in the zone's dirty list */
#define DZ_NODE_TOUCHED 0x0020	  /* its old records are saved for the difference */
#define DZ_NODE_DEAD 0x0040	  /* unlinked from the tree, freed by dz_zone_clear_dirty() */

struct dz_nsec3;

typedef struct dz_node {
	dz_rbnode_t rb;
	struct dz_node *parent;	 /* NULL at the apex */
	dz_rrset_t *rrsets;	 /* by increasing type */
	dz_rrset_t *nsec;	 /* NSEC record of this name, with its signatures */
	struct dz_nsec3 *nsec3;	 /* NSEC3 chain entry of this name */
	uint32_t children;	 /* nodes whose parent this is */
	uint16_t flags;		 /* DZ_NODE_* */
	uint8_t labels;		 /* labels of the name, without the root */
	uint8_t key_len;
	uint8_t key[];		 /* name key (signer/name.h) */
} dz_node_t;

/* One NSEC3 record of the chain, keyed by hash. */
typedef struct dz_nsec3 {
	dz_rbnode_t rb;
	dz_node_t *node;   /* the name it hashes; NULL when read from a file and not yet matched */
	dz_rrset_t *rrset; /* the NSEC3 RR (count 1) with its signatures */
	uint16_t flags;	   /* DZ_NSEC3_DIRTY, DZ_NSEC3_TOUCHED */
	uint8_t hash[DZ_NSEC3_HASH_LEN];
} dz_nsec3_t;

#define DZ_NSEC3_DIRTY 0x01
#define DZ_NSEC3_TOUCHED 0x02
#define DZ_NSEC3_DEAD 0x04

/* Parameters of the NSEC3 chain (RFC 5155 section 4). */
typedef struct dz_nsec3_params {
	uint16_t iterations;
	uint8_t salt_len;
	uint8_t salt[255];
	bool opt_out;
} dz_nsec3_params_t;

/* Which denial of existence the records in the tree form. */
typedef enum dz_chain_kind {
	DZ_CHAIN_NONE,
	DZ_CHAIN_NSEC,
	DZ_CHAIN_NSEC3,
} dz_chain_kind_t;

struct dz_changes;

typedef struct dz_zone {
	uint8_t origin_key[DZ_NAME_KEY_MAX];
	size_t origin_key_len;
	uint8_t origin_wire[DZ_NAME_WIRE_MAX];
	size_t origin_wire_len;
	char origin_text[DZ_NAME_TEXT_MAX];

	dz_rbtree_t names; /* dz_node_t by name key */
	dz_rbtree_t nsec3; /* dz_nsec3_t by hash */
	dz_node_t *apex;

	/* Chain in the tree and its parameters (set by signer/denial.c). */
	dz_chain_kind_t chain;
	dz_nsec3_params_t chain_params;

	/* Nodes and NSEC3 entries changed since the last signing run. */
	dz_ptrvec_t dirty;
	dz_ptrvec_t dirty_nsec3;

	/*
	 * Positions where the chain lost a member since the last run: name keys
	 * as (length byte, key) pairs and 20-byte hashes.
	 */
	dz_buf_t removed_names;
	dz_buf_t removed_hashes;
	/* Unlinked nodes and NSEC3 entries, freed when the dirty lists are cleared. */
	dz_ptrvec_t dead;
	dz_ptrvec_t dead_nsec3;

	/* Source file names; index 0 is "" for "unknown". */
	dz_ptrvec_t files;

	/* Old records of changed owners, while change tracking is on. */
	struct dz_changes *changes;

	/* Earliest signature expiration in the zone; DZ_TIME_NEVER-like when none. */
	int64_t earliest_expiration;
	/*
	 * Latest signature inception in the zone, INT64_MIN when none.  Later
	 * than the signing time only after the clock went back; then every
	 * RRset is visited so that no signature from the future stays.
	 */
	int64_t latest_inception;
	/* Serial of the SOA that was last published (or read from the previous zone). */
	bool have_published_serial;
	uint32_t published_serial;
} dz_zone_t;

/*
 * Create an empty zone for `origin` (uncompressed wire form, any case).
 * Returns NULL on ENOMEM or a malformed origin.  Free with dz_zone_destroy().
 */
dz_zone_t *dz_zone_create(const uint8_t *origin_wire, size_t origin_len);

/* Free the zone and everything it owns; NULL is ignored. */
void dz_zone_destroy(dz_zone_t *zone);

/* Add a source file name and return its index (0 on ENOMEM). */
uint16_t dz_zone_file_index(dz_zone_t *zone, const char *path);
/* The file name at an index; "" for 0 or unknown. */
const char *dz_zone_file_name(const dz_zone_t *zone, uint16_t index);

/* Find the node of a name key, or NULL. */
dz_node_t *dz_zone_find(const dz_zone_t *zone, const uint8_t *key, size_t key_len);

/* The node with the greatest name below or equal to `key`, or NULL. */
dz_node_t *dz_zone_find_le(const dz_zone_t *zone, const uint8_t *key, size_t key_len);

/*
 * Find or create the node of a name at or below the apex, creating missing
 * ancestors as empty non-terminals.  Occlusion of new nodes follows their
 * parent.  Returns DZ_ENOMEM or DZ_EINVAL (name not in the zone).
 */
dz_result_t dz_zone_get(dz_zone_t *zone, const uint8_t *key, size_t key_len, dz_node_t **node);

/*
 * Add the node of a name that sorts after every name in the tree, for
 * loading names in canonical order without searching the tree.  `last` is
 * the last node in order (the apex in a new zone) and receives the new
 * node.  Missing ancestors are made as empty non-terminals, and occlusion
 * follows the parent as in dz_zone_get(); the new nodes are not marked
 * dirty.  Returns DZ_EINVAL when the name is not below the apex or does
 * not sort after `last`, DZ_ENOMEM.
 */
dz_result_t dz_zone_append(dz_zone_t *zone, const uint8_t *key, size_t key_len, dz_node_t **last);

/* In-order traversal of the names. */
dz_node_t *dz_zone_first(const dz_zone_t *zone);
dz_node_t *dz_zone_next(const dz_node_t *node);
dz_node_t *dz_zone_prev(const dz_node_t *node);

/* The RRset of `type` at a node, or NULL. */
dz_rrset_t *dz_node_rrset(const dz_node_t *node, uint16_t type);

/* Whether a node holds no RRsets and no denial record (an empty non-terminal or a leftover). */
static inline bool
dz_node_is_empty(const dz_node_t *node)
{
	return node->rrsets == NULL;
}

/* RDATA iteration inside a blob of (16-bit length, RDATA) pairs. */
typedef struct dz_rdata_iter {
	const uint8_t *pos;
	const uint8_t *end;
} dz_rdata_iter_t;

static inline void
dz_rdata_iter_init(dz_rdata_iter_t *it, const uint8_t *data, size_t len)
{
	it->pos = data;
	it->end = data + len;
}

/* Next RDATA; false at the end. */
static inline bool
dz_rdata_iter_next(dz_rdata_iter_t *it, const uint8_t **rdata, uint16_t *len)
{
	if (it->pos + 2 > it->end)
		return false;
	*len = (uint16_t)((it->pos[0] << 8) | it->pos[1]);
	*rdata = it->pos + 2;
	it->pos += 2 + *len;
	return true;
}

/* Canonical RDATA order (RFC 4034 section 6.3): octet strings, shorter first on a tie. */
int dz_rdata_compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);

/* Result of dz_zone_add_rdata(). */
typedef enum dz_add_outcome {
	DZ_ADD_NEW,	      /* RR added */
	DZ_ADD_DUPLICATE,     /* the same RR was there already */
	DZ_ADD_TTL_LOWERED,   /* added; the RRset's TTL was higher and was lowered to the new RR's */
	DZ_ADD_TTL_MISMATCH,  /* added with the RRset's lower TTL */
} dz_add_outcome_t;

/*
 * Add one RR to the RRset `type` at `node`.  Mixed TTLs are normalised to
 * the lowest (RFC 2181 section 5.2) and reported in *outcome.  The node is
 * marked dirty; NS and DNAME changes update the occlusion of the subtree.
 * Returns DZ_ENOMEM or DZ_ETOOBIG (RRset above 65535 RRs or 4 GiB).
 */
dz_result_t dz_zone_add_rdata(dz_zone_t *zone, dz_node_t *node, uint16_t type, uint32_t ttl,
			      const uint8_t *rdata, uint16_t rdata_len, uint16_t file,
			      uint32_t line, uint16_t rrset_flags, dz_add_outcome_t *outcome);

/*
 * Delete one RR (matched by type and canonical RDATA, not by TTL).  Sets
 * *found.  An RRset that becomes empty is removed with its signatures.
 */
dz_result_t dz_zone_delete_rdata(dz_zone_t *zone, dz_node_t *node, uint16_t type,
				 const uint8_t *rdata, uint16_t rdata_len, bool *found);

/*
 * Replace the whole RRset `type` at a node with `count` RDATA given as a
 * blob of (length, RDATA) pairs in any order (sorted and deduplicated
 * here); count 0 removes it.  When the content and TTL are unchanged the
 * RRset and its signatures stay.  Sets *changed when anything changed.
 */
dz_result_t dz_zone_set_rrset(dz_zone_t *zone, dz_node_t *node, uint16_t type, uint32_t ttl,
			      const uint8_t *blob, size_t blob_len, uint16_t rrset_flags,
			      bool *changed);

/* Replace the signatures of an RRset (takes ownership of sigs, may be NULL). */
void dz_zone_set_sigs(dz_zone_t *zone, dz_node_t *node, dz_rrset_t *rrset, dz_sigset_t *sigs);

/*
 * Remove empty leaf nodes in the dirty list and their empty ancestors,
 * which must have no NSEC or NSEC3 record any more.  Calls `removed` with
 * each removed name key before the node is freed.
 */
void dz_zone_prune(dz_zone_t *zone, void (*removed)(void *ctx, const uint8_t *key, size_t key_len),
		   void *ctx);

/* Mark a node or an NSEC3 entry dirty for the next signing run. */
dz_result_t dz_zone_mark_dirty(dz_zone_t *zone, dz_node_t *node);
dz_result_t dz_zone_mark_nsec3_dirty(dz_zone_t *zone, dz_nsec3_t *entry);

/* Forget the dirty lists (after a signing run). */
void dz_zone_clear_dirty(dz_zone_t *zone);

/*
 * Save the records of a node or an NSEC3 entry as they are before a change,
 * once per signing run, when change tracking is on.  The mutation functions
 * here call it; code that edits records directly must call it first.
 */
dz_result_t dz_zone_touch(dz_zone_t *zone, dz_node_t *node);
dz_result_t dz_zone_touch_nsec3(dz_zone_t *zone, dz_nsec3_t *entry);

/*
 * Append the records of a node (RRsets, their signatures, the NSEC record
 * and its signatures) or of an NSEC3 entry to `out` as wire RRs.
 */
dz_result_t dz_zone_node_wire(const dz_zone_t *zone, const dz_node_t *node, dz_buf_t *out);
dz_result_t dz_zone_nsec3_wire(const dz_zone_t *zone, const dz_nsec3_t *entry, dz_buf_t *out);

/* Append the RRs of one RRset and its signatures as wire RRs. */
dz_result_t dz_zone_rrset_wire(const uint8_t *owner, size_t owner_len, const dz_rrset_t *rrset,
			       dz_buf_t *out);

/* Append one wire RR. */
dz_result_t dz_wire_rr_append(dz_buf_t *out, const uint8_t *owner, size_t owner_len, uint16_t type,
			      uint32_t ttl, const uint8_t *rdata, uint16_t rdata_len);

/* Allocate an RRset with `len` bytes of data; NULL on ENOMEM. */
dz_rrset_t *dz_rrset_new(uint16_t type, uint32_t ttl, uint16_t count, const uint8_t *data,
			 size_t len);
/* Free an RRset and its signatures. */
void dz_rrset_free(dz_rrset_t *rrset);
/* Whether two RRsets have the same TTL and RDATA. */
bool dz_rrset_equal(const dz_rrset_t *a, const dz_rrset_t *b);

/* Allocate a signature set from `count` (length, RDATA) pairs of `len` bytes. */
dz_sigset_t *dz_sigset_new(uint16_t count, const uint8_t *data, size_t len);

/* NSEC3 chain entries. */
dz_nsec3_t *dz_zone_nsec3_find(const dz_zone_t *zone, const uint8_t hash[DZ_NSEC3_HASH_LEN]);
/* Insert; DZ_EEXIST when an entry with the hash is there. */
dz_result_t dz_zone_nsec3_insert(dz_zone_t *zone, dz_nsec3_t *entry);
/*
 * Insert an entry whose hash is greater than every hash in the tree, after
 * `last` (the last entry, NULL in an empty tree).  DZ_EINVAL otherwise.
 */
dz_result_t dz_zone_nsec3_append(dz_zone_t *zone, dz_nsec3_t *entry, dz_nsec3_t *last);
/* Unlink from the tree and from its node, touch it, and free it. */
void dz_zone_nsec3_remove(dz_zone_t *zone, dz_nsec3_t *entry);
/* The entry with the greatest hash below `hash` (wrapping to the last); NULL when empty. */
dz_nsec3_t *dz_zone_nsec3_prev_of(const dz_zone_t *zone, const uint8_t hash[DZ_NSEC3_HASH_LEN]);
dz_nsec3_t *dz_zone_nsec3_first(const dz_zone_t *zone);
dz_nsec3_t *dz_zone_nsec3_next(const dz_nsec3_t *entry);

/*
 * Owner key of an NSEC3 record: the base32hex label of the hash (lower
 * case, RFC 4648 section 7) under the apex.  `key` needs DZ_NAME_KEY_MAX
 * bytes; returns the key length, or 0 when the name would be too long.
 */
size_t dz_zone_nsec3_owner_key(const dz_zone_t *zone, const uint8_t hash[DZ_NSEC3_HASH_LEN],
			       uint8_t *key);

#endif

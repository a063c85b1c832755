/*
 * rbtree.h -- an intrusive red-black tree with parent links.
 *
 * Embed a dz_rbnode_t in the element and recover the element with
 * DZ_RB_ENTRY().  The tree does not allocate: callers find the insertion
 * point with their own comparison (dz_rbtree_link), so each tree keeps its
 * key type private.  In-order neighbours (dz_rbtree_next/prev) take
 * O(log n) at worst and O(1) on average.  Not thread safe.
 */
#ifndef DZ_SIGNER_RBTREE_H
#define DZ_SIGNER_RBTREE_H

#include <stddef.h>
#include <stdint.h>

typedef struct dz_rbnode {
	struct dz_rbnode *left;
	struct dz_rbnode *right;
	struct dz_rbnode *parent;
	int red;
} dz_rbnode_t;

typedef struct dz_rbtree {
	dz_rbnode_t *root;
	size_t count;
} dz_rbtree_t;

#define DZ_RB_ENTRY(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

void dz_rbtree_init(dz_rbtree_t *tree);

/*
 * Link `node` as the `left` (dir < 0) or right child of `parent` (NULL for
 * an empty tree) and rebalance.  The caller found `parent` by descending
 * with its comparison, so the slot is empty.
 */
void dz_rbtree_link(dz_rbtree_t *tree, dz_rbnode_t *node, dz_rbnode_t *parent, int dir);

/* Remove `node` from the tree; the caller frees the element. */
void dz_rbtree_erase(dz_rbtree_t *tree, dz_rbnode_t *node);

/* First/last node in order, NULL when empty. */
dz_rbnode_t *dz_rbtree_first(const dz_rbtree_t *tree);
dz_rbnode_t *dz_rbtree_last(const dz_rbtree_t *tree);

/* In-order successor/predecessor, NULL at the end. */
dz_rbnode_t *dz_rbtree_next(const dz_rbnode_t *node);
dz_rbnode_t *dz_rbtree_prev(const dz_rbnode_t *node);

#endif

#include "config.h"

#include <assert.h>

#include "signer/rbtree.h"

void
dz_rbtree_init(dz_rbtree_t *tree)
{
	tree->root = NULL;
	tree->count = 0;
}

static void
rotate_left(dz_rbtree_t *tree, dz_rbnode_t *x)
{
	dz_rbnode_t *y = x->right;

	x->right = y->left;
	if (y->left != NULL)
		y->left->parent = x;
	y->parent = x->parent;
	if (x->parent == NULL)
		tree->root = y;
	else if (x == x->parent->left)
		x->parent->left = y;
	else
		x->parent->right = y;
	y->left = x;
	x->parent = y;
}

static void
rotate_right(dz_rbtree_t *tree, dz_rbnode_t *x)
{
	dz_rbnode_t *y = x->left;

	x->left = y->right;
	if (y->right != NULL)
		y->right->parent = x;
	y->parent = x->parent;
	if (x->parent == NULL)
		tree->root = y;
	else if (x == x->parent->right)
		x->parent->right = y;
	else
		x->parent->left = y;
	y->right = x;
	x->parent = y;
}

void
dz_rbtree_link(dz_rbtree_t *tree, dz_rbnode_t *node, dz_rbnode_t *parent, int dir)
{
	node->left = node->right = NULL;
	node->parent = parent;
	node->red = 1;
	if (parent == NULL) {
		assert(tree->root == NULL);
		tree->root = node;
	} else if (dir < 0) {
		assert(parent->left == NULL);
		parent->left = node;
	} else {
		assert(parent->right == NULL);
		parent->right = node;
	}
	tree->count++;

	while (node->parent != NULL && node->parent->red) {
		dz_rbnode_t *p = node->parent;
		dz_rbnode_t *g = p->parent;
		dz_rbnode_t *uncle = (p == g->left) ? g->right : g->left;

		if (uncle != NULL && uncle->red) {
			p->red = 0;
			uncle->red = 0;
			g->red = 1;
			node = g;
			continue;
		}
		if (p == g->left) {
			if (node == p->right) {
				rotate_left(tree, p);
				node = p;
				p = node->parent;
			}
			p->red = 0;
			g->red = 1;
			rotate_right(tree, g);
		} else {
			if (node == p->left) {
				rotate_right(tree, p);
				node = p;
				p = node->parent;
			}
			p->red = 0;
			g->red = 1;
			rotate_left(tree, g);
		}
	}
	tree->root->red = 0;
}

/* Put subtree `v` where `u` was. */
static void
transplant(dz_rbtree_t *tree, dz_rbnode_t *u, dz_rbnode_t *v)
{
	if (u->parent == NULL)
		tree->root = v;
	else if (u == u->parent->left)
		u->parent->left = v;
	else
		u->parent->right = v;
	if (v != NULL)
		v->parent = u->parent;
}

static void
erase_fixup(dz_rbtree_t *tree, dz_rbnode_t *x, dz_rbnode_t *parent)
{
	while (x != tree->root && (x == NULL || !x->red)) {
		if (x == parent->left) {
			dz_rbnode_t *w = parent->right;
			if (w->red) {
				w->red = 0;
				parent->red = 1;
				rotate_left(tree, parent);
				w = parent->right;
			}
			if ((w->left == NULL || !w->left->red) && (w->right == NULL || !w->right->red)) {
				w->red = 1;
				x = parent;
				parent = x->parent;
			} else {
				if (w->right == NULL || !w->right->red) {
					w->left->red = 0;
					w->red = 1;
					rotate_right(tree, w);
					w = parent->right;
				}
				w->red = parent->red;
				parent->red = 0;
				if (w->right != NULL)
					w->right->red = 0;
				rotate_left(tree, parent);
				x = tree->root;
				break;
			}
		} else {
			dz_rbnode_t *w = parent->left;
			if (w->red) {
				w->red = 0;
				parent->red = 1;
				rotate_right(tree, parent);
				w = parent->left;
			}
			if ((w->right == NULL || !w->right->red) && (w->left == NULL || !w->left->red)) {
				w->red = 1;
				x = parent;
				parent = x->parent;
			} else {
				if (w->left == NULL || !w->left->red) {
					w->right->red = 0;
					w->red = 1;
					rotate_left(tree, w);
					w = parent->left;
				}
				w->red = parent->red;
				parent->red = 0;
				if (w->left != NULL)
					w->left->red = 0;
				rotate_right(tree, parent);
				x = tree->root;
				break;
			}
		}
	}
	if (x != NULL)
		x->red = 0;
}

void
dz_rbtree_erase(dz_rbtree_t *tree, dz_rbnode_t *z)
{
	dz_rbnode_t *x;
	dz_rbnode_t *x_parent;
	int removed_red = z->red;

	if (z->left == NULL) {
		x = z->right;
		x_parent = z->parent;
		transplant(tree, z, z->right);
	} else if (z->right == NULL) {
		x = z->left;
		x_parent = z->parent;
		transplant(tree, z, z->left);
	} else {
		dz_rbnode_t *y = z->right;
		while (y->left != NULL)
			y = y->left;
		removed_red = y->red;
		x = y->right;
		if (y->parent == z) {
			x_parent = y;
		} else {
			x_parent = y->parent;
			transplant(tree, y, y->right);
			y->right = z->right;
			y->right->parent = y;
		}
		transplant(tree, z, y);
		y->left = z->left;
		y->left->parent = y;
		y->red = z->red;
	}
	tree->count--;
	if (!removed_red && tree->root != NULL)
		erase_fixup(tree, x, x_parent);
	z->left = z->right = z->parent = NULL;
}

dz_rbnode_t *
dz_rbtree_first(const dz_rbtree_t *tree)
{
	dz_rbnode_t *n = tree->root;

	if (n == NULL)
		return NULL;
	while (n->left != NULL)
		n = n->left;
	return n;
}

dz_rbnode_t *
dz_rbtree_last(const dz_rbtree_t *tree)
{
	dz_rbnode_t *n = tree->root;

	if (n == NULL)
		return NULL;
	while (n->right != NULL)
		n = n->right;
	return n;
}

dz_rbnode_t *
dz_rbtree_next(const dz_rbnode_t *node)
{
	if (node->right != NULL) {
		node = node->right;
		while (node->left != NULL)
			node = node->left;
		return (dz_rbnode_t *)node;
	}
	while (node->parent != NULL && node == node->parent->right)
		node = node->parent;
	return node->parent;
}

dz_rbnode_t *
dz_rbtree_prev(const dz_rbnode_t *node)
{
	if (node->left != NULL) {
		node = node->left;
		while (node->right != NULL)
			node = node->right;
		return (dz_rbnode_t *)node;
	}
	while (node->parent != NULL && node == node->parent->left)
		node = node->parent;
	return node->parent;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* classify: rules -> decision trees in the config blob (docs/classifier.md).
 *
 * Rules are sorted by (priority, id); a rule is then named by its order
 * position. They are split into up to SL_CLS_TREE_MAX trees by which of
 * their fields are "large" (EffiCuts): rules with a wide source, a wide
 * destination, wide ports... each get a tree that never needs to cut the
 * wide field. Each tree is a HiCuts tree: a node cuts one dimension of its
 * (power-of-two aligned) box into 2^bits equal parts, so the child index is
 * (key >> shift) & (2^bits - 1). A node's rule list is truncated after the
 * first terminal rule covering the whole node box (later rules can never
 * win there) and after the SL_COUNT_HITS_MAX-th covering count rule (later
 * count rules can never be among the counted). Children with equal rule
 * lists and equal clipped geometry share one subtree; leaves with equal
 * lists share one leaf list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "classify.h"
#include "log.h"

#define ND SL_DIM_MAX

/* Build parameters (docs/classifier.md). */
#define BMAX	  16 /* at most 2^BMAX cuts per node */
#define IP_LARGE  7  /* an address prefix up to /7 is "large" */
#define MERGE_MIN 64 /* smaller categories are merged into a superset */
#define MERGE_DIV 50 /* ... or, first, categories below n / MERGE_DIV */

/* The build levels of a tree, finest first: a node of at most binth rules
 * is a leaf; a node's children hold at most spfac x its rules (copies)
 * plus cuts. A tree that does not fit its share of the blob is built
 * again at the next level: fewer, longer leaves (docs/classifier.md,
 * coarse trees). The last level cuts only nodes of more than
 * SL_CLS_LEAF_LONG rules, and only where a cut does not copy rules. */
static const struct {
	uint16_t binth, spfac;
} levels[] = {{4, 8}, {32, 4}, {256, 2}, {4096, 1}};
#define NLEVELS ((int)(sizeof(levels) / sizeof(levels[0])))

/* Width in bits of each dimension's domain (the root box). */
static const uint8_t dim_bits[ND] = {
    [SL_DIM_SRC0] = 32,	   [SL_DIM_SRC1] = 32, [SL_DIM_SRC2] = 32,
    [SL_DIM_SRC3] = 32,	   [SL_DIM_DST0] = 32, [SL_DIM_DST1] = 32,
    [SL_DIM_DST2] = 32,	   [SL_DIM_DST3] = 32, [SL_DIM_SPORT] = 16,
    [SL_DIM_DPORT] = 16,   [SL_DIM_PROTO] = 8, [SL_DIM_ICMP] = 16,
    [SL_DIM_IFINDEX] = 32, [SL_DIM_VLAN] = 12, [SL_DIM_DIR] = 1,
    [SL_DIM_L3] = 2,
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void addr_box(const struct sl_prefix *p, uint32_t *lo, uint32_t *hi)
{
	int words = p->family == AF_INET ? 1 : 4;
	int first = 4 - words;

	for (int w = 0; w < 4; w++) {
		lo[w] = 0;
		hi[w] = w < first ? 0 : UINT32_MAX;
	}
	for (int w = 0; w < words; w++) {
		uint32_t a;
		int bits = (int)p->plen - 32 * w;

		memcpy(&a, p->addr + 4 * w, 4);
		a = ntohl(a);
		if (bits <= 0)
			break;
		if (bits >= 32) {
			lo[first + w] = hi[first + w] = a;
		} else {
			uint32_t m = ~0U << (32 - bits);

			lo[first + w] = a & m;
			hi[first + w] = (a & m) | ~m;
		}
	}
}

void sl_rule_box(const struct sl_rule *r, uint32_t lo[SL_DIM_MAX],
		 uint32_t hi[SL_DIM_MAX])
{
	int fam = r->has_src ? r->src.family : r->has_dst ? r->dst.family : 0;

	for (int d = 0; d < ND; d++) {
		lo[d] = 0;
		hi[d] =
		    dim_bits[d] == 32 ? UINT32_MAX : (1U << dim_bits[d]) - 1;
	}
	if (r->has_src)
		addr_box(&r->src, lo + SL_DIM_SRC0, hi + SL_DIM_SRC0);
	if (r->has_dst)
		addr_box(&r->dst, lo + SL_DIM_DST0, hi + SL_DIM_DST0);
	lo[SL_DIM_SPORT] = r->sport_lo;
	hi[SL_DIM_SPORT] = r->sport_hi;
	lo[SL_DIM_DPORT] = r->dport_lo;
	hi[SL_DIM_DPORT] = r->dport_hi;
	if (r->has_proto)
		lo[SL_DIM_PROTO] = hi[SL_DIM_PROTO] = r->proto;
	if (r->icmp_type >= 0) {
		lo[SL_DIM_ICMP] = (uint32_t)r->icmp_type << 8;
		hi[SL_DIM_ICMP] = lo[SL_DIM_ICMP] | 0xff;
		if (r->icmp_code >= 0)
			lo[SL_DIM_ICMP] = hi[SL_DIM_ICMP] =
			    lo[SL_DIM_ICMP] | (uint32_t)r->icmp_code;
	}
	if (r->iface[0])
		lo[SL_DIM_IFINDEX] = hi[SL_DIM_IFINDEX] = r->ifindex;
	if (r->vlan >= 0)
		lo[SL_DIM_VLAN] = hi[SL_DIM_VLAN] = (uint32_t)r->vlan;
	if (r->dirs == 1U << SL_RDIR_IN)
		hi[SL_DIM_DIR] = SL_RDIR_IN;
	else if (r->dirs == 1U << SL_RDIR_OUT)
		lo[SL_DIM_DIR] = SL_RDIR_OUT;
	if (r->l3) {
		lo[SL_DIM_L3] = hi[SL_DIM_L3] = r->l3;
	} else if (fam) {
		lo[SL_DIM_L3] = hi[SL_DIM_L3] =
		    fam == AF_INET ? SL_L3_IPV4 : SL_L3_IPV6;
	} else {
		lo[SL_DIM_L3] = SL_L3_IPV4;
		hi[SL_DIM_L3] = SL_L3_IPV6;
	}
}

int sl_rule_order_cmp(const struct sl_rule *a, const struct sl_rule *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

static int order_cmp_q(const void *a, const void *b)
{
	return sl_rule_order_cmp(a, b);
}

static bool in_box(const uint32_t *lo, const uint32_t *hi,
		   const uint32_t key[ND])
{
	for (int d = 0; d < ND; d++)
		if (key[d] < lo[d] || key[d] > hi[d])
			return false;
	return true;
}

uint32_t sl_cls_oracle(const struct sl_rule *sorted, size_t n,
		       const uint32_t key[SL_DIM_MAX], uint8_t tcp_flags,
		       uint32_t *count_ids, size_t *n_count)
{
	size_t nc = 0;
	uint32_t win = 0;

	for (size_t i = 0; i < n; i++) {
		const struct sl_rule *r = &sorted[i];
		uint32_t lo[ND], hi[ND];

		if ((tcp_flags & r->tcp_mask) != r->tcp_flags)
			continue;
		/* The frame's MACs are not part of the key: a rule with a
		 * MAC condition never holds it here. */
		if (r->has_smac || r->has_dmac)
			continue;
		/* The key is of a packet that is not a fragment. */
		if (r->fragment && !(r->fragment & (1U << SL_FRAG_NONE)))
			continue;
		sl_rule_box(r, lo, hi);
		if (!in_box(lo, hi, key))
			continue;
		if (r->action == SL_RACT_COUNT) {
			if (nc < SL_COUNT_HITS_MAX) {
				if (count_ids)
					count_ids[nc] = r->id;
				nc++;
			}
			continue;
		}
		if (r->action == SL_RACT_PASS || r->action == SL_RACT_DROP ||
		    r->action == SL_RACT_RATELIMIT ||
		    r->action == SL_RACT_REDIRECT) {
			win = r->id;
			break;
		}
	}
	if (n_count)
		*n_count = nc;
	return win;
}

/* ---- user-space walk, the same algorithm as bpf/lib/rules.h ---- */

/* The class of a built blob (its header says). */
static unsigned blob_log_of(const void *blob)
{
	const struct sl_cls_hdr *h =
	    (const void *)((const struct sl_blob_hdr *)blob)->cls;

	return h->blob_log >= SL_BLOB_LOG_MIN && h->blob_log <= SL_BLOB_LOG_MAX
		   ? h->blob_log
		   : SL_BLOB_LOG_V2;
}

static const struct sl_cls_rule *blob_rule(const uint8_t *b, uint32_t pos)
{
	pos &= SL_CLS_RULE_CAP_OF(blob_log_of(b)) - 1;
	return (const void *)(b + SL_CLS_RULE_OFF +
			      (uint64_t)pos * sizeof(struct sl_cls_rule));
}

static bool rule_hit(const struct sl_cls_rule *r, const uint32_t key[ND],
		     uint8_t tcp)
{
	/* No MACs and no connection state in the key: a rule with a MAC or
	 * ct-state condition never matches. The key is of a packet that is
	 * not a fragment. */
	return in_box(r->lo, r->hi, key) && (tcp & r->tcp_mask) == r->tcp_val &&
	       !(r->id >> SL_CLS_CT_SHIFT) &&
	       !((r->action >> SL_CLS_FRAG_SHIFT) & (1U << SL_FRAG_NONE));
}

/* Keeps the SL_COUNT_HITS_MAX smallest positions seen. */
static void hits_add(uint32_t *hits, uint32_t *nh, uint32_t pos)
{
	uint32_t m = 0;

	if (*nh < SL_COUNT_HITS_MAX) {
		hits[(*nh)++] = pos;
		return;
	}
	for (uint32_t i = 1; i < SL_COUNT_HITS_MAX; i++)
		if (hits[i] > hits[m])
			m = i;
	if (pos < hits[m])
		hits[m] = pos;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t sl_cls_lookup(const void *blob, const uint32_t key[SL_DIM_MAX],
		       uint8_t tcp_flags, int *action, uint32_t *count_ids,
		       size_t *n_count)
{
	const uint8_t *b = blob;
	const struct sl_blob_hdr *bh = blob;
	const struct sl_cls_hdr *h = (const void *)bh->cls;
	unsigned log = blob_log_of(blob);
	/* indexes count from the blob's start (abi.h): masked, no compare */
	uint32_t nmask = (1U << (log - 3)) - 1, wmask = (1U << (log - 2)) - 1;
	const struct sl_cls_node *nodes = (const void *)b;
	const uint32_t *pool = (const void *)b;
	uint32_t best = SL_CLS_NONE, hits[SL_COUNT_HITS_MAX], nh = 0;
	size_t nc = 0;

	for (uint32_t t = 0; t < h->ntrees && t < SL_CLS_TREE_MAX; t++) {
		struct sl_cls_node nd = h->root[t];

		if (h->minpos[t] >= best)
			break;
		for (int d = 0; d < SL_CLS_DEPTH_MAX && nd.dim != SL_CLS_LEAF;
		     d++) {
			uint32_t f = key[nd.dim & (ND - 1)];
			uint32_t i =
			    nd.base + ((f >> nd.shift) & ((1U << nd.n) - 1));

			nd = nodes[i & nmask];
		}
		if (nd.dim != SL_CLS_LEAF)
			continue;
		for (uint32_t j = 0; j < nd.n && j < SL_CLS_LEAF_LONG; j++) {
			uint32_t w = nd.base + j;
			uint32_t pos = pool[w & wmask];
			const struct sl_cls_rule *r;

			if (pos >= best)
				break;
			r = blob_rule(b, pos);
			if (!rule_hit(r, key, tcp_flags))
				continue;
			if ((r->action & SL_CLS_ACT_MASK) == SL_RACT_COUNT) {
				hits_add(hits, &nh, pos);
				continue;
			}
			best = pos;
			break;
		}
	}
	qsort(hits, nh, sizeof(hits[0]), u32_cmp);
	for (uint32_t i = 0; i < nh; i++) {
		if (hits[i] >= best)
			break;
		if (count_ids)
			count_ids[nc] =
			    blob_rule(b, hits[i])->id & SL_CLS_ID_MASK;
		nc++;
	}
	if (n_count)
		*n_count = nc;
	if (best == SL_CLS_NONE) {
		if (action)
			*action = -1;
		return 0;
	}
	if (action)
		*action = blob_rule(b, best)->action & SL_CLS_ACT_MASK;
	return blob_rule(b, best)->id & SL_CLS_ID_MASK;
}

/* ---- builder ---- */

/* The index of r's MAC condition in the blob's MAC table (mt, *n entries
 * in use, entry 0 unused), added if new; 0 when r has none; -1 when the
 * table is full. */
static int mac_index(struct sl_cls_mac *mt, uint32_t *n,
		     const struct sl_rule *r)
{
	struct sl_cls_mac m = {0};

	if (!r->has_smac && !r->has_dmac)
		return 0;
	if (r->has_smac) {
		m.flags |= SL_CLS_MAC_SRC;
		memcpy(m.smac, r->smac, 6);
	}
	if (r->has_dmac) {
		m.flags |= SL_CLS_MAC_DST;
		memcpy(m.dmac, r->dmac, 6);
	}
	for (uint32_t i = 1; i < *n; i++)
		if (!memcmp(&mt[i], &m, sizeof(m)))
			return i;
	if (*n >= SL_CLS_MAC_MAX)
		return -1;
	mt[*n] = m;
	return (*n)++;
}

/* Hash-consing table: signature -> node built for it. */
struct dent {
	uint64_t a, b;
	struct sl_cls_node h;
	int used;
};

struct tb {
	const uint32_t *lo, *hi;     /* boxes by position, ND words each */
	const uint8_t *act;	     /* action by position */
	const uint8_t *tcpm;	     /* tcp mask by position */
	const struct sl_rule *rules; /* by position */
	struct sl_cls_node *nodes;
	uint32_t nn, ncap;
	uint32_t *leaf;
	uint32_t nl, lcap;
	struct dent *dt;
	uint64_t dcap, dn;
	uint32_t *scratch;
	uint32_t cur_worst;
	uint32_t max_depth, max_leaf;
	int err;
	bool quiet;	 /* no error messages (a first attempt) */
	const char *src; /* the rules' file, named in errors (or NULL) */
	bool overfull;	 /* a leaf held more than SL_CLS_LEAF_LONG rules */
	uint32_t allow;	 /* dims the current tree cuts first */
	uint32_t binth, spfac; /* the current tree's level */
	uint32_t pool_lim; /* the current tree's share of the pool ends here */
};

static inline uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

static inline uint64_t mix2(uint64_t h, uint64_t x)
{
	h = (h ^ x) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29) ^ (h << 7);
}

/* The entry for (a, c): used == 0 when new (the caller fills it). NULL on
 * allocation failure. */
static struct dent *dfind(struct tb *b, uint64_t a, uint64_t c)
{
	uint64_t j;

	if (b->dn * 2 >= b->dcap) {
		uint64_t oc = b->dcap;
		struct dent *od = b->dt, *nd;
		uint64_t ncap = oc ? oc * 2 : 1 << 16;

		nd = calloc(ncap, sizeof(*nd));
		if (!nd)
			return NULL;
		for (uint64_t i = 0; i < oc; i++) {
			if (!od[i].used)
				continue;
			j = od[i].a & (ncap - 1);
			while (nd[j].used)
				j = (j + 1) & (ncap - 1);
			nd[j] = od[i];
		}
		free(od);
		b->dt = nd;
		b->dcap = ncap;
	}
	j = a & (b->dcap - 1);
	while (b->dt[j].used) {
		if (b->dt[j].a == a && b->dt[j].b == c)
			return &b->dt[j];
		j = (j + 1) & (b->dcap - 1);
	}
	b->dt[j].a = a;
	b->dt[j].b = c;
	return &b->dt[j];
}

static int64_t node_alloc(struct tb *b, uint32_t k)
{
	uint32_t r;

	if (2 * ((uint64_t)b->nn + k) + b->nl > b->pool_lim) {
		b->err = -E2BIG;
		return -1;
	}
	if (b->nn + k > b->ncap) {
		uint32_t ncap = b->ncap ? b->ncap : 1024;
		void *p;

		while (b->nn + k > ncap)
			ncap *= 2;
		p = realloc(b->nodes, (size_t)ncap * sizeof(*b->nodes));
		if (!p) {
			b->err = -ENOMEM;
			return -1;
		}
		b->nodes = p;
		b->ncap = ncap;
	}
	r = b->nn;
	b->nn += k;
	return r;
}

/* Refuses a rule set in which a packet can match more than
 * SL_COUNT_HITS_MAX count rules (the later ones would never count): names
 * the rule that would not and the ones before it. */
static void count_overflow(struct tb *b, const uint32_t *ids, int upto,
			   uint32_t p)
{
	const struct sl_rule *r = &b->rules[p];
	char before[96];
	size_t len = 0;

	if (b->err)
		return;
	/* Bad input, not a capacity: no second attempt, say it now. */
	b->err = -EINVAL;
	before[0] = '\0';
	for (int i = 0, k = 0; i < upto && k < 3 && len < sizeof(before); i++)
		if (b->act[ids[i]] == SL_RACT_COUNT)
			len +=
			    snprintf(before + len, sizeof(before) - len, "%s%u",
				     k++ ? ", " : "", b->rules[ids[i]].id);
	sl_err_at(
	    b->src, r->pos.line, r->pos.col,
	    "rule %u: a packet can match it after %d other count rules "
	    "(rules %s, ...), and a packet counts at most %d count rules: "
	    "it would never count (see docs/classifier.md, the "
	    "count-rule bound)",
	    r->id, SL_COUNT_HITS_MAX, before, SL_COUNT_HITS_MAX);
}

/* Rules at positions p and q share a packet: their boxes intersect and
 * their TCP-flags and MAC tests can hold at once. */
static bool rules_meet(const struct tb *b, uint32_t p, uint32_t q)
{
	const struct sl_rule *x = &b->rules[p], *y = &b->rules[q];

	for (int d = 0; d < ND; d++)
		if (b->lo[p * ND + d] > b->hi[q * ND + d] ||
		    b->lo[q * ND + d] > b->hi[p * ND + d])
			return false;
	if ((x->tcp_flags ^ y->tcp_flags) & x->tcp_mask & y->tcp_mask)
		return false;
	if (x->ct_state && y->ct_state && !(x->ct_state & y->ct_state))
		return false;
	if (x->fragment && y->fragment && !(x->fragment & y->fragment))
		return false;
	if (x->has_smac && y->has_smac && memcmp(x->smac, y->smac, 6))
		return false;
	if (x->has_dmac && y->has_dmac && memcmp(x->dmac, y->dmac, 6))
		return false;
	return true;
}

/* Greedy from each of the first 64 count rules of ids[0..n) (positions
 * in rule order; other rules are skipped): the count rules after it that
 * meet every one taken so far. SL_COUNT_HITS_MAX + 1 of them pairwise
 * meet, and so share a packet (boxes and bit tests have a common point as
 * soon as every pair has one): refuse, naming the rule that would never
 * count. It finds the usual case (identical or nested count rules) and
 * never refuses a set where no packet matches that many. */
static void count_clique(struct tb *b, const uint32_t *ids, int n)
{
	uint32_t c[SL_COUNT_HITS_MAX + 1];
	int starts = 0;

	for (int i = 0; i < n && starts < 64 && !b->err; i++) {
		int k = 0;

		if (b->act[ids[i]] != SL_RACT_COUNT)
			continue;
		starts++;
		c[k++] = ids[i];
		for (int j = i + 1; j < n && k <= SL_COUNT_HITS_MAX; j++) {
			bool all = b->act[ids[j]] == SL_RACT_COUNT;

			for (int m = 0; m < k && all; m++)
				all = rules_meet(b, c[m], ids[j]);
			if (all)
				c[k++] = ids[j];
		}
		if (k > SL_COUNT_HITS_MAX)
			count_overflow(b, c, SL_COUNT_HITS_MAX,
				       c[SL_COUNT_HITS_MAX]);
	}
}

/* A packet reaching this leaf can match more than SL_COUNT_HITS_MAX of its
 * count rules: refuse (count_clique). */
static void leaf_count_check(struct tb *b, const uint32_t *ids, int n)
{
	int nc = 0;

	for (int i = 0; i < n; i++)
		nc += b->act[ids[i]] == SL_RACT_COUNT;
	if (nc > SL_COUNT_HITS_MAX)
		count_clique(b, ids, n);
}

static struct sl_cls_node make_leaf(struct tb *b, const uint32_t *ids, int n,
				    int depth)
{
	struct sl_cls_node h = {SL_CLS_LEAF, 0, 0, 0};
	uint32_t w = depth + 2 * n;
	uint64_t a = 0x1111, c = 0x2222;
	struct dent *e;

	if (w > b->cur_worst)
		b->cur_worst = w;
	if ((uint32_t)n > b->max_leaf)
		b->max_leaf = n;
	if ((uint32_t)depth > b->max_depth)
		b->max_depth = depth;
	if (n > SL_CLS_LEAF_LONG) {
		b->overfull = true;
		if (!b->err && !b->quiet)
			pr_err("classifier: a leaf at depth %d holds %d rules, "
			       "more than %d (too many overlapping tcp-flags "
			       "or count rules)\n",
			       depth, n, SL_CLS_LEAF_LONG);
		b->err = -E2BIG;
		return h;
	}
	leaf_count_check(b, ids, n);
	if (b->err)
		return h;
	if (!n)
		return h;
	for (int i = 0; i < n; i++) {
		a = mix(a, ids[i]);
		c = mix2(c, ids[i]);
	}
	e = dfind(b, a, c);
	if (!e) {
		b->err = -ENOMEM;
		return h;
	}
	if (e->used)
		return e->h;
	if (2 * (uint64_t)b->nn + b->nl + n > b->pool_lim) {
		b->err = -E2BIG;
		return h;
	}
	if (b->nl + n > b->lcap) {
		uint32_t ncap = b->lcap ? b->lcap : 1024;
		void *p;

		while (b->nl + n > ncap)
			ncap *= 2;
		p = realloc(b->leaf, (size_t)ncap * sizeof(*b->leaf));
		if (!p) {
			b->err = -ENOMEM;
			return h;
		}
		b->leaf = p;
		b->lcap = ncap;
	}
	h.n = n;
	h.base = b->nl;
	memcpy(b->leaf + b->nl, ids, n * sizeof(*ids));
	b->nl += n;
	e->used = 1;
	e->h = h;
	b->dn++;
	return h;
}

static inline uint32_t wmask(uint8_t w)
{
	return w >= 32 ? UINT32_MAX : (1U << w) - 1;
}

/* Whether rule p's box holds the whole node box (lo, widths wb). */
static bool covers(const struct tb *b, uint32_t p, const uint32_t lo[ND],
		   const uint8_t wb[ND])
{
	const uint32_t *rl = b->lo + (size_t)p * ND,
		       *rh = b->hi + (size_t)p * ND;

	for (int d = 0; d < ND; d++)
		if (rl[d] > lo[d] || rh[d] < lo[d] + wmask(wb[d]))
			return false;
	return true;
}

/* Drops the rules of a node's list that can never count there: all after
 * the first terminal rule covering the node box (it always wins first),
 * and the count rules after SL_COUNT_HITS_MAX covering count rules (those
 * always fill the counted hits first). Compacts ids; returns the length. */
static int truncate_list(const struct tb *b, uint32_t *ids, int n,
			 const uint32_t lo[ND], const uint8_t wb[ND])
{
	int ncount = 0, k = 0;

	for (int i = 0; i < n; i++) {
		uint32_t p = ids[i];
		bool cov = !b->tcpm[p] && covers(b, p, lo, wb);

		if (b->act[p] == SL_RACT_COUNT && ncount >= SL_COUNT_HITS_MAX) {
			/* A packet here matches the SL_COUNT_HITS_MAX count
			 * rules before p and p: p would never count. */
			count_overflow((struct tb *)b, ids, i, p);
			continue;
		}
		ids[k++] = p;
		if (!cov)
			continue;
		if (b->act[p] != SL_RACT_COUNT)
			break;
		ncount++;
	}
	return k;
}

/* Rule q can never count in the node box (lo, widths wb): an earlier
 * terminal rule p without a MAC condition holds every point of q's box in
 * the node box, and p's TCP-flags test holds whenever q's does. */
static bool shadowed(const struct tb *b, uint32_t p, uint32_t q,
		     const uint32_t lo[ND], const uint8_t wb[ND])
{
	const struct sl_rule *x = &b->rules[p], *y = &b->rules[q];

	if (b->act[p] == SL_RACT_COUNT || x->has_smac || x->has_dmac)
		return false;
	if ((x->tcp_mask & ~y->tcp_mask) ||
	    ((y->tcp_flags ^ x->tcp_flags) & x->tcp_mask))
		return false;
	for (int d = 0; d < ND; d++) {
		uint32_t ql = b->lo[q * ND + d], qh = b->hi[q * ND + d];
		uint32_t nh = lo[d] + wmask(wb[d]);

		ql = ql > lo[d] ? ql : lo[d];
		qh = qh < nh ? qh : nh;
		if (ql > qh)
			return true; /* q holds no point of the node */
		if (b->lo[p * ND + d] > ql || b->hi[p * ND + d] < qh)
			return false;
	}
	return true;
}

/* Drops the rules of a long leaf's list (more than SL_CLS_LEAF_MAX: rules
 * no cut separates) that an earlier terminal rule shadows in the node box,
 * e.g. a rule repeating an earlier one's box with a stricter TCP-flags
 * test. Returns the new length. */
static int drop_shadowed(const struct tb *b, uint32_t *ids, int n,
			 const uint32_t lo[ND], const uint8_t wb[ND])
{
	/* Against the first 128 kept rules; all of them only when the list
	 * would not fit a leaf otherwise (the build time is n x that). */
	int k = 0, lim = n > SL_CLS_LEAF_LONG ? n : 128;

	for (int i = 0; i < n; i++) {
		bool sh = false;

		for (int j = 0; j < k && j < lim && !sh; j++)
			sh = shadowed(b, ids[j], ids[i], lo, wb);
		if (!sh)
			ids[k++] = ids[i];
	}
	return k;
}

static struct sl_cls_node build(struct tb *b, uint32_t *ids, int n,
				const uint32_t lo[ND], const uint8_t wb[ND],
				int depth)
{
	struct sl_cls_node self = {SL_CLS_LEAF, 0, 0, 0};
	uint32_t(*rl)[ND] = NULL, (*rh)[ND] = NULL;
	uint16_t *nf = NULL;
	uint32_t nlo[ND];
	uint8_t nwb[ND];
	int bd = -1, bbits = 0, allz = 1;
	uint64_t bmaxc = ~0ULL, bsum = ~0ULL, lim_sum;

	if (b->err)
		return self;
	n = truncate_list(b, ids, n, lo, wb);
	for (int d = 0; d < ND; d++)
		if (wb[d])
			allz = 0;
	if ((uint32_t)n <= b->binth || depth >= SL_CLS_DEPTH_MAX || allz) {
		if (n > SL_CLS_LEAF_MAX)
			n = drop_shadowed(b, ids, n, lo, wb);
		return make_leaf(b, ids, n, depth);
	}

	/* Rule boxes clipped to the node box, relative to its corner; nf:
	 * the dimensions where a rule does not span the node box. */
	rl = malloc(sizeof(*rl) * n);
	rh = malloc(sizeof(*rh) * n);
	nf = malloc(sizeof(*nf) * n);
	if (!rl || !rh || !nf) {
		b->err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const uint32_t *ql = b->lo + (size_t)ids[i] * ND;
		const uint32_t *qh = b->hi + (size_t)ids[i] * ND;

		for (int d = 0; d < ND; d++) {
			uint32_t hi = lo[d] + wmask(wb[d]);
			uint32_t cl = ql[d] > lo[d] ? ql[d] : lo[d];
			uint32_t ch = qh[d] < hi ? qh[d] : hi;

			rl[i][d] = cl - lo[d];
			rh[i][d] = ch - lo[d];
		}
	}
	/* Narrow the box to the aligned part the rules occupy: a key outside
	 * it matches none of them, so where the walk sends it (the cut bits
	 * alone pick the child) does not matter. The child then cuts the
	 * bits where the rules differ, not their common leading bits. */
	memcpy(nlo, lo, sizeof(nlo));
	memcpy(nwb, wb, sizeof(nwb));
	for (int d = 0; d < ND; d++) {
		uint32_t x = 0, base;
		int w;

		for (int i = 0; i < n; i++)
			x |= (rl[i][d] ^ rl[0][d]) | (rh[i][d] ^ rl[0][d]);
		w = x ? 32 - __builtin_clz(x) : 0;
		if (w >= wb[d])
			continue;
		base = rl[0][d] & ~wmask(w);
		nlo[d] = lo[d] + base;
		nwb[d] = w;
		for (int i = 0; i < n; i++) {
			rl[i][d] -= base;
			rh[i][d] -= base;
		}
	}
	lo = nlo;
	wb = nwb;
	for (int i = 0; i < n; i++) {
		nf[i] = 0;
		for (int d = 0; d < ND; d++)
			if (rl[i][d] || rh[i][d] != wmask(wb[d]))
				nf[i] |= 1U << d;
	}

	/* Pick the dimension and cut count: per dimension, the most cuts
	 * within the space measure; across dimensions, the smallest largest
	 * child, then the smallest average child. Dimensions the tree was
	 * made for come first; the others only when no cut of those makes
	 * the largest child smaller than the node. */
	lim_sum = (uint64_t)b->spfac * n;
	/* Families first: a node mixing IPv4 and IPv6 rules cuts the L3
	 * class, so that no address cut replicates the other family. */
	for (int i = 0; i < n && wb[SL_DIM_L3]; i++)
		if (nf[i] & (1U << SL_DIM_L3)) {
			bd = SL_DIM_L3;
			bbits = wb[SL_DIM_L3];
			bmaxc = 0;
			break;
		}
	for (int pass = 0; pass < 2 && (bd < 0 || bmaxc >= (uint64_t)n);
	     pass++) {
		for (int d = 0; d < ND; d++) {
			int any = 0, lim, dbits = 0;
			uint64_t dmx = 0, dsum = 0;

			if (!wb[d] || (pass == 0) != !!(b->allow & (1U << d)))
				continue;
			for (int i = 0; i < n && !any; i++)
				any = !!(nf[i] & (1U << d));
			if (!any)
				continue;
			lim = wb[d] < BMAX ? wb[d] : BMAX;
			for (int bits = 1; bits <= lim; bits++) {
				int sh = wb[d] - bits, np = 1 << bits, over = 0;
				uint32_t *cc = b->scratch;
				uint8_t *cl = (uint8_t *)(cc + np);
				uint64_t sum = 0, mx = 0;

				memset(cc, 0, sizeof(uint32_t) * np);
				memset(cl, 0, np);
				for (int i = 0; i < n && !over; i++) {
					uint32_t a0 = rl[i][d] >> sh;
					uint32_t z0 = rh[i][d] >> sh;
					bool cov =
					    !(nf[i] & ~(1U << d)) &&
					    !b->tcpm[ids[i]] &&
					    b->act[ids[i]] != SL_RACT_COUNT;

					for (uint32_t c = a0; c <= z0 && !over;
					     c++) {
						if (cl[c])
							continue;
						over = bits > 1 &&
						       sum + np >= lim_sum;
						cc[c]++;
						sum++;
						if (cc[c] > mx)
							mx = cc[c];
						if (cov &&
						    rl[i][d] <=
							((uint64_t)c << sh) &&
						    rh[i][d] >=
							(((uint64_t)c + 1)
							 << sh) -
							    1)
							cl[c] = 1;
					}
					if (bits > 1 && sum + np > lim_sum)
						over = 1;
				}
				if (over)
					break;
				dmx = mx;
				dsum = sum;
				dbits = bits;
			}
			if (dbits && (dmx < bmaxc ||
				      (dmx == bmaxc &&
				       (double)dsum / (1 << dbits) <
					   (double)bsum / (1 << bbits)))) {
				bmaxc = dmx;
				bsum = dsum;
				bd = d;
				bbits = dbits;
			}
		}
	}
	if (bd < 0) {
		if (n > SL_CLS_LEAF_MAX)
			n = drop_shadowed(b, ids, n, lo, wb);
		self = make_leaf(b, ids, n, depth);
		goto out;
	}

	{
		int sh = wb[bd] - bbits, np = 1 << bbits;
		uint32_t *cnt = calloc(np + 1, sizeof(uint32_t));
		uint32_t *pos = malloc(sizeof(uint32_t) * np);
		uint32_t *flat = NULL, *fi = NULL;
		uint32_t clo[ND], cw = wmask(sh);
		uint8_t cwb[ND];
		int64_t base;

		if (!cnt || !pos) {
			b->err = -ENOMEM;
			goto cut_out;
		}
		for (int i = 0; i < n; i++)
			for (uint32_t c = rl[i][bd] >> sh; c <= rh[i][bd] >> sh;
			     c++)
				cnt[c + 1]++;
		for (int c = 0; c < np; c++)
			cnt[c + 1] += cnt[c];
		flat = malloc(sizeof(uint32_t) * (cnt[np] + 1));
		fi = malloc(sizeof(uint32_t) * (cnt[np] + 1));
		if (!flat || !fi) {
			b->err = -ENOMEM;
			goto cut_out;
		}
		memcpy(pos, cnt, sizeof(uint32_t) * np);
		for (int i = 0; i < n; i++)
			for (uint32_t c = rl[i][bd] >> sh; c <= rh[i][bd] >> sh;
			     c++) {
				fi[pos[c]] = i;
				flat[pos[c]++] = ids[i];
			}
		base = node_alloc(b, np);
		if (base < 0)
			goto cut_out;
		self = (struct sl_cls_node){(uint8_t)bd, (uint8_t)sh,
					    (uint16_t)bbits, (uint32_t)base};
		memcpy(cwb, wb, ND);
		memcpy(clo, lo, sizeof(clo));
		cwb[bd] = sh;
		for (int c = 0; c < np && !b->err; c++) {
			uint32_t *cid = flat + cnt[c];
			int cn = cnt[c + 1] - cnt[c];
			uint32_t off = (uint32_t)c << sh;
			uint64_t a = 0x3333, z = 0x4444;
			struct sl_cls_node ch;
			struct dent *e;

			clo[bd] = lo[bd] + off;
			/* signature: child widths, rule list and the rules'
			 * geometry relative to the child box */
			for (int d = 0; d < ND; d++) {
				a = mix(a, cwb[d]);
				z = mix2(z, cwb[d]);
			}
			for (int k = 0; k < cn; k++) {
				int i = fi[cnt[c] + k];

				a = mix(a, cid[k]);
				z = mix2(z, cid[k]);
				for (int d = 0; d < ND; d++) {
					uint32_t l = rl[i][d], h = rh[i][d];
					uint64_t v;

					if (!(nf[i] & (1U << d)))
						continue;
					if (d == bd) {
						l = l > off ? l - off : 0;
						h = h - off > cw ? cw : h - off;
					}
					v = (uint64_t)l << 32 | h;
					a = mix(a, v ^ (uint64_t)d << 59);
					z = mix2(z, v ^ (uint64_t)d << 59);
				}
			}
			e = dfind(b, a, z);
			if (!e) {
				b->err = -ENOMEM;
				break;
			}
			if (e->used) {
				ch = e->h;
			} else {
				ch = build(b, cid, cn, clo, cwb, depth + 1);
				e = dfind(b, a, z);
				if (!e) {
					b->err = -ENOMEM;
					break;
				}
				e->used = 1;
				e->h = ch;
				b->dn++;
			}
			b->nodes[base + c] = ch;
		}
	cut_out:
		free(cnt);
		free(pos);
		free(flat);
		free(fi);
	}
out:
	free(rl);
	free(rh);
	free(nf);
	return self;
}

/* Largeness category of a rule: bit 0 wide source, 1 wide destination,
 * 2 wide source port, 3 wide destination port. */
static unsigned rule_cat(const struct sl_rule *r, const uint32_t *lo,
			 const uint32_t *hi)
{
	unsigned m = 0;

	if (!r->has_src || r->src.plen <= IP_LARGE)
		m |= 1;
	if (!r->has_dst || r->dst.plen <= IP_LARGE)
		m |= 2;
	if (hi[SL_DIM_SPORT] - lo[SL_DIM_SPORT] >= 32768)
		m |= 4;
	if (hi[SL_DIM_DPORT] - lo[SL_DIM_DPORT] >= 32768)
		m |= 8;
	return m;
}

/* Dimensions cut first in a tree of category m: all but the wide ones. */
static uint32_t cat_allow(unsigned m)
{
	uint32_t all = (1U << ND) - 1;

	if (m & 1)
		all &= ~0xfU;
	if (m & 2)
		all &= ~0xf0U;
	if (m & 4)
		all &= ~(1U << SL_DIM_SPORT);
	if (m & 8)
		all &= ~(1U << SL_DIM_DPORT);
	return all;
}

static int popc(unsigned x)
{
	return __builtin_popcount(x);
}

/* Groups the categories into at most SL_CLS_TREE_MAX trees: the smallest
 * group merges into the closest superset group (else into the group it
 * overlaps most, widening that group's mask) while there are too many
 * groups or a group smaller than merge_min has a superset. map[cat] is the
 * group, gm[group] its mask. Returns the number of groups. */
static int group_cats(const uint32_t cnt[16], int map[16], unsigned gm[16],
		      uint32_t gc[16], uint32_t merge_min)
{
	int ng = 0;
	bool keep[16] = {false};

	for (int m = 0; m < 16; m++)
		if (cnt[m]) {
			map[m] = ng;
			gm[ng] = m;
			gc[ng] = cnt[m];
			ng++;
		}
	for (;;) {
		int g = -1, h = -1, live = 0;

		for (int i = 0; i < ng; i++)
			live += gc[i] > 0;
		if (live <= 1)
			break;
		for (int i = 0; i < ng; i++)
			if (gc[i] && (live > SL_CLS_TREE_MAX || !keep[i]) &&
			    (g < 0 || gc[i] < gc[g]))
				g = i;
		if (g < 0)
			break;
		if (live <= SL_CLS_TREE_MAX && gc[g] >= merge_min)
			break;
		for (int i = 0; i < ng; i++)
			if (i != g && gc[i] && (gm[i] & gm[g]) == gm[g] &&
			    (h < 0 || popc(gm[i]) < popc(gm[h]) ||
			     (popc(gm[i]) == popc(gm[h]) && gc[i] > gc[h])))
				h = i;
		if (h < 0 && live <= SL_CLS_TREE_MAX) {
			keep[g] = true;
			continue;
		}
		if (h < 0) {
			for (int i = 0; i < ng; i++)
				if (i != g && gc[i] &&
				    (h < 0 ||
				     popc(gm[i] & gm[g]) >
					 popc(gm[h] & gm[g]) ||
				     (popc(gm[i] & gm[g]) ==
					  popc(gm[h] & gm[g]) &&
				      gc[i] > gc[h])))
					h = i;
			gm[h] |= gm[g];
		}
		gc[h] += gc[g];
		gc[g] = 0;
		for (int m = 0; m < 16; m++)
			if (cnt[m] && map[m] == g)
				map[m] = h;
	}
	return ng;
}

#define CAT_DEAD 0xff

/* The end of a tree's share of a region of cap slots, used up to used:
 * the rest in proportion to its rules (k) among those still to build (k +
 * later). What a tree leaves goes to the later ones. (A greedy share made
 * the failing attempts of hard trees slow: 56 s instead of 12 s for 70,000
 * "wide" rules.) */
static uint32_t share_end(uint32_t used, uint32_t cap, uint64_t k,
			  uint64_t later)
{
	return used + (uint32_t)((uint64_t)(cap - used) * k / (k + later));
}

/* The packet classes (sl_cls_hdr.classes) a rule box can hold. */
static uint32_t box_classes(const uint32_t *lo, const uint32_t *hi)
{
	uint32_t m = 0;

	for (uint32_t d = lo[SL_DIM_DIR]; d <= hi[SL_DIM_DIR] && d < 2; d++)
		for (uint32_t l = lo[SL_DIM_L3]; l <= hi[SL_DIM_L3] && l < 4;
		     l++)
			m |= 1U << (d * 4 + l);
	return m;
}

static bool box_ok(const uint32_t *lo, const uint32_t *hi)
{
	for (int d = 0; d < ND; d++)
		if (lo[d] > hi[d])
			return false;
	return true;
}

/* The same across trees: count rules in different trees meet in no leaf,
 * yet one packet can match them all (every tree is walked). So when the
 * count rules are in more than one tree (in one tree its leaves check),
 * count_clique runs over all live count rules of the set. */
static void tree_count_check(struct tb *b, const uint8_t *cat, const int *map,
			     size_t n)
{
	int nc = 0, g0 = -1;
	bool trees = false;
	uint32_t *ids;

	for (size_t i = 0; i < n; i++) {
		if (cat[i] == CAT_DEAD || b->act[i] != SL_RACT_COUNT)
			continue;
		nc++;
		if (g0 < 0)
			g0 = map[cat[i]];
		else if (map[cat[i]] != g0)
			trees = true;
	}
	if (nc <= SL_COUNT_HITS_MAX || !trees)
		return;
	ids = malloc(sizeof(*ids) * nc);
	if (!ids) {
		b->err = -ENOMEM;
		return;
	}
	nc = 0;
	for (size_t i = 0; i < n; i++)
		if (cat[i] != CAT_DEAD && b->act[i] == SL_RACT_COUNT)
			ids[nc++] = i;
	count_clique(b, ids, nc);
	free(ids);
}

static int build_all(const struct sl_rule *rules, size_t n, void *blob,
		     unsigned log, struct sl_cls_stats *st, uint32_t merge_min,
		     bool quiet, const char *src)
{
	const uint32_t pwords = SL_CLS_POOL_WORDS_OF(log);
	const uint64_t pool_off = SL_CLS_POOL_OFF_OF(log);
	double t0 = now_ms();
	struct sl_blob_hdr *bh = blob;
	struct sl_cls_hdr *ch = (void *)bh->cls;
	struct sl_cls_stats s = {0};
	struct sl_rule *sorted = NULL;
	uint32_t *lo = NULL, *hi = NULL, *ids = NULL;
	uint8_t *act = NULL, *tcpm = NULL, *cat = NULL;
	uint32_t cnt[16] = {0}, gc[16];
	unsigned gm[16];
	int map[16], ng, nt = 0;
	struct {
		int g;
		uint32_t minpos;
		uint32_t k; /* rules */
	} tl[16];
	struct tb b = {.quiet = quiet, .src = src};
	uint8_t *u8 = blob;
	struct sl_cls_mac *mt = (void *)(u8 + SL_CLS_MAC_OFF);
	uint32_t nmac = 1, classes = 0, flow = SL_CLS_F_FLOW;
	int err = 0;

	if (n >= SL_RULE_MAX) {
		pr_err("classifier: %zu rules, at most %u\n", n,
		       SL_RULE_MAX - 1);
		return -EINVAL;
	}
	if (n >= SL_CLS_RULE_CAP_OF(log)) {
		/* a larger class holds them */
		if (!quiet)
			pr_err("classifier: %zu rules, a blob of %u KiB holds "
			       "%u\n",
			       n, (1U << log) >> 10,
			       SL_CLS_RULE_CAP_OF(log) - 1);
		return -E2BIG;
	}
	sorted = malloc(sizeof(*sorted) * (n + 1));
	lo = malloc(sizeof(*lo) * ND * (n + 1));
	hi = malloc(sizeof(*hi) * ND * (n + 1));
	ids = malloc(sizeof(*ids) * (n + 1));
	act = malloc(n + 1);
	tcpm = malloc(n + 1);
	cat = malloc(n + 1);
	b.scratch = malloc(5 * ((1U << BMAX) + 2));
	if (!sorted || !lo || !hi || !ids || !act || !tcpm || !cat ||
	    !b.scratch) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(sorted, rules, sizeof(*sorted) * n);
	qsort(sorted, n, sizeof(*sorted), order_cmp_q);
	memset(u8 + SL_CLS_MAC_OFF, 0, SL_CLS_MAC_MAX * sizeof(*mt));

	for (size_t i = 0; i < n; i++) {
		struct sl_cls_rule *cr =
		    (void *)(u8 + SL_CLS_RULE_OFF + i * sizeof(*cr));
		int mi = mac_index(mt, &nmac, &sorted[i]);

		if (mi < 0) {
			sl_err_at(src, sorted[i].pos.line, sorted[i].pos.col,
				  "rule %u: more than %u different MAC "
				  "conditions (src-mac/dst-mac pairs) in the "
				  "classifier",
				  sorted[i].id, SL_CLS_MAC_MAX - 1);
			err = -EINVAL;
			goto out;
		}

		sl_rule_box(&sorted[i], lo + i * ND, hi + i * ND);
		act[i] = sorted[i].action;
		tcpm[i] = sorted[i].tcp_mask;
		cat[i] = rule_cat(&sorted[i], lo + i * ND, hi + i * ND);
		memcpy(cr->lo, lo + i * ND, sizeof(cr->lo));
		memcpy(cr->hi, hi + i * ND, sizeof(cr->hi));
		/* A MAC condition is checked after the box, like the TCP
		 * flags: such a rule covers no region alone. */
		/* ct-state: the states it excludes (abi.h) */
		cr->id = sorted[i].id | (uint32_t)mi << SL_CLS_MAC_SHIFT |
			 (sorted[i].ct_state
			      ? (~(uint32_t)sorted[i].ct_state & SL_CLS_CT_BITS)
				    << SL_CLS_CT_SHIFT
			      : 0) |
			 (sorted[i].log ? SL_CLS_LOG : 0);
		if ((mi || sorted[i].ct_state || sorted[i].fragment) &&
		    !tcpm[i])
			tcpm[i] = 1;
		/* fragment: the states it excludes, above the action */
		cr->action =
		    sorted[i].action |
		    (sorted[i].fragment
			 ? (~(uint32_t)sorted[i].fragment & SL_CLS_FRAG_BITS)
			       << SL_CLS_FRAG_SHIFT
			 : 0);
		cr->tcp_mask = sorted[i].tcp_mask;
		cr->tcp_val = sorted[i].tcp_flags & sorted[i].tcp_mask;
		cr->target =
		    sorted[i].action == SL_RACT_REDIRECT    ? sorted[i].to_slot
		    : sorted[i].action == SL_RACT_RATELIMIT ? sorted[i].rl_slot
							    : 0;
		/* A rule that can match no packet (tcp value outside its
		 * mask, an empty range, an action it does not know)
		 * stays in the table but in no tree. */
		if ((sorted[i].tcp_flags & ~sorted[i].tcp_mask) ||
		    sorted[i].action >= SL_RACT_MAX ||
		    !box_ok(lo + i * ND, hi + i * ND)) {
			cr->tcp_mask = 0xff;
			cr->tcp_val = 0;
			/* and an empty box: a scan of the table in order
			 * (SL_CLS_F_LINEAR) never matches it either */
			cr->lo[SL_DIM_L3] = 1;
			cr->hi[SL_DIM_L3] = 0;
			cat[i] = CAT_DEAD;
			continue;
		}
		classes |= box_classes(lo + i * ND, hi + i * ND);
		/* conditions that may differ between packets of one
		 * direction of a flow (abi.h, SL_CLS_F_FLOW) */
		if (sorted[i].tcp_mask || mi || sorted[i].iface[0] ||
		    sorted[i].vlan >= 0 || sorted[i].icmp_code >= 0)
			flow = 0;
		cnt[cat[i]]++;
	}

	ng = group_cats(cnt, map, gm, gc, merge_min);
	for (int g = 0; g < ng; g++) {
		if (!gc[g])
			continue;
		tl[nt].g = g;
		tl[nt].minpos = SL_CLS_NONE;
		for (size_t i = 0; i < n; i++)
			if (cat[i] != CAT_DEAD && map[cat[i]] == g) {
				tl[nt].minpos = i;
				break;
			}
		nt++;
	}
	/* trees in order of their first rule, for the early stop */
	for (int i = 0; i < nt; i++)
		for (int j = i + 1; j < nt; j++)
			if (tl[j].minpos < tl[i].minpos) {
				typeof(tl[0]) t = tl[i];

				tl[i] = tl[j];
				tl[j] = t;
			}

	b.lo = lo;
	b.hi = hi;
	b.act = act;
	b.tcpm = tcpm;
	b.rules = sorted;
	/* rules of the trees after each one, for the shares */
	for (int t = 0; t < nt; t++) {
		tl[t].k = 0;
		for (size_t i = 0; i < n; i++)
			tl[t].k += cat[i] != CAT_DEAD && map[cat[i]] == tl[t].g;
	}
	tree_count_check(&b, cat, map, n);
	if (b.err) {
		err = b.err;
		goto out;
	}
	for (int t = 0; t < nt && !b.err; t++) {
		uint64_t later = 0;
		uint32_t nn0 = b.nn, nl0 = b.nl;
		int k;

		for (int u = t + 1; u < nt; u++)
			later += tl[u].k;
		b.allow = cat_allow(gm[tl[t].g]);
		/* A tree may take its share of what is left; past it, it is
		 * built again one level coarser. A first attempt (quiet)
		 * builds at the finest level only. */
		b.pool_lim = share_end(2 * b.nn + b.nl, pwords, tl[t].k, later);
		for (int lv = 0; lv < NLEVELS; lv++) {
			uint32_t rlo[ND] = {0};
			uint8_t wb[ND];

			memcpy(wb, dim_bits, ND);
			b.binth = levels[lv].binth;
			b.spfac = levels[lv].spfac;
			b.cur_worst = 0;
			b.err = 0;
			b.nn = nn0;
			b.nl = nl0;
			/* no sharing with a dropped attempt's nodes */
			if (lv && b.dt) {
				memset(b.dt, 0, b.dcap * sizeof(*b.dt));
				b.dn = 0;
			}
			/* build() compacts ids: refilled per attempt */
			k = 0;
			for (size_t i = 0; i < n; i++)
				if (cat[i] != CAT_DEAD &&
				    map[cat[i]] == tl[t].g)
					ids[k++] = i;
			ch->root[t] = build(&b, ids, k, rlo, wb, 0);
			if (b.err != -E2BIG || b.overfull || quiet)
				break;
		}
		if (b.binth != levels[0].binth)
			s.coarse_trees++;
		ch->minpos[t] = tl[t].minpos;
		s.worst_accesses += b.cur_worst;
	}
	if (b.err) {
		err = b.err;
		if (err == -E2BIG && !quiet)
			pr_err("classifier: %zu rules do not fit the config "
			       "blob (nodes %u and leaf slots %u, %u words of "
			       "%u)\n",
			       n, b.nn, b.nl, 2 * b.nn + b.nl, pwords);
		goto out;
	}
	ch->ntrees = nt;
	ch->none = SL_CLS_NONE;
	ch->flags = SL_CLS_F_CLASSES | SL_CLS_F_LINEAR | flow;
	ch->classes = classes;
	ch->nnodes = b.nn;
	ch->nleaf = b.nl;
	bh->nrules = n;
	/* Indexes count from the blob's start (8-byte units for nodes, 4 for
	 * leaf slots), so the walk masks them to the blob's size, no
	 * compare; the leaf lists sit at the pool's end. */
	for (uint32_t i = 0; i < b.nn; i++)
		b.nodes[i].base += b.nodes[i].dim == SL_CLS_LEAF
				       ? pool_off / 4 + pwords - b.nl
				       : pool_off / 8;
	for (int t = 0; t < nt; t++)
		ch->root[t].base += ch->root[t].dim == SL_CLS_LEAF
					? pool_off / 4 + pwords - b.nl
					: pool_off / 8;
	if (b.nn)
		memcpy(u8 + pool_off, b.nodes, (size_t)b.nn * sizeof(*b.nodes));
	if (b.nl)
		memcpy(u8 + pool_off + ((uint64_t)pwords - b.nl) * 4, b.leaf,
		       (size_t)b.nl * sizeof(*b.leaf));
	ch->blob_log = log;
	s.trees = nt;
	s.nodes = b.nn;
	s.leaf_entries = b.nl;
	s.max_depth = b.max_depth;
	s.max_leaf = b.max_leaf;
	/* bytes holding data: header page, rule table, leaf lists, nodes
	 * (the blob itself is 2^log bytes) */
	s.bytes = SL_CLS_RULE_OFF + n * sizeof(struct sl_cls_rule) +
		  (uint64_t)b.nl * 4 + (uint64_t)b.nn * 8;
	/* header, plus per tree the root entry */
	s.worst_accesses += nt;
out:
	s.build_ms = now_ms() - t0;
	if (st)
		*st = s;
	if (err == -ENOMEM)
		pr_err("classifier: out of memory\n");
	free(sorted);
	free(lo);
	free(hi);
	free(ids);
	free(act);
	free(tcpm);
	free(cat);
	free(b.scratch);
	free(b.nodes);
	free(b.leaf);
	free(b.dt);
	return err;
}

/* Fewer trees make a faster walk, but merging categories puts rules with
 * wide fields in trees that must cut them: first try merging categories
 * below 2% of the rules (at 100k rules: 9 trees instead of 14), and if a
 * leaf overflows, build again merging only categories below MERGE_MIN. */
int sl_cls_build_class(const struct sl_rule *rules, size_t n, void *blob,
		       unsigned log, bool fine_only, const char *src,
		       struct sl_cls_stats *st)
{
	double t0 = now_ms();
	int err = -E2BIG;

	if (n / MERGE_DIV > MERGE_MIN)
		err = build_all(rules, n, blob, log, st, n / MERGE_DIV, true,
				src);
	if (err == -E2BIG)
		err = build_all(rules, n, blob, log, st, MERGE_MIN, fine_only,
				src);
	if (st)
		st->build_ms = now_ms() - t0;
	return err;
}

int sl_cls_build(const struct sl_rule *rules, size_t n, void *blob,
		 struct sl_cls_stats *st)
{
	return sl_cls_build_class(rules, n, blob, SL_BLOB_LOG_V2, false, NULL,
				  st);
}

unsigned sl_cls_min_log(size_t n)
{
	unsigned log = SL_BLOB_LOG_MIN;

	while (log < SL_BLOB_LOG_MAX && n >= SL_CLS_RULE_CAP_OF(log))
		log++;
	return log;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* blob: reading the running config blob (sl_config's one slot): its
 * mapping, its header, and the slots it names. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "log.h"
#include "sluice.h"

/* ---- the running blob ---- */

/* The fd of the running blob map, or -ENOENT before the first apply. */
static int blob_fd(struct sl_ctx *ctx)
{
	return sl_inner_fd(sl_map_fd(ctx, SL_MAP_CONFIG), 0);
}

/* Bytes of a blob: its class (the classifier header names it). */
static size_t blob_size(const void *blob)
{
	const struct sl_cls_hdr *c =
	    (const void *)((const struct sl_blob_hdr *)blob)->cls;

	return (size_t)1 << (c->blob_log >= SL_BLOB_LOG_MIN &&
				     c->blob_log <= SL_BLOB_LOG_MAX
				 ? c->blob_log
				 : SL_BLOB_LOG_V2);
}

const void *sl_blob_map(struct sl_ctx *ctx)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = blob_fd(ctx);
	void *m;

	if (fd < 0)
		return NULL;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return NULL;
	}
	m = mmap(NULL, info.value_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return NULL;
	if (blob_size(m) != info.value_size) {
		munmap(m, info.value_size);
		return NULL;
	}
	return m;
}

void sl_blob_unmap(const void *blob)
{
	if (blob)
		munmap((void *)blob, blob_size(blob));
}

/* The first len bytes of the running blob mapped read-only (munmap them),
 * or NULL with *err: -ENOENT before the first apply. */
static void *blob_head(struct sl_ctx *ctx, size_t len, int *err)
{
	int fd = blob_fd(ctx);
	void *m;

	*err = fd < 0 ? fd : 0;
	if (fd < 0)
		return NULL;
	m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	return m;
}

int sl_blob_hdr_read(struct sl_ctx *ctx, struct sl_blob_hdr *h)
{
	int err;
	void *m = blob_head(ctx, sizeof(*h), &err);

	memset(h, 0, sizeof(*h));
	if (!m)
		return err;
	memcpy(h, m, sizeof(*h));
	munmap(m, sizeof(*h));
	if (h->magic != SL_BLOB_MAGIC) {
		pr_err("the running config was written by another version of "
		       "Sluice; run 'sluice reset'");
		return -EIO;
	}
	return 0;
}

int sl_ctx_sync_slots(struct sl_ctx *ctx)
{
	struct sl_blob_hdr h;
	int err = sl_blob_hdr_read(ctx, &h);

	ctx->set_gen = ctx->defs_gen = 0;
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	ctx->set_gen = h.set_gen & 1;
	ctx->defs_gen = h.defs_gen & 1;
	return 0;
}

/* ---- the layout record (sl_meta) ---- */

int sl_meta_write(struct sl_ctx *ctx, __u32 layout)
{
	struct sl_meta m = {};
	int fd = sl_map_fd(ctx, SL_MAP_META);
	__u32 key = 0;

	/* The other fields (capacities) stay. */
	if (fd >= 0 &&
	    (bpf_map_lookup_elem(fd, &key, &m) || m.magic != SL_META_MAGIC))
		memset(&m, 0, sizeof(m));
	m.magic = SL_META_MAGIC;
	m.layout = layout;
	m.blob_log = sl_xdp_blob_log(ctx->skel);
	if (fd < 0 || bpf_map_update_elem(fd, &key, &m, BPF_ANY)) {
		int err = fd < 0 ? fd : -errno;

		pr_err("cannot record the layout version: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* ---- the conntrack settings in the blob (abi.h, SL_CT_CONF_OFF) ---- */

void sl_blob_ct_put(void *blob, const struct sl_ct_cfg *ct)
{
	struct sl_blob_hdr *h = blob;
	struct sl_ct_conf *c = (void *)((char *)blob + SL_CT_CONF_OFF);

	h->ct_flags = SL_BLOB_CT_CONF | (ct->enabled ? SL_BLOB_CT_ENABLED : 0) |
		      (ct->drop_invalid ? SL_BLOB_CT_DROP_INVALID : 0);
	memset(c, 0, sizeof(*c));
	c->max = ct->max;
	memcpy(c->tmo, ct->tmo, sizeof(c->tmo));
}

void sl_blob_ct_get(const void *blob, struct sl_ct_cfg *ct)
{
	const struct sl_blob_hdr *h = blob;
	const struct sl_ct_conf *c =
	    (const void *)((const char *)blob + SL_CT_CONF_OFF);

	memset(ct, 0, sizeof(*ct));
	/* a blob of an earlier release: every default */
	if (!(h->ct_flags & SL_BLOB_CT_CONF))
		return;
	ct->enabled = h->ct_flags & SL_BLOB_CT_ENABLED;
	ct->drop_invalid = h->ct_flags & SL_BLOB_CT_DROP_INVALID;
	ct->max = c->max;
	memcpy(ct->tmo, c->tmo, sizeof(ct->tmo));
}

void sl_blob_frag_put(void *blob, const struct sl_frag_cfg *fr)
{
	struct sl_blob_hdr *h = blob;
	struct sl_frag_conf *c = (void *)((char *)blob + SL_FRAG_CONF_OFF);

	memset(c, 0, sizeof(*c));
	c->timeout = fr->timeout;
	h->ct_flags |= SL_BLOB_FRAG_CONF;
}

int sl_blob_frag_read(struct sl_ctx *ctx, struct sl_frag_cfg *fr)
{
	int err;
	void *m = blob_head(ctx, SL_CLS_RULE_OFF, &err);
	const struct sl_frag_conf *c;

	memset(fr, 0, sizeof(*fr));
	if (!m)
		return err;
	c = (const void *)((const char *)m + SL_FRAG_CONF_OFF);
	if (((const struct sl_blob_hdr *)m)->ct_flags & SL_BLOB_FRAG_CONF)
		fr->timeout = c->timeout;
	munmap(m, SL_CLS_RULE_OFF);
	return 0;
}

int sl_blob_ct_read(struct sl_ctx *ctx, struct sl_ct_cfg *ct)
{
	int err;
	void *m = blob_head(ctx, SL_CLS_RULE_OFF, &err);

	memset(ct, 0, sizeof(*ct));
	if (!m)
		return err;
	sl_blob_ct_get(m, ct);
	munmap(m, SL_CLS_RULE_OFF);
	return 0;
}

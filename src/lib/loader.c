// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* loader: opens and loads the BPF object (all hooks' programs in one
 * skeleton), with its maps pinned by name in a pin directory or private,
 * the load-time feature switches set and only the programs asked for
 * verified; and the privilege check. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sluice.h"
#include "sluice_xdp.skel.h"

void sl_features_default(struct sl_features *feat)
{
	memset(feat, 0, sizeof(*feat));
	feat->drop_malformed = 1;
}

/* libbpf reuses a pinned map only when its flags equal the definition's,
 * and the kernel reports a DEVMAP with BPF_F_RDONLY_PROG added (a flag
 * that cannot be given at creation): reuse such a pin by hand, after the
 * checks libbpf would make. */
static int reuse_devmap(struct bpf_map *map, const char *pin_dir)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[512];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* libbpf creates it */
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (!err && (info.type != bpf_map__type(map) ||
		     info.key_size != bpf_map__key_size(map) ||
		     info.value_size != bpf_map__value_size(map) ||
		     info.max_entries != bpf_map__max_entries(map)))
		err = -EINVAL;
	if (!err)
		err = bpf_map__reuse_fd(map, fd);
	if (!err)
		err = bpf_map__set_pin_path(map, NULL);
	close(fd);
	return err;
}

static bool log_ok(unsigned log)
{
	return log >= SL_BLOB_LOG_MIN && log <= SL_BLOB_LOG_MAX;
}

/* No map of Sluice's is pinned in dir yet. */
static bool fresh_dir(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	bool fresh = true;

	if (!d)
		return true;
	while (fresh && (de = readdir(d)))
		fresh = strncmp(de->d_name, "sl_", 3) &&
			strncmp(de->d_name, "upgrade-", 8);
	closedir(d);
	return fresh;
}

unsigned sl_blob_log_for(const char *pin_dir, const struct sl_features *feat)
{
	struct sl_meta m = {};
	char path[512];
	__u32 key = 0;
	int fd;

	if (feat && log_ok(feat->blob_log))
		return feat->blob_log;
	if (!pin_dir)
		return SL_BLOB_LOG_V2;
	/* The running blob's size is the class, when there is one. */
	snprintf(path, sizeof(path), "%s/%s", pin_dir, SL_MAP_CONFIG);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		struct bpf_map_info info = {};
		__u32 id, len = sizeof(info);
		int in = bpf_map_lookup_elem(fd, &key, &id)
			     ? -1
			     : bpf_map_get_fd_by_id(id);

		close(fd);
		if (in >= 0) {
			int err = bpf_obj_get_info_by_fd(in, &info, &len);

			close(in);
			for (unsigned l = SL_BLOB_LOG_MIN;
			     !err && l <= SL_BLOB_LOG_MAX; l++)
				if (info.value_size == 1U << l)
					return l;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", pin_dir, SL_MAP_META);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (!bpf_map_lookup_elem(fd, &key, &m) &&
		    m.magic == SL_META_MAGIC && log_ok(m.blob_log)) {
			close(fd);
			return m.blob_log;
		}
		close(fd);
	}
	/* State of a release before classes, or whose class is not recorded
	 * (an upgrade's maps, made before its sl_meta is written): the one
	 * size there was. Only new state (no pin of Sluice's yet) starts
	 * small; sl_open records its class right after the first load. */
	return fresh_dir(pin_dir) ? SL_BLOB_LOG_MIN : SL_BLOB_LOG_V2;
}

unsigned sl_xdp_blob_log(struct sluice_xdp *skel)
{
	unsigned log = skel->rodata->sl_feat.blob_log;

	return log_ok(log) ? log : SL_BLOB_LOG_V2;
}

/* The runtime-owned maps the config file sizes (enum sl_rt_map): pinned
 * name, config key, default capacity. */
static const struct rt_map {
	const char *name, *key;
	__u32 def;
} rt_maps[SL_RT_MAPS] = {
    [SL_RT_CT] = {SL_MAP_CT, "conntrack max", SL_CT_MAX_DEFAULT},
    [SL_RT_RL] = {SL_MAP_RL_BUCKETS, "ratelimit max", SL_RL_MAX_BUCKETS},
    [SL_RT_FRAGS] = {SL_MAP_FRAGS, "fragments max", SL_FRAG_MAX_ENTRIES},
};

const char *sl_rt_map_name(int i)
{
	if (i == SL_RT_LB_CONN)
		return SL_MAP_LB_CONN;
	return i >= 0 && i < SL_RT_MAPS ? rt_maps[i].name : "?";
}

const char *sl_rt_map_key(int i)
{
	if (i == SL_RT_LB_CONN)
		return "loadbalancer max";
	return i >= 0 && i < SL_RT_MAPS ? rt_maps[i].key : "?";
}

/* The capacity runtime map i is made with when its pin is missing: cap
 * when given, else its default; sl_ct's default only with conntrack on,
 * else 1 (a placeholder: apply makes the table with its capacity when it
 * switches conntrack on). A pinned map is reused with its capacity (libbpf
 * reuses a pin only when max_entries matches). */
static int rt_size(struct bpf_object *obj, int i, const char *pin_dir,
		   const struct sl_features *feat, __u32 cap)
{
	struct bpf_map *map =
	    bpf_object__find_map_by_name(obj, rt_maps[i].name);
	char path[512];
	__u32 n = cap ? cap : rt_maps[i].def, pinned;

	if (!map)
		return 0; /* an object without the stage (a test's variant) */
	if (!cap && i == SL_RT_CT && !(feat && feat->conntrack))
		n = 1;
	if (pin_dir) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, rt_maps[i].name);
		pinned = sl_pin_max(path);
		if (pinned)
			n = pinned;
	}
	return bpf_map__set_max_entries(map, n);
}

struct sluice_xdp *sl_xdp_load(const char *pin_dir,
			       const struct sl_features *feat, unsigned progs)
{
	return sl_xdp_load_ct(pin_dir, feat, progs, 0);
}

struct sluice_xdp *sl_xdp_load_ct(const char *pin_dir,
				  const struct sl_features *feat,
				  unsigned progs, __u32 ct_max)
{
	__u32 caps[SL_RT_MAPS] = {[SL_RT_CT] = ct_max};

	return sl_xdp_load_caps(pin_dir, feat, progs, caps);
}

struct sluice_xdp *sl_xdp_load_caps(const char *pin_dir,
				    const struct sl_features *feat,
				    unsigned progs,
				    const __u32 caps[SL_RT_MAPS])
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_dir);
	struct sluice_xdp *skel;
	struct bpf_map *map;
	int err;

	skel = sluice_xdp__open_opts(&oo);
	if (!skel) {
		pr_err("cannot open the XDP object: %s", strerror(errno));
		return NULL;
	}
	bpf_object__for_each_map (map, skel->obj) {
		if (!pin_dir)
			err = bpf_map__set_pin_path(map, NULL);
		else if (bpf_map__type(map) == BPF_MAP_TYPE_DEVMAP)
			err = reuse_devmap(map, pin_dir);
		else
			err = 0;
		if (err) {
			pr_err("cannot load the XDP object: the map pinned at "
			       "%s/%s does not match this version of Sluice "
			       "(%s)",
			       pin_dir, bpf_map__name(map), strerror(-err));
			sluice_xdp__destroy(skel);
			errno = -err;
			return NULL;
		}
	}
	if (feat)
		skel->rodata->sl_feat = *feat;
	/* The blob class: the rules stage's bounds (rodata) and the size of
	 * sl_config's blobs (its template) go together. */
	skel->rodata->sl_feat.blob_log = sl_blob_log_for(pin_dir, feat);
	err = bpf_map__set_value_size(bpf_map__inner_map(skel->maps.sl_config),
				      1U << skel->rodata->sl_feat.blob_log);
	if (err) {
		pr_err("cannot size the config blob: %s", strerror(-err));
		sluice_xdp__destroy(skel);
		errno = -err;
		return NULL;
	}
	for (int i = 0; i < SL_RT_MAPS; i++) {
		err = rt_size(skel->obj, i, pin_dir, feat, caps[i]);
		if (err) {
			pr_err("cannot size %s: %s", rt_maps[i].name,
			       strerror(-err));
			sluice_xdp__destroy(skel);
			errno = -err;
			return NULL;
		}
	}
	/* The load balancer's next-hop cache (lb.h), per CPU: room for every
	 * backend id with the stage, one entry without it. */
	err = bpf_map__set_max_entries(skel->maps.sl_lb_hops,
				       feat && feat->lb ? SL_LB_BE_MAX : 1);
	if (err) {
		pr_err("cannot size the next-hop cache: %s", strerror(-err));
		sluice_xdp__destroy(skel);
		errno = -err;
		return NULL;
	}
	/* Only the programs asked for are verified: each costs load time. */
	bpf_program__set_autoload(skel->progs.sluice_xdp, progs & SL_PROG_XDP);
	bpf_program__set_autoload(skel->progs.sluice_tc_in,
				  progs & SL_PROG_TC_IN);
	bpf_program__set_autoload(skel->progs.sluice_tc_out,
				  progs & SL_PROG_TC_OUT);
	sl_sets_capture(skel->obj);
	err = sluice_xdp__load(skel);
	if (err) {
		if (err == -EINVAL && pin_dir)
			pr_err("cannot load the XDP object: the maps pinned in "
			       "%s do not match this version of Sluice; run "
			       "'sluice reset' (drops all state)",
			       pin_dir);
		else
			pr_err(
			    "cannot load the XDP object: %s (run with -v for "
			    "the verifier log)",
			    strerror(-err));
		sluice_xdp__destroy(skel);
		errno = -err;
		return NULL;
	}
	err = sl_sets_prepare(skel);
	if (err) {
		sluice_xdp__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

void sl_xdp_destroy(struct sluice_xdp *skel)
{
	sluice_xdp__destroy(skel);
}

struct bpf_object *sl_xdp_object(struct sluice_xdp *skel)
{
	return skel->obj;
}

int sl_xdp_prog_fd(struct sluice_xdp *skel)
{
	return bpf_program__fd(skel->progs.sluice_xdp);
}

int sl_prog_fd(struct sluice_xdp *skel, unsigned prog)
{
	switch (prog) {
	case SL_PROG_XDP:
		return bpf_program__fd(skel->progs.sluice_xdp);
	case SL_PROG_TC_IN:
		return bpf_program__fd(skel->progs.sluice_tc_in);
	case SL_PROG_TC_OUT:
		return bpf_program__fd(skel->progs.sluice_tc_out);
	}
	return -EINVAL;
}

int sl_check_privileges(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "CapEff: %llx", &eff) == 1)
				break;
		fclose(f);
	}
	/* CAP_SYS_ADMIN (21): CAP_BPF with CAP_NET_ADMIN is not enough, as
	 * the inner maps of the set and rule slots are opened by id
	 * (BPF_MAP_GET_FD_BY_ID wants CAP_SYS_ADMIN), so every verb on the
	 * state would fail. */
	if (eff & (1ULL << 21))
		return 0;
	pr_err("permission denied: Sluice needs root (CAP_SYS_ADMIN: it "
	       "opens its maps by id); try sudo");
	return -EPERM;
}

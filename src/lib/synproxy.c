// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synproxy: the protected ports in the datapath (SL_MAP_SYNPROXY, abi.h)
 * and the kernel's half of SYN-flood protection.
 *
 * The XDP stage answers a SYN to a protected port with a SYN cookie and
 * lets only an ACK whose cookie checks through (bpf/lib/synproxy.h). The
 * listening socket never saw that SYN: the kernel's own cookie path
 * accepts such an ACK only within two minutes of the listener's own queue
 * overflowing (tcp_synq_no_recent_overflow), so it would answer with a
 * RST. What completes the connection is netfilter's SYNPROXY, as the
 * kernel's xdp_synproxy selftest pairs them: SYNs to the ports are not
 * tracked (raw prerouting, notrack), the ACK is then "invalid" for
 * nf_conntrack (nf_conntrack_tcp_loose=0: no mid-stream pickup), and
 * SYNPROXY checks its cookie (the same syncookie secret as the BPF
 * helpers'), opens the connection to the listener with the options the
 * client asked for (decoded from the timestamp, as the XDP answer encodes
 * them), and translates sequence numbers and timestamps from then on.
 * Where no XDP runs (TC ingress), SYNPROXY answers the SYNs itself. Sluice
 * writes that as one nftables table, `inet sluice_synproxy`, replaced
 * atomically by each apply (nft -f: one transaction) and deleted when no
 * port is protected. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "log.h"
#include "sluice.h"

#define NFT_TABLE    "sluice_synproxy"
#define LOOSE_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_tcp_loose"

extern char **environ;

int sl_syn_read(struct sl_ctx *ctx, struct sl_syn_cfg *out)
{
	int fd = sl_map_fd(ctx, SL_MAP_SYNPROXY);
	__u32 keys[SL_SYN_WORDS + 1], count = SL_SYN_WORDS + 1, out_batch;
	__u64 vals[SL_SYN_WORDS + 1];
	struct sl_syn_params par;

	memset(out, 0, sizeof(*out));
	if (fd == -ENOENT)
		return 0; /* state of an earlier release: nothing protected */
	if (fd < 0)
		return fd;
	/* one syscall (every status, rule verb and apply reads it) */
	if (bpf_map_lookup_batch(fd, NULL, &out_batch, keys, vals, &count,
				 NULL) &&
	    errno != ENOENT)
		count = 0;
	if (count != SL_SYN_WORDS + 1) {
		/* a kernel without batch operations: a word at a time */
		for (__u32 k = 0; k <= SL_SYN_WORDS; k++) {
			keys[k] = k;
			if (bpf_map_lookup_elem(fd, &k, &vals[k]))
				return -errno;
		}
	}
	for (__u32 i = 0; i <= SL_SYN_WORDS; i++)
		if (keys[i] < SL_SYN_WORDS)
			out->bits[keys[i]] = vals[i];
		else
			memcpy(&par, &vals[i], sizeof(par));
	if (!sl_syn_count(out))
		return 0;
	out->mss4 = par.mss4 == SL_SYN_MSS4_DEF ? 0 : par.mss4;
	out->mss6 = par.mss6 == SL_SYN_MSS6_DEF ? 0 : par.mss6;
	out->wscale = par.wscale == SL_SYN_WSCALE_DEF ? 0
		      : par.wscale		      ? par.wscale
						      : SL_SYN_WSCALE_ZERO;
	return 0;
}

int sl_syn_write(struct sl_ctx *ctx, const struct sl_syn_cfg *s)
{
	int fd = sl_map_fd(ctx, SL_MAP_SYNPROXY);
	__u32 keys[SL_SYN_WORDS + 1], count = SL_SYN_WORDS + 1;
	__u64 vals[SL_SYN_WORDS + 1];
	struct sl_syn_params par = {0};
	struct sl_syn_cfg e;

	if (fd < 0) {
		pr_err("cannot find the synproxy map %s: %s", SL_MAP_SYNPROXY,
		       strerror(-fd));
		return fd;
	}
	sl_syn_effective(s, &e);
	for (__u32 k = 0; k < SL_SYN_WORDS; k++) {
		keys[k] = k;
		vals[k] = s->bits[k];
	}
	par.mss4 = e.mss4;
	par.mss6 = e.mss6;
	par.wscale = (__u8)sl_syn_wscale(&e);
	keys[SL_SYN_WORDS] = SL_SYN_WORDS;
	memcpy(&vals[SL_SYN_WORDS], &par, sizeof(par));
	/* one syscall: a kill leaves the old ports or the new ones */
	if (!bpf_map_update_batch(fd, keys, vals, &count, NULL))
		return 0;
	if (errno != EINVAL && errno != EOPNOTSUPP &&
	    errno != 524 /* ENOTSUPP */) {
		pr_err("cannot write the synproxy ports: %s", strerror(errno));
		return -errno;
	}
	/* a kernel without batch operations: a word at a time */
	for (__u32 k = 0; k <= SL_SYN_WORDS; k++)
		if (bpf_map_update_elem(fd, &keys[k], &vals[k], BPF_ANY)) {
			pr_err("cannot write the synproxy ports: %s",
			       strerror(errno));
			return -errno;
		}
	return 0;
}

/* The nftables script for s (no ports: the table goes). */
static char *nft_script(const struct sl_syn_cfg *s)
{
	struct sl_syn_cfg e;
	char *ports, *out = NULL;
	size_t size = 0;
	FILE *f;
	int n;

	sl_syn_effective(s, &e);
	n = sl_syn_format(&e, ", ", NULL, 0);
	ports = malloc((size_t)n + 1);
	if (!ports)
		return NULL;
	sl_syn_format(&e, ", ", ports, (size_t)n + 1);
	f = open_memstream(&out, &size);
	if (!f) {
		free(ports);
		return NULL;
	}
	/* create-then-delete: no error when there was none */
	fprintf(f,
		"table inet " NFT_TABLE "\ndelete table inet " NFT_TABLE "\n");
	if (n) {
		fprintf(f,
			"table inet " NFT_TABLE " {\n"
			"  chain pre {\n"
			"    type filter hook prerouting priority raw; policy "
			"accept;\n"
			"    tcp dport { %s } tcp flags & (fin | syn | rst | "
			"ack) == syn notrack\n"
			"  }\n"
			"  chain in {\n"
			"    type filter hook input priority filter; policy "
			"accept;\n"
			"    meta nfproto ipv4 tcp dport { %s } ct state "
			"invalid,untracked synproxy mss %u wscale %u "
			"timestamp sack-perm\n"
			"    meta nfproto ipv6 tcp dport { %s } ct state "
			"invalid,untracked synproxy mss %u wscale %u "
			"timestamp sack-perm\n"
			"    tcp dport { %s } ct state invalid drop\n"
			"  }\n"
			"}\n",
			ports, ports, e.mss4, sl_syn_wscale(&e), ports, e.mss6,
			sl_syn_wscale(&e), ports);
	}
	free(ports);
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

/* Runs `nft [-c] -f PATH`; 0 when it succeeded. */
static int nft_run(const char *path, bool check)
{
	char *argv[] = {"nft", check ? "-c" : "-f", check ? "-f" : (char *)path,
			check ? (char *)path : NULL, NULL};
	pid_t pid;
	int st, err;

	err = posix_spawnp(&pid, "nft", NULL, NULL, argv, environ);
	if (err) {
		pr_err("synproxy: cannot run nft (Debian package nftables): %s",
		       strerror(err));
		return -err;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		pr_err("synproxy: nft refused the SYNPROXY table (its message "
		       "is above)");
		return -EIO;
	}
	return 0;
}

int sl_syn_kernel(const struct sl_syn_cfg *s, bool check)
{
	char path[] = "/tmp/sluice-synproxy.XXXXXX";
	char *script = nft_script(s);
	size_t len;
	int fd, err = 0;

	if (!script)
		return -ENOMEM;
	fd = mkstemp(path);
	if (fd < 0) {
		err = -errno;
		free(script);
		return err;
	}
	len = strlen(script);
	if (write(fd, script, len) != (ssize_t)len)
		err = -EIO;
	close(fd);
	free(script);
	if (!err)
		err = nft_run(path, check);
	unlink(path);
	/* SYNPROXY needs the final ACK to be invalid, not picked up */
	if (!err && !check && sl_syn_count(s)) {
		int f = open(LOOSE_SYSCTL, O_WRONLY);

		if (f < 0 || write(f, "0\n", 2) != 2) {
			err = -errno ?: -EIO;
			pr_err("synproxy: cannot set %s to 0: %s", LOOSE_SYSCTL,
			       strerror(-err));
		}
		if (f >= 0)
			close(f);
	}
	return err;
}

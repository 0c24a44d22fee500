/*
 * The SRTP key log (keylog.h), in common/keylog.h's format. Appended
 * (O_APPEND, mode 0600) under its own leaf lock; the first write warns
 * loudly that anyone who can read the file can decrypt the calls.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/keylog.h"
#include "common/suite.h"
#include "shim/keylog.h"
#include "shim/log.h"
#include "shim/real.h"
#include "shim/settings.h"
#include "zrtp/zrtp.h"

static pthread_mutex_t keylog_mu = PTHREAD_MUTEX_INITIALIZER;
static bool keylog_warned;        /* keylog_mu */

static void addr_from_ss(const struct sockaddr_storage *ss,
			 struct keylog_addr *a)
{
	memset(a, 0, sizeof *a);
	a->any_ip = a->any_port = true;
	if (!ss)
		return;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		a->any_ip = a->any_port = false;
		a->family = 4;
		memcpy(a->ip, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		a->any_ip = a->any_port = false;
		a->port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			/* The wire (and the capture) shows IPv4. */
			a->family = 4;
			memcpy(a->ip, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			a->family = 6;
			memcpy(a->ip, &s6->sin6_addr, 16);
		}
	}
}

/*
 * One key log line in common/keylog.h's format, with one thing the shim
 * cannot know: the RTP SSRCs, which the client picks (and may change)
 * after the keys are made, so the line says "ssrc=*" (any SSRC between
 * these addresses). The addresses pin the stream: our side as "*:PORT"
 * (the socket may be bound to the wildcard address), the peer's as
 * announced in its SDP.
 */
static int keylog_line(char *buf, size_t cap, const char *stream,
		       enum suite prof, const struct keylog_addr *src,
		       const struct keylog_addr *dst, const uint8_t *key,
		       size_t key_len, const uint8_t *salt)
{
	struct keylog_entry e;
	int n;

	memset(&e, 0, sizeof e);
	e.any_ssrc = true;
	e.src = *src;
	e.dst = *dst;
	e.profile = prof;
	if (key_len > sizeof e.key)
		return -EINVAL;
	memcpy(e.key, key, key_len);
	e.key_len = key_len;
	memcpy(e.salt, salt, KEYLOG_SALT_LEN);
	n = keylog_format_named(buf, cap, &e, stream);
	explicit_bzero(&e, sizeof e);
	return n;
}

void shim_keylog_write(const char *stream_name, uint16_t local_rtp_port,
		       uint16_t local_rtcp_port,
		       const struct sockaddr_storage *peer_rtp,
		       const struct sockaddr_storage *peer_rtcp,
		       const struct zrtp_srtp_keys *keys)
{
	if (!shim_config.keylog[0] || !keys)
		return;
	int saved = errno;
	enum suite prof;
	if (suite_from_zrtp(keys->cipher, keys->auth, keys->key_len,
			    &prof) < 0) {
		shim_log(SHIM_LOG_ERROR, "keylog: stream %s: key length %zu "
			 "does not fit its profile: not logged", stream_name,
			 keys->key_len);
		errno = saved;
		return;
	}

	struct keylog_addr loc_rtp, loc_rtcp, peer_a, peer_c;
	memset(&loc_rtp, 0, sizeof loc_rtp);
	loc_rtp.any_ip = true;
	loc_rtp.port = local_rtp_port;
	loc_rtp.any_port = local_rtp_port == 0;
	loc_rtcp = loc_rtp;
	loc_rtcp.port = local_rtcp_port;
	loc_rtcp.any_port = local_rtcp_port == 0;
	addr_from_ss(peer_rtp, &peer_a);
	addr_from_ss(peer_rtcp, &peer_c);
	bool rtcp_apart = local_rtcp_port && local_rtcp_port != local_rtp_port;

	/* Up to four lines: RTP each way, and RTCP each way when it has its
	 * own ports (SRTCP uses the same master key and salt). */
	char buf[4 * KEYLOG_LINE_MAX];
	size_t len = 0;
	int r = 0;
	struct { const struct keylog_addr *src, *dst; bool local; } dirs[4] = {
		{ &loc_rtp, &peer_a, true }, { &peer_a, &loc_rtp, false },
		{ &loc_rtcp, &peer_c, true }, { &peer_c, &loc_rtcp, false },
	};
	for (int i = 0; i < (rtcp_apart ? 4 : 2) && r >= 0; i++) {
		r = keylog_line(buf + len, sizeof buf - len, stream_name, prof,
				dirs[i].src, dirs[i].dst,
				dirs[i].local ? keys->local_key : keys->remote_key,
				keys->key_len,
				dirs[i].local ? keys->local_salt : keys->remote_salt);
		if (r > 0)
			len += (size_t)r;
	}
	if (r < 0) {
		explicit_bzero(buf, sizeof buf);
		shim_log(SHIM_LOG_ERROR, "keylog: stream %s: cannot format the "
			 "key log line: not logged", stream_name);
		errno = saved;
		return;
	}

	pthread_mutex_lock(&keylog_mu);
	if (!keylog_warned) {
		keylog_warned = true;
		shim_log(SHIM_LOG_WARN, "keylog: WARNING: SRTP keys of this "
			 "process's calls are written to %s: anyone who can "
			 "read it can decrypt them. Unset ZRTPSHIM_KEYLOG "
			 "unless you are testing.", shim_config.keylog);
	}
	int fd = open(shim_config.keylog,
		      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	bool ok = fd >= 0 && shim_real_write_all(fd, buf, len);
	int err = errno;
	if (fd >= 0)
		shim_real.close(fd);
	pthread_mutex_unlock(&keylog_mu);
	explicit_bzero(buf, sizeof buf);
	if (!ok)
		shim_log(SHIM_LOG_ERROR, "keylog: cannot append to %s: %s",
			 shim_config.keylog, strerror(err));
	else
		shim_log(SHIM_LOG_INFO, "keylog: stream %s: keys written",
			 stream_name);
	errno = saved;
}

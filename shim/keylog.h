/*
 * The SRTP key log (keylog.c): with ZRTPSHIM_KEYLOG set, a secure
 * stream's master keys are appended in common/keylog.h's format for
 * `zrtpshim verify --keylog`.
 */
#ifndef SHIM_KEYLOG_H
#define SHIM_KEYLOG_H

#include <stdint.h>
#include <sys/socket.h>

struct zrtp_srtp_keys;

/* On SECURE, only when shim_config.keylog is set: one stream's SRTP master
 * keys and salts (SRTCP uses the same; its tag is always 80 bits) with the
 * ports that identify it in a capture. Called with the stream's lock held:
 * it takes only its own leaf lock. */
void shim_keylog_write(const char *stream_name, uint16_t local_rtp_port,
		       uint16_t local_rtcp_port,
		       const struct sockaddr_storage *peer_rtp,
		       const struct sockaddr_storage *peer_rtcp,
		       const struct zrtp_srtp_keys *keys);

#endif

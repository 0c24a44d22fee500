/*
 * The keypad (keypad.c): DTMF keys the client sends during a call, read
 * from its RTP before it is protected (RFC 4733 telephone-events, in-band
 * tones in G.711 audio) and from its SIP INFO requests (sipglue), matched
 * against the configured sequences (ZRTPSHIM_KEY_REPEAT, _CONFIRM,
 * _WITHDRAW): repeat the code, mark the peer verified in the cache, or
 * withdraw that. The keys still reach the peer exactly as sent: the
 * keypad only reads.
 */
#ifndef SHIM_KEYPAD_H
#define SHIM_KEYPAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim/settings.h"

/* Keys further apart than this start a new sequence. */
#define KEYPAD_GAP_MS 5000

/* In-band tones are looked for in 400 ms of G.711 at a time (3200
 * samples, 20 packets of 20 ms): the detector's code and state are then
 * brought in once for 20 packets instead of every packet. Measured in
 * calls, that cold start cost four times the detection itself (about
 * 40,000 cycles against 10,000 per 100 ms). A key is seen at most 400 ms
 * later; the last batch is looked at when the stream ends. */
#define KEYPAD_INBAND_BATCH 3200

/* Per stream (struct shim_media), under call->mu. */
struct keypad_state {
	bool ev_seen;              /* the client sends telephone-events */
	bool ev_ts_valid;
	uint32_t ev_ts;            /* RTP timestamp of the last event counted */
	void *dtmf;                /* spandsp dtmf_rx_state_t *, made on the
				    * first G.711 packet (not per packet) */
	bool dtmf_unavailable;     /* spandsp missing: logged once */
	uint8_t *inband;           /* G.711 octets not yet given to dtmf
				    * (KEYPAD_INBAND_BATCH, made with dtmf) */
	uint16_t inband_n;
	bool inband_alaw;
	uint64_t inband_ms;        /* when the last of them was sent */
	char keys[SHIM_KEYSEQ_MAX + 1];   /* the last keys, oldest first */
	unsigned n_keys;
	uint64_t last_key_ms;
	char peer_zid[25];         /* hex, set when the stream is secure */
};

enum keypad_action {
	KEYPAD_NONE,
	KEYPAD_REPEAT,
	KEYPAD_CONFIRM,
	KEYPAD_WITHDRAW,
};

/* 0-9 * # A-D (a-d too); the upper-case form of a key. */
bool keypad_is_key(char c);
char keypad_key_upper(char c);

/* The key of RFC 4733 event code 0..15 (0-9 * # A-D), or 0. */
char keypad_event_key(unsigned code);

/*
 * One telephone-event payload (RFC 4733 §2.3) with its RTP timestamp: the
 * key if it starts an event (a new timestamp; continuations and the
 * retransmitted end packets share the first one's), else 0. A payload
 * that is not a whole number of 4-byte events, or an event that is no
 * key, gives 0 and changes nothing.
 */
char keypad_event_input(struct keypad_state *k, const uint8_t *payload,
			size_t len, uint32_t ts);

/* Add one key at now (ms): which of the sequences (each "" for none),
 * if any, it completes (the keys are then forgotten). */
enum keypad_action keypad_match(struct keypad_state *k, char key, uint64_t now,
				const char *repeat, const char *confirm,
				const char *withdraw);

/*
 * A SIP INFO body carrying one key (RFC 2976 practice):
 * application/dtmf-relay ("Signal=5\r\nDuration=160") or application/dtmf
 * ("5"). The key, or 0 for another type or a malformed body.
 */
char keypad_info_key(const char *ctype, size_t ctype_len, const char *body,
		     size_t body_len);

#endif

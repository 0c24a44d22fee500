/*
 * The keypad (keypad.h): the parts that need no stream (telephone-event
 * payloads, the matcher, SIP INFO bodies). The stream's side is in
 * media_keypad.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "shim/keypad.h"

char keypad_event_key(unsigned code)
{
	static const char keys[16] = "0123456789*#ABCD";
	return code < 16 ? keys[code] : 0;
}

char keypad_event_input(struct keypad_state *k, const uint8_t *payload,
			size_t len, uint32_t ts)
{
	if (len < 4 || len % 4 != 0)
		return 0;
	char key = keypad_event_key(payload[0]);
	if (!key)
		return 0;
	k->ev_seen = true;
	/* RFC 4733 §2.5.1.2: every packet of one event, its retransmitted
	 * end packets too, carries the timestamp of the event's start. */
	if (k->ev_ts_valid && k->ev_ts == ts)
		return 0;
	k->ev_ts = ts;
	k->ev_ts_valid = true;
	return key;
}

static bool ends_with(const struct keypad_state *k, const char *seq)
{
	size_t n = strlen(seq);
	return n > 0 && n <= k->n_keys &&
	       memcmp(k->keys + k->n_keys - n, seq, n) == 0;
}

enum keypad_action keypad_match(struct keypad_state *k, char key, uint64_t now,
				const char *repeat, const char *confirm,
				const char *withdraw)
{
	if (k->n_keys > 0 && now - k->last_key_ms > KEYPAD_GAP_MS)
		k->n_keys = 0;
	k->last_key_ms = now;
	if (k->n_keys == SHIM_KEYSEQ_MAX) {
		memmove(k->keys, k->keys + 1, SHIM_KEYSEQ_MAX - 1);
		k->n_keys--;
	}
	k->keys[k->n_keys++] = key;
	k->keys[k->n_keys] = '\0';

	enum keypad_action a = KEYPAD_NONE;
	if (ends_with(k, confirm))
		a = KEYPAD_CONFIRM;
	else if (ends_with(k, withdraw))
		a = KEYPAD_WITHDRAW;
	else if (ends_with(k, repeat))
		a = KEYPAD_REPEAT;
	if (a != KEYPAD_NONE)
		k->n_keys = 0;
	return a;
}

bool keypad_is_key(char c)
{
	return (c >= '0' && c <= '9') || c == '*' || c == '#' ||
	       (c >= 'A' && c <= 'D') || (c >= 'a' && c <= 'd');
}

char keypad_key_upper(char c)
{
	return c >= 'a' && c <= 'd' ? (char)(c - 'a' + 'A') : c;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The key of a dtmf-relay Signal value ("5", "*", "#", "A", or the
 * event codes 10..15 some clients send for * # A-D). */
static char signal_key(const char *p, size_t n, bool codes)
{
	if (n == 1 && keypad_is_key(p[0]))
		return keypad_key_upper(p[0]);
	if (codes && n == 2 && p[0] == '1' && p[1] >= '0' && p[1] <= '5')
		return keypad_event_key((unsigned)(10 + p[1] - '0'));
	return 0;
}

char keypad_info_key(const char *ctype, size_t ctype_len, const char *body,
		     size_t body_len)
{
	static const char relay[] = "application/dtmf-relay";
	static const char plain[] = "application/dtmf";
	if (!ctype || !body)
		return 0;

	if (ctype_len == sizeof plain - 1 &&
	    strncasecmp(ctype, plain, ctype_len) == 0) {
		/* the key alone, maybe with white space around it */
		size_t a = 0, b = body_len;
		while (a < b && is_space(body[a]))
			a++;
		while (b > a && is_space(body[b - 1]))
			b--;
		return signal_key(body + a, b - a, false);
	}
	if (ctype_len != sizeof relay - 1 ||
	    strncasecmp(ctype, relay, ctype_len) != 0)
		return 0;
	/* Lines "Name=value" (CRLF or LF); the one named Signal. */
	size_t i = 0;
	while (i < body_len) {
		size_t e = i;
		while (e < body_len && body[e] != '\n')
			e++;
		size_t a = i, b = e;
		while (a < b && is_space(body[a]))
			a++;
		while (b > a && is_space(body[b - 1]))
			b--;
		if (b - a > 6 && strncasecmp(body + a, "Signal", 6) == 0) {
			size_t v = a + 6;
			while (v < b && is_space(body[v]))
				v++;
			if (v < b && body[v] == '=') {
				v++;
				while (v < b && is_space(body[v]))
					v++;
				return signal_key(body + v, b - v, true);
			}
		}
		i = e + 1;
	}
	return 0;
}


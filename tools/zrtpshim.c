/*
 * The zrtpshim command: `run` (a client under the shim), `status` (its
 * streams and SAS), `cache` (retained secrets, marking a SAS verified) and
 * `verify` (proof from a packet capture that a call's media was
 * ZRTP-secured, tools/verify.h).
 *
 * Exit status: 0 verified, 1 not verified (cleartext or unproven media,
 * or a partial capture), 2 usage errors and input that cannot be used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cmds.h"
#include "tools/verify.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: zrtpshim verify CAPTURE [--keylog FILE] [--audio-dir DIR] [--json]\n"
		"       zrtpshim run [--policy require|opportunistic] [--] CMD ARGS...\n"
		"       zrtpshim status [--json] [--all] [--watch [--interval MS] [--count N]]\n"
		"       zrtpshim cache list | verify ZID|--sas SAS | unverify ZID | forget ZID\n"
		"       zrtpshim --help\n"
		"\n"
		"verify reads a pcap/pcapng capture and reports, per media stream, the\n"
		"ZRTP handshake, the negotiated algorithms, SRTP and cleartext RTP counts,\n"
		"and (with --keylog) packets that fail SRTP authentication.\n"
		"  --keylog FILE    SRTP keys as written under ZRTPSHIM_KEYLOG\n"
		"  --audio-dir DIR  write each G.711 direction's audio as a WAV file\n"
		"  --json           a JSON document instead of the summary\n"
		"Exit: 0 every media stream ZRTP-secured and nothing in clear;\n"
		"      1 otherwise (also for a partial capture); 2 unusable input.\n"
		"See zrtpshim-verify(1); the settings and the config file:\n"
		"zrtpshim(7).\n");
}

static int cmd_verify(int argc, char **argv)
{
	struct verify_options opt = { NULL, NULL };
	const char *capture = NULL;
	bool json = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "--keylog") == 0 || strcmp(a, "--audio-dir") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "zrtpshim verify: %s needs an argument\n", a);
				return 2;
			}
			if (a[2] == 'k')
				opt.keylog_path = argv[++i];
			else
				opt.audio_dir = argv[++i];
		} else if (strncmp(a, "--keylog=", 9) == 0) {
			opt.keylog_path = a + 9;
		} else if (strncmp(a, "--audio-dir=", 12) == 0) {
			opt.audio_dir = a + 12;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "zrtpshim verify: unknown option %s\n", a);
			return 2;
		} else if (capture == NULL) {
			capture = a;
		} else {
			fprintf(stderr, "zrtpshim verify: one capture at a time (%s)\n", a);
			return 2;
		}
	}
	if (capture == NULL) {
		usage(stderr);
		return 2;
	}
	struct verify_report *rep;
	char why[512] = "";
	int r = verify_run(capture, &opt, &rep, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "zrtpshim verify: %s\n", why[0] ? why : "cannot use the input");
		return 2;
	}
	if (json)
		verify_report_json(stdout, rep);
	else
		verify_report_print(stdout, rep);
	int rc = (int)rep->verdict;
	verify_report_free(rep);
	if (fflush(stdout) != 0)
		return 2;
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc - 2, argv + 2);
	if (strcmp(cmd, "run") == 0)
		return zrtpshim_cmd_run(argc - 2, argv + 2);
	if (strcmp(cmd, "status") == 0)
		return zrtpshim_cmd_status(argc - 2, argv + 2);
	if (strcmp(cmd, "cache") == 0)
		return zrtpshim_cmd_cache(argc - 2, argv + 2);
	fprintf(stderr, "zrtpshim: unknown command %s (try --help)\n", cmd);
	return 2;
}

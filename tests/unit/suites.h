/* The Check suites of the unit runner, one per area. */
#ifndef ZS_TESTS_SUITES_H
#define ZS_TESTS_SUITES_H

#include <check.h>

Suite *packet_suite(void);
Suite *crypto_suite(void);
Suite *cache_suite(void);
Suite *session_suite(void);
Suite *sip_suite(void);
Suite *sdp_suite(void);
Suite *pcapread_suite(void);
Suite *verify_suite(void);
Suite *demux_suite(void);
Suite *conffile_suite(void);
Suite *clips_suite(void);
Suite *strmap_suite(void);

#endif

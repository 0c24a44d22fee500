/* placeholder: filled in by its owner */
#include "tests/unit/suites.h"

Suite *packet_suite(void)
{
	return suite_create("packet");
}

/* placeholder: filled in by its owner */
#include "config.h"
#include "sdp/sdp.h"

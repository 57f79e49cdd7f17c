// SPDX-License-Identifier: GPL-2.0
/*
 * The one place chan's tracepoints (chan_trace.h) are instantiated. The
 * header is found through the module's include path (-I$(src)/kmod in
 * Kbuild, TRACE_INCLUDE_PATH "." in the header).
 */
#define CREATE_TRACE_POINTS
#include "chan_trace.h"

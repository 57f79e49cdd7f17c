#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build chan.ko against the debug kernel (scripts/debug-kernel.sh builds or
# reuses it) into $BUILD/debug-module/; print the debug kernel tree's path.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
tree=$("$ROOT/scripts/debug-kernel.sh")
"$ROOT/scripts/module-build.sh" "$tree" "$BUILD/debug-module"
echo "$tree"

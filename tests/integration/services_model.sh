#!/bin/sh
# services_model.sh: the operation tables in aws/client/svc_*.c still match the botocore models.
# tests/tools/services_gen.py regenerates every table in memory and compares it with the file.
set -u
ROOT=${ROOT:-.}
if ! python3 -c 'import botocore' >/dev/null 2>&1; then
	echo "SKIP: botocore is not installed; cannot compare the tables with the models"
	exit 77
fi
python3 "$ROOT/tests/tools/services_gen.py" --check

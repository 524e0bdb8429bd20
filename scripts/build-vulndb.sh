#!/usr/bin/env bash
# Build the offline vulnerability database from local data, without the network:
# the CISA KEV CSV and the Linux kernel fix data (stream_fixes.json, CVEs.txt) under
# SHARED/data when present, plus any NVD 2.0 / OSV files or directories given as arguments.
#   scripts/build-vulndb.sh [--db FILE] [SHARED_DIR] [FEED ...]
# SHARED_DIR defaults to ../shared next to the checkout; the database to assay's default path.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
assay="${ASSAY:-$here/.venv/bin/assay}"
db_args=()
if [[ "${1:-}" == "--db" ]]; then
    db_args=(--db "$2")
    shift 2
fi
shared="${1:-$here/../shared}"
[[ $# -gt 0 ]] && shift
inputs=()
for f in "$shared/data/kev/known_exploited_vulnerabilities.csv" \
         "$shared/data/kernel-cves/stream_fixes.json" \
         "$shared/data/kernel-cves/CVEs.txt"; do
    [[ -f "$f" ]] && inputs+=("$f")
done
inputs+=("$@")
if [[ ${#inputs[@]} -eq 0 ]]; then
    echo "build-vulndb: no data found under $shared/data and no feed given; skipped" >&2
    exit 0
fi
"$assay" db import "${inputs[@]}" "${db_args[@]}"
"$assay" db stats "${db_args[@]}"

#!/bin/bash
# Submits a sharded ingest of MASTERS as a Slurm job array of SHARD_COUNT tasks, at most PARALLEL at once, and a
# publish job that runs when every task succeeded. Prints the two job ids.
#   MASTERS=/nfs/masters SHARDS=/nfs/work OUT=/nfs/out SHARD_COUNT=300 PARALLEL=100 examples/slurm/submit.sh
set -euo pipefail
: "${MASTERS:?set MASTERS}" "${SHARDS:?set SHARDS}" "${OUT:?set OUT}" "${SHARD_COUNT:?set SHARD_COUNT}"
here=$(cd "$(dirname "$0")" && pwd)
array=$(sbatch --parsable --array="0-$((SHARD_COUNT - 1))%${PARALLEL:-$SHARD_COUNT}" ${SBATCH_EXTRA:-} \
  --export=ALL,MASTERS="$MASTERS",SHARDS="$SHARDS",SHARD_COUNT="$SHARD_COUNT" "$here/ingest-shard.sbatch")
publish=$(sbatch --parsable --dependency="afterok:$array" ${SBATCH_EXTRA:-} \
  --export=ALL,SHARDS="$SHARDS",OUT="$OUT" "$here/publish.sbatch")
echo "$array $publish"

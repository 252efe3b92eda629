#!/bin/sh
# Runs the sharded ingest, waits for every index to complete, then publishes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kubectl apply -f "$here/pvc.yaml" -f "$here/ingest-job.yaml"
kubectl wait --for=condition=complete --timeout=24h job/musikk-ingest
kubectl apply -f "$here/publish-job.yaml"
kubectl wait --for=condition=complete --timeout=6h job/musikk-publish

#!/bin/sh
# Registers the two job definitions, submits the array of shards, and the publish job that waits for all of them
# (dependsOn the array's parent job waits for every child). The shards' WORK folders and the masters live on EFS
# (atomic rename within a folder, flock: both hold on EFS).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
aws batch register-job-definition --cli-input-json "file://$here/job-definition.json" >/dev/null
aws batch register-job-definition --cli-input-json "file://$here/publish-job-definition.json" >/dev/null
array=$(aws batch submit-job --cli-input-json "file://$here/submit-ingest.json" --query jobId --output text)
sed "s/ARRAY_JOB_ID/$array/" "$here/submit-publish.json" > "${TMPDIR:-/tmp}/musikk-submit-publish.json"
aws batch submit-job --cli-input-json "file://${TMPDIR:-/tmp}/musikk-submit-publish.json" --query jobId --output text

"""Publishes a lake folder to S3-compatible storage, for tests/cli/s3.rs.

usage: s3_put.py ENDPOINT BUCKET PREFIX LAKE

Creates BUCKET if needed and uploads every Parquet file of LAKE, and the
compacted snapshot's `_built_from` sidecars, under PREFIX, keeping the
lake's layout (TABLE/date=YYYY-MM-DD/FILE) and leaving out its locks and
staging folder, as `aws s3 sync` with the filters of docs/scale-out.md
would. Credentials come from the environment.
"""

import os
import sys

import boto3

endpoint, bucket, prefix, lake = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint)
try:
    s3.create_bucket(Bucket=bucket)
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
uploaded = 0
for root, dirs, files in os.walk(lake):
    dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
    for name in sorted(files):
        if name.endswith(".parquet") or name == "_built_from":
            path = os.path.join(root, name)
            key = f"{prefix}/{os.path.relpath(path, lake)}"
            s3.upload_file(path, bucket, key)
            uploaded += 1
print(f"uploaded {uploaded} files to s3://{bucket}/{prefix}/")

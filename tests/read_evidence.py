"""Reads the Parquet evidence of a report bundle with pyarrow, which shares
no code with posture, and prints each view's rows as JSON the way
`posture query --format json` writes them (timestamps as RFC 3339 in UTC
with a Z and 0, 3 or 6 fractional digits), for tests/cli/report.rs.

usage: python3 tests/read_evidence.py BUNDLE VIEW...
"""

import datetime
import json
import sys

import pyarrow.parquet as pq


def value(v):
    if isinstance(v, datetime.datetime):
        v = v.astimezone(datetime.timezone.utc)
        text = v.strftime("%Y-%m-%dT%H:%M:%S")
        micros = v.microsecond
        if micros % 1_000_000 == 0:
            pass
        elif micros % 1000 == 0:
            text += f".{micros // 1000:03d}"
        else:
            text += f".{micros:06d}"
        return text + "Z"
    if isinstance(v, datetime.date):
        return v.isoformat()
    return v


bundle, views = sys.argv[1], sys.argv[2:]
seen = {}
for view in views:
    table = pq.read_table(f"{bundle}/data/{view}.parquet")
    seen[view] = [{k: value(v) for k, v in row.items()} for row in table.to_pylist()]
print(json.dumps(seen))

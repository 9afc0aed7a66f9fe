"""Rewrites the raw tables of a lake copy in another physical layout, for
bench/layout.sh: the same rows, in the order and row groups asked for.

usage: layout_variants.py LAKE ORDER ROW_GROUP_ROWS

ORDER is `kept` (the order posture wrote: by the table's sort columns) or
`shuffled` (a seeded random order: what an unsorted writer gives).
Every Parquet file of `reports`, `policy_states` and `setting_states` is
rewritten in place with zstd level 3, page statistics and page index, and
the footer's sort order when the order is kept, as posture writes them;
the writer (pyarrow) is the same for every variant.
"""

import os
import sys

import random

import pyarrow as pa
import pyarrow.parquet as pq

lake, order, row_group_rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
if order not in ("kept", "shuffled"):
    sys.exit(f"ORDER is `kept` or `shuffled`, not `{order}`")
rng = random.Random(8)
files = rows = 0
for table in ("reports", "policy_states", "setting_states"):
    for root, _, names in os.walk(os.path.join(lake, table)):
        for name in sorted(names):
            if not name.endswith(".parquet"):
                continue
            path = os.path.join(root, name)
            source = pq.ParquetFile(path)
            data = source.read()
            # The sort order posture declares in the footer, kept with it.
            sorting = source.metadata.row_group(0).sorting_columns or None
            if order == "shuffled":
                permutation = list(range(data.num_rows))
                rng.shuffle(permutation)
                data = data.take(pa.array(permutation))
                sorting = None
            pq.write_table(
                data,
                path,
                row_group_size=row_group_rows,
                compression="zstd",
                compression_level=3,
                write_statistics=True,
                write_page_index=True,
                sorting_columns=sorting,
            )
            files += 1
            rows += data.num_rows
print(f"rewrote {files} files, {rows} rows: {order}, {row_group_rows} rows a row group")

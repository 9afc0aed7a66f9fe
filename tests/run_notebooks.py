"""Runs every notebook of notebooks/ top to bottom with nbclient, as an
analyst would, against the lake in POSTURE_LAKE; exits non-zero on the
first cell that raises, naming the notebook and the cell."""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def main() -> int:
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks in {NOTEBOOKS}", file=sys.stderr)
        return 1
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(
            notebook,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        try:
            client.execute()
        except CellExecutionError as e:
            print(f"{path.name}: a cell failed:\n{e}", file=sys.stderr)
            return 1
        print(f"{path.name}: {len(notebook.cells)} cells ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Coverage-guided fuzzing of one target with Atheris (libFuzzer).

    python -m tests.fuzz.run TARGET [libFuzzer options] [CORPUS_DIR ...]

e.g. ``python -m tests.fuzz.run signed_note -max_total_time=600``. Starts from the
target's valid seed (and any corpus folders given). A crash stops the run with the
input written to ``crash-<sha1>`` in the current folder: add it to
``tests/fuzz/crashes/TARGET/`` so ``test_targets.py`` replays it from then on.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["vigile"]):
    from tests.fuzz.targets import TARGETS, seeds


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        raise SystemExit(f"usage: python -m tests.fuzz.run TARGET; one of: {', '.join(TARGETS)}")
    target = TARGETS[argv[1]]
    options = argv[2:]
    with tempfile.TemporaryDirectory(prefix=f"vigile-fuzz-{target.name}-") as corpus:
        for number, seed in enumerate(seeds()[target.name]):
            (Path(corpus) / f"seed-{number}").write_bytes(seed)
        atheris.Setup([argv[0], *options, corpus], target.check)
        atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)

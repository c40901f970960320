"""Every fuzz target, under Hypothesis on every test run (random bytes and mutations of a
valid input) and under Atheris for a few seconds each (coverage-guided, where Atheris is
installed); and every crash ever found, replayed."""

from __future__ import annotations

import importlib.util
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.targets import TARGETS, seeds

CRASHES = Path(__file__).parent / "crashes"
ROOT = Path(__file__).parents[2]
#: Seconds of Atheris per target in the test run (CI); longer runs are done by hand.
ATHERIS_SECONDS = int(os.environ.get("VIGILE_FUZZ_SECONDS", "10"))


@st.composite
def _mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """The seed with a few bytes replaced, inserted or removed."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.integers(0, 255))
        if edit == "insert" or at == len(data):
            data.insert(at, byte)
        elif edit == "replace":
            data[at] = byte
        else:
            del data[at]
    return bytes(data)


def _inputs(name: str) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=512), *(_mutated(seed) for seed in seeds()[name]))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_the_valid_seed_is_accepted(name: str) -> None:
    for seed in seeds()[name]:
        TARGETS[name].run(seed)  # no error at all: the seed exercises the whole parser


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_random_and_mutated_input_is_refused_cleanly(name: str) -> None:
    target = TARGETS[name]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_inputs(name))
    def check(data: bytes) -> None:
        target.check(data)

    check()


def _crashes() -> list[Path]:
    return sorted(path for path in CRASHES.glob("*/*") if path.is_file())


@pytest.mark.parametrize("path", _crashes(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_crashes_found_once_stay_fixed(path: Path) -> None:
    TARGETS[path.parent.name].check(path.read_bytes())


def _inherited_rss_mb() -> int:
    """This process's peak resident set in MB. libFuzzer reads its own peak from
    getrusage, and Linux keeps that figure across fork and exec: a child of a test run
    that has grown past a gigabyte starts out "using" it. Atheris's limit is set a
    gigabyte above what the child inherits, so it bounds what the fuzzing itself takes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None, reason="Atheris is not installed here"
)
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_atheris_finds_no_crash(name: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.run",
            name,
            f"-max_total_time={ATHERIS_SECONDS}",
            f"-rss_limit_mb={_inherited_rss_mb() + 1024}",
            "-print_final_stats=1",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])},
        capture_output=True,
        text=True,
        timeout=ATHERIS_SECONDS + 120,
        check=False,
    )
    crashes = sorted(tmp_path.glob("crash-*"))
    assert not crashes, f"{name}: Atheris found a crash:\n{done.stderr[-4000:]}"
    assert done.returncode == 0, done.stderr[-4000:]
    assert "stat::number_of_executed_units" in done.stderr

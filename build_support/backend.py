"""The build backend: setuptools, after fetching the web console's front-end assets.

The console's JavaScript (htmx) is not committed: `npm ci` installs the exact versions of
``package-lock.json`` from the npm registry (checking their integrity hashes), and the
files the console serves are copied into ``src/vigile/console/static/vendor/``, from where
they ship inside the wheel. At run time nothing is fetched from anywhere.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401 - re-exported hooks
    build_sdist,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "vigile" / "console" / "static" / "vendor"
#: npm package -> (file inside it, name served under /static/vendor/).
ASSETS = {"htmx.org": ("dist/htmx.min.js", "htmx.min.js")}


def vendor_assets() -> None:
    """Install the locked npm packages and copy the served files (skipped when the
    copies already match the lock)."""
    lock = json.loads((ROOT / "package-lock.json").read_text())
    versions = {name: lock["packages"][f"node_modules/{name}"]["version"] for name in ASSETS}
    stamp = VENDOR / "versions.json"
    present = all((VENDOR / served).exists() for _, served in ASSETS.values())
    if present and stamp.exists() and json.loads(stamp.read_text()) == versions:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is needed to build Vigile: the web console's assets (htmx) come from the "
            "npm registry at build time. Install Node.js and npm, then install again."
        )
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=dev"]
    subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603 - fixed arguments
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name, (inside, served) in ASSETS.items():
        shutil.copyfile(ROOT / "node_modules" / name / inside, VENDOR / served)
        licence = ROOT / "node_modules" / name / "LICENSE"
        if licence.exists():
            shutil.copyfile(licence, VENDOR / f"{served}.LICENSE")
    stamp.write_text(json.dumps(versions, indent=2) + "\n")


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    vendor_assets()
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    vendor_assets()
    return str(_setuptools.build_editable(wheel_directory, config_settings, metadata_directory))

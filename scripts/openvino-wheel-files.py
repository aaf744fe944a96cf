"""Prints, as one JSON object, where the installed `openvino` wheel keeps what a platform package
copies out of it: its version, the folder of its runtime libraries and its licence files.

scripts/pack-platform.js calls it with the project's .venv python (npm run setup:openvino installs
the pinned wheel there). Exits with status 1 and a reason on stderr when OpenVINO is not installed.
"""
import json
import sys
from importlib import metadata
from pathlib import Path

try:
    import openvino
    distribution = metadata.distribution("openvino")
except (ImportError, metadata.PackageNotFoundError) as err:
    sys.exit(f"the Python package openvino is not installed: {err}")

# The wheel's own licence and third-party notices (dist-info/licenses/...), whatever their names.
licenses = sorted(
    str(distribution.locate_file(f))
    for f in distribution.files or []
    if "/licenses/" in f.as_posix() or Path(f.name).stem.upper() in ("LICENSE", "NOTICE")
)
print(json.dumps({
    "version": distribution.version,
    "license": distribution.metadata.get("License-Expression") or distribution.metadata.get("License"),
    "libsDir": str(Path(openvino.__file__).parent / "libs"),
    "licenses": licenses,
}))

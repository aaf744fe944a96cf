"""Prints the directory of OpenVINOConfig.cmake inside the installed `openvino` wheel.

CMakeLists.txt and scripts/setup-openvino.sh both call it. The function is
openvino.package_utils.get_cmake_path() in 2026.x; older wheels exported it at the top level.
Exits with status 1 and a reason on stderr when OpenVINO is not importable.
"""
import sys

try:
    import openvino
except ImportError as err:
    sys.exit(f"the Python package openvino is not installed: {err}")

try:
    from openvino.package_utils import get_cmake_path
except ImportError:
    get_cmake_path = getattr(openvino, "get_cmake_path", None)
if get_cmake_path is None:
    sys.exit(f"openvino {openvino.__version__} has no get_cmake_path()")
print(get_cmake_path())

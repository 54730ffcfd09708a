"""Every function's MemorySize, from its measured memory peak: the one place the template takes it from.

``memory.toml`` holds each function's peak resident memory, measured on the emulator
(`make cost ... WRITE_PEAKS=1` rewrites it: loadtest/cost.py). The size is the peak times
HEADROOM rounded up to STEP_MB, at least MINIMUM_MB. On Lambda, CPU comes with memory (one
vCPU at 1,769 MB, a proportional share below), so a function that answers API requests, or is
called while one is answered, keeps at least REQUEST_PATH_MINIMUM_MB: a smaller size would give
its requests less CPU than they have now. A function without a measured peak gets
UNMEASURED_MB until it is measured.

    python -m infra.template.memory     # print each function's peak and size
"""

import math
import sys
import tomllib
from pathlib import Path

MEMORY_FILE = Path(__file__).resolve().parent / "memory.toml"
HEADROOM = 1.5
STEP_MB = 128
MINIMUM_MB = 128
REQUEST_PATH_MINIMUM_MB = 512
UNMEASURED_MB = 512


def read_memory_file(path: Path = MEMORY_FILE) -> dict:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def size_for_peak(peak_mb: float, on_request_path: bool) -> int:
    """The MemorySize for a measured peak."""
    size = max(MINIMUM_MB, math.ceil(peak_mb * HEADROOM / STEP_MB) * STEP_MB)
    return max(size, REQUEST_PATH_MINIMUM_MB) if on_request_path else size


def memory_size(logical_id: str, answers_api: bool, memory: dict | None = None) -> int:
    """A function's MemorySize (``answers_api``: it has an API event; ``memory``: memory.toml's content)."""
    memory = read_memory_file() if memory is None else memory
    if logical_id not in memory["peak_mb"]:
        return UNMEASURED_MB
    return size_for_peak(memory["peak_mb"][logical_id], answers_api or logical_id in memory["request_path"])


def render_memory_file(peaks_mb: dict[str, int], measured: str, request_path: list[str]) -> str:
    """memory.toml with new peaks (``measured``: when, by what command, on which machine)."""
    lines = [
        "# Each function's peak resident memory (MB) on the emulator, the most any of its instances held.",
        "# Written by `make cost ... WRITE_PEAKS=1` (loadtest/cost.py); infra/template/memory.py makes the sizes.",
        f'measured = "{measured}"',
        "# Besides the API functions, those called while a request is answered (REQUEST_PATH_MINIMUM_MB).",
        f"request_path = [{', '.join(f'"{name}"' for name in sorted(request_path))}]",
        "",
        "[peak_mb]",
        *(f"{name} = {peaks_mb[name]}" for name in sorted(peaks_mb)),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    from infra.template.generate import read_template, serverless_functions

    memory = read_memory_file()
    print(f"measured: {memory['measured']}")
    for name, properties in sorted(serverless_functions(read_template()).items()):
        peak = memory["peak_mb"].get(name)
        print(f"{name:50} peak {peak if peak is not None else '-':>4} MB -> {properties.get('MemorySize')} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

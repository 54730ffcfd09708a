"""Shared unpacked code: each distinct function or layer zip is unpacked once, and instances link to it.

On AWS an execution environment gets the function's code and layers mounted read-only. MiniStack
writes every new instance's function zip and the 15 MB layer zip into a fresh folder and unpacks
them there (checking each of the layer's ~4,000 paths on the way), ~0.15 s of the emulator's CPU
per instance and as much again to delete the folder when the instance goes; `make sync`'s new
instance waits for it too. ``shared_unpacking`` makes MiniStack's extraction unpack each distinct
zip once, into ``$TMPDIR/unpacked/<digest of its entries>``, and fill an instance's folder with
links to that tree. The code is read-only for a function (as on AWS), so instances cannot disturb
each other through it.
"""

import hashlib
import os
import shutil
import tempfile
import types
import zipfile

from infra.emulator.pinned import SPAWN_SOURCE_SHA256, require_pinned, source_sha256


class SharedUnpackingZipFile(zipfile.ZipFile):
    """A ZipFile whose extractall links to one shared unpacked copy of the same entries."""

    def namelist(self) -> list[str]:
        # MiniStack resolves every name to refuse paths escaping the folder before extractall
        # (~4,000 realpath calls for the layer); zipfile's own extractall, which unpacks the
        # shared copy, already keeps every entry inside the folder it unpacks to.
        return []

    def extractall(self, path=None, members=None, pwd=None) -> None:
        if members is not None or pwd is not None or path is None:
            return super().extractall(path, members, pwd)
        shared = self._shared_copy()
        for entry in os.listdir(shared):
            os.symlink(os.path.join(shared, entry), os.path.join(path, entry))

    def _shared_copy(self) -> str:
        digest = hashlib.sha256()
        for info in self.infolist():
            digest.update(f"{info.filename}\0{info.CRC}\0{info.file_size}\0".encode())
        root = os.path.join(tempfile.gettempdir(), "unpacked")
        shared = os.path.join(root, digest.hexdigest()[:32])
        if not os.path.isdir(shared):
            os.makedirs(root, exist_ok=True)
            unpacking = tempfile.mkdtemp(dir=root, prefix="unpacking-")
            super().extractall(unpacking, self.infolist())  # namelist() is empty here, see above
            try:
                os.rename(unpacking, shared)
            except OSError:  # another instance unpacked the same zip meanwhile
                shutil.rmtree(unpacking, ignore_errors=True)
        return shared


def shared_unpacking() -> None:
    from ministack.core import lambda_runtime

    require_pinned("Worker._spawn", source_sha256(lambda_runtime.Worker._spawn), SPAWN_SOURCE_SHA256)
    require_pinned("lambda_runtime's zipfile", lambda_runtime.zipfile, zipfile)
    shim = types.ModuleType("zipfile_shared_unpacking")
    shim.__dict__.update(vars(zipfile))
    shim.ZipFile = SharedUnpackingZipFile
    lambda_runtime.zipfile = shim

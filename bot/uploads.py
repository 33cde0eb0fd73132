"""Citizens' photos: kept under var/uploads/ and served back as the reports' media_url; whose each one is, so that a
citizen who asks to be forgotten loses the photos that no report carries."""
from __future__ import annotations

import hashlib
from pathlib import Path

from common.gateway import UPLOADS, new_upload_name


class Uploads:
    def __init__(self, folder: Path, owners: Path, public_url: str):
        """`owners`: one file per sender (named by a hash of the sender id), listing the photos they sent."""
        self.folder, self.owners, self.public_url = folder, owners, public_url
        folder.mkdir(parents=True, exist_ok=True)
        owners.mkdir(parents=True, exist_ok=True)

    def keep(self, sender: str, data: bytes, extension: str) -> str:
        """Store a photo; its public URL."""
        name = new_upload_name(extension)
        (self.folder / name).write_bytes(data)
        with self._owner_file(sender).open("a") as names:
            names.write(name + "\n")
        return f"{self.public_url}{UPLOADS}{name}"

    def forget(self, sender: str, keep_urls: list[str]) -> int:
        """Delete the sender's photos except those at `keep_urls` (attached to reports); how many went."""
        index = self._owner_file(sender)
        if not index.exists():
            return 0
        keep = {url.rsplit("/", 1)[-1] for url in keep_urls if url.startswith(self.public_url + UPLOADS)}
        deleted = 0
        for name in index.read_text().split():
            if name not in keep and (self.folder / name).exists():
                (self.folder / name).unlink()
                deleted += 1
        index.unlink()
        return deleted

    def _owner_file(self, sender: str) -> Path:
        return self.owners / hashlib.sha256(sender.encode()).hexdigest()

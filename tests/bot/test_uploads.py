"""Citizens' photos and whose they are: forgetting a citizen deletes the photos no report carries."""
from __future__ import annotations

from bot.uploads import Uploads

PUBLIC = "https://chat.example"


def test_forgetting_deletes_only_that_citizens_loose_photos(tmp_path):
    uploads = Uploads(tmp_path / "uploads", tmp_path / "owners", PUBLIC)
    attached = uploads.keep("web-lan-00001", b"\xff\xd8\xff photo 1", "jpg")
    loose = uploads.keep("web-lan-00001", b"\x89PNG photo 2", "png")
    someone_else = uploads.keep("web-ba-000001", b"\xff\xd8\xff photo 3", "jpg")

    def exists(url: str) -> bool:
        return (tmp_path / "uploads" / url.rsplit("/", 1)[-1]).exists()

    assert all(url.startswith(f"{PUBLIC}/uploads/") and exists(url) for url in (attached, loose, someone_else))
    assert uploads.forget("web-lan-00001", keep_urls=[attached, "http://elsewhere.example/x.jpg"]) == 1
    assert exists(attached) and not exists(loose) and exists(someone_else)
    assert uploads.forget("web-lan-00001", keep_urls=[]) == 0  # the record of her photos went too
    assert not any("web-lan" in path.name for path in (tmp_path / "owners").iterdir())  # ids are not written out

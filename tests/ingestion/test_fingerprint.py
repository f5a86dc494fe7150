"""The ingestion cache key sees what users change: moved, renamed, swapped photos; symlinks out of the root."""

import os
import shutil

from tfx.components.example_gen import utils
from tfx.proto import example_gen_pb2

from components.ingestion import sources
from components.ingestion.component import INPUT_PATTERN
from components.ingestion.driver import PhotoListingDriver

CLASSES = ["daisy", "roses"]
SPLITS = [example_gen_pb2.Input.Split(name="photos", pattern=INPUT_PATTERN)]


def tfx_fingerprint(root) -> str:
    """What FileBasedExampleGen's stock driver keys the cache on."""
    return utils.calculate_splits_fingerprint_span_and_version(str(root), SPLITS)[0]


def driver_fingerprint(root) -> str:
    processor = PhotoListingDriver(metadata_handle=None).get_input_processor(SPLITS, None, str(root))
    span, version = processor.resolve_span_and_version()
    return processor.get_input_fingerprint(span, version)


def test_moving_three_photos_between_class_folders_changes_the_key(tmp_path, make_photo_folder):
    """The issue's case: a label fixed by `mv daisy/x.jpg roses/`; counts, bytes and mtimes stay the same."""
    root = tmp_path / "photos"
    make_photo_folder(root, CLASSES, per_class=6)
    before_tfx, before = tfx_fingerprint(root), driver_fingerprint(root)
    assert driver_fingerprint(root) == before  # Stable while nothing changes.
    for name in ("photo_000.jpg", "photo_001.jpg", "photo_002.jpg"):
        os.rename(root / "daisy" / name, root / "roses" / f"moved_{name}")
    assert tfx_fingerprint(root) == before_tfx  # Why TFX's own key kept everything cached.
    assert driver_fingerprint(root) != before
    assert driver_fingerprint(root).startswith(before_tfx + "\n")  # TFX's part is kept.


def test_a_swap_of_equal_sized_photos_with_their_mtimes_changes_the_key(tmp_path):
    """`cp -p` both ways: every size and mtime is still there, only on the other name."""
    root = tmp_path / "photos"
    for label, payload, when in (("daisy", b"A" * 100, 1_600_000_000), ("roses", b"B" * 100, 1_700_000_000)):
        (root / label).mkdir(parents=True)
        (root / label / "x.jpg").write_bytes(payload)
        os.utime(root / label / "x.jpg", (when, when))
    before_tfx, before = tfx_fingerprint(root), sources.listing_fingerprint(str(root))
    shutil.copy2(root / "daisy" / "x.jpg", tmp_path / "tmp.jpg")
    shutil.copy2(root / "roses" / "x.jpg", root / "daisy" / "x.jpg")
    shutil.copy2(tmp_path / "tmp.jpg", root / "roses" / "x.jpg")
    assert tfx_fingerprint(root) == before_tfx
    assert sources.listing_fingerprint(str(root)) != before


def test_a_rename_and_a_replaced_photo_change_the_key(tmp_path, make_photo_folder, make_photo):
    root = tmp_path / "photos"
    make_photo_folder(root, CLASSES, per_class=2)
    keys = [sources.listing_fingerprint(str(root))]
    os.rename(root / "roses" / "photo_000.jpg", root / "roses" / "renamed.jpg")
    keys.append(sources.listing_fingerprint(str(root)))
    stat = os.stat(root / "daisy" / "photo_001.jpg")
    make_photo(root / "daisy" / "photo_001.jpg", tint=2)
    os.utime(root / "daisy" / "photo_001.jpg", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # Same mtime, new bytes.
    keys.append(sources.listing_fingerprint(str(root)))
    assert len(set(keys)) == 3


def test_folder_links_out_of_the_data_root_are_ignored_and_not_walked(tmp_path, make_photo_folder):
    """A link to /usr inside a class folder walked 125,990 paths; links within the root are still followed, and
    a link to a file outside it is a photo (a folder merged from others with symlinks)."""
    root = tmp_path / "photos"
    make_photo_folder(root, CLASSES, per_class=2)
    outside = tmp_path / "system"
    for i in range(50):
        (outside / f"lib{i}").mkdir(parents=True)
        (outside / f"lib{i}" / "photo.jpg").write_bytes(b"x")
    (tmp_path / "elsewhere.jpg").write_bytes(b"x")
    (root / "roses" / "usr").symlink_to(outside, target_is_directory=True)
    (root / "roses" / "linked.jpg").symlink_to(tmp_path / "elsewhere.jpg")
    (root / "daisy" / "alias.jpg").symlink_to(root / "daisy" / "photo_000.jpg")  # Within the root: a photo.
    listing = sources.list_photos(str(root), CLASSES)
    assert sorted(item["path"] for item in listing.ignored if item["reason"] == sources.IGNORED_LINK_OUT) == [
        str(root / "roses" / "usr")]
    assert str(root / "daisy" / "alias.jpg") in dict(listing.photos)
    assert str(root / "roses" / "linked.jpg") in dict(listing.photos)
    assert not any(str(outside) in item["path"] or "/usr/" in item["path"] for item in listing.ignored)
    assert len(listing.photos) == 6

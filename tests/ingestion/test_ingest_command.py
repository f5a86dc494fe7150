"""`flowers-pipeline ingest`: outputs and counts printed; bad settings and bad data as one clear line."""

import json
import shutil

from components import artifacts
from pipeline import cli


def test_ingest_writes_outputs_and_prints_counts(photo_folder, tmp_path, capsys):
    out = tmp_path / "out"
    status = cli.main(["ingest", "--data-root", str(photo_folder), "--output-dir", str(out), "--image-size", "24",
                       "--eval-fraction", "0.5", "--set", "data.classes=daisy,roses"])
    printed = capsys.readouterr().out
    assert status == 0
    summary = json.loads((out / artifacts.SUMMARY_FILE).read_text())
    assert summary["seen"] == 8 and summary["rejected"] == 0
    assert f"{out}/Split-train/" in printed and "8 photos seen, 8 written" in printed
    assert list((out / f"{artifacts.SPLIT_PREFIX}eval").glob(f"{artifacts.RECORD_PREFIX}-*.gz"))


def test_an_earlier_output_lends_its_images(photo_folder, tmp_path, capsys):
    flags = ["--data-root", str(photo_folder), "--image-size", "24", "--eval-fraction", "0.5",
             "--set", "data.classes=daisy,roses"]
    assert cli.main(["ingest", "--output-dir", str(tmp_path / "first"), *flags]) == 0
    assert cli.main(["ingest", "--output-dir", str(tmp_path / "again"), "--previous-output-dir",
                     str(tmp_path / "first"), *flags]) == 0
    assert "8 photos seen, 8 written (8 with a reused image)" in capsys.readouterr().out


def test_byte_identical_photos_are_pointed_out(tmp_path, make_photo_folder, capsys):
    make_photo_folder(tmp_path / "photos", ["daisy", "roses"], per_class=4)
    shutil.copyfile(tmp_path / "photos" / "daisy" / "photo_000.jpg", tmp_path / "photos" / "roses" / "copy.jpg")
    status = cli.main(["ingest", "--data-root", str(tmp_path / "photos"), "--output-dir", str(tmp_path / "out"),
                       "--eval-fraction", "0.5", "--set", "data.classes=daisy,roses"])
    assert status == 0
    assert (f"byte-identical photos: 1 group(s), 1 extra cop(ies), 1 under two or more labels: "
            f"{tmp_path / 'out'}/duplicates.jsonl") in capsys.readouterr().out


def test_bad_flag_value_names_the_config_field(photo_folder, tmp_path, capsys):
    status = cli.main(["ingest", "--data-root", str(photo_folder), "--output-dir", str(tmp_path / "out"),
                       "--eval-fraction", "1.5"])
    assert status == 2 and "data.eval_fraction" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_unusable_data_is_one_line_not_a_traceback(tmp_path, capsys):
    status = cli.main(["ingest", "--data-root", str(tmp_path / "missing"), "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1 and err.startswith("flowers-pipeline ingest: data root") and "Traceback" not in err

"""File names reach the terminal escaped: no control character can recolour it or forge a line."""

from components.errors import printable
from pipeline import cli


def test_control_and_format_characters_are_escaped_and_the_rest_kept():
    name = "roses/\x1b[31mred\x07\n\r\tfake line\u202egpj.exe\u2028x\x7f.jpg"
    assert printable(name) == r"roses/\x1b[31mred\x07\n\r\tfake line\u202egpj.exe\u2028x\x7f.jpg"
    assert printable("fleurs/été 日本 café.jpg") == "fleurs/été 日本 café.jpg"
    assert printable("line one\nline two", keep_newlines=True) == "line one\nline two"


def test_a_hostile_data_root_is_printed_escaped_by_the_cli(tmp_path, capsys):
    root = tmp_path / "photos\x1b]0;owned\x07\nflowers-pipeline run: all good"
    assert cli.main(["run", "--pipeline-root", str(tmp_path / "root"), "--data-root", str(root)]) == 1
    error = capsys.readouterr().err
    assert "\x1b" not in error and "\x07" not in error
    assert len(error.strip().splitlines()) == 1 and r"photos\x1b]0;owned\x07\nflowers-pipeline" in error

"""The artifact contract: split folders as TFX names them, and a module cheap enough for Beam workers to import."""

import subprocess
import sys

from tfx.types import artifact_utils, standard_artifacts

from components import artifacts


def test_split_folders_are_where_tfx_looks_for_them():
    examples = standard_artifacts.Examples()
    examples.uri = "/runs/pipeline/FileBasedExampleGen/examples/7"
    examples.split_names = artifact_utils.encode_split_names(list(artifacts.SPLITS))
    for name in artifacts.SPLITS:
        assert artifacts.split_dir(examples.uri, name) == artifact_utils.get_split_uri([examples], name)
        assert artifacts.split_name_of(artifacts.split_dir(examples.uri, name)) == name


def test_importing_the_contract_loads_no_tensorflow_beam_or_tfx():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, components.artifacts; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True).stdout.split()
    assert not [m for m in loaded if m.split(".")[0] in ("tensorflow", "apache_beam", "tfx")]

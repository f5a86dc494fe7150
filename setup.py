"""The flowers pipeline package: `pipeline`, `components`, `schemas` and `pipeline_config`.

Installed the same way on a laptop (`make install`, editable), in the Vertex containers and on Dataflow
workers (`--setup_file ./setup.py`), so every process imports the same modules.
"""

from setuptools import find_packages, setup

setup(
    name="flowers-tfx-pipeline",
    version="0.1.0",
    description="TFX pipeline for the flower-photo classifier of the Keras-on-TPU codelabs",
    python_requires=">=3.10,<3.11",
    packages=find_packages(include=["pipeline", "pipeline.*", "components", "components.*", "schemas"]),
    py_modules=["pipeline_config"],
    package_data={"schemas": ["*.pbtxt"]},
    install_requires=[
        "tfx[kfp]==1.16.0",
        "apache-beam[gcp]==2.59.0",
        "Pillow",
    ],
    extras_require={"test": ["pytest", "gcp-storage-emulator", "psutil", "hypothesis"]},
    entry_points={"console_scripts": ["flowers-pipeline=pipeline.cli:main"]},
)

# The pipeline image: every Vertex AI Pipelines step runs from it, and so do Dataflow workers
# (--sdk_container_image), so launcher and workers share one set of library versions.
# The TFX image keeps its ENTRYPOINT (the Beam worker boot); Vertex passes its own command.
#
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/flowers:TAG .
#   docker push REGION-docker.pkg.dev/PROJECT/REPO/flowers:TAG
FROM gcr.io/tfx-oss-public/tfx:1.16.0

# Keras 2 (tf-keras) as on every other machine of this project; set before any step imports TensorFlow.
ENV TF_USE_LEGACY_KERAS=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The project lives at /pipeline (pipeline/vertex/runner.py: CONTAINER_PROJECT_DIR): compiled pipelines name
# the bundled sample, backbone weights and curated schema by their paths under it.
WORKDIR /pipeline
COPY setup.py constraints.txt pipeline_config.py ./
COPY pipeline ./pipeline
COPY components ./components
COPY schemas ./schemas
COPY data ./data

# Same pinned versions as the laptop venv and CI; the source tree stays first on the path so the paths above
# are the files that run.
RUN python -m pip install --no-cache-dir -c constraints.txt . && \
    python -c "import pipeline_config, components, schemas, tfx; print('tfx', tfx.__version__)"
ENV PYTHONPATH=/pipeline

"""A transfer model as three nested parts, so the Trainer can run the frozen part once and train the rest on
its cached outputs.

`model(x) == head(tuned(frozen(x)))`:
- `frozen`: pixels -> activations at the cut; never trained.
- `tuned`: the backbone's top layers from the cut, then pooling; trained only in the fine-tuning phase (with no
  layers it is the pooling alone).
- `head`: pooled features -> probabilities; trained from the start.
A model built another way (squeezenet) has no parts and is trained end to end.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

FROZEN, TUNED, HEAD = "frozen", "tuned", "head"


@dataclasses.dataclass(frozen=True)
class Parts:
    frozen: tf.keras.Model
    tuned: tf.keras.Model
    head: tf.keras.Model

    @property
    def fine_tunable(self) -> bool:
        """Whether the tuned part holds layers with weights (not just the pooling)."""
        return bool(self.tuned.weights)


def of(model: tf.keras.Model) -> Parts | None:
    """The parts of a model built by `compose`; None for a model trained end to end."""
    names = {layer.name for layer in model.layers}
    if not {FROZEN, TUNED, HEAD} <= names:
        return None
    return Parts(*(model.get_layer(name) for name in (FROZEN, TUNED, HEAD)))


def compose(inputs: tf.Tensor, frozen: tf.keras.Model, tuned: tf.keras.Model, head: tf.keras.Model,
            name: str) -> tf.keras.Model:
    """The full model; the backbone parts always run in inference mode, so batch norm keeps its statistics."""
    features = tuned(frozen(inputs, training=False), training=False)
    return tf.keras.Model(inputs, head(features), name=name)


def split_top(backbone: tf.keras.Model, layers: int) -> tuple[tf.keras.Model, tf.keras.Model]:
    """`backbone` as (bottom, top) with at least its top `layers` layers in `top`, cut at the nearest point
    below where one tensor carries everything (never inside a residual block). `top` reuses the backbone's
    layers, so their weights are shared, not copied."""
    cut = _cut_index(backbone, layers)
    cut_tensor = backbone.layers[cut].output
    bottom = tf.keras.Model(backbone.input, cut_tensor, name=f"{backbone.name}_bottom")
    top_input = tf.keras.Input(cut_tensor.shape[1:], name="cut")
    tensors = {id(cut_tensor): top_input}
    for layer in backbone.layers[cut + 1:]:
        inputs = tf.nest.map_structure(lambda t: tensors[id(t)], layer._inbound_nodes[0].input_tensors)
        tensors[id(layer.output)] = layer(inputs)
    return bottom, tf.keras.Model(top_input, tensors[id(backbone.output)], name=f"{backbone.name}_top")


def _cut_index(backbone: tf.keras.Model, layers: int) -> int:
    """The highest layer index at or below len - 1 - layers whose output is the only tensor later layers read."""
    index = {id(layer): i for i, layer in enumerate(backbone.layers)}
    producers = [[index[id(t._keras_history.layer)] for t in tf.nest.flatten(layer._inbound_nodes[0].input_tensors)]
                 for layer in backbone.layers]
    earliest_read_after = [min((p for later in producers[i + 1:] for p in later), default=i)
                           for i in range(len(backbone.layers))]
    for cut in range(len(backbone.layers) - 1 - max(layers, 0), -1, -1):
        if earliest_read_after[cut] >= cut:
            return cut
    return 0


TEMPERATURE = "temperature"


def with_temperature(model: tf.keras.Model, temperature: float) -> tf.keras.Model | None:
    """`model` with its head's logits divided by `temperature` before the softmax: the same layers but for the
    head's softmax Dense, copied with its weights as a linear Dense followed by the division and the softmax (the
    top class, and so accuracy, cannot change); None when the head does not end in a softmax Dense. Built-in
    layers only (Rescaling, Softmax), so the export loads and converts to TFLite without custom objects."""
    model_parts = of(model)
    output = softmax_output(model_parts.head) if model_parts else None
    if output is None:
        return None
    logits = tf.keras.layers.Dense.from_config({**output.get_config(), "activation": "linear"})
    scaled = tf.keras.layers.Rescaling(1.0 / temperature, dtype="float32", name=TEMPERATURE)(logits(output.input))
    probabilities = tf.keras.layers.Softmax(dtype="float32", name="calibrated_probabilities")(scaled)
    logits.set_weights(output.get_weights())
    head = tf.keras.Model(model_parts.head.input, probabilities, name=HEAD)
    return compose(model.input, model_parts.frozen, model_parts.tuned, head, name=model.name)


def softmax_output(head: tf.keras.Model) -> tf.keras.layers.Dense | None:
    """The head's last layer when it is a Dense with a softmax activation (logits can then be scaled), else None."""
    output = head.layers[-1]
    is_softmax_dense = isinstance(output, tf.keras.layers.Dense) and output.get_config()["activation"] == "softmax"
    return output if is_softmax_dense else None

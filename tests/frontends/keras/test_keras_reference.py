"""The Keras reference runner (validation's yardstick) names inputs and outputs as the IR does."""

from __future__ import annotations

import numpy as np

from keras_support import random_input, randomize, run_ir


def test_reference_runner_matches_the_ir(keras, tmp_path):
    from converter.frontends.keras import convert_keras
    from converter.frontends.keras.reference import KerasReference

    keras.utils.set_random_seed(0)
    a, b = keras.Input((5,), name="a"), keras.Input((3, 5), name="b")
    model = keras.Model([a, b], [keras.layers.Dense(2, name="left")(a), keras.layers.LSTM(3, name="right")(b)])
    randomize(model)
    for suffix in (".keras", ".h5"):
        path = tmp_path / f"m{suffix}"
        model.save(path)
        reference = KerasReference(path)
        graph = convert_keras(path)
        assert [s.name for s in reference.input_specs()] == [v.names[0] for v in graph.inputs] == ["a", "b"]
        assert [s.name for s in reference.output_specs()] == [v.names[-1] for v in graph.outputs] == ["left", "right"]
        assert reference.input_specs()[1].dims == (None, 3, 5)
        feeds = {"a": random_input((2, 5)), "b": random_input((2, 3, 5), seed=1)}
        for got, want in zip(run_ir(graph, tmp_path, feeds, stem=suffix[1:]), reference.run(feeds)):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)

"""Each Keras layer family: a small model saved as .keras and .h5, converted, run in OpenVINO, compared with Keras."""

from __future__ import annotations

import numpy as np
import pytest

from keras_support import random_input, randomize


def sequential(keras, input_shape, *layers, dtype="float32"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(input_shape, dtype=dtype, name="x"), *layers])
    randomize(model)
    return model


L = None  # keras.layers, bound per test

CASES = {
    # core
    "dense_rank2_relu": ((6,), lambda: [L.Dense(4, activation="relu")]),
    "dense_rank3_nobias": ((3, 6), lambda: [L.Dense(5, use_bias=False, activation="tanh")]),
    "identity_family": ((4, 4, 3), lambda: [L.Dropout(0.5), L.SpatialDropout2D(0.3), L.GaussianNoise(1.0), L.GaussianDropout(0.2),
                                            L.AlphaDropout(0.1), L.ActivityRegularization(0.1, 0.1), L.Identity()]),
    "spatial_dropout_1d_3d": ((4, 3), lambda: [L.SpatialDropout1D(0.5)]),
    "rescaling": ((4, 3), lambda: [L.Rescaling(1 / 127.5, offset=-1.0)]),
    # convolutions
    "conv1d_causal_dilated": ((10, 3), lambda: [L.Conv1D(4, 3, padding="causal", dilation_rate=2)]),
    "conv1d_same_strided": ((9, 3), lambda: [L.Conv1D(4, 4, strides=2, padding="same", activation="relu")]),
    "conv2d_same_strided": ((9, 9, 3), lambda: [L.Conv2D(4, 3, strides=2, padding="same")]),
    "conv2d_valid_dilated_nobias": ((9, 9, 3), lambda: [L.Conv2D(4, (3, 2), dilation_rate=(2, 1), use_bias=False)]),
    "conv2d_groups": ((6, 6, 4), lambda: [L.Conv2D(6, 3, groups=2, padding="same")]),
    "conv3d": ((5, 6, 6, 2), lambda: [L.Conv3D(3, 3, strides=(1, 2, 2), padding="same")]),
    "conv2d_transpose_same": ((5, 5, 3), lambda: [L.Conv2DTranspose(4, 3, strides=2, padding="same")]),
    "conv2d_transpose_valid": ((5, 5, 3), lambda: [L.Conv2DTranspose(4, 3, strides=2, padding="valid")]),
    "conv2d_transpose_small_kernel": ((5, 5, 3), lambda: [L.Conv2DTranspose(2, 2, strides=3, padding="valid")]),
    "conv2d_transpose_output_padding": ((5, 5, 3), lambda: [L.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1)]),
    "conv1d_transpose": ((6, 3), lambda: [L.Conv1DTranspose(2, 4, strides=2, padding="same")]),
    "conv3d_transpose": ((3, 4, 4, 2), lambda: [L.Conv3DTranspose(2, 3, strides=2, padding="valid")]),
    "depthwise_conv2d": ((8, 8, 3), lambda: [L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)]),
    "depthwise_conv1d": ((8, 3), lambda: [L.DepthwiseConv1D(3, padding="valid", depth_multiplier=1)]),
    "separable_conv2d": ((8, 8, 3), lambda: [L.SeparableConv2D(5, 3, padding="same", depth_multiplier=2, activation="relu")]),
    "separable_conv1d": ((8, 3), lambda: [L.SeparableConv1D(4, 3, strides=2)]),
    # normalization
    "batchnorm": ((4, 4, 3), lambda: [L.BatchNormalization(epsilon=1e-2)]),
    "batchnorm_axis1_nocenter": ((3, 5), lambda: [L.BatchNormalization(axis=1, center=False, scale=False)]),
    "layernorm": ((4, 6), lambda: [L.LayerNormalization()]),
    "layernorm_axes_noscale": ((3, 4, 5), lambda: [L.LayerNormalization(axis=[1, 2], scale=False, epsilon=1e-5)]),
    "layernorm_rms_scaling": ((4, 6), lambda: [L.LayerNormalization(rms_scaling=True)]),
    "group_norm": ((4, 4, 6), lambda: [L.GroupNormalization(groups=3)]),
    "unit_norm": ((3, 6), lambda: [L.UnitNormalization(axis=-1)]),
    "rms_norm": ((3, 6), lambda: [L.RMSNormalization(epsilon=1e-3)]),
    "normalization_given": ((3, 4), lambda: [L.Normalization(mean=[1.0, 2.0, 3.0, 4.0], variance=[1.0, 4.0, 0.25, 9.0])]),
    "normalization_inverted": ((4,), lambda: [L.Normalization(mean=2.0, variance=3.0, invert=True)]),
    # pooling
    "maxpool1d_same": ((7, 3), lambda: [L.MaxPooling1D(3, strides=2, padding="same")]),
    "maxpool2d": ((8, 8, 3), lambda: [L.MaxPooling2D()]),
    "maxpool3d_same": ((5, 5, 5, 2), lambda: [L.MaxPooling3D(2, padding="same")]),
    "avgpool1d": ((8, 3), lambda: [L.AveragePooling1D(2)]),
    "avgpool2d_same_excludes_padding": ((7, 7, 3), lambda: [L.AveragePooling2D(3, strides=2, padding="same")]),
    "avgpool3d": ((4, 4, 4, 2), lambda: [L.AveragePooling3D(2)]),
    "global_avg_2d": ((5, 5, 3), lambda: [L.GlobalAveragePooling2D()]),
    "global_avg_1d_keepdims": ((5, 3), lambda: [L.GlobalAveragePooling1D(keepdims=True)]),
    "global_avg_3d": ((3, 3, 3, 2), lambda: [L.GlobalAveragePooling3D()]),
    "global_max_1d": ((5, 3), lambda: [L.GlobalMaxPooling1D()]),
    "global_max_2d_keepdims": ((5, 5, 3), lambda: [L.GlobalMaxPooling2D(keepdims=True)]),
    "global_max_3d": ((3, 3, 3, 2), lambda: [L.GlobalMaxPooling3D()]),
    # activation layers
    "relu6": ((8,), lambda: [L.ReLU(max_value=6.0)]),
    "relu_threshold_slope": ((8,), lambda: [L.ReLU(max_value=2.5, negative_slope=0.1, threshold=0.3)]),
    "relu_slope_only": ((8,), lambda: [L.ReLU(negative_slope=0.2)]),
    "leaky_relu": ((8,), lambda: [L.LeakyReLU(negative_slope=0.15)]),
    "prelu_shared_axes": ((4, 4, 3), lambda: [L.PReLU(shared_axes=[1, 2])]),
    "prelu": ((5,), lambda: [L.PReLU()]),
    "elu": ((8,), lambda: [L.ELU(alpha=0.7)]),
    "softmax_axis1": ((4, 3), lambda: [L.Softmax(axis=1)]),
    # reshaping
    "reshape": ((4, 6), lambda: [L.Reshape((3, -1))]),
    "flatten": ((2, 3, 4), lambda: [L.Flatten()]),
    "permute": ((2, 3, 4), lambda: [L.Permute((3, 1, 2))]),
    "repeat_vector": ((5,), lambda: [L.RepeatVector(3)]),
    "zero_padding_1d": ((4, 3), lambda: [L.ZeroPadding1D((1, 2))]),
    "zero_padding_2d": ((4, 4, 3), lambda: [L.ZeroPadding2D(((1, 0), (2, 3)))]),
    "zero_padding_3d": ((3, 3, 3, 1), lambda: [L.ZeroPadding3D(1)]),
    "cropping_1d": ((6, 3), lambda: [L.Cropping1D((1, 2))]),
    "cropping_2d": ((6, 6, 3), lambda: [L.Cropping2D(((1, 0), (2, 1)))]),
    "cropping_3d": ((5, 5, 5, 1), lambda: [L.Cropping3D()]),
    "upsampling_1d": ((4, 3), lambda: [L.UpSampling1D(3)]),
    "upsampling_2d_nearest": ((3, 4, 2), lambda: [L.UpSampling2D((2, 3))]),
    "upsampling_2d_bilinear": ((3, 4, 2), lambda: [L.UpSampling2D(2, interpolation="bilinear")]),
    "upsampling_3d": ((2, 2, 2, 1), lambda: [L.UpSampling3D()]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer(keras, check_keras, case):
    global L
    L = keras.layers
    shape, layers = CASES[case]
    check_keras(sequential(keras, shape, *layers()))


ACTIVATIONS = [
    "linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "softplus", "softsign", "elu", "celu", "selu",
    "gelu", "silu", "swish", "hard_sigmoid", "hard_silu", "hard_swish", "exponential", "leaky_relu", "mish", "hard_tanh",
    "log_sigmoid", "tanh_shrink", "soft_shrink", "hard_shrink", "sparse_plus", "sparse_sigmoid", "squareplus", "glu",
]


def test_every_activation_string(keras, tmp_path):
    """One Functional model, one Activation layer per string, every output compared."""
    from keras_support import check_keras_model

    keras.utils.set_random_seed(0)
    x = keras.Input((3, 8), name="x")
    outputs = [keras.layers.Activation(name, name=f"act_{name}")(x) for name in ACTIVATIONS]
    model = keras.Model(x, outputs)
    data = random_input((2, 3, 8)) * 3
    check_keras_model(model, tmp_path, [data])


def test_merge_layers(keras, check_keras):
    keras.utils.set_random_seed(0)
    a, b, c = (keras.Input((4, 3), name=n) for n in "abc")
    L = keras.layers
    outputs = [
        L.Add()([a, b, c]), L.Subtract()([a, b]), L.Multiply()([a, b]), L.Average()([a, b, c]),
        L.Maximum()([a, b]), L.Minimum()([a, c]), L.Concatenate(axis=1)([a, b]), L.Concatenate()([a, b, c]),
        L.Dot(axes=2)([a, b]), L.Dot(axes=(1, 1), normalize=True)([a, c]),
    ]
    model = keras.Model([a, b, c], outputs)
    check_keras(model)


def test_dot_rank2(keras, check_keras):
    a, b = keras.Input((5,), name="a"), keras.Input((5,), name="b")
    check_keras(keras.Model([a, b], keras.layers.Dot(axes=1)([a, b])))


def test_embedding_float_and_int_ids(keras, check_keras):
    keras.utils.set_random_seed(0)
    ids = np.array([[0, 3, 9, 1], [5, 5, 2, 7]])
    model = sequential(keras, (4,), keras.layers.Embedding(10, 3), dtype="int32")
    check_keras(model, [ids.astype(np.int32)])
    model = sequential(keras, (4,), keras.layers.Embedding(10, 3), dtype="float32")
    check_keras(model, [ids.astype(np.float32)])


def test_normalization_adapted(keras, check_keras):
    layer = keras.layers.Normalization(axis=-1)
    layer.adapt(random_input((20, 3, 4), seed=3) * 2 + 1)
    model = keras.Sequential([keras.Input((3, 4), name="x"), layer])
    check_keras(model)


AFTER_CONV = {
    "batchnorm": lambda: [L.BatchNormalization()],
    "layernorm": lambda: [L.LayerNormalization()],
    "rmsnorm": lambda: [L.RMSNormalization()],
    "activations": lambda: [L.ReLU(6.0), L.LeakyReLU(0.1), L.ELU(), L.Activation("hard_swish"), L.Activation("softmax")],
    "dropouts": lambda: [L.Dropout(0.5), L.SpatialDropout2D(0.5), L.GaussianNoise(0.1), L.Identity()],
    "softmax_layer": lambda: [L.Softmax(axis=-1)],
    "rescaling": lambda: [L.Rescaling(0.5, offset=0.25)],
    "padding_cropping": lambda: [L.ZeroPadding2D(((1, 0), (0, 2))), L.Cropping2D(((0, 1), (1, 0)))],
    "upsampling": lambda: [L.UpSampling2D(2), L.UpSampling2D(2, interpolation="bilinear")],
    "global_pool_keepdims": lambda: [L.GlobalAveragePooling2D(keepdims=True)],
    "global_max_pool": lambda: [L.GlobalMaxPooling2D()],
    "pool_then_flatten": lambda: [L.MaxPooling2D(), L.AveragePooling2D(2, padding="same"), L.Flatten(), L.Dense(3)],
}


@pytest.mark.parametrize("case", sorted(AFTER_CONV))
def test_layer_after_convolution(keras, check_keras, case):
    """Layers that run on the channels-first twin of a convolution's output (see keras/layout.py)."""
    global L
    L = keras.layers
    check_keras(sequential(keras, (6, 6, 3), L.Conv2D(4, 3, padding="same"), *AFTER_CONV[case]()))


def test_merges_after_convolutions(keras, check_keras):
    keras.utils.set_random_seed(0)
    L = keras.layers
    x = keras.Input((6, 6, 3), name="x")
    a, b = L.Conv2D(4, 1)(x), L.DepthwiseConv2D(3, padding="same", depth_multiplier=1)(x)
    b = L.Conv2D(4, 1)(b)
    outputs = [L.Add()([a, b]), L.Concatenate()([a, b]), L.Average()([a, b]), L.Multiply()([a, b])]
    model = keras.Model(x, outputs)
    randomize(model)
    check_keras(model)

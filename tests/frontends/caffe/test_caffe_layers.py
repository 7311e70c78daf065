"""Each Caffe layer against OpenCV's Caffe importer, on small nets written here (prototxt + a
caffemodel built with irforge's schema): the IR written, reloaded in OpenVINO, within rtol 1e-4."""

from __future__ import annotations

import numpy as np
import pytest

from caffe_support import compare, ir_outputs, net_text, write_net

CONV = 'layer {{ name: "conv" type: "{kind}" bottom: "data" top: "conv" convolution_param {{ {params} }} }}'

CASES = {
    "conv": ([1, 3, 9, 11], CONV.format(kind="Convolution", params="num_output: 4 kernel_size: 3 pad: 1 stride: 2")),
    "conv_hw_dilation_group": ([1, 4, 12, 10], CONV.format(kind="Convolution", params="num_output: 6 kernel_h: 3 kernel_w: 2 pad_h: 2 pad_w: 1 stride_h: 1 stride_w: 2 dilation: 2 group: 2")),
    "conv_no_bias": ([2, 2, 7, 7], CONV.format(kind="Convolution", params="num_output: 3 kernel_size: 1 bias_term: false")),
    "conv_depthwise": ([1, 4, 8, 8], CONV.format(kind="Convolution", params="num_output: 4 kernel_size: 3 group: 4")),
    "deconv": ([1, 3, 5, 6], CONV.format(kind="Deconvolution", params="num_output: 2 kernel_size: 4 stride: 2 pad: 1")),
    "deconv_group": ([1, 4, 5, 5], CONV.format(kind="Deconvolution", params="num_output: 4 kernel_size: 3 stride: 2 group: 2 bias_term: false")),
    "inner_product": ([2, 3, 4, 5], 'layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 7 } }'),
    "max_pool_ceil": ([1, 2, 10, 9], 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }'),
    "max_pool_ceil_pad_clip": ([1, 2, 7, 7], 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }'),
    "ave_pool_pad": ([1, 2, 7, 8], 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }'),
    "ave_pool_hw": ([1, 2, 9, 8], 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: AVE kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 3 pad_h: 1 pad_w: 0 } }'),
    "global_ave_pool": ([2, 3, 5, 6], 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: AVE global_pooling: true } }'),
    "relu_in_place": ([1, 3, 4, 4], CONV.format(kind="Convolution", params="num_output: 2 kernel_size: 1") + '\nlayer { name: "r" type: "ReLU" bottom: "conv" top: "conv" }'),
    "leaky_relu": ([1, 3, 4, 4], 'layer { name: "r" type: "ReLU" bottom: "data" top: "r" relu_param { negative_slope: 0.2 } }'),
    "prelu": ([1, 3, 4, 4], 'layer { name: "r" type: "PReLU" bottom: "data" top: "r" }'),
    "prelu_shared": ([1, 3, 4, 4], 'layer { name: "r" type: "PReLU" bottom: "data" top: "r" prelu_param { channel_shared: true } }'),
    "elu": ([1, 3, 4, 4], 'layer { name: "r" type: "ELU" bottom: "data" top: "r" elu_param { alpha: 0.7 } }'),
    "sigmoid_tanh_absval": ([1, 3, 4, 4], 'layer { name: "s" type: "Sigmoid" bottom: "data" top: "s" }\nlayer { name: "t" type: "TanH" bottom: "s" top: "t" }\nlayer { name: "a" type: "AbsVal" bottom: "data" top: "a" }'),
    "power": ([1, 3, 4, 4], 'layer { name: "p" type: "Power" bottom: "data" top: "p" power_param { power: 2 scale: 0.5 shift: 3 } }'),
    "exp_base": ([1, 3, 4, 4], 'layer { name: "e" type: "Exp" bottom: "data" top: "e" exp_param { base: 2 scale: 0.5 shift: 0.1 } }'),
    "softmax_axis": ([2, 3, 4, 5], 'layer { name: "s" type: "Softmax" bottom: "data" top: "s" softmax_param { axis: 2 } }'),
    "batch_norm_scale": ([1, 3, 4, 4], 'layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data_bn" batch_norm_param { use_global_stats: true eps: 0.001 } }\nlayer { name: "sc" type: "Scale" bottom: "data_bn" top: "data_bn" scale_param { bias_term: true } }'),
    "scale_axis_num_axes": ([2, 3, 4, 5], 'layer { name: "sc" type: "Scale" bottom: "data" top: "sc" scale_param { axis: 1 num_axes: 2 } }'),
    "eltwise_sum_coeff": ([1, 3, 4, 4], 'layer { name: "r" type: "ReLU" bottom: "data" top: "r" }\nlayer { name: "e" type: "Eltwise" bottom: "data" bottom: "r" top: "e" eltwise_param { operation: SUM coeff: 0.5 coeff: -2 } }'),
    "eltwise_prod_max": ([1, 3, 4, 4], 'layer { name: "r" type: "Sigmoid" bottom: "data" top: "r" }\nlayer { name: "p" type: "Eltwise" bottom: "data" bottom: "r" top: "p" eltwise_param { operation: PROD } }\nlayer { name: "m" type: "Eltwise" bottom: "p" bottom: "r" top: "m" eltwise_param { operation: MAX } }'),
    "concat_slice": ([1, 6, 4, 4], 'layer { name: "s" type: "Slice" bottom: "data" top: "a" top: "b" top: "c" slice_param { axis: 1 slice_point: 1 slice_point: 4 } }\nlayer { name: "c" type: "Concat" bottom: "c" bottom: "a" top: "cat" }\nlayer { name: "keep" type: "Power" bottom: "b" top: "bb" }'),
    "split_dropout": ([1, 3, 4, 4], 'layer { name: "sp" type: "Split" bottom: "data" top: "x1" top: "x2" }\nlayer { name: "d" type: "Dropout" bottom: "x1" top: "x1" }\nlayer { name: "e" type: "Eltwise" bottom: "x1" bottom: "x2" top: "e" }'),
    "crop": ([1, 3, 8, 9], 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }\nlayer { name: "c" type: "Crop" bottom: "data" bottom: "p" top: "c" crop_param { axis: 2 offset: 1 offset: 2 } }'),
    "flatten_reshape": ([2, 3, 4, 5], 'layer { name: "f" type: "Flatten" bottom: "data" top: "f" flatten_param { axis: 1 end_axis: 2 } }\nlayer { name: "r" type: "Reshape" bottom: "f" top: "r" reshape_param { shape { dim: 0 dim: -1 dim: 2 } } }'),
    "permute": ([1, 3, 4, 5], 'layer { name: "p" type: "Permute" bottom: "data" top: "p" permute_param { order: 0 order: 2 order: 3 order: 1 } }'),
    "lrn_across": ([1, 7, 5, 5], 'layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 3 alpha: 0.3 beta: 0.75 } }'),
    "lrn_within": ([1, 3, 6, 6], 'layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 3 alpha: 0.3 beta: 0.75 norm_region: WITHIN_CHANNEL } }'),
    "mvn": ([2, 3, 4, 5], 'layer { name: "n" type: "MVN" bottom: "data" top: "n" mvn_param { } }'),
    "mvn_across_no_variance": ([2, 3, 4, 5], 'layer { name: "n" type: "MVN" bottom: "data" top: "n" mvn_param { across_channels: true normalize_variance: false } }'),
    "normalize": ([1, 4, 3, 3], 'layer { name: "n" type: "Normalize" bottom: "data" top: "n" norm_param { across_spatial: false channel_shared: false } }'),
    "normalize_across_spatial": ([2, 4, 3, 3], 'layer { name: "n" type: "Normalize" bottom: "data" top: "n" norm_param { across_spatial: true channel_shared: true eps: 0.001 } }'),
    "shuffle_channel": ([1, 6, 2, 3], 'layer { name: "s" type: "ShuffleChannel" bottom: "data" top: "s" shuffle_channel_param { group: 3 } }'),
    "interp_zoom": ([1, 2, 4, 5], 'layer { name: "i" type: "Interp" bottom: "data" top: "i" interp_param { zoom_factor: 3 } }'),
    "interp_size": ([1, 2, 4, 5], 'layer { name: "i" type: "Interp" bottom: "data" top: "i" interp_param { height: 7 width: 3 } }'),
    "relu6": ([1, 3, 4, 4], 'layer { name: "s" type: "Power" bottom: "data" top: "s" power_param { scale: 8 } }\nlayer { name: "r" type: "ReLU6" bottom: "s" top: "r" }'),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_matches_opencv(case, tmp_path) -> None:
    shape, body = CASES[case]
    model = write_net(tmp_path, net_text(shape, body))
    compare(model, tmp_path)


# Caffe's semantics where OpenCV's importer leaves them out (ArgMax, Bias and Tile layers, Interp's
# shrink_factor, Slice without points, InnerProduct's transpose, Log's scale and shift, LRN's k,
# MVN's eps added to the deviation): numpy, after Caffe's layer sources.


def _interp(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear, corners aligned (Caffe's caffe_cpu_interp2)."""
    def grid(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        pos = np.arange(n_out) * ratio
        low = np.minimum(np.floor(pos).astype(int), n_in - 1)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, (pos - low).astype(np.float32)

    (h0, h1, fh), (w0, w1, fw) = grid(x.shape[2], height), grid(x.shape[3], width)
    rows = x[:, :, h0] * (1 - fh)[:, None] + x[:, :, h1] * fh[:, None]
    return rows[:, :, :, w0] * (1 - fw) + rows[:, :, :, w1] * fw


def _lrn(x: np.ndarray, n: int, alpha: float, beta: float, k: float) -> np.ndarray:
    squares = np.pad(x**2, ((0, 0), (n // 2, n // 2), (0, 0), (0, 0)))
    window = sum(squares[:, i : i + x.shape[1]] for i in range(n))
    return x / (k + alpha / n * window) ** beta


NUMPY_CASES = {
    "argmax_axis": ([2, 5, 3, 4], 'layer { name: "a" type: "ArgMax" bottom: "data" top: "a" argmax_param { axis: 1 top_k: 2 } }',
                    lambda x, w: [np.argsort(-x, axis=1, kind="stable")[:, :2].astype(np.float32)]),
    "argmax_flat_max_val": ([2, 3, 2, 2], 'layer { name: "a" type: "ArgMax" bottom: "data" top: "a" argmax_param { out_max_val: true top_k: 3 } }',
                            lambda x, w: [np.concatenate([np.argsort(-x.reshape(2, 1, 12), axis=2)[:, :, :3].astype(np.float32),
                                                          -np.sort(-x.reshape(2, 1, 12), axis=2)[:, :, :3]], axis=1)]),
    "bias": ([2, 3, 4, 5], 'layer { name: "b" type: "Bias" bottom: "data" top: "b" bias_param { axis: 1 num_axes: 2 } }',
             lambda x, w: [x + w["b"][0].reshape(3, 4, 1)]),
    "tile": ([1, 3, 2, 2], 'layer { name: "t" type: "Tile" bottom: "data" top: "t" tile_param { axis: 2 tiles: 3 } }',
             lambda x, w: [np.tile(x, (1, 1, 3, 1))]),
    "slice_equal": ([1, 2, 3, 6], 'layer { name: "s" type: "Slice" bottom: "data" top: "a" top: "b" slice_param { axis: 3 } }',
                    lambda x, w: [x[..., :3], x[..., 3:]]),
    "inner_product_axis_transpose": ([2, 3, 4, 5], 'layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 6 axis: 2 transpose: true } }',
                                     lambda x, w: [x.reshape(2, 3, 20) @ w["fc"][0].reshape(20, 6) + w["fc"][1]]),
    "log_scale_shift": ([1, 3, 4, 4], 'layer { name: "a" type: "AbsVal" bottom: "data" top: "a" }\nlayer { name: "l" type: "Log" bottom: "a" top: "l" log_param { base: 10 shift: 1 scale: 2 } }',
                        lambda x, w: [np.log10(1 + 2 * np.abs(x))]),
    "lrn_k": ([1, 7, 5, 5], 'layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 3 alpha: 0.3 beta: 0.75 k: 2 } }',
              lambda x, w: [_lrn(x, 3, 0.3, 0.75, 2.0)]),
    "mvn_eps": ([2, 3, 4, 5], 'layer { name: "n" type: "MVN" bottom: "data" top: "n" mvn_param { eps: 0.01 } }',
                lambda x, w: [(x - x.mean((2, 3), keepdims=True)) / (x.std((2, 3), keepdims=True) + 0.01)]),
    "interp_shrink_zoom": ([1, 2, 9, 7], 'layer { name: "i" type: "Interp" bottom: "data" top: "i" interp_param { shrink_factor: 2 zoom_factor: 3 } }',
                           lambda x, w: [_interp(x, 13, 10)]),
    "interp_shrink_pad": ([1, 2, 9, 7], 'layer { name: "i" type: "Interp" bottom: "data" top: "i" interp_param { shrink_factor: 2 pad_beg: -1 pad_end: -1 } }',
                          lambda x, w: [_interp(x[:, :, 1:-1, 1:-1], 4, 3)]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(NUMPY_CASES))
def test_layer_matches_caffe_semantics(case, tmp_path) -> None:
    shape, body, expected = NUMPY_CASES[case]
    model = write_net(tmp_path, net_text(shape, body))
    x = np.random.default_rng(5).uniform(-1, 1, shape).astype(np.float32)
    actual, weights = ir_outputs(model, tmp_path, {"data": x})
    for got, want in zip(actual, expected(x, weights), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
